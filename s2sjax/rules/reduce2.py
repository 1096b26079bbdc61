"""More reductions and functions along an axis: np.cumprod, scipy.special.logsumexp, np.quantile
(np.median, np.percentile); gathers (np.take, np.take_along_axis); draws of np.random.

`np.cumprod`'s derivatives run the product's recurrence forwards (tangent) or backwards
(adjoint) in runtime helpers (`rt.cumprod_tangent`, `rt.cumprod_adjoint`), never dividing by
the input: right where it has zeros. Their own derivatives are not available (as np.prod's).

`scipy.special.logsumexp` is written in other rules (`Rule.expands`): the max along the axes is
subtracted before `exp` and added back after `log`, so nothing overflows. The result is
logsumexp whatever value the max has, so the max's own derivative cancels exactly: no stop
gradient is needed.

`np.quantile` (method "linear" only) is written in other rules: the axis moved last, the values
sorted there (`np.sort`), the two neighbours of the quantile gathered at their flat positions
(`rt.quantile_neighbours`) and weighted (`rt.quantile_weights`), then summed. The derivative
flows to the two neighbours; one with respect to q is refused. `np.median` is the 0.5 quantile,
`np.percentile` the quantile of q / 100.

`np.take` is written as the subscript it is (`a[:, indices]` for axis=1, `a[..., indices, :]` for
axis=-2, `np.ravel(a)[indices]` without an axis), `np.take_along_axis` as a gather from the
flattened array at the positions its indices pick (`rt.along_axis_positions`, an integer constant):
the indexing rules give both their derivatives (a scatter-add of `g` at the positions read).

Draws of `np.random` (randn, rand, standard_normal, random, normal, uniform, choice of a range)
are constants: their derivative is zero. One of a parameter a derivative flows through (a `loc`
that depends on the differentiated argument) is refused: write `loc + scale * z` of a standard
draw `z` instead. NumPy draws on target="python", Numba's own generator when compiled: the
numbers differ, and `np.random.seed` outside the transformed function seeds only NumPy's. A
transformation that runs the function more than once for one result (jvp per column in jacfwd,
a primal and then its pullback in vjp) would mix the derivatives of different draws: those
refuse draws (`refusing_draws`), as a CUDA kernel does, which has no generator.
"""

import contextlib
import contextvars

import gast
import numpy as np

from ..abstract import Type
from .reductions import _call, _flag, _is_none, never_typed
from .registry import Rule, RuleError, register

NO_HIGHER_CUMPROD = "derivatives of np.cumprod's derivative are not supported"
NO_QUANTILE_SLOPE = "the derivative of np.quantile with respect to q is not supported"


def _cumprod_result(types, nodes):
    a, axis = types["a"], nodes["axis"]
    kind = "float" if a.kind == "float" else "int"
    if a.ndim == 0:
        raise RuleError("np.cumprod of a scalar is not supported; give it an array")
    if _is_none(axis):
        return Type(kind, 1)
    if types["axis"].kind != "int" or types["axis"].ndim != 0:
        raise RuleError("np.cumprod's axis must be None or one int")
    return Type(kind, a.ndim)


register(
    Rule(
        "np.cumprod",
        ("a", "axis"),
        _cumprod_result,
        {"a": "rt.cumprod_adjoint(g, a, axis)"},
        defaults={"axis": None},
        tangents={"a": "rt.cumprod_tangent(d, a, axis)"},
        static=("axis",),
    ),
    np.cumprod,
)


def _expand_logsumexp(given):
    if _flag(given.get("return_sign"), "return_sign"):
        raise RuleError("scipy.special.logsumexp with return_sign=True is not supported")
    a, axis = given["a"], given.get("axis", gast.Constant(None, None))
    keepdims = _flag(given.get("keepdims"), "keepdims")
    peak = _call("np.max", a, axis=axis, keepdims=gast.Constant(True, None))
    terms = _call("np.exp", gast.BinOp(a, gast.Sub(), peak))
    if not _is_none(given.get("b")):
        terms = gast.BinOp(given["b"], gast.Mult(), terms)
    total = _call("np.sum", terms, axis=axis, keepdims=gast.Constant(keepdims, None))
    shift = peak if keepdims else _call("np.max", a, axis=axis, keepdims=gast.Constant(False, None))
    return gast.BinOp(_call("np.log", total), gast.Add(), shift)


