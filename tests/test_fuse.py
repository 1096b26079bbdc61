"""Loop fusion: elementwise chains over rank-1 arrays become one loop on compiled targets."""

import re

import numpy as np
import pytest

import s2sjax
from tests import fd
from tests.util import define

W3 = define("def f(x):\n    return np.sum(np.sin(x) * x ** 2)\n")


def test_w3_gradient_is_one_loop_with_one_allocation():
    x = np.linspace(-1.0, 1.0, 11)
    source = s2sjax.source(s2sjax.grad(W3), x)
    body = source.split("def f_grad(x):")[1]
    assert body.count("for ") == 1 and "for i in range(x.shape[0]):" in body
    assert body.count("np.empty(") == 1  # x_bar only: no temporary arrays
    assert "math.sin(x[i])" in body and "math.cos(x[i])" in body
    assert "x_bar[i] = x_bar_i" in body


def test_python_target_is_not_fused():
    body = s2sjax.source(s2sjax.grad(W3, target="python"), np.ones(3)).split("def f_grad(x):")[1]
    assert "for " not in body and "np.sin(x)" in body


FUSED = [
    (
        "sum_and_mean_of_two_inputs",
        "def f(x, y):\n    return np.sum(x * y) + np.mean(np.exp(x))\n",
        (np.linspace(0, 1, 5), np.linspace(1, 2, 5)),
    ),
    (
        "centered_sum_of_squares",
        "def f(x):\n    m = np.mean(x)\n    return np.sum((x - m) ** 2)\n",
        (np.linspace(0, 1, 7),),
    ),
    (
        "where_and_max",
        "def f(x, a):\n    y = np.where(x > a, x * a, -x)\n    return np.sum(y * y) + np.max(y)\n",
        (np.linspace(-1, 1, 6), 0.3),
    ),
    (
        "materialized_and_indexed",
        "def f(x):\n    y = np.tanh(x)\n    return np.sum(y) * y[2]\n",
        (np.linspace(-1, 1, 6),),
    ),
    (
        "long_chain",
        "def f(x, c):\n    a = np.exp(-x * x) * c\n    b = a / (1.0 + a)\n"
        "    d = np.sqrt(b + 1.0) - np.log1p(a)\n"
        "    return np.mean(d * d) + np.sum(np.maximum(a, 0.2) * x)\n",
        (np.linspace(-2, 2, 9), 1.7),
    ),
    (
        "float32_input",
        "def f(x):\n    return np.sum(np.cos(x) * x)\n",
        (np.linspace(-1, 1, 8).astype(np.float32),),
    ),
]


@pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")
@pytest.mark.parametrize("target,loop", [("cpu", "range"), ("parallel", "rt.prange")])
@pytest.mark.parametrize("name,source,args", FUSED, ids=[c[0] for c in FUSED])
def test_fused_gradients_match_finite_differences(name, source, args, target, loop):
    fun = define(source)
    argnums = tuple(range(len(args)))
    g = s2sjax.grad(fun, argnums=argnums, target=target)
    grads = g(*args)
    assert f"for i in {loop}(" in s2sjax.source(g, *args)
    tolerance = 1e-4 if args[0].dtype == np.float32 else 1e-7
    fd.check_grad(fun, args, argnums, grads, rtol=tolerance, atol=tolerance * 1e-2, name=name)
    value, _ = s2sjax.value_and_grad(fun, argnums=argnums, target=target)(*args)
    assert value == pytest.approx(fun(*args), rel=tolerance)


def test_parallel_fuses_loops_inside_loops_serially():
    fun = define(
        "def f(x, n):\n    s = 0.0\n    for k in range(n):\n        s = s + np.sum(np.sin(x + k))\n"
        "    return s\n"
    )
    x = np.linspace(-1.0, 1.0, 9)
    g = s2sjax.grad(fun, target="parallel")
    source = s2sjax.source(g, x, 3)
    assert "rt.prange" not in source and re.search(r"for i\w* in range\(\w+\.shape\[0\]\):", source)
    fd.check_grad(fun, (x, 3), (0,), (g(x, 3),), rtol=1e-7, atol=1e-9, name="fused in a loop")


TWO_ARGUMENT = [
    ("arctan2", "def f(a, b):\n    return np.sum(np.arctan2(a, b))\n"),
    ("hypot", "def f(a, b):\n    return np.sum(np.hypot(a, b))\n"),
]
A, B = np.array([0.3, -0.2, 1.5]), np.array([1.1, 0.4, -0.7])


