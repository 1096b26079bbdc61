"""A catalogue of plain numeric functions for s2sjax's transformation tests.

Every function below is ordinary Python + NumPy + ``math`` written in the
subset the first compiler issue supports: straight-line code, ``if/elif/else``,
conditional expressions, early returns, calls to module-level helpers, lambdas
and closures -- no loops, no comprehensions, no in-place element updates.
Each one returns a scalar, so ``grad`` applies.

Each function is paired with an argument generator in a `Case`.  The tests
cross ``CASES`` with one parametrized check per transformation and compare
against an independent oracle (finite differences for AD).

Conventions for the argument generators (``make_args(rng) -> tuple``):

* inputs are float64 (``dtype="float32"`` cases excepted) and lie in the
  function's domain;
* inputs keep a clear distance (far more than the finite-difference stencil,
  which reaches 2e-4 * max(1, |x|)) from every kink and branch boundary:
  ties of ``max``/``min``, zeros of ``abs``/``sign``, the bounds of ``clip``,
  integers and half-integers for ``floor``/``ceil``/``round``, the
  conditions of ``if`` and ``where``;
* the types and shapes of the arguments do not depend on ``rng``; only the
  values do (so ``Case.argnums_tuple`` can be worked out once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

# ---------------------------------------------------------------------------
# Module-level constants (read by the functions below; s2sjax inlines them).

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
SQRT2 = math.sqrt(2.0)
SCALE = 0.75
C0 = 1.5
C1 = -2.0
C2 = 0.25
C3 = 0.75
LJ_EPSILON = 1.2
LJ_SIGMA = 0.9
GRAVITY = 9.81
PEND_MASS = 1.3
PEND_LENGTH = 0.8
LN_EPS = 1e-5


# ---------------------------------------------------------------------------
# Helpers that other catalogue functions call (s2sjax inlines them).


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softplus(z):
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def swish(z):
    return z * sigmoid(z)


def safe_log(x):
    if x > 0.0:
        return math.log(x)
    return 0.0


def polar_to_cart(r, theta):
    return r * np.cos(theta), r * np.sin(theta)


def norm_cdf(z):
    return 0.5 * (1.0 + math.erf(z / SQRT2))


square_plus_sin = lambda x: x * x + np.sin(x)  # noqa: E731

cube = lambda z: z * z * z  # noqa: E731


# ---------------------------------------------------------------------------
# Scalar arithmetic and powers (Python float arguments).


def arith_scalar(x, y):
    return x * y + x / y - y - 2.0 * x + 3 * y * y + 1.0


def unary_minus(x):
    return -x * x + -(x - 1.0) * 3.0 - -x


def polynomial(x):
    return 3.0 * x**4 - 2.0 * x**3 + x**2 - 5.0 * x + 7.0


def horner(x):
    return ((C3 * x + C2) * x + C1) * x + C0


def powers_const_exponent(x):
    return x**2 + x**3 - x**0.5 + x**-1.5 + 2.0**x


def power_variable_exponent(x, y):
    return x**y + y**x + x ** (2.0 * y - 1.0)


def power_int_arg(x, n):
    return x**n + n * x


def rosenbrock2(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def uses_module_constants(x):
    return SCALE * x**2 + HALF_LOG_2PI * x - GRAVITY


# ---------------------------------------------------------------------------
# Assignment forms.


def tuple_unpack(x, y):
    a, b = x * 2.0, y - x
    c = a * b
    a, b = b, a
    return c + a * 3.0 - b * b


def augmented_scalar(x, y):
    z = x
    z += y
    z *= x
    z -= 0.5
    z /= y
    z **= 2
    return z


def augmented_array(x, y):
    z = x.copy()
    z += y
    z *= x
    z -= 0.5
    z /= y * y + 1.0
    return np.sum(z)


def chained_assign(x):
    a = b = x * 2.0
    c = a * b + a
    return c - b


def reassign_name(x):
    y = x * x
    y = np.sin(y) + y
    y = y * x
    return y


# ---------------------------------------------------------------------------
# Control flow.


def piecewise(x):
    if x < -1.0:
        y = -(x**3)
    elif x < 1.0:
        y = np.sin(x) + 2.0 * x
    else:
        y = np.log(x) + x * x
    return y


def cond_expr(x, y):
    z = x * y if x > y else x / y
    return z + (np.exp(x) if z > 0.0 else np.exp(-x))


def bool_ops(x, y):
    if x > 0.0 and y > 0.0:
        return x * y + y
    elif not (x < -1.0 or y < -1.0):
        return x + 2.0 * y * y
    else:
        return x * x - y


def early_return(x):
    if x > 0.0:
        return np.sqrt(x) * 3.0
    y = x * x
    return y + np.exp(y)


def branch_on_array(x):
    if np.sum(x) > 0.0:
        return np.sum(x**2) + np.max(x)
    return np.sum(np.abs(x)) - np.min(x)


def nested_if(x, y):
    if x > 0.0:
        if y > x:
            z = y - x
        else:
            z = x * y
        w = z * 2.0
    else:
        z = x + y
        w = z * z
    return w + z


def branch_on_shape(X):
    if X.ndim == 2 and X.shape[0] > X.shape[1]:
        return np.sum(X[:2] ** 2)
    return np.sum(np.sin(X))


def constant_branch(x):
    if x > 10.0:
        return 2.0
    return x * x


# ---------------------------------------------------------------------------
# NumPy elementwise functions on arrays.


def np_trig(x):
    return np.sum(np.sin(x) * np.cos(x) + np.tan(x))


def np_inverse_trig(x):
    return np.sum(np.arcsin(x) + x * np.arccos(x) + np.arctan(3.0 * x))


def np_arctan2(y, x):
    return np.sum(np.arctan2(y, x) * x)


def np_hyperbolic(x):
    return np.sum(np.sinh(x) + np.cosh(x) * np.tanh(x) + np.arcsinh(2.0 * x) + np.arctanh(x))


def np_exp_family(x):
    return np.sum(np.exp(x) + np.exp2(x) * np.expm1(x))


def np_log_family(x):
    return np.sum(np.log(x) + np.log2(x) * np.log10(x) + np.log1p(x))


def np_roots(x):
    return np.sum(np.sqrt(np.abs(x)) + np.cbrt(x) + np.square(x))


def np_abs_fabs(x):
    return np.sum(np.abs(x) * x + np.fabs(2.0 * x))


def np_power_hypot(x, y):
    return np.sum(np.power(x, 3.0) + np.power(x, y) + np.power(x - 1.0, 2.0) + np.hypot(x, y))


def np_maximum_minimum(x, y):
    return np.sum(np.maximum(x, y) * x + np.minimum(x, 0.5 * y) ** 2)


def np_where(x):
    return np.sum(np.where(x > 0.0, x**2, np.sin(x)) + np.where(x < 0.5, 1.0, x))


def np_clip(x):
    return np.sum(np.clip(x, -0.5, 0.5) * x + np.clip(2.0 * x, -1.5, 1.0))


def np_step_functions(x):
    return np.sum(
        np.sign(x) * x**2 + np.floor(x) * x + np.ceil(x) * np.sin(x) + np.round(x) * np.exp(0.1 * x)
    )


def np_on_python_scalars(x, y):
    return (
        np.sin(x) * np.exp(y)
        + np.sqrt(x * x + y * y)
        + np.arctan2(y, x)
        + np.maximum(x, y)
        + np.clip(y, 0.0, 1.0)
    )


# ---------------------------------------------------------------------------
# The math module and builtins (scalars).


def math_trig(x):
    return math.sin(x) * math.cos(x) + math.tan(x)


def math_inverse_trig(x, y):
    return math.asin(x) + math.acos(x) * y + math.atan(x * y) + math.atan2(y, x)


def math_hyperbolic(x):
    return math.sinh(x) + math.cosh(x) * math.tanh(x) + math.asinh(x) + math.atanh(0.5 * x)


def math_exp_log(x):
    return (
        math.exp(x)
        + math.expm1(x) * math.log(x)
        + math.log2(x)
        + math.log10(x)
        + math.log1p(x)
        + math.sqrt(x)
    )


def math_misc(x, y):
    return math.hypot(x, y) + math.fabs(x) * math.erf(y) + math.pow(y, x)


def builtin_functions(x, y):
    return max(x, y) * min(x, 2.0) + abs(x - y) + float(x) * 0.5


def float_of_int(x, n):
    return float(n) * x + float(x) ** 2


# ---------------------------------------------------------------------------
# Reductions.


def reductions_full(X):
    return np.sum(X) + np.mean(X**2) + np.prod(X) + np.max(X) * np.min(X)


def reductions_axis(X):
    a = np.sum(X, axis=0)
    b = np.mean(X, axis=1)
    c = np.max(X, axis=0)
    d = np.min(X, axis=-1)
    e = np.prod(X, axis=1)
    return np.sum(a * c) + np.sum(b * d) + np.sum(e)


def reduction_methods(x):
    return x.sum() * x.mean() + x.max() - x.min() + x.prod()


def reductions_rank3(T):
    s = np.sum(T, axis=1)
    m = np.max(T, axis=2)
    return np.sum(s**2) + np.sum(m) + np.mean(T) * np.sum(np.mean(T, axis=0))


# ---------------------------------------------------------------------------
# Linear algebra, shapes and copies.


def matvec(A, x):
    return np.sum((A @ x) ** 2)


def matmul_chain(A, B, C):
    return np.sum(np.tanh(np.matmul(A, B)) * C)


def dot_forms(x, y, A):
    return np.dot(x, y) + x.dot(A @ y) + np.dot(A, y).dot(x) * 0.5 + np.dot(A, A)[0, 1]


def quadratic_form(x, A):
    return x @ A @ x


def outer_product(x, y, W):
    return np.sum(np.outer(x, y) * W)


def transposes(A, B):
    return np.sum(A.T @ B) + np.sum(np.transpose(A) * B.transpose())


def reshapes(x):
    M = x.reshape(2, 3)
    N = np.reshape(x, (3, 2))
    return np.sum(M @ N) + np.sum(x.reshape(-1) * x) + np.sum(x.reshape((3, 2)).T * M)


def copy_astype(x):
    y = x.copy()
    z = y.astype(np.float64)
    return np.sum(z * np.sin(y))


def shape_attributes(X):
    return np.sum(X) / X.size + X.shape[0] * np.sum(X[0]) / X.ndim + X.shape[1] * np.mean(X**2)


# ---------------------------------------------------------------------------
# Indexing.


def index_ints(x):
    return x[0] * x[2] + x[-1] ** 2 - x[-2] + x[0] * x[0]


def index_2d(A):
    return A[0, 1] * A[1, 0] + A[-1, -1] ** 2 + A[1][2] - A[0, 0] * A[0, 1]


def slices_1d(x):
    return (
        np.sum(x[1:3] * x[2:4])
        + np.sum(x[:2])
        - np.sum(x[3:] ** 2)
        + np.sum(x[::2])
        + np.sum(x[-3:-1])
    )


def slices_2d(A):
    return (
        np.sum(A[:, 1] * A[0, :3])
        + np.sum(A[1:3, :2] ** 2)
        + np.sum(A[-1])
        + np.sum(A[:, -1:] * A[:, :1])
    )


def index_by_int_arg(x, i):
    return x[i] ** 2 + np.sum(x) * x[i]


# ---------------------------------------------------------------------------
# Broadcasting.


def broadcast_scalar_array(a, x):
    return np.sum(a * x + a**2) + np.sum(x / a) + np.sum(a - x)


def broadcast_row(X, b):
    return np.sum(np.sin(X + b) * b)


def broadcast_size1_row(X, b):
    return np.sum((X * b - b) ** 2)


def broadcast_column(X, c):
    return np.sum(np.exp(X - c) / c)


def broadcast_reshape_outer(x, y):
    return np.sum(x.reshape(-1, 1) * y.reshape(1, -1) + np.sin(x.reshape(-1, 1) - y))


def broadcast_rank3(T, v, u):
    return np.sum(np.tanh(T * v + u) * v)


# ---------------------------------------------------------------------------
# Realistic models and losses.


def mlp_layer_loss(X, W, b, y):
    return np.mean((np.tanh(X @ W + b) - y) ** 2)


def two_layer_mlp(X, W1, b1, W2, b2, y):
    h = sigmoid(X @ W1 + b1)
    out = h @ W2 + b2
    return np.mean(softplus(-y * out))


def logistic_loss(w, X, y):
    z = X @ w
    return np.mean(np.log1p(np.exp(-y * z)))


def softplus_stable(x):
    return np.sum(np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))))


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def logsumexp_rows(X):
    m = np.max(X, axis=1)
    lse = m + np.log(np.sum(np.exp(X - m.reshape(-1, 1)), axis=1))
    return np.sum(lse * lse)


def softmax_cross_entropy(logits, target):
    z = logits - np.max(logits, axis=1).reshape(-1, 1)
    logp = z - np.log(np.sum(np.exp(z), axis=1)).reshape(-1, 1)
    return -np.mean(np.sum(target * logp, axis=1))


def gaussian_logpdf(x, mu, sigma):
    z = (x - mu) / sigma
    return -0.5 * np.sum(z**2) - x.size * np.log(sigma) - x.size * HALF_LOG_2PI


def distance(x, y):
    return np.sqrt(np.sum((x - y) ** 2))


def normalized_projection(x, w):
    u = x / np.sqrt(np.sum(x**2))
    return np.dot(u, w)


def cosine_similarity(x, y):
    return np.dot(x, y) / (np.sqrt(np.dot(x, x)) * np.sqrt(np.dot(y, y)))


def huber_loss(r, delta=1.0):
    a = np.abs(r)
    return np.sum(np.where(a < delta, 0.5 * r**2, delta * (a - 0.5 * delta)))


def ridge_loss(w, X, y, lam):
    r = X @ w - y
    return 0.5 * np.dot(r, r) / y.size + lam * np.sum(w**2)


def black_scholes_call(S, K, T, r, sigma):
    sqrt_t = math.sqrt(T)
    d1 = (math.log(S / K) + (r + 0.5 * sigma**2) * T) / (sigma * sqrt_t)
    d2 = d1 - sigma * sqrt_t
    return S * norm_cdf(d1) - K * math.exp(-r * T) * norm_cdf(d2)


def variance(x):
    return np.mean((x - np.mean(x)) ** 2)


def layer_norm_loss(x, gamma, beta):
    mu = np.mean(x)
    var = np.mean((x - mu) ** 2)
    xhat = (x - mu) / np.sqrt(var + LN_EPS)
    return np.sum(np.sin(gamma * xhat + beta))


def trapezoid(y, x):
    return 0.5 * np.sum((y[1:] + y[:-1]) * (x[1:] - x[:-1]))


def dirichlet_energy(u):
    d = u[1:] - u[:-1]
    return np.sum(d * d) + 0.5 * (u[0] ** 2 + u[-1] ** 2)


def lennard_jones(r):
    s6 = (LJ_SIGMA / r) ** 6
    return 4.0 * LJ_EPSILON * (s6 * s6 - s6)


def pendulum_energy(theta, omega):
    kinetic = 0.5 * PEND_MASS * PEND_LENGTH**2 * omega**2
    return kinetic + PEND_MASS * GRAVITY * PEND_LENGTH * (1.0 - math.cos(theta))


def kl_divergence(p_logits, q_logits):
    p = np.exp(p_logits - logsumexp(p_logits))
    return np.sum(p * (p_logits - q_logits)) - logsumexp(p_logits) + logsumexp(q_logits)


# ---------------------------------------------------------------------------
# Helpers, lambdas, closures, keyword defaults.


def uses_helpers(x, y):
    return sigmoid(x) * y + safe_log(x * y) + safe_log(-y)


def helper_tuple_return(r, theta):
    a, b = polar_to_cart(r, theta)
    return a * b + a


def nested_helpers(x):
    return np.sum(swish(x) + softplus(swish(x)))


def calls_lambda(x):
    return np.sum(cube(x) - square_plus_sin(x))


def make_scaled_sine(scale):
    def scaled_sine(x):
        return scale * np.sum(np.sin(scale * x))

    return scaled_sine


scaled_sine_3 = make_scaled_sine(3.0)


def make_affine_softplus(a, b):
    def affine_softplus(x):
        return np.sum(softplus(a * x + b))

    return affine_softplus


affine_softplus_closure = make_affine_softplus(1.5, -0.25)


def with_default(x, scale=2.0):
    return np.sum(np.tanh(scale * x)) * scale


# ---------------------------------------------------------------------------
# Edge cases of argument and result types.


def identity(x):
    return x


def unused_argument(x, y):
    return np.sum(x**2)


def numpy_scalar_args(x, y):
    return x * np.sin(y) + np.exp(x * y)


def rank0_array(x):
    return np.sin(x) * x + np.sum(x**2)


# ---------------------------------------------------------------------------
# Lists and tuples given to NumPy, and constructors fed by values (each once
# differentiated as a constant: a zero derivative with no error).


def sum_of_list_display(a):
    return np.sum([1, a * a, 2])


def mean_of_tuple_display(x):
    return np.mean((x, x + 2.0)) * x


def reductions_of_displays(a, b):
    return np.sum([a * b, 2.0]) + np.max([a, b * 0.5]) - np.min((a, -b)) + np.mean([a, b])


def prod_of_list_display(a, b):
    return np.prod([a, b, 2.0])  # first derivatives only: np.prod's second are not supported


def dot_of_list(a, v):
    return np.dot([1.0, a, a * a], v)


def matrix_from_nested_lists(a, b, v):
    m = np.array([[a, b], [b * b, -a]])
    return np.sum(np.sin(m @ v))


def rows_from_arrays(x):
    rows = [x, 2.0 * x, np.cos(x)]
    return np.sum(np.array(rows) ** 2) + np.sum(np.asarray(x) * x)


def linspace_ends(a, b):
    return np.sum(np.sin(np.linspace(a, b, 5)))


def filled_arrays(a, b, x):
    return (
        np.sum(np.full(3, a) * x) + np.sum(np.full_like(x, b) ** 2) + np.sum(np.full((2, 3), a * b))
    )


def arange_from_floats(a, b):
    return np.sum(np.cos(np.arange(a, a + 2.0, b)))


def gather_with_repeats(x):
    return np.sum(np.sin(x[[2, 0, 2]]) * x[[1, 1, 0]])


def gather_rows(m, idx):
    return np.sum(np.cos(m[idx]) * m[idx])


def masked_sum(x):
    return np.sum(x[x > 0.0] ** 2) + np.sum(x[x < 0.0])


def numpy_float_call(a):
    return np.float64(a) ** 2 + np.float64(3) * a


# ===========================================================================
# Argument generators.


def _scalar(rng, lo, hi):
    """A Python float uniform in [lo, hi)."""
    return float(rng.uniform(lo, hi))


def _uniform(rng, shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape)


def _normal(rng, shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def _spaced(rng, shape, lo, hi):
    """Distinct values in [lo, hi), pairwise at least (hi - lo) / (2 n) apart.

    For max/min/argmax-style reductions: no ties, whatever the axis.
    """
    n = int(np.prod(shape))
    width = (hi - lo) / n
    grid = lo + width * (np.arange(n) + 0.5)
    jitter = rng.uniform(-0.25 * width, 0.25 * width, size=n)
    return rng.permutation(grid + jitter).reshape(shape)


def _nonzero(rng, shape, lo=0.25, hi=2.0):
    """Magnitudes in [lo, hi) with random signs (away from kinks at zero)."""
    signs = rng.choice(np.array([-1.0, 1.0]), size=shape)
    return signs * rng.uniform(lo, hi, size=shape)


def _avoiding(rng, shape, lo, hi, points, clearance=0.05):
    """Uniform values in [lo, hi), each at least `clearance` from every point."""
    points = np.asarray(points, dtype=np.float64)
    out = np.empty(int(np.prod(shape)))
    for k in range(out.size):
        while True:
            v = rng.uniform(lo, hi)
            if np.all(np.abs(v - points) >= clearance):
                out[k] = v
                break
    return out.reshape(shape)


def _off_integers(rng, shape):
    """Values whose fractional part is in [0.1, 0.4] or [0.6, 0.9]: no integer
    (floor/ceil/sign kink) and no half-integer (round kink) nearby."""
    whole = rng.integers(-3, 4, size=shape).astype(np.float64)
    frac = rng.uniform(0.1, 0.4, size=shape) + 0.5 * rng.integers(0, 2, size=shape)
    return whole + frac


def _pm_one(rng, shape):
    """Labels -1.0 / +1.0 as floats."""
    return rng.choice(np.array([-1.0, 1.0]), size=shape)


def _probabilities(rng, shape):
    """Rows of positive numbers summing to one."""
    p = rng.uniform(0.1, 1.0, size=shape)
    return p / np.sum(p, axis=-1, keepdims=True)


def _args_maximum_minimum(rng):
    # |x - y| and |x - y / 2| both at least 0.1 everywhere: no ties.
    while True:
        x = _uniform(rng, (6,), -2.0, 2.0)
        y = _uniform(rng, (6,), -2.0, 2.0)
        if np.all(np.abs(x - y) > 0.1) and np.all(np.abs(x - 0.5 * y) > 0.1):
            return (x, y)


def _args_two_layer_mlp(rng):
    X = _normal(rng, (6, 3))
    W1 = _normal(rng, (3, 4), 0.5)
    b1 = _normal(rng, (4,), 0.1)
    W2 = _normal(rng, (4,))
    y = _pm_one(rng, (6,))
    # b2 keeps every -y * out at least 0.05 from zero, where the helper's
    # maximum/abs (not the softplus itself) have kinks.
    while True:
        b2 = _scalar(rng, -0.5, 0.5)
        out = sigmoid(X @ W1 + b1) @ W2 + b2
        if np.all(np.abs(out) > 0.05):
            return (X, W1, b1, W2, b2, y)


def _args_nested_helpers(rng):
    return (_nonzero(rng, (5,), 0.2, 2.0),)


def _f32(*arrays):
    return tuple(np.asarray(a, dtype=np.float32) for a in arrays)


# ===========================================================================
# The catalogue.


def _is_differentiable(arg) -> bool:
    if isinstance(arg, bool):
        return False
    if isinstance(arg, (float, np.floating)):
        return True
    return isinstance(arg, np.ndarray) and arg.dtype.kind == "f"


@dataclass(frozen=True)
class Case:
    """One catalogue entry.

    name:       unique; the test id.
    fun:        the function to transform (plain Python, scalar output).
    make_args:  rng -> tuple of positional arguments.
    argnums:    the arguments to differentiate; None means every float argument.
    dtype:      "float64", or "float32" for cases that get looser tolerances.
    rtol, atol: per-case tolerance against finite differences (None: the
                test's default for `dtype`); `note` must say why.
    """

    name: str
    fun: Callable[..., object]
    make_args: Callable[[np.random.Generator], tuple]
    argnums: tuple[int, ...] | None = None
    dtype: str = "float64"
    rtol: float | None = None
    atol: float | None = None
    note: str = ""

    @property
    def argnums_tuple(self) -> tuple[int, ...]:
        if self.argnums is not None:
            return self.argnums
        args = self.make_args(np.random.default_rng(0))
        return tuple(i for i, a in enumerate(args) if _is_differentiable(a))


CASES: list[Case] = [
    # --- scalar arithmetic and powers
    Case(
        "arith_scalar", arith_scalar, lambda rng: (_scalar(rng, -2.0, 2.0), _scalar(rng, 0.5, 2.0))
    ),
    Case("unary_minus", unary_minus, lambda rng: (_scalar(rng, -2.0, 2.0),)),
    Case("polynomial", polynomial, lambda rng: (_scalar(rng, -2.0, 2.0),)),
    Case("horner", horner, lambda rng: (_scalar(rng, -2.0, 2.0),)),
    Case("powers_const_exponent", powers_const_exponent, lambda rng: (_scalar(rng, 0.3, 2.5),)),
    Case(
        "power_variable_exponent",
        power_variable_exponent,
        lambda rng: (_scalar(rng, 0.3, 2.5), _scalar(rng, 0.3, 2.5)),
    ),
    Case("power_int_arg", power_int_arg, lambda rng: (_scalar(rng, -2.0, 2.0), 3), argnums=(0,)),
    Case(
        "rosenbrock2", rosenbrock2, lambda rng: (_scalar(rng, -1.5, 1.5), _scalar(rng, -0.5, 2.0))
    ),
    Case("rosenbrock", rosenbrock, lambda rng: (_uniform(rng, (5,), -1.5, 1.5),)),
    Case("uses_module_constants", uses_module_constants, lambda rng: (_scalar(rng, -2.0, 2.0),)),
    # --- assignment forms
    Case(
        "tuple_unpack", tuple_unpack, lambda rng: (_scalar(rng, -2.0, 2.0), _scalar(rng, -2.0, 2.0))
    ),
    Case(
        "augmented_scalar",
        augmented_scalar,
        lambda rng: (_scalar(rng, -2.0, 2.0), _scalar(rng, 0.5, 2.0)),
    ),
    Case("augmented_array", augmented_array, lambda rng: (_normal(rng, (5,)), _normal(rng, (5,)))),
    Case("chained_assign", chained_assign, lambda rng: (_scalar(rng, -2.0, 2.0),)),
    Case("reassign_name", reassign_name, lambda rng: (_scalar(rng, -1.5, 1.5),)),
    # --- control flow: every branch of each function gets its own case
    Case("piecewise_if", piecewise, lambda rng: (_scalar(rng, -2.0, -1.2),)),
    Case("piecewise_elif", piecewise, lambda rng: (_scalar(rng, -0.8, 0.8),)),
    Case("piecewise_else", piecewise, lambda rng: (_scalar(rng, 1.2, 2.5),)),
    Case("cond_expr_true", cond_expr, lambda rng: (_scalar(rng, 1.0, 2.0), _scalar(rng, 0.2, 0.8))),
    Case(
        "cond_expr_false", cond_expr, lambda rng: (_scalar(rng, -2.0, -1.0), _scalar(rng, 0.5, 1.5))
    ),
    Case("bool_ops_and", bool_ops, lambda rng: (_scalar(rng, 0.3, 1.5), _scalar(rng, 0.3, 1.5))),
    Case(
        "bool_ops_not_or", bool_ops, lambda rng: (_scalar(rng, -0.8, -0.2), _scalar(rng, -0.8, 0.8))
    ),
    Case(
        "bool_ops_else", bool_ops, lambda rng: (_scalar(rng, -2.5, -1.5), _scalar(rng, -0.8, 0.8))
    ),
    Case("early_return_taken", early_return, lambda rng: (_scalar(rng, 0.3, 2.0),)),
    Case("early_return_fallthrough", early_return, lambda rng: (_scalar(rng, -1.5, -0.3),)),
    Case("branch_on_array_pos", branch_on_array, lambda rng: (_spaced(rng, (5,), 0.2, 2.0),)),
    Case("branch_on_array_neg", branch_on_array, lambda rng: (_spaced(rng, (5,), -2.0, -0.2),)),
    Case(
        "nested_if_inner", nested_if, lambda rng: (_scalar(rng, 0.2, 0.6), _scalar(rng, 1.0, 2.0))
    ),
    Case(
        "nested_if_outer_else",
        nested_if,
        lambda rng: (_scalar(rng, -2.0, -0.3), _scalar(rng, -1.0, 1.0)),
    ),
    Case("branch_on_shape", branch_on_shape, lambda rng: (_normal(rng, (4, 3)),)),
    Case("constant_branch", constant_branch, lambda rng: (_scalar(rng, 11.0, 12.0),)),
    # --- NumPy elementwise functions
    Case("np_trig", np_trig, lambda rng: (_uniform(rng, (2, 3), -1.2, 1.2),)),
    Case("np_inverse_trig", np_inverse_trig, lambda rng: (_uniform(rng, (5,), -0.9, 0.9),)),
    # y away from zero: arctan2 has a branch cut on the negative x axis.
    Case(
        "np_arctan2", np_arctan2, lambda rng: (_nonzero(rng, (5,)), _uniform(rng, (5,), -2.0, 2.0))
    ),
    Case("np_hyperbolic", np_hyperbolic, lambda rng: (_uniform(rng, (5,), -0.9, 0.9),)),
    Case("np_exp_family", np_exp_family, lambda rng: (_uniform(rng, (5,), -2.0, 2.0),)),
    Case("np_log_family", np_log_family, lambda rng: (_uniform(rng, (5,), 0.2, 3.0),)),
    Case("np_roots", np_roots, lambda rng: (_nonzero(rng, (6,)),)),
    Case("np_abs_fabs", np_abs_fabs, lambda rng: (_nonzero(rng, (6,)),)),
    Case(
        "np_power_hypot",
        np_power_hypot,
        lambda rng: (_uniform(rng, (5,), 0.3, 2.0), _uniform(rng, (5,), 0.3, 2.0)),
    ),
    Case("np_maximum_minimum", np_maximum_minimum, _args_maximum_minimum),
    Case("np_where", np_where, lambda rng: (_avoiding(rng, (8,), -1.5, 1.5, (0.0, 0.5)),)),
    Case("np_clip", np_clip, lambda rng: (_avoiding(rng, (8,), -1.5, 1.5, (-0.75, -0.5, 0.5)),)),
    Case("np_step_functions", np_step_functions, lambda rng: (_off_integers(rng, (8,)),)),
    Case(
        "np_on_python_scalars",
        np_on_python_scalars,
        lambda rng: (_scalar(rng, 1.2, 2.0), _scalar(rng, 0.2, 0.8)),
    ),
    # --- math module and builtins
    Case("math_trig", math_trig, lambda rng: (_scalar(rng, -1.2, 1.2),)),
    Case(
        "math_inverse_trig",
        math_inverse_trig,
        lambda rng: (_scalar(rng, -0.9, 0.9), _scalar(rng, 0.3, 1.5)),
    ),
    Case("math_hyperbolic", math_hyperbolic, lambda rng: (_scalar(rng, -1.5, 1.5),)),
    Case("math_exp_log", math_exp_log, lambda rng: (_scalar(rng, 0.2, 3.0),)),
    Case("math_misc", math_misc, lambda rng: (_scalar(rng, -2.0, -0.3), _scalar(rng, 0.3, 2.0))),
    # x < y and x < 2: max -> y, min -> x, abs -> y - x
    Case(
        "builtin_functions_a",
        builtin_functions,
        lambda rng: (_scalar(rng, 0.3, 1.2), _scalar(rng, 1.6, 2.5)),
    ),
    # x > y and x > 2: max -> x, min -> 2.0 (constant), abs -> x - y
    Case(
        "builtin_functions_b",
        builtin_functions,
        lambda rng: (_scalar(rng, 2.5, 3.5), _scalar(rng, 0.5, 1.5)),
    ),
    Case("float_of_int", float_of_int, lambda rng: (_scalar(rng, -2.0, 2.0), 4), argnums=(0,)),
    # --- reductions
    Case("reductions_full", reductions_full, lambda rng: (_spaced(rng, (3, 4), 0.5, 1.5),)),
    Case("reductions_axis", reductions_axis, lambda rng: (_spaced(rng, (3, 4), 0.5, 1.5),)),
    Case("reduction_methods", reduction_methods, lambda rng: (_spaced(rng, (5,), 0.5, 1.5),)),
    Case("reductions_rank3", reductions_rank3, lambda rng: (_spaced(rng, (2, 3, 4), -2.0, 2.0),)),
    # --- linear algebra, shapes, copies
    Case("matvec", matvec, lambda rng: (_normal(rng, (4, 3)), _normal(rng, (3,)))),
    Case(
        "matmul_chain",
        matmul_chain,
        lambda rng: (_normal(rng, (3, 4)), _normal(rng, (4, 2)), _normal(rng, (3, 2))),
    ),
    Case(
        "dot_forms",
        dot_forms,
        lambda rng: (_normal(rng, (4,)), _normal(rng, (4,)), _normal(rng, (4, 4))),
    ),
    Case("quadratic_form", quadratic_form, lambda rng: (_normal(rng, (4,)), _normal(rng, (4, 4)))),
    Case(
        "outer_product",
        outer_product,
        lambda rng: (_normal(rng, (3,)), _normal(rng, (4,)), _normal(rng, (3, 4))),
    ),
    Case("transposes", transposes, lambda rng: (_normal(rng, (3, 4)), _normal(rng, (3, 4)))),
    Case("reshapes", reshapes, lambda rng: (_normal(rng, (6,)),)),
    Case("copy_astype", copy_astype, lambda rng: (_normal(rng, (2, 3)),)),
    Case("shape_attributes", shape_attributes, lambda rng: (_normal(rng, (3, 4)),)),
    # --- indexing
    Case("index_ints", index_ints, lambda rng: (_normal(rng, (5,)),)),
    Case("index_2d", index_2d, lambda rng: (_normal(rng, (3, 4)),)),
    Case("slices_1d", slices_1d, lambda rng: (_normal(rng, (6,)),)),
    Case("slices_2d", slices_2d, lambda rng: (_normal(rng, (3, 4)),)),
    Case("index_by_int_arg", index_by_int_arg, lambda rng: (_normal(rng, (5,)), 2), argnums=(0,)),
    # --- broadcasting
    Case(
        "broadcast_scalar_array",
        broadcast_scalar_array,
        lambda rng: (_scalar(rng, 0.5, 2.0), _normal(rng, (2, 3))),
    ),
    Case("broadcast_row", broadcast_row, lambda rng: (_normal(rng, (4, 3)), _normal(rng, (3,)))),
    Case(
        "broadcast_size1_row",
        broadcast_size1_row,
        lambda rng: (_normal(rng, (4, 3)), _normal(rng, (1, 3))),
    ),
    Case(
        "broadcast_column",
        broadcast_column,
        lambda rng: (_normal(rng, (4, 3)), _uniform(rng, (4, 1), 0.5, 2.0)),
    ),
    Case(
        "broadcast_reshape_outer",
        broadcast_reshape_outer,
        lambda rng: (_normal(rng, (3,)), _normal(rng, (4,))),
    ),
    Case(
        "broadcast_rank3",
        broadcast_rank3,
        lambda rng: (_normal(rng, (2, 3, 4), 0.5), _normal(rng, (4,)), _normal(rng, (3, 1))),
    ),
    # --- realistic models and losses
    Case(
        "mlp_layer_loss",
        mlp_layer_loss,
        lambda rng: (
            _normal(rng, (5, 3)),
            _normal(rng, (3, 2), 0.5),
            _normal(rng, (2,), 0.1),
            _normal(rng, (5, 2)),
        ),
    ),
    Case(
        "mlp_layer_loss_params",
        mlp_layer_loss,
        lambda rng: (
            _normal(rng, (5, 3)),
            _normal(rng, (3, 2), 0.5),
            _normal(rng, (2,), 0.1),
            _normal(rng, (5, 2)),
        ),
        argnums=(1, 2),
    ),
    Case("two_layer_mlp", two_layer_mlp, _args_two_layer_mlp, argnums=(1, 2, 3, 4)),
    Case(
        "logistic_loss",
        logistic_loss,
        lambda rng: (_normal(rng, (3,)), _normal(rng, (6, 3)), _pm_one(rng, (6,))),
    ),
    Case("softplus_stable", softplus_stable, lambda rng: (_nonzero(rng, (6,), 0.1, 3.0),)),
    Case("logsumexp", logsumexp, lambda rng: (_spaced(rng, (6,), -3.0, 3.0),)),
    Case("logsumexp_rows", logsumexp_rows, lambda rng: (_spaced(rng, (3, 4), -3.0, 3.0),)),
    Case(
        "softmax_cross_entropy",
        softmax_cross_entropy,
        lambda rng: (_spaced(rng, (4, 3), -2.0, 2.0), _probabilities(rng, (4, 3))),
    ),
    Case(
        "gaussian_logpdf",
        gaussian_logpdf,
        lambda rng: (_normal(rng, (5,)), _scalar(rng, -0.5, 0.5), _scalar(rng, 0.5, 2.0)),
    ),
    Case("distance", distance, lambda rng: (_normal(rng, (4,)), _normal(rng, (4,)))),
    Case(
        "normalized_projection",
        normalized_projection,
        lambda rng: (_normal(rng, (4,)), _normal(rng, (4,))),
    ),
    Case(
        "cosine_similarity", cosine_similarity, lambda rng: (_normal(rng, (4,)), _normal(rng, (4,)))
    ),
    Case(
        "huber_loss_default_delta",
        huber_loss,
        lambda rng: (_avoiding(rng, (8,), -2.5, 2.5, (-1.0, 0.0, 1.0)),),
    ),
    Case(
        "huber_loss_delta",
        huber_loss,
        lambda rng: (_avoiding(rng, (8,), -2.5, 2.5, (-0.8, 0.0, 0.8)), 0.8),
    ),
    Case(
        "ridge_loss",
        ridge_loss,
        lambda rng: (
            _normal(rng, (3,)),
            _normal(rng, (6, 3)),
            _normal(rng, (6,)),
            _scalar(rng, 0.1, 1.0),
        ),
    ),
    Case(
        "black_scholes_call",
        black_scholes_call,
        lambda rng: (
            _scalar(rng, 80.0, 120.0),
            _scalar(rng, 90.0, 110.0),
            _scalar(rng, 0.25, 2.0),
            _scalar(rng, 0.0, 0.05),
            _scalar(rng, 0.1, 0.4),
        ),
    ),
    Case("variance", variance, lambda rng: (_normal(rng, (6,)),)),
    Case(
        "layer_norm_loss",
        layer_norm_loss,
        lambda rng: (_normal(rng, (6,)), _normal(rng, (6,)), _normal(rng, (6,))),
    ),
    Case(
        "trapezoid",
        trapezoid,
        lambda rng: (_normal(rng, (6,)), np.sort(_uniform(rng, (6,), 0.0, 3.0))),
    ),
    Case("dirichlet_energy", dirichlet_energy, lambda rng: (_normal(rng, (6,)),)),
    Case("lennard_jones", lennard_jones, lambda rng: (_scalar(rng, 0.9, 2.0),)),
    Case(
        "pendulum_energy",
        pendulum_energy,
        lambda rng: (_scalar(rng, -2.0, 2.0), _scalar(rng, -3.0, 3.0)),
    ),
    Case(
        "kl_divergence",
        kl_divergence,
        lambda rng: (_spaced(rng, (5,), -2.0, 2.0), _spaced(rng, (5,), -2.0, 2.0)),
    ),
    # --- helpers, lambdas, closures, defaults
    Case(
        "uses_helpers", uses_helpers, lambda rng: (_scalar(rng, 0.3, 2.0), _scalar(rng, 0.3, 2.0))
    ),
    Case(
        "helper_tuple_return",
        helper_tuple_return,
        lambda rng: (_scalar(rng, 0.5, 2.0), _scalar(rng, -3.0, 3.0)),
    ),
    Case("nested_helpers", nested_helpers, _args_nested_helpers),
    Case("lambda_direct", square_plus_sin, lambda rng: (_scalar(rng, -2.0, 2.0),)),
    Case("calls_lambda", calls_lambda, lambda rng: (_normal(rng, (5,)),)),
    Case("closure_scaled_sine", scaled_sine_3, lambda rng: (_normal(rng, (5,)),)),
    # a * x + b = 1.5 x - 0.25 stays away from zero (softplus's helper kinks)
    Case(
        "closure_affine_softplus",
        affine_softplus_closure,
        lambda rng: (_avoiding(rng, (5,), -2.0, 2.0, (1.0 / 6.0,), 0.1),),
    ),
    Case("default_arg_omitted", with_default, lambda rng: (_normal(rng, (4,)),)),
    Case(
        "default_arg_passed", with_default, lambda rng: (_normal(rng, (4,)), _scalar(rng, 0.5, 1.5))
    ),
    # --- lists and tuples given to NumPy, constructors fed by values
    Case("sum_of_list_display", sum_of_list_display, lambda rng: (_scalar(rng, -2.0, 2.0),)),
    Case("mean_of_tuple_display", mean_of_tuple_display, lambda rng: (_scalar(rng, -2.0, 2.0),)),
    # max([a, b/2]) is a and min((a, -b)) is -b: a in (1, 2), b in (-1, 1), no ties
    Case(
        "reductions_of_displays",
        reductions_of_displays,
        lambda rng: (_scalar(rng, 1.1, 1.9), _scalar(rng, -0.9, 0.9)),
    ),
    Case(
        "prod_of_list_display",
        prod_of_list_display,
        lambda rng: (_scalar(rng, -2.0, 2.0), _scalar(rng, -2.0, 2.0)),
    ),
    Case("dot_of_list", dot_of_list, lambda rng: (_scalar(rng, -2.0, 2.0), _normal(rng, (3,)))),
    Case(
        "matrix_from_nested_lists",
        matrix_from_nested_lists,
        lambda rng: (_scalar(rng, -1.0, 1.0), _scalar(rng, -1.0, 1.0), _normal(rng, (2,))),
    ),
    Case("rows_from_arrays", rows_from_arrays, lambda rng: (_normal(rng, (4,)),)),
    Case(
        "linspace_ends",
        linspace_ends,
        lambda rng: (_scalar(rng, -2.0, 0.0), _scalar(rng, 0.5, 2.0)),
    ),
    Case(
        "filled_arrays",
        filled_arrays,
        lambda rng: (_scalar(rng, -2.0, 2.0), _scalar(rng, -2.0, 2.0), _normal(rng, (3,))),
    ),
    # 2 / b in (3.1, 3.3): four elements, far from a fifth
    Case(
        "arange_from_floats",
        arange_from_floats,
        lambda rng: (_scalar(rng, -1.0, 1.0), _scalar(rng, 0.61, 0.64)),
    ),
    Case("numpy_float_call", numpy_float_call, lambda rng: (_scalar(rng, -2.0, 2.0),)),
    Case("gather_with_repeats", gather_with_repeats, lambda rng: (_normal(rng, (3,)),)),
    Case(
        "gather_rows", gather_rows, lambda rng: (_normal(rng, (3, 2)), np.array([[2, 0], [2, 1]]))
    ),
    # no element within 0.1 of the mask's edge at 0
    Case("masked_sum", masked_sum, lambda rng: (_avoiding(rng, (6,), -2.0, 2.0, (0.0,), 0.1),)),
    # --- argument and result types
    Case("identity", identity, lambda rng: (_scalar(rng, -2.0, 2.0),)),
    Case(
        "unused_argument", unused_argument, lambda rng: (_normal(rng, (3,)), _normal(rng, (2, 2)))
    ),
    Case(
        "numpy_scalar_args",
        numpy_scalar_args,
        lambda rng: (np.float64(rng.uniform(-1.0, 1.0)), np.float64(rng.uniform(-1.0, 1.0))),
    ),
    Case("rank0_array", rank0_array, lambda rng: (np.array(rng.uniform(-1.0, 1.0)),)),
    # --- float32 (looser tolerances in the tests)
    Case(
        "f32_mlp_layer_loss",
        mlp_layer_loss,
        lambda rng: _f32(
            _normal(rng, (5, 3)),
            _normal(rng, (3, 2), 0.5),
            _normal(rng, (2,), 0.1),
            _normal(rng, (5, 2)),
        ),
        dtype="float32",
    ),
    Case(
        "f32_np_trig", np_trig, lambda rng: _f32(_uniform(rng, (2, 3), -1.2, 1.2)), dtype="float32"
    ),
    Case(
        "f32_reductions_axis",
        reductions_axis,
        lambda rng: _f32(_spaced(rng, (3, 4), 0.5, 1.5)),
        dtype="float32",
    ),
    Case(
        "f32_broadcast_size1_row",
        broadcast_size1_row,
        lambda rng: _f32(_normal(rng, (4, 3)), _normal(rng, (1, 3))),
        dtype="float32",
    ),
    Case(
        "f32_logsumexp", logsumexp, lambda rng: _f32(_spaced(rng, (6,), -3.0, 3.0)), dtype="float32"
    ),
]

# Cases that once gave wrong numbers with no error (in either catalogue): besides the samples,
# tests/test_vmap.py, tests/test_cuda.py and tests/test_higher_order.py run each of them on
# every target.
REGRESSIONS = frozenset(
    {
        "sum_of_list_display",
        "mean_of_tuple_display",
        "reductions_of_displays",
        "dot_of_list",
        "matrix_from_nested_lists",
        "rows_from_arrays",
        "linspace_ends",
        "filled_arrays",
        "arange_from_floats",
        "numpy_float_call",
        "gather_with_repeats",
        "gather_rows",
        "masked_sum",
        "horner_int_start",
        "power_int_start",
        "sine_recurrence_int_start",
        "while_int_start",
        "int_start_float_in_one_branch",
        "helper_with_constant_flag_in_loop",
        "arrays_returned_from_loops",
    }
)
