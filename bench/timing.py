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


def measure_interleaved(entries, *, calls, repeats):
    """`measure` of several (impl, fn, args) entries side by side: each repeat times `calls`
    back-to-back calls of each in turn, so a machine that slows down slows them all alike.
    Returns the Timings in the same order."""
    for _, fn, args in entries:
        fn(*args)
    samples = [[] for _ in entries]
    for _ in range(repeats):
        for own, (_, fn, args) in zip(samples, entries):
            start = time.perf_counter()
            for _ in range(calls):
                fn(*args)
            own.append((time.perf_counter() - start) / calls)
    return [
        Timing(impl, statistics.median(own), own) for (impl, _, _), own in zip(entries, samples)
    ]


def measure_together(entries, *, repeats, rounds=5, settle=0.2):
    """Median seconds per call of several implementations, measured in rotating blocks.

    Each round times every implementation once, in a block of `repeats // rounds` calls after
    one untimed call, and the order rotates from round to round, so no implementation always
    follows the same other one. Before each block the process sleeps `settle` seconds: the
    thread pools of the previous one (OpenBLAS, XLA) spin for a while after their last call
    and would take the cores from the next one. `entries`: (impl, fn, args) triples.
    Returns the Timings in the same order.
    """
    per_round = max(1, repeats // rounds)
    samples = [[] for _ in entries]
    for round_ in range(rounds):
        for k in range(len(entries)):
            k = (k + round_) % len(entries)
            _, fn, args = entries[k]
            time.sleep(settle)
            fn(*args)
            for _ in range(per_round):
                start = time.perf_counter()
                fn(*args)
                samples[k].append(time.perf_counter() - start)
    return [
        Timing(impl, statistics.median(own), own) for (impl, _, _), own in zip(entries, samples)
    ]


def check_then_measure(entries, expected, *, repeats, flatten=None, rtol=1e-5):
    """Check every (impl, fn, args) entry's result (`flatten`ed first) against `expected`, then
    time them all with `measure_together`: a fast wrong answer is not a result."""
    for impl, fn, args in entries:
        got = fn(*args)
        check_close(impl, got if flatten is None else flatten(got), expected, rtol=rtol)
    return measure_together(entries, repeats=repeats)


def check_close(impl, got, want, *, rtol=1e-5, atol=1e-8):
    """Raise unless `got` matches `want`: a fast wrong answer is not a result."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol):
        raise WrongResultError(f"{impl} gave a wrong result:\n  got  {got!r}\n  want {want!r}")
