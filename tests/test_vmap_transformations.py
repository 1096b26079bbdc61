"""vmap of each transformation of a function of containers, against an explicit loop.

grad, value_and_grad, jvp (called in a wrapper), jacfwd, jacrev and hessian of
functions taking tuples, lists, dicts and nested containers, with has_aux, in_axes
that are container prefixes and out_axes other than 0. The oracle runs the
transformation alone on each example, in a Python loop, and stacks the results
leaf by leaf with NumPy. Each batched function is compiled once and shared by the
tests that call it.
"""

import functools
from dataclasses import dataclass

import numpy as np
import pytest

import s2sjax
from s2sjax.pytree import tree_leaves, tree_map, tree_structure
from tests import fd
from tests.util import define

pytestmark = pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")

RNG = np.random.default_rng(7)
N = 4
W, B, C = RNG.normal(size=3), 0.3, np.array([2.0, -1.0])
XS, YS, BS = RNG.normal(size=(N, 3)), RNG.normal(size=N), RNG.normal(size=N)
TWS, TBS = RNG.normal(size=(N, 3)), RNG.normal(size=N)


def loss(params, x, y):
    w, b = params
    return (np.dot(w, x) + b - y) ** 2


def loss_of_dict(params, x, y):
    return (np.dot(params["w"], x) + params["b"] - y) ** 2


def loss_of_nested(params, x, y):
    (w, b), c = params["wb"], params["c"]
    return (np.dot(w, x) * c[0] + b * c[1] - y) ** 2


def loss_with_aux(params, x, y):
    w, b = params
    r = np.dot(w, x) + b - y
    return r**2, {"residual": r, "sines": np.sin(w)}


def model(params, x):
    return np.tanh(params["w"] * x + params["b"])


def energy(params, x):
    return np.sum(np.tanh(params["w"] * x) * params["b"])


PUSHFORWARD = define(
    """
def pushforward(params, x, y, tangent):
    return s2sjax.jvp(loss, (params, x, y), (tangent, np.zeros(3), 0.0))
""",
    namespace_setup="import numpy as np\nimport s2sjax\n",
)
PUSHFORWARD.__globals__["loss"] = loss


@dataclass(frozen=True)
class Case:
    name: str
    transform: object  # target -> the per-example transformed function
    args: tuple
    in_axes: object
    out_axes: object = 0


def _on(transformation, fun, **options):
    """target -> transformation(fun) for that target (a CPU one under a CUDA vmap)."""
    return lambda target: transformation(
        fun, target="python" if target == "cuda" else target, **options
    )


CASES = [
    Case("grad-list", _on(s2sjax.grad, loss), ([W, B], XS, YS), (None, 0, 0)),
    Case("value_and_grad-tuple", _on(s2sjax.value_and_grad, loss), ((W, B), XS, YS), (None, 0, 0)),
    Case(
        "value_and_grad-dict-out_axes",
        _on(s2sjax.value_and_grad, loss_of_dict),
        ({"w": W, "b": B}, XS, YS),
        (None, 0, 0),
        (0, {"w": 1, "b": 0}),
    ),
    Case(
        "value_and_grad-nested-in_axes-prefix",
        _on(s2sjax.value_and_grad, loss_of_nested),
        ({"wb": (W, BS), "c": C}, XS, YS),
        ({"wb": (None, 0), "c": None}, 0, 0),
    ),
    Case(
        "grad-has_aux",
        _on(s2sjax.grad, loss_with_aux, has_aux=True),
        ((W, B), XS, YS),
        (None, 0, 0),
    ),
    Case(
        "value_and_grad-has_aux-out_axes",
        _on(s2sjax.value_and_grad, loss_with_aux, has_aux=True),
        ((W, B), XS, YS),
        (None, 0, 0),
        ((0, {"residual": 0, "sines": 1}), (-1, 0)),
    ),
    Case(
        "grad-argnums",
        _on(s2sjax.grad, loss, argnums=(0, 2)),
        ((W, B), XS, YS),
        (None, 0, 0),
        (0, 0),
    ),
    Case(
        "jvp-in-a-wrapper",
        lambda target: PUSHFORWARD,
        ((W, B), XS, YS, (TWS, TBS)),
        (None, 0, 0, 0),
    ),
    Case("jacfwd-dict-out_axes", _on(s2sjax.jacfwd, model), ({"w": W, "b": B}, XS), (None, 0), -1),
    Case("jacrev-dict", _on(s2sjax.jacrev, model), ({"w": W, "b": B}, XS), (None, 0)),
    Case(
        "hessian-dict",
        _on(s2sjax.hessian, energy),
        ({"w": W, "b": B}, XS),
        (None, 0),
        {"w": 1, "b": -1},
    ),
]
BY_NAME = {case.name: case for case in CASES}
COMPILED = ["value_and_grad-tuple", "value_and_grad-has_aux-out_axes", "jvp-in-a-wrapper"]
PARALLEL = [
    "value_and_grad-tuple",
    "value_and_grad-dict-out_axes",
]  # not jacfwd: a Numba parfors bug, see CHANGELOG


