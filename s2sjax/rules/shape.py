"""Shape rules: transpose, reshape, ravel, copy, astype, and array constructors.

Reshaping adjoints reshape `g` back to the operand's shape. A constructor is
differentiable in every argument that carries a value (`np.full(n, x)` in
`x`, `np.linspace(a, b, n)` in `a` and `b`), and in none that gives a shape
or a dtype.
"""

import gast
import numpy as np

from ..abstract import INT, Type, promote
from .registry import Rule, RuleError, dotted_name, register

DTYPE_KINDS = {
    "float": "float",
    "np.float64": "float",
    "np.float32": "float",
    "np.double": "float",
    "int": "int",
    "np.int64": "int",
    "np.int32": "int",
    "np.intp": "int",
    "bool": "bool",
    "np.bool_": "bool",
}
DTYPES = {
    float: "float",
    int: "int",
    bool: "bool",
    np.float64: "np.float64",
    np.float32: "np.float32",
    np.int64: "np.int64",
    np.int32: "np.int32",
    np.bool_: "np.bool_",
}


def _dtype_kind(node, default="float"):
    if _is_none(node):
        return default
    return DTYPE_KINDS.get(dotted_name(node), "unknown")


def _rank_of_shape(shape_type):
    if shape_type.kind == "int":
        return 1
    if shape_type.kind == "tuple":
        return len(shape_type.elts)
    return None


def _transpose_result(types, nodes):
    return types["a"]


def _transpose_adjoint(types, nodes):
    axes = nodes["axes"]
    if isinstance(axes, gast.Constant) and axes.value is None:
        return "np.transpose(g)"
    if isinstance(axes, gast.Tuple) and all(isinstance(e, gast.Constant) for e in axes.elts):
        order = [e.value % len(axes.elts) for e in axes.elts]
        inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
        return f"np.transpose(g, {inverse!r})"
    raise RuleError("the derivative of np.transpose needs its axes written as a tuple of numbers")


def _reshape_result(types, nodes):
    return Type(types["a"].kind, _rank_of_shape(types["newshape"]))


# All linear in `a`: the tangent is the same call on a's tangent. All but np.copy may return a view
# of `a`.
register(
    Rule(
        "np.transpose",
        ("a", "axes"),
        _transpose_result,
        {"a": _transpose_adjoint},
        defaults={"axes": None},
        linear=("a",),
        static=("axes",),
        view=True,
    ),
    np.transpose,
)
register(
    Rule(
        "np.reshape",
        ("a", "newshape"),
        _reshape_result,
        {"a": "rt.reshape_like(g, a)"},
        linear=("a",),
        static=("newshape",),
        view=True,
    ),
    np.reshape,
)
register(
    Rule(
        "np.ravel",
        ("a",),
        lambda t, n: Type(t["a"].kind, 1),
        {"a": "rt.reshape_like(g, a)"},
        linear=("a",),
        view=True,
    ),
    np.ravel,
)
register(
    Rule(
        "np.copy",
        ("a",),
        lambda t, n: t["a"],
        {"a": "g"},
        linear=("a",),
        allocates="values",
        like="a",
    ),
    np.copy,
)
register(
    Rule(
        "astype",
        ("a", "dtype"),
        lambda t, n: Type(_dtype_kind(n["dtype"]), t["a"].ndim),
        {"a": "g"},
        linear=("a",),
        static=("dtype",),
    )
)


def _array_result(types, nodes):
    """np.array(object): a copy of an array, or the array of a (nested) tuple's elements."""
    leaf, lengths = _stacked(types["object"])
    kind = _dtype_kind(nodes["dtype"], default=leaf.kind)
    return Type(kind, None if leaf.ndim is None else leaf.ndim + len(lengths))


def _stacked(typ):
    """(the type of the elements, the lengths of the nesting) of a tuple type.

    As np.array reads it.
    """
    if typ.kind != "tuple":
        return typ, ()
    if not typ.elts:
        return Type("float", 0), (0,)
    inner = [_stacked(e) for e in typ.elts]
    if len({lengths for _, lengths in inner}) != 1 or len({leaf.ndim for leaf, _ in inner}) != 1:
        raise RuleError("np.array of elements of different shapes (a ragged list) is not supported")
    kind = promote(*(leaf.kind for leaf, _ in inner))
    if kind == "unknown":
        raise RuleError("np.array of elements that are not numbers or arrays is not supported")
    return Type(kind, inner[0][0].ndim), (len(typ.elts),) + inner[0][1]


# A list or tuple display is lowered to stores into a new array (passes/displays.py): these
# templates serve an array argument, which np.array copies and np.asarray returns as it is.
for _function, _memory in ((np.array, {"allocates": "values"}), (np.asarray, {"view": True})):
    register(
        Rule(
            f"np.{_function.__name__}",
            ("object", "dtype"),
            _array_result,
            {"object": "g"},
            defaults={"dtype": None},
            linear=("object",),
            static=("dtype",),
            array_of=True,
            **_memory,
        ),
        _function,
    )


