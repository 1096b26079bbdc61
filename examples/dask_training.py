"""Data-parallel training on Dask: the seed models trained on datasets larger than the workers'
memory, read from disk a chunk at a time.

    python examples/dask_training.py --megabytes 2000 --memory-limit 1GB

writes two datasets of about `--megabytes` MB each as stacks of .npy files (one file a chunk,
`dask.array.to_npy_stack`, made chunk by chunk on the workers) and trains on a LocalCluster
whose worker processes may each hold `--memory-limit`:

- seed 002's linear model y = 5x + 2 (examples/seed_training.py), full-batch gradient
  descent: per-example value_and_grad by a vmap over the Dask arrays, averaged by Dask;
- seed 004's MLP 728-100-10: per-chunk value_and_grad of its mean squared error, one task a
  chunk, the chunks' sums added up by Dask.

Each step reads every chunk from disk (the page cache, when it fits) and keeps none: each
worker's peak resident memory, measured and printed, grows by a few chunks, not by the data.
On a real cluster, `Client("tcp://scheduler:8786")` and a dataset on storage every worker
reads (zarr on S3, a shared file system) do the same. The functions travel to the workers
pickled; seed_training must be importable there (it is beside this file on a LocalCluster).
"""

import argparse
import tempfile
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster
from seed_training import LAYERS, init_mlp, linear_loss, mlp_loss

import s2sjax

LINEAR_ROW_BYTES = 2 * 8  # x and y
MLP_ROW_BYTES = (LAYERS[0] + LAYERS[-1]) * 8


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=64.0, help="size of each dataset")
    parser.add_argument("--chunk-megabytes", type=float, default=8.0, help="size of a chunk")
    parser.add_argument("--memory-limit", default="1GB", help="each worker's memory limit")
    parser.add_argument("--workers", type=int, default=2, help="worker processes, 1 thread each")
    parser.add_argument("--linear-steps", type=int, default=25)
    parser.add_argument("--mlp-steps", type=int, default=5)
    parser.add_argument("--target", default="cpu", help="s2sjax's target inside each task")
    parser.add_argument("--data", help="directory for the datasets (default: a temporary one)")
    return parser.parse_args(argv)


# ---- the datasets: made and written chunk by chunk, never whole in memory ---------------------


def linear_chunk(i, rows):
    """Chunk `i` of seed 002's data: y = 5x + 2 + noise, x uniform in [-1, 1]."""
    rng = np.random.default_rng([2, i])
    x = rng.uniform(-1.0, 1.0, rows)
    return np.stack([x, 5.0 * x + 2.0 + 0.001 * rng.normal(size=rows)])


def mlp_chunk(i, rows):
    """Chunk `i` of seed 004's data: inputs and targets uniform in [0, 1]."""
    return np.random.default_rng([4, i]).uniform(0.0, 1.0, (rows, LAYERS[0] + LAYERS[-1]))


def rows_of(args, row_bytes):
    """(the dataset's rows, a chunk's rows) for rows of `row_bytes` bytes."""
    return int(args.megabytes * 1e6 / row_bytes), int(args.chunk_megabytes * 1e6 / row_bytes)


def chunk_rows(rows, per_chunk):
    return [min(per_chunk, rows - start) for start in range(0, rows, per_chunk)]


def in_memory(make_chunk, rows, per_chunk):
    """The whole dataset in memory, as `write_dataset` writes it (for small ones: the tests)."""
    chunks = [make_chunk(i, n) for i, n in enumerate(chunk_rows(rows, per_chunk))]
    return np.concatenate(chunks, axis=1 if make_chunk is linear_chunk else 0)


def write_dataset(path, make_chunk, rows, per_chunk, shape):
    """A Dask array of `rows` rows of `make_chunk`'s chunks, written to `path` by the workers."""
    blocks = [
        da.from_delayed(dask.delayed(make_chunk)(i, n), shape(n), np.float64)
        for i, n in enumerate(chunk_rows(rows, per_chunk))
    ]
    axis = 1 if make_chunk is linear_chunk else 0
    da.to_npy_stack(path, da.concatenate(blocks, axis=axis), axis=axis)
    return da.from_npy_stack(path, mmap_mode=None)  # each task reads its chunk from disk


# ---- training ---------------------------------------------------------------------------------


LINEAR_LR, MLP_LR = 0.5, 0.05


