"""The benchmark harness's own logic: timing order, skipped peers, the docs page and the chart.

The workloads themselves are measured by `python -m bench`, not here: speed is not a unit test.
"""

import importlib.util
import time

from bench import __main__ as bench_main
from bench import plot, report
from bench.report import Target, WorkloadResult
from bench.timing import Timing, measure_together


def test_measure_together_keeps_each_implementation_s_own_samples():
    def slow():
        time.sleep(0.004)

    def fast():
        pass

    timings = measure_together(
        [("slow", slow, ()), ("fast", fast, ())], repeats=6, rounds=3, settle=0.0
    )
    assert [t.impl for t in timings] == ["slow", "fast"]
    assert all(len(t.samples) == 6 for t in timings)  # 2 per round
    assert min(timings[0].samples) >= 0.004 > max(timings[1].samples)


def test_a_missing_peer_is_reported_as_skipped(monkeypatch, capsys):
    class NoPeers:
        import_jax = staticmethod(lambda: None)
        import_autograd = staticmethod(lambda: None)

    jax, autograd, skipped = bench_main.load_peers(NoPeers)
    assert (jax, autograd) == (None, None)
    assert skipped == ["jax not installed", "autograd not installed"]
    assert "skipped: jax not installed" in capsys.readouterr().out


RESULTS = [
    WorkloadResult(
        "W9",
        "a workload",
        Target("ratio", 1.2),
        Timing("s2sjax.grad", 2e-3, [2e-3]),
        Timing("numba.njit, by hand", 1e-3, [1e-3]),
        [Timing("jax.jit(jax.grad)", 4e-3, [4e-3])],
    ),
    WorkloadResult(
        "cold-W9", "a cold start", Target("time", 1.0), Timing("s2sjax, first call", 0.5, [0.5])
    ),
]
MACHINE = {"platform": "Linux", "cpu": "a CPU", "cpu_count": 2, "python": "3.11", "commit": "abc"}


def test_the_page_shows_the_run_and_keeps_the_notes_written_by_hand(tmp_path):
    page = tmp_path / "benchmarks.md"
    report.write_page(page, MACHINE, RESULTS, ["autograd not installed"], "chart.png")
    with page.open("a") as notes:
        notes.write("\nW9 is slow because of X.\n")
    report.write_page(page, MACHINE, RESULTS[:1], [], None)
    text = page.read_text()
    assert "| W9: a workload | 2 ms | 1 ms | 2.00× | ≤ 1.2× baseline | NO |" in text
    assert "| W9 | jax.jit(jax.grad) | 4 ms | 4.00× |" in text
    assert (
        "cold-W9" not in text and "chart.png" not in text and "autograd not installed" not in text
    )
    assert text.endswith(report.NOTES_MARK + "\n\nW9 is slow because of X.\n")


def test_the_chart_is_written_where_matplotlib_is_installed(tmp_path):
    chart = tmp_path / "chart.png"
    written = plot.plot(RESULTS, chart)
    assert written == (importlib.util.find_spec("matplotlib") is not None)
    assert chart.exists() == written
    if written:
        assert chart.read_bytes().startswith(b"\x89PNG")


def test_the_gpu_benchmark_checks_its_answers_and_counts_its_bytes_in_the_simulator():
    from bench import cuda

    w5, w6 = cuda.run(n_examples=130, n_points=8, reference="python", repeats=1)
    assert (w5.bytes_moved, w6.bytes_moved) == (
        16 + 2 * 130 * 8 + 130 * 2 * 8,
        2 * 8 * 16 * 8 + 8 * 8 * 8,
    )
    assert w5.max_error < 1e-12 and w6.max_error < 1e-12
    assert w5.peak is None  # the simulator's device has no memory clock
    assert "largest relative difference from the CPU" in w6.line()
