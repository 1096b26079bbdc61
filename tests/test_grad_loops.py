"""``grad`` and ``value_and_grad`` on the control-flow catalogue, both targets.

The same checks as tests/test_grad_catalogue.py (and its tolerances), on the
functions of tests/catalogue_loops.py: gradients against float64 central
finite differences (tests/fd.py, fourth order) for every differentiable
argument, shapes and dtypes, ``value_and_grad`` returning the function's own
value, inputs never modified, and the cpu and python targets agreeing.

A case's ``needs`` names the control-flow features it exercises beyond
plain `for` loops (while, break, continue, return in a loop, in-place
updates); the well-formedness test checks the labels against the source.

Each (case, target) is transformed once and shared by the checks (a
per-process memo; a failure is memoized too and re-raised).  The arguments
come from a generator seeded by the case name.
"""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap
import types
from dataclasses import dataclass

import numpy as np
import pytest

import s2sjax
from tests import catalogue_loops, fd
from tests.catalogue_loops import CASES, FEATURES, Case
from tests.test_grad_catalogue import (
    FD_TOLERANCE,
    SAME_TOLERANCE,
    _assert_grad_tuple,
    _assert_like,
    _assert_same,
    _assert_unchanged,
)

TARGETS = ("cpu", "python")

# On the cpu target, code Numba cannot compile is a failure here, not a fallback.
pytestmark = pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")


SUPPORTED_CASES = CASES


def _params(cases):
    return [
        pytest.param(case, target, id=f"{case.name}-{target}")
        for case in cases
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
# What a function really uses, read from its source (and its helpers' in
# catalogue_loops), so that `needs` cannot drift from the code.


def _helpers_called(tree, globals_):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            target = globals_.get(node.func.id)
            if (
                isinstance(target, types.FunctionType)
                and target.__module__ == catalogue_loops.__name__
            ):
                yield target


def _features_in(tree) -> set[str]:
    found = set()

    def visit(node, in_loop):
        if isinstance(node, ast.While):
            found.add("while")
        elif isinstance(node, ast.Break):
            found.add("break")
        elif isinstance(node, ast.Continue):
            found.add("continue")
        elif isinstance(node, ast.Return) and in_loop:
            found.add("return_in_loop")
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if any(isinstance(t, ast.Subscript) for t in ast.walk(target)):
                    found.add("inplace")
        loops = (ast.For, ast.While)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.Lambda)):
                visit(child, False)
            else:
                visit(child, in_loop or isinstance(node, loops))

    visit(tree, False)
    return found


def detected_needs(fun) -> set[str]:
    """The FEATURES constructs used by `fun` or the catalogue helpers it calls."""
    seen, todo, found = set(), [fun], set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        tree = ast.parse(textwrap.dedent(inspect.getsource(f)))
        found |= _features_in(tree)
        todo.extend(_helpers_called(tree, f.__globals__))
    return found


# ---------------------------------------------------------------------------
# The catalogue itself (runs without s2sjax doing anything).


def test_catalogue_is_well_formed(rng_factory):
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    assert len(CASES) >= 40
    assert sum(1 for case in CASES if not case.needs) >= 25
    assert sum(1 for case in CASES if case.needs) >= 20
    for case in CASES:
        assert set(case.needs) <= FEATURES, f"{case.name}: unknown needs {case.needs}"
        assert set(case.needs) == detected_needs(case.fun), (
            f"{case.name}: needs={case.needs} "
            f"but the source uses {sorted(detected_needs(case.fun))}"
        )
        if case.rtol is not None or case.atol is not None:
            assert case.note, f"{case.name}: a per-case tolerance needs a note saying why"
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
        for i, arg in enumerate(args):  # small sizes and trip counts keep the suite fast
            assert max(np.shape(arg), default=0) <= 16, (
                f"{case.name}: argument {i} has shape {np.shape(arg)}"
            )
            if isinstance(arg, int):
                assert arg <= 50, f"{case.name}: argument {i} is {arg}"
        before = copy.deepcopy(args)
        value = case.fun(*args)
        assert np.ndim(value) == 0 and np.isfinite(value), f"{case.name}: value {value!r}"
        _assert_unchanged(args, before, f"{case.name}: the plain function")


# ---------------------------------------------------------------------------
# grad and value_and_grad.


@pytest.mark.parametrize(("case", "target"), _params(SUPPORTED_CASES))
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


@pytest.mark.parametrize(("case", "target"), _params(SUPPORTED_CASES))
def test_grad_shapes_and_dtypes(case, target, rng_factory):
    run = grad_run(case, target, rng_factory)
    _assert_grad_tuple(run.grads, case, "grad")
    for i, g in zip(case.argnums_tuple, run.grads):
        _assert_like(g, run.original[i], f"{case.name} [{target}] argument {i}")


@pytest.mark.parametrize(("case", "target"), _params(SUPPORTED_CASES))
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


@pytest.mark.parametrize(("case", "target"), _params(SUPPORTED_CASES))
def test_inputs_not_modified(case, target, rng_factory):
    run = grad_run(case, target, rng_factory)
    _assert_unchanged(run.args, run.original, f"{case.name} [{target}] grad")
    vg_run = value_and_grad_run(case, target, rng_factory)
    _assert_unchanged(vg_run.args, vg_run.original, f"{case.name} [{target}] value_and_grad")


@pytest.mark.parametrize("case", SUPPORTED_CASES, ids=[case.name for case in SUPPORTED_CASES])
def test_targets_agree(case, rng_factory):
    cpu = grad_run(case, "cpu", rng_factory)
    python = grad_run(case, "python", rng_factory)
    tol = SAME_TOLERANCE[case.dtype]
    for i, g_cpu, g_py in zip(case.argnums_tuple, cpu.grads, python.grads):
        _assert_same(g_cpu, g_py, tol, f"{case.name}: cpu vs python gradient, argument {i}")
    cpu_value = value_and_grad_run(case, "cpu", rng_factory).value
    python_value = value_and_grad_run(case, "python", rng_factory).value
    _assert_same(cpu_value, python_value, tol, f"{case.name}: cpu vs python value")
