"""The seed tutorials' examples (examples/seed_*.py): the numbers they return and print.

Oracles: closed forms, finite differences and explicit Python loops, never s2sjax itself.
"""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from tests import fd

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


derivatives = load("seed_derivatives")
batching = load("seed_batching")
training = load("seed_training")


def test_exp_passed_directly_and_its_table():
    at_two, table = derivatives.exp_and_its_derivative()
    assert at_two == pytest.approx(7.389056098930650, rel=1e-14)
    assert len(table) == 10
    for x, value, slope in table:
        assert slope == pytest.approx(math.exp(x), rel=1e-14)


def test_quadratic_first_and_second_derivative_and_the_int_error():
    first, second, error = derivatives.quadratic_derivatives()
    assert (first, second) == (12.0, 6.0)
    assert "requires real-valued inputs" in error and "int" in error


def test_partial_derivatives_by_argnums():
    da, db = derivatives.partial_derivatives()
    assert da == pytest.approx(-1.0, rel=1e-15)
    assert abs(db) < 1e-15


def test_gradient_of_an_array_argument():
    np.testing.assert_allclose(
        derivatives.gradient_of_an_array(), [1.0, 2.0, -8.0], rtol=1e-15, atol=1e-15
    )


def test_powers_and_sums():
    d1, d2, ds, dx, (gx, gy, gz) = derivatives.powers_and_sums()
    x = np.arange(3.0)
    assert (d1, d2) == (8.0, 2.0)
    np.testing.assert_array_equal(ds, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(dx, 2 * x)
    np.testing.assert_allclose(
        np.concatenate([gx, gy, gz]), np.concatenate([2 * x, 3 * x**2, 4 * x**3])
    )


def test_value_and_grad_returns_the_loss_and_its_gradients():
    value, grads = derivatives.loss_and_its_gradient()
    x = np.linspace(0.0, 1.0, 5)
    args = (1.0, 0.5, x, 5 * x + 2)
    assert value == pytest.approx(derivatives.linear_loss(*args), rel=1e-14)
    fd.check_grad(
        derivatives.linear_loss, args, (0, 1), grads, rtol=1e-8, atol=1e-10, name="linear_loss"
    )


def test_compiled_gradient_against_the_closed_form():
    value, relative_error, times, (dx, dy) = derivatives.compiled_against_plain(calls=1000)
    assert value == pytest.approx(0.0506943688, rel=1e-9)
    assert relative_error < 1e-12
    assert all(t > 0 for t in times)
    assert dx == pytest.approx(1.0506943688, rel=1e-9) and dy == 0.13


def test_vmap_over_rows_and_columns_gives_zeros():
    np.testing.assert_array_equal(batching.mapped_over_two_axes(), np.zeros(5))


def test_vmap_of_grad_of_sin_is_cos():
    xs, slopes = batching.derivative_of_sin()
    assert xs.shape == (100,)
    np.testing.assert_allclose(slopes, np.cos(xs), rtol=1e-14, atol=1e-15)


def test_pairwise_distances_two_ways_agree_with_a_loop():
    xs, xs2, by_lambdas, by_axes = batching.pairwise_two_ways()
    expected = np.array([[np.sum(np.abs(x - y)) for y in xs2] for x in xs])
    np.testing.assert_allclose(by_lambdas, expected, rtol=1e-14)
    np.testing.assert_allclose(by_axes, expected, rtol=1e-14)


def test_jit_with_a_constant_argument_and_grad():
    derivative, jitted, scaled = batching.jit_and_grad()
    assert (derivative, jitted, scaled) == (8.0, 15.0, 30.0)


def test_simple_vmaps_against_loops():
    squares, products = batching.simple_vmaps()
    np.testing.assert_array_equal(squares, [3.0, 8.0, 15.0])
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(products, np.stack([row * (row + 1.0) for row in a]))


def test_pmap_maps_to_a_parallel_vmap():
    parallel, serial = batching.pmap_as_parallel_vmap()
    xs = np.linspace(-1.0, 1.0, 8)
    np.testing.assert_array_equal(parallel, [x**2 + 2 * x for x in xs])
    np.testing.assert_array_equal(serial, parallel)


def test_gradients_keep_the_container_type_and_a_dict_gets_a_key_error():
    as_tuple, as_list, error = training.gradients_of_containers()
    assert type(as_tuple) is tuple and type(as_list) is list
    np.testing.assert_allclose(as_tuple, [1.0, 2.0, -8.0], rtol=1e-12)
    np.testing.assert_allclose(as_list, [1.0, 2.0, -8.0], rtol=1e-12)
    assert isinstance(error, KeyError) and error.args == (0,)


def test_sgd_with_tree_map_finds_the_linear_model():
    w, b = training.linear_regression()
    assert w == pytest.approx(5.0, abs=0.01) and b == pytest.approx(2.0, abs=0.01)


def test_mlp_training_lowers_the_loss_and_its_gradients_match_finite_differences():
    losses, params, x, y = training.train_mlp()
    assert len(losses) == 100 and losses[-1] < 0.2 * losses[0]
    assert all(later <= earlier * 1.05 for earlier, later in zip(losses, losses[1:]))
    loss, grads = training.s2sjax.value_and_grad(training.mlp_loss)(params, x, y)
    assert loss == pytest.approx(training.mlp_loss(params, x, y), rel=1e-13)
    h = 1e-5
    for layer, part, index in [(0, 0, (3, 7)), (0, 1, (11,)), (1, 0, (5, 2)), (1, 1, (9,))]:

        def loss_at(step):
            changed = [tuple(np.array(p) for p in pair) for pair in params]
            changed[layer][part][index] += step
            return training.mlp_loss(changed, x, y)

        numerical = (8 * (loss_at(h) - loss_at(-h)) - (loss_at(2 * h) - loss_at(-2 * h))) / (12 * h)
        assert grads[layer][part][index] == pytest.approx(numerical, rel=1e-6, abs=1e-10)


def test_the_scripts_print_their_results(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # where the plot goes, when matplotlib is installed
    derivatives.main()
    batching.main()
    training.main()
    printed = capsys.readouterr().out
    assert "d/dx exp(x) at 2.0 = 7.389056" in printed
    assert "d/dx (3x² + 9) at 2.0 = 12.0; second derivative at 20.0 = 6.0" in printed
    assert "d/dx x·sin(x²) at 0.13 = 0.0506944" in printed
    assert "vmap(grad(np.sin)) equals cos: True" in printed
    assert "pairwise L1 distances, two ways, agree: True" in printed
    assert "gradient at the list  [1, π/2, -1]: [1.0, 2.0, -8.0]" in printed
    assert "at a dict with other keys: KeyError: 0" in printed
    assert (
        "SGD on y = 5x + 2: params = (5.00" in printed
        or "SGD on y = 5x + 2: params = (4.99" in printed
    )
    assert "vmap with target='parallel' gives the same: True" in printed
    assert ("saved sin_and_derivative.png" in printed) == (
        tmp_path / "sin_and_derivative.png"
    ).exists()
