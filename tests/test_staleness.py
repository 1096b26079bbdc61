"""Globals, closure values and helper functions that change between calls: the code follows them.

Numbers from globals and closures are written into the generated code and helpers are inlined,
so the code is regenerated when one of them changes; arrays are read at every call. A wrong
gradient from stale code is the bug class these tests guard against.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sjax

from .util import define

TARGETS = ["python", "cpu"]
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("target", TARGETS)
def test_a_changed_global_number_is_used(target):
    fun = define("""
    RATE = 2.0


    def decay(x):
        return np.sum(np.exp(-RATE * x))
    """)
    grad = s2sjax.grad(fun, target=target)
    x = np.array([0.5, 1.0])
    np.testing.assert_allclose(grad(x), -2.0 * np.exp(-2.0 * x), rtol=1e-13)
    fun.__globals__["RATE"] = 3.0
    np.testing.assert_allclose(grad(x), -3.0 * np.exp(-3.0 * x), rtol=1e-13)
    fun.__globals__["RATE"] = 2.0
    np.testing.assert_allclose(grad(0.5 * np.ones(2)), -2.0 * np.exp(-1.0) * np.ones(2), rtol=1e-13)


@pytest.mark.parametrize("target", TARGETS)
def test_a_rebound_helper_function_is_inlined_anew(target):
    fun = define(
        """
    def helper(x):
        return x * x


    def outer(x):
        return helper(x) + 1.0
    """,
        "outer",
    )
    grad = s2sjax.grad(fun, target=target)
    assert grad(3.0) == 6.0
    fun.__globals__["helper"] = lambda x: x * x * x
    assert grad(3.0) == 27.0
    batched = s2sjax.vmap(grad, target=target)
    np.testing.assert_allclose(batched(np.array([1.0, 2.0])), [3.0, 12.0])
    fun.__globals__["helper"] = lambda x: 5.0 * x
    np.testing.assert_allclose(batched(np.array([1.0, 2.0])), [5.0, 5.0])


def test_a_changed_closure_value_is_used():
    def make():
        scale = 2.0

        def scaled(x):
            return scale * x * x

        def set_scale(value):
            nonlocal scale
            scale = value

        return scaled, set_scale

    scaled, set_scale = make()
    grad = s2sjax.grad(scaled, target="python")
    assert grad(1.0) == 4.0
    set_scale(5.0)
    assert grad(1.0) == 10.0


def test_defaults_set_after_transforming_are_used():
    # the transformation's signature read the defaults once: a call gave the old ones
    def affine(x, scale=2.0, *, shift=1.0):
        return np.sum(x * scale + shift * x)

    x = np.ones(2)
    grad = s2sjax.grad(affine, target="python")
    batched = s2sjax.vmap(grad, target="python")
    np.testing.assert_allclose(grad(x), [3.0, 3.0])
    affine.__defaults__, affine.__kwdefaults__ = (5.0,), {"shift": 10.0}
    np.testing.assert_allclose(grad(x), [15.0, 15.0])
    np.testing.assert_allclose(batched(np.ones((2, 2))), np.full((2, 2), 15.0))
    tangent = s2sjax.jvp(affine, (x,), (x,), target="python")[1]
    assert tangent == 30.0


def test_code_that_assumes_nothing_keeps_its_fast_path():
    # on cpu: target python makes Python floats NumPy's at each call (inf/nan at domain edges)
    grad = s2sjax.grad(lambda x: x * x, target="cpu")
    grad(1.0)
    entry = grad.specialization((1.0,))
    assert entry.plain and not entry.assumptions and grad._by_type


def test_a_jit_without_static_arguments_takes_the_fast_path_too():
    jitted = s2sjax.jit(s2sjax.grad(lambda x: x * x, target="python"), target="python")
    assert jitted(3.0) == 6.0
    assert list(jitted._by_type) == [(float,)]
    assert jitted(4.0) == 8.0


# Each script prints grad at 0.5 of a function whose generated code depends on VALUE, which
# differs between processes: a global number, a closure's number, or a helper module's source.
SCRIPTS = {
    "global": """
        RATE = float(os.environ["VALUE"])

        def decay(x):
            return np.sum(np.exp(-RATE * x))
        """,
    "closure": """
        def make(rate):
            def decay(x):
                return np.sum(np.exp(-rate * x))
            return decay

        decay = make(float(os.environ["VALUE"]))
        """,
    "helper module": """
        with open(os.path.join(os.environ["HELPER_DIR"], "helper_rate.py"), "w") as fh:
            fh.write(f"def scaled(x):\\n    return {os.environ['VALUE']} * x\\n")
        sys.path.insert(0, os.environ["HELPER_DIR"])
        from helper_rate import scaled

        def decay(x):
            return np.sum(np.exp(-scaled(x)))
        """,
}
HEADER = "import os, sys\nimport numpy as np\nimport s2sjax\n"
FOOTER = "\nprint(repr(float(s2sjax.grad(decay)(np.array([0.5]))[0])))\n"


@pytest.mark.parametrize("case", sorted(SCRIPTS))
def test_the_disk_cache_never_serves_code_written_for_another_value(case, tmp_path):
    script = tmp_path / "decay.py"
    script.write_text(HEADER + textwrap.dedent(SCRIPTS[case]) + FOOTER)
    rates = (
        ("2.0", "3.0", "2.0") if case == "global" else ("2.0", "3.0")
    )  # a third finds both on disk
    for rate in rates:
        env = {
            **os.environ,
            "VALUE": rate,
            "S2SJAX_CACHE_DIR": str(tmp_path / "cache"),
            "PYTHONPATH": REPO,
            "HELPER_DIR": str(tmp_path),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr
        assert float(out.stdout) == pytest.approx(
            -float(rate) * np.exp(-float(rate) * 0.5), rel=1e-13
        ), rate


@pytest.mark.parametrize("target", TARGETS)
def test_a_transformation_built_anew_reuses_the_code_of_an_equal_one(target):
    """`value_and_grad(loss)` made every epoch (seed 004) generates its code once, and that code
    still follows a global that changes."""
    fun = define("""
    SCALE = 2.0


    def loss(w, x):
        return SCALE * np.sum((x * w) ** 2)
    """)
    w, x = np.array([0.5, -1.0]), np.array([1.5, 2.0])
    first = s2sjax.value_and_grad(fun, target=target)
    first(w, x)
    again = s2sjax.value_and_grad(fun, target=target)
    assert again.latest() is first.latest()
    other_options = s2sjax.value_and_grad(fun, argnums=1, target=target)
    assert other_options.latest() is None
    fun.__globals__["SCALE"] = 3.0
    value, gradient = s2sjax.value_and_grad(fun, target=target)(w, x)
    np.testing.assert_allclose(value, 3.0 * np.sum((x * w) ** 2), rtol=1e-13)
    np.testing.assert_allclose(gradient, 6.0 * x**2 * w, rtol=1e-13)


# The transform cached on disk (s2sjax/disk_cache.py): a second process loads the generated code
# without running the pipeline, and never the code generated for another function body, global
# value or s2sjax. Target "python": what is cached is the transform, not Numba's machine code.
CACHED_SCRIPT = """
import os, sys
import numpy as np
import s2sjax
from s2sjax import pipeline

