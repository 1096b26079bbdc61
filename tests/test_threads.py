"""Threads calling one new transformed function at once: it is generated and compiled once."""

import threading
from unittest import mock

import numpy as np
import pytest

import s2sjax
from s2sjax import pipeline

from .fd import numerical_grad
from .util import define

THREADS = 8


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_eight_threads_share_one_generation_and_all_get_the_right_gradient(target):
    fun = define("""
    def energy(x, k):
        total = 0.0
        for i in range(x.shape[0]):
            total = total + k * np.sin(x[i]) * x[i]
        return total
    """)
    grad = s2sjax.grad(fun, target=target)
    inputs = [np.linspace(0.1, 1.0, 5) * (t + 1) for t in range(THREADS)]
    results, errors = [None] * THREADS, []
    start = threading.Barrier(THREADS)

    def work(t):
        try:
            start.wait()
            results[t] = grad(inputs[t], 0.5)
        except Exception as exc:  # reported below, with the thread's number
            errors.append((t, exc))

    with mock.patch.object(pipeline, "generate", wraps=pipeline.generate) as generate:
        threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors
    assert generate.call_count == 1, "the code was generated more than once"
    for x, got in zip(inputs, results):
        np.testing.assert_allclose(got, numerical_grad(fun, (x, 0.5), 0), rtol=1e-9)
    if target == "cpu":
        entry = grad.specialization((inputs[0], 0.5))
        assert len(entry.call.overloads) == 1, "Numba compiled more than once"


def test_threads_calling_with_containers_share_one_flat_transformation():
    fun = define("""
    def linear(params, x):
        w, b = params
        return np.sum((w * x + b) ** 2)
    """)
    grad = s2sjax.grad(fun, target="python")
    barrier = threading.Barrier(THREADS)
    results = [None] * THREADS

    def work(t):
        barrier.wait()
        results[t] = grad([np.ones(3) * t, 1.0], np.arange(3.0))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(grad._flats) == 1
    for t, got in enumerate(results):
        r = np.ones(3) * t * np.arange(3.0) + 1.0
        np.testing.assert_allclose(got[0], 2 * r * np.arange(3.0), rtol=1e-13)
        np.testing.assert_allclose(got[1], 2 * np.sum(r), rtol=1e-13)
