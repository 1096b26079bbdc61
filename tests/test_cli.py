"""`python -m s2sjax show` and the quickstart example, run as a user runs them."""

import ast
import os
import subprocess
import sys

import numpy as np
import pytest

import s2sjax
from s2sjax import export, pipeline
from s2sjax.cli import load_function
from s2sjax.abstract import of_value
from s2sjax.mode import Mode
from tests import fd
from tests.util import define_module

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, check=True):
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=REPO, check=check
    )


def test_show_prints_the_generated_gradient_plain_when_piped():
    out = run(
        "-m", "s2sjax", "show", "examples/quickstart.py:loss", "--grad", "--argnums", "0,1"
    ).stdout
    assert "def loss_grad(W, b, X, y):" in out
    assert "b_bar = rt.unbroadcast(t2_bar, b)" in out
    assert "return W_bar, b_bar" in out
    assert "\x1b[" not in out


def test_show_highlights_when_asked():
    out = run("-m", "s2sjax", "show", "examples/quickstart.py:f", "--color", "always").stdout
    assert "\x1b[" in out and "f_grad" in out


@pytest.mark.parametrize(
    "stage,expected",
    [
        ("parse", "def f(x):\n    return x * math.sin(x ** 2)"),
        ("normalize", "    t1 = x ** 2\n    t2 = math.sin(t1)\n    out = x * t2\n    return out"),
        ("analyze", "x: float  (active)"),
        ("emit", "def f_grad(x):"),
    ],
)
def test_show_after_each_stage(stage, expected):
    out = run("-m", "s2sjax", "show", "examples/quickstart.py:f", "--after", stage).stdout
    assert expected in out


LOOPED = """\
import numpy as np


def f(x, n):
    total = 0
    for i in range(n):
        if total > 10.0:
            return total
        total = total + np.sum(np.sin(x) * x) * x[0] ** -2
    return total * np.sum(np.array([x[0], 1.0]))


def g(x):
    v = np.zeros_like(x)
    v[0] = x[0] * 2.0
    return v
"""

# What a stage first writes into the gradient of LOOPED's f on target parallel (outputs_in_place
# and device apply to other code, emit only prints it: see the tests below).
FIRST_AFTER = {
    "desugar": ".returned = True",
    "normalize": "total_1 = total",
    "widen": "total_1 = float(total)",
    "lower": "np.empty((2,), dtype=np.float64)",
    "analyze": "x: float array, rank 1  (active)",
    "transform": "x_bar",
    "float_powers": "t6 ** -2.0",
    "fuse": "rt.prange(",
    "parfor_names": "broke_v1",
}


@pytest.fixture(scope="module")
def looped():
    return define_module(LOOPED, namespace_setup="")


@pytest.mark.parametrize("stage", pipeline.STAGES)
def test_show_after_prints_the_code_after_every_stage(stage, looped):
    show = (
        "-m",
        "s2sjax",
        "show",
        f"{looped.__file__}:f",
        "--target",
        "parallel",
        "--args",
        "np.ones(3), 4",
        "--after",
    )
    out = run(*show, stage).stdout
    assert out.startswith("broke: bool" if stage == "analyze" else "def f")
    if stage in FIRST_AFTER:
        assert FIRST_AFTER[stage] in out
        assert (
            FIRST_AFTER[stage]
            not in run(*show, pipeline.STAGES[pipeline.STAGES.index(stage) - 1]).stdout
        )


@pytest.mark.parametrize("target", ["python", "cpu", "parallel", "cuda"])
def test_the_pipeline_yields_every_stage_in_order(target, looped):
    spec = pipeline.Spec((of_value(np.ones(3)),), target=target, mode=Mode.PRIMAL)
    assert tuple(stage for stage, _ in pipeline.stages(looped.g, spec)) == pipeline.STAGES


def test_outputs_in_place_has_each_example_build_its_array_in_its_slot(looped):
    batch_loop = s2sjax.vmap(looped.g, target="parallel").inlinable()
    spec = pipeline.Spec((of_value(np.ones((3, 2))),), target="parallel", mode=Mode.PRIMAL)
    before = pipeline.stage_source(batch_loop, "optimize", spec)
    after = pipeline.stage_source(batch_loop, "outputs_in_place", spec)
    assert "v_1 = np.zeros_like(t6)" in before and "batched[example] = each" in before
    assert (
        "v_1 = batched[example]" in after
        and "np.zeros_like(t6)" not in after
        and "each" not in after
    )


def test_device_makes_the_code_for_one_example_a_cuda_device_function(looped):
    spec = pipeline.Spec((of_value(np.ones(3)),), target="cuda", mode=Mode.PRIMAL)
    assert "@cuda.jit" not in pipeline.stage_source(looped.g, "parfor_names", spec)
    device = pipeline.stage_source(looped.g, "device", spec)
    assert device.startswith("@cuda.jit(device=True, debug=False)\ndef g_primal(x, dest_0):")
    assert "v = dest_0" in device


