"""`vmap(lambda ...)(...)` written inside a transformed function: the lambda is lifted out.

Checked against explicit Python loops and, under grad, finite differences.
"""

import numpy as np
import pytest

import s2sjax
from s2sjax import TransformError

from .conftest import seeded_rng
from .fd import numerical_grad
from .util import define

TARGETS = ["python", "cpu"]
RNG = seeded_rng("lifted lambdas")

PAIRWISE = define(
    """
import s2sjax


def l1(x, y):
    return np.sum(np.abs(x - y))


def pairwise(xs, xs2):
    return s2sjax.vmap(lambda x: s2sjax.vmap(lambda y: l1(x, y))(xs))(xs2)
""",
    "pairwise",
)


@pytest.mark.parametrize("target", TARGETS)
def test_the_seeds_nested_lambdas_match_a_loop(target):
    xs, xs2 = RNG.normal(size=(4, 3)), RNG.normal(size=(5, 3))
    got = s2sjax.jit(PAIRWISE, target=target)(xs, xs2)
    np.testing.assert_allclose(got, [[np.sum(np.abs(a - b)) for b in xs] for a in xs2], rtol=1e-14)


SCALED = define(
    """
import s2sjax


def scaled_rows(w, rows, shift):
    scale = np.sum(w * w)
    per_row = s2sjax.vmap(lambda r, s: scale * np.sum(r * w) + s * shift, in_axes=(1, 0))(
        rows, np.arange(3.0)
    )
    return np.sum(per_row ** 2)
""",
    "scaled_rows",
)


def scaled_rows_loop(w, rows, shift):
    scale = np.sum(w * w)
    return sum((scale * np.sum(rows[:, k] * w) + k * shift) ** 2 for k in range(3))


@pytest.mark.parametrize("target", TARGETS)
def test_a_lifted_lambda_reads_the_callers_variables_under_grad(target):
    w, rows, shift = RNG.normal(size=2), RNG.normal(size=(2, 3)), 0.3
    np.testing.assert_allclose(
        s2sjax.jit(SCALED, target=target)(w, rows, shift),
        scaled_rows_loop(w, rows, shift),
        rtol=1e-13,
    )
    got = s2sjax.grad(SCALED, argnums=(0, 1), target=target)(w, rows, shift)
    np.testing.assert_allclose(
        got[0], numerical_grad(scaled_rows_loop, (w, rows, shift), 0), rtol=1e-8
    )
    np.testing.assert_allclose(
        got[1], numerical_grad(scaled_rows_loop, (w, rows, shift), 1), rtol=1e-8
    )


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "axes = 0\n    return np.sum(s2sjax.vmap(lambda r: r * 2.0, in_axes=axes)(x))",
            "must be written as constants",
        ),
        ("return np.sum(s2sjax.vmap(lambda r, k=2.0: r * k)(x))", "plain positional parameters"),
        # an error in a lambda lifted out of a lifted lambda: the user's line, not the lifted one
        (
            "return np.sum(s2sjax.vmap(lambda r: s2sjax.vmap(lambda c: {1: 2}[r] * c)(x))(x))",
            "a key known only at run time",
        ),
    ],
)
def test_vmapped_lambdas_that_cannot_be_lifted_are_located(body, message):
    fun = define(f"import s2sjax\n\n\ndef bad(x):\n    {body}\n", "bad")
    with pytest.raises(TransformError, match=message) as info:
        s2sjax.grad(fun, target="python")(np.ones(3))
    assert info.value.filename == fun.__code__.co_filename
    assert info.value.lineno == fun.__code__.co_firstlineno + 1 + body.count("\n")


KERNEL_LSQ = define(
    """
import s2sjax


def rbf(x, y):
    return np.exp(-0.5 * np.sum((x - y) ** 2))


def gram(kernel, xs):
    return s2sjax.vmap(lambda x: s2sjax.vmap(lambda y: kernel(x, y))(xs))(xs)


def kernel_lsq(v, xs, ys):
    return 0.5 * np.sum((gram(rbf, xs) @ v - ys) ** 2)
""",
    "kernel_lsq",
)


def kernel_lsq_loop(v, xs, ys):
    rbf = KERNEL_LSQ.__globals__["rbf"]
    gram = np.array([[rbf(a, b) for b in xs] for a in xs])
    return 0.5 * np.sum((gram @ v - ys) ** 2)


@pytest.mark.parametrize("target", TARGETS)
def test_a_function_given_to_a_helper_is_called_in_the_lambdas_it_vmaps(target):
    """JAX's kernel least squares: `gram(kernel, xs)` vmaps lambdas calling its parameter."""
    v, xs, ys = RNG.normal(size=4), RNG.normal(size=(4, 3)), RNG.normal(size=4)
    got = s2sjax.grad(KERNEL_LSQ, argnums=(0, 1), target=target)(v, xs, ys)
    for k in (0, 1):
        np.testing.assert_allclose(
            got[k], numerical_grad(kernel_lsq_loop, (v, xs, ys), k), rtol=1e-7, atol=1e-10
        )


def test_a_function_given_to_a_helper_under_the_other_transformations():
    v, xs, ys = RNG.normal(size=4), RNG.normal(size=(4, 3)), RNG.normal(size=4)
    grad_v = numerical_grad(kernel_lsq_loop, (v, xs, ys), 0)
    np.testing.assert_allclose(
        s2sjax.jit(KERNEL_LSQ, target="python")(v, xs, ys), kernel_lsq_loop(v, xs, ys)
    )
    tangent = s2sjax.jvp(KERNEL_LSQ, (v, xs, ys), (v, 0 * xs, 0 * ys), target="python")[1]
    np.testing.assert_allclose(tangent, grad_v @ v, rtol=1e-7)
    np.testing.assert_allclose(
        s2sjax.jacrev(KERNEL_LSQ, target="python")(v, xs, ys), grad_v, rtol=1e-7
    )
    vs = np.stack([v, 2.0 * v])
    batched = s2sjax.vmap(s2sjax.grad(KERNEL_LSQ), in_axes=(0, None, None), target="python")
    np.testing.assert_allclose(
        batched(vs, xs, ys),
        [numerical_grad(kernel_lsq_loop, (w, xs, ys), 0) for w in vs],
        rtol=1e-7,
    )
