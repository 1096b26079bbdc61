"""Every rule in the registry, checked against float64 finite differences.

`RULE_CASES` gives, per registered rule name, a function that uses it and its
arguments; the test for a rule differentiates with respect to every float
argument, on both targets. A rule added to the registry without a case here
fails `test_every_rule_has_a_case`, so no rule goes unchecked.
"""

import zlib

import numpy as np
import pytest

import s2sjax
from s2sjax import rules
from tests import fd
from tests.util import define

# On the cpu target, code Numba cannot compile is a failure here, not a fallback.
pytestmark = pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")

R = np.random.default_rng(7)


def u(lo, hi, shape=()):
    return R.uniform(lo, hi, size=shape) if shape else float(R.uniform(lo, hi))


# name -> (source of a scalar-valued function using the rule, arguments)
RULE_CASES = {}


def case(rule_name, source, *args):
    RULE_CASES.setdefault(rule_name, []).append((source, args))


DOMAINS = {
    "arcsin": (-0.8, 0.8),
    "arccos": (-0.8, 0.8),
    "arctanh": (-0.8, 0.8),
    "arccosh": (1.2, 3.0),
    "log": (0.3, 3.0),
    "log2": (0.3, 3.0),
    "log10": (0.3, 3.0),
    "log1p": (0.3, 3.0),
    "sqrt": (0.3, 3.0),
    "cbrt": (0.3, 3.0),
    "tan": (-1.0, 1.0),
}
for np_name in [
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "exp",
    "exp2",
    "expm1",
    "log",
    "log2",
    "log10",
    "log1p",
    "sqrt",
    "cbrt",
    "square",
    "fabs",
    "absolute",
]:
    lo, hi = DOMAINS.get(np_name, (-1.5, 1.5))
    if np_name in ("fabs", "absolute"):
        lo, hi = 0.3, 1.5  # away from the kink at 0
    case(
        f"np.{np_name}",
        f"def f(x):\n    return np.sum(np.{np_name}(x) * np.arange(1.0, 4.0))\n",
        u(lo, hi, (3,)),
    )
    case(f"np.{np_name}", f"def f(x):\n    return np.{np_name}(x)\n", u(lo, hi))
    twin = rules.by_name(f"np.{np_name}").math  # math.asin for np.arcsin
    if twin:
        case(
            twin,
            f"def f(x):\n    return {twin}(x)\n",
            -u(lo, hi) if np_name == "fabs" else u(lo, hi),
        )
case("abs", "def f(x):\n    return abs(x) * 2.0\n", -0.7)
case("abs", "def f(x):\n    return np.sum(abs(x))\n", np.array([0.5, -0.7, 1.3]))
case("math.erf", "def f(x):\n    return math.erf(x)\n", 0.4)
for name, math_name in (("arctan2", "atan2"), ("hypot", "hypot"), ("power", "pow")):
    case(
        f"np.{name}",
        f"def f(a, b):\n    return np.sum(np.{name}(a, b))\n",
        u(0.5, 2, (3,)),
        u(0.5, 2, (3,)),
    )
    case(
        f"math.{math_name}",
        f"def f(a, b):\n    return math.{math_name}(a, b)\n",
        u(0.5, 2),
        u(0.5, 2),
    )
for name in ("logaddexp", "logaddexp2"):  # b broadcast along a's rows
    case(
        f"np.{name}",
        f"def f(a, b):\n    return np.sum(np.{name}(a, b) * np.arange(1.0, 4.0))\n",
        np.array([[0.3, -1.2, 2.0], [1.1, 0.4, -0.6]]),
        np.array([0.5, 0.7, -1.5]),
    )
    case(f"np.{name}", f"def f(a, b):\n    return np.{name}(a, b)\n", 0.8, -0.3)
case(
    "np.maximum",
    "def f(a, b):\n    return np.sum(np.maximum(a, b) * np.arange(1.0, 5.0))\n",
    np.array([0.1, 0.9, -0.5, 2.0]),
    np.array([0.5, 0.2, 0.3, 1.0]),
)
case(
    "np.minimum",
    "def f(a, b):\n    return np.sum(np.minimum(a, b) * np.arange(1.0, 5.0))\n",
    np.array([0.1, 0.9, -0.5, 2.0]),
    np.array([0.5, 0.2, 0.3, 1.0]),
)
case("max", "def f(a, b):\n    return max(a, b) * 3.0 + max(b, 2.0 * a)\n", 0.3, 0.5)
case("min", "def f(a, b):\n    return min(a, b) * 3.0 + min(b, 2.0 * a)\n", 0.3, 0.5)
case("float", "def f(x):\n    return float(x) * x\n", 0.7)
for name in ("sign", "floor", "ceil", "round", "rint", "trunc"):
    case(
        f"np.{name}",
        f"def f(x):\n    return np.sum(np.{name}(x) * x)\n",
        np.array([0.3, -1.7, 2.2]),
    )
for name in ("floor", "ceil", "trunc"):
    if f"math.{name}" in [r.name for r in rules.all_rules()]:
        case(f"math.{name}", f"def f(x):\n    return math.{name}(x) * x\n", 1.3)
case(
    "np.where",
    "def f(x, y):\n    return np.sum(np.where(x > 0.0, x * y, y))\n",
    np.array([0.5, -0.5, 1.5]),
    np.array([1.0, 2.0, 3.0]),
)
case(
    "np.clip",
    "def f(x, lo, hi):\n    return np.sum(np.clip(x, lo, hi) * np.arange(1.0, 5.0))\n",
    np.array([-0.9, -0.1, 0.3, 1.5]),
    -0.5,
    1.0,
)
for symbol, expr in (
    ("+", "a + b"),
    ("-", "a - b"),
    ("*", "a * b"),
    ("/", "a / b"),
    ("**", "a ** b"),
    ("%", "a % b"),
    ("//", "(a // b) * a"),
):
    case(
        symbol, f"def f(a, b):\n    return np.sum({expr})\n", u(0.5, 2.0, (2, 3)), u(0.3, 0.9, (3,))
    )
    case(symbol, f"def f(a, b):\n    return {expr}\n", u(1.1, 2.0), u(0.3, 0.9))
case(
    "**", "def f(a):\n    return np.sum(a ** 3 + a ** 2 + a ** 0.5 + a ** -1)\n", u(0.5, 2.0, (3,))
)
for symbol in ("==", "!=", "<", "<=", ">", ">="):
    case(symbol, f"def f(a, b):\n    return a * b if a {symbol} b else a - b\n", 0.3, 0.8)
# NumPy's and the operator module's functions that are operators
for function, expr in (
    ("np.add", "np.add(a, b)"),
    ("np.subtract", "np.subtract(a, b)"),
    ("np.multiply", "np.multiply(a, b)"),
    ("np.divide", "np.divide(a, b)"),
    ("np.floor_divide", "np.floor_divide(a, b) * a"),
    ("np.mod", "np.mod(a, b)"),
    ("np.negative", "np.negative(a) * b"),
    ("np.positive", "np.positive(a) * b"),
    ("operator.add", "operator.add(a, b)"),
    ("operator.sub", "operator.sub(a, b)"),
    ("operator.mul", "operator.mul(a, b)"),
    ("operator.truediv", "operator.truediv(a, b)"),
    ("operator.floordiv", "operator.floordiv(a, b) * a"),
    ("operator.mod", "operator.mod(a, b)"),
    ("operator.pow", "operator.pow(a, b)"),
    ("operator.neg", "operator.neg(a) * b"),
    ("operator.pos", "operator.pos(a) * b"),
):
    case(
        function, f"def f(a, b):\n    return np.sum({expr})\n", u(1.1, 2.0, (3,)), u(0.3, 0.9, (3,))
    )
case(
    "operator.matmul",
    "def f(a, b):\n    return np.sum(np.sin(operator.matmul(a, b)))\n",
    u(-1, 1, (2, 3)),
    u(-1, 1, (3,)),
)
case("unary -", "def f(a):\n    return -a * 2.0\n", 0.4)
case("unary +", "def f(a):\n    return +a * 2.0\n", 0.4)
case("not", "def f(a):\n    return a if not a > 1.0 else 2.0 * a\n", 0.4)
for name in ("sum", "mean", "prod", "max", "min"):
    a = R.permutation(12).reshape(3, 4) / 7.0 + 0.5  # distinct entries: no ties
    case(f"np.{name}", f"def f(x):\n    return np.{name}(x) * 2.0\n", a)
    for axis in (0, 1, -1):
        case(
            f"np.{name}",
            f"def f(x):\n    return np.sum(np.{name}(x, axis={axis}) "
            f"* np.arange(1.0, x.shape[1 - {axis} % 2] + 1.0))\n",
            a,
        )
for name, expr in (("@", "a @ b"), ("np.dot", "np.dot(a, b)"), ("np.matmul", "np.matmul(a, b)")):
    for sa, sb in (((2, 3), (3, 4)), ((2, 3), (3,)), ((3,), (3, 4)), ((3,), (3,))):
        case(name, f"def f(a, b):\n    return np.sum(np.sin({expr}))\n", u(-1, 1, sa), u(-1, 1, sb))
