"""`s2sjax.vjp(f, x)[1](ct)`, the pullback called where it is made inside a transformed function
(frontend/pullbacks.py): under vmap, against an explicit loop of s2sjax.vjp (itself checked by
the sweep's vjp rows); under grad, against finite differences; and the forms refused.
"""

import numpy as np
import pytest

import s2sjax
from tests import fd
from tests.util import define


def scaled_sine(x):
    return np.sin(x) * x[0]


def pull(x, ct):
    return s2sjax.vjp(scaled_sine, x)[1](ct)


def two_outputs(w, params, n):
    b, c = params["b"], params["c"]
    return np.tanh(w * b) * n, np.sum(w * c)


def pull_two(w, params, n, ct, cs):
    return s2sjax.vjp(two_outputs, w, params, n)[1]((ct, cs))


def pulled_norm(x, ct):
    return np.sum(s2sjax.vjp(scaled_sine, x)[1](ct)[0] ** 2) + s2sjax.vjp(scaled_sine, x)[0][1]


RNG = np.random.default_rng(7)
X, CT = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_vmap_of_a_pullback_matches_a_loop_of_vjp(target):
    batched = s2sjax.vmap(pull, target=target)(X, CT)
    for k in range(3):
        expected = s2sjax.vjp(scaled_sine, X[k], target="python")[1](CT[k])
        np.testing.assert_allclose(batched[0][k], expected[0], rtol=1e-12)


def test_a_pullback_keeps_the_primals_structures_and_gives_zeros_for_integers():
    params = {"b": X[:, 0], "c": X[:, 1:]}
    batched = s2sjax.vmap(pull_two, in_axes=(0, 0, None, 0, None), target="python")(
        X[:, 0], params, 2, CT[:, 0], 0.5
    )
    for k in range(3):
        one = {"b": params["b"][k], "c": params["c"][k]}
        expected = s2sjax.vjp(two_outputs, X[k, 0], one, 2, target="python")[1]((CT[k, 0], 0.5))
        assert batched[0][k] == pytest.approx(expected[0], rel=1e-12)
        assert list(batched[1]) == ["b", "c"]
        for key in ("b", "c"):
            np.testing.assert_allclose(batched[1][key][k], expected[1][key], rtol=1e-12)
        assert np.all(np.asarray(batched[2]) == 0.0)


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_grad_of_a_function_calling_a_pullback_matches_finite_differences(target):
    """The outer derivative of the inlined gradient, taken in forward mode."""
    got = s2sjax.grad(pulled_norm, target=target)(X[0], CT[0])
    fd.check_grad(pulled_norm, (X[0], CT[0]), (0,), (got,), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(
    "body,message",
    [
        ("y, back = s2sjax.vjp(g, x)\n    return back(x)", "must be indexed where it is written"),
        ("return s2sjax.vjp(g, x, has_aux=True)[1](x)", "without has_aux"),
    ],
)
def test_other_uses_of_vjp_inside_are_refused_with_what_to_write(body, message):
    f = define(
        f"import s2sjax\nimport numpy as np\ndef g(x):\n    return x * 2.0\n"
        f"def f(x):\n    {body}\n",
        name="f",
    )
    with pytest.raises(s2sjax.TransformError, match=message) as info:
        s2sjax.vmap(f, target="python")(np.ones((2, 2)))
    assert "s2sjax.vjp(g, x, y)[1](ct)" in str(info.value)


def scaled_by_class(a, b):
    return np.sum(a) * (2.0 if isinstance(b, (float, np.floating)) else 1.0)


def pull_by_class(a, b, ct):
    return s2sjax.vjp(scaled_by_class, a, b)[1](ct)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_pullback_with_a_zero_cotangent_for_a_number_matches_a_loop(dtype):
    """b's cotangent is zero: a number per example, with no slot to build it in (it was built
    as an array view on cpu: "'numpy.float64' object does not support item assignment")."""
    a, b, ct = X.astype(dtype), X[:, 0].astype(dtype), CT[:, 0].astype(dtype)
    da, db = s2sjax.vmap(pull_by_class, target="cpu")(a, b, ct)
    for k in range(3):
        loop_da, loop_db = s2sjax.vjp(scaled_by_class, a[k], b[k], target="python")[1](ct[k])
        np.testing.assert_allclose(da[k], loop_da, rtol=1e-6)
        assert db[k] == loop_db == 0.0


def test_isinstance_float_of_a_float_the_pullback_sees_is_refused_at_the_users_line():
    """Inside, the float's width is not known, and np.float32 is not a `float`: not decided."""
    f = define(
        "import s2sjax\nimport numpy as np\ndef g(a, b):\n"
        "    return np.sum(a) * (2.0 if isinstance(b, float) else 1.0)\n"
        "def f(a, b, ct):\n    return s2sjax.vjp(g, a, b)[1](ct)\n",
        name="f",
    )
    with pytest.raises(s2sjax.TransformError, match="depends on the float's width") as info:
        s2sjax.vmap(f, target="python")(X, X[:, 0], CT[:, 0])
    assert "isinstance(b, float)" in str(info.value)
