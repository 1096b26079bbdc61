"""JAX's conventions for grad and value_and_grad: argnums, has_aux, decorators, keywords, dtypes."""

import math
import operator

import numpy as np
import pytest

import s2sjax
from tests import fd
from tests.util import define

F = define("def f(x, y, z=2.0):\n    return x * math.sin(y) + z * x * x\n")


def expected(x, y, z=2.0):
    return (math.sin(x and y) if False else math.sin(y) + 2 * z * x, x * math.cos(y), x * x)


@pytest.mark.parametrize("target", ["cpu", "python"])
def test_argnums_forms(target):
    gx = s2sjax.grad(F, target=target)(0.3, 0.7)
    gy = s2sjax.grad(F, argnums=1, target=target)(0.3, 0.7)
    g_tuple = s2sjax.grad(F, argnums=(0, 1), target=target)(0.3, 0.7)
    g_negative = s2sjax.grad(F, argnums=-1, target=target)(0.3, 0.7, 2.0)
    dx, dy, dz = expected(0.3, 0.7)
    assert gx == pytest.approx(dx) and gy == pytest.approx(dy)
    assert isinstance(g_tuple, tuple) and g_tuple == pytest.approx((dx, dy))
    assert g_negative == pytest.approx(dz)


def test_keyword_arguments_and_defaults():
    g = s2sjax.grad(F, argnums=(0, 2))
    assert g(0.3, 0.7, z=3.0) == pytest.approx((math.sin(0.7) + 6 * 0.3, 0.09))
    assert g(0.3, y=0.7) == pytest.approx((math.sin(0.7) + 4 * 0.3, 0.09))


def test_decorator_forms():
    @s2sjax.grad
    def bare(x):
        return x**3

    @s2sjax.grad(argnums=1)
    def with_options(x, y):
        return x * y**2

    assert bare(2.0) == pytest.approx(12.0)
    assert with_options(3.0, 2.0) == pytest.approx(12.0)


AUX = define("def f(x):\n    y = np.sum(x ** 2)\n    return y, x * 2.0\n")


@pytest.mark.parametrize("target", ["cpu", "python"])
def test_has_aux(target):
    x = np.array([1.0, 2.0])
    g, aux = s2sjax.grad(AUX, has_aux=True, target=target)(x)
    (value, aux2), g2 = s2sjax.value_and_grad(AUX, has_aux=True, target=target)(x)
    np.testing.assert_allclose(g, 2 * x)
    np.testing.assert_allclose(aux, 2 * x)
    assert value == pytest.approx(5.0)
    np.testing.assert_allclose(g2, g)
    np.testing.assert_allclose(aux2, aux)


def test_value_and_grad_returns_value_then_gradient():
    value, g = s2sjax.value_and_grad(F)(0.3, 0.7)
    assert value == pytest.approx(F(0.3, 0.7))
    assert g == pytest.approx(expected(0.3, 0.7)[0])


def test_float32_in_float32_out():
    fun = define("def f(x):\n    return np.sum(np.tanh(x) * 3.0)\n")
    x = np.linspace(-1, 1, 5).astype(np.float32)
    g = s2sjax.grad(fun)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 3 * (1 - np.tanh(x.astype(float)) ** 2), rtol=1e-5)


def test_zero_d_array_gradient_is_zero_d():
    fun = define("def f(x):\n    return x * x\n")
    g = s2sjax.grad(fun)(np.array(3.0))
    assert isinstance(g, np.ndarray) and g.shape == () and g == 6.0


def test_gradient_of_a_numpy_function_without_source():
    assert s2sjax.grad(np.exp)(2.0) == pytest.approx(math.exp(2.0))
    assert s2sjax.grad(np.sin, target="python")(0.5) == pytest.approx(math.cos(0.5))


