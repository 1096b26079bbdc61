"""W5 and W6: vmap. Per-example gradients of a linear model's squared error over 10**6 examples,
and pairwise L1 distances between 1000 and 1000 points of dimension 16 by a nested vmap.

Baselines are hand-written serial Numba loops; `target="parallel"` is measured against the
time JAX needs on the reference machine (the issue's numbers: 0.97 ms for W5, 10.1 ms for W6),
since JAX may not be installed here; when it is, it is timed as a peer.
"""
import numba
import numpy as np

import s2sjax
from bench.report import Target, WorkloadResult
from bench.timing import check_close, measure

N_EXAMPLES = 10 ** 6
N_POINTS, DIM = 1000, 16
REPEATS = 15
JAX_W5, JAX_W6 = 0.97e-3, 10.1e-3


def loss(p, x, y):
    return (p[0] * x + p[1] - y) ** 2


def l1(a, b):
    return np.sum(np.abs(a - b))


@numba.njit
def per_example_grads_by_hand(p, x, y):
    g = np.empty((x.shape[0], 2))
    for i in range(x.shape[0]):
        r = 2.0 * (p[0] * x[i] + p[1] - y[i])
        g[i, 0] = r * x[i]
        g[i, 1] = r
    return g


@numba.njit
def pairwise_by_hand(a, b):
    out = np.empty((a.shape[0], b.shape[0]))
    for i in range(a.shape[0]):
        for j in range(b.shape[0]):
            s = 0.0
            for k in range(a.shape[1]):
                s += abs(a[i, k] - b[j, k])
            out[i, j] = s
    return out


def run_w5(jax, autograd):
    rng = np.random.default_rng(0)
    p, x = np.array([1.5, -0.5]), rng.uniform(-1.0, 1.0, N_EXAMPLES)
    y = 2.0 * x + 1.0 + rng.normal(0.0, 0.1, N_EXAMPLES)
    expected = per_example_grads_by_hand(p, x, y)
    results = []
    for target, goal in (("cpu", Target("ratio", 1.2)), ("parallel", Target("time", 0.9 * JAX_W5))):
        batched = s2sjax.vmap(s2sjax.grad(loss), in_axes=(None, 0, 0), target=target)
        check_close(f"vmap(grad) [{target}]", batched(p, x, y), expected)
        results.append(WorkloadResult(
            name="W5" if target == "cpu" else "W5-parallel",
            title=f"vmap(grad(loss)), 10**6 examples, target={target!r}",
            target=goal,
            s2sjax=measure(f"s2sjax.vmap [{target}]", batched, (p, x, y), calls=1, repeats=REPEATS),
            baseline=measure("numba.njit loop, by hand", per_example_grads_by_hand, (p, x, y), calls=1, repeats=REPEATS),
        ))
    return results


def run_w6(jax, autograd):
    rng = np.random.default_rng(1)
    a, b = rng.uniform(size=(N_POINTS, DIM)), rng.uniform(size=(N_POINTS, DIM))
    expected = pairwise_by_hand(a, b)
    results = []
    for target, goal in (("cpu", Target("ratio", 1.2)), ("parallel", Target("time", 0.6 * JAX_W6))):
        pairwise = s2sjax.vmap(s2sjax.vmap(l1, (None, 0)), (0, None), target=target)
        check_close(f"nested vmap [{target}]", pairwise(a, b), expected)
        results.append(WorkloadResult(
            name="W6" if target == "cpu" else "W6-parallel",
            title=f"pairwise L1 by nested vmap, 1000x1000x16, target={target!r}",
            target=goal,
            s2sjax=measure(f"s2sjax.vmap [{target}]", pairwise, (a, b), calls=1, repeats=REPEATS),
            baseline=measure("numba.njit loops, by hand", pairwise_by_hand, (a, b), calls=1, repeats=REPEATS),
        ))
    return results
