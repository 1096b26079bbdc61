"""jvp: the forward transform, called with the primals and their tangents.

The generated function takes the user's arguments, its hidden ones, then one
tangent per float argument, and returns `(outputs, output tangents)`.
"""

from dataclasses import dataclass

import numpy as np

from ..errors import check_not_complex
from ..abstract import of_value
from ..mode import Mode
from ..pytree import tree_map, tree_unflatten
from .base import Kind
from ..lazy import lazy_module

# modules loaded on first use (s2sjax/lazy.py): `import s2sjax` leaves them for code generation
containers = lazy_module("s2sjax.containers")


@dataclass(frozen=True)
class Jvp(Kind):
    name = "jvp"
    mode = Mode.JVP


def call(transformed, primals, tangents):
    """`(fun(*primals), J @ tangents)` for the Transformed `transformed` of kind Jvp."""
    transformed = transformed.for_arguments(primals)
    if len(primals) != transformed.nparams:
        primals = transformed.bind(primals, {})
        tangents = tangents + tuple(
            np.zeros(np.shape(p)) for p in primals[len(tangents) :]
        )  # defaults: fixed
    if containers.has_containers(primals):
        flat, flattening, rebuild = transformed.flat(primals)
        flattening.check_tangents(tangents)
        leaves = flattening.checked_leaves(primals, Jvp.name)
        out, tangent_out = call(flat, leaves, flattening.leaves(tangents))
        return rebuild(out), rebuild(tangent_out)
    entry = transformed.specialization(primals)
    return run(entry, primals, [tangents[i] for i in entry.argnums])


def run(specialization, primals, tangents):
    check_not_complex(tangents, Jvp.name, "tangents")
    tangents = [_as_tangent(t, primals[i]) for t, i in zip(tangents, specialization.argnums)]
    out, tangent_out = specialization.invoke("call", specialization.arguments(primals, tangents))
    tangent_out = tree_map(_in_output_dtype, tangent_out, out)
    tree = specialization.output_tree
    if tree is None:
        return out, tangent_out
    if tree.num_leaves == 1:  # the generated JVP returns one output bare
        out, tangent_out = (out,), (tangent_out,)
    return tree_unflatten(tree, out), tree_unflatten(tree, tangent_out)


def checked_arguments(primals, tangents):
    """The primals and tangents as tuples, checked as JAX checks them."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "primal and tangent arguments to s2sjax.jvp must be tuples or lists; "
            f"found {type(primals).__name__} and {type(tangents).__name__}."
        )
    if len(primals) != len(tangents):
        raise ValueError(
            "jvp called with different primal and tangent tuple lengths: "
            f"{len(primals)} primals and {len(tangents)} tangents."
        )
    for p, t in zip(primals, tangents):
        if type(p) is float and type(t) is float:  # the common case, checked without NumPy
            continue
        if of_value(p).differentiable and np.shape(p) != np.shape(t):
            raise ValueError(
                "jvp called with different primal and tangent shapes;"
                f"Got primal shape {np.shape(p)} and tangent shape as {np.shape(t)}"
            )
    return tuple(primals), tuple(tangents)


def _in_output_dtype(tangent, output):
    """A tangent in its float32 output's dtype, as JAX's (a runtime helper may widen it)."""
    if not isinstance(output, (np.ndarray, np.floating)) or output.dtype != np.float32:
        return tangent
    return np.float32(tangent) if np.ndim(tangent) == 0 else np.asarray(tangent, np.float32)


def _as_tangent(tangent, primal):
    """A scalar tangent in its primal's float type (as JAX's): a float32 primal's is float32."""
    if type(tangent) is float and type(primal) is float:
        return tangent
    if np.ndim(primal) == 0:
        dtype = np.asarray(primal).dtype
        return (dtype if dtype.kind == "f" else np.dtype(np.float64)).type(tangent)
    tangent = np.asarray(tangent)
    return tangent if tangent.dtype.kind == "f" else tangent.astype(np.float64)
