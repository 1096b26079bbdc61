"""Shape rules: transpose, reshape, ravel, copy, astype, and array constructors.

Constructors (np.zeros, np.ones, ...) build constants: no parameter has a
derivative. Reshaping adjoints reshape `g` back to the operand's shape.
"""
import gast
import numpy as np

from ..passes.types import INT, Type
from .registry import Rule, RuleError, dotted_name, register

DTYPE_KINDS = {
    "float": "float", "np.float64": "float", "np.float32": "float", "np.double": "float",
    "int": "int", "np.int64": "int", "np.int32": "int", "np.intp": "int",
    "bool": "bool", "np.bool_": "bool",
}
DTYPES = {float: "float", int: "int", bool: "bool", np.float64: "np.float64", np.float32: "np.float32",
          np.int64: "np.int64", np.int32: "np.int32", np.bool_: "np.bool_"}


def _dtype_kind(node, default="float"):
    if isinstance(node, gast.Constant) and node.value is None:
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


# All linear in `a`: the tangent is the same call on a's tangent.
register(Rule("np.transpose", ("a", "axes"), _transpose_result, {"a": _transpose_adjoint}, defaults={"axes": None},
              linear=("a",)), np.transpose)
register(Rule("np.reshape", ("a", "newshape"), _reshape_result, {"a": "rt.reshape_like(g, a)"}, linear=("a",)), np.reshape)
register(Rule("np.ravel", ("a",), lambda t, n: Type(t["a"].kind, 1), {"a": "rt.reshape_like(g, a)"}, linear=("a",)), np.ravel)
register(Rule("np.copy", ("a",), lambda t, n: t["a"], {"a": "g"}, linear=("a",)), np.copy)
register(Rule("astype", ("a", "dtype"), lambda t, n: Type(_dtype_kind(n["dtype"]), t["a"].ndim), {"a": "g"}, linear=("a",)))


def _constructor(name, params, rank_param=None, defaults=None, kind_param="dtype", like=None):
    def result(types, nodes):
        kind = _dtype_kind(nodes[kind_param]) if kind_param in nodes else "float"
        if like:
            base = types[like]
            return Type(base.kind if kind == "unknown" else kind, base.ndim)
        return Type(kind, _rank_of_shape(types[rank_param]))

    register(Rule(f"np.{name}", params, result, defaults=defaults or {}), getattr(np, name))


for _name in ("zeros", "ones", "empty"):
    _constructor(_name, ("shape", "dtype"), "shape", {"dtype": None})
for _name in ("zeros_like", "ones_like", "empty_like"):
    _constructor(_name, ("a", "dtype"), defaults={"dtype": None}, like="a")
_constructor("full", ("shape", "fill_value", "dtype"), "shape", {"dtype": None})
_constructor("full_like", ("a", "fill_value", "dtype"), defaults={"dtype": None}, like="a")
register(Rule("np.arange", ("start", "stop", "step"), lambda t, n: Type(_arange_kind(t), 1), defaults={"stop": None, "step": None}), np.arange)
register(Rule("np.linspace", ("start", "stop", "num"), lambda t, n: Type("float", 1), defaults={"num": 50}), np.linspace)
register(Rule("np.eye", ("N",), lambda t, n: Type("float", 2)), np.eye)
register(Rule("len", ("obj",), lambda t, n: INT), len)
# Loop iterables: the fence allows them only in the head of a `for`.
for _iterable in (range, zip, enumerate):
    register(Rule(_iterable.__name__, ("args",), lambda t, n: INT), _iterable)
register(Rule("int", ("x",), lambda t, n: Type("int", t["x"].ndim)), int)
for _dtype, _name in DTYPES.items():
    if _name not in ("float", "int"):
        register(Rule(_name, ("x",), lambda t, n, k=DTYPE_KINDS[_name]: Type(k, t["x"].ndim)), _dtype)


def _arange_kind(types):
    return "float" if any(t.kind == "float" for t in types.values()) else "int"


# The array methods that are shape operations, by method name.
METHODS = {"transpose": "np.transpose", "reshape": "np.reshape", "copy": "np.copy", "ravel": "np.ravel",
           "dot": "np.dot", "astype": "astype"}