def _constructor(name, params, result, allocates, **forms):
    """A new array of `allocates` ("zeros", "values" or "unfilled").

    Shaped like `a` where it takes one.
    """
    like = "a" if "a" in params else None
    register(
        Rule(
            f"np.{name}",
            params,
            result,
            defaults={"dtype": None},
            static=("shape", "dtype"),
            allocates=allocates,
            like=like,
            **forms,
        ),
        getattr(np, name),
    )


def _new_array(types, nodes):
    return Type(_dtype_kind(nodes["dtype"]), _rank_of_shape(types["shape"]))


def _like(types, nodes):
    return Type(_dtype_kind(nodes["dtype"], default=types["a"].kind), types["a"].ndim)


def _full_result(types, nodes):
    _check_fill(types)
    return Type(
        _dtype_kind(nodes["dtype"], default=types["fill_value"].kind),
        _rank_of_shape(types["shape"]),
    )


def _full_like_result(types, nodes):
    _check_fill(types)
    return _like(types, nodes)


def _check_fill(types):
    if types["fill_value"].ndim:
        raise RuleError("a fill_value that is an array is not supported; fill with a number")


# The value filled in is differentiable: the adjoint sums over the copies, the tangent fills in d.
FILL = {"adjoints": {"fill_value": "np.sum(g)"}, "linear": ("fill_value",)}
HOLDING = {"zeros": "zeros", "ones": "values", "empty": "unfilled"}
for _name, _holding in HOLDING.items():
    _constructor(_name, ("shape", "dtype"), _new_array, _holding)
for _name, _holding in HOLDING.items():
    _constructor(f"{_name}_like", ("a", "dtype"), _like, _holding)
_constructor("full", ("shape", "fill_value", "dtype"), _full_result, "values", **FILL)
_constructor("full_like", ("a", "fill_value", "dtype"), _full_like_result, "values", **FILL)


def _linspace_result(types, nodes):
    if types["start"].ndim or types["stop"].ndim:
        raise RuleError("np.linspace between arrays is not supported; give it two numbers")
    return Type("float", 1)


# out[k] = start + (stop - start) * k / (num - 1): each end weighs a ramp.
RAMP_UP, RAMP_DOWN = "np.linspace(0.0, 1.0, num)", "np.linspace(1.0, 0.0, num)"
register(
    Rule(
        "np.linspace",
        ("start", "stop", "num"),
        _linspace_result,
        {"start": f"np.sum(g * {RAMP_DOWN})", "stop": f"np.sum(g * {RAMP_UP})"},
        tangents={"start": f"d * {RAMP_DOWN}", "stop": f"d * {RAMP_UP}"},
        defaults={"num": 50},
        static=("num",),
    ),
    np.linspace,
)


def _arange_form(template):
    """out[k] = start + k * step; `np.arange(stop)` binds `stop` to `start`: no derivative then."""
    return lambda types, nodes: None if _is_none(nodes["stop"]) else template


register(
    Rule(
        "np.arange",
        ("start", "stop", "step"),
        lambda t, n: Type(_arange_kind(t), 1),
        {
            "start": _arange_form("np.sum(g)"),
            "step": _arange_form("np.sum(g * np.arange(rt.size(out)))"),
        },
        tangents={
            "start": _arange_form("np.full_like(out, d)"),
            "step": _arange_form("d * np.arange(rt.size(out))"),
        },
        defaults={"stop": None, "step": None},
    ),
    np.arange,
)
register(
    Rule(
        "np.eye",
        ("N", "M", "k", "dtype"),
        lambda t, n: Type(_dtype_kind(n["dtype"]), 2),
        defaults={"M": None, "k": 0, "dtype": None},
        static=("N", "M", "k", "dtype"),
    ),
    np.eye,
)
register(Rule("len", ("obj",), lambda t, n: INT), len)
# Loop iterables: the fence allows them only in the head of a `for`.
for _iterable in (range, zip, enumerate):
    register(Rule(_iterable.__name__, ("args",), lambda t, n: INT, loop_only=True), _iterable)
register(Rule("int", ("x",), lambda t, n: Type("int", t["x"].ndim)), int)
for _dtype, _name in DTYPES.items():
    if _name not in ("float", "int"):
        kind = DTYPE_KINDS[_name]
        # np.float64(x) is x as a float: its derivative is 1; to an int or a bool it is 0
        forms = {"adjoints": {"x": "g"}, "broadcasts": True} if kind == "float" else {}
        register(Rule(_name, ("x",), lambda t, n, k=kind: Type(k, t["x"].ndim), **forms), _dtype)


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def _arange_kind(types):
    return "float" if any(t.kind == "float" for t in types.values()) else "int"


# The array methods that are shape operations, by method name.
METHODS = {
    "transpose": "np.transpose",
    "reshape": "np.reshape",
    "copy": "np.copy",
    "ravel": "np.ravel",
    "dot": "np.dot",
    "astype": "astype",
}
