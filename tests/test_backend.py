"""The compile backend: real files, determinism, the disk cache across processes, faults."""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import s2sjax
from s2sjax.backend import compile as backend
from s2sjax.passes.queries import statements
from s2sjax.abstract import FLOAT
from s2sjax.pipeline import Spec, stage_source, stages
from tests.util import define

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent("""\
    import math, sys
    import numpy as np
    import s2sjax
    from s2sjax.backend import compile as backend

    def loss(w, x):
        z = np.tanh(x @ w)
        total = 0.0
        i = 0
        while i < z.shape[0]:  # phis of `total`, `i` and the break flag, at every join
            if z[i] > 0.9:
                break
            total = total + z[i] * math.sin(w[0])
            i += 1
        return total

    g = s2sjax.grad(loss)
    w, x = np.array([0.3, -0.2]), np.array([[1.0, 2.0], [0.5, -1.0]])
    print(repr(g(w, x).tolist()))
    stats = [d.stats for d in backend._JITTED.values()]
    print(
        sum(sum(s.cache_misses.values()) for s in stats),
        sum(sum(s.cache_hits.values()) for s in stats),
    )
    if "--source" in sys.argv:
        print(g.source)
""")


def run_script(tmp_path, cache_dir, *flags, hash_seed="0"):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    env = {
        **os.environ,
        "S2SJAX_CACHE_DIR": str(cache_dir),
        "PYTHONPATH": REPO,
        "PYTHONHASHSEED": hash_seed,
    }
    out = subprocess.run(
        [sys.executable, str(script), *flags], capture_output=True, text=True, env=env, check=True
    )
    return out.stdout


def test_second_process_compiles_nothing(tmp_path):
    cache = tmp_path / "cache"
    first = run_script(tmp_path, cache).splitlines()
    second = run_script(tmp_path, cache).splitlines()
    assert first[0] == second[0]
    misses, hits = map(int, first[1].split())
    assert (misses, hits) == (1, 0)
    misses, hits = map(int, second[1].split())
    assert (misses, hits) == (0, 1), (
        "the second process compiled instead of loading machine code from disk"
    )


def test_generated_source_is_byte_identical_across_processes(tmp_path):
    # different string hashes: no set or dict of names may order the generated code
    a = run_script(tmp_path, tmp_path / "a", "--source", hash_seed="1")
    b = run_script(tmp_path, tmp_path / "b", "--source", hash_seed="2")
    assert a.split("\n", 2)[2] == b.split("\n", 2)[2]
    assert "def loss_grad(w, x):" in a and "# backward sweep" in a


def test_generated_module_is_a_real_file_in_a_private_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("S2SJAX_CACHE_DIR", str(tmp_path / "private"))
    fun = define("def f(x):\n    return x * x * 7.0\n")
    g = s2sjax.grad(fun, target="python")
    assert g(1.0) == 14.0
    generated = [p for p in os.listdir(tmp_path / "private") if p.endswith(".py")]
    assert len(generated) == 1 and generated[0].startswith("s2sjax_generated_f_grad_")
    assert (tmp_path / "private" / generated[0]).read_text() == g.source
    assert os.stat(tmp_path / "private").st_mode & 0o777 == 0o700


