"""The benchmark harness's own logic: timing order, skipped peers, the docs page and the chart.

The workloads themselves are measured by `python -m bench`, not here: speed is not a unit test.
"""

import importlib.util
import time
from pathlib import Path

import pytest

import s2sjax
from bench import __main__ as bench_main
from bench import plot, report
from bench.programs import all_programs
from bench.programs import page as programs_page
from bench.programs import run as programs_run
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


# The real programs (bench/programs/): s2sjax's gradient of each at a tiny size, on the python
# target (no compile), against central differences; a program s2sjax refuses must be refused
# with a TransformError that points into the program's own file (bench/programs/run.py and page.py
# compute the oracle and the table; the timed run itself is `python -m bench --only programs`).
PROGRAMS = all_programs()


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_each_program_s_gradient_matches_finite_differences_or_is_refused_where_written(program):
    args = program.make_args(True)
    try:
        got = programs_run.s2sjax_gradient(program, "python")(*args)
    except s2sjax.TransformError as error:
        # a lifted lambda's error names its file inside the generated one's name
        assert Path(program.objective.__code__.co_filename).name in error.filename
        assert error.lineno
        return
    want = programs_run.expected_gradient(program, args)
    programs_run.check(program.name, programs_run.flatten(got), want, rtol=1e-5)


def test_the_programs_table_reports_ratios_and_refusals():
    timed = programs_run.ProgramResult(
        "p", "a/b, f.py", [Timing("s2sjax.grad", 2e-3, []), Timing("jax.jit(jax.grad)", 1e-3, [])]
    )
    timed.skipped["autograd"] = "in-place writes"
    refused = programs_run.ProgramResult("q", "c/d, g.py", refused="TransformError: no")
    text = programs_page.table([timed, refused]) + "\n" + programs_page.summary([timed, refused])
    assert "| p | a/b, f.py | 2 ms | 2.00× | in-place writes | — |" in text
    assert "| q | c/d, g.py | refused: `TransformError: no` |" in text
    assert (
        "geometric mean 2.00× over 1 programs" in text and "Refused by s2sjax: 1 of 2 (q)" in text
    )


def test_a_marked_block_is_replaced_in_place_or_appended(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("intro\n")
    report.replace_marked_block(page, "<!-- b -->", "<!-- e -->", "<!-- b -->\nold\n<!-- e -->")
    page.write_text(page.read_text() + "notes by hand\n")
    report.replace_marked_block(page, "<!-- b -->", "<!-- e -->", "<!-- b -->\nnew\n<!-- e -->")
    assert page.read_text() == "intro\n\n<!-- b -->\nnew\n<!-- e -->\nnotes by hand\n"
