"""`python -m bench --only dask`: W5's per-example gradients over Dask arrays, at equal cores.

W5 (bench/w5_w6_vmap.py) at 10**7 examples (10**8 with `--dask-large`), the gradients then
their mean, `vmap(grad(loss)).mean(axis=0)` as in docs/beyond-one-machine.md, four ways on
CORES cores: in memory (`target="parallel"`, CORES Numba threads), and Dask, chunks of
a tenth of the examples, each block `target="cpu"`: the threads scheduler (CORES threads),
`distributed` with 1 worker process of CORES threads and with CORES worker processes of one
thread. The Dask data are resident where they are computed, as the in-memory arrays are
(persisted on the workers), so the ratios are Dask's overhead. Peak memory: each process's
resident set grown during one compute (the high-water mark, reset first), against the data.
The table and chart go into docs/benchmarks.md between two marker lines.
"""

from datetime import datetime, timezone
from pathlib import Path

import numba
import numpy as np

import s2sjax
from bench import plot, report
from bench.programs.run import _status_kb, peak_memory, return_freed_memory
from bench.report import Target, WorkloadResult
from bench.timing import check_close, measure_together
from bench.w5_w6_vmap import loss

N_EXAMPLES, N_LARGE = 10**7, 10**8
BLOCKS = 10  # chunks of a tenth of the examples
CORES = 2
REPEATS, ROUNDS = 10, 5
GOAL = Target("ratio", 1.3, "≤ 1.3× in memory")
DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGE, CHART = DOCS / "benchmarks.md", "benchmarks-dask.png"
BEGIN = "<!-- dask: begin (python -m bench --only dask writes this block) -->"
END = "<!-- dask: end -->"


def per_example(target):
    return s2sjax.vmap(s2sjax.grad(loss), in_axes=(None, 0, 0), target=target)


