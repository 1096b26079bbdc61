"""Rules for the runtime helpers that generated code calls (`rt.name`).

Derivatives of generated code (`grad(grad(f))`, `hessian`, `jvp` of `grad`)
transform code that calls these helpers, so each has a rule like any NumPy
function. Derivatives of generated code are taken in forward mode, so most
helpers declare only forward forms: they are linear in their first argument
(an adjoint or a tape), or constant. The elementwise ones declare adjoints,
which serve both modes.
"""

import dataclasses

import gast

from ..backend import runtime as rt
from ..abstract import FLOAT, INT, UNSET, Type, broadcast, promote
from .decompositions import MATRIX, _of_matrix, _of_stack
from .elementwise import _float_result
from .linalg import BILINEAR, _product_result
from .reductions import _is_none, _reduced
from .reduce2 import NO_HIGHER_CUMPROD, NO_QUANTILE_SLOPE
from .registry import Rule, RuleError, by_name, register


def _float_like(param):
    return lambda types, nodes: Type("float", types[param].ndim)


def _tape_result(types, nodes):
    value = types["value"]
    kind = value.kind if value.kind in ("float", "bool") else "int"
    return Type(kind, None if value.ndim is None else value.ndim + 1)


def _allocated_float(types, nodes):
    """A new float array of a length (rank 1) or of a shape (a tuple of lengths)."""
    shape = types["length"]
    return Type("float", len(shape.elts) if shape.kind == "tuple" else 1)


def helper(name, params, result, **forms):
    return register(Rule(f"rt.{name}", params, result, **forms), getattr(rt, name))


NO_HIGHER = "derivatives of np.prod's derivative are not supported"

helper("zeros_like", ("x",), _float_like("x"), allocates="zeros", like="x")
helper("trip_count", ("start", "stop", "step"), lambda t, n: INT)
helper("tape", ("value", "trips"), _tape_result, allocates="unfilled", like="value")
helper(
    "grow", ("tape", "used"), lambda t, n: t["tape"], linear=("tape",), view=True
)  # the tape itself until full
# tapes family (issue 23): a shared tape made long enough before a counted loop records into it
helper("reserve", ("tape", "size"), lambda t, n: t["tape"], linear=("tape",), view=True)
helper("max_weight", ("a", "b"), _float_result, broadcasts=True)  # elementwise, piecewise constant
helper("unbroadcast", ("v", "x"), _float_like("x"), linear=("v",), like="x")
helper("sum_adjoint", ("v", "a", "axis"), _float_like("a"), linear=("v",), like="a")
helper("mean_adjoint", ("v", "a", "axis"), _float_like("a"), linear=("v",), like="a")
helper(
    "prod_adjoint",
    ("v", "a", "axis"),
    _float_like("a"),
    linear=("v",),
    unsupported={"a": NO_HIGHER},
    like="a",
)
helper("extreme_adjoint", ("v", "a", "out", "axis"), _float_like("a"), linear=("v",), like="a")
helper("reshape_like", ("v", "a"), _float_like("a"), linear=("v",), like="a")
helper("matmul", ("a", "b"), _product_result(dot=True), linear=BILINEAR, product=True)
helper("unset", (), lambda t, n: UNSET)
helper("empty_float", ("length", "arrays"), _allocated_float, allocates="unfilled")
helper("float_cast", ("x", "arrays"), _float_like("x"), linear=("x",))
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
# a loop iterable, like range, which is its spelling on CUDA (the threads are the parallelism)
helper("prange", ("args",), lambda t, n: INT, loop_only=True, cuda="range")
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

# ufuncs family: np.fmax's weight (piecewise constant) and np.sinc's derivatives
helper("fmax_weight", ("a", "b"), _float_result, broadcasts=True)
helper(
    "sinc_slope",
    ("x",),
    _float_result,
    adjoints={"x": "rt.sinc_curvature(g, x)"},
    broadcasts=True,
)
helper(
    "sinc_curvature",
    ("v", "x"),
    lambda t, n: broadcast(t["v"], t["x"], kind="float"),
    linear=("v",),
    unsupported={"x": "third derivatives of np.sinc are not supported"},
)