RATE = 2.0
runs = []
generate = pipeline.generate
pipeline.generate = lambda *args: runs.append(1) or generate(*args)


def decay(x):
    return np.sum(np.exp(-{coefficient} * RATE * x))


grad = s2sjax.grad(decay, target="python")
first = float(grad(np.array([0.5]))[0])
first_runs = len(runs)
RATE = 3.0  # in this process, after the code came from the disk
print(first, first_runs, float(grad(np.array([0.5]))[0]))
"""


def _run_cached_script(tmp_path, coefficient, pythonpath=REPO):
    script = tmp_path / "decay_cached.py"
    script.write_text(CACHED_SCRIPT.format(coefficient=coefficient))
    env = {
        **os.environ,
        "S2SJAX_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": str(pythonpath),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    first, runs, second = out.stdout.split()
    return float(first), int(runs), float(second)


def _decay_grad(coefficient, rate, x=0.5):
    return -coefficient * rate * np.exp(-coefficient * rate * x)


def test_the_transform_comes_from_disk_and_follows_the_function_body_and_globals(tmp_path):
    for coefficient, served in ((1.0, False), (1.0, True), (2.0, False)):
        first, runs, second = _run_cached_script(tmp_path, coefficient)
        assert runs == (0 if served else 1), (coefficient, served)
        assert first == pytest.approx(_decay_grad(coefficient, 2.0), rel=1e-13)
        assert second == pytest.approx(_decay_grad(coefficient, 3.0), rel=1e-13)


def test_an_edited_s2sjax_is_never_served_the_transform_of_the_old_one(tmp_path):
    """A rule changed between two processes: the second generates anew. The edit (exp's
    derivative doubled) is wrong on purpose, so only code generated by the edited copy gives it."""
    shutil.copytree(os.path.join(REPO, "s2sjax"), tmp_path / "copy" / "s2sjax")
    first, _, _ = _run_cached_script(tmp_path, 1.0, tmp_path / "copy")
    assert first == pytest.approx(_decay_grad(1.0, 2.0), rel=1e-13)
    rules = tmp_path / "copy" / "s2sjax" / "rules" / "elementwise.py"
    declaration = 'elementwise("exp", "g * out")'
    assert declaration in rules.read_text()
    rules.write_text(rules.read_text().replace(declaration, 'elementwise("exp", "2.0 * g * out")'))
    first, runs, _ = _run_cached_script(tmp_path, 1.0, tmp_path / "copy")
    assert runs == 1
    assert first == pytest.approx(2.0 * _decay_grad(1.0, 2.0), rel=1e-13)
