"""Check, then time, every program: s2sjax `cpu` beside jax.jit(jax.grad), autograd and a
hand-written Numba gradient, with the cold first call, the peak memory of one call and the
tape. A wrong gradient stops the run; a refusal is a result, reported with its first line."""

import copy
import ctypes
import gc
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import s2sjax
from bench import tapes
from bench.programs import all_programs, rebind
from bench.timing import Timing, WrongResultError, measure_together

ROUNDS, REPEATS = 3, 6
RESULTS_PATH = Path(__file__).resolve().parent.parent / "results" / "programs.json"


@dataclass
class ProgramResult:
    name: str
    source: str
    timings: list[Timing] = field(default_factory=list)
    cold: dict = field(default_factory=dict)  # implementation -> seconds of the first call
    memory: dict = field(default_factory=dict)  # implementation -> peak bytes of one call
    tape_bytes: int | None = None  # at the check's tiny size, python target
    refused: str | None = None  # s2sjax's error, first line
    skipped: dict = field(default_factory=dict)  # implementation -> why it did not run

    def seconds(self, family):
        return next((t.seconds for t in self.timings if t.impl.startswith(family)), None)


# --- results as flat vectors ---------------------------------------------------------------


def array_leaves(tree):
    """The arrays of a (nested) container, dicts in key order: how JAX orders them too."""
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in array_leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in array_leaves(item)]
    return [tree]


def flatten(tree):
    return np.concatenate(
        [np.ravel(np.asarray(leaf, dtype=np.float64)) for leaf in array_leaves(tree)]
    )


def finite_differences(objective, args, argnums, step=1e-6):
    """Central differences of `objective` in every element of the arrays in `argnums`."""
    args = copy.deepcopy(list(args))
    grads = []
    for argnum in argnums:
        for leaf in array_leaves(args[argnum]):
            flat = leaf.reshape(-1)  # a view: writing it moves the argument
            for k in range(flat.size):
                x = flat[k]
                h = step * max(1.0, abs(x))
                flat[k] = x + h
                up = objective(*args)
                flat[k] = x - h
                down = objective(*args)
                flat[k] = x
                grads.append((up - down) / (2 * h))
    return np.array(grads)


def expected_gradient(program, args):
    """Finite differences of the objective; per example, stacked as vmap stacks them."""
    if not program.per_example:
        return finite_differences(program.objective, args, program.argnums)
    params, *rest = args
    per_leaf = len(array_leaves(params))
    rows = [
        finite_differences(program.objective, (params, *(a[b] for a in rest)), (0,))
        for b in range(len(rest[0]))
    ]
    sizes = [leaf.size for leaf in array_leaves(params)]
    cuts = np.cumsum(sizes)[:-1]
    parts = [np.split(row, cuts) for row in rows]
    return np.concatenate(
        [np.ravel([parts[b][k] for b in range(len(rows))]) for k in range(per_leaf)]
    )


def check(impl, got, want, rtol):
    scale = max(1.0, float(np.max(np.abs(want))))
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=rtol * scale):
        worst = np.max(np.abs(got - want)) if got.shape == want.shape else "shapes differ"
        raise WrongResultError(f"{impl}: wrong gradient (largest difference {worst})")


# --- the implementations -------------------------------------------------------------------


def s2sjax_gradient(program, target="cpu"):
    grad = s2sjax.grad(program.objective, argnums=program.argnums, target=target)
    return (
        s2sjax.vmap(grad, in_axes=program.in_axes, target=target) if program.per_example else grad
    )


def jax_gradient(program, jax, args):
    objective = rebind(
        program.jax_objective or program.objective, np=jax.numpy, lax=jax.lax, vmap=jax.vmap
    )
    grad = jax.grad(objective, argnums=program.argnums)
    if program.per_example:
        grad = jax.vmap(grad, in_axes=program.in_axes)
    static = tuple(k for k, a in enumerate(args) if isinstance(a, int))
    compiled = jax.jit(grad, static_argnums=static)
    return lambda *a: jax.block_until_ready(compiled(*a))


