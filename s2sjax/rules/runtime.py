"""Rules for the runtime helpers that generated code calls (`rt.name`).

Derivatives of generated code (`grad(grad(f))`, `hessian`, `jvp` of `grad`)
transform code that calls these helpers, so each has a rule like any NumPy
function. Derivatives of generated code are taken in forward mode, so most
helpers declare only forward forms: they are linear in their first argument
(an adjoint or a tape), or constant. The elementwise ones declare adjoints,
which serve both modes.
"""

import dataclasses

from ..backend import runtime as rt
from ..abstract import FLOAT, INT, UNSET, Type, broadcast
from .decompositions import MATRIX, _of_matrix
from .elementwise import _float_result
from .linalg import BILINEAR, _product_result
from .reductions import _reduced
from .registry import Rule, RuleError, by_name, register


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
helper("matmul", ("a", "b"), _product_result, linear=BILINEAR, product=True)
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

# ---- np.linalg (s2sjax/rules/decompositions.py): parts of tuple results and derivative pieces


def matrix_helper(name, params, result, **forms):
    """A helper on matrices, which a CUDA device function cannot compute."""
    return helper(name, params, result, product=True, **forms)


# np.linalg.solve in derivatives: its record, spelled rt.solve (casts a float32 matrix's seed)
register(dataclasses.replace(by_name("np.linalg.solve"), name="rt.solve"), rt.solve)
matrix_helper("det_sign", ("a",), _of_matrix("np.linalg.slogdet", FLOAT))  # piecewise constant
matrix_helper(
    "log_abs_det",
    ("a",),
    _of_matrix("np.linalg.slogdet", FLOAT),
    adjoints={"a": "g * np.transpose(np.linalg.inv(a))"},
    tangents={"a": "np.sum(np.transpose(np.linalg.inv(a)) * d)"},
)
# The triangle eigh and cholesky read, and its adjoint: linear, each the other's transpose.
for _name, _adjoint in (("from_triangle", "to_triangle"), ("to_triangle", "from_triangle")):
    matrix_helper(
        _name,
        ("a", "UPLO"),
        _float_like("a"),
        linear=("a",),
        adjoints={"a": f"rt.{_adjoint}(g, UPLO)"},
        static=("UPLO",),
    )
matrix_helper(
    "tril_halved", ("x",), _float_like("x"), linear=("x",), adjoints={"x": "rt.tril_halved(g)"}
)

VECTOR = Type("float", 1)
NOT_TWICE = "second derivatives of np.linalg.{} are not supported"
for _part, _result in (("values", VECTOR), ("vectors", MATRIX)):
    matrix_helper(
        f"eigh_{_part}",
        ("a", "UPLO"),
        _of_matrix("np.linalg.eigh", _result),
        adjoints={"a": f"rt.eigh_{_part}_adjoint(g, a, UPLO)"},
        tangents={"a": f"rt.eigh_{_part}_tangent(d, a, UPLO)"},
        static=("UPLO",),
    )
    for _form, _seed, _form_result in (("adjoint", "g", MATRIX), ("tangent", "d", _result)):
        matrix_helper(
            f"eigh_{_part}_{_form}",
            (_seed, "a", "UPLO"),
            _of_matrix("np.linalg.eigh", _form_result),
            linear=(_seed,),
            unsupported={"a": NOT_TWICE.format("eigh")},
            static=("UPLO",),
        )
for _part, _result in (("u", MATRIX), ("s", VECTOR), ("vh", MATRIX)):
    _params = ("a",) if _part == "s" else ("a", "full_matrices")
    matrix_helper(
        f"svd_{_part}",
        _params,
        _of_matrix("np.linalg.svd", _result),
        adjoints={"a": f"rt.svd_{_part}_adjoint(g, a)"},
        tangents={"a": f"rt.svd_{_part}_tangent(d, a)"},
        static=_params[1:],
        defaults={"full_matrices": False},
    )
    for _form, _seed, _form_result in (("adjoint", "g", MATRIX), ("tangent", "d", _result)):
        matrix_helper(
            f"svd_{_part}_{_form}",
            (_seed, "a"),
            _of_matrix("np.linalg.svd", _form_result),
            linear=(_seed,),
            unsupported={"a": NOT_TWICE.format("svd")},
        )
for _form, _seed in (("adjoint", "g"), ("tangent", "d")):
    matrix_helper(
        f"pinv_{_form}",
        (_seed, "a", "p"),
        _of_matrix("np.linalg.pinv", MATRIX),
        linear=(_seed,),
        unsupported={"a": NOT_TWICE.format("pinv"), "p": NOT_TWICE.format("pinv")},
    )


def _vector(types, nodes):
    if types["x"].ndim != 1:
        raise RuleError(
            f"np.linalg.norm with a number for ord and no axis takes a vector, not a rank-"
            f"{types['x'].ndim} array: the matrix norms ord=1, 2, inf are not supported"
        )
    return types["x"]


helper("norm_vector", ("x",), _vector, linear=("x",), adjoints={"x": "g"})
