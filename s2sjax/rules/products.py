"""Tensor products beyond `@`, np.dot and np.outer (s2sjax/rules/linalg.py): np.cross, np.kron.

Each is bilinear in its two operands, so its tangent is the product with one operand replaced by
its tangent, and its adjoint with respect to one operand is a product of the result's adjoint `g`
with the other operand. Where Numba lacks a form (np.cross with axes), s2sjax/backend/runtime.py
overloads the NumPy function itself, so generated code keeps the user's spelling.
"""

import gast
import numpy as np

from ..abstract import Type, broadcast, promote
from .linalg import BILINEAR
from .registry import Rule, RuleError, register

CROSS_AXES = ("axisa", "axisb", "axisc")


def _static_int(nodes, param):
    node = nodes[param]
    if not (isinstance(node, gast.Constant) and (node.value is None or type(node.value) is int)):
        raise RuleError(f"{param} must be a constant int")
    return node.value


def _cross_axes(types, nodes):
    """(axisa, axisb, axisc) counted from the end (`axis`, when given, sets all three), so that
    an adjoint's vector axis lines up with its operand's when the stacks broadcast."""
    ranks = (types["a"].ndim, types["b"].ndim)
    if None in ranks:
        raise RuleError("np.cross needs operands of known rank")
    ranks += (max(ranks),)
    axis = _static_int(nodes, "axis")
    axes = [axis if axis is not None else _static_int(nodes, p) for p in CROSS_AXES]
    return [axis % rank - rank for axis, rank in zip(axes, ranks)]


def _cross_adjoint(which):
    def template(types, nodes):
        ka, kb, kc = _cross_axes(types, nodes)
        if which == "a":  # <g, a x b> = <a, b x g>
            return f"rt.unbroadcast(np.cross(b, g, axisa={kb}, axisb={kc}, axisc={ka}), a)"
        return f"rt.unbroadcast(np.cross(g, a, axisa={kc}, axisb={ka}, axisc={kb}), b)"

    return template


register(
    Rule(
        "np.cross",
        ("a", "b") + CROSS_AXES + ("axis",),
        lambda types, nodes: broadcast(types["a"], types["b"], kind="float"),
        {"a": _cross_adjoint("a"), "b": _cross_adjoint("b")},
        defaults={"axisa": -1, "axisb": -1, "axisc": -1, "axis": None},
        linear=BILINEAR,
        static=CROSS_AXES + ("axis",),
        product=True,
    ),
    np.cross,
)


def _kron_result(types, nodes):
    ranks = (types["a"].ndim, types["b"].ndim)
    if None in ranks or max(ranks) > 2:
        raise RuleError("np.kron is supported for operands of rank 0, 1 or 2 (as in Numba)")
    return Type(promote(types["a"].kind, types["b"].kind), max(ranks))


register(
    Rule(
        "np.kron",
        ("a", "b"),
        _kron_result,
        {"a": "rt.kron_adjoint_a(g, a, b)", "b": "rt.kron_adjoint_b(g, a, b)"},
        linear=BILINEAR,
        product=True,
    ),
    np.kron,
)
