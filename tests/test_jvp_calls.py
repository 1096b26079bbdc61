"""`s2sjax.jvp` called inside a transformed function: vmap of it (a batch of tangents pushed
forward, checked against float64 finite differences along each), grad of it (reverse over
forward), and the errors that name the call.
"""

import math

import numpy as np
import pytest

import s2sjax
from tests import fd
from tests.catalogue import CASES as STRAIGHT
from tests.catalogue_loops import CASES as LOOPS
from tests.util import define

CASES = STRAIGHT + LOOPS
BATCH = 3
pytestmark = pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")


def _pushforward(case, nargs):
    """`(x..., v...) -> s2sjax.jvp(case.fun, (x...), (v...))`, in a module as a user writes it."""
    xs, vs = [f"x{i}" for i in range(nargs)], [f"v{i}" for i in range(nargs)]
    push = define(
        f"def pushforward({', '.join(xs + vs)}):\n"
        f"    return s2sjax.jvp(fun, ({''.join(x + ', ' for x in xs)}), "
        f"({''.join(v + ', ' for v in vs)}))\n",
        namespace_setup="import s2sjax\n",
    )
    push.__globals__["fun"] = case.fun
    return push


def _check_vmap_of_jvp(case, target):
    """A batch of tangents pushed forward at one point: each against finite differences along it."""
    seed = sum(map(ord, case.name))
    args = case.make_args(np.random.default_rng(seed))
    argnums, nargs = case.argnums_tuple, len(args)
    rng = np.random.default_rng(seed + 1)
    directions = [[rng.uniform(-1, 1, np.shape(args[i])) for i in argnums] for _ in range(BATCH)]
    tangents = [np.zeros_like(a, dtype=float) if isinstance(a, np.ndarray) else 0.0 for a in args]
    for i, k in enumerate(argnums):
        tangents[k] = np.stack([d[i] for d in directions]).astype(np.asarray(args[k]).dtype)
    in_axes = (None,) * nargs + tuple(0 if i in argnums else None for i in range(nargs))
    out, out_dot = s2sjax.vmap(_pushforward(case, nargs), in_axes=in_axes, target=target)(
        *args, *tangents
    )
    rtol = 1e-5 if case.dtype == "float32" else 1e-12
    np.testing.assert_allclose(
        out, np.stack([case.fun(*args)] * BATCH), rtol=rtol, err_msg=case.name
    )
    gradients = [fd.numerical_grad(case.fun, args, i) for i in argnums]
    expected = [sum(float(np.sum(g * v)) for g, v in zip(gradients, d)) for d in directions]
    rtol, atol = (1e-3, 1e-4) if case.dtype == "float32" else (1e-7, 1e-8)
    if case.rtol is not None:
        rtol, atol = max(rtol, case.rtol), max(atol, case.atol or 0.0)
    np.testing.assert_allclose(
        out_dot, expected, rtol=rtol, atol=atol, err_msg=f"{case.name} [{target}]"
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_vmap_of_jvp_python(case):
    _check_vmap_of_jvp(case, "python")


JVP_COMPILED = CASES[::10]


@pytest.mark.parametrize("case", JVP_COMPILED, ids=[c.name for c in JVP_COMPILED])
def test_vmap_of_jvp_compiled(case):
    _check_vmap_of_jvp(case, "cpu")


def sin_cubed(x):
    return np.sin(x) ** 3


def curvature(x):
    return s2sjax.jvp(sin_cubed, (x,), (1.0,))[1]  # d/dx of sin(x)**3, by forward mode


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_grad_of_a_function_that_calls_jvp(target):
    x = 0.7
    second = s2sjax.grad(curvature, target=target)(x)
    expected = fd.numerical_grad(lambda y: 3 * math.sin(y) ** 2 * math.cos(y), (x,), 0)
    np.testing.assert_allclose(second, expected, rtol=1e-9)


JVP_ERRORS = {
    "def f(x):\n    return s2sjax.jvp(helper, x, 1.0)\n": "written as tuples",
    "def f(x):\n    return s2sjax.jvp(helper, (x,), (1.0, 2.0))\n": (
        "different primal and tangent tuple lengths"
    ),
    "def f(x):\n    return s2sjax.jvp(helper, (x, x, x), (1.0, 1.0, 1.0))\n": (
        "3 primals; it takes 2"
    ),
    "def f(x):\n    return s2sjax.jvp(np.sin, (x,), (1.0,))\n": "not a plain Python function",
    "def f(x):\n    g = helper\n    return s2sjax.jvp(g, (x,), (1.0,))\n": (
        "must be defined outside it"
    ),
    "def f(x):\n    return s2sjax.jvp(helper, (x,), (1.0,), has_aux=True)\n": "by position",
    "def f(x):\n    return s2sjax.jvp(helper, (x,), (np.ones((2, 2)),))\n": (
        "a primal of rank 1 has a tangent of rank 2"
    ),
    "def f(x):\n    return s2sjax.jvp(helper, ((x, x),), (1.0,))\n": (
        r"primal 0 has tree structure \(\*, \*\) whereas"
    ),
}


@pytest.mark.parametrize("source", list(JVP_ERRORS), ids=list(JVP_ERRORS.values()))
def test_jvp_inside_errors_name_the_call(source):
    f = define(
        source,
        "f",
        namespace_setup="import numpy as np\nimport s2sjax\n"
        "def helper(x, scale=2.0):\n    return scale * np.sin(x)\n",
    )
    with pytest.raises(s2sjax.TransformError, match=JVP_ERRORS[source]) as info:
        s2sjax.vmap(f, target="python")(np.ones((3, 4)))
    error = info.value
    assert (error.filename, error.lineno) == (
        f.__code__.co_filename,
        f.__code__.co_firstlineno + source.count("\n") - 1,
    )


def affine(params, x):
    w, b = params
    return np.sum(np.tanh(w * x + b))


def along(w, b, x, tw, tb):
    return s2sjax.jvp(affine, ((w, b), x), ((tw, tb), np.zeros(3)))[1]


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_jvp_of_a_tuple_primal_differentiates_each_leaf(target):
    """A primal that is a tuple (JAX's parameters) gets its tangent, leaf by leaf."""
    rng = np.random.default_rng(3)
    w, x, tw = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    b, tb = 0.4, -0.7
    gradients = [fd.numerical_grad(lambda w, b: affine((w, b), x), (w, b), i) for i in (0, 1)]
    expected = float(np.dot(gradients[0], tw) + gradients[1] * tb)
    assert s2sjax.jit(along, target=target)(w, b, x, tw, tb) == pytest.approx(expected, rel=1e-8)
    second = s2sjax.grad(along, argnums=(0, 1), target=target)(w, b, x, tw, tb)
    fd.check_grad(along, (w, b, x, tw, tb), (0, 1), second, rtol=1e-7, atol=1e-9)


def affine_of_dict(params, x):
    return np.sum(np.tanh(params["w"] * x + params["b"]))


def push_dict(params, x, tangents):
    return s2sjax.jvp(affine_of_dict, (params, x), (tangents, np.zeros(3)))[1]


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_vmap_of_jvp_of_a_dict_primal_matches_a_loop_of_finite_differences(target):
    """A dict primal keeps its keys through the jvp (its leaves found by key), under vmap."""
    rng = np.random.default_rng(4)
    params = {"w": rng.normal(size=(BATCH, 3)), "b": rng.normal(size=BATCH)}
    tangents = {"w": rng.normal(size=(BATCH, 3)), "b": rng.normal(size=BATCH)}
    x = rng.normal(size=3)
    batched = s2sjax.vmap(push_dict, in_axes=(0, None, 0), target=target)(params, x, tangents)
    for k in range(BATCH):
        w, b, tw, tb = params["w"][k], params["b"][k], tangents["w"][k], tangents["b"][k]
        loss = lambda w, b: affine_of_dict({"w": w, "b": b}, x)  # noqa: E731
        gw, gb = (fd.numerical_grad(loss, (w, b), i) for i in (0, 1))
        assert batched[k] == pytest.approx(float(np.dot(gw, tw) + gb * tb), rel=1e-7)


WEIGHTS = np.array([0.5, -1.0, 2.0])


def weighted(x):
    return np.sum(WEIGHTS * np.sin(x))


def directional_derivatives(x, v):
    return s2sjax.jvp(weighted, (x,), (v,))[1]


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_jvp_of_a_function_reading_a_global_array_reads_its_current_value(target):
    x, vs = np.array([0.1, 0.2, 0.3]), np.eye(3)
    batched = s2sjax.vmap(directional_derivatives, in_axes=(None, 0), target=target)
    np.testing.assert_allclose(batched(x, vs), WEIGHTS * np.cos(x), rtol=1e-12)
    saved = WEIGHTS
    globals()["WEIGHTS"] = np.ones(3)  # a new array under the name: read again at the next call
    try:
        np.testing.assert_allclose(batched(x, vs), np.cos(x), rtol=1e-12)
    finally:
        globals()["WEIGHTS"] = saved
