"""Elementwise rules: operators, NumPy ufuncs, `math` functions, builtins.

One line declares a function and its derivative; the same template serves
every spelling (`np.sin`, `math.sin`) and both scalars and arrays. Templates
use the parameter names, `out` for the result and `g` for its adjoint. The
reverse transform reduces a contribution to its operand's shape when the
operand was broadcast, so templates are written for equal shapes.
"""

import builtins
import math
import operator as python_operator

import gast
import numpy as np

from ..abstract import BOOL, Type, broadcast, promote
from .registry import Rule, by_name, register, register_operator_function

LN2 = repr(math.log(2.0))
LN10 = repr(math.log(10.0))
TWO_OVER_SQRT_PI = repr(2.0 / math.sqrt(math.pi))


def _float_result(types, nodes):
    return broadcast(*types.values(), kind="float")


def _same_kind_result(types, nodes):
    return broadcast(*types.values())


def _bool_result(types, nodes):
    return broadcast(*types.values(), kind="bool")


def elementwise(
    np_name,
    *templates,
    params=("x",),
    math_name=None,
    result=_float_result,
    builtin=None,
    scalar_math=True,
    cuda=None,
):
    """Declare an elementwise function under every spelling it has.

    `templates` gives one adjoint template per parameter; None (or fewer
    templates than parameters) means a zero derivative for that parameter.
    `math_name`: its `math` twin's name where it differs from NumPy's; NumPy's
    function on scalars is spelled as that twin (in fused loops, on CUDA) unless
    not `scalar_math`. `builtin`: the builtin that is the function too (abs),
    which is its spelling on CUDA. `cuda`: its spelling on scalars on CUDA otherwise, where
    Numba's CUDA target has no NumPy function for scalars (np.sign: a runtime helper).
    """
    adjoints = {p: t for p, t in zip(params, templates) if t is not None}
    math_name = math_name or np_name
    twin = f"math.{math_name}" if hasattr(math, math_name) else None
    if hasattr(np, np_name):
        register(
            Rule(
                f"np.{np_name}",
                params,
                result,
                adjoints,
                broadcasts=True,
                math=twin if scalar_math else None,
                cuda=builtin or cuda,
            ),
            getattr(np, np_name),
        )
    if twin:
        register(
            Rule(twin, params, result, adjoints, broadcasts=True, cuda=cuda),
            getattr(math, math_name),
        )
    if builtin:
        register(
            Rule(builtin, params, result, adjoints, broadcasts=True), getattr(builtins, builtin)
        )


X1X2 = ("x1", "x2")

elementwise("sin", "g * cos(x)")
elementwise("cos", "-g * sin(x)")
elementwise("tan", "g * (1.0 + out * out)")
elementwise("arcsin", "g / sqrt(1.0 - x * x)", math_name="asin")
elementwise("arccos", "-g / sqrt(1.0 - x * x)", math_name="acos")
elementwise("arctan", "g / (1.0 + x * x)", math_name="atan")
elementwise("sinh", "g * cosh(x)")
elementwise("cosh", "g * sinh(x)")
elementwise("tanh", "g * (1.0 - out * out)")
elementwise("arcsinh", "g / sqrt(x * x + 1.0)", math_name="asinh")
elementwise("arccosh", "g / sqrt(x * x - 1.0)", math_name="acosh")
elementwise("arctanh", "g / (1.0 - x * x)", math_name="atanh")
elementwise("exp", "g * out")
elementwise("exp2", f"g * out * {LN2}")
elementwise("expm1", "g * (out + 1.0)")
elementwise("log", "g / x")
elementwise("log2", f"g / (x * {LN2})")
elementwise("log10", f"g / (x * {LN10})")
elementwise("log1p", "g / (1.0 + x)")
elementwise("sqrt", "0.5 * g / out")
elementwise("cbrt", "g / (3.0 * out * out)", cuda="rt.cbrt_of_scalar")
elementwise("square", "2.0 * g * x", cuda="rt.square_of_scalar")
elementwise("fabs", "g * sign(x)")
elementwise("absolute", "g * sign(x)", result=_same_kind_result, builtin="abs")
elementwise(
    "arctan2",
    "g * x2 / (x1 * x1 + x2 * x2)",
    "-g * x1 / (x1 * x1 + x2 * x2)",
    params=X1X2,
    math_name="atan2",
)
elementwise("hypot", "g * x1 / out", "g * x2 / out", params=X1X2)
elementwise("logaddexp", "g * exp(x1 - out)", "g * exp(x2 - out)", params=X1X2)
elementwise("logaddexp2", "g * exp2(x1 - out)", "g * exp2(x2 - out)", params=X1X2)
elementwise(
    "power",
    "rt.pow_base_adjoint(g, x1, x2)",
    "g * out * rt.log_or_zero(x1)",
    params=X1X2,
    math_name="pow",
)
elementwise(
    "maximum",
    "g * rt.max_weight(x1, x2)",
    "g * rt.max_weight(x2, x1)",
    params=X1X2,
    result=_same_kind_result,
)
elementwise(
    "minimum",
    "g * rt.max_weight(x2, x1)",
    "g * rt.max_weight(x1, x2)",
    params=X1X2,
    result=_same_kind_result,
)
# Piecewise constant: zero derivative almost everywhere (JAX's convention).
for _name in ("floor", "ceil"):
    elementwise(_name, result=_same_kind_result)
