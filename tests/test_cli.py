"""`python -m s2sjax show` and the quickstart example, run as a user runs them."""
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, check=True):
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=REPO, check=check)


def test_show_prints_the_generated_gradient_plain_when_piped():
    out = run("-m", "s2sjax", "show", "examples/quickstart.py:loss", "--grad", "--argnums", "0,1").stdout
    assert "def loss_grad(W, b, X, y):" in out
    assert "b_bar = rt.unbroadcast(t2_bar, b)" in out
    assert "return W_bar, b_bar" in out
    assert "\x1b[" not in out


def test_show_highlights_when_asked():
    out = run("-m", "s2sjax", "show", "examples/quickstart.py:f", "--color", "always").stdout
    assert "\x1b[" in out and "f_grad" in out


@pytest.mark.parametrize("stage,expected", [
    ("parse", "def f(x):\n    return x * math.sin(x ** 2)"),
    ("normalize", "    t1 = x ** 2\n    t2 = math.sin(t1)\n    out = x * t2\n    return out"),
    ("analyze", "x: float  (active)"),
    ("emit", "def f_grad(x):"),
])
def test_show_after_each_stage(stage, expected):
    out = run("-m", "s2sjax", "show", "examples/quickstart.py:f", "--after", stage).stdout
    assert expected in out


def test_show_takes_example_arguments_and_value_and_grad():
    out = run("-m", "s2sjax", "show", "examples/quickstart.py:loss", "--value-and-grad",
              "--args", "np.ones((4, 3)), b, np.ones((2, 4)), y[:2]").stdout
    assert "value_and_grad of loss w.r.t. argnums (0,) for (float[2d], float[2d], float[2d], float[2d])" in out


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