def _hessian_by_finite_differences(fun, a, b):
    """Row k: the derivative of the k-th entry of the (finite-difference) gradient."""

    def gradient_entry(k):
        return lambda a, b: fd.numerical_grad(fun, (a, b), 0)[k]

    return np.stack(
        [fd.numerical_grad(gradient_entry(k), (a, b), 0, step=1e-3) for k in range(a.size)]
    )


@pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")
@pytest.mark.parametrize("name,source", TWO_ARGUMENT, ids=[c[0] for c in TWO_ARGUMENT])
def test_a_parallel_hessian_whose_fused_loops_numba_renames_compiles(name, source):
    # the fused loops define `t1` in both branches of their length check; Numba's second `t1`
    # is `t1.1`, spelled `t1_1` in a prange loop, which was a variable of the hessian's too
    fun = define(source)
    hessian = s2sjax.hessian(fun, target="parallel")(A, B)
    np.testing.assert_allclose(
        hessian, _hessian_by_finite_differences(fun, A, B), rtol=1e-5, atol=1e-7
    )


@pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")
@pytest.mark.parametrize("name,source", TWO_ARGUMENT, ids=[c[0] for c in TWO_ARGUMENT])
def test_a_parallel_vmap_of_a_gradient_whose_loops_numba_renames_compiles(name, source):
    fun = define(source)
    a, b = np.stack([A, 2.0 * A]), np.stack([B, -B])
    grads = s2sjax.vmap(s2sjax.grad(fun), target="parallel")(a, b)
    for k in range(2):
        fd.check_grad(
            fun, (a[k], b[k]), (0,), (grads[k],), rtol=1e-8, atol=1e-10, name=f"{name}, example {k}"
        )


@pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")
def test_parallel_fused_outputs_in_both_branches_of_the_length_check_compile():
    fun = define("def quotient(a, b):\n    return a / b, a * b\n")
    got = s2sjax.jit(fun, target="parallel")(A, B)
    for value, expected in zip(got, fun(A, B)):
        np.testing.assert_allclose(value, expected, rtol=1e-15)


def test_any_failure_inside_numba_falls_back_to_python_with_one_warning(monkeypatch):
    import numba

    def fails(self, sig):
        raise AssertionError(
            "key already in dictionary: 't1_1'"
        )  # what Numba's parfor lowering raised

    monkeypatch.setattr(numba.core.registry.CPUDispatcher, "compile", fails)
    fun = define("def f(x):\n    return np.sum(np.sin(x) * x)\n")
    g = s2sjax.grad(fun, target="parallel")
    with pytest.warns(
        s2sjax.NumbaFallbackWarning, match="AssertionError: key already in dictionary"
    ) as caught:
        first, second = g(A), g(B)
    assert len([w for w in caught if issubclass(w.category, s2sjax.NumbaFallbackWarning)]) == 1
    fd.check_grad(fun, (A,), (0,), (first,), rtol=1e-8, atol=1e-10)
    fd.check_grad(fun, (B,), (0,), (second,), rtol=1e-8, atol=1e-10)
    monkeypatch.setattr(s2sjax.config, "strict", True)
    with pytest.raises(AssertionError, match="key already in dictionary"):
        s2sjax.grad(fun, target="parallel")(A)


# A length-1 array broadcast against a longer one in a fused chain: a value that reads only the
# short array has its own length, NumPy's, which the loop over the longest must not repeat.
PARTLY_BROADCAST = define(
    "def f(x, y):\n    e = x * 2.0\n    d = x - y\n"
    "    a = np.sum(e)\n    b = np.mean(e * e)\n    c = np.sum(d * d)\n    return a + b + c\n"
)
SHORT, LONG = np.array([0.5]), np.linspace(0.0, 1.0, 5)


@pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")
@pytest.mark.parametrize("target", ["cpu", "parallel"])
@pytest.mark.parametrize("args", [(SHORT, LONG), (LONG, SHORT), (LONG, LONG[::-1])])
def test_a_value_of_the_shorter_array_keeps_its_length(target, args):
    value, grads = s2sjax.value_and_grad(PARTLY_BROADCAST, argnums=(0, 1), target=target)(*args)
    assert value == pytest.approx(PARTLY_BROADCAST(*args), rel=1e-14)
    fd.check_grad(PARTLY_BROADCAST, args, (0, 1), grads, rtol=1e-7, atol=1e-9, name=target)


def test_a_value_of_the_shorter_array_keeps_its_length_in_a_device_loop():
    xs, ys = np.array([[0.5], [-1.0]]), np.stack([LONG, 2.0 * LONG])
    got = s2sjax.vmap(PARTLY_BROADCAST, target="cuda")(xs, ys)
    np.testing.assert_allclose(got, [PARTLY_BROADCAST(x, y) for x, y in zip(xs, ys)], rtol=1e-13)