def test_corrupt_or_truncated_cache_file_is_rewritten(tmp_path):
    cache = tmp_path / "cache"
    expected = run_script(tmp_path, cache).splitlines()[0]
    (module,) = [p for p in cache.iterdir() if p.suffix == ".py"]
    good = module.read_text()
    module.write_text(good[: len(good) // 2])  # truncated mid-function: would not even parse
    assert run_script(tmp_path, cache).splitlines()[0] == expected
    assert module.read_text() == good
    module.write_text(good.replace("np.tanh", "np.sinh"))  # parses, but is wrong
    assert run_script(tmp_path, cache).splitlines()[0] == expected
    assert module.read_text() == good


def test_unwritable_cache_dir_falls_back_to_a_temporary_one(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("S2SJAX_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(backend, "_fallback_dir", None)
    fun = define("def f(x):\n    return x * x * 5.0\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert s2sjax.grad(fun, target="python")(1.0) == 10.0
        assert s2sjax.grad(define("def f(x):\n    return x * 4.0\n"), target="python")(1.0) == 4.0
    cache_warnings = [w for w in caught if issubclass(w.category, s2sjax.CacheWarning)]
    assert len(cache_warnings) == 1 and "not-a-dir" in str(cache_warnings[0].message)
    assert os.path.isdir(backend._fallback_dir)
    monkeypatch.setattr(backend, "_fallback_dir", None)


def test_a_full_disk_keeps_the_code_in_memory_with_one_warning(monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backend.tempfile, "mkstemp", full)
    monkeypatch.setattr(backend, "_warned_in_memory", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = s2sjax.grad(define("def f(x):\n    return x * x * 7.0\n"))
        second = s2sjax.grad(define("def g(x):\n    return x * 3.0\n"), target="python")
        assert first(1.0) == 14.0 and second(1.0) == 3.0
    cache_warnings = [w for w in caught if issubclass(w.category, s2sjax.CacheWarning)]
    assert len(cache_warnings) == 1 and "No space left on device" in str(cache_warnings[0].message)
    assert "def f_grad(x):" in first.source  # the source is still there to read


def test_processes_sharing_a_new_cache_directory_all_get_the_right_answer(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "S2SJAX_CACHE_DIR": str(tmp_path / "shared"), "PYTHONPATH": REPO}
    runs = [
        subprocess.Popen(
            [sys.executable, str(script)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outputs = [run.communicate() for run in runs]
    assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
    assert len({out.splitlines()[0] for out, _ in outputs}) == 1


def test_emit_is_deterministic_for_the_same_tree():
    fun = define("def f(x, y):\n    z = np.sin(x) * y\n    return np.sum(z) if y > 0 else x\n")
    assert stage_source(fun, "emit") == stage_source(fun, "emit")


def test_every_statement_with_an_origin_is_still_in_the_code():
    """Origins are keyed by statement id: the key of a statement that is gone may become a later
    statement's, which then gets a line comment that depends on memory addresses."""
    fun = define("def f(a, b):\n    m = np.array([[a, b], [b * b, -a]])\n    return np.sum(m)\n")
    for stage, program in stages(fun, Spec((FLOAT, FLOAT))):
        if stage == "lower":
            assert set(program.origins) <= {id(s) for s in statements(program.tree.body)}
            break


COMPILED = ["cpu", "parallel"]

EDGES = [  # (the function's body, the point, its derivative by NumPy's closed form)
    ("np.arccos(x)", 1.0, lambda x: -1.0 / np.sqrt(1.0 - x * x)),
    ("np.arccos(x)", -1.0, lambda x: -1.0 / np.sqrt(1.0 - x * x)),
    ("np.arcsin(x)", 1.0, lambda x: 1.0 / np.sqrt(1.0 - x * x)),
    ("np.arcsin(x)", -1.0, lambda x: 1.0 / np.sqrt(1.0 - x * x)),
    ("np.sum(np.sqrt(x))", np.array([0.0, 1.0, 4.0]), lambda x: 0.5 / np.sqrt(x)),
    (
        "np.sum(x ** -1)",
        np.array([0.0, 1.0, 2.0]),
        lambda x: -1.0 / x**2,
    ),  # Numba's power by an int raised
]


@pytest.mark.parametrize("target", COMPILED + ["python"])
@pytest.mark.parametrize(
    "body,x,derivative",
    EDGES,
    ids=["arccos(1)", "arccos(-1)", "arcsin(1)", "arcsin(-1)", "sum_sqrt(0)", "sum_inverse(0)"],
)
def test_a_derivative_at_a_domain_edge_is_infinite_as_in_numpy(target, body, x, derivative):
    fun = define(f"def f(x):\n    return {body}\n")
    with np.errstate(divide="ignore"):
        expected = derivative(np.float64(x) if np.ndim(x) == 0 else x)
        got = s2sjax.grad(fun, target=target)(x)
    assert np.isinf(expected).any()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("target", COMPILED)
def test_a_float_divided_by_zero_is_inf_or_nan_in_compiled_code(target):
    fun = define("def ratio(x, y):\n    return x / y, x % y\n")
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = fun(np.float64(2.0), np.float64(0.0))
        assert s2sjax.jit(fun, target=target)(2.0, 0.0) == pytest.approx(expected, nan_ok=True)
        assert s2sjax.grad(lambda x, y: x / y, argnums=(0, 1), target=target)(2.0, 0.0) == (
            np.inf,
            -np.inf,
        )


@pytest.mark.parametrize("target", COMPILED)
def test_an_integer_divided_by_zero_is_zero_as_in_numpy(target):
    fun = define("def quotient(a, b):\n    return a // b, a % b\n")
    a, b = np.array([7, -7, 8]), np.array([0, 0, 3])
    with np.errstate(divide="ignore"):
        assert s2sjax.jit(fun, target=target)(7, 0) == fun(np.int64(7), np.int64(0))
        for got, expected in zip(s2sjax.jit(fun, target=target)(a, b), fun(a, b)):
            np.testing.assert_array_equal(got, expected)


def test_each_set_of_numba_options_gets_a_module_of_its_own():
    # Numba's disk cache keys machine code on the file, not on the options it was compiled with
    source = backend.module_source("def f(x):\n    return 1.0 / x\n", "a test")
    modules = {
        backend.load_module(source, "options", options).__name__
        for options in (
            None,
            backend.jit_options(),
            backend.jit_options(parallel=True),
            backend.jit_options(boundscheck=True),
        )
    }
    assert len(modules) == 4


def test_a_fallback_warning_names_the_users_line():
    # a scalar on one branch, an array on the other: Numba cannot type y, Python runs it (line 8:
    # after the two lines of imports define() writes first)
    fun = define(
        "def f(x, c):\n    if c > 0:\n        y = 0.0\n    else:\n        y = x\n"
        "    return np.sum(y * x)\n"
    )
    with pytest.warns(
        s2sjax.NumbaFallbackWarning,
        match=r"at s2sjax_test_module_\d+\.py:8: return np\.sum\(y \* x\)",
    ):
        gradient = s2sjax.grad(fun)(np.arange(3.0), -1.0)
    np.testing.assert_allclose(gradient, 2 * np.arange(3.0))


def test_the_parallel_target_broadcasts_axes_of_size_one():
    # Numba's parallel mode asserts that broadcast sizes are equal; the code runs serially instead
    fun = define("def scaled(a, b):\n    return np.sum(a * b * b[:, :1])\n")
    a, b = np.arange(12.0).reshape(4, 3), np.arange(1.0, 4.0)[None, :]
    gradient = s2sjax.grad(fun, argnums=(0, 1), target="parallel")
    by_hand = (
        b * b[:, :1] * np.ones((4, 1)),
        (np.sum(a, axis=0) * b[:, :1]) + [[np.sum(a * b), 0.0, 0.0]],
    )
    for _ in range(2):  # the first call finds out, the second runs the serial code straight away
        for got, expected in zip(gradient(a, b), by_hand):
            np.testing.assert_allclose(got, expected)
    with pytest.raises(ValueError, match="broadcast"):
        gradient(a, np.ones((1, 4)))
