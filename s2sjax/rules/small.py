"""Small gaps: tuple(), np.squeeze with an axis, np.select, np.nan_to_num, and the tests for
complex numbers.

- `tuple(...)` of a list or tuple display, or of a name normalize knows as one,
  is the tuple display of its elements (`Rule.expands`).
- `np.squeeze(a, axis)` removes the named dimensions of length 1 with
  `rt.squeeze` (Numba has no np.squeeze), its axes normalized when the code is
  generated; without `axis=` the result's rank would depend on the sizes at
  run time, so it is refused.
- `np.select(condlist, choicelist, default)` with lists written in the code
  is nested `np.where`s, the first true condition outermost: differentiable
  in the choices and the default as `np.where` is.
- `np.nan_to_num` has slope 1 where its argument is finite, 0 elsewhere.
- `np.iscomplex`, `np.isreal`, `np.iscomplexobj`, `np.isrealobj` have zero
  derivatives; s2sjax refuses complex input, so they are constant here.
"""

import gast
import numpy as np

from ..abstract import BOOL, Type
from .elementwise import _bool_result, _same_kind_result
from .reductions import _call, _constant, never_typed
from .registry import Rule, RuleError, register


def _expand_tuple(given):
    elements = given.get("iterable", gast.Tuple([], gast.Load()))
    if not isinstance(elements, gast.Tuple):
        raise RuleError(
            "tuple() takes a list or tuple written in the code or assigned from one "
            "(the rows of an array are not supported)"
        )
    return elements


register(Rule("tuple", ("iterable",), never_typed, expands=_expand_tuple), tuple)


def _squeezed_axes(types, nodes):
    """The axes np.squeeze removes, as numbers >= 0 in increasing order."""
    rank, axis = types["a"].ndim, nodes["axis"]
    if isinstance(axis, gast.Constant) and axis.value is None:
        raise RuleError(
            "np.squeeze without axis= gives a rank that depends on the sizes at run time: "
            "pass axis= (an int or a tuple of ints) naming the dimensions of length 1"
        )
    items = axis.elts if isinstance(axis, gast.Tuple) else [axis]
    if rank is None or not all(
        isinstance(i, gast.Constant) and type(i.value) is int for i in items
    ):
        raise RuleError("np.squeeze takes an array of a known rank and axes written in the code")
    for item in items:
        if not -rank <= item.value < rank:
            raise RuleError(f"axis {item.value} is out of bounds for an array of rank {rank}")
    return tuple(sorted({i.value % rank for i in items}))


def _squeeze_result(types, nodes):
    return Type(types["a"].kind, types["a"].ndim - len(_squeezed_axes(types, nodes)))


def _squeeze_lowered(types, nodes):
    axes = _squeezed_axes(types, nodes)
    return f"rt.squeeze(a, {axes!r})"


register(
    Rule(
        "np.squeeze",
        ("a", "axis"),
        _squeeze_result,
        defaults={"axis": None},
        linear=("a",),
        static=("axis",),
        view=True,
        lower=_squeeze_lowered,
    ),
    np.squeeze,
)
METHODS = {"squeeze": "np.squeeze"}


def _expand_select(given):
    conditions, choices = given["condlist"], given["choicelist"]
    if not (isinstance(conditions, gast.Tuple) and isinstance(choices, gast.Tuple)):
        raise RuleError("np.select takes lists of conditions and of choices written in the code")
    if len(conditions.elts) != len(choices.elts) or not conditions.elts:
        raise RuleError("np.select needs as many choices as conditions, at least one")
    selected = given.get("default", _constant(0))
    for condition, choice in reversed(list(zip(conditions.elts, choices.elts))):
        selected = _call("np.where", condition, choice, selected)
    return selected


register(
    Rule(
        "np.select",
        ("condlist", "choicelist", "default"),
        never_typed,
        defaults={"default": 0},
        expands=_expand_select,
    ),
    np.select,
)

register(
    Rule(
        "np.nan_to_num",
        ("x", "copy", "nan", "posinf", "neginf"),
        lambda types, nodes: _same_kind_result({"x": types["x"]}, nodes),
        {"x": "g * isfinite(x)"},
        defaults={"copy": True, "nan": 0.0, "posinf": None, "neginf": None},
        tangents={"x": "d * isfinite(x)"},
        static=("copy", "nan", "posinf", "neginf"),
        cuda="rt.nan_to_num_of_scalar",
    ),
    np.nan_to_num,
)

for _name, _result in (
    ("iscomplex", _bool_result),
    ("isreal", _bool_result),
    ("iscomplexobj", lambda types, nodes: BOOL),
    ("isrealobj", lambda types, nodes: BOOL),
):
    register(Rule(f"np.{_name}", ("x",), _result), getattr(np, _name))
