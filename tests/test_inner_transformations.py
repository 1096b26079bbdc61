"""Transformations called inside transformed code, and functions given as arguments.

Oracles: closed forms, finite differences of plain NumPy code, explicit loops; never s2sjax.
"""

import functools
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import s2sjax
from s2sjax.errors import TransformError
from tests import fd


def f(x):
    return np.sin(x) * x**2


def f_prime(x):
    return np.cos(x) * x**2 + 2 * x * np.sin(x)


def f_second(x):
    return -np.sin(x) * x**2 + 4 * x * np.cos(x) + 2 * np.sin(x)


df = s2sjax.grad(f)  # built outside, called inside


def twice_the_slope(x):
    return s2sjax.grad(f)(x) * 2.0


def newton_step(x):
    return x - f(x) / df(x)


def value_times_slope(x):
    value, slope = s2sjax.value_and_grad(f)(x)
    return value * slope


def sum_of_squared_sines(w):
    return np.sum(np.sin(w) ** 2)


def weighted_gradient(w):
    """sum(sin(2 w) * w): the gradient of sum(sin(w)^2) is sin(2 w)."""
    return np.sum(s2sjax.grad(sum_of_squared_sines)(w) * w)


W = np.array([0.3, 0.5, 1.1])


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_grad_of_a_function_calling_grad_is_a_second_derivative(target):
    x = 0.7
    assert s2sjax.grad(twice_the_slope, target=target)(x) == pytest.approx(2 * f_second(x))
    assert s2sjax.jit(twice_the_slope, target=target)(x) == pytest.approx(2 * f_prime(x))


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_a_newton_step_with_a_gradient_built_outside(target):
    x = 0.7
    plain = lambda x: x - f(x) / f_prime(x)  # noqa: E731
    expected = fd.numerical_grad(plain, (x,), 0)
    assert s2sjax.grad(newton_step, target=target)(x) == pytest.approx(expected, rel=1e-8)


def test_value_and_grad_inside_and_a_third_derivative():
    x = 0.4
    plain = lambda x: f(x) * f_prime(x)  # noqa: E731
    grad = s2sjax.grad(value_times_slope, target="python")(x)
    assert grad == pytest.approx(fd.numerical_grad(plain, (x,), 0), rel=1e-8)
    third = s2sjax.grad(lambda x: s2sjax.grad(lambda y: s2sjax.grad(f)(y) * y)(x), target="python")(
        x
    )
    # d/dx (f'(x) x)' = f''(x) x + f'(x); its derivative: f'''(x) x + 2 f''(x)
    expected = fd.numerical_grad(lambda x: f_second(x) * x + f_prime(x), (x,), 0)
    assert third == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_an_array_gradient_inside_under_grad_jvp_and_vmap(target):
    expected = 2 * np.cos(2 * W) * W + np.sin(2 * W)
    np.testing.assert_allclose(
        s2sjax.grad(weighted_gradient, target=target)(W), expected, rtol=1e-12
    )
    value, tangent = s2sjax.jvp(weighted_gradient, (W,), (np.ones(3),), target=target)
    assert value == pytest.approx(np.sum(np.sin(2 * W) * W))
    assert tangent == pytest.approx(np.sum(expected))
    batch = np.stack([W, 2 * W])
    loop = [np.sum(np.sin(2 * w) * w) for w in batch]
    np.testing.assert_allclose(s2sjax.vmap(weighted_gradient, target=target)(batch), loop)


def test_jacobians_and_hessian_of_a_function_calling_grad():
    expected = np.diag(4 * np.cos(2 * W) - 4 * W * np.sin(2 * W))
    for jacobian in (s2sjax.jacfwd, s2sjax.jacrev):
        hessian = jacobian(lambda w: s2sjax.grad(weighted_gradient)(w), target="python")
        np.testing.assert_allclose(hessian(W), expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(
            s2sjax.hessian(weighted_gradient, target="python")(W), expected, atol=1e-12
        )
    inside = s2sjax.jit(lambda w: s2sjax.hessian(sum_of_squared_sines)(w), target="python")
    np.testing.assert_allclose(inside(W), np.diag(2 * np.cos(2 * W)), atol=1e-12)


def test_vjp_of_a_function_calling_grad_and_has_aux_inside_are_refused():
    with pytest.raises(TransformError, match="vjp of a function that calls a gradient") as info:
        s2sjax.vjp(twice_the_slope, 0.7, target="python")
    code = twice_the_slope.__code__  # the error is at the call inside
    assert (info.value.filename, info.value.lineno) == (code.co_filename, code.co_firstlineno + 1)
    with_aux = s2sjax.grad(lambda x: (f(x), x), has_aux=True)
    with pytest.raises(TransformError, match="has_aux=True called inside"):
        s2sjax.jit(lambda x: with_aux(x)[0], target="python")(0.7)


def apply(func, x):
    return func(x)


def activated(x, act=np.tanh):
    return np.sum(act(x) * x)


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_a_function_given_as_an_argument_is_static(target):
    x = 0.7
    grad = s2sjax.grad(apply, argnums=1, target=target)
    assert grad(np.sin, x) == pytest.approx(math.cos(x))
    assert grad(np.cos, x) == pytest.approx(-math.sin(x))  # another function: other code
    assert grad(f, x) == pytest.approx(f_prime(x))


def test_a_partial_and_a_callable_default():
    x = 0.7
    partial = s2sjax.grad(functools.partial(apply, f), target="python")
    assert partial(x) == pytest.approx(f_prime(x))
    expected = fd.numerical_grad(lambda w: np.sum(np.tanh(w) * w), (W,), 0)
    np.testing.assert_allclose(s2sjax.grad(activated, target="python")(W), expected, rtol=1e-8)


def test_a_callable_default_naming_a_variable_of_the_enclosing_function():
    """autograd's test_plain_numpy_reductions_on_box: the default is evaluated where the def is,
    not again in the module's globals (where `reduction` is not defined)."""
    for reduction, derivative in [(np.sum, np.sum), (np.max, lambda g: g[-1])]:

        def reduced(a, reduce=reduction):
            return reduce(np.exp(a) * W)

        got = s2sjax.grad(reduced, target="python")(0.3)
        assert got == pytest.approx(derivative(np.exp(0.3) * W), rel=1e-12)


def test_seed_002_nested_vmaps_of_lambdas_calling_a_parameter_literally():
    path = Path(__file__).resolve().parent.parent / "examples" / "seed_pairwise_literal.py"
    spec = importlib.util.spec_from_file_location("seed_pairwise_literal", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    xs, xs2 = module.x1, module.y1
    loop = np.array([[np.sum(np.abs(x - y)) for y in xs2] for x in xs])
    np.testing.assert_allclose(module.apply_double_arg_func(module.l1dist, xs, xs2), loop)


def countdown(x, n):
    if n == 0:
        return x
    return countdown(x * 1.5, n - 1)


def test_recursion_is_refused_with_what_to_write_instead():
    with pytest.raises(TransformError, match="does not support recursion") as caught:
        s2sjax.grad(countdown, target="python")(0.7, 3)
    assert "as a loop" in str(caught.value)
