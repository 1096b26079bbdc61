"""A `return` or `break` in a loop inside another loop that may exit too: each loop keeps its
own exit flag and counter (the inner loop once took the outer loop's, an internal KeyError)."""

import numpy as np
import pytest

import s2sjax

from .fd import check_grad
from .util import define

RETURN_FROM_INNER = define("""
def f(x):
    s = 1.0
    for i in range(3):
        for j in range(3):
            s = s * (1.0 + x[j] * 0.1)
            if s > 1.05:
                return s * x[i]
    return s
""")

BREAK_FROM_BOTH = define("""
def f(x):
    s = 0.0
    for i in range(3):
        for j in range(3):
            if x[j] * i > 0.5:
                break
            s += x[i] * x[j]
        if s > 0.3:
            break
    return s
""")

RETURN_FROM_A_FOR_IN_A_WHILE = define("""
def f(x):
    s = 0.1
    k = 0
    while k < 5:
        for j in range(3):
            s = s + x[j] ** 2
            if s > 2.0:
                return s * x[0]
        k += 1
    return s
""")

FUNCTIONS = {
    "return from the inner loop": RETURN_FROM_INNER,
    "break from both loops": BREAK_FROM_BOTH,
    "return from a for in a while": RETURN_FROM_A_FOR_IN_A_WHILE,
}
# Points where each loop exits at a different step.
POINTS = [np.array([0.3, -0.7, 0.9]), np.array([0.57, -1.33, 1.71])]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("point", range(len(POINTS)))
def test_grad_and_jvp_match_finite_differences(name, point):
    fun, x = FUNCTIONS[name], POINTS[point]
    value, g = s2sjax.value_and_grad(fun, target="python")(x)
    assert value == pytest.approx(fun(x.copy()), rel=1e-12)
    check_grad(fun, (x,), (0,), (g,), rtol=1e-6, atol=1e-9, name=name)
    v = np.array([0.2, -0.4, 0.3])
    _, tangent = s2sjax.jvp(fun, (x,), (v,), target="python")
    assert tangent == pytest.approx(float(np.dot(g, v)), rel=1e-9, abs=1e-12)


def test_vmap_on_cpu_takes_each_example_out_at_its_own_step():
    xs = np.stack(POINTS)
    got = s2sjax.vmap(s2sjax.grad(BREAK_FROM_BOTH), target="cpu")(xs)
    expected = np.stack([s2sjax.grad(BREAK_FROM_BOTH, target="python")(x) for x in xs])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