def test_show_takes_example_arguments_and_value_and_grad():
    out = run(
        "-m",
        "s2sjax",
        "show",
        "examples/quickstart.py:loss",
        "--value-and-grad",
        "--args",
        "np.ones((4, 3)), b, np.ones((2, 4)), y[:2]",
    ).stdout
    assert (
        "value_and_grad of loss w.r.t. argnums (0,) "
        "for (float[2d], float[2d], float[2d], float[2d])" in out
    )


def test_show_reports_a_missing_function():
    result = run("-m", "s2sjax", "show", "examples/quickstart.py:nope", check=False)
    assert result.returncode == 1
    assert "has no function 'nope'" in result.stderr


def test_help_explains_each_option():
    out = run("-m", "s2sjax", "show", "--help").stdout
    for option in ("--grad", "--value-and-grad", "--argnums", "--target", "--after", "--args"):
        assert option in out


def test_quickstart_prints_the_gradient_and_its_source():
    out = run("examples/quickstart.py").stdout
    first = out.splitlines()[0]
    assert first.startswith("df(0.13) = 0.05069436")
    closed_form = float(out.splitlines()[1].split(":")[1])
    assert abs(float(first.split("=")[1]) - closed_form) < 1e-12 * abs(closed_form)
    assert "def f_grad(x):" in out and "loss = " in out


def test_show_jvp_and_vmap_of_grad_with_in_axes():
    out = run("-m", "s2sjax", "show", "examples/quickstart.py:f", "--jvp").stdout
    assert "def f_jvp(x, x_dot):" in out
    out = run(
        "-m",
        "s2sjax",
        "show",
        "examples/quickstart.py:loss",
        "--vmap",
        "--grad",
        "--in-axes",
        "(None, None, 0, 0)",
        "--args",
        "W, b, X[None].repeat(2, 0), y[None].repeat(2, 0)",
    ).stdout
    assert "vmap of loss_grad" in out or "vmap of loss" in out
    assert "for example in range(1, size):" in out


def test_help_of_each_command_explains_its_options():
    out = run("-m", "s2sjax", "show", "--help").stdout
    for option in ("--jvp", "--vmap", "--in-axes"):
        assert option in out
    assert "finite differences" in run("-m", "s2sjax", "check", "--help").stdout
    assert "--output" in run("-m", "s2sjax", "export", "--help").stdout


FUNCTIONS = """\
import numpy as np


def smooth(x, y):
    return np.sum(np.sin(x) * y ** 2)


def vector(x):
    return x ** 3


def stepped(x):
    return np.floor(x) + x
"""


