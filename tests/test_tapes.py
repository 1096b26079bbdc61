"""Tapes keep only the overwritten values the backward sweep reads.

An array the function allocates and fills in loops, read only after its last write, keeps no
old values: no saves, no restores, no tape (s2sjax/passes/unread.py). A time loop updating
arrays by slices at fixed places tapes the values each step overwrites, not the whole arrays.
Each case is checked against float64 finite differences (tests/fd.py) on python and cpu; the
other transformations against finite differences, against each other, or (vmap) against a
Python loop. An array read between its writes keeps its tape, and its derivative is checked
the same way.
"""

import math

import numpy as np
import pytest

import s2sjax
from bench.tapes import tape_bytes

from .fd import numerical_grad


def fills(u, s):
    """A fresh matrix swept twice, by rows (slices) and by elements, each write overwriting
    the last without reading it; read whole only after, also under a second name."""
    n = u.shape[0]
    d = np.zeros((n, n))
    for k in range(2):
        for i in range(n):
            d[i] = np.sin(u * s + k)
            for j in range(1, n):
                d[i, j] = u[i] * u[j - 1] + k * s
    e = d
    return np.sum(e * d) + np.sum(np.cos(d)) * s


def read_between(u, s):
    """A fresh vector read between two fills: the second fill's old values are needed."""
    n = u.shape[0]
    d = np.zeros(n)
    for i in range(n):
        d[i] = u[i] * s
    t = np.sum(d * d)
    for i in range(n):
        d[i] = np.sin(d[i]) * u[i]
    return t + np.sum(d * u)


def options(S, X, T):
    """Black-Scholes' shape: two fresh outputs filled element by element, summed after."""
    call, put = np.zeros_like(S), np.zeros_like(S)
    for i in range(len(S)):
        d1 = math.log(S[i] / X[i]) + 0.5 * T[i]
        call[i] = S[i] * math.exp(-d1 * d1) - X[i]
        put[i] = X[i] * T[i] - S[i] * math.tanh(d1)
    return np.sum(call) + np.sum(put * put)


def time_steps(u, s):
    """Time steps over slices, two arrays updated in turn and read between the updates, with
    a store overlapping the last and reading what it overwrites: nonlinear, so the backward
    sweep reads what each step overwrote."""
    a, b = np.copy(u), np.zeros_like(u)
    for t in range(3):
        b[1:-1] = np.sin(a[:-2] * a[2:]) + s * a[1:-1]
        a[1:-1] = b[1:-1] * b[:-2] + 0.5 * np.cos(b[2:])
        a[:2] = a[:2] * s
    return np.sum(a * a) + np.sum(b)


RNG = np.random.default_rng(23)
U, S = RNG.uniform(-1.0, 1.0, 4), 0.7
PRICES = tuple(RNG.uniform(0.5, 2.0, 5) for _ in range(3))
CASES = {
    "fills": (fills, (U, S), (0, 1)),
    "read_between": (read_between, (U, S), (0, 1)),
    "options": (options, PRICES, (0, 1, 2)),
    "time_steps": (time_steps, (U, S), (0, 1)),
}
GRADS = {
    (case, target): s2sjax.grad(fun, argnums=argnums, target=target)
    for case, (fun, _, argnums) in CASES.items()
    for target in ("python", "cpu")
}


@pytest.mark.parametrize("target", ["python", "cpu"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_against_finite_differences(case, target):
    fun, args, argnums = CASES[case]
    grads = GRADS[case, target](*args)
    for argnum, g in zip(argnums, grads):
        np.testing.assert_allclose(g, numerical_grad(fun, args, argnum), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("case", ["fills", "options"])
def test_arrays_read_only_after_their_writes_keep_no_tape(case):
    fun, args, argnums = CASES[case]
    assert tape_bytes(lambda: GRADS[case, "python"](*args)) == 0
    assert "_old" not in s2sjax.source(GRADS[case, "python"], *args)


def test_an_array_read_between_its_writes_keeps_its_tape():
    assert tape_bytes(lambda: GRADS["read_between", "python"](U, S)) > 0


def test_time_steps_tape_only_what_they_overwrite():
    trips, n = 3, U.shape[0]
    overwritten = 8 * trips * (2 * (n - 2) + 2)  # b[1:-1], a[1:-1] and a[:2], each step
    assert tape_bytes(lambda: GRADS["time_steps", "python"](U, S)) == overwritten


def test_other_transformations_of_a_fill():
    value, (gu, gs) = s2sjax.value_and_grad(fills, argnums=(0, 1), target="python")(U, S)
    assert value == fills(U, S)
    v = RNG.uniform(-1.0, 1.0, 4)
    _, tangent = s2sjax.jvp(fills, (U, S), (v, 0.3), target="python")
    assert tangent == pytest.approx(np.dot(gu, v) + 0.3 * gs, rel=1e-10)
    _, pullback = s2sjax.vjp(fills, U, S, target="python")
    cu, cs = pullback(1.0)
    np.testing.assert_allclose(cu, gu, rtol=1e-12)
    assert cs == pytest.approx(gs, rel=1e-12)
    np.testing.assert_allclose(s2sjax.jacrev(fills, target="python")(U, S), gu, rtol=1e-12)
    np.testing.assert_allclose(s2sjax.jacfwd(fills, target="python")(U, S), gu, rtol=1e-10)
    hessian = s2sjax.hessian(fills, target="python")(U, S)
    by_fd = [numerical_grad(lambda u: s2sjax.grad(fills)(u, S)[k], (U,), 0) for k in range(4)]
    np.testing.assert_allclose(hessian, by_fd, rtol=1e-6, atol=1e-8)


# parallel compiles slowly: the full sweep runs it (`-m sweep`)
@pytest.mark.parametrize("target", ["python", pytest.param("parallel", marks=pytest.mark.sweep)])
def test_vmap_of_the_gradient_of_a_fill_equals_a_loop(target):
    us = RNG.uniform(-1.0, 1.0, (3, 4))
    batched = s2sjax.vmap(s2sjax.grad(fills), in_axes=(0, None), target=target)(us, S)
    looped = [GRADS["fills", "python"](u, S)[0] for u in us]
    np.testing.assert_allclose(batched, looped, rtol=1e-12, atol=1e-14)