case("np.dot", "def f(a, b):\n    return np.sum(np.dot(a, b))\n", 0.7, u(-1, 1, (3,)))
case(
    "np.outer",
    "def f(a, b):\n    return np.sum(np.sin(np.outer(a, b)))\n",
    u(-1, 1, (3,)),
    u(-1, 1, (2,)),
)
case(
    "np.transpose",
    "def f(a):\n    return np.sum(np.transpose(a) * np.arange(6.0).reshape(3, 2))\n",
    u(-1, 1, (2, 3)),
)
case(
    "np.transpose",
    "def f(a):\n    return np.sum(np.transpose(a, (1, 2, 0)) * np.arange(24.0).reshape(3, 4, 2))\n",
    u(-1, 1, (2, 3, 4)),
)
case(
    "np.reshape",
    "def f(a):\n    return np.sum(np.reshape(a, (3, 2)) * np.arange(6.0).reshape(3, 2))\n",
    u(-1, 1, (2, 3)),
)
case("np.ravel", "def f(a):\n    return np.sum(np.ravel(a) * np.arange(6.0))\n", u(-1, 1, (2, 3)))
case("np.copy", "def f(a):\n    return np.sum(np.copy(a) * a)\n", u(-1, 1, (3,)))
case("astype", "def f(a):\n    return np.sum(a.astype(np.float64) * a)\n", u(-1, 1, (3,)))
for name in ("zeros", "ones"):
    case(
        f"np.{name}",
        f"def f(a):\n    return np.sum(a * np.{name}(a.shape) * 0.0 + a)\n",
        u(-1, 1, (3,)),
    )
for name in ("zeros_like", "ones_like"):
    case(
        f"np.{name}", f"def f(a):\n    return np.sum(a * np.{name}(a) * 0.0 + a)\n", u(-1, 1, (3,))
    )
# np.empty's elements are whatever memory held (NaN, too): fill them before use
for call in ("np.empty(a.shape)", "np.empty_like(a)"):
    case(
        call.split("(")[0],
        f"def f(a):\n    e = {call}\n    e[:] = 2.0\n    return np.sum(a * e)\n",
        u(-1, 1, (3,)),
    )
case("np.full", "def f(a):\n    return np.sum(a * np.full(a.shape, 2.0))\n", u(-1, 1, (3,)))
case("np.full_like", "def f(a):\n    return np.sum(a * np.full_like(a, 2.0))\n", u(-1, 1, (3,)))
case("np.arange", "def f(a):\n    return np.sum(a * np.arange(3.0))\n", u(-1, 1, (3,)))
case("np.linspace", "def f(a):\n    return np.sum(a * np.linspace(0.0, 1.0, 3))\n", u(-1, 1, (3,)))
case("np.eye", "def f(a):\n    return np.sum(a @ np.eye(3))\n", u(-1, 1, (3,)))
# Constructors fed by values: differentiable in the value (once a silent zero).
case("np.full", "def f(a, x):\n    return np.sum(np.full(3, a) * x)\n", 0.7, u(-1, 1, (3,)))
case(
    "np.full_like", "def f(a, x):\n    return np.sum(np.full_like(x, a) * x)\n", 0.7, u(-1, 1, (3,))
)
case("np.linspace", "def f(a, b):\n    return np.sum(np.sin(np.linspace(a, b, 4)))\n", -0.3, 1.2)
case("np.arange", "def f(a, b):\n    return np.sum(np.cos(np.arange(a, a + 2.0, b)))\n", 0.3, 0.62)
case(
    "np.array",
    "def f(a, b):\n    return np.sum(np.sin(np.array([[a, 1.0], [a * b, b]])))\n",
    0.3,
    0.8,
)
case(
    "np.array", "def f(x):\n    return np.sum(np.array([x, x * x]) * np.array(x))\n", u(-1, 1, (3,))
)
case(
    "np.asarray",
    "def f(x, a):\n    return np.sum(np.asarray(x) * np.asarray((a, 2.0, a)))\n",
    u(-1, 1, (3,)),
    0.4,
)
case("len", "def f(a):\n    return np.sum(a) * len(a)\n", u(-1, 1, (3,)))
case(
    "range",
    "def f(a, x):\n    for i in range(1, 7, 2):\n        x = x * a + i\n    return x\n",
    0.8,
    0.3,
)
case(
    "zip",
    "def f(a, b):\n    s = 0.0\n    for p, q in zip(a, b):\n        s = s + p * q * q\n"
    "    return s\n",
    u(-1, 1, (4,)),
    u(-1, 1, (3,)),
)
case(
    "enumerate",
    "def f(a):\n    s = 0.0\n    for i, p in enumerate(a):\n        s = s + p * i + math.sin(p)\n"
    "    return s\n",
    u(-1, 1, (4,)),
)
case("int", "def f(a, n):\n    return a * int(n)\n", 0.5, 3)
for dtype in ("np.float64", "np.float32", "np.int64", "np.int32", "np.bool_", "bool"):
    case(dtype, f"def f(a, n):\n    return a * float({dtype}(n))\n", 0.5, 3)
case(
    "np.float64", "def f(a):\n    return np.float64(a) * a\n", 0.7
)  # a float of a float: derivative 1

# The runtime helpers that generated code calls: their rules serve derivatives of generated code.
case(
    "rt.zeros_like", "def f(a):\n    return np.sum(a * rt.zeros_like(a) + a * a)\n", u(-1, 1, (3,))
)
case("rt.trip_count", "def f(a):\n    return a * rt.trip_count(0, 5, 2)\n", 0.7)
case(
    "rt.tape",
    "def f(a):\n    t = rt.tape(a, 2)\n    t[0] = a\n    t[1] = a * a\n    return np.sum(t * t)\n",
    0.7,
)
case(
    "rt.grow",
    "def f(a):\n    t = rt.tape(a, 2)\n    t[0] = a\n    t[1] = a * a\n    g = rt.grow(t, 2)\n"
    "    return np.sum(g[:2] * g[:2])\n",
    0.7,
)
case(
    "rt.reserve",
    "def f(a):\n    t = rt.tape(a, 2)\n    t[0] = a\n    t[1] = a * a\n    g = rt.reserve(t, 4)\n"
    "    return np.sum(g[:2] * g[:2])\n",
    0.7,
)
case(
    "rt.max_weight",
    "def f(a, b):\n    return a * rt.max_weight(a, b) + b * rt.max_weight(b, a)\n",
    0.3,
    0.8,
)
case(
    "rt.unbroadcast",
    "def f(v, x):\n    return np.sum(rt.unbroadcast(v * v, x) * x)\n",
    u(-1, 1, (2, 3)),
    u(-1, 1, (3,)),
)
case(
    "rt.sum_adjoint",
    "def f(v, a):\n    return np.sum(rt.sum_adjoint(v * v, a, 0) * a)\n",
    u(-1, 1, (3,)),
    u(-1, 1, (2, 3)),
)
case(
    "rt.mean_adjoint",
    "def f(v, a):\n    return np.sum(rt.mean_adjoint(v * v, a, None) * a)\n",
    0.6,
    u(-1, 1, (2, 3)),
)
case(
    "rt.prod_adjoint",
    "def f(v):\n    a = np.linspace(0.5, 1.5, 6).reshape((2, 3))\n"
    "    return np.sum(np.sin(rt.prod_adjoint(v, a, 1)))\n",
    u(-1, 1, (2,)),
)
case(
    "rt.extreme_adjoint",
    "def f(v, a):\n    return np.sum(np.sin(rt.extreme_adjoint(v, a, np.max(a, axis=0), 0)) * a)\n",
    u(-1, 1, (3,)),
    R.permutation(6).reshape(2, 3) / 5.0,
)
case(
    "rt.reshape_like",
    "def f(v, a):\n    return np.sum(np.sin(rt.reshape_like(v, a)) * a)\n",
    u(-1, 1, (6,)),
    u(-1, 1, (2, 3)),
)
case(
    "rt.matmul",
    "def f(a, b):\n    return np.sum(np.sin(rt.matmul(a, b)))\n",
    u(-1, 1, (2, 3)),
    u(-1, 1, (3,)),
)
case("rt.sum_along", "def f(x):\n    return np.sum(np.sin(rt.sum_along(x, 1)))\n", u(-1, 1, (2, 3)))
case("rt.sum_along", "def f(x):\n    return math.sin(rt.sum_along(x, None))\n", u(-1, 1, (2, 3)))
case(
    "rt.broadcast_to",
    "def f(v, like):\n    return np.sum(np.sin(rt.broadcast_to(v, like)) * like)\n",
    u(-1, 1, (3,)),
    u(-1, 1, (2, 3)),
)
case("rt.log_or_zero", "def f(x):\n    return np.sum(rt.log_or_zero(x) * x)\n", u(0.5, 2, (3,)))
case(
    "rt.reciprocal_or_zero",
    "def f(x):\n    return np.sum(rt.reciprocal_or_zero(x) * x * x * x)\n",
    u(0.5, 2, (3,)),
)
case(
    "rt.pow_base_adjoint",
    "def f(v, x, p):\n    return np.sum(rt.pow_base_adjoint(v, x, p))\n",
    u(0.5, 2, (3,)),
    u(0.5, 2, (3,)),
    u(0.5, 2, (3,)),
)
for _helper in ("pow_base_second", "pow_base_dp"):
    case(
        f"rt.{_helper}",
        f"def f(v):\n    return np.sum(np.sin(rt.{_helper}(v, np.linspace(0.5, 2.0, 3), 1.7)))\n",
        u(-1, 1, (3,)),
    )
