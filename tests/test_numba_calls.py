"""Transformed functions called from the user's own `@numba.njit` code (s2sjax/numba_calls.py),
checked against the same code run from Python."""

import importlib.util
import re
from pathlib import Path

import numba
import numpy as np
import pytest

import s2sjax

from .fd import numerical_grad
from .util import define

POTENTIAL = define(
    """
def potential(x):
    return 0.5 * np.sum(x ** 2) + np.sum(np.cos(x))
"""
)
X = np.linspace(-1.0, 1.0, 5)


def leapfrog(gradient):
    """A loop calling `gradient`: the same code run from Python and, jitted, by Numba."""

    def steps(x, v, dt):
        for _ in range(50):
            v = v - dt * gradient(x)
            x = x + dt * v
        return x, v

    return steps


@pytest.mark.parametrize("target", ["cpu", "parallel"])
def test_a_gradient_called_in_a_loop_of_njit_code_matches_the_loop_in_python(target):
    d_potential = s2sjax.grad(POTENTIAL, target=target)
    got = numba.njit(leapfrog(d_potential))(X, np.zeros(5), 0.01)
    want = leapfrog(d_potential)(X, np.zeros(5), 0.01)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-13)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-13)


def test_value_and_grad_vmap_and_a_jvp_in_jitted_code_are_callable_from_njit():
    value_and_grad = s2sjax.value_and_grad(POTENTIAL)
    batched = s2sjax.vmap(s2sjax.grad(POTENTIAL))
    pushforward = s2sjax.jit(lambda x, t: s2sjax.jvp(POTENTIAL, (x,), (t,)))

    @numba.njit
    def calls(x, xs, t):
        value, g = value_and_grad(x)
        return value, g, batched(xs), pushforward(x, t)

    xs = np.stack([X, 2.0 * X])
    value, g, per_row, (primal, tangent) = calls(X, xs, np.ones(5))
    want_value, want_g = value_and_grad(X)
    assert value == want_value and primal == want_value
    np.testing.assert_array_equal(g, want_g)
    np.testing.assert_array_equal(per_row, [s2sjax.grad(POTENTIAL)(row) for row in xs])
    assert tangent == pytest.approx(np.sum(want_g), rel=1e-13)


@pytest.mark.parametrize(
    "make, argument, says",
    [
        (lambda: s2sjax.grad(POTENTIAL, target="python"), X, "not compiled (target python)"),
        (lambda: s2sjax.grad(POTENTIAL), X.astype(np.float32), "float32"),
    ],
)
def test_code_that_cannot_be_called_directly_is_refused_where_numba_types_the_call(
    make, argument, says
):
    transformed = make()

    @numba.njit
    def caller(x):
        return transformed(x)

    with pytest.raises(numba.core.errors.TypingError, match=re.escape(says)):
        caller(argument)


def test_the_example_script_runs_its_loop_in_numba_as_in_python(capsys):
    path = Path(__file__).resolve().parent.parent / "examples" / "numba_caller.py"
    spec = importlib.util.spec_from_file_location("example_numba_caller", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main()  # asserts that the loop gives the same numbers from Numba and from Python
    assert "steps:" in capsys.readouterr().out
    x = np.arange(6.0) * 1.1 + 0.1 * np.sin(np.arange(6.0))
    np.testing.assert_allclose(
        example.d_potential(x), numerical_grad(example.potential, (x,), 0), rtol=1e-7, atol=1e-9
    )
