"""W3: gradient of an elementwise-then-sum function of a 10**6 float64 array.

A good gradient here is one fused pass over memory, like the hand-written loop.
"""

import math

import numba
import numpy as np

import s2sjax
from bench.report import Target, WorkloadResult
from bench.timing import check_close, measure

N = 10 ** 6
REPEATS = 15


def f(x):
    return np.sum(np.sin(x) * x ** 2)


@numba.njit
def value_and_grad_by_hand(x):
    g = np.empty_like(x)
    s = 0.0
    for i in range(x.shape[0]):
        xi = x[i]
        sin_xi = math.sin(xi)
        s += sin_xi * xi * xi
        g[i] = math.cos(xi) * xi * xi + 2.0 * xi * sin_xi
    return s, g


def make_input():
    return np.random.default_rng(0).uniform(-1.0, 1.0, N)


def run(jax, autograd):
    x = make_input()
    _, expected = value_and_grad_by_hand(x)
    grad = s2sjax.grad(f)
    check_close("s2sjax.grad", grad(x), expected)
    return WorkloadResult(
        name="W3",
        title="grad of sum(sin(x)*x**2), n=10**6",
        target=Target("ratio", 1.3),
        s2sjax=measure("s2sjax.grad", grad, (x,), calls=1, repeats=REPEATS),
        baseline=measure(
            "numba.njit loop, by hand", value_and_grad_by_hand, (x,), calls=1, repeats=REPEATS
        ),
        peers=peer_timings(jax, autograd, x, expected),
    )


def peer_timings(jax, autograd, x, expected):
    timings = []
    if jax is not None:
        # A JAX user keeps arrays on the device: convert once, outside the timing.
        timings.append(_time_peer("jax.jit(jax.grad)", jax_grad(jax), jax.numpy.asarray(x), expected))
    if autograd is not None:
        timings.append(_time_peer("autograd.grad", autograd_grad(autograd), x, expected))
    return timings


def _time_peer(impl, grad, x, expected):
    check_close(impl, grad(x), expected)
    return measure(impl, grad, (x,), calls=1, repeats=REPEATS)


def jax_grad(jax):
    jnp = jax.numpy
    grad = jax.jit(jax.grad(lambda x: jnp.sum(jnp.sin(x) * x ** 2)))
    return lambda x: grad(x).block_until_ready()


def autograd_grad(autograd):
    anp = autograd.numpy
    return autograd.grad(lambda x: anp.sum(anp.sin(x) * x ** 2))
