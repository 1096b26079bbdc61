"""Every rule in the registry, checked against float64 finite differences.

`RULE_CASES` gives, per registered rule name, a function that uses it and its
arguments; the test for a rule differentiates with respect to every float
argument, on both targets. A rule added to the registry without a case here
fails `test_every_rule_has_a_case`, so no rule goes unchecked.
"""

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
            f"def f(x):\n    return np.sum(np.{name}(x, axis={axis}) * np.arange(1.0, x.shape[1 - {axis} % 2] + 1.0))\n",
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
    "def f(a, b):\n    s = 0.0\n    for p, q in zip(a, b):\n        s = s + p * q * q\n    return s\n",
    u(-1, 1, (4,)),
    u(-1, 1, (3,)),
)
case(
    "enumerate",
    "def f(a):\n    s = 0.0\n    for i, p in enumerate(a):\n        s = s + p * i + math.sin(p)\n    return s\n",
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
    "rt.broadcast_length",
    "def f(a, x, y):\n    return a * rt.broadcast_length((x.shape[0], y.shape[0]))\n",
    0.7,
    u(-1, 1, (3,)),
    u(-1, 1, (1,)),
)
case(
    "rt.move_batch_axis",
    "def f(a):\n    return np.sum(np.sin(rt.move_batch_axis(a, 1)) * np.arange(6.0).reshape(3, 2))\n",
    u(-1, 1, (2, 3)),
)
case(
    "rt.move_axis_to_front",
    "def f(a):\n    return np.sum(np.sin(rt.move_axis_to_front(a, -1)) * np.arange(6.0).reshape(3, 2))\n",
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
    f"def f(a):\n    w, v = np.linalg.eigh(a, 'U')\n    return np.sum(np.sin(w)) + np.sum(np.sin(v) * {WEIGHTS})\n",
    SQUARE,
)
case(
    "np.linalg.svd",
    "def f(a):\n    u, s, vh = np.linalg.svd(a, full_matrices=False)\n"
    "    return np.sum(np.sin(u)) + np.sum(np.sin(s)) + np.sum(np.sin(vh) * np.arange(4.0).reshape(2, 2))\n",
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
        "np.sum(np.linalg.norm(x, axis=(0, 1)) * np.arange(1.0, 4.0)) + np.linalg.norm(x[0, 1], np.inf)",
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

CASES = [
    (name, i, src, args)
    for name, entries in sorted(RULE_CASES.items())
    for i, (src, args) in enumerate(entries)
]


def test_every_rule_has_a_case():
    missing = sorted(r.name for r in rules.all_rules() if r.name not in RULE_CASES and not r.custom)
    assert not missing, f"rules without a finite-difference case in tests/test_rules.py: {missing}"


SETUP = (
    "import math\nimport operator\nimport numpy as np\nfrom s2sjax.backend import runtime as rt\n"
)
# Most runtime helpers have forward-mode rules only: s2sjax differentiates generated code in forward
# mode.
REVERSE_CASES = [
    c
    for c in CASES
    if rules.by_name(c[0]).adjoints
    or not any(rules.by_name(c[0]).differentiable(p) for p in rules.by_name(c[0]).params)
]


def _float_argnums(args):
    return tuple(i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f")


@pytest.mark.parametrize("target", ["cpu", "python"])
@pytest.mark.parametrize(
    "name,index,source,args", REVERSE_CASES, ids=[f"{c[0]}-{c[1]}" for c in REVERSE_CASES]
)
def test_reverse_rule_against_finite_differences(name, index, source, args, target):
    fun = define(source, namespace_setup=SETUP)
    argnums = _float_argnums(args)
    grads = s2sjax.grad(fun, argnums=argnums, target=target)(*args)
    fd.check_grad(fun, args, argnums, grads, rtol=1e-7, atol=1e-9, name=f"{name} [{target}]")


@pytest.mark.parametrize("target", ["cpu", "python"])
@pytest.mark.parametrize("name,index,source,args", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_forward_rule_against_finite_differences(name, index, source, args, target):
    """jvp along one basis direction per float argument element, against the finite-difference gradient."""
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
