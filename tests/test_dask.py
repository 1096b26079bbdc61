"""vmap over Dask arrays, and transformed functions pickled by value for Dask's workers.

The oracle is the in-memory vmap of the same function on the same data (itself checked
against finite differences and explicit loops elsewhere; one gradient is checked against
finite differences here too). Arrays are tiny: the cost is Numba compiling and the
worker processes starting, one pool per scheduler.
"""

import pickle
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import s2sjax
from tests.fd import numerical_grad

da = pytest.importorskip("dask.array", reason='vmap over Dask arrays: pip install "s2sjax[dask]"')


def loss(w, x, y):
    return (np.dot(x, w) - y) ** 2


def pick(x):
    return x[int(x[0])] * 2.0  # an IndexError where x[0] >= 3: in one block only


def parts(x):
    return x * 2.0, {"total": np.sum(x)}


per_example = s2sjax.vmap(s2sjax.grad(loss), in_axes=(None, 0, 0))
picked = s2sjax.vmap(pick)
# mapped along axis 1, the tuple's first output's batch axis last
by_columns = s2sjax.vmap(parts, in_axes=1, out_axes=(-1, 0), target="python")  # no compiling

rng = np.random.default_rng(0)
W, X, Y = rng.normal(size=3), rng.normal(size=(10, 3)), rng.normal(size=10)


def dask_data():
    return da.from_array(X, chunks=(4, 2)), da.from_array(Y, chunks=3)


def test_vmap_of_grad_over_dask_arrays_is_lazy_and_matches_the_in_memory_vmap():
    x, y = dask_data()
    lazy = per_example(W, x, y)
    assert isinstance(lazy, da.Array)
    assert lazy.chunks == ((4, 4, 2), (3,))  # the first mapped array's, the others follow
    expected = per_example(W, X, Y)
    np.testing.assert_allclose(lazy.compute(scheduler="threads"), expected, rtol=1e-12)
    mean = lazy.mean(axis=0).compute(scheduler="threads")
    np.testing.assert_allclose(mean, expected.mean(axis=0), rtol=1e-12)
    numerical = numerical_grad(lambda w: loss(w, X[7], Y[7]), (W,), 0)
    np.testing.assert_allclose(lazy[7].compute(), numerical, rtol=1e-8)


def test_the_unmapped_arguments_enter_the_graph_once():
    x, y = dask_data()
    graph = dict(per_example(W, x, y).__dask_graph__())
    holding = [v for v in graph.values() if any(c is W for c in getattr(v, "constants", ()))]
    assert len(holding) == 1


def test_pytree_outputs_out_axes_and_a_nonzero_in_axis():
    lazy = by_columns(da.from_array(X.T, chunks=(1, 3)))
    expected = by_columns(X.T)
    assert isinstance(lazy[0], da.Array) and isinstance(lazy[1]["total"], da.Array)
    assert lazy[0].shape == expected[0].shape == (3, 10)
    np.testing.assert_array_equal(lazy[0].compute(scheduler="threads"), expected[0])
    np.testing.assert_array_equal(
        lazy[1]["total"].compute(scheduler="threads"), expected[1]["total"]
    )


def test_an_error_in_a_block_reaches_the_client_as_the_in_memory_vmap_raises_it():
    values = np.zeros((6, 3))
    values[4, 0] = 5.0
    with pytest.raises(IndexError) as in_memory:
        picked(values)
    with pytest.raises(IndexError) as through_dask:
        picked(da.from_array(values, chunks=2)).compute(scheduler="threads")
    assert str(through_dask.value) == str(in_memory.value)
    assert through_dask.value.__notes__ == in_memory.value.__notes__


def test_the_processes_scheduler_gives_the_in_memory_answer():
    x, y = dask_data()
    lazy = per_example(W, x, y)
    computed = lazy.compute(scheduler="processes", num_workers=2)
    np.testing.assert_allclose(computed, per_example(W, X, Y), rtol=1e-12)


def test_a_transformed_function_pickles_and_an_unpicklable_closure_value_is_named():
    again = pickle.loads(pickle.dumps(per_example))
    np.testing.assert_allclose(again(W, X, Y), per_example(W, X, Y), rtol=1e-12)
    lock = threading.Lock()

    def locked(x):
        with lock:
            return x

    with pytest.raises(TypeError, match="closure value 'lock' of .*locked .*test_dask.py"):
        pickle.dumps(s2sjax.grad(locked))


