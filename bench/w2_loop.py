"""W2: the gradient of a 10,000-step recurrence, against a hand-written Numba adjoint.

    x = x0; for i in range(n): x = x + 0.01 * (-k * x + sin(x))

gradient with respect to (k, x0). `s2sjax.value_and_grad` and the hand-written adjoint are timed
together with JAX if installed (`jax.jit(jax.value_and_grad)` of the loop as a `lax.fori_loop`,
float64, k and x0 on the device); autograd (`value_and_grad` of the Python loop), which takes
seconds per call, is timed on its own, a few times. Every implementation is checked against the
hand-written adjoint first. Also printed:

- what the tape holds (the generated code's tapes, counted from its source), the peak memory of
  one gradient at n = 10**7 in a fresh process, and the time from a cold start to the first
  gradient, which must not grow with n;
- what tracing a Python loop costs JAX, at n = 10, 100 and 1000: `jax.jit` unrolls it into n
  steps, so its first call (trace + compile) grows with n, where the fori_loop's does not;
- the scaling in n from 10**2 to 10**6: s2sjax against the hand-written adjoint (and JAX's
  fori_loop), with their ratio at each n. s2sjax specializes on types, not values: one compile
  serves every n.
"""

import math
import os
import re
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np

import s2sjax
from bench.report import Target, WorkloadResult, format_ratio, format_seconds
from bench.timing import check_close, check_then_measure, measure

K, X0, N = 0.7, 0.3, 10_000
REPEATS = 7  # W2-jvp's and W2-hvp's (bench/w2_forward.py)
TOGETHER_REPEATS = 25
AUTOGRAD_REPEATS = 3  # autograd takes seconds per call at n = 10**4: timed on its own, a few times
UNROLLED_NS = (10, 100, 300)  # at n = 1000, JAX's first call of the Python loop takes half a minute
SCALING_NS = (10**2, 10**3, 10**4, 10**5, 10**6)
SCALING_REPEATS = 25
S2SJAX, BY_HAND = "s2sjax.value_and_grad", "numba.njit adjoint, by hand"
JAX_FORI, JAX_PYTHON = (
    "jax.jit(jax.value_and_grad), lax.fori_loop",
    "jax.jit(jax.value_and_grad), Python loop",
)
AUTOGRAD = "autograd.value_and_grad, Python loop"


def recurrence(k, x0, n):
    x = x0
    for i in range(n):
        x = x + 0.01 * (-k * x + math.sin(x))
    return x


@numba.njit
def adjoint_by_hand(k, x0, n):
    """The value and (dk, dx0), storing the trajectory: what one would write by hand."""
    xs = np.empty(n)
    x = x0
    for i in range(n):
        xs[i] = x
        x = x + 0.01 * (-k * x + math.sin(x))
    x_bar, k_bar = 1.0, 0.0
    for i in range(n - 1, -1, -1):
        k_bar += x_bar * 0.01 * -xs[i]
        x_bar *= 1.0 + 0.01 * (-k + math.cos(xs[i]))
    return x, k_bar, x_bar


def python_loop(sin):
    """The recurrence with autograd's or JAX's `sin`, so that they can trace it."""

    def f(k, x0, n):
        x = x0
        for i in range(n):
            x = x + 0.01 * (-k * x + sin(x))
        return x

    return f


def fori_loop(jax):
    """The recurrence as one `lax.fori_loop`, what JAX's documentation advises for a long loop."""

    def f(k, x0, n):
        return jax.lax.fori_loop(0, n, lambda i, x: x + 0.01 * (-k * x + jax.numpy.sin(x)), x0)

    return f


def jax_value_and_grad(jax, f):
    """`jax.jit(jax.value_and_grad)` of f w.r.t. (k, x0), waiting for the result. n is static: it
    sets the trip count (a Python loop cannot run over a traced integer)."""
    compiled = jax.jit(jax.value_and_grad(f, argnums=(0, 1)), static_argnums=2)
    return lambda k, x0, n: jax.block_until_ready(compiled(k, x0, n))


def host_args(n):
    return K, X0, n


def device_args(jax):
    k, x0 = jax.numpy.asarray(K), jax.numpy.asarray(X0)
    return lambda n: (k, x0, n)


def implementations(ours, jax):
    """(impl, fn, args of n): s2sjax and the hand-written adjoint first, then JAX if installed."""
    impls = [(S2SJAX, ours, host_args), (BY_HAND, adjoint_by_hand, host_args)]
    if jax is not None:
        impls.append((JAX_FORI, jax_value_and_grad(jax, fori_loop(jax)), device_args(jax)))
    return impls


def time_autograd(autograd):
    value_and_grad = autograd.value_and_grad(python_loop(autograd.numpy.sin), (0, 1))
    check_close(AUTOGRAD, np.hstack(value_and_grad(K, X0, N)), adjoint_by_hand(K, X0, N), rtol=1e-9)
    return measure(AUTOGRAD, value_and_grad, (K, X0, N), calls=1, repeats=AUTOGRAD_REPEATS)