for _name in ("round", "rint"):  # half to even; on CUDA, which has neither for numbers, a helper's
    elementwise(_name, result=_same_kind_result, cuda="rt.rint_of_scalar")
elementwise("sign", result=_same_kind_result, cuda="rt.sign_of_scalar")
# math.trunc refuses NumPy's float32 scalars (they have no __trunc__): np.trunc keeps its own
# spelling
elementwise("trunc", result=_same_kind_result, scalar_math=False, cuda="rt.trunc_of_scalar")

# math.erf: its derivative is elementary but `math.erf` has no NumPy twin.
register(
    Rule(
        "math.erf",
        ("x",),
        _float_result,
        {"x": f"g * {TWO_OVER_SQRT_PI} * math.exp(-x * x)"},
        broadcasts=True,
    ),
    math.erf,
)


def _where_result(types, nodes):
    return broadcast(
        types["x"], types["y"], types["condition"], kind=promote(types["x"].kind, types["y"].kind)
    )


register(
    Rule(
        "np.where",
        ("condition", "x", "y"),
        _where_result,
        {"x": "np.where(condition, g, 0.0)", "y": "np.where(condition, 0.0, g)"},
        broadcasts=True,
    ),
    np.where,
)
register(
    Rule(
        "np.clip",
        ("a", "a_min", "a_max"),
        _same_kind_result,
        {
            "a": "g * ((a >= a_min) & (a <= a_max))",
            "a_min": "g * (a < a_min)",
            "a_max": "g * (a > a_max)",
        },
        broadcasts=True,
    ),
    np.clip,
)


def _builtin_extreme(name, weight_args):
    """Builtin min/max of two numbers; ties split the adjoint (JAX's convention)."""
    first, second = weight_args
    register(
        Rule(
            name,
            ("a", "b"),
            _same_kind_result,
            {
                "a": f"g * rt.max_weight({first}, {second})",
                "b": f"g * rt.max_weight({second}, {first})",
            },
            broadcasts=True,
        ),
        getattr(builtins, name),
    )


_builtin_extreme("max", ("a", "b"))
_builtin_extreme("min", ("b", "a"))


def _float_call(types, nodes):
    return Type("float", types["x"].ndim)


register(Rule("float", ("x",), _float_call, {"x": "g"}, broadcasts=True), float)


# ---- operators -------------------------------------------------------------


def _arith_result(types, nodes):
    return broadcast(types["a"], types["b"])


def _true_divide_result(types, nodes):
    return broadcast(types["a"], types["b"], kind="float")


def _power_template(types, nodes):
    """`a ** c` with a constant exponent reads better as `c * a ** (c - 1)`."""
    exponent = nodes["b"]
    if (
        isinstance(exponent, gast.Constant)
        and isinstance(exponent.value, (int, float))
        and not isinstance(exponent.value, bool)
    ):
        c = exponent.value
        if c == 0:
            return None  # x ** 0 is 1 everywhere
        if c == 1:
            return "g"
        if c == 2:
            return "g * (2.0 * a)"
        return f"g * ({c!r} * a ** {c - 1!r})"
    return "rt.pow_base_adjoint(g, a, b)"


def operator(symbol, fold, adjoint_a, adjoint_b, result=_arith_result):
    adjoints = {p: t for p, t in (("a", adjoint_a), ("b", adjoint_b)) if t is not None}
    register(Rule(symbol, ("a", "b"), result, adjoints, broadcasts=True, fold=fold))


operator("+", python_operator.add, "g", "g")
operator("-", python_operator.sub, "g", "-g")
operator("*", python_operator.mul, "g * b", "g * a")
operator("/", python_operator.truediv, "g / b", "-g * out / b", result=_true_divide_result)
operator("**", python_operator.pow, _power_template, "g * out * rt.log_or_zero(a)")
operator("%", python_operator.mod, "g", "-g * floor(a / b)")
operator("//", python_operator.floordiv, None, None)
for _symbol, _fold in (
    ("==", python_operator.eq),
    ("!=", python_operator.ne),
    ("<", python_operator.lt),
    ("<=", python_operator.le),
    (">", python_operator.gt),
    (">=", python_operator.ge),
):
    register(Rule(_symbol, ("a", "b"), _bool_result, fold=_fold))
for _symbol in ("&", "|"):  # on booleans (masks), or bitwise on integers
    register(
        Rule(
            _symbol,
            ("a", "b"),
            lambda types, nodes: (
                broadcast(types["a"], types["b"], kind="bool")
                if types["a"].kind == types["b"].kind == "bool"
                else broadcast(types["a"], types["b"], kind="int")
            ),
        )
    )
