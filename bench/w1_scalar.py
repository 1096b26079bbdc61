"""W1: per-call latency of the gradient of a scalar function of a Python float.

This is the case where a tracing JIT pays its dispatch overhead on every call.
"""

import math

import numba

import s2sjax
from bench.report import Target, WorkloadResult
from bench.timing import Timing, check_close, measure, measure_interleaved

X = 0.13
CALLS = 100_000
PEER_CALLS = 10_000  # JAX and autograd take tens of µs per call
REPEATS = 7


def f(x):
    return x * math.sin(x**2)


@numba.njit
def df_by_hand(x):
    return math.sin(x * x) + 2 * x * x * math.cos(x * x)


def run(jax, autograd):
    """W1, and W1-jit: `jit(grad(f))`, which should cost what `grad(f)` does."""
    expected = df_by_hand(X)
    grad = s2sjax.grad(f)
    jitted = s2sjax.jit(s2sjax.grad(f))
    check_close("s2sjax.grad", grad(X), expected)
    check_close("s2sjax.jit(s2sjax.grad)", jitted(X), expected)
    timed_grad, timed_jit, by_hand = measure_interleaved(
        [
            ("s2sjax.grad", grad, (X,)),
            ("s2sjax.jit(s2sjax.grad)", jitted, (X,)),
            ("numba.njit, by hand", df_by_hand, (X,)),
        ],
        calls=CALLS,
        repeats=REPEATS,
    )
    return [
        WorkloadResult(
            name="W1",
            title="grad of x*sin(x**2), float, per call",
            target=Target("ratio", 2.0),
            s2sjax=timed_grad,
            baseline=by_hand,
            peers=peer_timings(jax, autograd, expected),
        ),
        WorkloadResult(
            name="W1-jit",
            title="jit(grad) of x*sin(x**2), float, per call, vs grad alone",
            target=Target("ratio", 1.1),
            s2sjax=timed_jit,
            baseline=Timing("s2sjax.grad", timed_grad.seconds, timed_grad.samples),
        ),
    ]


def peer_timings(jax, autograd, expected):
    timings = []
    if jax is not None:
        timings.append(_time_peer("jax.jit(jax.grad)", jax_grad(jax), expected))
    if autograd is not None:
        timings.append(_time_peer("autograd.grad", autograd_grad(autograd), expected))
    return timings


def _time_peer(impl, grad, expected):
    check_close(impl, grad(X), expected)
    return measure(impl, grad, (X,), calls=PEER_CALLS, repeats=REPEATS)


def jax_grad(jax):
    jnp = jax.numpy
    grad = jax.jit(jax.grad(lambda x: x * jnp.sin(x**2)))
    # JAX dispatches asynchronously: wait for the result, as a caller would.
    return lambda x: grad(x).block_until_ready()


def autograd_grad(autograd):
    anp = autograd.numpy
    return autograd.grad(lambda x: x * anp.sin(x**2))
