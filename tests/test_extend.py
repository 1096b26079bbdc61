"""Custom derivative rules (s2sjax.extend.defvjp / defjvp), checked against finite differences."""

import numba
import numpy as np
import pytest

import s2sjax
from s2sjax import TransformError
from s2sjax.extend import defjvp, defvjp

from .conftest import seeded_rng
from .fd import numerical_grad
from .util import define

TARGETS = ["python", "cpu"]
RNG = seeded_rng("extend")

LOGSUMEXP = define(
    """
def logsumexp(x):
    top = np.max(x)
    return top + np.log(np.sum(np.exp(x - top)))


def loss(x, w):
    return logsumexp(x * w) * 2.0
""",
    "loss",
)
logsumexp = LOGSUMEXP.__globals__["logsumexp"]
defvjp(logsumexp, lambda g, out, x: g * np.exp(x - out))
defjvp(logsumexp, lambda d, out, x: np.sum(d * np.exp(x - out)))


@pytest.mark.parametrize("target", TARGETS)
def test_a_custom_vjp_is_used_and_stays_finite_where_the_inputs_are_huge(target):
    x, w = np.array([1000.0, 1001.0, 999.0]), np.ones(3)
    got = s2sjax.grad(LOGSUMEXP, target=target)(x, w)
    softmax = np.exp(x - x.max()) / np.sum(np.exp(x - x.max()))
    np.testing.assert_allclose(got, 2 * softmax, rtol=1e-13)
    x, w = RNG.normal(size=4), RNG.normal(size=4)
    np.testing.assert_allclose(
        s2sjax.grad(LOGSUMEXP, argnums=1, target=target)(x, w),
        numerical_grad(LOGSUMEXP, (x, w), 1),
        rtol=1e-9,
    )


@pytest.mark.parametrize("target", TARGETS)
def test_a_custom_jvp_agrees_with_the_vjp_by_the_dot_product_test(target):
    x, w, v = RNG.normal(size=4), RNG.normal(size=4), RNG.normal(size=4)
    out, tangent = s2sjax.jvp(LOGSUMEXP, (x, w), (v, np.zeros(4)), target=target)
    np.testing.assert_allclose(out, LOGSUMEXP(x, w), rtol=1e-14)
    np.testing.assert_allclose(tangent, np.dot(numerical_grad(LOGSUMEXP, (x, w), 0), v), rtol=1e-9)
    np.testing.assert_allclose(
        tangent, np.dot(s2sjax.grad(LOGSUMEXP, target=target)(x, w), v), rtol=1e-12
    )


def test_the_function_itself_can_be_differentiated_and_batched():
    x = RNG.normal(size=(3, 4))
    np.testing.assert_allclose(
        s2sjax.grad(logsumexp, target="python")(x[0]),
        numerical_grad(logsumexp, (x[0],), 0),
        rtol=1e-9,
    )
    batched = s2sjax.vmap(s2sjax.grad(logsumexp))(x)
    np.testing.assert_allclose(
        batched, [numerical_grad(logsumexp, (row,), 0) for row in x], rtol=1e-9
    )


@numba.njit
def cube_sum(x):
    return sum([v**3 for v in x])  # a comprehension: outside what s2sjax reads, fine for Numba


defvjp(cube_sum, lambda g, out, x: g * 3.0 * x**2, output_ndim=0)


@pytest.mark.parametrize("target", TARGETS)
def test_a_numba_function_s2sjax_cannot_read_gets_its_derivative_from_the_rule(target):
    fun = define("""
    def scaled(x):
        return 2.0 * cube_sum(x) + np.sum(x)
    """)
    fun.__globals__["cube_sum"] = cube_sum
    x = RNG.normal(size=5)
    np.testing.assert_allclose(
        s2sjax.grad(fun, target=target)(x), numerical_grad(fun, (x,), 0), rtol=1e-9
    )
    with pytest.raises(TransformError, match="has no forward-mode rule for 'x'"):
        s2sjax.jvp(fun, (x,), (x,), target=target)


def test_a_changed_rule_is_used_and_its_code_regenerated():
    square = define("""
    def square(x):
        return x * x
    """)
    defvjp(square, lambda g, out, x: g * 2.0 * x)
    first = s2sjax.grad(square, target="python")
    assert first(3.0) == 6.0
    defvjp(
        square, lambda g, out, x: g * 0.0 + 1.0
    )  # deliberately not the derivative: the rule wins
    second = s2sjax.grad(square, target="python")
    assert second(3.0) == 1.0
    assert s2sjax.source(first) != s2sjax.source(second)


def test_a_function_s2sjax_cannot_read_needs_its_output_rank():
    @numba.njit
    def unread(x):
        return sum([v for v in x])

    defvjp(unread, lambda g, out, x: g + 0.0 * x)
    fun = define("""
    def calls(x):
        return unread(x)
    """)
    fun.__globals__["unread"] = unread
    with pytest.raises(
        TransformError, match=r"cannot read unread to find the rank of its result .* output_ndim="
    ):
        s2sjax.grad(fun, target="python")(np.ones(2))


def test_bad_rules_are_refused():
    with pytest.raises(TypeError, match="has 1 arguments, but 2 rules were given"):
        defvjp(cube_sum.py_func, lambda g, out, x: g, lambda g, out, x: g)
    with pytest.raises(TypeError, match="is a float, not a function"):
        defvjp(cube_sum.py_func, 1.0)
    with pytest.raises(TypeError, match="takes a Python function"):
        defvjp(np.sin, lambda g, out, x: g)


def test_the_derivative_of_a_rule_is_an_error_not_a_number():
    with pytest.raises(
        TransformError, match="it is a custom rule .s2sjax.extend., whose own derivative"
    ):
        s2sjax.grad(s2sjax.grad(LOGSUMEXP, argnums=0), argnums=1, target="python")(1.0, 2.0)


def test_code_calling_a_custom_rule_is_not_exported_nor_cached_on_disk():
    from s2sjax import export

    grad_loss = s2sjax.grad(LOGSUMEXP)
    grad_loss(np.ones(3), np.ones(3))
    entry = grad_loss.specialization_for(np.ones(3), np.ones(3))
    assert (
        type(entry.call._cache).__name__ == "NullCache"
    )  # Numba's dispatcher, without a disk cache
    plain = s2sjax.grad(lambda x: np.sum(x * x))
    plain(np.ones(2))
    assert type(plain.specialization_for(np.ones(2)).call._cache).__name__ == "FunctionCache"
    with pytest.raises(TypeError, match="calls functions with custom rules"):
        export.module_source(grad_loss, (np.ones(3), np.ones(3)))