register(
    Rule(
        "unary -",
        ("a",),
        lambda types, nodes: types["a"],
        {"a": "-g"},
        broadcasts=True,
        fold=python_operator.neg,
    )
)
register(Rule("unary +", ("a",), lambda types, nodes: types["a"], {"a": "g"}, broadcasts=True))
register(Rule("not", ("a",), lambda types, nodes: BOOL, fold=python_operator.not_))

# NumPy's ufuncs and the `operator` module's functions that are operators: their calls are the
# operators themselves (`np.multiply(a, b)` is `a * b`), with the operators' rules.
for _module, _functions in (
    (
        np,
        {
            "add": "+",
            "subtract": "-",
            "multiply": "*",
            "divide": "/",
            "floor_divide": "//",
            "mod": "%",
            "negative": "unary -",
            "positive": "unary +",
        },
    ),
    (
        python_operator,
        {
            "add": "+",
            "sub": "-",
            "mul": "*",
            "truediv": "/",
            "floordiv": "//",
            "mod": "%",
            "pow": "**",
            "neg": "unary -",
            "pos": "unary +",
        },
    ),
):
    for _name, _symbol in _functions.items():
        _spelled = "np" if _module is np else "operator"
        register_operator_function(getattr(_module, _name), _symbol, f"{_spelled}.{_name}")


# ---- ufuncs family: more NumPy spellings, real parts, functions with no derivative --------

RADIANS_PER_DEGREE = repr(math.pi / 180.0)
DEGREES_PER_RADIAN = repr(180.0 / math.pi)

elementwise("reciprocal", "-g * out * out")
elementwise("deg2rad", f"g * {RADIANS_PER_DEGREE}", math_name="radians")
elementwise("radians", f"g * {RADIANS_PER_DEGREE}")
elementwise("rad2deg", f"g * {DEGREES_PER_RADIAN}", math_name="degrees")
elementwise("degrees", f"g * {DEGREES_PER_RADIAN}")
elementwise("sinc", "g * rt.sinc_slope(x)")
# fmax and fmin take the number where the other operand is NaN: a weight of its own, not max's
elementwise(
    "fmax",
    "g * rt.fmax_weight(x1, x2)",
    "g * rt.fmax_weight(x2, x1)",
    params=X1X2,
    result=_same_kind_result,
)
elementwise(
    "fmin",
    "g * rt.fmax_weight(-x1, -x2)",
    "g * rt.fmax_weight(-x2, -x1)",
    params=X1X2,
    result=_same_kind_result,
)
# Of real numbers (s2sjax refuses complex ones): the real part and conjugate are the number, the
# imaginary part is 0 and the angle 0 or pi.
register(Rule("np.real", ("val",), _same_kind_result, {"val": "g"}, broadcasts=True, view=True))
register(by_name("np.real"), np.real, np.real_if_close)  # of a real array, both are the array
elementwise("conjugate", "g", result=_same_kind_result)  # np.conj is np.conjugate
elementwise("imag", params=("val",), result=_same_kind_result)
elementwise("angle", params=("z",))
for _name in ("isnan", "isfinite", "isinf"):
    elementwise(_name, result=_bool_result)


def _close_result(types, nodes):
    return broadcast(types["a"], types["b"], kind="bool")


_CLOSE_PARAMS = ("a", "b", "rtol", "atol")
_CLOSE_DEFAULTS = {"rtol": 1e-05, "atol": 1e-08}
register(
    Rule("np.isclose", _CLOSE_PARAMS, _close_result, defaults=_CLOSE_DEFAULTS, broadcasts=True),
    np.isclose,
)
register(
    Rule("np.allclose", _CLOSE_PARAMS, lambda types, nodes: BOOL, defaults=_CLOSE_DEFAULTS),
    np.allclose,
)


def _index_result(types, nodes):
    """np.argmax(a): an int; along an axis, ints of one rank less."""
    axis = nodes["axis"]
    whole = isinstance(axis, gast.Constant) and axis.value is None
    return Type("int", 0 if whole or types["a"].ndim is None else types["a"].ndim - 1)


for _name in ("argmax", "argmin"):
    register(
        Rule(
            f"np.{_name}", ("a", "axis"), _index_result, defaults={"axis": None}, static=("axis",)
        ),
        getattr(np, _name),
    )
for _module, _functions in (
    (
        np,
        {
            "equal": "==",
            "not_equal": "!=",
            "less": "<",
            "less_equal": "<=",
            "greater": ">",
            "greater_equal": ">=",
        },
    ),
    (python_operator, {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}),
):
    for _name, _symbol in _functions.items():
        _spelled = "np" if _module is np else "operator"
        register_operator_function(getattr(_module, _name), _symbol, f"{_spelled}.{_name}")
register(by_name("abs"), python_operator.abs)  # operator.abs is the builtin
