"""Functions along an axis: np.trace, np.diff, np.cumsum, np.gradient.

`np.trace` and `np.diff` are written in other rules (`Rule.expands`): a trace
is the sum over the first two axes of the array times a constant mask of its
diagonal (`rt.diagonal_mask`), an n-th difference is n first differences
(`rt.diff_once`). `np.cumsum` is linear; its adjoint is the
cumulative sum from the other end (`rt.cumsum_adjoint`). `np.gradient` is
`rt.gradient_along` (unit spacing) per axis: a tuple of them for a tuple of axes, or without
an axis for an array of rank 2 or more (its rank known to normalize: a parameter's), as
NumPy's; with one number for the spacing, each is divided by it (`rt.scalar_spacing`). NumPy
takes further positional arguments as spacings of the other axes: `more_spacing` catches them.
"""

import gast
import numpy as np

from ..abstract import FLOAT, Type
from .reductions import _call, _constant, _is_none, never_typed
from .registry import Rule, RuleError, register
from .runtime import helper


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


def _expand_gradient(given, ranks):
    if not _is_none(given.get("more_spacing")):
        raise RuleError(
            "np.gradient with a spacing per axis is not supported: give one number, the spacing "
            "along every axis"
        )
    if _int_constant(given.get("edge_order"), "edge_order", 1) != 1:
        raise RuleError("np.gradient with edge_order=2 is not supported")
    a, spacing = given["f"], given.get("spacing")

    def along(axis):
        unit = _call("rt.gradient_along", a, axis)
        if _is_none(spacing):
            return unit
        return gast.BinOp(unit, gast.Div(), _call("rt.scalar_spacing", spacing))

    axes = _gradient_axes(given.get("axis", _constant(None)), ranks["f"])
    return (
        along(axes)
        if not isinstance(axes, list)
        else gast.Tuple(list(map(along, axes)), gast.Load())
    )


def _gradient_axes(axis, rank):
    """The axis given to each rt.gradient_along: a list for a tuple of results (a tuple of axes,
    or every axis of an array of rank 2 or more), else the one axis (None: `a` is a vector)."""
    if isinstance(axis, gast.Tuple):
        for k in axis.elts:
            _int_constant(k, "axis", None)
        return list(axis.elts)
    if _is_none(axis) and rank is not None and rank >= 2:
        return [_constant(k) for k in range(rank)]
    return axis


register(
    Rule(
        "np.gradient",
        ("f", "spacing", "more_spacing", "axis", "edge_order"),
        never_typed,
        defaults={"spacing": None, "more_spacing": None, "axis": None, "edge_order": 1},
        expands=_expand_gradient,
        ranked=True,
    ),
    np.gradient,
)


def _scalar_spacing(types, nodes):
    if types["h"].ndim != 0:
        raise RuleError(
            "np.gradient with an array of coordinates is not supported: give one number, the "
            "spacing along every axis"
        )
    return FLOAT


# np.gradient's spacing: the number itself, refused where it is an array (coordinates)
helper("scalar_spacing", ("h",), _scalar_spacing, linear=("h",), adjoints={"h": "g"})
