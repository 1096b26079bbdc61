"""The seed tutorials' vmap, jit and pmap sections, with NumPy instead of `jax.numpy`.

Run it with `python examples/seed_batching.py`. Each function below returns the numbers its
section prints; `tests/test_examples.py` checks them. With matplotlib installed, the script
also saves the plot of sin and its derivative as `sin_and_derivative.png`.
"""

import math

import numpy as np

import s2sjax


def loss(w, x, y):
    return np.sum((w * x - y) ** 2)


def mapped_over_two_axes():
    """vmap(loss, in_axes=(None, 0, 1)): xs shaped (5, 1) mapped by rows, ys (1, 5) by columns."""
    xs = np.arange(5.0).reshape(5, 1)
    return s2sjax.vmap(loss, in_axes=(None, 0, 1))(2.0, xs, 2.0 * xs.T)


def derivative_of_sin():
    """vmap(grad(np.sin)) over 100 points of [0, 2π]: cos."""
    xs = np.linspace(0.0, 2 * math.pi, 100)
    return xs, s2sjax.vmap(s2sjax.grad(np.sin))(xs)


def l1(x, y):
    return np.sum(np.abs(x - y))


def pairwise_two_ways():
    """Pairwise L1 distances between 100 and 20 points, by vmap of a lambda calling a vmap and by
    nested in_axes, each transposed as in the seed."""
    xs, xs2 = np.linspace(1.0, 10.0, 100), np.linspace(1.0, 5.0, 20)
    by_lambdas = s2sjax.vmap(lambda x: s2sjax.vmap(lambda y: l1(x, y))(xs))(xs2).T
    by_axes = s2sjax.vmap(s2sjax.vmap(l1, (0, None)), (None, 0))(xs, xs2).T
    return xs, xs2, by_lambdas, by_axes


def quadratic(x):
    return x**2 + 2 * x


def scaled_sum(x, k):
    return np.sum(x * k)


def jit_and_grad():
    """grad of x² + 2x at 3.0, jit of it, and jit with a constant (static) argument."""
    x = np.arange(4.0)
    return (
        s2sjax.grad(quadratic)(3.0),
        s2sjax.jit(quadratic)(3.0),
        s2sjax.jit(scaled_sum, static_argnums=1)(x, 5),
    )


def product(x, y):
    return x * y


def simple_vmaps():
    """vmap(x² + 2x) over [1, 2, 3]; vmap(x * y, in_axes=(0, 0)) over two 2×2 arrays."""
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    return (
        s2sjax.vmap(quadratic)(np.array([1.0, 2.0, 3.0])),
        s2sjax.vmap(product, in_axes=(0, 0))(a, a + 1.0),
    )


def pmap_as_parallel_vmap():
    """JAX's pmap of seed 004 maps to vmap(..., target="parallel"): the same results."""
    xs = np.linspace(-1.0, 1.0, 8)
    return s2sjax.vmap(quadratic, target="parallel")(xs), s2sjax.vmap(quadratic)(xs)


def save_plot(xs, slopes, path="sin_and_derivative.png"):
    try:
        from matplotlib import pyplot
    except ImportError:
        return None
    figure, axes = pyplot.subplots()
    axes.plot(xs, np.sin(xs), label="sin(x)")
    axes.plot(xs, slopes, label="vmap(grad(sin))(x)")
    axes.legend()
    figure.savefig(path)
    pyplot.close(figure)
    return path


def main():
    print("vmap(loss, in_axes=(None, 0, 1)):", mapped_over_two_axes())
    xs, slopes = derivative_of_sin()
    print("vmap(grad(np.sin)) equals cos:", np.allclose(slopes, np.cos(xs)))
    saved = save_plot(xs, slopes)
    print(f"saved {saved}" if saved else "matplotlib is not installed: no plot")
    _, _, by_lambdas, by_axes = pairwise_two_ways()
    print("pairwise L1 distances, two ways, agree:", np.allclose(by_lambdas, by_axes))
    print(by_axes)
    derivative, jitted, scaled = jit_and_grad()
    print(
        f"grad of x² + 2x at 3.0 = {derivative}; jit of it at 3.0 = {jitted}; "
        f"jit with k = 5: {scaled}"
    )
    squares, products = simple_vmaps()
    print("vmap(x² + 2x) over [1, 2, 3]:", squares)
    print("vmap(x * y) over rows:\n", products)
    parallel, serial = pmap_as_parallel_vmap()
    print("vmap with target='parallel' gives the same:", np.array_equal(parallel, serial))


if __name__ == "__main__":
    main()
