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
