"""Reductions: sum, mean, prod, max, min, with an optional integer `axis`.

The adjoint spreads `g` back over the reduced axis; the runtime helpers take
the axis (None or an int) so one template serves every rank. For max and min,
tied maxima share the adjoint equally (JAX's convention).
"""

import gast
import numpy as np

from ..abstract import Type
from .registry import Rule, RuleError, register


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


def reduction(np_name, template, result=_reduced, tangent=None, accumulates=None):
    """A reduction: linear in `a` (sum, mean) unless a `tangent` template is given."""
    tangents, linear = ({"a": tangent}, ()) if tangent else ({}, ("a",))
    rule = Rule(
        f"np.{np_name}",
        ("a", "axis"),
        result,
        {"a": template},
        defaults={"axis": None},
        tangents=tangents,
        linear=linear,
        static=("axis",),
        accumulates=accumulates,
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

# The array methods that are reductions, by method name.
METHODS = {"sum": "np.sum", "mean": "np.mean", "prod": "np.prod", "max": "np.max", "min": "np.min"}