def test_check_prints_a_table_of_every_mode_against_finite_differences(tmp_path):
    (tmp_path / "funcs.py").write_text(FUNCTIONS)
    result = run(
        "-m",
        "s2sjax",
        "check",
        f"{tmp_path}/funcs.py:smooth",
        "--args",
        "np.linspace(0.1, 1, 4), 0.7",
        "--target",
        "python",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    point, reference, header, *rows = result.stdout.splitlines()
    assert point == "at x = [0.1 0.4 0.7 1. ] (shape (4,), float64), y = 0.7"
    assert "step 0.0001 * max(1, |x|)" in reference and "1e-09 + 1e-06 *" in reference
    modes = [line.split()[0] for line in rows]
    assert modes == ["grad", "value_and_grad", "jacfwd", "jacrev"] * 2 + ["jvp", "vjp"]
    assert all(line.rstrip().endswith("ok") for line in rows)
    vector = run(
        "-m",
        "s2sjax",
        "check",
        f"{tmp_path}/funcs.py:vector",
        "--args",
        "np.linspace(0.1, 1, 3)",
        "--target",
        "python",
    )
    assert vector.returncode == 0 and "grad " not in vector.stdout and "jacrev" in vector.stdout


def test_check_says_when_it_checked_at_a_jump(tmp_path):
    (tmp_path / "funcs.py").write_text(FUNCTIONS)
    result = run(
        "-m",
        "s2sjax",
        "check",
        f"{tmp_path}/funcs.py:stepped",
        "--args",
        "1.0",
        "--target",
        "python",
        check=False,
    )
    assert result.returncode == 1 and "MISMATCH" not in result.stdout
    assert "KINK: the one-sided differences disagree here; check at another point" in result.stdout


def test_check_fails_where_a_derivative_is_wrong_and_takes_tolerances(tmp_path):
    (tmp_path / "wrong.py").write_text(WRONG_RULE)
    command = ["-m", "s2sjax", "check", f"{tmp_path}/wrong.py:f", "--args", "0.5"]
    result = run(*command, "--target", "python", check=False)
    assert result.returncode == 1 and "MISMATCH" in result.stdout and "KINK" not in result.stdout
    # the rule is off by one part in 10**5: a looser tolerance accepts it
    loose = run(*command, "--target", "python", "--rtol", "1e-4", check=False)
    assert loose.returncode == 0, loose.stdout
    assert "1e-09 + 0.0001 *" in loose.stdout


WRONG_RULE = """\
import numpy as np
from s2sjax.extend import defjvp, defvjp


def scaled(x):
    return 2.0 * x


defvjp(scaled, lambda g, out, x: g * 2.0 * (1 + 1e-5))
defjvp(scaled, lambda d, out, x: d * 2.0 * (1 + 1e-5))


def f(x):
    return scaled(x) * 3.0
"""


def test_check_without_args_says_to_pass_them_when_the_assumed_ones_fail(tmp_path):
    (tmp_path / "needs.py").write_text("def loss(w, x):\n    return (x @ w).sum()\n")
    result = run("-m", "s2sjax", "check", f"{tmp_path}/needs.py:loss", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: no --args given: assumed loss(1.0, 1.0), which raised")
    assert 'pass example arguments, e.g. --args "np.ones(3), 2.0"' in result.stderr


def test_show_says_which_arguments_it_assumed(tmp_path):
    (tmp_path / "funcs.py").write_text(FUNCTIONS)
    result = run("-m", "s2sjax", "show", f"{tmp_path}/funcs.py:smooth", "--target", "python")
    assert result.stderr == "# no --args given: assumed smooth(1.0, 1.0); --args chooses them\n"
    assert result.stdout.startswith("# Generated by s2sjax")


def test_export_writes_a_module_that_runs_without_s2sjax(tmp_path):
    (tmp_path / "funcs.py").write_text(FUNCTIONS)
    target = tmp_path / "smooth_grad.py"
    run(
        "-m",
        "s2sjax",
        "export",
        f"{tmp_path}/funcs.py:smooth",
        "--grad",
        "--argnums",
        "0,1",
        "--args",
        "np.ones(4), 1.0",
        "-o",
        str(target),
    )
    text = target.read_text()
    assert "import s2sjax" not in text and "from s2sjax" not in text
    script = (
        "import sys; sys.modules['s2sjax'] = None\n"
        "import numpy as np, smooth_grad\n"
        "gx, gy = smooth_grad.smooth_grad(np.linspace(0.1, 1, 4), 0.7)\n"
        "print(repr(gx.tolist()), repr(float(gy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True
    ).stdout
    gx, gy = _two_values(out)
    x = np.linspace(0.1, 1, 4)
    np.testing.assert_allclose(
        gx, fd.numerical_grad(lambda x, y: np.sum(np.sin(x) * y**2), (x, 0.7), 0), rtol=1e-9
    )
    np.testing.assert_allclose(
        gy, fd.numerical_grad(lambda x, y: np.sum(np.sin(x) * y**2), (x, 0.7), 1), rtol=1e-9
    )


def _two_values(out):
    first, second = out.strip().rsplit(" ", 1)
    return np.array(ast.literal_eval(first)), float(second)


def test_export_names_the_file_relative_to_the_working_directory_and_copies_what_it_calls(
    tmp_path, monkeypatch
):
    (tmp_path / "funcs.py").write_text(FUNCTIONS)
    monkeypatch.chdir(tmp_path)
    smooth = load_function("funcs.py:smooth")
    text = export.module_source(s2sjax.grad(smooth, target="python"), (np.ones(3), 1.0))
    assert "Edit smooth (funcs.py:4)" in text and str(tmp_path) not in text
    # no reduction along an axis, no einsum, no linalg: none of their helpers
    for unused in ("def mean_adjoint", "def _einsum", "def kron_adjoint_a", "def gammaln"):
        assert unused not in text
    assert len(text.splitlines()) < 200


def test_an_exported_module_carries_the_helpers_its_helpers_call(tmp_path):
    (tmp_path / "mixed.py").write_text(MIXED)
    target = tmp_path / "mixed_grad.py"
    run(
        "-m",
        "s2sjax",
        "export",
        f"{tmp_path}/mixed.py:mixed",
        "--args",
        "np.ones(4)",
        "-o",
        str(target),
    )
    script = (
        "import sys; sys.modules['s2sjax'] = None\n"
        "import numpy as np, mixed_grad\n"
        "print(repr(mixed_grad.mixed_grad(np.linspace(0.1, 1, 4)).tolist()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True
    ).stdout
    namespace = {}
    exec(MIXED, namespace)
    x = np.linspace(0.1, 1, 4)
    np.testing.assert_allclose(
        ast.literal_eval(out), fd.numerical_grad(namespace["mixed"], (x,), 0), rtol=1e-8
    )


MIXED = """\
import numpy as np


def mixed(x):
    return np.sum(np.mean(x.reshape(2, -1), axis=1) ** 2) + np.einsum("i,i->", x, x)
"""