def autograd_gradient(program, autograd):
    objective = rebind(program.objective, np=autograd.numpy)
    return autograd.grad(objective, argnum=program.argnums)


def implementations(program, jax, autograd, args, result):
    """(impl, gradient function) pairs of the peers that run; why the others do not."""
    peers = []
    if jax is None:
        result.skipped["jax"] = "not installed"
    else:
        peers.append(("jax.jit(jax.grad)", jax_gradient(program, jax, args)))
    if autograd is None or program.autograd:
        result.skipped["autograd"] = program.autograd or "not installed"
    else:
        peers.append(("autograd.grad", autograd_gradient(program, autograd)))
    if program.numba_grad is not None:
        peers.append(("numba.njit, by hand", program.numba_grad))
    return peers


# --- measurements beside the times --------------------------------------------------------


def first_call(fn, args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def peak_memory(fn, args):
    """Bytes the process's resident set grew to during one call (Linux: the high-water mark,
    reset first), so memory allocated by Numba and XLA counts; None elsewhere."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
        before = _status_kb("VmRSS")
        fn(*args)
        return 1024 * max(0, _status_kb("VmHWM") - before)
    except OSError:
        return None


def return_freed_memory():
    """Fix glibc's mmap threshold at its initial 128 KiB for the rest of the process: by default
    it grows as large arrays are freed, after which freed arrays stay in the heap and a call's
    high-water mark misses them. Set before any timing, so every implementation runs with it."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD


def _status_kb(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise OSError(f"no {key} in /proc/self/status")


def first_line(error):
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


# --- one program ---------------------------------------------------------------------------


def check_s2sjax_small(program):
    """s2sjax's gradient against finite differences at the tiny size, on `cpu`."""
    args = program.make_args(True)
    check(
        f"{program.name}: s2sjax",
        flatten(s2sjax_gradient(program)(*args)),
        expected_gradient(program, args),
        1e-5,
    )


def run_program(program, jax, autograd):
    result = ProgramResult(program.name, program.source)
    args = program.make_args(False)
    ours = s2sjax_gradient(program)
    try:
        reference, result.cold["s2sjax"] = first_call(ours, args)
    except Exception as error:  # a refusal is measured, not hidden
        result.refused = first_line(error)
    peers = implementations(program, jax, autograd, args, result)
    if result.refused is None:
        check_s2sjax_small(program)
        result.tape_bytes = tapes.tape_bytes(
            lambda: s2sjax_gradient(program, "python")(*program.make_args(True))
        )
        entries = [("s2sjax.grad", ours)]
    else:
        entries = []
        if not peers:
            return result
        impl, fn = peers[0]  # the reference instead of s2sjax: checked the same way
        small = program.make_args(True)
        check(
            f"{program.name}: {impl}", flatten(fn(*small)), expected_gradient(program, small), 1e-5
        )
        reference = None
    for impl, fn in peers:
        out, result.cold[impl] = first_call(fn, args)
        if reference is None:
            reference = out
        check(f"{program.name}: {impl}", flatten(out), flatten(reference), 1e-6)
        entries.append((impl, fn))
    result.timings = measure_together(
        [(impl, fn, args) for impl, fn in entries], repeats=REPEATS, rounds=ROUNDS
    )
    result.memory = {impl: peak_memory(fn, args) for impl, fn in entries}
    return result


def run(jax, autograd, programs=None):
    from bench.programs import page

    return_freed_memory()
    results = []
    for program in programs or all_programs():
        print(f"programs: {program.name} ...", flush=True)
        results.append(run_program(program, jax, autograd))
        print(page.row(results[-1]), flush=True)
    print("\n" + page.table(results) + "\n\n" + page.summary(results))
    write_json(results)
    page.write(results)
    return []  # the programs have their own table; the workloads' tables are left as they are


def write_json(results):
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