case(
    "rt.prange",
    "def f(a, x):\n    for i in rt.prange(1, 7, 2):\n        x = x * a + i\n    return x\n",
    0.8,
    0.3,
)
case(
    "rt.common_size",
    "def f(a, x, y):\n    return a * rt.common_size((x.shape[0], y.shape[0]))\n",
    0.7,
    u(-1, 1, (3,)),
    u(-1, 1, (3,)),
)
case(
    "rt.float_cast",
    "def f(x, y):\n    return np.sum(np.sin(rt.float_cast(x * y, (x, y))))\n",
    u(-1, 1, (3,)),
    u(-1, 1, (3,)),
)
case(
    "rt.move_batch_axis",
    "def f(a):\n"
    "    return np.sum(np.sin(rt.move_batch_axis(a, 1)) * np.arange(6.0).reshape(3, 2))\n",
    u(-1, 1, (2, 3)),
)
case(
    "rt.move_axis_to_front",
    "def f(a):\n"
    "    return np.sum(np.sin(rt.move_axis_to_front(a, -1)) * np.arange(6.0).reshape(3, 2))\n",
    u(-1, 1, (2, 3)),
)
case(
    "rt.same_shape",
    "def f(a, b):\n    return np.sum(np.sin(rt.same_shape(a * a, b)) * b)\n",
    u(-1, 1, (3,)),
    u(-1, 1, (3,)),
)
case(
    "&",
    "def f(a, b):\n    return np.sum(np.where((a > 0.0) & (b > 0.0), a * b, a))\n",
    u(-1, 1, (4,)),
    u(-1, 1, (4,)),
)
case(
    "|",
    "def f(a, b):\n    return np.sum(np.where((a > 0.5) | (b < -0.5), a * b, b))\n",
    u(-1, 1, (4,)),
    u(-1, 1, (4,)),
)
case(
    "rt.empty_float",
    "def f(a, x):\n    e = rt.empty_float(3, (x,))\n    e[:] = a\n    return np.sum(e * x)\n",
    0.7,
    u(-1, 1, (3,)),
)
case(
    "rt.unset", "def f(a):\n    u = rt.unset()\n    return a * 2.0\n", 0.7
)  # never read: lower replaces it
case(
    "rt.scatter_add",
    "def f(v, x):\n    return np.sum(np.sin(rt.scatter_add(np.array([2, 0, 2]), v, x)) * x)\n",
    u(-1, 1, (3,)),
    u(-1, 1, (4,)),
)
case(
    "rt.stacked_shape",
    "def f(a, x):\n    return a * np.sum(np.ones(rt.stacked_shape((2,), x)))\n",
    0.7,
    u(-1, 1, (3,)),
)
case("rt.size", "def f(a, x):\n    return a * rt.size(x)\n", 0.7, u(-1, 1, (2, 3)))
case(
    "rt.unflatten_like",
    "def f(c, out):\n    return np.sum(np.sin(rt.unflatten_like(c, out)) * out)\n",
    u(-1, 1, (6,)),
    u(-1, 1, (2, 3)),
)
case(
    "rt.columns_to_jacobian",
    "def f(columns, x):\n    return np.sum(np.sin(rt.columns_to_jacobian(columns, x)) * x)\n",
    u(-1, 1, (3, 2)),
    u(-1, 1, (3,)),
)
case(
    "rt.rows_to_jacobian",
    "def f(rows, out):\n    return np.sum(np.sin(rt.rows_to_jacobian(rows, out)))\n",
    u(-1, 1, (6, 3)),
    u(-1, 1, (2, 3)),
)

# ---- shape and order (s2sjax/rules/ordering.py) ----
# Weights that differ per entry, so that an adjoint put in the wrong place shows.
W234 = "np.arange(1.0, 25.0).reshape(2, 3, 4)"
A234 = R.permutation(24).reshape(2, 3, 4) / 10.0 - 1.0  # distinct entries: no ties in a sort
for name, call, weights in (
    ("moveaxis", "np.moveaxis(a, 0, 2)", "np.arange(1.0, 25.0).reshape(3, 4, 2)"),
    ("swapaxes", "np.swapaxes(a, 0, -1)", "np.arange(1.0, 25.0).reshape(4, 3, 2)"),
    ("rollaxis", "np.rollaxis(a, 2, 1)", "np.arange(1.0, 25.0).reshape(2, 4, 3)"),
    ("repeat", "np.repeat(a, 2, axis=1)", "np.arange(1.0, 49.0).reshape(2, 6, 4)"),
    ("flip", "np.flip(a, 1)", W234),
    ("roll", "np.roll(a, -1, axis=2)", W234),
    ("sort", "np.sort(a)", W234),
    ("partition", "np.partition(a, 1)[:, :, :2]", "np.arange(1.0, 13.0).reshape(2, 3, 2)"),
    ("atleast_3d", "np.atleast_3d(a)", W234),
    ("expand_dims", "np.expand_dims(a, 1)", "np.arange(1.0, 25.0).reshape(2, 1, 3, 4)"),
):
    case(f"np.{name}", f"def f(a):\n    return np.sum(np.sin({call}) * {weights})\n", A234)
M34 = R.permutation(12).reshape(3, 4) / 7.0 - 0.8
for name, call in (
    ("triu", "np.triu(a, 1)"),
    ("tril", "np.tril(a, -1)"),
    ("diag", "np.diag(a, 1)"),
    ("fliplr", "np.fliplr(a)"),
    ("flipud", "np.flipud(a)"),
    ("rot90", "np.rot90(a, 3)"),
    ("atleast_2d", "np.atleast_2d(a[0])"),
    ("atleast_1d", "np.atleast_1d(a)"),
    ("identity", "a[:, :3] @ np.identity(3)"),
    ("broadcast_to", "np.broadcast_to(a[:, :1], (3, 4))"),
):
    case(f"np.{name}", f"def f(a):\n    return np.sum(np.sin({call}) ** 2)\n", M34)
case(
    "np.diag",
    "def f(v):\n    return np.sum(np.sin(np.diag(v, -1)) * np.arange(1.0, 17.0).reshape(4, 4))\n",
    u(-1, 1, (3,)),
)
for name in ("atleast_1d", "atleast_2d", "atleast_3d", "expand_dims"):
    extra = ", 0" if name == "expand_dims" else ""
    case(f"np.{name}", f"def f(x):\n    return np.sum(np.sin(np.{name}(x{extra})))\n", 0.7)
case("np.broadcast_to", "def f(x):\n    return np.sum(np.sin(np.broadcast_to(x, (3,))))\n", 0.7)
case(
    "np.repeat",
    "def f(a):\n    return np.sum(np.sin(np.repeat(a, 3)) * np.arange(1.0, 10.0))\n",
    u(-1, 1, (3,)),
)
case(
    "rt.flatten", "def f(a):\n    return np.sum(np.sin(a.flatten()) * np.arange(1.0, 13.0))\n", M34
)
case(
    "rt.diagonal_adjoint",
    "def f(v, a):\n    return np.sum(np.sin(rt.diagonal_adjoint(v, a, 1)) * a)\n",
    u(-1, 1, (3,)),
    M34,
)
case(
    "rt.repeat_adjoint",
    "def f(v, a):\n    return np.sum(np.sin(rt.repeat_adjoint(v, a, 2, 0)) * a)\n",
    u(-1, 1, (6, 4)),
    M34,
)
for name in ("gather_matching", "scatter_matching"):
    case(
        f"rt.{name}",
        f"def f(v, a):\n    return np.sum(np.sin(rt.{name}(v, a, np.sort(a))) * np.arange(12.0))\n",
        u(-1, 1, (12,)),
        R.permutation(12) / 5.0,
    )

case(
    "np.tile",
    f"def f(a):\n    return np.sum(np.sin(np.tile(a, (2, 1, 2))) * {W234})\n",
    u(-1, 1, (3, 2)),
)
case("np.tile", "def f(x):\n    return np.sum(np.sin(np.tile(x, 3)))\n", 0.7)
case(
    "rt.tile_adjoint",
    "def f(v, a):\n    return np.sum(np.sin(rt.tile_adjoint(v, a)) * a)\n",
    u(-1, 1, (2, 3, 4)),
    M34[:, :2],
)

case(
    "np.pad",
    "def f(a):\n"
    "    return np.sum(np.sin(np.pad(a, ((1, 0), (0, 2)))) * np.arange(24.0).reshape(4, 6))\n",
    M34,
)
case(
    "rt.unpad",
    "def f(v, a):\n    return np.sum(np.sin(rt.unpad(v, a, (1, 2))) * a)\n",
    u(-1, 1, (6, 7)),
    M34,
)

# ---- np.linalg (s2sjax/rules/decompositions.py): small matrices, well conditioned, distinct
# eigenvalues and singular values; eigh reads one triangle (the other's derivative is zero).
SQUARE = np.array([[2.0, 0.3, 0.1], [0.4, 1.0, 0.2], [0.1, 0.5, -1.0]]) + u(-0.1, 0.1, (3, 3))
TALL = np.array([[1.5, 0.2], [0.3, -1.0], [0.4, 0.6]]) + u(-0.1, 0.1, (3, 2))
WEIGHTS = "np.arange(1.0, 10.0).reshape(3, 3)"
case(
    "np.linalg.solve",
    "def f(a, b):\n    return np.sum(np.sin(np.linalg.solve(a, b)))\n",
    SQUARE,
    u(-1, 1, (3,)),
)
case(
    "np.linalg.solve",
    "def f(a, b):\n    return np.sum(np.sin(np.linalg.solve(a, b)))\n",
    SQUARE,
    u(-1, 1, (3, 2)),
)
for _name in ("inv", "cholesky", "pinv"):
    _arg = SQUARE @ SQUARE.T if _name == "cholesky" else TALL if _name == "pinv" else SQUARE
    case(
        f"np.linalg.{_name}",
        f"def f(a):\n    return np.sum(np.sin(np.linalg.{_name}(a)))\n",
        _arg + np.triu(u(-0.1, 0.1, (3, 3))) if _name == "cholesky" else _arg,
    )
