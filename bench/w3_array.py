"""W3: gradient of an elementwise-then-sum function of a 10**6 float64 array.

A good gradient here is one fused pass over memory, like the hand-written loop.
"""

import math

import numba
import numpy as np

import s2sjax
from bench.report import Target, WorkloadResult, than_jax
from bench.timing import check_then_measure

N = 10**6
REPEATS = 25


def f(x):
    return np.sum(np.sin(x) * x**2)


def _value_and_grad(x):
    g = np.empty_like(x)
    s = 0.0
    for i in numba.prange(x.shape[0]):  # a plain range unless compiled with parallel=True
        xi = x[i]
        sin_xi = math.sin(xi)
        s += sin_xi * xi * xi
        g[i] = math.cos(xi) * xi * xi + 2.0 * xi * sin_xi
    return s, g


value_and_grad_by_hand = numba.njit(_value_and_grad)
value_and_grad_by_hand_parallel = numba.njit(parallel=True)(_value_and_grad)


def make_input():
    return np.random.default_rng(0).uniform(-1.0, 1.0, N)


def run(jax, autograd):
    x = make_input()
    _, expected = value_and_grad_by_hand(x)
    entries = [
        ("s2sjax.grad", s2sjax.grad(f), (x,)),
        ("s2sjax.grad [parallel]", s2sjax.grad(f, target="parallel"), (x,)),
        ("numba.njit loop, by hand", lambda x: value_and_grad_by_hand(x)[1], (x,)),
        (
            "numba.njit(parallel=True) loop, by hand",
            lambda x: value_and_grad_by_hand_parallel(x)[1],
            (x,),
        ),
    ]
    if jax is not None:  # a JAX user keeps arrays on the device: converted once, outside the timing
        entries.append(("jax.jit(jax.grad)", jax_grad(jax), (jax.numpy.asarray(x),)))
    if autograd is not None:
        entries.append(("autograd.grad", autograd_grad(autograd), (x,)))
    ours, parallel, baseline, *peers = check_then_measure(entries, expected, repeats=REPEATS)
    title = "grad of sum(sin(x)*x**2), n=10**6"
    return [
        WorkloadResult(
            name="W3",
            title=title,
            target=Target("ratio", 1.3),
            s2sjax=ours,
            baseline=baseline,
            peers=peers,
        ),
        WorkloadResult(
            name="W3-parallel",
            title=f"{title}, target='parallel'",
            s2sjax=parallel,
            baseline=baseline,
            target=than_jax(1.0, peers, Target("ratio", 1.0, "≤ 1× baseline (JAX not installed)")),
        ),
    ]


def jax_grad(jax):
    jnp = jax.numpy
    grad = jax.jit(jax.grad(lambda x: jnp.sum(jnp.sin(x) * x**2)))
    return lambda x: grad(x).block_until_ready()


def autograd_grad(autograd):
    anp = autograd.numpy
    return autograd.grad(lambda x: anp.sum(anp.sin(x) * x**2))
