"""W5 and W6: vmap. Per-example gradients of a linear model's squared error over 10**6 examples,
and pairwise L1 distances between 1000 and 1000 points of dimension 16 by a nested vmap.

Baselines are hand-written serial Numba loops. The `target="parallel"` goals are ratios to JAX
(`jax.jit` of the same vmap, float64, arrays already on the device), timed in the same run; where
JAX is not installed they fall back to the issue's reference times (0.97 ms for W5, 10.1 ms for W6).
Hand-written `prange` loops are timed beside them as peers, and so is `target="cuda"` where a
GPU is present.
"""

import os

import numba
import numpy as np

import s2sjax
from bench.report import Target, WorkloadResult, than_jax
from bench.timing import check_then_measure

N_EXAMPLES = 10**6
N_POINTS, DIM = 1000, 16
REPEATS = 25
JAX_W5, JAX_W6 = 0.97e-3, 10.1e-3  # the reference machine


def loss(p, x, y):
    return (p[0] * x + p[1] - y) ** 2


def l1(a, b):
    return np.sum(np.abs(a - b))


@numba.njit
def _grad_row(p, x, y, g, i):
    r = 2.0 * (p[0] * x[i] + p[1] - y[i])
    g[i, 0] = r * x[i]
    g[i, 1] = r


@numba.njit
def per_example_grads_by_hand(p, x, y):
    g = np.empty((x.shape[0], 2))
    for i in range(x.shape[0]):
        _grad_row(p, x, y, g, i)
    return g


@numba.njit(parallel=True)
def per_example_grads_by_hand_parallel(p, x, y):
    g = np.empty((x.shape[0], 2))
    for i in numba.prange(x.shape[0]):
        _grad_row(p, x, y, g, i)
    return g


@numba.njit
def _l1_row(a, b, out, i):
    for j in range(b.shape[0]):
        s = 0.0
        for k in range(a.shape[1]):
            s += abs(a[i, k] - b[j, k])
        out[i, j] = s


@numba.njit
def pairwise_by_hand(a, b):
    out = np.empty((a.shape[0], b.shape[0]))
    for i in range(a.shape[0]):
        _l1_row(a, b, out, i)
    return out


@numba.njit(parallel=True)
def pairwise_by_hand_parallel(a, b):
    out = np.empty((a.shape[0], b.shape[0]))
    for i in numba.prange(a.shape[0]):
        _l1_row(a, b, out, i)
    return out


def _workload(name, title, goals, transformed, by_hand, jax_fn, args, jax_args):
    """Check every implementation against the serial hand-written loop, then time them all together.

    `goals`: per target, its Target (a callable of this run's timings for the parallel one);
    `transformed`: target -> the s2sjax function; `by_hand`: (serial, parallel) loops.
    """
    expected = by_hand[0](*args)
    entries = [(f"s2sjax.vmap [{t}]", transformed(t), args) for t in goals]
    entries += [
        ("numba.njit loop, by hand", by_hand[0], args),
        ("numba.njit(parallel=True), by hand", by_hand[1], args),
    ]
    if _gpu():
        entries.append(("s2sjax.vmap [cuda], host arrays in and out", transformed("cuda"), args))
    if jax_fn is not None:
        entries.append(("jax.jit(jax.vmap(...)), arrays on the device", jax_fn, jax_args))
    timings = check_then_measure(entries, expected, repeats=REPEATS)
    ours, baseline, peers = timings[: len(goals)], timings[len(goals)], timings[len(goals) + 1 :]
    return [
        WorkloadResult(
            name=name if target == "cpu" else f"{name}-{target}",
            title=f"{title}, target={target!r}",
            target=goal(peers) if callable(goal) else goal,
            s2sjax=timing,
            baseline=baseline,
            peers=peers if target == "parallel" else [],
        )
        for (target, goal), timing in zip(goals.items(), ours)
    ]


def _gpu():
    """Whether a real GPU is here (not Numba's simulator): then the cuda target is timed too."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return False
    try:
        from numba import cuda
    except ImportError:
        return False
    return cuda.is_available()


def _than_jax(fraction, reference):
    """`fraction` of JAX's time in this run.

    Or of the reference machine's, where JAX is not installed.
    """
    return lambda timings: than_jax(fraction, timings, Target("time", fraction * reference))


def _on_device(jax, args):
    return args if jax is None else tuple(jax.numpy.asarray(a) for a in args)


def run_w5(jax, autograd):
    rng = np.random.default_rng(0)
    p, x = np.array([1.5, -0.5]), rng.uniform(-1.0, 1.0, N_EXAMPLES)
    y = 2.0 * x + 1.0 + rng.normal(0.0, 0.1, N_EXAMPLES)
    jax_fn = None
    if jax is not None:
        batched = jax.jit(
            jax.vmap(jax.grad(lambda p, x, y: (p[0] * x + p[1] - y) ** 2), in_axes=(None, 0, 0))
        )
        jax_fn = lambda p, x, y: batched(p, x, y).block_until_ready()  # noqa: E731
    return _workload(
        "W5",
        "vmap(grad(loss)), 10**6 examples",
        {"cpu": Target("ratio", 1.2), "parallel": _than_jax(0.9, JAX_W5)},
        lambda t: s2sjax.vmap(s2sjax.grad(loss), in_axes=(None, 0, 0), target=t),
        (per_example_grads_by_hand, per_example_grads_by_hand_parallel),
        jax_fn,
        (p, x, y),
        _on_device(jax, (p, x, y)),
    )


def run_w6(jax, autograd):
    rng = np.random.default_rng(1)
    a, b = rng.uniform(size=(N_POINTS, DIM)), rng.uniform(size=(N_POINTS, DIM))
    jax_fn = None
    if jax is not None:
        jnp = jax.numpy
        pairwise = jax.jit(
            jax.vmap(jax.vmap(lambda a, b: jnp.sum(jnp.abs(a - b)), (None, 0)), (0, None))
        )
        jax_fn = lambda a, b: pairwise(a, b).block_until_ready()  # noqa: E731
    return _workload(
        "W6",
        "pairwise L1 by nested vmap, 1000x1000x16",
        {"cpu": Target("ratio", 1.2), "parallel": _than_jax(0.6, JAX_W6)},
        lambda t: s2sjax.vmap(s2sjax.vmap(l1, (None, 0)), (0, None), target=t),
        (pairwise_by_hand, pairwise_by_hand_parallel),
        jax_fn,
        (a, b),
        _on_device(jax, (a, b)),
    )
