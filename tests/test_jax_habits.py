"""JAX habits get a hint saying what to write instead, from one table (s2sjax/habits.py)."""

import numpy as np
import pytest

import s2sjax
from s2sjax import config, habits


@pytest.mark.parametrize(
    "name, says",
    [
        ("pmap", 's2sjax.vmap(f, target="parallel")'),
        ("lax", "a Python for or while loop"),
        ("nn", "np.maximum(x, 0.0)"),
        ("devices", "target= chooses where the code runs"),
        ("custom_jvp", "s2sjax.extend.defjvp"),
    ],
)
def test_a_jax_name_missing_here_says_what_to_write(name, says):
    with pytest.raises(AttributeError, match=f"no attribute '{name}'") as info:
        getattr(s2sjax, name)
    assert says in str(info.value) and "`" not in str(info.value)


def test_a_misspelt_name_gets_pythons_suggestion_and_no_hint():
    with pytest.raises(AttributeError) as info:
        s2sjax.vamp  # noqa: B018
    assert "hint" not in str(info.value) and info.value.name == "vamp"


def at_set(x):
    y = x.at[0].set(2.0)
    return np.sum(y)


def ready(x):
    return np.sum(x).block_until_ready()


def test_jax_array_methods_in_a_transformed_function_are_refused_with_the_habit():
    with pytest.raises(s2sjax.TransformError, match="the method 'set'") as info:
        s2sjax.grad(at_set, target="python")(np.ones(3))
    assert (
        "y = x.copy(); y[i] = v" in str(info.value)
        and info.value.lineno == at_set.__code__.co_firstlineno + 1
    )
    with pytest.raises(s2sjax.TransformError, match="block_until_ready") as info:
        s2sjax.grad(ready, target="python")(np.ones(3))
    assert "complete when the call returns" in str(info.value)


def test_other_methods_still_list_the_supported_ones():
    assert habits.method_hint("tolist") is None


def test_config_update_takes_jax_names(monkeypatch):
    monkeypatch.setattr(config, "traceback_filtering", "on")
    config.update("jax_enable_x64", True)  # the default here: accepted, nothing to do
    config.update("jax_traceback_filtering", "off")
    assert config.traceback_filtering == "off"
    with pytest.raises(ValueError, match="no setting that makes float32 the default"):
        config.update("jax_enable_x64", False)
    with pytest.raises(ValueError, match="unknown setting 'jax_platform_name'"):
        config.update("jax_platform_name", "cpu")


def power(x, n):
    return x**n


def test_jit_static_argnames_compiles_the_named_argument_in():
    f = s2sjax.jit(power, static_argnames="n", target="python")
    assert f(2.0, n=3) == 8.0 and f(2.0, 4) == 16.0
    assert "def power_jit(x)" in s2sjax.source(f, 2.0, 5)
    with pytest.raises(ValueError, match="static_argnames names 'm', which is not a parameter"):
        s2sjax.jit(power, static_argnames=("m",))


def scaled_gather(x, idx, n):
    return np.sum(x[idx]) * n


def with_count(x, n):
    return np.sum(x * n), n


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_allow_int_gives_float0_zeros_for_integer_arguments_and_gradients_for_the_others(target):
    x, idx = np.array([1.0, 2.0, 3.0]), np.array([0, 2])
    grad = s2sjax.grad(scaled_gather, argnums=(0, 1, 2), allow_int=True, target=target)
    dx, didx, dn = grad(x, idx, 3)
    np.testing.assert_allclose(dx, [3.0, 0.0, 3.0])
    assert didx.dtype == s2sjax.float0 and didx.shape == (2,)
    assert dn.dtype == s2sjax.float0 and dn.shape == ()

    (value, aux), (dn, dx) = s2sjax.value_and_grad(
        with_count, argnums=(1, 0), has_aux=True, allow_int=True, target=target
    )(x, 2)
    assert (value, aux) == (12.0, 2) and dn.dtype == s2sjax.float0
    np.testing.assert_allclose(dx, [2.0, 2.0, 2.0])

    # only integers differentiated: the value and aux still come back
    (value, aux), dn = s2sjax.value_and_grad(
        with_count, argnums=1, has_aux=True, allow_int=True, target=target
    )(x, 2)
    assert (value, aux, dn.shape, dn.dtype) == (12.0, 2, (), s2sjax.float0)


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_allow_int_jacrev_gives_a_float0_block_of_the_outputs_shape(target):
    x, idx = np.array([1.0, 2.0, 3.0]), np.array([0, 2])
    jx, jidx = s2sjax.jacrev(
        lambda x, i: x[i] * 2.0, argnums=(0, 1), allow_int=True, target=target
    )(x, idx)
    np.testing.assert_allclose(jx, [[2.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    assert jidx.shape == (2, 2) and jidx.dtype == s2sjax.float0


def test_without_allow_int_an_integer_argument_is_refused_with_a_hint_to_pass_it():
    with pytest.raises(TypeError, match="but got int64.*or pass allow_int=True"):
        s2sjax.grad(scaled_gather, argnums=2, target="python")(np.ones(3), np.array([0]), 3)
