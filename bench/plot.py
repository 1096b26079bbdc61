"""The bar chart of docs/benchmarks.md: every implementation's time as a ratio to the
hand-written Numba baseline of its workload, on a log scale (1 = as fast as the baseline)."""


def plot(results, path, ylabel="time / hand-written Numba (log scale)"):
    """Write the chart to `path`; False (nothing written) when matplotlib is not installed.
    `ylabel` names the baseline, for charts of results with another."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")  # no screen needed
    from matplotlib import pyplot

    # Per-call speed only: the cold-start rows' times are of another kind (seconds per process).
    compared = [
        r for r in results if r.baseline is not None and not r.name.startswith(("cold", "cached"))
    ]
    implementations = _implementations(compared)
    width = 0.8 / max(1, len(implementations))
    figure, axes = pyplot.subplots(figsize=(max(6.0, 0.9 * len(compared)), 4.0))
    for k, impl in enumerate(implementations):
        positions, ratios = [], []
        for x, r in enumerate(compared):
            timing = next((t for t in [r.s2sjax] + r.peers if _family(t.impl) == impl), None)
            if timing is not None:
                positions.append(x + (k - (len(implementations) - 1) / 2) * width)
                ratios.append(timing.seconds / r.baseline.seconds)
        axes.bar(positions, ratios, width, label=impl)
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_yscale("log")
    axes.set_xticks(range(len(compared)), [r.name for r in compared])
    axes.set_ylabel(ylabel)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
    return True


def _family(impl):
    """The legend entry of an implementation: its library, and the target for s2sjax."""
    if impl.startswith("s2sjax"):
        return "s2sjax"
    if "parallel=True" in impl:
        return "numba parallel, by hand"
    return impl.split(".")[0]


def _implementations(results):
    seen = []
    for r in results:
        for t in [r.s2sjax] + r.peers:
            if _family(t.impl) not in seen:
                seen.append(_family(t.impl))
    return seen
