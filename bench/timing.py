"""Timing and result-checking helpers shared by the workloads."""

import statistics
import time
from dataclasses import dataclass

import numpy as np


class WrongResultError(AssertionError):
    """An implementation returned a different result from the reference."""


@dataclass
class Timing:
    impl: str
    seconds: float  # median seconds per call
    samples: list[float]  # seconds per call, one entry per repeat


def measure(impl, fn, args, *, calls, repeats):
    """Median over `repeats` of the mean time of `calls` back-to-back calls.

    One untimed call first, so compilation and first-call caches are excluded.
    """
    fn(*args)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn(*args)
        samples.append((time.perf_counter() - start) / calls)
    return Timing(impl, statistics.median(samples), samples)


def measure_together(entries, *, repeats):
    """`measure` for several implementations at once, one call of each per round (calls=1).

    Interleaving keeps them under the same conditions: the state of the memory allocator
    (whether a fresh output's pages must be faulted in) and of the shared machine.
    `entries`: (impl, fn, args) triples. Returns the Timings in the same order.
    """
    for _, fn, args in entries:
        fn(*args)
    samples = [[] for _ in entries]
    for _ in range(repeats):
        for (_, fn, args), own in zip(entries, samples):
            start = time.perf_counter()
            fn(*args)
            own.append(time.perf_counter() - start)
    return [Timing(impl, statistics.median(own), own) for (impl, _, _), own in zip(entries, samples)]


def check_close(impl, got, want, *, rtol=1e-5, atol=1e-8):
    """Raise unless `got` matches `want`: a fast wrong answer is not a result."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol):
        raise WrongResultError(
            f"{impl} gave a wrong result:\n  got  {got!r}\n  want {want!r}"
        )
