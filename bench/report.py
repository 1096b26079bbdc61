"""Workload results: the Markdown tables, machine info and the JSON record."""

import dataclasses
import json
import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numba
import numpy as np

from bench.timing import Timing


@dataclass(frozen=True)
class Target:
    kind: str  # "time": s2sjax seconds <= value; "ratio": s2sjax / baseline <= value
    value: float
    text: str | None = None  # how to describe it, when not by its value (e.g. "≤ 0.9× JAX")

    def describe(self):
        if self.text:
            return (
                f"{self.text} ({format_seconds(self.value)})" if self.kind == "time" else self.text
            )
        if self.kind == "time":
            return f"≤ {format_seconds(self.value)}"
        return f"≤ {self.value:g}× baseline"


def than_jax(fraction, timings, without_jax):
    """Target: `fraction` of JAX's time among `timings` (this run's).

    `without_jax` when JAX is absent from them.
    """
    jax_timing = next((t for t in timings if t.impl.startswith("jax")), None)
    if jax_timing is None:
        return without_jax
    return Target("time", fraction * jax_timing.seconds, f"≤ {fraction:g}× JAX")


@dataclass
class WorkloadResult:
    name: str
    title: str
    target: Target
    s2sjax: Timing
    baseline: Timing | None = None
    peers: list[Timing] = field(default_factory=list)

    @property
    def ratio(self):
        if self.baseline is None:
            return None
        return self.s2sjax.seconds / self.baseline.seconds

    @property
    def met(self):
        if self.target.kind == "time":
            return self.s2sjax.seconds <= self.target.value
        return self.ratio <= self.target.value


def format_seconds(seconds):
    """Three significant digits in the largest unit that keeps the number ≥ 1."""
    seconds = float(f"{seconds:.3g}")  # so 999.7 µs prints as 1 ms, not 1e+03 µs
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_ratio(ratio):
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.0f}×"


def results_table(results):
    rows = [
        "| workload | s2sjax | baseline | ratio | target | met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        baseline = format_seconds(r.baseline.seconds) if r.baseline else "—"
        ratio = format_ratio(r.ratio) if r.baseline else "—"
        rows.append(
            f"| {r.name}: {r.title} | {format_seconds(r.s2sjax.seconds)} | {baseline}"
            f" | {ratio} | {r.target.describe()} | {'yes' if r.met else 'NO'} |"
        )
    return "\n".join(rows)


def peers_table(results):
    rows = [
        "| workload | implementation | time | vs baseline |",
        "| --- | --- | --- | --- |",
    ]
    for r in results:
        for peer in r.peers:
            ratio = format_ratio(peer.seconds / r.baseline.seconds) if r.baseline else "—"
            rows.append(f"| {r.name} | {peer.impl} | {format_seconds(peer.seconds)} | {ratio} |")
    return "\n".join(rows)


def machine_info():
    import s2sjax

    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "s2sjax": getattr(s2sjax, "__version__", "unknown"),
        **_peer_versions(),
        "commit": git_commit(),
    }


def _peer_versions():
    """The versions of the optional peers that are installed."""
    from importlib import metadata

    versions = {}
    for name in ("jax", "jaxlib", "autograd"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit():
    """The commit measured, with '+dirty' for uncommitted changes; None outside git."""
    repo = Path(__file__).resolve().parent.parent
    try:
        commit = _git(repo, "rev-parse", "HEAD")
        # bench/results/ is this program's own output, not code under test.
        dirty = _git(repo, "status", "--porcelain", "--", ".", ":!bench/results")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def _git(repo, *args):
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def write_json(path, machine, results, skipped):
    record = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "skipped": skipped,
        "workloads": [{**dataclasses.asdict(r), "ratio": r.ratio, "met": r.met} for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so an interrupted run never leaves a truncated file.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


NOTES_MARK = "<!-- Everything below is written by hand; python -m bench keeps it. -->"


def replace_marked_block(page, begin, end, block):
    """Put `block` (which starts with `begin` and ends with `end`) on `page` in place of the one
    between those marks, or at its end where it has none yet."""
    text = page.read_text()
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    page.write_text(text)


def write_page(path, machine, results, skipped, chart):
    """docs/benchmarks.md: the run's tables (and `chart`, a file name beside it, when not None),
    followed by the hand-written notes already on the page, kept as they are."""
    notes = (
        path.read_text().split(NOTES_MARK, 1)[1]
        if path.exists() and NOTES_MARK in path.read_text()
        else "\n"
    )
    versions = ", ".join(
        f"{k} {v}"
        for k, v in machine.items()
        if k not in ("platform", "cpu", "cpu_count", "commit")
    )
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} by `python -m bench` on {machine['cpu']} "
        f"({machine['cpu_count']} cores, {machine['platform']}), "
        f"commit `{machine['commit']}`: {versions}.",
        "Every implementation's result is checked against the hand-written one before it is timed;",
        "times are medians. The baseline is a hand-written serial `@numba.njit` function.",
        "",
        results_table(results),
    ]
    if any(r.peers for r in results):
        lines += ["", "Peers in the same run:", "", peers_table(results)]
    if skipped:
        lines += ["", "Skipped: " + "; ".join(skipped) + "."]
    if chart:
        lines += [
            "",
            f"![Time of each implementation over the hand-written baseline, log scale]({chart})",
        ]
    path.write_text("\n".join(lines) + "\n\n" + NOTES_MARK + notes)