case("np.linalg.det", "def f(a):\n    return np.linalg.det(a)\n", SQUARE)
case(
    "np.linalg.slogdet",
    "def f(a):\n    sign, logdet = np.linalg.slogdet(a)\n    return sign * logdet\n",
    SQUARE,
)
case(
    "np.linalg.eigh",
    f"def f(a):\n    w, v = np.linalg.eigh(a.T, 'L')\n"
    f"    return np.sum(np.sin(w)) + np.sum(np.sin(v) * {WEIGHTS})\n",
    SQUARE,
)
case(
    "np.linalg.svd",
    "def f(a):\n    u, s, vh = np.linalg.svd(a, full_matrices=False)\n"
    "    return np.sum(np.sin(u)) + np.sum(np.sin(s))"
    " + np.sum(np.sin(vh) * np.arange(4.0).reshape(2, 2))\n",
    TALL,
)
case(
    "np.linalg.svd",
    "def f(a):\n    return np.sum(np.linalg.svd(a, compute_uv=False) ** 3)\n",
    TALL.T,
)
for _expr, _arg in (  # the 2-norm, along an axis, a p-norm, the nuclear norm (case 3), inf
    ("np.linalg.norm(x)", u(-1, 1, (2, 3))),
    ("np.sum(np.linalg.norm(x, axis=1) * np.arange(1.0, 3.0))", u(-1, 1, (2, 3))),
    ("np.linalg.norm(x, 3) + np.linalg.norm(x, ord=1)", u(0.2, 1, (4,)) * np.array([1, -1, 1, -1])),
    ("np.linalg.norm(x, 'nuc') + np.linalg.norm(x, 'fro')", TALL),
    (
        "np.sum(np.linalg.norm(x, axis=(0, 1)) * np.arange(1.0, 4.0))"
        " + np.linalg.norm(x[0, 1], np.inf)",
        u(-1, 1, (2, 2, 3)),
    ),
):
    case("np.linalg.norm", f"def f(x):\n    return {_expr}\n", _arg)
case("rt.norm_vector", "def f(x):\n    return np.sum(np.sin(rt.norm_vector(x)))\n", u(-1, 1, (3,)))
case("rt.det_sign", "def f(a, x):\n    return x * rt.det_sign(a)\n", SQUARE, 0.7)
case(
    "rt.solve",
    "def f(a, b):\n    return np.sum(np.sin(rt.solve(a, b)))\n",
    SQUARE,
    u(-1, 1, (3, 2)),
)
case("rt.log_abs_det", "def f(a):\n    return rt.log_abs_det(a)\n", SQUARE)
for _name in ("from_triangle", "to_triangle"):
    case(
        f"rt.{_name}",
        f"def f(a):\n    return np.sum(np.sin(rt.{_name}(a, 'U')) * {WEIGHTS})\n",
        SQUARE,
    )
case(
    "rt.tril_halved",
    f"def f(a):\n    return np.sum(np.sin(rt.tril_halved(a)) * {WEIGHTS})\n",
    SQUARE,
)
for _part in ("values", "vectors"):
    case(
        f"rt.eigh_{_part}",
        f"def f(a):\n    return np.sum(np.sin(rt.eigh_{_part}(a, 'L')))\n",
        SQUARE,
    )
for _part, _adjoint_seed, _tangent_seed in (
    ("values", (3,), (3, 3)),
    ("vectors", (3, 3), (3, 3)),
):  # the matrix a constant: the derivatives of these helpers are in their seed only
    for _form, _shape in (("adjoint", _adjoint_seed), ("tangent", _tangent_seed)):
        case(
            f"rt.eigh_{_part}_{_form}",
            f"def f(s):\n    a = np.array({SQUARE.round(2).tolist()})\n"
            f"    return np.sum(np.sin(rt.eigh_{_part}_{_form}(s, a, 'L')))\n",
            u(-1, 1, _shape),
        )
for _part in ("u", "s", "vh"):
    _extra = "" if _part == "s" else ", False"
    case(
        f"rt.svd_{_part}",
        f"def f(a):\n    return np.sum(np.sin(rt.svd_{_part}(a{_extra})))\n",
        TALL,
    )
    _shapes = {"u": (3, 2), "s": (2,), "vh": (2, 2)}
    for _form, _shape in (("adjoint", _shapes[_part]), ("tangent", (3, 2))):
        case(
            f"rt.svd_{_part}_{_form}",
            f"def f(s):\n    a = np.array({TALL.round(2).tolist()})\n"
            f"    return np.sum(np.sin(rt.svd_{_part}_{_form}(s, a)))\n",
            u(-1, 1, _shape),
        )
for _form, _shape in (("adjoint", (2, 3)), ("tangent", (3, 2))):
    case(
        f"rt.pinv_{_form}",
        f"def f(s):\n    a = np.array({TALL.round(2).tolist()})\n"
        f"    return np.sum(np.sin(rt.pinv_{_form}(s, a, np.linalg.pinv(a))))\n",
        u(-1, 1, _shape),
    )
# ---- end of np.linalg
# ---- np.linalg on stacks of matrices (passes/linalg_stacks.py): a loop over the stack. Own
# random numbers, so that the cases after these keep theirs.
_STACKS = np.random.default_rng(11)
_SPD_STACK = np.array([SQUARE @ SQUARE.T, SQUARE.T @ SQUARE]) + _STACKS.uniform(
    -0.1, 0.1, (2, 3, 3)
)
case(  # a rank-4 stack: its leading axes raveled
    "np.linalg.inv",
    "def f(a):\n    return np.sum(np.sin(np.linalg.inv(a))) + np.sum(np.linalg.det(a))\n",
    _SPD_STACK.reshape(2, 1, 3, 3),
)
case(  # two functions per case: one stacked loop of four compiles for minutes
    "np.linalg.slogdet",
    "def f(a):\n    return np.sum(np.linalg.slogdet(a)[1] * np.arange(1.0, 3.0))"
    " + np.sum(np.linalg.cholesky(a))\n",  # cholesky reads the lower triangles
    _SPD_STACK,
)
case(  # b's stack of one broadcast along a's
    "np.linalg.solve",
    "def f(a, b):\n    return np.sum(np.sin(np.linalg.solve(a, b)))\n",
    _SPD_STACK,
    _STACKS.uniform(-1, 1, (1, 3, 2)),
)
case(
    "np.linalg.eigh",
    f"def f(a):\n    w, v = np.linalg.eigh(a)\n"
    f"    return np.sum(np.sin(w)) + np.sum(np.sin(v) * {WEIGHTS})\n",
    _SPD_STACK,
)
case(
    "np.linalg.svd",
    "def f(a):\n    u, s, vh = np.linalg.svd(a, full_matrices=False)\n"
    "    return np.sum(np.sin(u)) + np.sum(np.sin(s)) + np.sum(np.sin(vh) * np.arange(1.0, 5.0)"
    ".reshape(2, 2))\n",
    np.array([TALL, TALL[::-1]]),
)
case(
    "np.linalg.pinv",
    "def f(a):\n    return np.sum(np.sin(np.linalg.pinv(a)))\n",
    np.array([TALL, TALL[::-1]]),
)
case(
    "rt.broadcast_dimension",
    "def f(a):\n    return a * rt.broadcast_dimension(1, 3)\n",
    0.7,
)
case(  # the 4th matrix of a (2, 3) stack lies at 1 in an operand whose stack is (3,)
    "rt.stack_position",
    "def f(a):\n    return a * rt.stack_position(4, (2, 3), (3,))\n",
    0.7,
)
case(  # the nuclear norms of a stack of matrices along axes 2 and 0
    "np.linalg.norm",
    "def f(x):\n    return np.sum(np.linalg.norm(x, 'nuc', (2, 0)) * np.arange(1.0, 3.0))\n",
    np.moveaxis(np.array([TALL, TALL[::-1]]), 0, 1),
)
case(
    "np.linalg.multi_dot",
    "def f(a, b, c):\n    return np.sum(np.sin(np.linalg.multi_dot([a, b, c])))\n",
    _STACKS.uniform(-1, 1, (3,)),
    TALL,
    _STACKS.uniform(-1, 1, (2, 2)),
)
case(
    "np.linalg.qr",
    "def f(a):\n    q, r = np.linalg.qr(a)\n"
    "    return np.sum(np.sin(q)) + np.sum(np.sin(r) * np.arange(1.0, 5.0).reshape(2, 2))\n",
    TALL,
)
for _part in ("q", "r"):
    case(f"rt.qr_{_part}", f"def f(a):\n    return np.sum(np.sin(rt.qr_{_part}(a)))\n", TALL)
    for _form, _shape in (("adjoint", (3, 2) if _part == "q" else (2, 2)), ("tangent", (3, 2))):
        case(
            f"rt.qr_{_part}_{_form}",
            f"def f(s):\n    a = np.array({TALL.round(2).tolist()})\n"
            f"    return np.sum(np.sin(rt.qr_{_part}_{_form}(s, a)))\n",
            _STACKS.uniform(-1, 1, _shape),
        )


def test_eig_is_refused_with_why():
    def f(a):
        return np.sum(np.linalg.eig(a)[0])

    with pytest.raises(s2sjax.TransformError, match="complex") as error:
        s2sjax.grad(f, target="python")(np.eye(2))
    assert "np.linalg.eigh" in str(error.value)


