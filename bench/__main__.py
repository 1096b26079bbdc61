"""Run the benchmarks, print a Markdown report and write bench/results/latest.json.

python -m bench [--only W1|W2|W2-jvp|W2-hvp|W3|W4|W5|W6|W7|W8|njit-call|transform|cold|programs ...]
python -m bench --only dask [--dask-large]   (W5 over Dask arrays: bench/dask_vmap.py)
python -m bench --cuda   (W5 and W6 at 10**8 examples on a GPU: bench/cuda.py)
"""

import argparse
import os
import tempfile
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "latest.json"
PAGE_PATH = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
CHART_NAME = "benchmarks.png"  # beside the page
WORKLOADS = (
    "W1",
    "W2",
    "W2-jvp",
    "W2-hvp",
    "W3",
    "W4",
    "W5",
    "W6",
    "W7",
    "W8",
    "njit-call",
    "transform",
    "cold",
    "programs",
    "dask",
)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        choices=WORKLOADS,
        help="run only this workload (repeatable; default: all)",
    )
    parser.add_argument(
        "--dask-large", action="store_true", help="dask: 10**8 examples instead of 10**7"
    )
    parser.add_argument(
        "--cuda", action="store_true", help="W5 and W6 at 10**8 examples on a GPU, and nothing else"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.cuda:
        from bench import cuda

        return cuda.main()
    selected = tuple(args.only or WORKLOADS)
    with tempfile.TemporaryDirectory(prefix="s2sjax-bench-cache-") as cache_dir:
        # A fresh cache makes every transform and compile in this run cold and
        # leaves nothing in the user's cache. s2sjax may read the variable when
        # it is imported, hence the imports below.
        os.environ["S2SJAX_CACHE_DIR"] = cache_dir
        from bench import (
            cold_start,
            dask_vmap,
            njit_call,
            peers,
            report,
            transform_time,
            w1_scalar,
            w2_forward,
            w2_loop,
            w3_array,
            w4_mlp,
            w5_w6_vmap,
            w7_gp,
            w8_stencil,
        )
        from bench.programs import run as programs

        runners = {
            "W1": w1_scalar.run,
            "W2": w2_loop.run,
            "W2-jvp": w2_forward.run_jvp,
            "W2-hvp": w2_forward.run_hvp,
            "W3": w3_array.run,
            "W4": w4_mlp.run,
            "W5": w5_w6_vmap.run_w5,
            "W6": w5_w6_vmap.run_w6,
            "W7": w7_gp.run,
            "W8": w8_stencil.run,
            "njit-call": njit_call.run,
            "transform": transform_time.run,
            "cold": cold_start.run,
            "programs": programs.run,
            "dask": lambda jax, autograd: dask_vmap.run(
                jax, autograd, dask_vmap.N_LARGE if args.dask_large else dask_vmap.N_EXAMPLES
            ),
        }
        machine = report.machine_info()
        print_machine(machine)
        jax, autograd, skipped = load_peers(peers)
        results = []
        for name in selected:
            result = runners[name](jax, autograd)
            results += result if isinstance(result, list) else [result]

    if results:  # `--only programs` and `--only dask` print and record their own
        print("\n" + report.results_table(results))
        if any(r.peers for r in results):
            print("\nPeers:\n\n" + report.peers_table(results))
        report.write_json(RESULTS_PATH, machine, results, skipped)
        print(f"\nwrote {RESULTS_PATH}")
    if selected == WORKLOADS:  # a partial run would leave the page half empty
        from bench import plot

        charted = plot.plot(results, PAGE_PATH.parent / CHART_NAME)
        if not charted:
            skipped.append("the chart: matplotlib not installed")
        report.write_page(PAGE_PATH, machine, results, skipped, CHART_NAME if charted else None)
        print(f"wrote {PAGE_PATH}")


def print_machine(machine):
    for key, value in machine.items():
        print(f"- {key}: {value}")


def load_peers(peers):
    jax, autograd = peers.import_jax(), peers.import_autograd()
    skipped = [
        f"{name} not installed"
        for name, module in (("jax", jax), ("autograd", autograd))
        if module is None
    ]
    for reason in skipped:
        print(f"skipped: {reason}")
    return jax, autograd, skipped


if __name__ == "__main__":
    main()
