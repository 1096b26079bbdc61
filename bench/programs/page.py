"""The programs' table and chart in docs/benchmarks.md, between two marker lines below the
hand-written notes, so a full `python -m bench` keeps them and `--only programs` renews them."""

import math
from datetime import datetime, timezone
from pathlib import Path

from bench.report import (
    format_ratio,
    format_seconds,
    git_commit,
    machine_info,
    replace_marked_block,
)

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
PAGE, CHART = DOCS / "benchmarks.md", "benchmarks-programs.png"
BEGIN = "<!-- programs: begin (python -m bench --only programs writes this block) -->"
END = "<!-- programs: end -->"
PEERS = (("jax", "JAX"), ("autograd", "autograd"), ("numba", "Numba"))


def ratio(result, family):
    ours, theirs = result.seconds("s2sjax"), result.seconds(family)
    return None if ours is None or theirs is None else ours / theirs


def megabytes(n):
    return "—" if n is None else f"{n / 1e6:.1f} MB"


def cell(result, family):
    value = ratio(result, family)
    if value is not None:
        return format_ratio(value)
    return result.skipped.get(family, "—") if family == "autograd" else "—"


def row(result):
    if result.refused:
        return f"| {result.name} | {result.source} | refused: `{result.refused}` |" + " |" * 6
    cold = ", ".join(
        f"{format_seconds(s)}" for s in (result.cold.get("s2sjax"), _jax(result.cold)) if s
    )
    memory = ", ".join(
        megabytes(m) for m in (result.memory.get("s2sjax.grad"), _jax(result.memory))
    )
    tape = "—" if not result.tape_bytes else f"{result.tape_bytes:,} B"
    return (
        f"| {result.name} | {result.source} | {format_seconds(result.seconds('s2sjax'))} | "
        + " | ".join(cell(result, family) for family, _ in PEERS)
        + f" | {cold} | {memory} | {tape} |"
    )


def _jax(by_impl):
    return next((v for k, v in by_impl.items() if k.startswith("jax")), None)


def table(results):
    header = (
        "| program | follows | s2sjax | s2sjax / JAX | s2sjax / autograd | s2sjax / Numba "
        "| cold first call (s2sjax, JAX) | peak memory (s2sjax, JAX) | tape, tiny size |"
    )
    return "\n".join([header, "|" + " --- |" * 9] + [row(r) for r in results])


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def summary(results):
    to_jax = [ratio(r, "jax") for r in results if ratio(r, "jax") is not None]
    to_autograd = [ratio(r, "autograd") for r in results if ratio(r, "autograd") is not None]
    refused = [r.name for r in results if r.refused]
    lines = [
        f"s2sjax / JAX: geometric mean {format_ratio(geometric_mean(to_jax))} over "
        f"{len(to_jax)} programs; slower than JAX in {sum(v > 1 for v in to_jax)}."
        if to_jax
        else "JAX did not run.",
        f"s2sjax / autograd: slower in {sum(v > 1 for v in to_autograd)} of {len(to_autograd)}."
        if to_autograd
        else "",
        f"Refused by s2sjax: {len(refused)} of {len(results)}"
        + (f" ({', '.join(refused)})." if refused else "."),
    ]
    return "\n".join(line for line in lines if line)


def plot(results, path):
    """Bars of s2sjax's time over each peer's, log scale; False without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    from matplotlib import pyplot

    shown = [r for r in results if not r.refused]
    figure, axes = pyplot.subplots(figsize=(max(8.0, 0.6 * len(shown)), 4.5))
    width = 0.8 / len(PEERS)
    for k, (family, label) in enumerate(PEERS):
        bars = [(x, ratio(r, family)) for x, r in enumerate(shown) if ratio(r, family) is not None]
        if bars:
            xs, ys = zip(*bars)
            axes.bar([x + (k - 1) * width for x in xs], ys, width, label=f"s2sjax / {label}")
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_yscale("log")
    axes.set_xticks(range(len(shown)), [r.name for r in shown], rotation=60, ha="right", fontsize=7)
    axes.set_ylabel("s2sjax time / peer time (log)")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return True


def block(results, charted):
    machine = machine_info()
    lines = [
        BEGIN,
        "## Real programs",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} by `python -m bench --only programs` "
        f"on {machine['cpu']} ({machine['cpu_count']} cores), commit `{git_commit()}`, "
        f"jax {machine.get('jax', '—')}, autograd {machine.get('autograd', '—')}. "
        "The gradient of each program (`bench/programs/`), warm, median of "
        "calls timed side by side in one process; a ratio above 1 means s2sjax is slower. "
        "Every gradient is checked against s2sjax's, and s2sjax's against finite differences at "
        "a tiny size, before timing. Cold: the first call (s2sjax: transform and compile into an "
        "empty cache; JAX: trace and compile). Memory: the growth of the resident set during one "
        "call. Tape: bytes of tape arrays s2sjax allocates at the tiny size (python target). "
        "The machine is shared by other jobs: trust the ratios more than the times.",
        "",
        table(results),
        "",
        summary(results),
    ]
    if charted:
        lines += ["", f"![s2sjax's time over each peer's on the real programs, log scale]({CHART})"]
    return "\n".join(lines + [END])


def write(results, page=PAGE):
    charted = plot(results, page.parent / CHART)
    replace_marked_block(page, BEGIN, END, block(results, charted))
