"""Shape and order: axis permutations, added or dropped unit axes, repeats, flips, triangles.

All are linear in their array argument `a`: the tangent is the same call on
a's tangent, and the adjoint undoes the rearrangement (the inverse permutation,
the sum over repeated copies, the zeros where entries were dropped). Axes,
counts and offsets are `static`: fixed when the code is generated.
"""

import numpy as np

from ..abstract import Type
from .registry import Rule, RuleError, register


def _same_rank(types, nodes):
    return types["a"]


def _rearrangement(name, params, result, adjoint, defaults=None, static=(), view=True):
    """A function linear in `a` that rearranges its entries, with `adjoint` undoing it."""
    rule = Rule(
        f"np.{name}",
        params,
        result,
        {"a": adjoint},
        defaults=defaults or {},
        linear=("a",),
        static=static,
        view=view,
    )
    return register(rule, getattr(np, name))


def _constant(node, what):
    value = getattr(node, "value", None)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RuleError(f"{what} must be a number written in the code")
    return value


# ---- axis permutations ----

_rearrangement(
    "moveaxis",
    ("a", "source", "destination"),
    _same_rank,
    "np.moveaxis(g, destination, source)",
    static=("source", "destination"),
)
_rearrangement(
    "swapaxes",
    ("a", "axis1", "axis2"),
    _same_rank,
    "np.swapaxes(g, axis1, axis2)",
    static=("axis1", "axis2"),
)


def _rollaxis_adjoint(types, nodes):
    """np.rollaxis(a, axis, start) is np.moveaxis(a, axis, dest): undone by moving dest back."""
    rank = types["a"].ndim
    if rank is None:
        raise RuleError("the derivative of np.rollaxis needs the rank of its argument")
    axis = _constant(nodes["axis"], "np.rollaxis's axis") % rank
    start = _constant(nodes["start"], "np.rollaxis's start")
    start = start + rank if start < 0 else start
    destination = start - 1 if start > axis else start
    return f"np.moveaxis(g, {destination}, {axis})"


_rearrangement(
    "rollaxis",
    ("a", "axis", "start"),
    _same_rank,
    _rollaxis_adjoint,
    defaults={"start": 0},
    static=("axis", "start"),
)


# ---- unit axes added or dropped: the adjoint is g reshaped back ----


def _reshape_back(types, nodes):
    return "np.sum(g)" if types["a"].ndim == 0 else "rt.reshape_like(g, a)"


def _at_least(rank):
    def result(types, nodes):
        ndim = types["a"].ndim
        return Type(types["a"].kind, None if ndim is None else max(ndim, rank))

    return result


for _rank in (1, 2, 3):
    _rearrangement(f"atleast_{_rank}d", ("a",), _at_least(_rank), _reshape_back)


def _one_more_axis(types, nodes):
    _constant(nodes["axis"], "np.expand_dims's axis")
    ndim = types["a"].ndim
    return Type(types["a"].kind, None if ndim is None else ndim + 1)


_rearrangement("expand_dims", ("a", "axis"), _one_more_axis, _reshape_back, static=("axis",))


def _broadcast_result(types, nodes):
    shape = types["shape"]
    rank = 1 if shape.kind == "int" else len(shape.elts) if shape.kind == "tuple" else None
    return Type(types["a"].kind, rank)


_rearrangement(
    "broadcast_to", ("a", "shape"), _broadcast_result, "rt.unbroadcast(g, a)", static=("shape",)
)


# ---- repeats: the adjoint sums the copies ----


def _repeat_result(types, nodes):
    if types["repeats"].kind != "int" or types["repeats"].ndim != 0:
        raise RuleError("np.repeat with a count per element is not supported; give one int")
    if getattr(nodes["axis"], "value", 0) is None:
        return Type(types["a"].kind, 1)
    _constant(nodes["axis"], "np.repeat's axis")
    return types["a"]


_rearrangement(
    "repeat",
    ("a", "repeats", "axis"),
    _repeat_result,
    "rt.repeat_adjoint(g, a, repeats, axis)",
    defaults={"axis": None},
    static=("axis",),
    view=False,
)


def _tile_result(types, nodes):
    reps = types["reps"]
    if reps.kind == "int" and reps.ndim == 0:
        count = 1
    elif reps.kind == "tuple" and all(e.kind == "int" and e.ndim == 0 for e in reps.elts):
        count = len(reps.elts)
    else:
        raise RuleError("np.tile's reps must be an int or a tuple of ints")
    ndim = types["a"].ndim
    return Type(types["a"].kind, None if ndim is None else max(ndim, count))


def _tile_adjoint(types, nodes):
    return "np.sum(g)" if types["a"].ndim == 0 else "rt.tile_adjoint(g, a)"


register(
    Rule(
        "np.tile",
        ("a", "reps"),
        _tile_result,
        {"a": _tile_adjoint},
        linear=("a",),
        static=("reps",),
    ),
    np.tile,
)


def _pad_result(types, nodes):
    if getattr(nodes["mode"], "value", None) != "constant":
        raise RuleError("np.pad is supported in mode 'constant' only")
    if getattr(nodes["constant_values"], "value", None) != 0:
        raise RuleError("np.pad is supported with zeros only (constant_values=0)")
    if types["array"].ndim == 0:
        raise RuleError("np.pad of a scalar is not supported")
    return types["array"]


