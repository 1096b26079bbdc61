"""The seed tutorials' derivatives, with NumPy and `math` instead of `jax.numpy`.

Run it with `python examples/seed_derivatives.py`. Each function below returns the numbers
its section prints; `tests/test_examples.py` checks them.
"""

import math
import time

import numpy as np

import s2sjax


def exp_and_its_derivative():
    """grad of a NumPy function passed directly, and a table of exp and its derivative."""
    dexp = s2sjax.grad(np.exp)
    xs = np.linspace(-2.0, 2.0, 10)
    return dexp(2.0), [(x, math.exp(x), dexp(x)) for x in xs]


def quadratic(x):
    return 3 * x * x + 9


def quadratic_derivatives():
    """d/dx (3x² + 9) at 2.0, the second derivative at 20.0, and the error for an int."""
    first = s2sjax.grad(quadratic)(2.0)
    second = s2sjax.grad(s2sjax.grad(quadratic))(20.0)
    try:
        s2sjax.grad(quadratic)(2)
    except TypeError as error:
        return first, second, str(error)
    raise AssertionError("grad of an int input must raise TypeError")


def sin_plus_cos(a, b):
    return math.sin(a) + math.cos(b)


def partial_derivatives():
    """d/da and d/db of sin(a) + cos(b) at (π, 2π), picked with argnums."""
    a, b = math.pi, 2 * math.pi
    return s2sjax.grad(sin_plus_cos)(a, b), s2sjax.grad(sin_plus_cos, argnums=1)(a, b)


def indexed(x):
    return x[0] - 2 * math.cos(x[1]) + 4 * x[2] * x[2]


def gradient_of_an_array():
    return s2sjax.grad(indexed)(np.array([1.0, math.pi / 2, -1.0]))


def square(x):
    return x**2


def sum_of_squares(x):
    return np.sum(x**2)


def powers(x, y, z):
    return np.sum(x**2 + y**3 + z**4)


def powers_and_sums():
    """x²: first derivative at 4.0 and second; sum(x²) at arange(3.); x² + y³ + z⁴ by argnums."""
    x = np.arange(3.0)
    return (
        s2sjax.grad(square)(4.0),
        s2sjax.grad(s2sjax.grad(square))(4.0),
        s2sjax.grad(sum_of_squares)(x),
        s2sjax.grad(powers)(x, x, x),
        s2sjax.grad(powers, argnums=(0, 1, 2))(x, x, x),
    )


def linear_loss(w, b, x, y):
    return np.mean((w * x + b - y) ** 2)


def loss_and_its_gradient():
    """value_and_grad returns (loss, grads)."""
    x = np.linspace(0.0, 1.0, 5)
    return s2sjax.value_and_grad(linear_loss, argnums=(0, 1))(1.0, 0.5, x, 5 * x + 2)


def wiggle(x):
    return x * math.sin(x**2)


def wiggle_and_y(x, y):
    return x * math.sin(x**2) + x * y


def compiled_against_plain(x=0.13, calls=100_000):
    """grad of x·sin(x²) at 0.13 against its closed form, the time of a call of each, and the
    partial derivatives of x·sin(x²) + x·y at (0.13, 1.0)."""
    dwiggle = s2sjax.grad(wiggle)
    closed_form = math.sin(x * x) + 2 * x * x * math.cos(x * x)
    value = dwiggle(x)
    times = []
    for fn in (dwiggle, wiggle):
        start = time.perf_counter()
        for _ in range(calls):
            fn(x)
        times.append((time.perf_counter() - start) / calls)
    partials = s2sjax.grad(wiggle_and_y, argnums=(0, 1))(x, 1.0)
    return value, abs(value - closed_form) / abs(closed_form), times, partials


def main():
    at_two, table = exp_and_its_derivative()
    print(f"d/dx exp(x) at 2.0 = {at_two:.6f}")
    for x, value, slope in table:
        print(f"  x = {x:+.3f}   exp(x) = {value:.6f}   d/dx exp(x) = {slope:.6f}")
    first, second, error = quadratic_derivatives()
    print(f"d/dx (3x² + 9) at 2.0 = {first}; second derivative at 20.0 = {second}")
    print(f"at the int 2: TypeError: {error}")
    da, db = partial_derivatives()
    print(f"sin(a) + cos(b) at (π, 2π): d/da = {da}, d/db = {db:.3g}")
    print("gradient of x[0] - 2cos(x[1]) + 4x[2]² at (1, π/2, -1):", gradient_of_an_array())
    d1, d2, ds, dx, dxyz = powers_and_sums()
    print(f"x²: first derivative at 4.0 = {d1}, second = {d2}; sum(x²) at arange(3.): {ds}")
    print("x² + y³ + z⁴ at arange(3.): d/dx =", dx, "all three:", dxyz)
    print("value_and_grad of a linear model's loss:", loss_and_its_gradient())
    value, error, (compiled, plain), (dx, dy) = compiled_against_plain()
    print(
        f"d/dx x·sin(x²) at 0.13 = {value:.7f} (relative error {error:.1e} against the closed form)"
    )
    print(
        f"a call: compiled gradient {compiled * 1e9:.0f} ns, "
        f"the plain function {plain * 1e9:.0f} ns"
    )
    print(f"x·sin(x²) + x·y at (0.13, 1.0): d/dx = {dx:.7f}, d/dy = {dy}")


if __name__ == "__main__":
    main()