# functions with a rule, given to a transformation themselves: (function, its arguments)
WITH_RULES = [
    (np.sin, (0.5,)),
    (math.sin, (0.5,)),
    (abs, (-0.5,)),
    (max, (0.5, 0.2)),
    (np.hypot, (0.3, 0.4)),
    (np.mean, (np.array([0.3, -1.2, 2.0]),)),
    (np.dot, (np.array([0.3, 0.5]), np.array([-1.0, 2.0]))),
    (operator.mul, (0.3, 0.4)),  # named operator.mul: its wrapper needs the operator module
    (np.linalg.norm, (np.array([0.3, -1.2, 2.0]),)),  # written out as sums and powers
    (np.var, (np.array([0.3, -1.2, 2.0]),)),
    (np.inner, (np.array([0.3, -1.2]), np.array([2.0, 0.5]))),  # written as np.einsum
]


@pytest.mark.parametrize("target", ["cpu", "python"])
@pytest.mark.parametrize(
    "fun,args", WITH_RULES, ids=[getattr(f, "__name__", "") for f, _ in WITH_RULES]
)
def test_a_function_with_a_rule_given_directly_works_under_every_transformation(fun, args, target):
    # np.sin given directly was wrapped, but abs and max became `def abs(x): return abs(x)`,
    # recursive
    argnums = tuple(range(len(args)))
    grads = s2sjax.grad(fun, argnums=argnums, target=target)(*args)
    fd.check_grad(fun, args, argnums, grads, rtol=1e-8, atol=1e-10)
    tangents = tuple(np.ones_like(a) for a in args)
    out, tangent = s2sjax.jvp(fun, args, tangents, target=target)
    assert out == pytest.approx(fun(*args)) and tangent == pytest.approx(
        sum(np.sum(g) for g in grads)
    )
    _, pullback = s2sjax.vjp(fun, *args, target=target)
    for got, g in zip(pullback(1.0), grads):
        np.testing.assert_allclose(got, g, rtol=1e-14)
    for jacobian in (s2sjax.jacfwd, s2sjax.jacrev):
        np.testing.assert_allclose(jacobian(fun, target=target)(*args), grads[0], rtol=1e-14)
    hessian = s2sjax.hessian(fun, target=target)(*args)
    first_derivative = lambda *xs: np.sum(s2sjax.grad(fun, target="python")(*xs))  # noqa: E731
    np.testing.assert_allclose(
        np.sum(hessian), np.sum(fd.numerical_grad(first_derivative, args, 0)), atol=1e-6
    )
    assert s2sjax.jit(fun, target=target)(*args) == pytest.approx(fun(*args))
    batched = s2sjax.vmap(fun, in_axes=(0,) + (None,) * (len(args) - 1), target=target)
    np.testing.assert_allclose(
        batched(np.stack([args[0], args[0]]), *args[1:]), [fun(*args)] * 2, rtol=1e-14
    )


def test_lambda_closure_and_global_array():
    scale = 3.0
    offsets = np.array([1.0, 2.0, 3.0])
    fun = lambda x: np.sum((x - offsets) ** 2) * scale  # noqa: E731
    x = np.array([0.5, 0.5, 0.5])
    g = s2sjax.grad(fun)(x)
    fd.check_grad(fun, (x,), (0,), (g,), rtol=1e-7, atol=1e-9)


def test_closure_array_is_read_at_each_call():
    def make():
        shift = np.zeros(2)

        def f(x):
            return np.sum(x * shift)

        return f, shift

    f, shift = make()
    g = s2sjax.grad(f)
    np.testing.assert_allclose(g(np.ones(2)), [0.0, 0.0])
    shift[:] = [1.0, 2.0]
    np.testing.assert_allclose(g(np.ones(2)), [1.0, 2.0])


def test_inputs_are_never_modified():
    fun = define("def f(x):\n    y = x\n    y += 1.0\n    return np.sum(y * y)\n")
    x = np.array([1.0, 2.0])
    g = s2sjax.grad(fun)(x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    np.testing.assert_allclose(g, 2 * (x + 1))


def test_source_before_a_call_assumes_floats_and_after_a_call_shows_it():
    fun = define("def f(x):\n    return x * math.sin(x ** 2)\n")
    g = s2sjax.grad(fun)
    assert "def f_grad(x):" in s2sjax.source(g)
    g(np.ones(3)[0])
    assert g.source == s2sjax.source(g)
    assert "t1_bar = t2_bar * math.cos(t1)" in g.source
    with pytest.raises(
        TypeError, match="source\\(\\) takes a function made by an s2sjax transformation"
    ):
        s2sjax.source(fun)
