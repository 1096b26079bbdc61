"""Higher-order derivatives by composing source transformations, Jacobians, and vjp's conventions.

Oracles: known closed forms (second and third derivatives), finite differences
of a first derivative computed by the other mode, and jacfwd against jacrev.
"""

import math

import numpy as np
import pytest

import s2sjax
from tests import fd
from tests.catalogue import CASES as STRAIGHT
from tests.catalogue import REGRESSIONS
from tests.catalogue_loops import CASES as LOOPS
from tests.util import define

pytestmark = pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")
TARGETS = ("cpu", "python")


# ---- the seeds' examples and closed forms ------------------------------------


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("x", [-3.0, 0.5, 20.0])
def test_second_derivative_of_a_quadratic_is_constant(x, target):
    f = define("def f(x):\n    return 3 * x * x + 9\n")
    assert s2sjax.grad(s2sjax.grad(f, target=target), target=target)(x) == pytest.approx(
        6.0, rel=1e-14
    )
    square = define("def square(x):\n    return x ** 2\n")
    assert s2sjax.grad(square, target=target)(4.0) == 8.0
    assert s2sjax.grad(s2sjax.grad(square, target=target), target=target)(x) == pytest.approx(
        2.0, rel=1e-14
    )


THIRD = [
    ("def f(x):\n    return math.sin(x)\n", lambda x: -math.cos(x)),
    ("def f(x):\n    return np.exp(2.0 * x)\n", lambda x: 8.0 * math.exp(2.0 * x)),
    ("def f(x):\n    return x ** 3 - 2.0 * x\n", lambda x: 6.0),
    ("def f(x):\n    return math.log(x)\n", lambda x: 2.0 / x**3),
    (
        "def f(x):\n    return x * math.sin(x ** 2)\n",
        lambda x: 6 * math.cos(x * x) - 24 * x * x * math.sin(x * x) - 8 * x**4 * math.cos(x * x),
    ),
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "source,third", THIRD, ids=[s.split("return ")[1].strip() for s, _ in THIRD]
)
def test_third_derivative_of_closed_forms(source, third, target):
    f = define(source)
    d3 = s2sjax.grad(s2sjax.grad(s2sjax.grad(f, target=target), target=target), target=target)
    assert d3(0.8) == pytest.approx(third(0.8), rel=1e-12)


def test_a_derivative_s2sjax_lacks_is_an_error_not_a_zero():
    f = define("def f(x, y):\n    return x ** y\n")
    d2 = s2sjax.grad(s2sjax.grad(f, target="python"), target="python")
    assert d2(0.8, 1.7) == pytest.approx(1.7 * 0.7 * 0.8**-0.3, rel=1e-12)
    with pytest.raises(s2sjax.TransformError, match="third derivatives of a variable power"):
        s2sjax.grad(d2, target="python")(0.8, 1.7)


def test_a_refusal_met_in_generated_code_names_the_users_line():
    # hessian differentiates the code jacrev generated; its refusal points at the user's np.prod
    f = define("def f(x):\n    y = np.sin(x)\n    return np.prod(y)\n")
    with pytest.raises(s2sjax.TransformError, match="derivatives of np.prod's derivative") as info:
        s2sjax.hessian(f, target="python")(np.ones(3))
    assert info.value.filename == f.__code__.co_filename
    assert info.value.text.strip() == "return np.prod(y)"
    packed = define(
        "def packed(p):\n    a, b = p\n    return np.prod(np.sin(a)) * b\n"
    )  # through the adapter
    with pytest.raises(s2sjax.TransformError, match="derivatives of np.prod's derivative") as info:
        s2sjax.hessian(packed, target="python")((np.ones(3), 2.0))
    assert (info.value.filename, info.value.text.strip()) == (
        packed.__code__.co_filename,
        "return np.prod(np.sin(a)) * b",
    )


# ---- Jacobians -----------------------------------------------------------------

