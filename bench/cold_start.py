"""Cold start: the first call of W1, W2 and W4 in a fresh Python process.

A user pays this once per process, before any per-call number matters. For each workload,
a child process with an empty cache directory times

- `import s2sjax` and the workload's module (reported in the title), and
- the first call after the imports: transform, Numba compile, call;

then a second child with the same cache directory times the same two things, its first call
now served from the disk cache. s2sjax keeps its generated modules in `$S2SJAX_CACHE_DIR`
and Numba (`njit(cache=True)`) keeps the machine code in `__pycache__` beside them, so a new
temporary directory empties both; `NUMBA_CACHE_DIR` is removed from the child's environment,
as it would move Numba's cache elsewhere. The transform itself is not cached on disk: the
cached first call still runs it.

Each (cold, cached) pair is run REPEATS times, each with a new cache directory, and the
medians are reported: the machine is shared and one process start is noisy. Each child
checks its result against a reference and exits non-zero on a mismatch.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

from bench.report import Target, WorkloadResult, format_seconds
from bench.timing import Timing

REPEATS = 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Per workload: its imports, `call` (the first call) and `check(result)` (raises on a wrong
# result, with check_close, imported after the timing).
SETUPS = {
    "W1": """
import math
from bench.w1_scalar import f, X
call = lambda: s2sjax.grad(f)(X)
check = lambda got: check_close("s2sjax.grad", got, math.sin(X * X) + 2 * X * X * math.cos(X * X))
""",
    "W2": """
from bench.w2_loop import recurrence, adjoint_by_hand, K, X0, N
call = lambda: s2sjax.value_and_grad(recurrence, argnums=(0, 1))(K, X0, N)
check = lambda got: check_close("s2sjax.value_and_grad", (got[0], *got[1]), adjoint_by_hand(K, X0, N), rtol=1e-12)
""",
    "W4": """
from bench.w4_mlp import mlp_loss, make_inputs, value_and_grad_by_hand, flat, ARGNUMS
call = lambda: s2sjax.value_and_grad(mlp_loss, argnums=ARGNUMS)(*make_inputs())
check = lambda got: check_close("s2sjax.value_and_grad", flat(got), flat(value_and_grad_by_hand(*make_inputs())), rtol=1e-9)
""",
}

CHILD = """
import json, time
start = time.perf_counter()
import s2sjax
{setup}
imported = time.perf_counter()
result = call()
called = time.perf_counter()
from bench.timing import check_close
check(result)
print(json.dumps(dict(import_s=imported - start, first_call_s=called - imported)))
"""


def run(jax, autograd):
    results = []
    for workload in SETUPS:
        cold, cached = zip(*(cold_and_cached(workload) for _ in range(REPEATS)))
        results.append(result(f"cold-{workload}", cold, Target("time", 1.0),
                              "first call in a fresh process, empty cache: transform + compile + call"))
        results.append(result(f"cached-{workload}", cached, Target("time", 0.1),
                              "first call in a second process, from the disk cache, beyond import"))
    return results


def cold_and_cached(workload):
    """The child's timings with an empty cache, then with the cache the first child filled."""
    with tempfile.TemporaryDirectory(prefix="s2sjax-cold-") as cache:
        return child(workload, cache), child(workload, cache)


def child(workload, cache):
    env = {**os.environ, "PYTHONPATH": ROOT, "S2SJAX_CACHE_DIR": cache}
    env.pop("NUMBA_CACHE_DIR", None)
    script = CHILD.format(setup=SETUPS[workload])
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{workload} child failed (exit {out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])


def result(name, timings, target, what):
    imports = statistics.median(t["import_s"] for t in timings)
    samples = [t["first_call_s"] for t in timings]
    return WorkloadResult(
        name=name,
        title=f"{what} (import {format_seconds(imports)})",
        target=target,
        s2sjax=Timing("s2sjax, first call", statistics.median(samples), samples),
    )
