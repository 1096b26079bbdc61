"""JAX habits and what to write in s2sjax instead.

One table behind three things: the hint of the AttributeError for a JAX name
that s2sjax does not have (`s2sjax.pmap`), the hint of the refusal of a JAX
array method inside a transformed function (`x.at[i].set(v)`), and the table
of docs/coming-from-jax.md (written by docs/generate.py).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Habit:
    jax: str  # what a JAX user writes
    instead: str  # what to write with s2sjax (Markdown)
    attribute: str | None = None  # a name looked up on the s2sjax module
    method: str | None = None  # an array method called inside a transformed function


HABITS = (
    Habit(
        "`import jax.numpy as jnp`, `jnp.sin(x)`",
        "`import numpy as np`, `np.sin(x)`; `math.sin(x)` on floats",
        attribute="numpy",
    ),
    Habit("`jax.grad(f, argnums, has_aux)`", "`s2sjax.grad(f, argnums, has_aux)`"),
    Habit("`jax.value_and_grad`, `jax.jvp`, `jax.vjp`", "the same names, the same results"),
    Habit(
        "`jax.grad(f, allow_int=True)`, `jax.dtypes.float0`",
        "the same (`grad`, `value_and_grad`, `jacrev`): an integer argument's derivative is "
        "zeros of dtype `s2sjax.float0`",
    ),
    Habit("`jax.jacfwd`, `jax.jacrev`, `jax.hessian`", "the same names; output dimensions first"),
    Habit(
        "`jax.vmap(vjp_fun)(cotangents)`",
        "not a vmap of the pullback: `vmap(grad(lambda x, ct: np.sum(f(x) * ct)), "
        "in_axes=(None, 0))(x, cotangents)`",
    ),
    Habit("`jax.vmap(f, in_axes, out_axes, axis_size)`", "the same, container prefixes included"),
    Habit(
        "`jax.jit(f, static_argnums, static_argnames)`",
        "`s2sjax.jit(f, static_argnums, static_argnames)`; `grad` and the others are compiled "
        "already, `jit` of them is not needed",
    ),
    Habit(
        "`jax.pmap(f)`",
        '`s2sjax.vmap(f, target="parallel")`: the examples run on all CPU cores',
        attribute="pmap",
    ),
    Habit("GPU", '`s2sjax.vmap(f, target="cuda")`: one CUDA thread per example'),
    Habit(
        "`jax.device_put(x)`, `jax.devices()`",
        "NumPy arrays, no devices: `target=` chooses where the code runs",
        attribute="device_put",
    ),
    Habit(
        "`y.block_until_ready()`",
        "not needed: results are NumPy arrays, complete when the call returns",
        method="block_until_ready",
    ),
    Habit(
        "`x.at[i].set(v)`, `x.at[i].add(v)`",
        "an in-place update on a copy, differentiated as written: "
        "`y = x.copy(); y[i] = v` (or `y[i] += v`)",
        attribute="at",
        method="at",
    ),
    Habit(
        "`jax.lax.fori_loop`, `lax.scan`, `lax.while_loop`",
        "a Python `for` or `while` loop: compiled as a loop, differentiated through",
        attribute="lax",
    ),
    Habit(
        "`jax.lax.cond`, `lax.select`, `jnp.where` for branches",
        "a Python `if` on the value (each vmap example takes its own branch), or `np.where`",
    ),
    Habit(
        "`jax.nn.relu(x)`, `jax.nn.sigmoid(x)`, `jax.nn.softmax(x)`",
        "the NumPy spelling: `np.maximum(x, 0.0)`, `scipy.special.expit(x)`, "
        "`np.exp(x - scipy.special.logsumexp(x))`",
        attribute="nn",
    ),
    Habit(
        "pytrees, `jax.tree_util.tree_map`",
        "tuples, lists and dicts; `s2sjax.tree_map`, `tree_flatten`, `tree_unflatten`",
        attribute="tree_util",
    ),
    Habit(
        "`jax.custom_vjp`, `jax.custom_jvp`",
        "`s2sjax.extend.defvjp`, `s2sjax.extend.defjvp`",
        attribute="custom_vjp",
    ),
    Habit(
        "`jax.make_jaxpr(f)`",
        "`s2sjax.source(grad(f))`, `python -m s2sjax show file.py:f --after STAGE`",
        attribute="make_jaxpr",
    ),
    Habit(
        "`jax.random.PRNGKey`, `jax.random.normal(key, shape)`",
        "`np.random.default_rng(seed)`, outside the transformed function",
        attribute="random",
    ),
    Habit(
        '`jax.config.update("jax_enable_x64", True)`',
        "float64 is the default (NumPy's); `s2sjax.config.update` accepts it and does nothing",
    ),
)

_BY_ATTRIBUTE = {h.attribute: h for h in HABITS if h.attribute}
_ALSO = {"devices": "device_put", "custom_jvp": "custom_vjp"}  # names sharing a habit
_BY_METHOD = {h.method: h for h in HABITS if h.method}


def attribute_hint(name):
    """The hint for `s2sjax.<name>`, a JAX name that s2sjax does not have, or None."""
    habit = _BY_ATTRIBUTE.get(_ALSO.get(name, name))
    return None if habit is None else _plain(f"{habit.jax} in JAX: here {habit.instead}")


def method_hint(name):
    """The hint for the array method `name` of JAX's arrays, called in a transformed function."""
    habit = _BY_METHOD.get(name)
    return None if habit is None else _plain(f"{habit.jax} is JAX's; here {habit.instead}")


def markdown_table():
    """docs/coming-from-jax.md's table, one row per habit."""
    rows = ["| JAX | s2sjax |", "| --- | --- |"]
    rows += [f"| {h.jax} | {h.instead} |" for h in HABITS]
    return "\n".join(rows) + "\n"


def _plain(markdown):
    return markdown.replace("`", "")
