"""Objects and small Python things (issue 19): namedtuples, dataclasses and registered classes as
arguments (pytrees, as in JAX), bound methods whose `self` holds static configuration, and the
small things: isinstance and type tests, list/dict constructors, slice objects, string dtypes,
raise and print, comprehensions with a condition or over a run-time range given to sum.

A few small functions, shared across the checks: gradients against finite differences on python
and cpu, the gradient of an object argument returned as an object of its class, vmap against a
loop; the forms left out are refused with a located error.
"""

import numpy as np
import pytest

import s2sjax
from s2sjax import TransformError

from .fd import numerical_grad
from .util import define_module

TARGETS = ["python", "cpu"]

MODULE = define_module(
    """
import collections
import dataclasses
import typing


class Params(typing.NamedTuple):
    w: np.ndarray
    b: float


Pair = collections.namedtuple("Pair", "w b")


@dataclasses.dataclass
class Layer:
    w: np.ndarray
    b: float


class Affine:
    def __init__(self, w, b, act="tanh"):
        self.w, self.b, self.act = w, b, act


def loss(p, x):
    return np.sum(np.tanh(p.w * x) + p.b ** 2)


def rebuilt(p, x):
    q = Params(w=p.w * x, b=p.b * 2.0)
    return q


def missing(p):
    return p.c


def unpacked(p, x):
    w, b = p
    return np.sum(w * x) * p[1] + len(p)


class Model:
    def __init__(self, scale, act="tanh", double=True):
        self.scale, self.act, self.double = scale, act, double

    def scaled(self, y):
        return y * self.scale

    def loss(self, x):
        y = self.scaled(x)
        if self.double:
            y = y * 2.0
        if self.act == "tanh":
            return np.sum(np.tanh(y))
        return np.sum(y * y)


def small(x, scale, double):
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"need two values, got {n}")
    assert isinstance(double, bool), f"double is {double}"
    factor = 2.0 if double else 1.0
    if type(scale) is float and isinstance(x, np.ndarray):
        factor = factor * scale
    parts = dict(head=x[slice(0, 2)], rest=list((x[1:], x)))
    squares = [x[i] ** 2 for i in range(3) if i != 1]
    total = sum(x[i] * x[i - 1] for i in range(1, n) if x[i] > 0.0)
    return factor * (np.sum(parts["head"] ** 2) + np.sum(parts["rest"][0]) + total) + sum(
        squares
    ) * np.sum(x.astype("float64"))


class Holder:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        return np.sum(self.w * x)
"""
)
s2sjax.register_pytree(
    MODULE.Affine,
    lambda a: ((a.w, a.b), a.act),
    lambda act, children: MODULE.Affine(*children, act=act),
)

X = np.array([0.3, -0.5, 0.7])
OBJECTS = {
    "typing.NamedTuple": MODULE.Params(X * 2.0, 0.4),
    "collections.namedtuple": MODULE.Pair(X * 2.0, 0.4),
    "dataclass": MODULE.Layer(X * 2.0, 0.4),
    "register_pytree": MODULE.Affine(X * 2.0, 0.4),
}


def _numerical_leaf_grads(fun, p, x):
    leaves, tree = s2sjax.tree_flatten(p)

    def of_leaves(*leaves):
        return fun(s2sjax.tree_unflatten(tree, leaves), x)

    return [numerical_grad(of_leaves, leaves, k) for k in range(len(leaves))]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", sorted(OBJECTS))
def test_object_arguments_are_pytrees(kind, target):
    p = OBJECTS[kind]
    grad = s2sjax.grad(MODULE.loss, target=target)(p, X)
    assert type(grad) is type(p)
    got = s2sjax.tree_leaves(grad)
    for g, want in zip(got, _numerical_leaf_grads(MODULE.loss, p, X)):
        np.testing.assert_allclose(g, want, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("target", TARGETS)
def test_namedtuples_built_returned_indexed_and_unpacked(target):
    p = OBJECTS["typing.NamedTuple"]
    out, pullback = s2sjax.vjp(MODULE.rebuilt, p, X, target=target)
    assert type(out) is MODULE.Params
    np.testing.assert_allclose(out.w, p.w * X)
    (dp, dx) = pullback(MODULE.Params(np.ones(3), 1.0))
    np.testing.assert_allclose(dp.w, X)
    np.testing.assert_allclose(dp.b, 2.0)
    np.testing.assert_allclose(dx, p.w)
    grad = s2sjax.grad(MODULE.unpacked, target=target)(p, X)
    want = _numerical_leaf_grads(MODULE.unpacked, p, X)
    np.testing.assert_allclose(grad.w, want[0], rtol=1e-7)
    np.testing.assert_allclose(grad.b, want[1], rtol=1e-7)


@pytest.mark.parametrize("target", TARGETS)
def test_vmap_over_object_fields_matches_a_loop(target):
    batch = MODULE.Layer(np.stack([X, X * 0.5]), np.array([0.1, 0.2]))
    got = s2sjax.vmap(MODULE.loss, in_axes=(0, None), target=target)(batch, X)
    want = [MODULE.loss(MODULE.Layer(batch.w[i], batch.b[i]), X) for i in range(2)]
    np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("target", TARGETS)
def test_bound_methods_read_self_as_constants(target):
    model = MODULE.Model(1.5)
    grad = s2sjax.grad(model.loss, target=target)
    np.testing.assert_allclose(grad(X), numerical_grad(model.loss, (X,), 0), rtol=1e-7)
    model.scale, model.act = 0.5, "square"  # read again: the code is regenerated
    np.testing.assert_allclose(grad(X), numerical_grad(model.loss, (X,), 0), rtol=1e-7)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("double", [True, False])
def test_small_things_match_finite_differences(target, double):
    grad = s2sjax.grad(MODULE.small, target=target)(X, 0.7, double)
    np.testing.assert_allclose(grad, numerical_grad(MODULE.small, (X, 0.7, double), 0), rtol=1e-7)
    batch = np.stack([X, -X, X * 0.5])
    got = s2sjax.vmap(MODULE.small, in_axes=(0, None, None), target=target)(batch, 0.7, double)
    np.testing.assert_allclose(got, [MODULE.small(x, 0.7, double) for x in batch], rtol=1e-13)


@pytest.mark.parametrize("target", TARGETS)
def test_raise_keeps_the_exception(target):
    with pytest.raises(ValueError, match="need two values"):
        s2sjax.grad(MODULE.small, target=target)(X[:1], 0.7, True)


REFUSED = {
    "an array on self": (lambda: MODULE.Holder(X).loss, (X,), "pass the array as an argument"),
    "indexing a dataclass": (
        lambda: MODULE.unpacked,
        (OBJECTS["dataclass"], X),
        "is not a sequence",
    ),
    "a field the object lacks": (lambda: MODULE.missing, (OBJECTS["dataclass"],), "not a field"),
}


@pytest.mark.parametrize("form", sorted(REFUSED))
def test_forms_left_out_are_refused_where_written(form):
    fun, args, words = REFUSED[form]
    with pytest.raises(TransformError) as info:
        s2sjax.grad(fun(), target="python")(*args)
    assert info.value.filename == MODULE.__file__
    assert words in str(info.value)