VECTOR = {
    "elementwise": ("def f(x):\n    return np.sin(x) * x ** 2\n", (np.linspace(-1, 1, 4),)),
    "matvec": (
        "def f(A, x):\n    return np.tanh(A @ x)\n",
        (np.arange(6.0).reshape(3, 2) / 6, np.array([0.3, -0.8])),
    ),
    "loop": (
        "def f(x, k):\n    y = x.copy()\n    for i in range(5):\n"
        "        y = y + 0.1 * (-k * y + np.sin(y))\n    return y\n",
        (np.array([0.2, 1.1, -0.4]), 0.7),
    ),
    "in place": (
        "def f(x):\n    out = np.zeros(x.size)\n    s = 0.0\n    for i in range(x.size):\n"
        "        s = s + x[i] * x[i]\n        out[i] = s\n    return out\n",
        (np.array([0.5, -1.0, 2.0]),),
    ),
    "matrix out": ("def f(x):\n    return np.outer(x, np.cos(x))\n", (np.array([0.1, 0.7]),)),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", list(VECTOR))
def test_jacfwd_equals_jacrev_and_finite_differences(name, target):
    source, args = VECTOR[name]
    f = define(source)
    argnums = tuple(i for i, a in enumerate(args) if isinstance(a, np.ndarray))
    forward = s2sjax.jacfwd(f, argnums=argnums, target=target)(*args)
    reverse = s2sjax.jacrev(f, argnums=argnums, target=target)(*args)
    out = f(*args)
    for i, jf, jr in zip(argnums, forward, reverse):
        assert jf.shape == np.shape(out) + args[i].shape
        np.testing.assert_allclose(jf, jr, rtol=1e-12, atol=1e-14)
        for index in np.ndindex(np.shape(out)):  # row by row: the gradient of one output element
            expected = fd.numerical_grad(lambda *a: f(*a)[index], args, i)
            np.testing.assert_allclose(jf[index], expected, rtol=1e-7, atol=1e-9)


def _small(case):
    args = case.make_args(np.random.default_rng(3))
    return case.dtype == "float64" and np.size(args[case.argnums_tuple[0]]) <= 12


# a fifth of the loops (each is n x n gradient evaluations), and every case that was once wrong
HESSIAN_CASES = [c for i, c in enumerate([c for c in LOOPS if _small(c)]) if i % 5 == 0]
HESSIAN_CASES += [c for c in STRAIGHT + LOOPS if c.name in REGRESSIONS and c not in HESSIAN_CASES]


# Their hessians take Numba two minutes each to compile on cpu: behind the `sweep` marker
SLOW_ON_CPU = {"gather_rows", "arrays_returned_from_loops"}
HESSIAN_RUNS = [pytest.param(c, "python", id=f"{c.name}-python") for c in HESSIAN_CASES] + [
    pytest.param(
        c, "cpu", id=f"{c.name}-cpu", marks=[pytest.mark.sweep] if c.name in SLOW_ON_CPU else []
    )
    for c in HESSIAN_CASES
    if c.name in REGRESSIONS
]


@pytest.mark.parametrize("case,target", HESSIAN_RUNS)
def test_hessian_against_finite_differences_of_grad(case, target):
    """hessian (forward over reverse, generated code transformed again) on loop code."""
    args = case.make_args(np.random.default_rng(3))
    i = case.argnums_tuple[0]
    hess = s2sjax.hessian(case.fun, argnums=i, target=target)(*args)
    grad = s2sjax.grad(case.fun, argnums=i, target="python")
    x = np.asarray(args[i], dtype=float)
    assert np.shape(hess) == x.shape + x.shape
    for index in np.ndindex(x.shape):  # column by column: finite differences of the gradient

        def component(*a, index=index):
            return np.asarray(grad(*a))[index]

        expected = fd.numerical_grad(component, args, i)
        np.testing.assert_allclose(
            np.asarray(hess)[index],
            expected,
            rtol=1e-6,
            atol=1e-7,
            err_msg=f"{case.name}: row {index}",
        )


@pytest.mark.parametrize("target", TARGETS)
def test_hessian_vector_product_is_jvp_of_grad(target):
    f = define(
        "def f(x):\n    s = 0.0\n    for i in range(x.size - 1):\n"
        "        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2\n    return s\n"
    )
    x, v = np.array([0.3, -0.4, 1.2, 0.9]), np.array([1.0, -2.0, 0.5, 0.25])
    _, hvp = s2sjax.jvp(s2sjax.grad(f, target=target), (x,), (v,), target=target)
    H = s2sjax.hessian(f, target=target)(x)
    np.testing.assert_allclose(hvp, H @ v, rtol=1e-12)
    np.testing.assert_allclose(H, H.T, rtol=1e-12)


# ---- vjp and jvp conventions ---------------------------------------------------


def test_vjp_of_a_vector_output_and_of_a_tuple_output():
    f = define("def f(x, y):\n    return np.sin(x) * y, np.sum(x)\n")
    x, y = np.array([0.1, 0.5]), 2.0
    (a, b), pullback = s2sjax.vjp(f, x, y)
    assert a.tolist() == (np.sin(x) * y).tolist() and b == pytest.approx(0.6)
    gx, gy = pullback((np.array([1.0, -1.0]), 3.0))
    np.testing.assert_allclose(gx, np.cos(x) * y * np.array([1.0, -1.0]) + 3.0)
    assert gy == pytest.approx(np.sin(0.1) - np.sin(0.5))
    with pytest.raises(ValueError, match="Shape of cotangent"):
        pullback((np.ones(3), 1.0))


def test_vjp_with_aux_and_an_integer_primal():
    f = define("def f(x, n):\n    return x * n, n + 1\n")
    out, pullback, aux = s2sjax.vjp(f, np.array([1.0, 2.0]), 3, has_aux=True)
    assert aux == 4 and out.tolist() == [3.0, 6.0]
    gx, gn = pullback(np.ones(2))
    assert gx.tolist() == [3.0, 3.0] and np.all(gn == 0)


def test_jvp_argument_errors_follow_jax():
    f = define("def f(x):\n    return x * 2.0\n")
    with pytest.raises(TypeError, match="must be tuples or lists"):
        s2sjax.jvp(f, 1.0, 1.0)
    with pytest.raises(ValueError, match="different primal and tangent shapes"):
        s2sjax.jvp(f, (np.ones(3),), (np.ones(2),))


def test_forward_mode_source_reads_x_dot_next_to_x():
    f = define("def f(x):\n    y = math.sin(x)\n    return y * x\n")
    s2sjax.jvp(f, (0.5,), (1.0,), target="python")
    text = s2sjax.source(s2sjax.api._shared(f, s2sjax.kinds.Jvp(), "python"))
    assert "def f_jvp(x, x_dot):" in text
    assert "    y = math.sin(x)\n    y_dot = x_dot * math.cos(x)\n" in text


def _directional(case, nargs, i):
    """`(x..., v) -> s2sjax.jvp(case.fun, (x...), (0.0 * x..., v at i))[1]`, as a user writes it."""
    xs = [f"x{k}" for k in range(nargs)]
    tangents = ["v" if k == i else f"0.0 * {x}" for k, x in enumerate(xs)]
    f = define(
        f"def directional({', '.join(xs)}, v):\n"
        f"    return s2sjax.jvp(fun, ({''.join(x + ', ' for x in xs)}), "
        f"({''.join(t + ', ' for t in tangents)}))[1]\n",
        namespace_setup="import s2sjax\n",
    )
    f.__globals__["fun"] = case.fun
    return f


@pytest.mark.parametrize("case", HESSIAN_CASES, ids=[c.name for c in HESSIAN_CASES])
def test_grad_of_a_function_calling_jvp_is_a_hessian_vector_product(case):
    """Reverse over forward against forward over reverse.

    Reverse over forward: s2sjax.jvp inlined into the differentiated code.
    """
    args = case.make_args(np.random.default_rng(3))
    i = case.argnums_tuple[0]
    v = np.random.default_rng(4).uniform(-1, 1, np.shape(args[i]))
    hvp = s2sjax.grad(_directional(case, len(args), i), argnums=i, target="python")(*args, v)
    hess = np.asarray(s2sjax.hessian(case.fun, argnums=i, target="python")(*args))
    n = np.size(v)
    expected = hess.reshape(n, n) @ np.ravel(v)
    np.testing.assert_allclose(np.ravel(hvp), expected, rtol=1e-9, atol=1e-10, err_msg=case.name)


# ---- the structure of outputs: tuples of one, nested tuples (as JAX keeps them) --------------

PRODUCT = define("def product(x, y):\n    return x * y * y\n")
NESTED = define("def nested(x):\n    inner = (x * x, 3.0 * x)\n    return 2.0 * x, inner\n")
X, Y = 1.5, -0.7


def _d(fun, args, argnum, step=None):
    """d fun / d args[argnum] by finite differences."""
    return float(fd.numerical_grad(fun, args, argnum, step=step))


def _dx_product(x, y):
    return _d(PRODUCT, (x, y), 0)


def _second(argnum):
    """d2 product / dx d args[argnum], by finite differences of finite differences."""
    return _d(_dx_product, (X, Y), argnum, step=1e-3)


@pytest.mark.parametrize("target", TARGETS)
def test_jvp_of_grad_with_a_tuple_of_one_argnum_keeps_the_tuple(target):
    grad = s2sjax.grad(PRODUCT, argnums=(0,), target=target)
    (out,), (tangent,) = s2sjax.jvp(grad, (X, Y), (1.0, 0.5), target=target)
    assert out == pytest.approx(_dx_product(X, Y), rel=1e-9)
    assert tangent == pytest.approx(_second(0) * 1.0 + _second(1) * 0.5, rel=1e-6)
    both = s2sjax.grad(PRODUCT, argnums=(0, 1), target=target)
    (dx, dy), (tx, ty) = s2sjax.jvp(both, (X, Y), (1.0, 0.5), target=target)
    assert (dx, tx) == pytest.approx((out, tangent), rel=1e-12)


@pytest.mark.parametrize("target", TARGETS)
def test_jacobians_and_vmap_of_grad_with_a_tuple_of_one_argnum_keep_the_tuple(target):
    grad = s2sjax.grad(PRODUCT, argnums=(0,), target=target)
    for jacobian in (s2sjax.jacfwd, s2sjax.jacrev):
        (h,) = jacobian(grad, target=target)(X, Y)
        assert h == pytest.approx(_second(0), abs=1e-6)
    ((h,),) = s2sjax.hessian(PRODUCT, argnums=(0,), target=target)(X, Y)
    assert h == pytest.approx(_second(0), abs=1e-6)
    xs, ys = np.array([X, 2.0]), np.array([Y, 3.0])
    (column,) = s2sjax.vmap(grad, target=target)(xs, ys)
    np.testing.assert_allclose(column, [_dx_product(x, y) for x, y in zip(xs, ys)], rtol=1e-9)
    (g,) = s2sjax.jit(grad, target=target)(X, Y)
    assert g == pytest.approx(_dx_product(X, Y), rel=1e-9)


@pytest.mark.parametrize("target", TARGETS)
def test_jvp_of_value_and_grad_with_a_tuple_of_one_argnum_keeps_its_nesting(target):
    value_and_grad = s2sjax.value_and_grad(PRODUCT, argnums=(0,), target=target)
    (value, (g,)), (value_dot, (g_dot,)) = s2sjax.jvp(
        value_and_grad, (X, Y), (0.0, 1.0), target=target
    )
    assert value == PRODUCT(X, Y) and g == pytest.approx(_dx_product(X, Y), rel=1e-9)
    assert value_dot == pytest.approx(_d(PRODUCT, (X, Y), 1), rel=1e-9)
    assert g_dot == pytest.approx(_second(1), rel=1e-6)


@pytest.mark.parametrize("target", TARGETS)
def test_nested_tuple_outputs_are_differentiated_not_zeroed(target):
    # the inner tuple's tangent was 0.0, its cotangent ignored, and vmap stacked it into one array
    leaves = [lambda x: NESTED(x)[0], lambda x: NESTED(x)[1][0], lambda x: NESTED(x)[1][1]]
    slopes = [_d(leaf, (X,), 0) for leaf in leaves]
    out, tangent = s2sjax.jvp(NESTED, (X,), (1.0,), target=target)
    assert out == NESTED(X)
    assert tangent[0] == pytest.approx(slopes[0]) and tangent[1] == pytest.approx(tuple(slopes[1:]))
    _, pullback = s2sjax.vjp(NESTED, X, target=target)
    assert pullback((1.0, (1.0, 1.0)))[0] == pytest.approx(sum(slopes), rel=1e-9)
    jacobian = s2sjax.jacfwd(NESTED, target=target)(X)
    assert jacobian[0] == pytest.approx(slopes[0]) and jacobian[1] == pytest.approx(
        tuple(slopes[1:])
    )
    doubled, (squared, tripled) = s2sjax.vmap(NESTED, target=target)(np.array([X, 2.0]))
    np.testing.assert_allclose(squared, [NESTED(X)[1][0], NESTED(2.0)[1][0]], rtol=1e-14)
