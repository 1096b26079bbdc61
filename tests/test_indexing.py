"""Indexing by arrays where the rule rows of tests/test_rules.py do not reach: what vmap refuses,
and NumPy's semantics of an update at a repeated index, against NumPy and finite differences."""

import numpy as np
import pytest

import s2sjax
from tests import fd
from tests.util import define

SELECTED = define("def f(x):\n    y = x[x > 0.0]\n    return np.sin(y)\n")


def test_vmap_refuses_an_output_shaped_by_a_mask():
    """Each example may select another number of elements: no array holds them all (nor in JAX)."""
    xs = np.array([[1.0, -1.0, 2.0], [1.0, 2.0, 3.0]])
    with pytest.raises(s2sjax.TransformError, match=r"shape set by a boolean mask") as raised:
        s2sjax.vmap(SELECTED, target="python")(xs)
    assert ":4:" in str(raised.value)  # the selecting line, after the module's two setup lines


def test_vmap_of_a_reduced_selection_matches_a_loop():
    total = define("def f(x):\n    return np.sum(np.sin(x[x > 0.0]))\n")
    xs = np.array([[1.0, -1.0, 2.0], [1.0, 2.0, 3.0], [-1.0, -2.0, 0.5]])
    batched = s2sjax.vmap(s2sjax.grad(total), target="python")(xs)
    assert np.allclose(batched, np.stack([s2sjax.grad(total, target="python")(x) for x in xs]))


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_update_at_a_repeated_index_adds_once(target):
    """`y[idx] += v` with an index twice adds one of the values (the last), as NumPy does."""
    source = (
        "def f(x, v):\n"
        "    y = np.copy(x)\n"
        "    y[np.array([0, 2, 0])] += v\n"
        "    return np.sum(y * y)\n"
    )
    f = define(source)
    x, v = np.array([0.5, -1.0, 2.0]), np.array([1.0, 3.0, -0.5])
    assert s2sjax.jit(f, target=target)(x, v) == pytest.approx(f(x, v))
    grads = s2sjax.grad(f, argnums=(0, 1), target=target)(x, v)
    assert grads[1][0] == 0.0  # overwritten by the third value
    fd.check_grad(f, (x, v), (0, 1), grads, rtol=1e-7, atol=1e-9, name=f"y[idx] += v [{target}]")