# N-D elementwise code over views of one array (npbench's Harris corner score, a 3-D stencil):
# views with the same trims share a class, so both sweeps are one loop nest each, unchecked.
CORNERS = define(
    "def f(img):\n"
    "    dx = img[1:-1, 2:] - img[1:-1, :-2]\n"
    "    dy = img[2:, 1:-1] - img[:-2, 1:-1]\n"
    "    a, b, c = dx * dx, dy * dy, dx * dy\n"
    "    r = a * b - c * c - 0.05 * (a + b) ** 2\n"
    "    return np.sum(r * r)\n"
)
STENCIL_3D = define(
    "def f(u, k):\n"
    "    lap = u[2:, 1:-1, 1:-1] + u[:-2, 1:-1, 1:-1] + u[1:-1, 2:, 1:-1] + u[1:-1, :-2, 1:-1]\n"
    "    lap = lap + u[1:-1, 1:-1, 2:] + u[1:-1, 1:-1, :-2] - 6.0 * u[1:-1, 1:-1, 1:-1]\n"
    "    return np.mean(np.tanh(k * lap) * lap)\n"
)
IMAGE = np.random.default_rng(3).uniform(-1.0, 1.0, (6, 7))
VOLUME = np.random.default_rng(4).uniform(-1.0, 1.0, (4, 5, 6))


@pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")
@pytest.mark.parametrize("target", ["cpu", "parallel"])
@pytest.mark.parametrize(
    "fun,args", [(CORNERS, (IMAGE,)), (STENCIL_3D, (VOLUME, 0.7))], ids=["2d", "3d"]
)
def test_n_dimensional_chains_fuse_into_loop_nests(fun, args, target):
    g = s2sjax.value_and_grad(fun, argnums=tuple(range(len(args))), target=target)
    value, grads = g(*args)
    assert value == pytest.approx(fun(*args), rel=1e-13)
    fd.check_grad(fun, args, tuple(range(len(args))), grads, rtol=1e-7, atol=1e-9, name=target)
    source = s2sjax.source(g, *args)
    rank = args[0].ndim
    nests = re.findall(r"for i\w* in (?:rt\.p)?range\(t\w*\.shape\[%d\]\)" % (rank - 1), source)
    assert len(nests) >= 2  # the forward sweep's and the backward's
    assert ".shape ==" not in source  # the views' shapes are known to be one: no check


def test_a_broadcast_between_n_dimensional_arrays_runs_unfused_when_shapes_differ():
    fun = define("def f(a, b):\n    c = a * b\n    return np.sum(np.sin(c) * a)\n")
    g = s2sjax.value_and_grad(fun, argnums=(0, 1), target="cpu")
    for args in [(IMAGE, IMAGE[::-1]), (IMAGE[:, :1], IMAGE), (IMAGE, IMAGE[:1])]:
        value, grads = g(*args)
        assert value == pytest.approx(fun(*args), rel=1e-13)
        fd.check_grad(fun, args, (0, 1), grads, rtol=1e-7, atol=1e-9, name=str(args[0].shape))


# `np.sin(x)` of a length-1 `x` beside `x * y`: NumPy keeps it of length 1. A fused loop over the
# broadcast length once made it (and the gradient of `x`) as long as `y`.
SHORT_BESIDE_LONG = define(
    "def f(x, y):\n    a = np.sin(x)\n    return a * np.sum(a * y + x * y)\n"
)


@pytest.mark.parametrize("x, y", [(A[:1], B), (A, B[:1])], ids=["x of length 1", "y of length 1"])
def test_an_array_of_the_shorter_operand_keeps_its_length_when_lengths_differ(x, y):
    np.testing.assert_allclose(
        s2sjax.jit(SHORT_BESIDE_LONG)(x, y), SHORT_BESIDE_LONG(x, y), rtol=1e-14
    )
    seed = np.linspace(0.5, 1.5, max(len(x), len(y)) if len(x) > 1 else 1)
    pullback = s2sjax.vjp(SHORT_BESIDE_LONG, x, y)[1]
    gx, gy = pullback(seed)
    fd.check_grad(
        lambda x, y: float(np.dot(SHORT_BESIDE_LONG(x, y), seed)),
        (x, y),
        (0, 1),
        (gx, gy),
        rtol=1e-8,
        atol=1e-10,
        name="SHORT_BESIDE_LONG",
    )
