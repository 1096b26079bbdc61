"""Rules for the runtime helpers that generated code calls (`rt.name`).

Derivatives of generated code (`grad(grad(f))`, `hessian`, `jvp` of `grad`)
transform code that calls these helpers, so each has a rule like any NumPy
function. Derivatives of generated code are taken in forward mode, so most
helpers declare only forward forms: they are linear in their first argument
(an adjoint or a tape), or constant. The elementwise ones declare adjoints,
which serve both modes.
"""

from ..backend import runtime as rt
from ..abstract import INT, UNSET, Type, broadcast
from .elementwise import _float_result
from .linalg import BILINEAR, _product_result
from .reductions import _reduced
from .registry import Rule, register


def _float_like(param):
    return lambda types, nodes: Type("float", types[param].ndim)


def _tape_result(types, nodes):
    value = types["value"]
    kind = value.kind if value.kind in ("float", "bool") else "int"
    return Type(kind, None if value.ndim is None else value.ndim + 1)


def helper(name, params, result, **forms):
    return register(Rule(f"rt.{name}", params, result, **forms), getattr(rt, name))


NO_HIGHER = "derivatives of np.prod's derivative are not supported"

helper("zeros_like", ("x",), _float_like("x"), allocates="zeros", like="x")
helper("trip_count", ("start", "stop", "step"), lambda t, n: INT)
helper("tape", ("value", "trips"), _tape_result, allocates="unfilled", like="value")
helper(
    "grow", ("tape", "used"), lambda t, n: t["tape"], linear=("tape",), view=True
)  # the tape itself until full
helper("max_weight", ("a", "b"), _float_result, broadcasts=True)  # elementwise, piecewise constant
helper("unbroadcast", ("v", "x"), _float_like("x"), linear=("v",))
helper("sum_adjoint", ("v", "a", "axis"), _float_like("a"), linear=("v",))
helper("mean_adjoint", ("v", "a", "axis"), _float_like("a"), linear=("v",))
helper(
    "prod_adjoint",
    ("v", "a", "axis"),
    _float_like("a"),
    linear=("v",),
    unsupported={"a": NO_HIGHER},
)
helper("extreme_adjoint", ("v", "a", "out", "axis"), _float_like("a"), linear=("v",))
helper("reshape_like", ("v", "a"), _float_like("a"), linear=("v",))
helper("matmul", ("a", "b"), _product_result(dot=True), linear=BILINEAR, product=True)
helper("unset", (), lambda t, n: UNSET)
helper("scatter_add", ("index", "values", "like"), _float_like("like"), linear=("values",))
helper("empty_float", ("length", "arrays"), lambda t, n: Type("float", 1), allocates="unfilled")
helper(
    "stacked_shape",
    ("lengths", "leaf"),
    lambda t, n: Type("tuple", 0, (INT,) * (len(t["lengths"].elts) + t["leaf"].ndim)),
)
helper(
    "sum_along",
    ("x", "axis"),
    lambda t, n: _reduced({"a": t["x"], "axis": t["axis"]}, {"axis": n["axis"]}),
    linear=("x",),
    adjoints={"x": "rt.sum_adjoint(g, x, axis)"},
)
helper("prange", ("args",), lambda t, n: INT, loop_only=True)  # a loop iterable, like range
helper("broadcast_length", ("lengths",), lambda t, n: INT)
helper("common_size", ("sizes",), lambda t, n: INT)
helper(
    "move_batch_axis",
    ("a", "axis"),
    lambda t, n: t["a"],
    linear=("a",),
    adjoints={"a": "rt.move_axis_to_front(g, axis)"},
)
helper(
    "move_axis_to_front",
    ("a", "axis"),
    lambda t, n: t["a"],
    linear=("a",),
    adjoints={"a": "rt.move_batch_axis(g, axis)"},
)
helper(
    "same_shape",
    ("value", "first"),
    lambda t, n: t["value"],
    linear=("value",),
    adjoints={"value": "g"},
)
helper(
    "broadcast_to",
    ("v", "like"),
    _float_like("like"),
    linear=("v",),
    adjoints={"v": "rt.unbroadcast(g, v)"},
)

# Elementwise: one adjoint template per parameter serves both modes.
helper(
    "log_or_zero",
    ("x",),
    _float_result,
    adjoints={"x": "g * rt.reciprocal_or_zero(x)"},
    broadcasts=True,
)
helper(
    "reciprocal_or_zero", ("x",), _float_result, adjoints={"x": "-g * out * out"}, broadcasts=True
)
helper(
    "pow_base_adjoint",
    ("v", "x", "p"),
    lambda t, n: broadcast(t["v"], t["x"], t["p"], kind="float"),
    adjoints={
        "v": "rt.pow_base_adjoint(g, x, p)",
        "x": "rt.pow_base_second(g * v, x, p)",
        "p": "rt.pow_base_dp(g * v, x, p)",
    },
    broadcasts=True,
)
THIRD = "third derivatives of a variable power x ** p are not supported"
for _name in ("pow_base_second", "pow_base_dp"):
    helper(
        _name,
        ("v", "x", "p"),
        lambda t, n: broadcast(t["v"], t["x"], t["p"], kind="float"),
        linear=("v",),
        unsupported={"x": THIRD, "p": THIRD},
    )

# Jacobian layout (s2sjax/kinds/jacobian.py): linear in the stacked columns or rows.
helper("size", ("x",), lambda t, n: INT)
helper("unflatten_like", ("c", "out"), _float_like("out"), linear=("c",))
helper(
    "columns_to_jacobian",
    ("columns", "x"),
    lambda t, n: Type("float", t["columns"].ndim - 1 + t["x"].ndim),
    linear=("columns",),
)
helper(
    "rows_to_jacobian",
    ("rows", "out"),
    lambda t, n: Type("float", t["out"].ndim + t["rows"].ndim - 1),
    linear=("rows",),
)

# ---- products (s2sjax/rules/products.py): each adjoint of np.kron is bilinear in `g` and the
# other operand; the operand it is shaped like carries no derivative.
helper("kron_adjoint_a", ("g", "a", "b"), _float_like("a"), linear=("g", "b"))
helper("kron_adjoint_b", ("g", "a", "b"), _float_like("b"), linear=("g", "a"))