def run(jax, autograd, n_examples=N_EXAMPLES):
    """The three Dask rows, each against the in-memory vmap timed beside it; writes the page."""
    try:
        import dask.array as da
        from distributed import Client, LocalCluster
    except ImportError:
        print('skipped dask: pip install -e ".[dask]"')
        return []

    return_freed_memory()
    p, x, y = w5_data(n_examples)
    in_memory = per_example("parallel")
    previous_threads = numba.get_num_threads()
    numba.set_num_threads(CORES)
    clusters = [
        LocalCluster(n_workers=n, threads_per_worker=CORES // n, dashboard_address=None)
        for n in (1, CORES)
    ]
    try:
        clients = [Client(cluster, set_as_default=False) for cluster in clusters]
        expected = in_memory(p, x, y).mean(axis=0)
        entries = [("s2sjax.vmap [parallel], in memory", mean_of(in_memory), (p, x, y))]
        entries.append(threads_entry(da, p, x, y))
        entries += [distributed_entry(da, client, p, x, y) for client in clients]
        for impl, fn, args in entries:
            check_close(impl, fn(*args), expected, rtol=1e-10)
        memory = [peak_memory(*entries[0][1:]), peak_memory(*entries[1][1:])]
        memory += [
            workers_peak_memory(client, fn, args)
            for client, (_, fn, args) in zip(clients, entries[2:])
        ]
        timings = measure_together(entries, repeats=REPEATS, rounds=ROUNDS)
    finally:
        for cluster in clusters:
            cluster.close()
        numba.set_num_threads(previous_threads)
    names = ["W5-dask-threads", "W5-dask-1-process", f"W5-dask-{CORES}-processes"]
    results = [
        WorkloadResult(name, f"{impl}, {describe(peak)}", GOAL, timing, timings[0])
        for name, (impl, _, _), timing, peak in zip(names, entries[1:], timings[1:], memory[1:])
    ]
    print(page_block(results, n_examples, memory[0], x.nbytes + y.nbytes, False))
    write_page(results, n_examples, memory[0], x.nbytes + y.nbytes)
    return []  # its own block of the page, as `programs`


def w5_data(n_examples):
    """W5's parameters and data, in memory: the blocks of `w5_block` put together."""
    blocks = [w5_block(i, n_examples // BLOCKS) for i in range(BLOCKS)]
    return np.array([1.5, -0.5]), *(np.concatenate(part) for part in zip(*blocks))


def w5_block(i, size):
    """Block `i` of W5's x and y = 2x + 1 + noise, from seeds of its own: the same numbers made
    in memory here or on a worker, so no data travel through the graph."""
    x = np.random.default_rng([0, i]).uniform(-1.0, 1.0, size)
    return x, 2.0 * x + 1.0 + np.random.default_rng([1, i]).normal(0.0, 0.1, size)


def mean_of(batched):
    return lambda *args: batched(*args).mean(axis=0)


def threads_entry(da, p, x, y):
    chunk = x.size // BLOCKS
    lazy = per_example("cpu")(p, da.from_array(x, chunks=chunk), da.from_array(y, chunks=chunk))
    compute = lambda: lazy.mean(axis=0).compute(scheduler="threads", num_workers=CORES)  # noqa: E731
    return (f"Dask threads, {CORES} threads", compute, ())


def distributed_entry(da, client, p, x, y):
    """The lazy mean over data made and persisted on `client`'s workers, computed there."""
    resident = client.persist(made_on_workers(da, x.size // BLOCKS))
    lazy = per_example("cpu")(p, *resident).mean(axis=0)
    workers = client.scheduler_info()["workers"].values()
    shape = f"{len(workers)} × {next(iter(workers))['nthreads']} threads"
    return (f"Dask distributed, {shape}", lambda: client.compute(lazy).result(), ())


def made_on_workers(da, size):
    """W5's x and y as Dask arrays whose blocks `w5_block` makes where they are computed."""
    from dask import delayed

    pairs = [delayed(w5_block)(i, size) for i in range(BLOCKS)]
    return [
        da.concatenate([da.from_delayed(pair[k], (size,), np.float64) for pair in pairs])
        for k in (0, 1)
    ]


def workers_peak_memory(client, fn, args):
    """Each worker's growth of its resident set during one call of `fn`, in bytes."""
    client.run(return_freed_memory)
    before = client.run(_reset_peak)
    fn(*args)
    after = client.run(_status_kb, "VmHWM")
    return [1024 * max(0, after[w] - before[w]) for w in sorted(before)]


def _reset_peak():
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kb("VmRSS")


def describe(memory):
    sizes = memory if isinstance(memory, list) else [memory]
    each = ", ".join(f"{m / 1e6:.0f} MB" for m in sizes)
    return f"peak growth {each} per worker" if isinstance(memory, list) else f"peak {each}"


def page_block(results, n_examples, in_memory_peak, data_bytes, charted):
    machine = report.machine_info()
    lines = [
        BEGIN,
        "## W5 over Dask arrays",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} by `python -m bench --only dask` on "
        f"{machine['cpu']} ({machine['cpu_count']} cores), commit `{machine['commit']}`. "
        f"Per-example gradients of W5 and their mean, {n_examples:.0e} examples "
        f"({data_bytes / 1e6:.0f} MB of data) in {BLOCKS} chunks, on {CORES} cores; "
        "the baseline is the in-memory `vmap(..., target='parallel')` with as many Numba "
        "threads, timed side by side in one process (medians), its peak growth "
        f"{in_memory_peak / 1e6:.0f} MB. The Dask data are resident on the workers (persisted), "
        "as the in-memory arrays are; peak growth is each process's resident set during one "
        "compute (high-water mark, reset first). The machine is shared: trust the ratios "
        "more than the times.",
        "",
        report.results_table(results),
    ]
    if charted:
        lines += ["", f"![Dask's time over the in-memory vmap's, log scale]({CHART})"]
    return "\n".join(lines + [END])


def write_page(results, n_examples, in_memory_peak, data_bytes, page=None):
    page = page or PAGE
    charted = plot.plot(results, page.parent / CHART, "time / in-memory vmap (log scale)")
    block = page_block(results, n_examples, in_memory_peak, data_bytes, charted)
    report.replace_marked_block(page, BEGIN, END, block)
    print(f"wrote {page}")
