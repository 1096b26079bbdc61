"""Tensor products beyond `@`, np.dot and np.outer (s2sjax/rules/linalg.py): np.cross, np.kron.

Each is bilinear in its two operands, so its tangent is the product with one operand replaced by
its tangent, and its adjoint with respect to one operand is a product of the result's adjoint `g`
with the other operand. Where Numba lacks a form (np.cross with axes), s2sjax/backend/runtime.py
overloads the NumPy function itself, so generated code keeps the user's spelling.
"""

import gast
import numpy as np

from ..abstract import Type, broadcast, promote
from ..backend import runtime as rt
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


# np.einsum: multilinear in its operands. The adjoint of one operand is the einsum of the others
# and `g` into its indices (one of ones shaped like it supplies the indices only it has).
EINSUM_OPERANDS = ("a", "b", "c", "d")


def _einsum_parts(types, nodes):
    """(subscripts, the operand parameters given, their index letters, the output's)."""
    subscripts = nodes["subscripts"]
    if not (isinstance(subscripts, gast.Constant) and isinstance(subscripts.value, str)):
        raise RuleError("np.einsum takes its subscripts as a constant string")
    given = [p for p in EINSUM_OPERANDS if not _is_none(nodes[p])]
    try:
        letters, output = rt.einsum_spec(subscripts.value, len(given))
    except ValueError as exc:
        raise RuleError(str(exc)) from None
    for p, subs in zip(given, letters):
        if types[p].ndim != len(subs):
            raise RuleError(f"np.einsum operand {p!r} has rank {types[p].ndim}, not {len(subs)}")
    return subscripts.value, given, letters, output


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def _einsum_result(types, nodes):
    _, given, _, output = _einsum_parts(types, nodes)
    return Type(promote(*(types[p].kind for p in given)), len(output))


def _einsum_adjoint(param):
    def template(types, nodes):
        _, given, letters, output = _einsum_parts(types, nodes)
        mine = letters[given.index(param)]
        if len(set(mine)) != len(mine):
            raise RuleError(
                "the derivative of np.einsum with respect to an operand with a repeated index "
                f"({mine!r}, a diagonal) is not supported"
            )
        others = [(p, s) for p, s in zip(given, letters) if p != param] + [("g", output)]
        if not set(mine) <= set("".join(s for _, s in others)):
            others.append((f"np.full_like({param}, 1.0)", mine))
        spec = ",".join(s for _, s in others) + "->" + mine
        return f"np.einsum({spec!r}, {', '.join(p for p, _ in others)})"

    return template


def _einsum_tangent(param):
    def template(types, nodes):
        subscripts, given, _, _ = _einsum_parts(types, nodes)
        operands = ", ".join("d" if p == param else p for p in given)
        return f"np.einsum({subscripts!r}, {operands})"

    return template


register(
    Rule(
        "np.einsum",
        ("subscripts",) + EINSUM_OPERANDS,
        _einsum_result,
        {p: _einsum_adjoint(p) for p in EINSUM_OPERANDS},
        defaults={p: None for p in EINSUM_OPERANDS[1:]},
        tangents={p: _einsum_tangent(p) for p in EINSUM_OPERANDS},
        static=("subscripts",),
        product=True,
    ),
    np.einsum,
)