# Shape and order (s2sjax/rules/ordering.py): linear in the adjoint or tangent; the order np.sort
# found is piecewise constant in `a`.
helper(
    "flatten",
    ("a",),
    lambda t, n: Type(t["a"].kind, 1),
    linear=("a",),
    adjoints={"a": "rt.reshape_like(g, a)"},
    allocates="values",
)
helper("diagonal_adjoint", ("v", "a", "k"), _float_like("a"), linear=("v",))
helper("tile_adjoint", ("v", "a"), _float_like("a"), linear=("v",))
helper("unpad", ("v", "a", "pad_width"), _float_like("a"), linear=("v",))
helper("repeat_adjoint", ("v", "a", "repeats", "axis"), _float_like("a"), linear=("v",))
for _name, _inverse in (("gather_matching", "scatter"), ("scatter_matching", "gather")):
    helper(
        _name,
        ("v", "a", "ordered"),  # not `out`: a template's name for the helper's own result
        _float_like("a"),
        linear=("v",),
        adjoints={"v": f"rt.{_inverse}_matching(g, a, ordered)"},
    )

# ---- stacking: joining and splitting arrays ----
helper("section_start", ("length", "count", "k", "equal"), lambda t, n: INT)
helper("joined_length", ("shape", "others", "axis", "slot"), lambda t, n: INT)
helper(
    "empty_joined",
    ("shape", "pieces"),
    lambda t, n: Type(promote(*(e.kind for e in t["pieces"].elts)), len(t["shape"].elts)),
    allocates="unfilled",
)


# ---- small: np.squeeze with an axis ----
def _squeezed(types, nodes):
    if types["a"].ndim is None:
        raise RuleError("rt.squeeze takes an array of a known rank")
    return Type(types["a"].kind, types["a"].ndim - len(nodes["axis"].elts))


helper(
    "squeeze",
    ("a", "axis"),
    _squeezed,
    linear=("a",),
    adjoints={"a": "rt.reshape_like(g, a)"},
    static=("axis",),
    view=True,
)

# ---- indexing: the flat positions an index reads, and the adjoints working on them ----
helper("index_positions", ("like",), lambda t, n: Type("int", t["like"].ndim))
helper(
    "scatter_add",
    ("positions", "values", "like"),
    _float_like("like"),
    linear=("values",),
    adjoints={"values": "np.ravel(g)[positions]"},
    like="like",
)
helper(
    "index_last_writes",  # linear: its transpose adds g where a position is written last
    ("positions", "adjoint"),
    lambda t, n: Type("float", t["positions"].ndim),
    linear=("adjoint",),
    like="positions",
    adjoints={
        "adjoint": "rt.scatter_add("
        "positions, g * rt.index_last_writes(positions, np.ones_like(adjoint)), adjoint)"
    },
)


# ---- reductions: keepdims and var's ddof ----
helper(
    "keep_dims",
    ("r", "a", "axis"),
    lambda t, n: Type(t["r"].kind, t["a"].ndim),
    linear=("r",),
    adjoints={"r": "rt.reshape_like(g, r)"},
    static=("axis",),
)
# A variance of 0 is the variance of one entry (constant: derivative 0) or of equal entries (a kink,
# where 0 is a subgradient); np.sqrt's would be 0 * inf = nan.
helper(
    "root_of_variance",
    ("v",),
    _float_result,
    adjoints={"v": "0.5 * g * rt.reciprocal_or_zero(out)"},
    broadcasts=True,
    cuda="math.sqrt",  # of a number in a CUDA device function, which has no scalar np.sqrt
)
helper("ddof_scale", ("a", "axis", "ddof"), lambda t, n: FLOAT, static=("axis",))