# ---- end of np.linalg on stacks of matrices

# ---- lstsq family: np.linalg.lstsq (s2sjax/rules/lstsq.py), np.gradient's forms. Own random
# numbers, so that later cases keep theirs.
_LSTSQ = np.random.default_rng(18)
_LSTSQ_A = np.array([[1.5, 0.2], [0.3, -1.0], [0.4, 0.6], [-0.7, 0.9]]) + _LSTSQ.uniform(
    -0.1, 0.1, (4, 2)
)
case(  # the rank beside the solution (the singular values are rt.svd_s's)
    "np.linalg.lstsq",
    "def f(a, b):\n    x, residuals, rank, s = np.linalg.lstsq(a, b, rcond=None)\n"
    "    return np.sum(np.sin(x)) * rank\n",
    _LSTSQ_A,
    _LSTSQ.uniform(-1, 1, (4,)),
)
case(
    "rt.lstsq_solution",
    "def f(a, b):\n    return np.sum(np.sin(rt.lstsq_solution(a, b, None)))\n",
    _LSTSQ_A,
    _LSTSQ.uniform(-1, 1, (4, 2)),
)
case("rt.lstsq_gram", "def f(a):\n    return np.sum(np.sin(rt.lstsq_gram(a)))\n", _LSTSQ_A)
case(
    "rt.lstsq_residuals",
    f"def f(x):\n    a = np.array({_LSTSQ_A.round(2).tolist()})\n"
    "    return x * x * np.sum(rt.lstsq_residuals(a, np.arange(4.0), None))\n",
    0.7,
)
case("rt.lstsq_rank", "def f(a, x):\n    return x * rt.lstsq_rank(a, 1e-10)\n", _LSTSQ_A, 0.7)
case(  # without an axis, of a parameter's known rank: one array per axis; one spacing for all
    "np.gradient",
    "def f(x, h):\n    a, b = np.gradient(x, h)\n    return np.sum(np.sin(a) * b)\n",
    _LSTSQ.uniform(-1, 1, (3, 3)),
    0.7,
)
case("rt.scalar_spacing", "def f(h):\n    return np.sin(rt.scalar_spacing(h))\n", 0.7)


def test_lstsq_residuals_derivative_is_refused_with_why():
    def f(a, b):
        return np.sum(np.linalg.lstsq(a, b)[1])

    with pytest.raises(s2sjax.TransformError, match="residuals empty"):
        s2sjax.grad(f, target="python")(_LSTSQ_A, np.arange(4.0))


def test_lstsq_derivative_of_a_wide_matrix_is_an_error():
    def f(a, b):
        return np.sum(np.linalg.lstsq(a, b)[0])

    with pytest.raises(ValueError, match="fewer rows than columns"):
        s2sjax.grad(f, target="python")(_LSTSQ_A.T, np.arange(2.0))


# ---- end of the lstsq family

# Integer arguments (not differentiated) meeting floats: powers, products, quotients, trip counts.
case("**", "def f(a, n):\n    return a ** n + np.sum(np.full(3, a) ** n)\n", 0.7, 3)
case("*", "def f(x, n):\n    return np.sum(x * n) + n * x[0]\n", u(-1, 1, (3,)), 2)
case("/", "def f(x, n):\n    return np.sum(x / n) + x[0] / n\n", u(-1, 1, (3,)), 4)
case(
    "range",
    "def f(a, n):\n    s = a\n    for i in range(n):\n        s = s * a + i\n    return s\n",
    0.8,
    3,
)

# ---- products (s2sjax/rules/products.py) ----
case(  # vectors along a's columns and b's rows; b's stack broadcast against a's
    "np.cross",
    "def f(a, b):\n"
    "    return np.sum(np.sin(np.cross(a, b, axisa=0, axisc=0)) * np.arange(1.0, 3.0))\n",
    u(-1, 1, (3, 2)),
    u(-1, 1, (1, 3)),
)
case(  # a vector by a matrix: np.kron pads the vector to a row
    "np.kron",
    "def f(a, b):\n    return np.sum(np.sin(np.kron(a, b)))\n",
    u(-1, 1, (3,)),
    u(-1, 1, (2, 2)),
)
case(
    "np.kron",
    "def f(a, b):\n    return np.sum(np.kron(a, b) * np.arange(1.0, 5.0))\n",
    0.7,
    u(-1, 1, (4,)),
)
for side in ("a", "b"):  # a 2 x 3 kron 2 x 2 adjoint
    case(
        f"rt.kron_adjoint_{side}",
        f"def f(g, a, b):\n    return np.sum(np.sin(rt.kron_adjoint_{side}(g, a, b)))\n",
        u(-1, 1, (4, 6)),
        u(-1, 1, (2, 3)),
        u(-1, 1, (2, 2)),
    )
case(  # a contraction, a naked sum over n (only in b) and an implicit output ('ij,jk' -> 'ik')
    "np.einsum",
    "def f(a, b):\n"
    "    return np.sum(np.sin(np.einsum('ij,jk', a, b))) + np.einsum('k,nk->', a[0], b.T)\n",
    u(-1, 1, (2, 3)),
    u(-1, 1, (3, 2)),
)

# ---- ufuncs family: NumPy spellings, real parts, functions with no derivative, scipy.special
for name in ("reciprocal", "deg2rad", "radians", "rad2deg", "degrees", "conjugate"):
    case(f"np.{name}", f"def f(x):\n    return np.sum(np.sin(np.{name}(x)))\n", u(0.3, 2.0, (3,)))
for name in ("radians", "degrees"):
    case(f"math.{name}", f"def f(x):\n    return math.sin(math.{name}(x))\n", 0.7)
case(
    "np.sinc",
    "def f(x):\n    return np.sum(np.sinc(x) * np.arange(1.0, 4.0))\n",
    np.array([0.05, -0.7, 1.3]),
)
for name in ("fmax", "fmin"):  # no ties
    case(
        f"np.{name}",
        f"def f(a, b):\n    return np.sum(np.{name}(a, b) * np.arange(1.0, 5.0))\n",
        np.array([0.1, 0.9, -0.5, 2.0]),
        np.array([0.5, 0.2, 0.3, 1.0]),
    )
for name in ("real", "imag", "angle"):
    case(
        f"np.{name}",
        f"def f(x):\n    return np.sum(np.{name}(x) * x + x)\n",
        np.array([0.3, -0.8, 1.1]),
    )
for name in ("isnan", "isfinite", "isinf"):
    case(
        f"np.{name}",
        f"def f(x):\n    return np.sum(np.where(np.{name}(x / x), x * x, x))\n",
        u(0.3, 2.0, (3,)),
    )
    case(f"math.{name}", f"def f(x):\n    return x * x if math.{name}(x) else x\n", 0.7)
case(
    "np.isclose",
    "def f(a, b):\n    return np.sum(np.where(np.isclose(a, b, atol=0.5), a * b, a))\n",
    np.array([0.3, -0.8, 1.1]),
    np.array([0.4, 0.5, 1.2]),
)
case(
    "np.allclose",
    "def f(a, b):\n    return np.sum(a * b) if np.allclose(a, b, 0.0, 0.5) else np.sum(a)\n",
    np.array([0.3, -0.8, 1.1]),
    np.array([0.4, -0.5, 1.2]),
)
for name in ("argmax", "argmin"):
    case(
        f"np.{name}",
        f"def f(x):\n    return x[np.{name}(x)] * np.sum(x[np.{name}(x.reshape(2, 2), axis=0)])\n",
        np.array([0.3, -0.8, 1.1, 0.5]),
    )
for function, symbol in (
    ("equal", "=="),
    ("not_equal", "!="),
    ("less", "<"),
    ("less_equal", "<="),
    ("greater", ">"),
    ("greater_equal", ">="),
):
    case(
        f"np.{function}",
        f"def f(a, b):\n    return np.sum(np.where(np.{function}(a, b), a * b, a))\n",
        np.array([0.3, -0.8, 1.1]),
        np.array([0.4, -0.9, 1.2]),
    )
for function in ("eq", "ne", "lt", "le", "gt", "ge"):
    case(
        f"operator.{function}",
        f"def f(a, b):\n    return a * b if operator.{function}(a, b) else a - b\n",
        0.3,
        0.8,
    )
case("abs", "def f(a):\n    return operator.abs(a) * 2.0\n", -0.7)  # the builtin's rule
for name, lo, hi in (
    ("gammaln", 0.3, 3.0),
    ("digamma", 0.3, 3.0),
    ("erf", -1.5, 1.5),
    ("erfc", -1.5, 1.5),
    ("expit", -3.0, 3.0),
    ("logit", 0.1, 0.9),
):
    case(f"rt.{name}", f"def f(x):\n    return np.sum(scipy.special.{name}(x))\n", u(lo, hi, (3,)))
case(
    "rt.polygamma", "def f(x):\n    return np.sum(scipy.special.polygamma(1, x))\n", u(0.3, 3, (3,))
)
case("rt.digamma", "def f(x):\n    return scipy.special.psi(x) * x\n", 1.3)
case(
    "rt.xlogy",
    "def f(x, y):\n    return np.sum(scipy.special.xlogy(x, y))\n",
    np.array([[0.3, 1.2], [0.7, 2.0]]),
    np.array([0.5, 1.5]),
)
case("rt.xlogy", "def f(x, y):\n    return scipy.special.xlogy(x, y)\n", 0.7, 1.3)
case("math.lgamma", "def f(x):\n    return math.lgamma(x)\n", 1.3)
case("math.erfc", "def f(x):\n    return math.erfc(x)\n", 0.4)
case(
    "rt.fmax_weight",
    "def f(a, b):\n    return np.sum(a * rt.fmax_weight(a, b) + b * rt.fmax_weight(b, a))\n",
    np.array([0.1, 0.9]),
    np.array([0.5, 0.2]),
)
# both branches: the series near 0, the quotient
case("rt.sinc_slope", "def f(x):\n    return np.sum(rt.sinc_slope(x))\n", np.array([0.05, -0.7]))
case(
    "rt.sinc_curvature",
    "def f(v):\n    return np.sum(np.sin(rt.sinc_curvature(v, np.array([0.05, -0.7]))))\n",
    np.array([0.4, 1.2]),
)

