"""Forward mode (jvp) and its agreement with reverse mode (vjp) on every catalogue function.

Oracles: finite differences in float64 for jvp (the gradient's, along the direction); the
dot-product test <jvp(v), w> = <v, vjp(w)> between the two independent modes. Each
(case, target) is transformed once per process (the `Transformed` objects
that s2sjax.jvp/vjp share per function keep the compiled code).
"""

import numpy as np
import pytest

import s2sjax
from tests import fd
from tests.catalogue import CASES as STRAIGHT
from tests.catalogue_loops import CASES as LOOPS

CASES = STRAIGHT + LOOPS
pytestmark = pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")

# Directional derivatives, compared with finite differences: (rtol, atol).
FD_TOLERANCE = {"float64": (1e-7, 1e-8), "float32": (1e-3, 1e-4)}
DOT_TOLERANCE = {"float64": 1e-10, "float32": 1e-4}


def _inputs(case):
    seed = sum(map(ord, case.name))  # not hash(): it changes between processes
    args = case.make_args(np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    argnums = case.argnums_tuple
    directions = [_random_like(args[i], rng) for i in argnums]
    return args, argnums, directions, rng


def _random_like(arg, rng):
    if isinstance(arg, np.ndarray):
        return rng.uniform(-1.0, 1.0, arg.shape).astype(arg.dtype)
    return float(rng.uniform(-1.0, 1.0))


def _tangents(args, argnums, directions):
    """One tangent per argument: the direction for a differentiated one, zero otherwise."""
    by_arg = dict(zip(argnums, directions))
    return tuple(
        by_arg.get(i, np.zeros_like(a, dtype=float) if isinstance(a, np.ndarray) else 0.0)
        for i, a in enumerate(args)
    )


@pytest.mark.parametrize("target", ["cpu", "python"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_jvp_against_finite_differences(case, target):
    args, argnums, directions, _ = _inputs(case)
    out, out_dot = s2sjax.jvp(case.fun, args, _tangents(args, argnums, directions), target=target)
    expected_out = case.fun(*args)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12 if case.dtype == "float64" else 1e-5)
    # per-element steps (fd.numerical_grad): arguments of very different scales share no good step
    expected = sum(
        float(np.sum(fd.numerical_grad(case.fun, args, i) * v)) for i, v in zip(argnums, directions)
    )
    rtol, atol = FD_TOLERANCE[case.dtype]
    if case.rtol is not None:
        rtol, atol = max(rtol, case.rtol), max(atol, case.atol or 0.0)
    np.testing.assert_allclose(
        out_dot, expected, rtol=rtol, atol=atol, err_msg=f"{case.name} [{target}]"
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_dot_product_of_jvp_and_vjp(case):
    """<jvp(v), w> = <v, vjp(w)>: forward (compiled) against reverse (python target)."""
    args, argnums, directions, rng = _inputs(case)
    _, out_dot = s2sjax.jvp(case.fun, args, _tangents(args, argnums, directions))
    out, pullback = s2sjax.vjp(case.fun, *args, target="python")
    w = float(rng.uniform(0.5, 1.5))
    cotangents = pullback(w)
    assert len(cotangents) == len(args)
    left = float(out_dot) * w
    right = sum(
        float(np.sum(np.asarray(v, dtype=float) * np.asarray(cotangents[i], dtype=float)))
        for i, v in zip(argnums, directions)
    )
    scale = max(abs(left), abs(right), 1e-300)
    assert abs(left - right) <= DOT_TOLERANCE[case.dtype] * scale, (
        f"{case.name}: <jvp(v), w> = {left!r}, <v, vjp(w)> = {right!r}"
    )