register(
    Rule(
        "scipy.special.logsumexp",
        ("a", "axis", "b", "keepdims", "return_sign"),
        never_typed,
        defaults={"axis": None, "b": None, "keepdims": False, "return_sign": False},
        expands=_expand_logsumexp,
    ),
    paths=["scipy.special.logsumexp"],
)

# ---- np.quantile, np.median, np.percentile ----


def _expand_quantile(name, scale):
    """np.<name>, whose q is the quantile times `scale` (np.percentile's 100); median's is 0.5."""

    def expand(given):
        for param, default in (("out", None), ("method", "linear"), ("interpolation", None)):
            node = given.get(param)
            if node is not None and not (isinstance(node, gast.Constant) and node.value == default):
                raise RuleError(
                    f"np.{name}'s {param}= is not supported: s2sjax computes method='linear'"
                )
        if not _is_none(given.get("weights")):
            raise RuleError(f"np.{name} with weights= is not supported")
        a, axis = given["a"], given.get("axis", gast.Constant(None, None))
        if isinstance(axis, gast.Tuple):
            raise RuleError(f"np.{name} along a tuple of axes is not supported; give one axis")
        q = given.get("q", gast.Constant(0.5, None))
        if scale != 1:
            q = gast.BinOp(q, gast.Div(), gast.Constant(float(scale), None))
        last = gast.Constant(-1, None)
        along = _call("np.ravel", a) if _is_none(axis) else _call("np.moveaxis", a, axis, last)
        picked = gast.Subscript(
            _call("np.ravel", _call("np.sort", along)),
            _call("rt.quantile_neighbours", along, q, last),
            gast.Load(),
        )
        weighted = gast.BinOp(picked, gast.Mult(), _call("rt.quantile_weights", along, q, last))
        reduced = _call("np.sum", weighted, last)
        if _flag(given.get("keepdims"), "keepdims"):
            return _call("rt.keep_dims", reduced, a, axis)
        return reduced

    return expand


_QUANTILE_PARAMS = ("a", "q", "axis", "out", "overwrite_input", "method", "keepdims")
for _name, _scale in (("quantile", 1), ("percentile", 100)):
    register(
        Rule(
            f"np.{_name}",
            _QUANTILE_PARAMS + ("weights", "interpolation"),
            never_typed,
            expands=_expand_quantile(_name, _scale),
            static=("method", "interpolation"),  # strings: the fence lets them through
        ),
        getattr(np, _name),
    )
register(
    Rule(
        "np.median",
        ("a", "axis", "out", "overwrite_input", "keepdims"),
        never_typed,
        expands=_expand_quantile("median", 1),
    ),
    np.median,
)

# ---- gathers: np.take, np.take_along_axis ----


def _check_default_mode(given, name):
    for param, default in (("out", None), ("mode", "raise")):
        node = given.get(param)
        if node is not None and not (isinstance(node, gast.Constant) and node.value == default):
            raise RuleError(f"{name}'s {param}= is not supported")


def _axis_constant(node, name):
    """None, or the int a constant `axis=` argument gives."""
    if _is_none(node):
        return None
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return -_axis_constant(node.operand, name)
    if not (isinstance(node, gast.Constant) and type(node.value) is int):
        raise RuleError(f"{name}'s axis must be None or an int constant")
    return node.value


def _expand_take(given):
    _check_default_mode(given, "np.take")
    a, indices = given["a"], given["indices"]
    axis = _axis_constant(given.get("axis"), "np.take")
    if axis is None:
        return gast.Subscript(_call("np.ravel", a), indices, gast.Load())
    every = gast.Slice(None, None, None)
    if axis >= 0:
        index = [every] * axis + [indices]
    else:
        index = [gast.Constant(Ellipsis, None), indices] + [every] * (-axis - 1)
    return gast.Subscript(a, gast.Tuple(index, gast.Load()), gast.Load())