# ---- stacking: joining and splitting arrays (rules/stacking.py) ----
# Each result is weighed by `c`, shaped like it, so that a piece put in the wrong place shows.
for name, call, shapes in (
    ("concatenate", "np.concatenate((a, b, a), axis=1)", ((2, 2), (2, 1), (2, 5))),
    ("stack", "np.stack([a, b], axis=1)", ((3,), (3,), (3, 2))),
    ("hstack", "np.hstack((a, b))", ((2,), (3,), (5,))),
    ("vstack", "np.vstack((a, b))", ((1, 3), (3,), (2, 3))),
    ("dstack", "np.dstack([a, b])", ((2, 2, 1), (2, 2), (2, 2, 2))),
    ("column_stack", "np.column_stack((a, b))", ((2,), (2, 2), (2, 3))),
    ("append", "np.append(a, b)", ((2, 2), (1,), (5,))),
):
    case(
        f"np.{name}",
        f"def f(a, b, c):\n    return np.sum(np.sin({call}) * c)\n",
        *(u(-1, 1, shape) for shape in shapes),
    )
case(
    "np.hstack",
    "def f(a, b):\n    return np.sum(np.hstack((a, 2.0, b * a)) * np.arange(3.0))\n",
    0.3,
    0.8,
)
case(
    "np.append",
    "def f(a, b):\n    return np.sum(np.append(np.append(a, b), a) * np.arange(3.0))\n",
    0.3,
    0.8,
)
for name, call, shape in (
    ("split", "np.split(a, 2, axis=1)", (2, 4)),
    ("array_split", "np.array_split(a, [1], axis=-1)", (2, 3)),
    ("hsplit", "np.hsplit(a, 2)", (2, 4)),
    ("vsplit", "np.vsplit(a, [1])", (3, 2)),
    ("dsplit", "np.dsplit(a, 2)", (1, 2, 4)),
):
    case(
        f"np.{name}",
        f"def f(a):\n    p, q = {call}\n    return np.sum(np.sin(p)) + np.sum(q * q * q)\n",
        u(-1, 1, shape),
    )
case(
    "np.array_split",
    "def f(a):\n    p = np.array_split(a, 3)\n"
    "    return np.sum(p[1] * p[2]) + np.sum(np.cos(p[0]))\n",
    u(-1, 1, (7,)),
)
case(
    "rt.empty_joined",
    "def f(a, x):\n    e = rt.empty_joined((3,), (x, a))\n    e[:2] = x\n    e[2] = a\n"
    "    return np.sum(e * e)\n",
    0.7,
    u(-1, 1, (2,)),
)
case("rt.section_start", "def f(a):\n    return a * rt.section_start(7, 3, 2, False)\n", 0.7)
# ---- small: joins' shape checks, a join of one array's rows ----
case(
    "rt.joined_length",
    "def f(a):\n    return np.sum(a) * rt.joined_length(a.shape, (2,), 1, False)\n",
    u(-1, 1, (2, 3)),
)
# a join given one array joins its rows: a move of its axis 0, a copy, a reshape
for name, call, shapes in (
    ("concatenate", "np.concatenate(a, axis=1)", ((2, 2, 3), (2, 6))),
    ("dstack", "np.dstack(a)", ((2, 3), (1, 3, 2))),
):
    case(
        f"np.{name}",
        f"def f(a, c):\n    return np.sum(np.sin({call}) * c)\n",
        *(u(-1, 1, shape) for shape in shapes),
    )
case(
    "tuple",
    "def f(a, b):\n    t = tuple((a, b * a))\n    return np.sum(t[0] * t[1])\n",
    u(-1, 1, (2,)),
    0.7,
)
case(
    "np.squeeze",
    "def f(a):\n"
    "    b = np.squeeze(a, axis=(0, 2))\n"
    "    return np.sum(np.sin(b) * np.arange(3.0)) + np.sum(a.squeeze(-1) ** 2)\n",
    u(-1, 1, (1, 3, 1)),
)
case("rt.squeeze", "def f(a):\n    return 1.5 * rt.squeeze(a, (0,)) ** 2\n", u(-1, 1, (1,)))
case(
    "np.select",
    "def f(a, b):\n    return np.sum(np.select([a > 0.5, a < -0.2], [a * b, np.sin(a)], b * b))\n",
    np.array([0.7, -0.5, 0.1]),
    u(-1, 1, (3,)),
)
case(
    "np.nan_to_num",
    "def f(a):\n    return np.sum(np.nan_to_num(a, nan=1.0, posinf=2.0) ** 2 * np.arange(3.0))\n",
    u(-1, 1, (3,)),
)
case("np.nan_to_num", "def f(a):\n    return np.sin(np.nan_to_num(a)) * a\n", 0.4)
for name in ("iscomplex", "isreal", "iscomplexobj", "isrealobj"):
    case(
        f"np.{name}",
        "def f(a):\n    r = np.where(np.iscomplex(a), 2.0 * a, a * a) * np.isreal(a)\n"
        "    s = 3.0 if np.iscomplexobj(a) or not np.isrealobj(a) else 1.0\n"
        "    return np.sum(r) * s\n",
        u(-1, 1, (2,)),
    )

# ---- sequences: builtins over lists and tuples known element by element (rules/sequences.py) ----
case(
    "sum",
    "def f(a, b):\n"
    "    s = sum([a * b, np.sin(b)], b) + sum(v * v for v in (a, b))\n"
    "    return np.sum(s) * max([a, 0.2, 0.1 * a]) + min(a, 0.9, a * a)\n",
    0.7,
    u(-1, 1, (2,)),
)
case("math.fsum", "def f(a, b):\n    return math.fsum((a * b, np.sin(a), b))\n", 0.4, 0.7)
case("divmod", "def f(a):\n    q, r = divmod(a * 3.0 + 5.0, 2.0)\n    return r * r + q * a\n", 0.4)
for name in ("any", "all"):
    case(
        name,
        "def f(a, n):\n"
        "    k = sorted([3, 2, 0])\n"
        "    return np.sum(a * k[1] if any([n > 5, n < k[1]]) and all((n < 9, True)) else a * a)\n",
        u(-1, 1, (2,)),
        1,
    )
case(
    "sorted",
    "def f(a, b):\n    d = {'w': a, 'b': b}\n    t = 0.0\n"
    "    for i, k in enumerate(sorted(d)):\n        t = t + np.sum(np.sin(d[k])) * (i + 1.0)\n"
    "    return t + np.sum(d.get('w', b) * d.get('z', b))\n",
    u(-1, 1, (2,)),
    0.7,
)

# ---- indexing: gathers and updates at arrays of indices, masks, mixed indices and `...` ----
# A gather's adjoint adds at the flat positions it read (rt.index_positions): repeats accumulate.
case(
    "rt.index_positions",  # a repeated index beside a slice, `...`, a mask beside a slice
    "def f(x):\n"
    "    w = np.arange(1.0, 7.0).reshape(2, 3)\n"
    "    y = np.sum(np.sin(x[:, np.array([2, 0, 2])]) * w) + np.sum(x[..., 1] ** 2)\n"
    "    return y + np.sum(np.cos(x[x[:, 0] > 0.0, 1:]))\n",
    np.array([[0.6, -0.3, 1.1, 0.2], [-0.8, 0.4, -1.2, 0.9]]),
)
case(
    "rt.index_positions",  # a list of indices, an int beside an array, two arrays together
    "def f(x):\n"
    "    y = np.sum(np.sin(x[[0, 2, 2], 1:]) * np.arange(1.0, 7.0).reshape(3, 2))\n"
    "    return y + np.sum(x[1, np.array([0, 2])] ** 3) + np.sum(np.cos(x[[1, 1], [0, 2]]))\n",
    u(-1, 1, (3, 3)),
)
# An update at an array of indices keeps the last value stored at a repeated index; `+=` there
# adds once (NumPy's semantics): only the last write gets the adjoint (rt.index_last_writes).
case(
    "rt.index_last_writes",
    "def f(x, v):\n"
    "    y = np.zeros(5)\n"
    "    y[np.array([1, 3, 1])] = v\n"
    "    y[np.array([0, 0, 4])] += x[:3]\n"
    "    z = rt.index_last_writes(np.array([1, 0, 1]), x)\n"
    "    return np.sum(np.sin(y) * x) + np.sum(z**2)\n",
    u(-1, 1, (5,)),
    u(-1, 1, (3,)),
)
case(
    "rt.index_last_writes",  # a scalar stored under a mask
    "def f(a, x):\n    y = np.copy(x)\n    y[x > 0.0] = a\n    return np.sum(np.sin(y) * x)\n",
    0.7,
    np.array([0.3, -0.5, 0.9, 1.1, -0.2]),
)

