"""``grad`` and ``value_and_grad`` on every catalogue function, both targets.

Oracle: central finite differences in float64 (tests/fd.py, fourth order).

Compiling is the slow part, so each (case, target) is transformed once: the
first test that needs ``grad(case.fun, argnums=<all differentiable>)`` (or
``value_and_grad``) computes it and the result is shared by the other checks
(a per-process memo; a failure is memoized too and re-raised).  The
arguments come from a generator seeded by the case name, so both targets,
and every test, see the same numbers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pytest

import s2sjax
from tests import fd
from tests.catalogue import CASES, Case

TARGETS = ("cpu", "python")

# On the cpu target, code Numba cannot compile is a failure here, not a fallback.
pytestmark = pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")

# Gradient vs finite differences: (rtol, atol).  Ten times tighter than the
# usual 1e-6/1e-8 because the oracle allows it: on every case, the fourth-order
# stencil at h = 1e-4 and at h = 2.5e-5 agree to within 1e-2 of this tolerance
# (worst ~1e-9 relative).  float32 gradients carry float32 round-off and are
# compared with the float64 derivative; hand-written float32 adjoints of the
# float32 cases stay within ~1e-3 of that tolerance.
FD_TOLERANCE = {"float64": (1e-7, 1e-9), "float32": (1e-4, 1e-5)}

# Two computations of the same quantity (cpu vs python target, value_and_grad
# vs grad, the value vs calling the function): relative to the largest
# magnitude involved.  They may legitimately differ in summation order
# (Numba sums sequentially, NumPy pairwise) and in libm, hence not 0.
SAME_TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def _params():
    return [
        pytest.param(case, target, id=f"{case.name}-{target}")
        for case in CASES
        for target in TARGETS
    ]


# ---------------------------------------------------------------------------
# One transformation per (case, target), shared by the tests.


@dataclass(frozen=True)
class GradRun:
    args: tuple  # as passed to the transformed function (checked for mutation)
    original: tuple  # deep copy taken before the call
    grads: tuple


@dataclass(frozen=True)
class ValueAndGradRun:
    args: tuple
    original: tuple
    value: object
    grads: tuple


_MEMO: dict[tuple[str, str, str], object] = {}


def _memo(key, compute):
    if key not in _MEMO:
        try:
            _MEMO[key] = compute()
        except Exception as exc:  # remembered, so a broken case compiles once
            _MEMO[key] = exc
    result = _MEMO[key]
    if isinstance(result, Exception):
        raise result
    return result


def _fresh_args(case: Case, rng_factory):
    args = case.make_args(rng_factory(case.name))
    return args, copy.deepcopy(args)


def grad_run(case: Case, target: str, rng_factory) -> GradRun:
    def compute():
        args, original = _fresh_args(case, rng_factory)
        grads = s2sjax.grad(case.fun, argnums=case.argnums_tuple, target=target)(*args)
        return GradRun(args, original, grads)

    return _memo(("grad", case.name, target), compute)


def value_and_grad_run(case: Case, target: str, rng_factory) -> ValueAndGradRun:
    def compute():
        args, original = _fresh_args(case, rng_factory)
        value, grads = s2sjax.value_and_grad(case.fun, argnums=case.argnums_tuple, target=target)(
            *args
        )
        return ValueAndGradRun(args, original, value, grads)

    return _memo(("value_and_grad", case.name, target), compute)


# ---------------------------------------------------------------------------
# Helpers.


def _assert_grad_tuple(grads, case: Case, what: str):
    argnums = case.argnums_tuple
    assert isinstance(grads, tuple), (
        f"{case.name}: {what} with argnums={argnums} returned {type(grads).__name__}, not tuple"
    )
    assert len(grads) == len(argnums), (
        f"{case.name}: {what} returned {len(grads)} gradients for argnums={argnums}"
    )


def _assert_same(actual, expected, rtol, what):
    """actual == expected up to rtol relative to the largest magnitude."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(
        1.0,
        float(np.max(np.abs(expected), initial=0.0)),
        float(np.max(np.abs(actual), initial=0.0)),
    )
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def _assert_like(g, arg, what):
    """The gradient has the argument's shape and type (contract of `grad`)."""
    assert np.shape(g) == np.shape(arg), (
        f"{what}: gradient shape {np.shape(g)} != argument shape {np.shape(arg)}"
    )
    if isinstance(arg, np.ndarray):
        if arg.ndim == 0:  # a 0-d array or a NumPy scalar of the same dtype
            assert isinstance(g, (np.ndarray, np.generic)), (
                f"{what}: gradient is {type(g).__name__}"
            )
            assert g.dtype == arg.dtype, (
                f"{what}: gradient dtype {g.dtype} != argument dtype {arg.dtype}"
            )
        else:
            assert isinstance(g, np.ndarray), f"{what}: gradient is {type(g).__name__}, not ndarray"
            assert g.dtype == arg.dtype, (
                f"{what}: gradient dtype {g.dtype} != argument dtype {arg.dtype}"
            )
    elif isinstance(arg, np.floating):  # a NumPy scalar, a 0-d array or a float, of the same dtype
        assert isinstance(g, (float, np.generic, np.ndarray)), (
            f"{what}: gradient is {type(g).__name__}"
        )
        dtype = np.asarray(g).dtype
        assert dtype == arg.dtype, f"{what}: gradient dtype {dtype} != argument dtype {arg.dtype}"
    else:  # a Python float: a Python float or a NumPy float64 (a float subclass)
        assert isinstance(g, float), f"{what}: gradient of a Python float is {type(g).__name__}"