# ---- along an axis: np.trace's mask (constant), np.cumsum's adjoint ----
helper("diagonal_mask", ("a", "offset"), _float_like("a"), allocates="values", like="a")
helper("cumsum_adjoint", ("g", "a", "axis"), _float_like("a"), linear=("g",), static=("axis",))
helper(
    "diff_once",
    ("a", "axis"),
    _float_like("a"),
    linear=("a",),
    adjoints={"a": "rt.diff_once_adjoint(g, a, axis)"},
    static=("axis",),
)
helper("diff_once_adjoint", ("g", "a", "axis"), _float_like("a"), linear=("g",), static=("axis",))


def _gradient_result(types, nodes):
    a, axis = types["a"], nodes["axis"]
    if isinstance(axis, gast.Constant) and axis.value is None:
        if a.ndim == 1:
            return Type("float", 1)
        raise RuleError(
            f"np.gradient without axis= of a rank-{a.ndim} array computed in the function is not "
            "supported (a tuple, one array per axis, of a rank known only later): write "
            "axis=(0, 1, ...)"
        )
    if types["axis"].kind != "int" or types["axis"].ndim != 0:
        raise RuleError("np.gradient's axis must be None, an int or a tuple of int constants")
    return Type("float", a.ndim)


helper(
    "gradient_along",
    ("a", "axis"),
    _gradient_result,
    linear=("a",),
    adjoints={"a": "rt.gradient_adjoint(g, a, axis)"},
    static=("axis",),
)
helper("gradient_adjoint", ("g", "a", "axis"), _float_like("a"), linear=("g",), static=("axis",))


# ---- np.linalg (s2sjax/rules/decompositions.py): parts of tuple results and derivative pieces


def matrix_helper(name, params, result, **forms):
    """A helper on matrices, which a CUDA device function cannot compute."""
    return helper(name, params, result, product=True, **forms)