# ---- reductions: tuples of axes, keepdims, var and std ----
_a2 = R.permutation(12).reshape(3, 4) / 7.0 + 0.5  # distinct entries: no ties
_a3 = R.permutation(12).reshape(2, 3, 2) / 7.0 + 0.5
for name, expr, arg in (
    ("sum", "np.sum(np.sin(x) * np.sum(x, axis=(0, 2), keepdims=True))", _a3),
    ("mean", "np.sum(np.mean(x, axis=(-1, -3)) * np.arange(1.0, 4.0))", _a3),
    ("prod", "np.sum(x.prod(axis=1, keepdims=True) * x)", _a2),
    ("max", "np.sum(x / x.max(axis=-1, keepdims=True))", _a2),
    ("min", "np.sum(np.sin(x - np.min(x, keepdims=True)))", _a2),
    ("var", "np.sum(np.var(x, axis=(0, 2), ddof=1, keepdims=True) * x)", _a3),
    ("std", "np.sum(x.std(axis=-1) * np.arange(1.0, 4.0))", _a2),
    # the defaults, written out as reductions over every axis (axis=None, keepdims=False)
    ("var", "np.var(x) + np.std(x, ddof=1) + np.sum(x, keepdims=False)", _a2),
):
    case(f"np.{name}", f"def f(x):\n    return {expr}\n", arg)
case(
    "rt.keep_dims",
    "def f(r, a):\n    return np.sum(np.sin(rt.keep_dims(r * r, a, -1)) * a)\n",
    u(-1, 1, (3,)),
    u(-1, 1, (3, 2)),
)
case(
    "rt.root_of_variance",
    "def f(v):\n    return np.sum(rt.root_of_variance(v * v + 0.5))\n",
    u(-1, 1, (3,)),
)
case("rt.root_of_variance", "def f(v):\n    return rt.root_of_variance(v * v + 0.5)\n", 0.7)
case(
    "rt.ddof_scale",
    "def f(a, x):\n    return a * rt.ddof_scale(x, (0,), 1)\n",
    0.7,
    u(-1, 1, (3, 2)),
)

# ---- along an axis: trace, diff, cumsum ----
for name, expr, arg in (
    ("np.trace", "np.sin(np.trace(x, 1))", u(-1, 1, (3, 4))),
    ("np.trace", "np.sum(np.sin(np.trace(x, -1)))", u(-1, 1, (3, 2, 2))),
    ("np.diff", "np.sum(np.diff(x) ** 2)", u(-1, 1, (4,))),
    ("np.diff", "np.sum(np.sin(np.diff(x, n=2, axis=0)))", u(-1, 1, (4, 2))),
    ("np.cumsum", "np.sum(np.sin(np.cumsum(x, axis=1)))", u(-1, 1, (2, 3))),
    ("np.cumsum", "np.sum(np.sin(np.cumsum(x)))", u(-1, 1, (2, 3))),
    ("rt.diagonal_mask", "np.sum(np.sin(x) * rt.diagonal_mask(x, 1))", u(-1, 1, (3, 4))),
    ("rt.diff_once", "np.sum(np.sin(rt.diff_once(x, -1)))", u(-1, 1, (2, 3))),
    ("np.gradient", "np.sum(np.sin(np.gradient(x)))", u(-1, 1, (4,))),
    ("rt.gradient_along", "np.sum(np.sin(rt.gradient_along(x, 0)))", u(-1, 1, (3, 2))),
):
    case(name, f"def f(x):\n    return {expr}\n", arg)
case(
    "np.gradient",
    "def f(x):\n    a, b = np.gradient(x, axis=(0, -1))\n    return np.sum(np.sin(a) * b)\n",
    u(-1, 1, (3, 3)),
)
for name, shape in (
    ("rt.cumsum_adjoint", (3, 2)),
    ("rt.diff_once_adjoint", (2, 2)),
    ("rt.gradient_adjoint", (3, 2)),
):
    case(
        name,
        f"def f(g, a):\n    return np.sum(np.sin({name}(g, a, 0)) * a)\n",
        u(-1, 1, shape),
        u(-1, 1, (3, 2)),
    )

# ---- products2: np.tensordot, np.inner, einsum's '...', products of rank 3, as np.einsum ----
case(  # a pair of axes, one negative: b's axes 1 and 0 are contracted with a's 0 and 1
    "np.tensordot",
    "def f(a, b):\n    return np.sum(np.sin(np.tensordot(a, b, axes=([0, 1], [-2, 0]))))\n",
    u(-1, 1, (3, 2)),
    u(-1, 1, (2, 3, 2)),
)
case(  # the last axes of a matrix and a vector
    "np.inner",
    "def f(a, b):\n    return np.sum(np.sin(np.inner(a, b)))\n",
    u(-1, 1, (2, 3)),
    u(-1, 1, (3,)),
)
case(
    "np.inner",
    "def f(a, b):\n    return np.sum(np.inner(a, b) * np.arange(1.0, 3.0))\n",
    0.7,
    u(-1, 1, (2,)),
)
case(  # '...' in the middle of a, leading in b; the implicit output puts its axes first
    "np.einsum",
    "def f(a, b):\n    return np.sum(np.sin(np.einsum('i...j,...jk', a, b)))\n",
    u(-1, 1, (2, 2, 3)),
    u(-1, 1, (2, 3, 2)),
)
case(  # a stack of matrices by a matrix; np.dot of a matrix by a stack
    "@",
    "def f(a, b):\n    return np.sum(np.sin(a @ b)) + np.sum(np.cos(np.dot(b, a)))\n",
    u(-1, 1, (2, 2, 3)),
    u(-1, 1, (3, 2)),
)

# ---- linalg speed: triangular solves with cholesky's factor (SQUARE's upper triangle unread)
case(
    "rt.solve_lower",
    "def f(a, b):\n    return np.sum(np.sin(rt.solve_lower(a, b)))\n",
    SQUARE,
    u(-1, 1, (3,)),
)
case(
    "rt.solve_lower_transposed",
    "def f(a, b):\n    return np.sum(np.sin(rt.solve_lower_transposed(a, b)))\n",
    SQUARE,
    u(-1, 1, (3, 2)),
)

# ---- stats family: scipy.stats.norm, loc broadcast along x, scale broadcast or a number
case(
    "rt.norm_logpdf",
    "def f(x, m, s):\n    return np.sum(scipy.stats.norm.logpdf(x, m, s) * np.arange(1.0, 4.0))\n",
    np.array([[0.3, -1.2, 2.0], [1.1, 0.4, -0.6]]),
    np.array([0.5, 0.7, -1.5]),
    1.3,
)
case(
    "rt.norm_pdf",
    "def f(x, m, s):\n    return scipy.stats.norm.pdf(x, loc=m, scale=s)\n",
    0.8,
    0.3,
    1.4,
)
case(
    "rt.norm_cdf",
    "def f(x, s):\n    return np.sum(scipy.stats.norm.cdf(x, 0.2, s) * np.arange(1.0, 4.0))\n",
    np.array([0.3, -1.2, 2.0]),
    np.array([0.9, 1.3, 0.7]),
)
# the far left tail, where the cdf itself underflows
for x in (-0.4, -41.0):
    case("rt.norm_logcdf", "def f(x, s):\n    return scipy.stats.norm.logcdf(x, scale=s)\n", x, 1.1)
# a point per row, and one point with the mean left out; cov positive definite
case(
    "scipy.stats.multivariate_normal.logpdf",
    "def f(x, m, c):\n    return np.sum(scipy.stats.multivariate_normal.logpdf(x, m, c))\n",
    np.array([[0.3, -0.2], [1.1, 0.4], [-0.7, 0.9]]),
    np.array([0.1, -0.3]),
    np.array([[1.3, 0.4], [0.4, 0.9]]),
)
case(
    "scipy.stats.multivariate_normal.pdf",
    "def f(x, c):\n    return scipy.stats.multivariate_normal.pdf(x, cov=c)\n",
    np.array([0.3, -0.2]),
    np.array([[1.3, 0.4], [0.4, 0.9]]),
)


# ---- reduce2 family: np.cumprod, scipy.special.logsumexp ----
case(
    "np.cumprod", "def f(x):\n    return np.sum(np.sin(np.cumprod(x, axis=1)))\n", u(-1, 1, (2, 3))
)
case("np.cumprod", "def f(x):\n    return np.sum(np.cos(x.cumprod()))\n", u(-1, 1, (2, 2)))
for name in ("rt.cumprod_adjoint", "rt.cumprod_tangent"):
    case(
        name,
        f"def f(v):\n    a = np.linspace(-1.5, 1.5, 6).reshape((3, 2))\n"
        f"    return np.sum(np.sin({name}(v, a, 0)))\n",
        u(-1, 1, (3, 2)),
    )
case(  # a tuple of axes kept, weights b broadcast along the rows; far from 0: exp would overflow
    "scipy.special.logsumexp",
    "def f(x):\n    c = scipy.special.logsumexp(x, axis=(0, 2), keepdims=True)\n"
    "    w = scipy.special.logsumexp(x[0] * 300.0, axis=0, b=x[1] + 2.0)\n"
    "    return np.sum(np.sin(c) * x) + w[1]\n",
    u(-1, 1, (2, 3, 2)),
)
case("scipy.special.logsumexp", "def f(x):\n    return scipy.special.logsumexp(x)\n", 0.7)
# quantiles of distinct entries (no ties): the derivative flows to the two neighbours
for name, expr, arg in (
    ("np.median", "np.sum(np.sin(np.median(x, axis=0))) + np.median(x)", _a2),
    ("np.percentile", "np.sum(np.percentile(x, 30.0, axis=1, keepdims=True) * x)", _a2),
    ("np.quantile", "np.quantile(x, 0.7) + np.sum(np.sin(np.quantile(x, 0.25, axis=-2)))", _a3),
    (
        "rt.quantile_neighbours",
        "np.sum(np.sin(np.ravel(x)[rt.quantile_neighbours(x, 0.3, -1)]))",
        _a2,
    ),
    ("rt.quantile_weights", "np.sum(np.sin(x[:, :2]) * rt.quantile_weights(x, 0.3, -1))", _a2),
):
    case(name, f"def f(x):\n    return {expr}\n", arg)
