"""Transform time: from reading a ~30-line function's source to emitted code.

Measured through the public API as the first call of
``s2sjax.grad(loss, target="python")``: parse, transform, emit, write and
import the generated module, and run it once on 8×8 inputs (microseconds).
No Numba compilation is involved, so this is an upper bound on the transform.

Every timed function is a fresh one from its own module, with its own name and
its own constant, so no cache (in memory or on disk) can answer for it.
"""

import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import s2sjax
from bench.report import Target, WorkloadResult
from bench.timing import Timing, check_close

VARIANTS = 15

# Straight-line code: arithmetic, np.sin/exp/tanh/sum/mean, @, indexing, if/else.
MODULE_SOURCE = """\
import numpy as np


def {name}(w, x):
    h = w @ x
    a = np.tanh(h)
    b = np.sin(a) * 0.5 + a * a
    c = np.exp(-b)
    d = c * a - b / (1.0 + c)
    m = np.mean(d)
    z = d - m
    s = np.sum(z * z)
    u = w @ a
    v = np.tanh(u + 0.1 * x)
    p = np.sum(v * d)
    q = np.mean(np.exp(-v * v))
    first = a[0] * v[1] + c[2]
    last = z[-1] * u[3]
    if s > 1.0:
        r = s - 0.5
    else:
        r = 0.5 * s * s
    if p > 0.0:
        t = p * q
    elif p > -1.0:
        t = p * p
    else:
        t = -p
    e = np.sum(np.sin(u) * np.exp(-a * a))
    k = r + t + first * last
    y = k / (1.0 + q * q) + {scale!r} * e
    y = y - m ** 2
    return y
"""


def make_inputs():
    rng = np.random.default_rng(0)
    return 0.5 * rng.normal(size=(8, 8)), rng.normal(size=8)


def load_variant(directory, index):
    """Write variant `index` to its own file and import it (getsource needs a file)."""
    name = f"loss_{index}"
    path = Path(directory) / f"_s2sjax_bench_{name}.py"
    path.write_text(MODULE_SOURCE.format(name=name, scale=0.25 + index / 1024))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return getattr(module, name)


def central_difference_grad(fun, w, x, step=1e-6):
    grad = np.empty_like(w)
    for index in np.ndindex(w.shape):
        w_plus, w_minus = w.copy(), w.copy()
        w_plus[index] += step
        w_minus[index] -= step
        grad[index] = (fun(w_plus, x) - fun(w_minus, x)) / (2 * step)
    return grad


def time_first_call(fun, w, x):
    start = time.perf_counter()
    grad = s2sjax.grad(fun, target="python")(w, x)
    return time.perf_counter() - start, grad


def run(jax, autograd):
    # No peer here: JAX and autograd have no separate transform step to time.
    w, x = make_inputs()
    samples = []
    with tempfile.TemporaryDirectory(prefix="s2sjax-bench-src-") as directory:
        # Variant 0 is a warm-up: the first transform also pays s2sjax's lazy imports.
        for index in range(VARIANTS + 1):
            loss = load_variant(directory, index)
            seconds, grad = time_first_call(loss, w, x)
            check_close(
                f"s2sjax.grad({loss.__name__})",
                grad,
                central_difference_grad(loss, w, x),
                atol=1e-6,
            )
            if index > 0:
                samples.append(seconds)
    return WorkloadResult(
        name="transform",
        title='30-line function, first call, target="python"',
        target=Target("time", 50e-3),
        s2sjax=Timing("s2sjax.grad", statistics.median(samples), samples),
    )