def _assert_unchanged(args, original, what):
    assert len(args) == len(original)
    for i, (now, before) in enumerate(zip(args, original)):
        assert type(now) is type(before), f"{what}: argument {i} changed type"
        if isinstance(before, np.ndarray):
            assert now.dtype == before.dtype and now.shape == before.shape, (
                f"{what}: argument {i} changed dtype/shape"
            )
        np.testing.assert_array_equal(now, before, err_msg=f"{what}: argument {i} was modified")


# ---------------------------------------------------------------------------
# The catalogue itself (runs without s2sjax doing anything).


def test_catalogue_is_well_formed(rng_factory):
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    assert len(CASES) >= 60
    for case in CASES:
        args = case.make_args(rng_factory(case.name))
        again = case.make_args(rng_factory(case.name))
        for a, b in zip(args, again):
            np.testing.assert_array_equal(
                a, b, err_msg=f"{case.name}: make_args is not deterministic"
            )
        argnums = case.argnums_tuple
        assert argnums, f"{case.name}: nothing to differentiate"
        for i in argnums:
            arg = args[i]
            assert isinstance(arg, (float, np.floating, np.ndarray)) and not isinstance(
                arg, bool
            ), case.name
            assert np.asarray(arg).dtype == np.dtype(case.dtype), (
                f"{case.name}: argument {i} is not {case.dtype}"
            )
        value = case.fun(*args)
        assert np.ndim(value) == 0 and np.isfinite(value), f"{case.name}: value {value!r}"


# ---------------------------------------------------------------------------
# grad and value_and_grad.


@pytest.mark.parametrize(("case", "target"), _params())
def test_grad_matches_finite_differences(case, target, rng_factory):
    run = grad_run(case, target, rng_factory)
    _assert_grad_tuple(run.grads, case, "grad")
    rtol, atol = FD_TOLERANCE[case.dtype]
    rtol = case.rtol if case.rtol is not None else rtol
    atol = case.atol if case.atol is not None else atol
    fd.check_grad(
        case.fun,
        run.original,
        case.argnums_tuple,
        run.grads,
        rtol,
        atol,
        name=f"{case.name} [{target}]",
    )


@pytest.mark.parametrize(("case", "target"), _params())
def test_grad_shapes_and_dtypes(case, target, rng_factory):
    run = grad_run(case, target, rng_factory)
    _assert_grad_tuple(run.grads, case, "grad")
    for i, g in zip(case.argnums_tuple, run.grads):
        _assert_like(g, run.original[i], f"{case.name} [{target}] argument {i}")


@pytest.mark.parametrize(("case", "target"), _params())
def test_value_and_grad(case, target, rng_factory):
    run = value_and_grad_run(case, target, rng_factory)
    tol = SAME_TOLERANCE[case.dtype]
    expected = case.fun(*copy.deepcopy(run.original))
    assert np.ndim(run.value) == 0, f"{case.name} [{target}]: value has shape {np.shape(run.value)}"
    _assert_same(
        run.value,
        expected,
        tol,
        f"{case.name} [{target}]: value_and_grad value vs calling the function",
    )
    _assert_grad_tuple(run.grads, case, "value_and_grad")
    reference = grad_run(case, target, rng_factory).grads
    for i, g, g_ref in zip(case.argnums_tuple, run.grads, reference):
        _assert_like(g, run.original[i], f"{case.name} [{target}] value_and_grad argument {i}")
        _assert_same(g, g_ref, tol, f"{case.name} [{target}]: value_and_grad vs grad, argument {i}")


@pytest.mark.parametrize(("case", "target"), _params())
def test_inputs_not_modified(case, target, rng_factory):
    run = grad_run(case, target, rng_factory)
    _assert_unchanged(run.args, run.original, f"{case.name} [{target}] grad")
    vg_run = value_and_grad_run(case, target, rng_factory)
    _assert_unchanged(vg_run.args, vg_run.original, f"{case.name} [{target}] value_and_grad")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_targets_agree(case, rng_factory):
    cpu = grad_run(case, "cpu", rng_factory)
    python = grad_run(case, "python", rng_factory)
    tol = SAME_TOLERANCE[case.dtype]
    for i, g_cpu, g_py in zip(case.argnums_tuple, cpu.grads, python.grads):
        _assert_same(g_cpu, g_py, tol, f"{case.name}: cpu vs python gradient, argument {i}")
    cpu_value = value_and_grad_run(case, "cpu", rng_factory).value
    python_value = value_and_grad_run(case, "python", rng_factory).value
    _assert_same(cpu_value, python_value, tol, f"{case.name}: cpu vs python value")
