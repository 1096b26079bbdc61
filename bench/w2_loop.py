"""W2: the gradient of a 10,000-step recurrence, against a hand-written Numba adjoint.

    x = x0; for i in range(n): x = x + 0.01 * (-k * x + sin(x))

gradient with respect to (k, x0). Besides the time, it reports what the tape
holds (the generated code's tapes, counted from its source), the peak memory
of one gradient at n = 10**7 in a fresh process, and the time from a cold
start to the first gradient, which must not grow with n.
"""
import math
import os
import re
import subprocess
import sys
import tempfile

import numba
import numpy as np

import s2sjax
from bench.report import Target, WorkloadResult
from bench.timing import check_close, measure

K, X0, N = 0.7, 0.3, 10_000
REPEATS = 7


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


def run(jax, autograd):
    value_and_grad = s2sjax.value_and_grad(recurrence, argnums=(0, 1))
    value, (dk, dx0) = value_and_grad(K, X0, N)
    expected = adjoint_by_hand(K, X0, N)
    check_close("s2sjax.value_and_grad", (value, dk, dx0), expected, rtol=1e-12)
    report_tape(value_and_grad)
    report_cold_start_and_memory()
    return WorkloadResult(
        name="W2",
        title="grad of a 10**4-step recurrence w.r.t. (k, x0)",
        target=Target("ratio", 1.1),
        s2sjax=measure("s2sjax.value_and_grad", value_and_grad, (K, X0, N), calls=20, repeats=REPEATS),
        baseline=measure("numba.njit adjoint, by hand", adjoint_by_hand, (K, X0, N), calls=20, repeats=REPEATS),
    )


def report_tape(transformed):
    source = s2sjax.source(transformed, K, X0, N)
    tapes = re.findall(r"(\w+) = rt\.tape\((\w+), trips\)", source)
    names = ", ".join(f"{tape} (one {value} per step)" for tape, value in tapes)
    print(f"W2 tapes: {len(tapes)}: {names}; {8 * len(tapes) * N} bytes at n = {N} (8 bytes per float)")


CHILD = """
import resource, sys, time
start = time.perf_counter()
import s2sjax
from bench.w2_loop import recurrence
g = s2sjax.grad(recurrence, argnums=(0, 1))
g(0.7, 0.3, 10)
first = time.perf_counter() - start
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
g(0.7, 0.3, int(sys.argv[1]))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(first, (after - before) * 1024)
"""


def report_cold_start_and_memory():
    """In fresh processes with empty caches: import + transform + compile + a first call at
    n = 10, then the peak memory growth of one gradient at n."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for n in (10**2, 10**7):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "PYTHONPATH": root, "S2SJAX_CACHE_DIR": cache}
            out = subprocess.run([sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True, env=env, check=True)
        first, peak = out.stdout.split()
        print(f"W2 n = {n:>8}: cold import + transform + compile + first call {float(first):.2f} s; "
              f"peak memory growth of one gradient {int(peak) / 1e6:.1f} MB")
