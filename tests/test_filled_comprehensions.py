"""np.array / np.asarray / np.stack of a list comprehension over a run-time range or an array's
rows (issue 19): a new array filled by a loop (normalize.filled_loop).

Oracles: finite differences in float64, an explicit Python loop for vmap. The python target
runs every transformation; cpu compiles one gradient and one vmap (parallel too, under the
`sweep` marker: `-m sweep`).
"""

import numpy as np
import pytest

import s2sjax
from s2sjax import TransformError
from tests import fd, looped_vmap

from .conftest import seeded_rng

RNG = seeded_rng("filled comprehensions")
X = RNG.uniform(-1.0, 1.0, (4, 3))
W = RNG.uniform(0.5, 1.5, 3)
V = RNG.uniform(0.2, 1.2, 5)


def wave(v):
    return v * np.sin(v)


def mapped(x):
    return np.sum(np.array([wave(x[i]) for i in range(len(x))]) ** 2)


def scaled_rows(x, w):
    return np.stack([row * w for row in x])


def neighbours(x, n):
    return np.sum(np.asarray([x[i] * x[i + 1] for i in range(n - 1)]) ** 2)


def strided(x, w):
    """Every other row from the second, scaled, and summed with the index as a weight."""
    rows = np.array([x[i] * w * i for i in range(1, len(x), 2)])
    return np.sum(np.tanh(rows))


def padded(x):
    """An int first element and floats after it: a float array, as NumPy makes."""
    return np.sum(np.array([0 if i == 0 else x[i] for i in range(len(x))]) ** 2)


def paired(x, w):
    """zip stops at the shortest; enumerate's index is an int, its values floats."""
    weighted = np.stack([row * c for row, c in zip(x, w)])
    return np.sum(weighted**2) + np.sum(np.array([i * v**2 for i, v in enumerate(w)]))


def loss(x, w):
    return np.sum(scaled_rows(x, w) ** 2) + mapped(w) + strided(x, w)


CASES = [
    (mapped, (V,)),
    (neighbours, (V, 5)),
    (padded, (V,)),
    (loss, (X, W)),
    (paired, (X, V)),
]


@pytest.mark.parametrize("fun, args", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_grad_and_jvp_against_finite_differences(fun, args):
    expected = fd.numerical_grad(fun, args, 0)
    value, grad = s2sjax.value_and_grad(fun, target="python")(*args)
    assert value == pytest.approx(fun(*args), rel=1e-14)
    np.testing.assert_allclose(grad, expected, rtol=1e-8, atol=1e-10)
    tangent = np.ones_like(args[0])
    _, along = s2sjax.jvp(
        fun, args, (tangent, *[0.0 * np.ones_like(a) for a in args[1:]]), target="python"
    )
    assert along == pytest.approx(np.sum(expected * tangent), rel=1e-8, abs=1e-10)


def test_jacobians_and_hessian_against_finite_differences():
    columns = [
        fd.numerical_grad(lambda w: scaled_rows(X, w)[i, j], (W,), 0)
        for i in range(len(X))
        for j in range(len(W))
    ]
    expected = np.array(columns).reshape(len(X), len(W), len(W))
    for jacobian in (s2sjax.jacfwd, s2sjax.jacrev):
        got = jacobian(scaled_rows, argnums=1, target="python")(X, W)
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    first = s2sjax.grad(mapped, target="python")
    rows = [fd.numerical_grad(lambda v: first(v)[i], (V,), 0) for i in range(len(V))]
    got = s2sjax.hessian(mapped, target="python")(V)
    np.testing.assert_allclose(got, np.array(rows), rtol=1e-6, atol=1e-8)
    out, pullback = s2sjax.vjp(scaled_rows, X, W, target="python")
    np.testing.assert_array_equal(out, X * W)
    np.testing.assert_allclose(pullback(np.ones_like(out))[1], X.sum(axis=0), rtol=1e-14)


@pytest.mark.parametrize(
    "target", ["python", "cpu", pytest.param("parallel", marks=pytest.mark.sweep)]
)
def test_compiled_gradient_and_vmap_against_finite_differences_and_a_loop(target):
    grad = s2sjax.grad(mapped, target=target)(V)
    np.testing.assert_allclose(grad, fd.numerical_grad(mapped, (V,), 0), rtol=1e-8, atol=1e-10)
    batch = RNG.uniform(-1.0, 1.0, (3, 5))
    got = s2sjax.vmap(mapped, target=target)(batch)
    np.testing.assert_allclose(got, looped_vmap.vmap(mapped)(batch), rtol=1e-14)


def weighted_copies(weights, x):
    return np.sum(np.stack([p * x for p in weights]) ** 2)


def test_over_a_list_argument_its_elements_one_by_one():
    weights = [0.5, -1.0, 2.0]
    grads = s2sjax.grad(weighted_copies, argnums=(0, 1), target="python")(weights, V)
    assert type(grads[0]) is list
    expected = [2 * p * np.sum(V**2) for p in weights]
    np.testing.assert_allclose(grads[0], expected, rtol=1e-14)
    numerical = fd.numerical_grad(weighted_copies, (weights, V), 1)
    np.testing.assert_allclose(grads[1], numerical, rtol=1e-8, atol=1e-10)


def filtered(x):
    return np.sum(np.array([x[i] for i in range(len(x)) if x[i] > 0]))


def counted_from_one(x):
    return np.sum(np.array([i * v for i, v in enumerate(x, 1)]))


@pytest.mark.parametrize("fun", [filtered, counted_from_one], ids=lambda f: f.__name__)
def test_a_filtered_or_offset_comprehension_is_refused_where_it_is_written(fun):
    with pytest.raises(TransformError, match="list comprehension") as caught:
        s2sjax.grad(fun, target="python")(V)
    assert caught.value.lineno == fun.__code__.co_firstlineno + 1


def test_a_cuda_kernel_refuses_the_new_array_at_the_comprehension():
    with pytest.raises(TransformError, match="this array expression allocates an array") as caught:
        s2sjax.vmap(mapped, target="cuda")(np.ones((2, 3)))
    assert caught.value.lineno == mapped.__code__.co_firstlineno + 1