# np.linalg.solve in derivatives: its record, spelled rt.solve (casts a float32 matrix's seed)
register(dataclasses.replace(by_name("np.linalg.solve"), name="rt.solve"), rt.solve)
matrix_helper("det_sign", ("a",), _of_stack("np.linalg.slogdet", ""))  # piecewise constant
matrix_helper(
    "log_abs_det",
    ("a",),
    _of_stack("np.linalg.slogdet", ""),
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
for _part, _result, _dims in (("values", VECTOR, "n"), ("vectors", MATRIX, "mn")):
    matrix_helper(
        f"eigh_{_part}",
        ("a", "UPLO"),
        _of_stack("np.linalg.eigh", _dims),
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
for _part, _result, _dims in (("u", MATRIX, "mk"), ("s", VECTOR, "k"), ("vh", MATRIX, "kn")):
    _params = ("a",) if _part == "s" else ("a", "full_matrices")
    matrix_helper(
        f"svd_{_part}",
        _params,
        _of_stack("np.linalg.svd", _dims),
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

# np.linalg on stacks of matrices: where a matrix of a broadcast stack lies
helper("broadcast_dimension", ("p", "q"), lambda t, n: INT)
helper("stack_position", ("k", "lead", "own"), lambda t, n: INT)
# np.linalg.qr's parts q and r
for _part, _dims in (("q", "mk"), ("r", "kn")):
    matrix_helper(
        f"qr_{_part}",
        ("a",),
        _of_stack("np.linalg.qr", _dims),
        adjoints={"a": f"rt.qr_{_part}_adjoint(g, a)"},
        tangents={"a": f"rt.qr_{_part}_tangent(d, a)"},
    )
    for _form, _seed in (("adjoint", "g"), ("tangent", "d")):
        matrix_helper(
            f"qr_{_part}_{_form}",
            (_seed, "a"),
            _of_matrix("np.linalg.qr", MATRIX),
            linear=(_seed,),
            unsupported={"a": NOT_TWICE.format("qr")},
        )


def _vector(types, nodes):
    if types["x"].ndim != 1:
        raise RuleError(
            f"np.linalg.norm with a number for ord and no axis takes a vector, not a rank-"
            f"{types['x'].ndim} array: the matrix norms ord=1, 2, inf are not supported"
        )
    return types["x"]


helper("norm_vector", ("x",), _vector, linear=("x",), adjoints={"x": "g"})


# ---- reduce2 family: np.take_along_axis's and np.quantile's positions and weights (constant);
# np.cumprod's derivatives (their own derivatives are refused, as np.prod's)
def _quantile_result(kind):
    def result(types, nodes):
        if types["q"].ndim != 0:
            raise RuleError("np.quantile's q must be a number; give one quantile per call")
        return Type(kind, types["a"].ndim)

    return result


helper(
    "quantile_neighbours",
    ("a", "q", "axis"),
    _quantile_result("int"),
    static=("axis",),
    unsupported={"q": NO_QUANTILE_SLOPE},
)
helper(
    "quantile_weights",
    ("a", "q", "axis"),
    _quantile_result("float"),
    static=("axis",),
    unsupported={"q": NO_QUANTILE_SLOPE},
)
helper(
    "along_axis_positions",
    ("arr", "indices", "axis"),
    lambda t, n: Type("int", t["indices"].ndim),
    static=("axis",),
)
helper(
    "cumprod_adjoint",
    ("v", "a", "axis"),
    _float_like("a"),
    linear=("v",),
    unsupported={"a": NO_HIGHER_CUMPROD},
    static=("axis",),
)
helper(
    "cumprod_tangent",
    ("v", "a", "axis"),
    lambda t, n: Type("float", 1 if _is_none(n["axis"]) else t["a"].ndim),
    linear=("v",),
    unsupported={"a": NO_HIGHER_CUMPROD},
    static=("axis",),
)


# ---- linalg speed: triangular solves with cholesky's factor, read from its lower triangle T ----
# x = T^-1 b: b_bar = T^-T g, T_bar = -tril((T^-T g) x^T), dx = -T^-1 tril(d) x.
# x = T^-T b: b_bar = T^-1 g, T_bar = -tril(x (T^-1 g)^T), dx = -T^-T tril(d)^T x.


def _triangle_adjoint(left, right):
    """The adjoint template -tril(left right^T), right^T the row of a vector `right`."""

    def chosen(types, nodes):
        if types["b"].ndim == 1:
            return f"-np.tril(np.outer({left}, {right}))"
        return f"-np.tril(rt.matmul({left}, np.transpose({right})))"

    return chosen


def _triangular_solve(name, other, factor_adjoint, tangent):
    """One of the two solves; `other` is the solve with the transposed triangle."""
    matrix_helper(
        name,
        ("factor", "b"),
        _float_like("b"),
        adjoints={"factor": factor_adjoint, "b": f"rt.{other}(factor, g)"},
        tangents={"factor": f"-rt.{name}(factor, rt.matmul({tangent}, out))"},
        linear=("b",),
    )


_triangular_solve(
    "solve_lower",
    "solve_lower_transposed",
    _triangle_adjoint("rt.solve_lower_transposed(factor, g)", "out"),
    "np.tril(d)",
)
_triangular_solve(
    "solve_lower_transposed",
    "solve_lower",
    _triangle_adjoint("out", "rt.solve_lower(factor, g)"),
    "np.transpose(np.tril(d))",
)


# ---- forms: `a @ b` with batch axes on both operands (s2sjax/rules/linalg.py lowers it) ----
helper(
    "batch_matmul",
    ("a", "b"),
    _product_result(dot=False),
    adjoints={
        "a": "rt.unbroadcast(rt.batch_matmul(g, np.swapaxes(b, -1, -2)), a)",
        "b": "rt.unbroadcast(rt.batch_matmul(np.swapaxes(a, -1, -2), g), b)",
    },
    linear=BILINEAR,
    product=True,
)
