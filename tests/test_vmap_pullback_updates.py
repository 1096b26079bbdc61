"""In-place updates in code s2sjax inlines: a pullback called inside a vmapped function (its
gradient code stores into adjoints and restores tapes in place), and arrays the user's code
makes by arithmetic and then updates. vmap against an explicit loop of s2sjax.vjp, derivatives
against finite differences."""

import numpy as np
import pytest

import s2sjax
from tests import fd


def rows(x):
    """Stores by element and by slice into arrays made here, in a loop: tapes restored in place."""
    y = np.zeros((2, 3))
    for i in range(2):
        row = np.zeros(3)
        row[0] = x[i] ** 2
        row[1:] = x[i] * x[:2]
        y[i] = row
    return np.sum(y * y) if np.allclose(x, 0.0, 0.0, 10.0) else np.sum(x)


def pull(x, ct):
    return s2sjax.vjp(rows, x)[1](ct)[0]


def pulled_norm(x):
    return np.sum(pull(x, 1.5) ** 2)


def made_by_arithmetic(a):
    b = a * 2.0
    b[0] = a[1] ** 2
    c = -b
    c[1:] = c[1:] * a[0]
    return np.sum(c * b)


VMAPPED = {t: s2sjax.vmap(pull, in_axes=(0, None), target=t) for t in ("python", "cpu")}
X = np.array([[0.3, -0.7, 1.1], [1.2, 0.4, -0.5], [-0.9, 0.8, 0.6]])


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_vmap_of_a_pullback_updating_adjoints_in_place_matches_a_loop(target):
    batched = VMAPPED[target](X, 1.5)
    for k in range(len(X)):
        expected = s2sjax.vjp(rows, X[k], target="python")[1](1.5)[0]
        np.testing.assert_allclose(batched[k], expected, rtol=1e-12)


@pytest.mark.parametrize("fun", [pulled_norm, made_by_arithmetic])
def test_reverse_and_forward_mode_through_in_place_updates_match_finite_differences(fun):
    x = X[0]
    expected = fd.numerical_grad(fun, (x,), 0)
    np.testing.assert_allclose(s2sjax.grad(fun, target="python")(x), expected, rtol=1e-7)
    tangent = np.array([0.5, -1.0, 2.0])
    _, pushed = s2sjax.jvp(fun, (x,), (tangent,), target="python")
    assert pushed == pytest.approx(expected @ tangent, rel=1e-7)


def test_an_update_of_a_view_of_an_argument_is_still_refused_at_the_users_line():
    def f(a):
        b = a[1:]
        b[0] = 2.0
        return np.sum(b)

    with pytest.raises(s2sjax.TransformError, match="did not create") as info:
        s2sjax.grad(f, target="python")(X[0])
    assert "b[0] = 2.0" in str(info.value)
