"""The seed tutorials ported literally (examples/seed_00N_literal.py), run as written.

Each script runs once, on the python target (s2sjax's transformations given target="python"
while it loads) except seed 001's two small gradients, compiled as written. Oracles: the closed
forms the tutorials state, finite differences, explicit loops; never s2sjax itself.
"""

import functools
import importlib.util
import math
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import s2sjax
from tests import fd

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TRANSFORMATIONS = ("grad", "value_and_grad", "jit", "vmap", "jacfwd", "jacrev", "hessian")


def on_python_target():
    """The s2sjax module as the script sees it, its transformations given target="python"."""
    module = types.ModuleType("s2sjax")
    module.__dict__.update(vars(s2sjax))
    for name in TRANSFORMATIONS:
        setattr(module, name, functools.partial(getattr(s2sjax, name), target="python"))
    return module


def run_script(name, python_target):
    """The example's module after running it, with what it printed."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(EXAMPLES))  # jax_stand_ins
        if python_target:
            patch.setitem(sys.modules, "s2sjax", on_python_target())
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def seed_000():
    return run_script("seed_000_literal", python_target=True)


@pytest.fixture(scope="module")
def seed_004():
    return run_script("seed_004_literal", python_target=True)


def test_seed_000_gradients_against_the_closed_forms(seed_000):
    m = seed_000
    assert m.gradientExp(2.0) == pytest.approx(math.exp(2.0), rel=1e-14)
    assert (m.gradFunc(2.0), m.doubleDerivativeFunc(20.0)) == (12.0, 6.0)
    assert m.df_da(np.pi, 2 * np.pi) == pytest.approx(math.cos(np.pi), rel=1e-14)
    assert m.df_db(np.pi, 2 * np.pi) == pytest.approx(-math.sin(2 * np.pi), abs=1e-15)
    for point in (m.x, m.tupleD, m.listE):
        closed_form = [1.0, 2 * math.sin(point[1]), 8 * point[2]]
        np.testing.assert_allclose(m.gradientVec(point), closed_form, rtol=1e-14, atol=1e-15)
    assert type(m.gradientVec(m.tupleD)) is tuple and type(m.gradientVec(m.listE)) is list


def test_seed_000_refusals_are_pythons_own_errors(seed_000):
    with pytest.raises(TypeError, match="requires real-valued inputs"):
        seed_000.gradFunc(2)
    with pytest.raises(KeyError):
        seed_000.gradientVec(seed_000.dictionaryF)


def test_seed_001_compiled_as_written(capsys):
    m = run_script("seed_001_literal", python_target=False)
    assert (m.dydx(m.x), s2sjax.grad(m.dydx)(m.x)) == (8.0, 2.0)
    printed = capsys.readouterr().out
    assert "First order gradients of y wrt x:  8.0" in printed
    assert "Second order gradients of y wrt x:  2.0" in printed


def test_seed_003_partial_derivatives_against_the_closed_forms():
    m = run_script("seed_003_literal", python_target=True)
    assert m.df_AD == pytest.approx(m.df_ex, rel=1e-14)
    assert m.dfunc_AD_jit(m.x0) == pytest.approx(m.df_ex, rel=1e-14)
    x, y = m.x0, m.y0
    assert m.grad_x == pytest.approx(math.sin(x**2) + 2 * x**2 * math.cos(x**2) + y, rel=1e-14)
    assert m.grad_y == pytest.approx(x, rel=1e-15)


def test_seed_004_grad_and_vmap_against_the_closed_form_and_a_loop(seed_004):
    m = seed_004
    assert m.gradient == 2 * 3.0 + 2  # d/dx (x² + 2x) at x = 3
    expected = np.stack([a * b for a, b in zip(m.x_array, m.y_array)])
    np.testing.assert_array_equal(m.results, expected)


def test_seed_004_training_loss_and_gradient_against_finite_differences(seed_004):
    m = seed_004
    model = m.build_model([12, 5, 3])
    x, y = (
        m.random.normal(m.random.PRNGKey(0), (4, 12)),
        m.random.normal(m.random.PRNGKey(1), (4, 3)),
    )
    loss, grads = m.s2sjax.value_and_grad(m.loss_fn)(model, x, y)
    assert loss == pytest.approx(m.loss_fn(model, x, y), rel=1e-14)
    for layer, part in [(0, 0), (0, 1), (1, 0), (1, 1)]:

        def loss_of(value, layer=layer, part=part):
            changed = [list(pair) for pair in model]
            changed[layer][part] = value
            return m.loss_fn([tuple(pair) for pair in changed], x, y)

        fd.check_grad(
            loss_of, (model[layer][part],), (0,), (grads[layer][part],), rtol=1e-7, atol=1e-9
        )