register(
    Rule(
        "np.pad",
        ("array", "pad_width", "mode", "constant_values"),
        _pad_result,
        {"array": "rt.unpad(g, array, pad_width)"},
        defaults={"mode": "constant", "constant_values": 0},
        linear=("array",),
        static=("pad_width", "mode", "constant_values"),
    ),
    np.pad,
)


# ---- triangles and diagonals: the adjoint keeps the same entries ----


def _matrices(types, nodes):
    if types["m"].ndim is not None and types["m"].ndim < 2:
        raise RuleError("np.triu and np.tril of a scalar or a vector are not supported")
    return types["m"]


for _name in ("triu", "tril"):
    register(
        Rule(
            f"np.{_name}",
            ("m", "k"),
            _matrices,
            {"m": f"np.{_name}(g, k)"},
            defaults={"k": 0},
            linear=("m",),
        ),
        getattr(np, _name),
    )


def _diag_result(types, nodes):
    if types["v"].ndim not in (1, 2):
        raise RuleError("np.diag takes a vector or a matrix")
    return Type(types["v"].kind, 3 - types["v"].ndim)


def _diag_adjoint(types, nodes):
    """A vector's adjoint is g's diagonal; a matrix's is g on its diagonal, zeros elsewhere."""
    return "np.diag(g, k)" if types["v"].ndim == 1 else "rt.diagonal_adjoint(g, v, k)"


register(
    Rule(
        "np.diag",
        ("v", "k"),
        _diag_result,
        {"v": _diag_adjoint},
        defaults={"k": 0},
        linear=("v",),
        view=True,  # a matrix's diagonal is a view of it in NumPy
    ),
    np.diag,
)


# ---- flips, rotations, rolls: the adjoint turns g back ----


def _flip_result(types, nodes):
    if types["m"].ndim == 0:
        raise RuleError("flipping a scalar is not supported")
    if getattr(nodes.get("axis"), "value", None) is not None:
        _constant(nodes["axis"], "np.flip's axis")
    return types["m"]


def _flipper(name, params, adjoint, defaults=None, static=()):
    register(
        Rule(
            f"np.{name}",
            params,
            _flip_result,
            {"m": adjoint},
            defaults=defaults or {},
            linear=("m",),
            static=static,
            view=True,
        ),
        getattr(np, name),
    )


_flipper("flip", ("m", "axis"), "np.flip(g, axis)", defaults={"axis": None}, static=("axis",))
_flipper("fliplr", ("m",), "np.fliplr(g)")
_flipper("flipud", ("m",), "np.flipud(g)")


def _rot90_result(types, nodes):
    if types["m"].ndim is not None and types["m"].ndim < 2:
        raise RuleError("np.rot90 of a scalar or a vector is not supported")
    _constant(nodes["k"], "np.rot90's k")
    return types["m"]


register(
    Rule(
        "np.rot90",
        ("m", "k"),
        _rot90_result,
        {"m": "np.rot90(g, -k)"},
        defaults={"k": 1},
        linear=("m",),
        static=("k",),
        view=True,
    ),
    np.rot90,
)


def _roll_result(types, nodes):
    if types["a"].ndim == 0:
        raise RuleError("np.roll of a scalar is not supported")
    if types["shift"].kind != "int" or types["shift"].ndim != 0:
        raise RuleError("np.roll by a tuple of shifts is not supported; give one int")
    if getattr(nodes["axis"], "value", None) is not None:
        _constant(nodes["axis"], "np.roll's axis")
    return types["a"]


_rearrangement(
    "roll",
    ("a", "shift", "axis"),
    _roll_result,
    "np.roll(g, -shift, axis)",
    defaults={"axis": None},
    static=("axis",),
    view=False,
)


# ---- sorted values: the tangent gathers, the adjoint scatters, through the order found ----


def _sorted_result(types, nodes):
    axis = nodes["axis"]
    rank = types["a"].ndim
    if rank == 0 or rank is None:
        raise RuleError("np.sort and np.partition need an array of known rank")
    if _constant(axis, "the axis") not in (-1, rank - 1):
        raise RuleError(
            "np.sort and np.partition along an axis other than the last are not supported"
        )
    return types["a"]


_ORDERED = {
    "adjoints": {"a": "rt.scatter_matching(g, a, out)"},
    "tangents": {"a": "rt.gather_matching(d, a, out)"},
}
register(
    Rule(
        "np.sort",
        ("a", "axis"),
        _sorted_result,
        defaults={"axis": -1},
        static=("axis",),
        **_ORDERED,
    ),
    np.sort,
)
register(
    Rule(
        "np.partition",
        ("a", "kth", "axis"),
        _sorted_result,
        defaults={"axis": -1},
        static=("axis",),
        **_ORDERED,
    ),
    np.partition,
)


# ---- constructors with no derivative ----

register(
    Rule(
        "np.identity",
        ("n", "dtype"),
        lambda t, n: Type("float", 2),
        defaults={"dtype": None},
        static=("n", "dtype"),
        allocates="values",
    ),
    np.identity,
)

# The array methods that are these functions, by method name.
METHODS = {"flatten": "rt.flatten", "repeat": "np.repeat", "swapaxes": "np.swapaxes"}