SCRIPT = """
import os
import signal

import numpy as np
import dask.array as da
from dask.distributed import Client, LocalCluster, WorkerPlugin

import s2sjax

SCALE = 2.0


def loss(w, x, y):
    return SCALE * (np.dot(x, w) - y) ** 2


def pick(x):
    return x[int(x[0])] * 2.0


class KillOnceAfterABlock(WorkerPlugin):
    # The first worker to finish a block of an s2sjax vmap writes its pid to `marker` and
    # kills its own process (SIGKILL: no clean-up, as a machine lost), once among all workers,
    # while the other blocks are still to run.

    name = "s2sjax-kill-once"

    def __init__(self, marker):
        self.marker = marker

    def transition(self, key, start, finish, **kwargs):
        is_block = isinstance(key, tuple) and str(key[0]).startswith("s2sjax-vmap-")
        if not (is_block and finish == "memory"):
            return
        try:
            with open(self.marker, "x") as marker:  # exclusive: one worker only, ever
                marker.write(str(os.getpid()))
        except FileExistsError:
            return
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    rng = np.random.default_rng(1)
    w, X, y = rng.normal(size=3), rng.normal(size=(12, 3)), rng.normal(size=12)
    per_example = s2sjax.vmap(s2sjax.grad(loss), in_axes=(None, 0, 0))
    expected = per_example(w, X, y)
    bad = np.zeros((4, 3))
    bad[3, 0] = 7.0
    try:
        s2sjax.vmap(pick, target="python")(bad)
    except IndexError as exc:
        expected_error = str(exc)
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    # the workers, started, can no longer read this file, as on a cluster elsewhere
    os.remove(__file__)
    with cluster, Client(cluster) as client:
        lazy = per_example(w, da.from_array(X, chunks=4), da.from_array(y, chunks=4))
        assert np.allclose(lazy.mean(axis=0).compute(), expected.mean(axis=0), rtol=1e-12)
        assert np.allclose(lazy.compute(), expected, rtol=1e-12)
        try:
            s2sjax.vmap(pick, target="python")(da.from_array(bad, chunks=2)).compute()
        except IndexError as exc:
            assert str(exc) == expected_error, (str(exc), expected_error)
        else:
            raise AssertionError("no IndexError")
        # 12 blocks over 2 workers, one of them killed once its first block is done: its
        # results and the blocks queued on it are computed again elsewhere
        marker = os.path.abspath("killed")
        client.register_plugin(KillOnceAfterABlock(marker))
        lazy = per_example(
            w, da.from_array(np.tile(X, (4, 1)), chunks=4), da.from_array(np.tile(y, 4), chunks=4)
        )
        assert np.allclose(lazy.compute(), np.tile(expected, (4, 1)), rtol=1e-12)
        with open(marker) as killed:
            assert int(killed.read()) not in client.run(os.getpid).values()
    print("same answers")
"""


def test_a_function_of_a_scripts_main_runs_on_a_cluster_that_loses_a_worker(tmp_path):
    pytest.importorskip("distributed", reason='pip install "s2sjax[dask]"')
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "same answers" in result.stdout


def scaled(x, *, y):
    return x * y


def test_keyword_arguments_map_on_axis_0_and_a_function_failing_on_ones_is_refused():
    keywords = s2sjax.vmap(scaled, target="python")
    lazy = keywords(da.from_array(X, chunks=4), y=da.from_array(X, chunks=3))
    np.testing.assert_array_equal(lazy.compute(scheduler="threads"), keywords(X, y=X))
    fifth = s2sjax.vmap(lambda x: x[5], target="python")
    with pytest.raises(ValueError, match="one example of ones, which raised IndexError"):
        fifth(da.from_array(X, chunks=4))


def test_the_dask_training_example_trains_as_in_memory_full_batch_descent(monkeypatch):
    """examples/dask_training.py, tiny: its chunked, Dask-reduced steps give the parameters and
    losses of full-batch gradient descent on the whole dataset in memory."""
    pytest.importorskip("distributed", reason='pip install "s2sjax[dask]"')
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "examples"))
    import dask_training as example  # workers import it too: they inherit sys.path

    argv = ["--megabytes", "0.05", "--chunk-megabytes", "0.02", "--target", "python"]
    argv += ["--linear-steps", "3", "--mlp-steps", "2"]
    (w, b), linear_losses, mlp_losses = example.main(argv)
    args = example.parse_args(argv)
    x, y = example.in_memory(example.linear_chunk, *example.rows_of(args, 16))
    params = (0.0, 1.0)
    step = s2sjax.value_and_grad(example.linear_loss, target="python")
    for expected_loss in linear_losses:
        loss, grads = step(params, x, y)
        assert loss == pytest.approx(expected_loss, rel=1e-12)
        params = s2sjax.tree_map(lambda p, g: p - example.LINEAR_LR * g, params, grads)
    assert (w, b) == pytest.approx(params, rel=1e-12)
    data = example.in_memory(example.mlp_chunk, *example.rows_of(args, example.MLP_ROW_BYTES))
    params = example.init_mlp(example.LAYERS, np.random.default_rng(4))
    step = s2sjax.value_and_grad(example.mlp_loss, target="python")
    for expected_loss in mlp_losses:
        loss, grads = step(params, data[:, : example.LAYERS[0]], data[:, example.LAYERS[0] :])
        assert loss == pytest.approx(expected_loss, rel=1e-12)
        params = s2sjax.tree_map(lambda p, g: p - example.MLP_LR * g, params, grads)
    assert mlp_losses[-1] < mlp_losses[0]