def train_linear(data, steps, lr, target):
    """Gradient descent on the whole dataset: per-example value_and_grad, averaged by Dask."""
    x, y = data[0], data[1]
    per_example = s2sjax.vmap(
        s2sjax.value_and_grad(linear_loss), in_axes=(None, 0, 0), target=target
    )
    params, losses = (0.0, 1.0), []
    for _ in range(steps):
        loss, (gw, gb) = per_example(params, x, y)
        loss, gw, gb = dask.compute(loss.mean(), gw.mean(), gb.mean())
        params = s2sjax.tree_map(lambda p, g: p - lr * g, params, (gw, gb))
        losses.append(float(loss))
    return params, losses


def chunk_value_and_grad(loss_and_grad, params, chunk):
    """The chunk's summed loss and gradient (its mean's times its rows), to be added up."""
    x, y = chunk[:, : LAYERS[0]], chunk[:, LAYERS[0] :]
    loss, grads = loss_and_grad(params, x, y)
    rows = len(chunk)
    return rows * loss, s2sjax.tree_map(lambda g: rows * g, grads)


def added_up(parts):
    return s2sjax.tree_map(lambda *leaves: sum(leaves), *parts)


def mlp_value_and_grad(loss_and_grad, params, data):
    """mlp_loss and its gradient over the whole dataset, one task a chunk, reduced by Dask."""
    shared = dask.delayed(params)  # one key in the graph, read by every chunk's task
    parts = [
        dask.delayed(chunk_value_and_grad)(loss_and_grad, shared, block)
        for block in data.to_delayed().ravel()
    ]
    total, grads = dask.delayed(added_up)(parts).compute()
    return total / len(data), s2sjax.tree_map(lambda g: g / len(data), grads)


def train_mlp(data, steps, lr, target):
    params = init_mlp(LAYERS, np.random.default_rng(4))
    loss_and_grad = s2sjax.value_and_grad(mlp_loss, target=target)
    losses = []
    for _ in range(steps):
        loss, grads = mlp_value_and_grad(loss_and_grad, params, data)
        params = s2sjax.tree_map(lambda p, g: p - lr * g, params, grads)
        losses.append(float(loss))
    return params, losses


# ---- each worker's peak memory ----------------------------------------------------------------


def reset_peak():
    """The worker's resident set now, in kB; its high-water mark reset to it (Linux)."""
    Path("/proc/self/clear_refs").write_text("5")
    return status_kb("VmRSS")


def status_kb(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise OSError(f"no {key} in /proc/self/status")


def peak_growth_mb(client, before):
    after = client.run(status_kb, "VmHWM")
    return [(after[w] - before[w]) / 1024 for w in sorted(before)]


def main(argv=None):
    args = parse_args(argv)
    with (
        tempfile.TemporaryDirectory(dir=args.data) as tmp,
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            memory_limit=args.memory_limit,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        linear = write_dataset(
            f"{tmp}/linear", linear_chunk, *rows_of(args, LINEAR_ROW_BYTES), lambda n: (2, n)
        )
        mlp = write_dataset(
            f"{tmp}/mlp",
            mlp_chunk,
            *rows_of(args, MLP_ROW_BYTES),
            lambda n: (n, MLP_ROW_BYTES // 8),
        )
        print(
            f"datasets on disk: linear {linear.nbytes / 1e6:.0f} MB and MLP {mlp.nbytes / 1e6:.0f} "
            f"MB, chunks of {args.chunk_megabytes:g} MB; {args.workers} workers of "
            f"{args.memory_limit} each"
        )
        train_linear(linear[:, :10], 1, 0.0, args.target)  # compiled on each worker before
        train_mlp(mlp[:10], 1, 0.0, args.target)  # the memory is measured
        before = client.run(reset_peak)
        (w, b), linear_losses = train_linear(linear, args.linear_steps, LINEAR_LR, args.target)
        print(f"linear model: params = ({w:.4f}, {b:.4f}), loss {linear_losses[-1]:.2e}")
        _, mlp_losses = train_mlp(mlp, args.mlp_steps, MLP_LR, args.target)
        print(
            f"MLP {'-'.join(map(str, LAYERS))}: losses {', '.join(f'{v:.4f}' for v in mlp_losses)}"
        )
        growth = peak_growth_mb(client, before)
        print(
            "each worker's peak resident memory grew by "
            + ", ".join(f"{g:.0f} MB" for g in growth)
            + f" while training (chunks of {args.chunk_megabytes:g} MB)"
        )
    return (w, b), linear_losses, mlp_losses


if __name__ == "__main__":
    main()