def time_together(impls, n, *, repeats):
    """Check every implementation against the hand-written adjoint at n, then time them together."""
    entries = [(impl, fn, args(n)) for impl, fn, args in impls]
    # hstack flattens (value, (dk, dx0)) and the hand-written (value, dk, dx0) alike.
    return check_then_measure(
        entries, adjoint_by_hand(K, X0, n), repeats=repeats, flatten=np.hstack, rtol=1e-9
    )


def run(jax, autograd):
    ours = s2sjax.value_and_grad(recurrence, argnums=(0, 1))
    report_tape(ours)
    report_cold_start_and_memory()
    impls = implementations(ours, jax)
    timings = time_together(impls, N, repeats=TOGETHER_REPEATS)
    if autograd is not None:
        timings.append(time_autograd(autograd))
    if jax is not None:
        report_unrolling(jax)
    report_scaling(impls)
    return WorkloadResult(
        name="W2",
        title="grad of a 10**4-step recurrence w.r.t. (k, x0)",
        target=Target("ratio", 1.1),
        s2sjax=timings[0],
        baseline=timings[1],
        peers=timings[2:],
    )


def report_tape(transformed):
    source = s2sjax.source(transformed, K, X0, N)
    tapes = re.findall(r"(\w+) = rt\.tape\((\w+), trips\)", source)
    names = ", ".join(f"{tape} (one {value} per step)" for tape, value in tapes)
    print(
        f"W2 tapes: {len(tapes)}: {names}; "
        f"{8 * len(tapes) * N} bytes at n = {N} (8 bytes per float)"
    )


def report_unrolling(jax):
    """JAX's first call (trace + compile + run) and per-call time, Python loop against fori_loop."""
    impls = [
        (JAX_PYTHON, jax_value_and_grad(jax, python_loop(jax.numpy.sin)), device_args(jax)),
        (JAX_FORI, jax_value_and_grad(jax, fori_loop(jax)), device_args(jax)),
    ]
    rows = []
    for n in UNROLLED_NS:
        # A new static n means a new trace and compile, so each n's first call is cold.
        firsts = [first_call(fn, args(n)) for _, fn, args in impls]
        python, fori = time_together(impls, n, repeats=TOGETHER_REPEATS)
        rows.append(
            (
                str(n),
                f"{firsts[0]:.2f} s",
                format_seconds(python.seconds),
                f"{firsts[1]:.2f} s",
                format_seconds(fori.seconds),
            )
        )
    print_table(
        "W2 in JAX: tracing unrolls a Python loop",
        (
            "n",
            "Python loop: first call",
            "Python loop: per call",
            "fori_loop: first call",
            "fori_loop: per call",
        ),
        rows,
    )


def first_call(fn, args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def report_scaling(impls):
    """s2sjax against the hand-written adjoint (and JAX's fori_loop) at each n."""
    rows = []
    for n in SCALING_NS:
        ours, by_hand, *peers = time_together(impls, n, repeats=SCALING_REPEATS)
        jax_fori = format_seconds(peers[0].seconds) if peers else "—"
        rows.append(
            (
                f"10**{round(math.log10(n))}",
                format_seconds(ours.seconds),
                format_seconds(by_hand.seconds),
                format_ratio(ours.seconds / by_hand.seconds),
                jax_fori,
            )
        )
    print_table("W2 scaling in n", ("n", "s2sjax", "hand-written", "ratio", "jax fori_loop"), rows)


def print_table(title, header, rows):
    print(f"\n{title}:\n")
    for row in (header, ("---",) * len(header), *rows):
        print("| " + " | ".join(row) + " |")
    print()


CHILD = """
import sys, time
start = time.perf_counter()
import s2sjax
from bench.w2_loop import recurrence
g = s2sjax.grad(recurrence, argnums=(0, 1))
g(0.7, 0.3, 10)
first = time.perf_counter() - start


def kilobytes(field):  # VmRSS: resident now; VmHWM: the peak since the last reset
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # reset the peak: compiling raised it above what one gradient needs
before = kilobytes("VmRSS")
g(0.7, 0.3, int(sys.argv[1]))
print(first, (kilobytes("VmHWM") - before) * 1024)
"""


def report_cold_start_and_memory():
    """In fresh processes with empty caches: import + transform + compile + a first call at
    n = 10, then the peak memory growth of one gradient at n."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for n in (10**2, 10**7):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "PYTHONPATH": root, "S2SJAX_CACHE_DIR": cache}
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(n)],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
        first, peak = out.stdout.split()
        print(
            f"W2 n = {n:>8}: cold import + transform + compile + first call {float(first):.2f} s; "
            f"peak memory growth of one gradient {int(peak) / 1e6:.1f} MB"
        )