register(
    Rule(
        "np.take",
        ("a", "indices", "axis", "out", "mode"),
        never_typed,
        defaults={"axis": None, "out": None, "mode": "raise"},
        expands=_expand_take,
    ),
    np.take,
)


def _expand_take_along_axis(given):
    arr, indices = given["arr"], given["indices"]
    axis = gast.Constant(_axis_constant(given.get("axis"), "np.take_along_axis"), None)
    positions = _call("rt.along_axis_positions", arr, indices, axis)
    return gast.Subscript(_call("np.ravel", arr), positions, gast.Load())


register(
    Rule(
        "np.take_along_axis",
        ("arr", "indices", "axis"),
        never_typed,
        defaults={"axis": -1},
        expands=_expand_take_along_axis,
    ),
    np.take_along_axis,
)

# ---- np.random draws ----

_DRAWS_REFUSED = contextvars.ContextVar("draws_refused", default=None)


@contextlib.contextmanager
def refusing_draws(why):
    """Within, typing a draw of np.random raises a RuleError saying `why` it is refused."""
    token = _DRAWS_REFUSED.set(why)
    try:
        yield
    finally:
        _DRAWS_REFUSED.reset(token)


def _drawn_rank(types, nodes):
    """The rank of a draw of `size` (None, an int, or a tuple of ints)."""
    why = _DRAWS_REFUSED.get()
    if why is not None:
        raise RuleError(f"a draw of np.random is not supported {why}")
    if _is_none(nodes.get("size")):
        return 0
    size = types["size"]
    if size.kind == "tuple" and all(e.kind == "int" and e.ndim == 0 for e in size.elts):
        return len(size.elts)
    if size.kind == "int" and size.ndim == 0:
        return 1
    raise RuleError("a draw's size must be None, an int or a tuple of ints")


def _float_draw(types, nodes):
    for param in ("loc", "scale", "low", "high"):
        if param in types and types[param].ndim != 0:
            raise RuleError(f"a draw's {param} must be a number, not an array (Numba's is)")
    return Type("float", _drawn_rank(types, nodes))


def _choice_result(types, nodes):
    if types["a"].kind != "int" or types["a"].ndim != 0:
        raise RuleError("np.random.choice is supported of a range (an int a), without p")
    if not (isinstance(nodes["replace"], gast.Constant) and nodes["replace"].value is True):
        raise RuleError("np.random.choice without replacement is not supported")
    return Type("int", _drawn_rank(types, nodes))


_PARAMETER = "a draw of np.random is a constant: write it as loc + scale * z of a standard draw z"


def draw(name, params, result=_float_draw, defaults=None):
    """A draw of np.random: a constant. Its parameters take no derivative (refused if active)."""
    rule = Rule(
        f"np.random.{name}",
        params,
        result,
        defaults={"size": None, **(defaults or {})},
        unsupported={p: _PARAMETER for p in params if p in ("loc", "scale", "low", "high")},
        static=("size",),
    )
    register(rule, getattr(np.random, name))


draw("standard_normal", ("size",))
draw("random", ("size",))
draw("normal", ("loc", "scale", "size"), defaults={"loc": 0.0, "scale": 1.0})
draw("uniform", ("low", "high", "size"), defaults={"low": 0.0, "high": 1.0})
draw("choice", ("a", "size", "replace"), _choice_result, defaults={"replace": True})


def _dimensions_as_size(standard):
    """np.random.randn(d0, d1, ...) as `standard`((d0, d1, ...)); randn() as `standard`()."""

    def expand(given):
        dims = [given[p] for p in _DIMENSIONS if p in given]
        if not dims:
            return _call(standard)
        return _call(standard, gast.Tuple(dims, gast.Load()))

    return expand


_DIMENSIONS = ("d0", "d1", "d2", "d3", "d4", "d5")
for _name, _standard in (("randn", "np.random.standard_normal"), ("rand", "np.random.random")):
    register(
        Rule(
            f"np.random.{_name}",
            _DIMENSIONS,
            never_typed,
            defaults=dict.fromkeys(_DIMENSIONS, None),
            expands=_dimensions_as_size(_standard),
        ),
        getattr(np.random, _name),
    )

# The array methods of this family, by method name.
METHODS = {"cumprod": "np.cumprod"}
