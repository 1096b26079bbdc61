"""`python -m bench --cuda`: W5 and W6 with 10**8 examples on a GPU, against the device's peak.

- W5: per-example gradients of a linear model's squared error, 10**8 examples;
- W6: pairwise L1 distances by a nested vmap, 10**4 x 10**4 pairs of points of dimension 16.

Each answer is checked against the CPU's (`target="parallel"`). The kernel is timed alone, on
the arrays s2sjax's call moved to the device (its launch is caught and repeated), and the whole
call, host arrays in and out, beside it. The bandwidth achieved is the bytes the kernel must move
(its arguments read once, its outputs written once) over its time, as a fraction of the device's
peak: memory clock x 2 (double data rate) x bus width. Without a GPU it says so and stops.
"""

import time
from dataclasses import dataclass

import numpy as np

import s2sjax
from bench.w5_w6_vmap import l1, loss
from s2sjax.kinds import vmap as vmap_kind

N_EXAMPLES = 10**8
N_POINTS, DIM = 10**4, 16
REPEATS = 5


@dataclass(frozen=True)
class DeviceResult:
    name: str
    title: str
    kernel_s: float  # the kernel alone, best of REPEATS
    call_s: float  # the whole call, host arrays in and out
    bytes_moved: int
    max_error: float  # the largest difference from the CPU's answer, relative to its size
    peak: float  # the device's memory bandwidth in bytes per second; None in the simulator

    @property
    def bandwidth(self):
        return self.bytes_moved / self.kernel_s

    def line(self):
        fraction = "" if self.peak is None else f", {self.bandwidth / self.peak:.0%} of peak"
        return (
            f"{self.name} {self.title}: kernel {self.kernel_s * 1e3:.2f} ms, "
            f"{self.bandwidth / 1e9:.1f} GB/s{fraction}; whole call {self.call_s * 1e3:.1f} ms; "
            f"largest relative difference from the CPU {self.max_error:.1e}"
        )


def run(n_examples=N_EXAMPLES, n_points=N_POINTS, reference="parallel", repeats=REPEATS):
    """The DeviceResults of W5 and W6, or None where there is no CUDA device."""
    from numba import cuda

    if not cuda.is_available():
        return None
    peak = peak_bandwidth(cuda.current_context().device)
    rng = np.random.default_rng(0)
    p, x = np.array([1.5, -0.5]), rng.uniform(-1.0, 1.0, n_examples)
    y = 2.0 * x + 1.0 + rng.normal(0.0, 0.1, n_examples)
    a, b = rng.uniform(size=(n_points, DIM)), rng.uniform(size=(n_points, DIM))
    w5 = lambda t: s2sjax.vmap(s2sjax.grad(loss), in_axes=(None, 0, 0), target=t)  # noqa: E731
    w6 = lambda t: s2sjax.vmap(s2sjax.vmap(l1, (None, 0)), (0, None), target=t)  # noqa: E731
    checks = (reference, repeats, peak)
    return [
        _measure("W5", f"vmap(grad(loss)), {n_examples:,} examples", w5, (p, x, y), *checks),
        _measure("W6", f"pairwise L1, {n_points}x{n_points}x{DIM}", w6, (a, b), *checks),
    ]


def _measure(name, title, transformed, args, reference, repeats, peak):
    from numba import cuda

    on_device = transformed("cuda")
    on_device(*args)  # compiles
    got, (kernel, sizes, arguments), call_s = _one_launch(on_device, args)
    times = []
    for _ in range(repeats):
        cuda.synchronize()
        start = time.perf_counter()
        vmap_kind._launch(kernel, sizes, arguments)
        cuda.synchronize()
        times.append(time.perf_counter() - start)
    expected = transformed(reference)(*args)
    error = np.max(np.abs(got - expected)) / np.max(np.abs(expected))
    moved = sum(a.nbytes for a in arguments if hasattr(a, "nbytes"))
    return DeviceResult(name, title, min(times), call_s, moved, error, peak)


def _one_launch(transformed, args):
    """(the call's result, its launch: (kernel, grid sizes, device arguments), its time)."""
    launches, launch = [], vmap_kind._launch
    vmap_kind._launch = lambda *caught: launches.append(caught) or launch(*caught)
    try:
        start = time.perf_counter()
        result = transformed(*args)
        elapsed = time.perf_counter() - start
    finally:
        vmap_kind._launch = launch
    return result, launches[0], elapsed


def peak_bandwidth(device):
    """Bytes per second: the memory clock (kHz) x 2 x the bus width (bits) / 8; None in Numba's
    simulator, whose device has neither."""
    try:
        clock_khz, bus_bits = device.MEMORY_CLOCK_RATE, device.GLOBAL_MEMORY_BUS_WIDTH
    except AttributeError:
        return None
    return clock_khz * 1e3 * 2 * bus_bits / 8


def main():
    results = run()
    if results is None:
        print("no CUDA device")
        return
    for result in results:
        print(result.line())