# gathers: a repeated index accumulates its adjoint
for name, expr in (
    ("np.take", "np.sum(np.sin(np.take(x, np.array([[2, 0], [2, 1]]), axis=1))) + np.take(x, 4)"),
    ("np.take", "np.sum(np.sin(np.take(x, np.array([1, 0, 1]), axis=-2)) * x[0])"),
    ("np.take_along_axis", "np.sum(np.sin(np.take_along_axis(x, np.array([[2, 2], [0, 1]]), 1)))"),
    (
        "rt.along_axis_positions",
        "np.sum(np.sin(np.ravel(x)[rt.along_axis_positions(x, np.array([5, 0, 5]), None)]))",
    ),
):
    case(name, f"def f(x):\n    return {expr}\n", u(-1, 1, (2, 3)))
# draws of np.random are constants; each case's value does not depend on the numbers drawn
for name, expr, arg in (
    ("randn", "np.sum(np.sin(x) * (1.0 + 0.0 * np.random.randn(2, 3)))", u(-1, 1, (2, 3))),
    (
        "standard_normal",
        "np.sum(np.sin(x) + 0.0 * np.random.standard_normal((2,)))",
        u(-1, 1, (2,)),
    ),
    ("rand", "np.sin(x) * (1.0 + 0.0 * np.random.rand())", 0.4),
    ("random", "np.sum(np.sin(x) * (1.0 + 0.0 * np.random.random(3)))", u(-1, 1, (3,))),
    ("normal", "np.sin(x) + 0.0 * np.random.normal(1.0, 2.0)", 0.4),
    ("uniform", "np.sum(np.sin(x) * np.random.uniform(2.0, 2.0, 3))", u(-1, 1, (3,))),
    ("choice", "np.sum(np.sin(x[np.random.choice(1, 2)]))", u(-1, 1, (3,))),
):
    case(f"np.random.{name}", f"def f(x):\n    return {expr}\n", arg)
# ---- forms: np.r_ and np.c_ as joins, einsum's sublists ----
case(
    "np.concatenate",
    "def f(a, b):\n    return np.sum(np.sin(np.r_[a, b, 0:2, 1.5]) * np.r_[1.0:8.0])\n",
    u(-1, 1, (3,)),
    0.4,
)
case(
    "np.column_stack",
    "def f(a, b):\n    return np.sum(np.cos(np.c_[a, b * a[0]]) * np.arange(9.0).reshape(3, 3))\n",
    u(-1, 1, (3,)),
    u(-1, 1, (3, 2)),
)
case(
    "np.einsum",
    "def f(a, b):\n"
    "    return np.sum(np.sin(np.einsum(a, (0, 1), b, [1, Ellipsis], [Ellipsis, 0])))\n",
    u(-1, 1, (2, 3)),
    u(-1, 1, (3, 2)),
)
case(  # `@` with batch axes on both operands, size-1 ones broadcast
    "rt.batch_matmul",
    "def f(a, b):\n    return np.sum(np.sin(a @ b))\n",
    u(-1, 1, (1, 2, 2)),
    u(-1, 1, (3, 2, 1)),
)

# ---- objects: list() and dict() constructors, isinstance on an argument (rules/objects.py) ----
case(
    "list",
    "def f(a, b):\n"
    "    t = list((a, b * a))\n"
    "    d = dict(w=t[0], v=t[1])\n"
    "    s = 2.0 if isinstance(b, float) else 1.0\n"
    "    return np.sum(d['w'] * d['v']) * s\n",
    u(-1, 1, (2,)),
    0.7,
)
case(
    "slice",
    "def f(a):\n    s = slice(1, None)\n    return np.sum(np.sin(a[s]) * a[slice(2)])\n",
    u(-1, 1, (3,)),
)
# ---- end of objects

# ---- procedures (a parameter's `+=` given back to the caller: rt.written_back) ----
case(
    "rt.written_back",
    "def f(x):\n    u = x.copy()\n    bump(u, x)\n"
    "    return np.sum(u * x * np.arange(1.0, 4.0))\n\n\n"
    "def bump(u, v):\n    u += v * v\n",
    np.array([0.4, -0.8, 1.1]),
)
case(
    "rt.written_back",
    "def f(x):\n    s = x * 2.0\n    t = bump(s, x)\n    return s * t\n\n\n"
    "def bump(s, v):\n    s += v\n    return s\n",
    0.7,
)

CASES = [
    (name, i, src, args)
    for name, entries in sorted(RULE_CASES.items())
    for i, (src, args) in enumerate(entries)
]


def test_every_rule_has_a_case():
    missing = sorted(r.name for r in rules.all_rules() if r.name not in RULE_CASES and not r.custom)
    assert not missing, f"rules without a finite-difference case in tests/test_rules.py: {missing}"


SETUP = (
    "import math\nimport operator\nimport numpy as np\nimport scipy.special\nimport scipy.stats\n"
    "from s2sjax.backend import runtime as rt\n"
)
# Most runtime helpers have forward-mode rules only: s2sjax differentiates generated code in forward
# mode.
REVERSE_CASES = [
    c
    for c in CASES
    if rules.by_name(c[0]).adjoints
    or rules.by_name(c[0]).lower  # written as another call (np.einsum), whose adjoints those are
    or not any(rules.by_name(c[0]).differentiable(p) for p in rules.by_name(c[0]).params)
]


FORWARD_IDS = {f"{c[0]}-{c[1]}" for c in CASES}
REVERSE_IDS = {f"{c[0]}-{c[1]}" for c in REVERSE_CASES}


def _float_argnums(args):
    return tuple(i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f")


def _rows(cases, cpu_here):
    """(case, target) rows: python for every case; cpu where `cpu_here(id)` for half of the cases
    (`_compiled_in_ci`), the others behind the `sweep` marker (`python -m pytest
    tests/test_rules.py -m sweep`). Compiling is most of the suite's time; test_sweep's CI slice
    compiles a sample of every case's rows on cpu besides."""
    rows = []
    for case in cases:
        ident = f"{case[0]}-{case[1]}"
        in_ci = cpu_here(ident) and _compiled_in_ci(ident)
        marks = () if in_ci else (pytest.mark.sweep,)
        rows.append(pytest.param(*case, "cpu", marks=marks, id=f"{ident}-cpu"))
        rows.append(pytest.param(*case, "python", id=f"{ident}-python"))
    return rows


def _compiled_in_ci(ident):
    """Half of the cases, by a hash independent of `_in_forward_half`'s."""
    return zlib.crc32(f"cpu:{ident}".encode()) % 2 == 0


def _in_forward_half(ident):
    """Half of the cases (by a hash of the id) compile on cpu under jvp in CI, the others under
    grad: every case compiles on cpu in CI, and every case in both modes behind the marker."""
    return zlib.crc32(ident.encode()) % 2 == 0


@pytest.mark.parametrize(
    "name,index,source,args,target",
    _rows(
        REVERSE_CASES,
        lambda ident: not _in_forward_half(ident) or ident not in FORWARD_IDS,
    ),
)
def test_reverse_rule_against_finite_differences(name, index, source, args, target):
    fun = define(source, namespace_setup=SETUP)
    argnums = _float_argnums(args)
    grads = s2sjax.grad(fun, argnums=argnums, target=target)(*args)
    fd.check_grad(fun, args, argnums, grads, rtol=1e-7, atol=1e-9, name=f"{name} [{target}]")


@pytest.mark.parametrize(
    "name,index,source,args,target",
    _rows(CASES, lambda ident: _in_forward_half(ident) or ident not in REVERSE_IDS),
)
def test_forward_rule_against_finite_differences(name, index, source, args, target):
    """jvp along one basis direction per float argument element.

    Against the finite-difference gradient.
    """
    fun = define(source, namespace_setup=SETUP)
    for i in _float_argnums(args):
        expected = fd.numerical_grad(fun, args, i)
        for index in np.ndindex(np.shape(args[i])):
            tangents = [np.zeros(np.shape(a)) if np.ndim(a) else 0.0 for a in args]
            if np.ndim(args[i]):
                tangents[i][index] = 1.0
            else:
                tangents[i] = 1.0
            _, derivative = s2sjax.jvp(fun, args, tangents, target=target)
            assert derivative == pytest.approx(expected[index], rel=1e-7, abs=1e-9), (
                f"{name} [{target}] d/d args[{i}]{index}"
            )


def test_stats_norm_spelled_as_imported():
    """`from scipy.stats import norm` and `import scipy.stats as st` name the same rules."""
    fun = define(
        "def f(x):\n"
        "    return norm.logpdf(x, 0.5, 2.0) + st.norm.logcdf(x) + scipy.stats.norm.pdf(x)\n",
        namespace_setup="import scipy.stats\nimport scipy.stats as st\n"
        "from scipy.stats import norm\n",
    )
    fd.check_grad(fun, (0.3,), (0,), (s2sjax.grad(fun)(0.3),), rtol=1e-7, atol=1e-9, name="norm")
