"""njit-call: a generated gradient called from the user's own `@numba.njit` loop.

A molecular-dynamics-like loop of 1,000 steps over 100 particles calls the
gradient of a potential at each step; the baseline is the same loop calling a
hand-written `@numba.njit` gradient. Per inner call, s2sjax should cost what
the hand-written function costs (target ≤ 1.1×).
"""

import numba
import numpy as np

import s2sjax
from bench.report import Target, WorkloadResult
from bench.timing import check_close, measure_together

STEPS = 1_000
X0 = np.linspace(-1.0, 1.0, 100)
REPEATS = 50


def potential(x):
    return 0.5 * np.sum(x**2) + np.sum(np.cos(x))


@numba.njit
def d_potential_by_hand(x):
    return x - np.sin(x)


def leapfrog(gradient):
    def steps(x, v, dt):
        for _ in range(STEPS):
            v = v - dt * gradient(x)
            x = x + dt * v
        return x

    return numba.njit(steps)


def run(jax, autograd):
    generated = leapfrog(s2sjax.grad(potential))
    by_hand = leapfrog(d_potential_by_hand)
    v0 = np.zeros_like(X0)
    check_close("njit loop calling s2sjax.grad", generated(X0, v0, 0.01), by_hand(X0, v0, 0.01))
    s2sjax_timing, baseline = measure_together(
        [
            ("njit loop calling s2sjax.grad", generated, (X0, v0, 0.01)),
            ("njit loop calling a gradient by hand", by_hand, (X0, v0, 0.01)),
        ],
        repeats=REPEATS,
    )
    return WorkloadResult(
        name="njit-call",
        title=f"grad called from a @numba.njit loop, {STEPS} calls of {X0.size} elements",
        target=Target("ratio", 1.1),
        s2sjax=s2sjax_timing,
        baseline=baseline,
    )
