"""Reductions: sum, mean, prod, max, min, with an optional integer `axis`; var and std.

The adjoint spreads `g` back over the reduced axis; the runtime helpers take
the axis (None or an int) so one template serves every rank. For max and min,
tied maxima share the adjoint equally (JAX's convention).

The other forms are written in those (`Rule.expands`), so they need no
derivative of their own: a tuple of axes is one reduction per axis, `keepdims`
a reshape by `rt.keep_dims`, and `np.var` the mean of the squared deviations
from the mean (`np.std` its square root, `rt.root_of_variance`: 0, not nan, at a variance 0).
"""

import gast
import numpy as np

from ..abstract import Type
from .registry import Rule, RuleError, dotted, register


def _reduced(types, nodes):
    a, axis = types["a"], nodes["axis"]
    kind = "int" if a.kind == "bool" else a.kind
    if isinstance(axis, gast.Constant) and axis.value is None:
        return Type(kind, 0)
    if types["axis"].kind != "int" or types["axis"].ndim != 0:
        raise RuleError("axis must be None or one int; reduce over one axis at a time")
    return Type(kind, None if a.ndim is None else a.ndim - 1)


def _mean_result(types, nodes):
    return _reduced(types, nodes).with_kind("float")


def _call(name, *args, **keywords):
    """A call for normalize to write out; it may share argument nodes, which stand for atoms."""
    return gast.Call(dotted(name), list(args), [gast.keyword(k, v) for k, v in keywords.items()])


def _constant(value):
    return gast.Constant(value, None)


def _flag(node, param):
    """The bool a `keepdims=` argument gives (False where it is not given)."""
    if node is None:
        return False
    if not (isinstance(node, gast.Constant) and type(node.value) is bool):
        raise RuleError(f"{param} must be True or False, known when the function is transformed")
    return node.value


def _axes(node):
    """None (every axis), or the tuple of axes that an int or a tuple of ints names."""
    if node is None or (isinstance(node, gast.Constant) and node.value is None):
        return None
    elts = node.elts if isinstance(node, gast.Tuple) else [node]
    if not all(isinstance(e, gast.Constant) and type(e.value) is int for e in elts):
        raise RuleError(
            "with keepdims or a tuple of axes, the axes must be int constants "
            "(known when the function is transformed)"
        )
    axes = tuple(e.value for e in elts)
    if not axes or len(set(axes)) < len(axes):
        raise RuleError(f"axis={axes} must name each reduced axis once, and at least one")
    return axes


def _one_at_a_time(axes):
    """`axes` in an order where reducing one does not renumber the next."""
    if all(k >= 0 for k in axes):
        return sorted(axes, reverse=True)
    if all(k < 0 for k in axes):
        return sorted(axes)
    raise RuleError(f"axis={axes} mixes negative and non-negative axes; write them of one sign")


def _expand_reduction(name):
    def expand(given):
        a, axis = given["a"], given.get("axis", _constant(None))
        keepdims = _flag(given.get("keepdims"), "keepdims")
        if not keepdims and not isinstance(axis, gast.Tuple):
            # the rule applies as it is; Numba takes neither keepdims=False nor axis=None
            if "keepdims" not in given:
                return None
            return _call(name, a) if _is_none(axis) else _call(name, a, axis)
        axes = _axes(axis)
        reduced = a if axes is not None else _call(name, a)
        for k in _one_at_a_time(axes or ()):
            reduced = _call(name, reduced, _constant(k))
        return _call("rt.keep_dims", reduced, a, axis) if keepdims else reduced

    return expand


def reduction(np_name, template, result=_reduced, tangent=None, accumulates=None):
    """A reduction: linear in `a` (sum, mean) unless a `tangent` template is given."""
    tangents, linear = ({"a": tangent}, ()) if tangent else ({}, ("a",))
    rule = Rule(
        f"np.{np_name}",
        ("a", "axis", "keepdims"),
        result,
        {"a": template},
        defaults={"axis": None, "keepdims": False},
        tangents=tangents,
        linear=linear,
        static=("axis", "keepdims"),
        accumulates=accumulates,
        expands=_expand_reduction(f"np.{np_name}"),
    )
    register(rule, getattr(np, np_name))
    return rule


reduction("sum", "rt.sum_adjoint(g, a, axis)", accumulates="sum")
reduction("mean", "rt.mean_adjoint(g, a, axis)", result=_mean_result, accumulates="mean")
# Forward: the tangent is the partial derivatives (the adjoint of a unit seed) times d, summed over
# the axis.
reduction(
    "prod",
    "rt.prod_adjoint(g, a, axis)",
    tangent="rt.sum_along(d * rt.prod_adjoint(1.0, a, axis), axis)",
)
EXTREME_TANGENT = "rt.sum_along(d * rt.extreme_adjoint(1.0, a, out, axis), axis)"
register(reduction("max", "rt.extreme_adjoint(g, a, out, axis)", tangent=EXTREME_TANGENT), np.amax)
register(reduction("min", "rt.extreme_adjoint(g, a, out, axis)", tangent=EXTREME_TANGENT), np.amin)


def _expand_variance(root):
    """np.var (`root`: np.std) as the mean of the squared deviations from the mean."""

    def expand(given):
        for param in ("dtype", "out"):
            if not _is_none(given.get(param)):
                raise RuleError(f"np.{'std' if root else 'var'}'s {param}= is not supported")
        a, axis = given["a"], given.get("axis", _constant(None))
        keepdims = _constant(_flag(given.get("keepdims"), "keepdims"))
        mean = _call("np.mean", a, axis=axis, keepdims=_constant(True))
        squares = _call("np.square", gast.BinOp(a, gast.Sub(), mean))
        variance = _call("np.mean", squares, axis=axis, keepdims=keepdims)
        ddof = given.get("ddof", _constant(0))
        if not (isinstance(ddof, gast.Constant) and ddof.value == 0):
            variance = gast.BinOp(variance, gast.Mult(), _call("rt.ddof_scale", a, axis, ddof))
        return _call("rt.root_of_variance", variance) if root else variance

    return expand


def _is_none(node):
    return node is None or (isinstance(node, gast.Constant) and node.value is None)


def never_typed(types, nodes):
    """The result of a rule that normalize always writes in other rules (`Rule.expands`)."""
    raise RuleError("normalize writes this call in other rules (Rule.expands)")


for _root, _name in ((False, "var"), (True, "std")):
    register(
        Rule(
            f"np.{_name}",
            ("a", "axis", "dtype", "out", "ddof", "keepdims"),
            never_typed,
            defaults={"axis": None, "dtype": None, "out": None, "ddof": 0, "keepdims": False},
            expands=_expand_variance(_root),
        ),
        getattr(np, _name),
    )

# The array methods that are reductions, by method name.
METHODS = {
    "sum": "np.sum",
    "mean": "np.mean",
    "prod": "np.prod",
    "max": "np.max",
    "min": "np.min",
    "var": "np.var",
    "std": "np.std",
}
