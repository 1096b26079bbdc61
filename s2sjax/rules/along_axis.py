"""Functions along an axis: np.trace, np.diff, np.cumsum, np.gradient.

`np.trace` and `np.diff` are written in other rules (`Rule.expands`): a trace
is the sum over the first two axes of the array times a constant mask of its
diagonal (`rt.diagonal_mask`), an n-th difference is n first differences
(`rt.diff_once`). `np.cumsum` is linear; its adjoint is the
cumulative sum from the other end (`rt.cumsum_adjoint`). `np.gradient` (unit
spacing) is `rt.gradient_along` per axis: a tuple of them for a tuple of axes.
"""

import gast
import numpy as np

from ..abstract import Type
from .reductions import _call, _constant, _is_none, never_typed
from .registry import Rule, RuleError, register


def _int_constant(node, param, default):
    if node is None:
        return default
    if not (isinstance(node, gast.Constant) and type(node.value) is int):
        raise RuleError(f"{param} must be an int constant (known when the function is transformed)")
    return node.value


def _expand_trace(given):
    axes = (
        _int_constant(given.get("axis1"), "axis1", 0),
        _int_constant(given.get("axis2"), "axis2", 1),
    )
    if axes != (0, 1):
        raise RuleError("np.trace along axes other than axis1=0, axis2=1 is not supported")
    for param in ("dtype", "out"):
        if not _is_none(given.get(param)):
            raise RuleError(f"np.trace's {param}= is not supported")
    a, offset = given["a"], given.get("offset", _constant(0))
    masked = gast.BinOp(a, gast.Mult(), _call("rt.diagonal_mask", a, offset))
    return _call("np.sum", masked, axis=gast.Tuple([_constant(0), _constant(1)], gast.Load()))


register(
    Rule(
        "np.trace",
        ("a", "offset", "axis1", "axis2", "dtype", "out"),
        never_typed,
        defaults={"offset": 0, "axis1": 0, "axis2": 1, "dtype": None, "out": None},
        expands=_expand_trace,
    ),
    np.trace,
)


def _expand_diff(given):
    for param in ("prepend", "append"):
        if not _is_none(given.get(param)):
            raise RuleError(f"np.diff's {param}= is not supported")
    n = _int_constant(given.get("n"), "n", 1)
    if n < 1:
        raise RuleError("np.diff needs n >= 1")
    axis = _constant(_int_constant(given.get("axis"), "axis", -1))
    once = _call("rt.diff_once", given["a"], axis)
    return once if n == 1 else _call("np.diff", once, n=_constant(n - 1), axis=axis)


register(
    Rule(
        "np.diff",
        ("a", "n", "axis", "prepend", "append"),
        never_typed,
        defaults={"n": 1, "axis": -1, "prepend": None, "append": None},
        expands=_expand_diff,
    ),
    np.diff,
)


def _cumsum_result(types, nodes):
    a, axis = types["a"], nodes["axis"]
    kind = "float" if a.kind == "float" else "int"
    if a.ndim == 0:
        raise RuleError("np.cumsum of a scalar is not supported; give it an array")
    if isinstance(axis, gast.Constant) and axis.value is None:
        return Type(kind, 1)
    if types["axis"].kind != "int" or types["axis"].ndim != 0:
        raise RuleError("np.cumsum's axis must be None or one int")
    return Type(kind, a.ndim)


register(
    Rule(
        "np.cumsum",
        ("a", "axis"),
        _cumsum_result,
        {"a": "rt.cumsum_adjoint(g, a, axis)"},
        defaults={"axis": None},
        linear=("a",),
        static=("axis",),
    ),
    np.cumsum,
)


def _expand_gradient(given):
    if (
        not _is_none(given.get("spacing"))
        or _int_constant(given.get("edge_order"), "edge_order", 1) != 1
    ):
        raise RuleError("np.gradient with a spacing or edge_order=2 is not supported")
    a, axis = given["f"], given.get("axis", _constant(None))
    if not isinstance(axis, gast.Tuple):
        return _call("rt.gradient_along", a, axis)
    for k in axis.elts:
        _int_constant(k, "axis", None)
    return gast.Tuple([_call("rt.gradient_along", a, k) for k in axis.elts], gast.Load())


register(
    Rule(
        "np.gradient",
        ("f", "spacing", "axis", "edge_order"),
        never_typed,
        defaults={"spacing": None, "axis": None, "edge_order": 1},
        expands=_expand_gradient,
    ),
    np.gradient,
)