@functools.cache
def _batched(name, target):
    case = BY_NAME[name]
    return s2sjax.vmap(
        case.transform(target), in_axes=case.in_axes, out_axes=case.out_axes, target=target
    )


def _example(value, spec, k):
    """Example `k` of `value` mapped by the in_axes prefix `spec`."""
    if isinstance(spec, (tuple, list, dict)):
        keys = list(value) if isinstance(value, dict) else range(len(value))
        parts = [_example(value[i], spec[i], k) for i in keys]
        return dict(zip(keys, parts)) if isinstance(value, dict) else type(value)(parts)
    return value if spec is None else tree_map(lambda leaf: np.take(leaf, k, axis=spec), value)


def _stacked(outputs, spec):
    """The examples' `outputs` stacked leaf by leaf along the out_axes prefix `spec`."""
    if isinstance(spec, (tuple, list, dict)):
        first = outputs[0]
        keys = list(first) if isinstance(first, dict) else range(len(first))
        parts = [_stacked([out[i] for out in outputs], spec[i]) for i in keys]
        return dict(zip(keys, parts)) if isinstance(first, dict) else type(first)(parts)
    return tree_map(lambda *leaves: np.moveaxis(np.stack(leaves), 0, spec), *outputs)


def _loop(case):
    per_example = case.transform("python")
    outputs = [
        per_example(*(_example(a, s, k) for a, s in zip(case.args, case.in_axes))) for k in range(N)
    ]
    return _stacked(outputs, case.out_axes)


def _check(name, target):
    case = BY_NAME[name]
    got, expected = _batched(name, target)(*case.args), _loop(case)
    assert tree_structure(got) == tree_structure(expected), name
    for g, e in zip(tree_leaves(got), tree_leaves(expected)):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-13, err_msg=f"{name} [{target}]")


@pytest.mark.parametrize("name", list(BY_NAME))
def test_vmap_of_each_transformation_python(name):
    _check(name, "python")


@pytest.mark.parametrize("name", COMPILED)
def test_vmap_of_each_transformation_cpu(name):
    _check(name, "cpu")


@pytest.mark.parametrize("name", PARALLEL)
def test_vmap_of_each_transformation_parallel(name):
    _check(name, "parallel")


@pytest.mark.parametrize("target", ["python", "cpu", "parallel"])
def test_per_example_value_and_gradient_against_finite_differences(target):
    """The JAX tutorials' per-example loss and gradient of tuple parameters (w, b)."""
    values, (grad_w, grad_b) = _batched("value_and_grad-tuple", target)((W, B), XS, YS)
    for k in range(N):

        def per_example(w, b):
            return loss((w, b), XS[k], YS[k])

        assert values[k] == pytest.approx(per_example(W, B), rel=1e-13)
        fd.check_grad(per_example, (W, B), (0, 1), (grad_w[k], grad_b[k]), rtol=1e-7, atol=1e-9)


SCALAR_CASES = [
    Case(
        "value_and_grad-tuple-of-scalars",
        _on(
            s2sjax.value_and_grad,
            define("""
def line(params, x, y):
    a, b = params
    return (a * x + b - y) ** 2
"""),
        ),
        ((1.5, -0.5), YS, BS),
        (None, 0, 0),
        (0, (0, 0)),
    ),
    Case(
        "value_and_grad-has_aux-dict",
        _on(
            s2sjax.value_and_grad,
            define("""
def line(params, x, y):
    r = params["a"] * x + params["b"] - y
    return r ** 2, {"residual": r}
"""),
            has_aux=True,
        ),
        ({"a": 1.5, "b": -0.5}, YS, BS),
        (None, 0, 0),
    ),
]
BY_NAME.update({case.name: case for case in SCALAR_CASES})


@pytest.mark.parametrize("name", [case.name for case in SCALAR_CASES])
def test_vmap_of_gradients_of_containers_on_the_device(name):
    _check(name, "cuda")


def test_vmap_of_a_pullback_says_what_to_write_instead():
    _, pullback = s2sjax.vjp(lambda w: np.sin(w), W, target="python")
    with pytest.raises(TypeError, match=r"vmap\(grad\(lambda x, ct: np.sum\(f\(x\) \* ct\)\)"):
        s2sjax.vmap(pullback)
