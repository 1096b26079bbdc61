"""A catalogue of numeric functions with control flow, for s2sjax's gradient tests.

Where tests/catalogue.py holds straight-line code, every function here loops:
Horner evaluation, Runge-Kutta and Verlet integrators, Newton iterations, an
explicit heat-equation stencil, prefix sums, a Gauss-Seidel sweep, an N-body
step, recurrent cells, dynamic programming, factorizations... written the way
numeric code is written: ``for`` over ``range(...)`` (start/stop/step, bounds
from arguments, ``x.shape[0]`` or ``len(x)``), over arrays (rows of 2-D arrays
too), over ``zip``, ``enumerate`` and ``enumerate(zip(...))``; nested loops;
``if/elif/else`` inside loops; loops in called helpers; loop-carried scalars,
tuples and arrays; accumulations; ``while``, ``break``, ``continue``,
``return`` inside a loop and in-place element/slice updates.  Each function
returns a scalar, so ``grad`` applies.

``Case.needs`` lists the control-flow features a case exercises beyond plain
``for`` loops (a subset of `FEATURES`), so coverage of each can be read off.
tests/test_grad_loops.py re-derives ``needs`` from the source, so the labels
cannot drift.

In-place updates only ever target arrays the function created itself
(``np.zeros``, ``np.empty``, ``np.ones``, ``np.zeros_like``,
``np.empty_like``, ``x.copy()``), never an argument.  No variable is first
assigned inside a loop body and then read after the loop (not supported yet
either): loop-carried values are initialized before the loop.

The conventions for argument generators are tests/catalogue.py's: float64
(``dtype="float32"`` cases excepted), in the function's domain, well away
(far more than the 2e-4 * max(1, |x|) that the finite-difference stencil
reaches) from every branch condition, ``break`` threshold, kink and tie,
argument types and shapes independent of ``rng``.  Sizes stay small: arrays
of at most 16 elements, loops of at most 50 trips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from tests.catalogue import _is_differentiable, _nonzero, _normal, _scalar, _spaced, _uniform

# Control-flow features beyond plain `for` loops; `Case.needs` draws from these.
#   while           a `while` loop
#   break           `break`
#   continue        `continue`
#   return_in_loop  `return` inside a loop body
#   inplace         an element or slice update: a[i] = v, a[i] += v, a[i, j] = v,
#                   a[s:e] = v, a[:, j] = v
FEATURES = frozenset({"while", "break", "continue", "return_in_loop", "inplace"})

# ---------------------------------------------------------------------------
# Module-level constants (s2sjax inlines them).

G_OVER_L = 9.81 / 1.5
DAMPING = 0.15
SOFTENING = 0.05
TV_EPS = 0.01
BIG = 1.0e6


# ---------------------------------------------------------------------------
# Helpers called by the functions below (s2sjax inlines them).


def pendulum_rhs(theta, omega):
    return omega, -G_OVER_L * math.sin(theta) - DAMPING * omega


def anharmonic_force(q):
    return -q - 0.1 * q * q * q


def poly_eval(c, t):
    """Horner's rule with a loop: c[0] + c[1] t + ... (highest last)."""
    p = 0.0
    for i in range(c.shape[0] - 1, -1, -1):
        p = p * t + c[i]
    return p


def sq_norm(v):
    s = 0.0
    for e in v:
        s += e * e
    return s


def bump(t):
    return math.exp(-t * t) * math.cos(3.0 * t)


def softmin3(a, b, c, gamma):
    m = min(a, min(b, c))
    s = math.exp(-(a - m) / gamma) + math.exp(-(b - m) / gamma) + math.exp(-(c - m) / gamma)
    return m - gamma * math.log(s)


def first_above(x, t):
    for i in range(x.shape[0]):
        if x[i] > t:
            return x[i] * x[i] + i * t
    return np.sum(x)


# ===========================================================================
# Supported today: `for` loops only, no in-place updates.

# --- polynomials and recurrences


def horner_coeffs(c, x):
    p = 0.0
    for ck in c:
        p = p * x + ck
    return p


def horner_reversed_range(c, x):
    p = 0.0
    for i in range(len(c) - 1, -1, -1):
        p = p * x + c[i]
    return p


def horner_with_derivative(c, x):
    p = 0.0
    dp = 0.0
    for ck in c:
        dp = dp * x + p
        p = p * x + ck
    return p * p + dp


def clenshaw_chebyshev(c, x):
    b1 = 0.0
    b2 = 0.0
    for k in range(len(c) - 1, 0, -1):
        b1, b2 = 2.0 * x * b1 - b2 + c[k], b1
    return x * b1 - b2 + c[0]


def continued_fraction(a, x):
    n = a.shape[0]
    f = a[n - 1]
    for i in range(n - 2, -1, -1):
        f = a[i] + x / f
    return f


def logistic_map(r, x0, n_steps):
    x = x0
    for _ in range(n_steps):
        x = r * x * (1.0 - x)
    return x


def tuple_recurrence(x, y, n_steps):
    a, b = x, y
    for i in range(n_steps):
        a, b = b, math.sin(a) + 0.5 * b * x
    return a * b


def fixed_point_iterations(a, n_iter):
    x = a
    for _ in range(n_iter):
        x = 0.5 * math.cos(x) + a
    return x


# --- integrators


def rk4_pendulum(theta0, omega0, dt, n_steps):
    theta = theta0
    omega = omega0
    for _ in range(n_steps):
        k1t, k1w = pendulum_rhs(theta, omega)
        k2t, k2w = pendulum_rhs(theta + 0.5 * dt * k1t, omega + 0.5 * dt * k1w)
        k3t, k3w = pendulum_rhs(theta + 0.5 * dt * k2t, omega + 0.5 * dt * k2w)
        k4t, k4w = pendulum_rhs(theta + dt * k3t, omega + dt * k3w)
        theta = theta + dt / 6.0 * (k1t + 2.0 * k2t + 2.0 * k3t + k4t)
        omega = omega + dt / 6.0 * (k1w + 2.0 * k2w + 2.0 * k3w + k4w)
    return 0.5 * omega * omega + G_OVER_L * (1.0 - math.cos(theta))


def rk4_linear_system(A, y0, dt, n_steps):
    y = y0
    for _ in range(n_steps):
        k1 = A @ y
        k2 = A @ (y + 0.5 * dt * k1)
        k3 = A @ (y + 0.5 * dt * k2)
        k4 = A @ (y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.sum(np.sin(y))


def verlet_anharmonic(q0, p0, dt, n_steps):
    q = q0
    p = p0
    for _ in range(n_steps):
        p = p + 0.5 * dt * anharmonic_force(q)
        q = q + dt * p
        p = p + 0.5 * dt * anharmonic_force(q)
    return np.sum(0.5 * p * p + 0.5 * q * q + 0.025 * q**4)


def heat_explicit_operator(u0, r, lap, n_steps):
    u = u0
    for _ in range(n_steps):
        u = u + r * (lap @ u)
    return np.sum(u * u)


def gradient_descent_unrolled(x0, a, lr, n_steps):
    x = x0
    for _ in range(n_steps):
        g = 2.0 * a * (x - 1.0) + 0.4 * x**3
        x = x - lr * g
    return np.sum(x * x)


def power_iteration(A, v0, n_iter):
    v = v0
    for _ in range(n_iter):
        w = A @ v
        v = w / np.sqrt(np.sum(w * w))
    return v @ (A @ v)


def trapezoid_integral(a, b, n):
    h = (b - a) / n
    s = 0.5 * (bump(a) + bump(b))
    for i in range(1, n):
        s += bump(a + i * h)
    return s * h


# --- reductions written as loops


def running_prefix_energy(x):
    s = 0.0
    total = 0.0
    for v in x:
        s += v
        total += s * s
    return total


def zip_weighted(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s += a * b * np.exp(-a * a)
    return s


def enumerate_weighted(x):
    s = 0.0
    for i, v in enumerate(x):
        s += (i + 1) * v * v - math.cos(i * v)
    return s


def enumerate_zip(x, y):
    s = 0.0
    for i, (a, b) in enumerate(zip(x, y)):
        s += (i + 1) * a * math.sin(b) + b * b / (i + 2)
    return s


def range_start_stop_step(x, start, stop, step):
    s = 0.0
    for i in range(start, stop, step):
        s += x[i] * x[i - 1] + math.cos(x[i])
    return s


def odd_even_pairs(x):
    s = 0.0
    for i in range(0, len(x) - 1, 2):
        s += x[i] * x[i + 1]
    for i in range(1, len(x), 2):
        s += math.sin(x[i])
    return s


def smoothed_total_variation(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        d = x[i + 1] - x[i]
        s += math.sqrt(d * d + TV_EPS)
    return s


def ema_over_slice(x, alpha):
    e = x[0]
    for v in x[1:]:
        e = alpha * v + (1.0 - alpha) * e
    return e * e + alpha


def streaming_logsumexp(x):
    m = x[0]
    s = 1.0
    for i in range(1, x.shape[0]):
        if x[i] > m:
            s = s * math.exp(m - x[i]) + 1.0
            m = x[i]
        else:
            s += math.exp(x[i] - m)
    return m + math.log(s)


def piecewise_per_element(x):
    s = 0.0
    for v in x:
        if v < -1.0:
            s += -(v**3)
        elif v < 1.0:
            s += math.sin(v) + 2.0 * v
        else:
            s += math.log(v) + v * v
    return s


# --- nested loops and 2-D arrays


def pair_potential_triangular(x):
    e = 0.0
    n = len(x)
    for i in range(n):
        for j in range(i + 1, n):
            d = x[i] - x[j]
            e += 1.0 / (d * d + 0.5)
    return e


def nested_quadratic_form(A, x):
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            s += A[i, j] * x[i] * math.tanh(x[j])
    return s


def rows_of_matrix(A, w):
    s = 0.0
    for row in A:
        t = np.sum(np.sin(row) * w)
        s += t * t
    return s


def rows_branch_on_sum(X):
    s = 0.0
    for row in X:
        m = np.sum(row)
        if m > 1.0:
            s += np.sum(np.exp(-row)) * m
        elif m > -1.0:
            s += np.sum(row * row)
        else:
            s += np.sum(np.cos(row)) - m
    return s


def array_accumulator(X, w):
    acc = np.zeros(X.shape[1])
    for row in X:
        acc += np.tanh(row * w)
    return np.sum(acc * acc)


def attention_rows(Q, K, V):
    out = np.zeros(V.shape[1])
    for q in Q:
        scores = K @ q
        p = np.exp(scores - np.max(scores))
        p = p / np.sum(p)
        out = out + p @ V
    return np.sum(out * out)


# --- recurrent cells (loop-carried arrays)


def rnn_sequence(W, U, b, xs, h0):
    h = h0
    for x_t in xs:
        h = np.tanh(W @ h + U @ x_t + b)
    return np.sum(h * h)


def rnn_enumerate_loss(W, xs, v):
    h = np.zeros(W.shape[0])
    loss = 0.0
    for t, x_t in enumerate(xs):
        h = np.tanh(W @ h + x_t)
        loss += np.sum(h * v) / (t + 1)
    return loss


def gated_cell_zip(W, xs, gates):
    h = np.zeros(W.shape[0])
    for x_t, g in zip(xs, gates):
        z = 1.0 / (1.0 + np.exp(-g * (W @ h)))
        h = (1.0 - z) * h + z * np.tanh(x_t + W @ h)
    return np.sum(h)


# --- loops in called helpers


def helper_with_loop(c, x):
    return poly_eval(c, x) * poly_eval(c, -0.5 * x) + poly_eval(c, math.sin(x))


def helper_loop_inside_loop(X, c):
    total = 0.0
    for row in X:
        total += math.sqrt(sq_norm(row - c) + 1.0)
    return total


# ===========================================================================
# Pending: `while`, `break`, `continue`, `return` in a loop, in-place updates.

# --- while


def newton_sqrt_while(a):
    # Converges to |x^2 - a| <= 1e-13 a; see the case's note on tolerances.
    x = 0.5 * (a + 1.0)
    while abs(x * x - a) > 1e-13 * a:
        x = 0.5 * (x + a / x)
    return x


def kepler_newton_while(M, e):
    # Solves E - e sin E = M by Newton's method.
    E = M
    delta = 1.0
    while abs(delta) > 1e-14:
        delta = (E - e * math.sin(E) - M) / (1.0 - e * math.cos(E))
        E = E - delta
    return E


def horner_while(c, x):
    p = 0.0
    i = len(c) - 1
    while i >= 0:
        p = p * x + c[i]
        i -= 1
    return p


def gradient_descent_while(x0, lr, n_steps):
    x = x0
    k = 0
    while k < n_steps:
        x = x - lr * (x * x * x - 2.0 * x + 1.0)
        k += 1
    return x * x


def euler_until_time(y0, rate, dt, t_end):
    # t_end lies halfway between two multiples of dt: the trip count does not
    # change within the finite-difference step of dt or t_end.
    y = y0
    t = 0.0
    while t < t_end:
        y = y + dt * (-rate * y + math.sin(y))
        t = t + dt
    return y


# --- break / continue / return in a loop


def newton_cubic_break(p, q):
    # Solves x^3 + p x = q (p > 0: one real root) with at most 50 Newton steps.
    x = 1.0
    for _ in range(50):
        dx = (x * x * x + p * x - q) / (3.0 * x * x + p)
        x = x - dx
        if abs(dx) < 1e-15 * (1.0 + abs(x)):
            break
    return x


def fixed_point_break(a):
    x = a
    for _ in range(50):
        x_new = 0.5 * math.cos(x) + a
        if abs(x_new - x) < 1e-15:
            x = x_new
            break
        x = x_new
    return x


def break_on_threshold(x, thresh):
    s = 0.0
    for v in x:
        s += v * v
        if s > thresh:
            break
    return s


def break_inner_nested(X, t):
    total = 0.0
    for row in X:
        s = 0.0
        for v in row:
            if v > t:
                break
            s += v * v
        total += math.sqrt(s + 1.0)
    return total


def continue_skip_negative(x):
    s = 0.0
    for v in x:
        if v < 0.0:
            continue
        s += math.sqrt(v) * v
    return s


def pair_energy_continue(x):
    e = 0.0
    n = x.shape[0]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            d = x[i] - x[j]
            e += x[i] / (d * d + 1.0)
    return e


def return_first_above(x, t):
    for i in range(x.shape[0]):
        if x[i] > t:
            return x[i] * x[i] + i * t
    return 0.0


def return_in_helper_loop(x, t):
    return first_above(x, t) + first_above(x * x, t)


# --- in-place updates of arrays the function created


def prefix_sums_inplace(x):
    c = np.empty_like(x)
    c[0] = x[0]
    for i in range(1, len(x)):
        c[i] = c[i - 1] + x[i]
    return np.sum(np.sin(c))


def cumprod_inplace_aug(x):
    c = x.copy()
    for i in range(1, c.shape[0]):
        c[i] *= c[i - 1]
    return np.sum(c)


def piecewise_into_output(x, w):
    y = np.empty_like(x)
    for i in range(x.shape[0]):
        if x[i] < -1.0:
            y[i] = -(x[i] ** 3)
        elif x[i] < 1.0:
            y[i] = math.sin(x[i]) + 2.0 * x[i]
        else:
            y[i] = math.log(x[i]) + x[i] * x[i]
    return np.sum(y * w)


def heat_stencil_inplace(u0, r, n_steps):
    u = u0.copy()
    n = u.shape[0]
    for _ in range(n_steps):
        u_new = np.empty_like(u)
        u_new[0] = 0.0
        u_new[n - 1] = 0.0
        for i in range(1, n - 1):
            u_new[i] = u[i] + r * (u[i + 1] - 2.0 * u[i] + u[i - 1])
        u = u_new
    return np.sum(u * u)


def heat_stencil_slices(u0, r, n_steps):
    u = u0.copy()
    for _ in range(n_steps):
        u_new = u.copy()
        u_new[1:-1] = u[1:-1] + r * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u = u_new
    return np.sum(u * u)


def gauss_seidel_inplace(A, b, n_sweeps):
    n = b.shape[0]
    x = np.zeros_like(b)
    for _ in range(n_sweeps):
        for i in range(n):
            s = b[i]
            for j in range(n):
                if j != i:
                    s -= A[i, j] * x[j]
            x[i] = s / A[i, i]
    return np.sum(x * x)


def thomas_tridiagonal(a, b, c, d):
    # Solves the tridiagonal system with sub-diagonal a[1:], diagonal b,
    # super-diagonal c[:-1] and right-hand side d.
    n = d.shape[0]
    cp = np.empty(n)
    dp = np.empty(n)
    cp[0] = c[0] / b[0]
    dp[0] = d[0] / b[0]
    for i in range(1, n):
        m = b[i] - a[i] * cp[i - 1]
        cp[i] = c[i] / m
        dp[i] = (d[i] - a[i] * dp[i - 1]) / m
    x = np.zeros(n)
    x[n - 1] = dp[n - 1]
    for i in range(n - 2, -1, -1):
        x[i] = dp[i] - cp[i] * x[i + 1]
    return np.sum(x * x)


def lu_logdet_inplace(A):
    # Doolittle LU without pivoting (A is diagonally dominant) on a copy.
    U = A.copy()
    n = U.shape[0]
    for k in range(n):
        for i in range(k + 1, n):
            factor = U[i, k] / U[k, k]
            for j in range(k, n):
                U[i, j] -= factor * U[k, j]
    logdet = 0.0
    for k in range(n):
        logdet += math.log(U[k, k])
    return logdet


def gram_schmidt_columns(A, W):
    Q = np.zeros_like(A)
    for j in range(A.shape[1]):
        v = A[:, j]
        for k in range(j):
            v = v - np.dot(Q[:, k], A[:, j]) * Q[:, k]
        Q[:, j] = v / np.sqrt(np.sum(v * v))
    return np.sum(Q * W)


def nbody_step(pos, vel, mass, dt, n_steps):
    x = pos.copy()
    v = vel.copy()
    n = x.shape[0]
    for _ in range(n_steps):
        forces = np.zeros_like(x)
        for i in range(n):
            for j in range(n):
                if j != i:
                    d = x[j] - x[i]
                    r2 = np.sum(d * d) + SOFTENING
                    forces[i] += mass[j] * d / (r2 * math.sqrt(r2))
        v = v + dt * forces
        x = x + dt * v
    return np.sum(x * x) + 0.1 * np.sum(v * v)


def rk4_trajectory(A, y0, w, dt, n_steps):
    traj = np.zeros((n_steps + 1, y0.shape[0]))
    traj[0] = y0
    y = y0
    for k in range(n_steps):
        k1 = A @ y
        k2 = A @ (y + 0.5 * dt * k1)
        k3 = A @ (y + 0.5 * dt * k2)
        k4 = A @ (y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        traj[k + 1] = y
    return np.sum(traj * traj * w)


def outer_accumulate_2d(X):
    d = X.shape[1]
    G = np.zeros((d, d))
    for row in X:
        for i in range(d):
            for j in range(d):
                G[i, j] += row[i] * row[j]
    return np.sum(np.sin(G))


def soft_dtw(x, y, gamma):
    n = x.shape[0]
    m = y.shape[0]
    R = np.zeros((n + 1, m + 1))
    R[0, 1:] = BIG
    R[1:, 0] = BIG
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d = x[i - 1] - y[j - 1]
            R[i, j] = d * d + softmin3(R[i - 1, j], R[i, j - 1], R[i - 1, j - 1], gamma)
    return R[n, m]


# ---------------------------------------------------------------------------
# Accumulators that start as an int and become floats (`total = 0`): the
# loop-carried value is a float on every iteration, its tape and adjoint too.


def horner_int_start(c, x):
    p = 0
    for ck in c:
        p = p * x + ck
    return p


def power_int_start(a):
    out = 1
    for i in range(3):
        out = out * a
    return out


def sine_recurrence_int_start(x):
    acc = 0
    for i in range(3):
        acc = np.sin(acc) + x
    return acc


def while_int_start(x, n):
    acc = 0
    i = 0
    while i < n:
        acc = acc * x + 1.0
        i += 1
    return acc


def int_start_float_in_one_branch(x):
    total = 0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            total = total + x[i] ** 2
        else:
            total = total + 1
    return total


def scaled_or_same(flag, x):
    """A helper that branches on a flag its callers pass as a constant."""
    if flag == 0:
        return x
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i] * flag
    return out


def halved_until_small(v):
    """Returns an array from inside its loop."""
    for i in range(4):
        if np.sum(v * v) < 1.0:
            return np.tanh(v)
        v = v * 0.5
    return v


def cube_root_newton(a):
    """Returns a pair (root, steps) from inside its loop."""
    y = a.copy()
    for i in range(40):
        r = y * y * y - a
        if np.max(np.abs(r)) < 1e-13:
            return y, i
        y = y - r / (3.0 * y * y)
    return y, -1


def arrays_returned_from_loops(x):
    root, steps = cube_root_newton(x * x + 1.0)
    return np.sum(halved_until_small(x) * root) + steps * 0.0


def helper_with_constant_flag_in_loop(x):
    for k in range(3):
        x = scaled_or_same(0, x)
        x = scaled_or_same(2, x)
    return np.sum(np.sin(x))


# ===========================================================================
# Argument generators.


def _args_horner(rng):
    return (_uniform(rng, (8,), -1.0, 1.0), _scalar(rng, -1.2, 1.2))


def _args_continued_fraction(rng):
    # a >= 1 and x > 0 keep every partial fraction >= 1.
    return (_uniform(rng, (10,), 1.0, 2.0), _scalar(rng, 0.2, 1.0))


def _args_piecewise(rng):
    # Four values in each branch, each at least 0.1 from the thresholds -1 and 1.
    parts = [
        rng.uniform(-2.5, -1.1, size=4),
        rng.uniform(-0.9, 0.9, size=4),
        rng.uniform(1.1, 2.5, size=4),
    ]
    return (rng.permutation(np.concatenate(parts)),)


def _args_rows_branch_on_sum(rng):
    # Rows whose sums are >= 1.3, in [-0.7, 0.7], and <= -1.3 (two each).
    rows = []
    for lo, hi in ((1.3, 2.5), (-0.7, 0.7), (-2.5, -1.3)) * 2:
        row = _normal(rng, (4,), 0.5)
        target = rng.uniform(lo, hi)
        rows.append(row - np.mean(row) + target / 4.0)
    return (np.array(rows)[rng.permutation(6)],)


def _args_rnn_sequence(rng):
    return (
        _normal(rng, (4, 4), 0.4),
        _normal(rng, (4, 3), 0.5),
        _normal(rng, (4,), 0.1),
        _normal(rng, (6, 3)),
        _normal(rng, (4,), 0.5),
    )


def _args_power_iteration(rng):
    # Symmetric with eigenvalues 1 + 3 (dominant), well separated from the rest.
    Q, _ = np.linalg.qr(_normal(rng, (5, 5)))
    lam = np.array([4.0, 1.5, 1.0, 0.7, 0.4])
    A = (Q * lam) @ Q.T + _normal(rng, (5, 5), 0.02)
    v0 = Q[:, 0] + _normal(rng, (5,), 0.3)
    return (A, v0, 12)


def _laplacian(n):
    lap = -2.0 * np.eye(n)
    lap[np.arange(n - 1), np.arange(1, n)] = 1.0
    lap[np.arange(1, n), np.arange(n - 1)] = 1.0
    return lap


def _args_heat_operator(rng):
    return (_uniform(rng, (12,), 0.0, 1.0), _scalar(rng, 0.1, 0.4), _laplacian(12), 30)


def _args_heat_stencil(rng):
    return (_uniform(rng, (12,), 0.0, 1.0), _scalar(rng, 0.1, 0.4), 30)


def _args_streaming_logsumexp(rng):
    return (_spaced(rng, (12,), -3.0, 3.0),)


def _args_attention(rng):
    return (_normal(rng, (4, 3)), _normal(rng, (5, 3)), _normal(rng, (5, 2)))


def _args_diag_dominant(rng, n):
    A = _normal(rng, (n, n), 0.3)
    return A + np.diag(np.sum(np.abs(A), axis=1) + rng.uniform(1.0, 2.0, size=n))


def _args_gauss_seidel(rng):
    return (_args_diag_dominant(rng, 5), _normal(rng, (5,)), 8)


def _args_thomas(rng):
    n = 8
    a = _uniform(rng, (n,), -1.0, 1.0)
    c = _uniform(rng, (n,), -1.0, 1.0)
    b = np.abs(a) + np.abs(c) + rng.uniform(1.0, 2.0, size=n)
    return (a, b, c, _normal(rng, (n,)))


def _args_nbody(rng):
    pos = _normal(rng, (4, 2))
    # Spread the bodies at least 1 apart.
    pos = pos + 2.0 * np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    return (
        pos,
        _normal(rng, (4, 2), 0.2),
        _uniform(rng, (4,), 0.5, 1.5),
        _scalar(rng, 0.01, 0.03),
        10,
    )


def _args_newton_cubic(rng):
    return (_scalar(rng, 0.5, 2.0), _scalar(rng, -2.0, 2.0))


def _args_break_on_threshold(rng):
    # The partial sums of v*v increase by at least 0.25 per step; the threshold
    # lies halfway between the 5th and the 6th.
    x = _nonzero(rng, (10,), 0.5, 1.0)
    partial = np.cumsum(x * x)
    return (x, float(0.5 * (partial[4] + partial[5])))


def _args_break_inner_nested(rng):
    # Values at least 0.1 from the threshold 0.8; each row breaks somewhere
    # (or not at all) depending on where its first large value falls.
    X = _uniform(rng, (4, 5), -1.5, 0.7)
    X[0, 3] = 1.2
    X[1, 1] = 1.5
    X[3, 0] = 1.0
    return (X, 0.8)


def _args_return_first_above(rng):
    # Every value at least 0.1 from t = 0.5; x[5] is the first one above.
    below = rng.uniform(-1.0, 0.4, size=5)
    first = rng.uniform(0.6, 1.5, size=1)
    rest = np.where(
        rng.uniform(size=4) < 0.5, rng.uniform(-1.0, 0.4, size=4), rng.uniform(0.6, 1.5, size=4)
    )
    return (np.concatenate([below, first, rest]), 0.5)


def _args_return_in_helper(rng):
    # x and x*x both stay at least 0.1 from t = 0.5, and both cross it.
    x = np.concatenate([rng.uniform(0.1, 0.35, size=4), rng.uniform(0.8, 1.3, size=4)])
    return (rng.permutation(x), 0.5)


def _args_soft_dtw(rng):
    return (_normal(rng, (6,)), _normal(rng, (5,)), _scalar(rng, 0.5, 1.0))


def _args_euler_until_time(rng):
    dt = _scalar(rng, 0.04, 0.06)
    return (_scalar(rng, 0.5, 1.5), _scalar(rng, 0.5, 1.5), dt, 20.5 * dt)


def _args_rk4_trajectory(rng):
    return (
        _normal(rng, (3, 3), 0.5),
        _normal(rng, (3,)),
        _uniform(rng, (16, 3), 0.5, 1.5),
        0.1,
        15,
    )


def _f32(*values):
    return tuple(
        np.float32(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float32) for v in values
    )


# ===========================================================================
# The catalogue.


@dataclass(frozen=True)
class Case:
    """One catalogue entry.

    name:       unique; the test id.
    fun:        the function to transform (plain Python, scalar output).
    make_args:  rng -> tuple of positional arguments.
    needs:      the features of FEATURES the function uses; () for plain
                `for` loops.
    argnums:    the arguments to differentiate; None means every float argument.
    dtype:      "float64", or "float32" for cases that get looser tolerances.
    rtol, atol: per-case tolerance against finite differences (None: the
                test's default for `dtype`); `note` must say why.
    """

    name: str
    fun: Callable[..., object]
    make_args: Callable[[np.random.Generator], tuple]
    needs: tuple[str, ...] = ()
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


_CONVERGED = (
    "the function is an iteration run to convergence: its derivative is that of "
    "the converged solution only up to the convergence error (~1e-8 relative after "
    "the last step), and a finite-difference step may change the trip count"
)

CASES: list[Case] = [
    # ---------------------------------------------------------------- supported
    # --- polynomials and recurrences
    Case("horner_coeffs", horner_coeffs, _args_horner),
    Case("horner_reversed_range", horner_reversed_range, _args_horner),
    Case("horner_with_derivative", horner_with_derivative, _args_horner),
    Case("horner_float32", horner_coeffs, lambda rng: _f32(*_args_horner(rng)), dtype="float32"),
    Case(
        "clenshaw_chebyshev",
        clenshaw_chebyshev,
        lambda rng: (_uniform(rng, (9,), -1.0, 1.0), _scalar(rng, -0.9, 0.9)),
    ),
    Case("continued_fraction", continued_fraction, _args_continued_fraction),
    Case(
        "logistic_map",
        logistic_map,
        lambda rng: (_scalar(rng, 2.6, 2.9), _scalar(rng, 0.2, 0.8), 12),
    ),
    Case(
        "tuple_recurrence",
        tuple_recurrence,
        lambda rng: (_scalar(rng, -0.8, 0.8), _scalar(rng, -0.8, 0.8), 10),
    ),
    Case(
        "fixed_point_iterations", fixed_point_iterations, lambda rng: (_scalar(rng, -1.0, 1.0), 25)
    ),
    # --- integrators
    Case(
        "rk4_pendulum",
        rk4_pendulum,
        lambda rng: (
            _scalar(rng, -1.0, 1.0),
            _scalar(rng, -1.0, 1.0),
            _scalar(rng, 0.02, 0.08),
            20,
        ),
    ),
    Case(
        "rk4_linear_system",
        rk4_linear_system,
        lambda rng: (_normal(rng, (4, 4), 0.5), _normal(rng, (4,)), _scalar(rng, 0.05, 0.15), 15),
    ),
    Case(
        "verlet_anharmonic",
        verlet_anharmonic,
        lambda rng: (_normal(rng, (6,)), _normal(rng, (6,), 0.5), _scalar(rng, 0.05, 0.1), 30),
    ),
    Case("heat_explicit_operator", heat_explicit_operator, _args_heat_operator),
    Case(
        "gradient_descent_unrolled",
        gradient_descent_unrolled,
        lambda rng: (
            _normal(rng, (5,)),
            _uniform(rng, (5,), 0.5, 1.5),
            _scalar(rng, 0.05, 0.1),
            20,
        ),
    ),
    Case("power_iteration", power_iteration, _args_power_iteration),
    Case(
        "trapezoid_integral",
        trapezoid_integral,
        lambda rng: (_scalar(rng, -1.5, -0.5), _scalar(rng, 0.5, 2.0), 40),
    ),
    # --- reductions written as loops
    Case("running_prefix_energy", running_prefix_energy, lambda rng: (_normal(rng, (10,)),)),
    Case("zip_weighted", zip_weighted, lambda rng: (_normal(rng, (8,)), _normal(rng, (8,)))),
    Case("enumerate_weighted", enumerate_weighted, lambda rng: (_normal(rng, (9,)),)),
    Case("enumerate_zip", enumerate_zip, lambda rng: (_normal(rng, (7,)), _normal(rng, (7,)))),
    Case(
        "range_start_stop_step", range_start_stop_step, lambda rng: (_normal(rng, (12,)), 2, 11, 3)
    ),
    Case("odd_even_pairs", odd_even_pairs, lambda rng: (_normal(rng, (9,)),)),
    Case("smoothed_total_variation", smoothed_total_variation, lambda rng: (_normal(rng, (10,)),)),
    Case(
        "ema_over_slice", ema_over_slice, lambda rng: (_normal(rng, (10,)), _scalar(rng, 0.2, 0.8))
    ),
    Case("streaming_logsumexp", streaming_logsumexp, _args_streaming_logsumexp),
    Case("piecewise_per_element", piecewise_per_element, _args_piecewise),
    # --- nested loops and 2-D arrays
    Case("pair_potential_triangular", pair_potential_triangular, lambda rng: (_normal(rng, (8,)),)),
    Case(
        "nested_quadratic_form",
        nested_quadratic_form,
        lambda rng: (_normal(rng, (4, 4)), _normal(rng, (4,))),
    ),
    Case("rows_of_matrix", rows_of_matrix, lambda rng: (_normal(rng, (5, 3)), _normal(rng, (3,)))),
    Case("rows_branch_on_sum", rows_branch_on_sum, _args_rows_branch_on_sum),
    Case(
        "array_accumulator",
        array_accumulator,
        lambda rng: (_normal(rng, (6, 4)), _normal(rng, (4,))),
    ),
    Case("attention_rows", attention_rows, _args_attention),
    # --- recurrent cells
    Case("rnn_sequence", rnn_sequence, _args_rnn_sequence),
    Case(
        "rnn_enumerate_loss",
        rnn_enumerate_loss,
        lambda rng: (_normal(rng, (4, 4), 0.4), _normal(rng, (8, 4)), _normal(rng, (4,))),
    ),
    Case(
        "gated_cell_zip",
        gated_cell_zip,
        lambda rng: (
            _normal(rng, (3, 3), 0.5),
            _normal(rng, (6, 3)),
            _uniform(rng, (6,), 0.5, 1.5),
        ),
    ),
    # --- loops in called helpers
    Case("helper_with_loop", helper_with_loop, _args_horner),
    Case(
        "helper_loop_inside_loop",
        helper_loop_inside_loop,
        lambda rng: (_normal(rng, (5, 3)), _normal(rng, (3,))),
    ),
    # ------------------------------------------------------------------ pending
    # --- while
    Case(
        "newton_sqrt_while",
        newton_sqrt_while,
        lambda rng: (_scalar(rng, 0.5, 4.0),),
        needs=("while",),
        rtol=1e-6,
        note=_CONVERGED,
    ),
    Case(
        "kepler_newton_while",
        kepler_newton_while,
        lambda rng: (_scalar(rng, 0.3, 2.5), _scalar(rng, 0.1, 0.6)),
        needs=("while",),
        rtol=1e-6,
        note=_CONVERGED,
    ),
    Case("horner_while", horner_while, _args_horner, needs=("while",)),
    Case(
        "gradient_descent_while",
        gradient_descent_while,
        lambda rng: (_scalar(rng, 1.2, 1.5), _scalar(rng, 0.05, 0.1), 20),
        needs=("while",),
    ),
    Case("euler_until_time", euler_until_time, _args_euler_until_time, needs=("while",)),
    # --- break / continue / return in a loop
    Case(
        "newton_cubic_break",
        newton_cubic_break,
        _args_newton_cubic,
        needs=("break",),
        rtol=1e-6,
        note=_CONVERGED,
    ),
    Case(
        "fixed_point_break",
        fixed_point_break,
        lambda rng: (_scalar(rng, -1.0, 1.0),),
        needs=("break",),
        rtol=1e-6,
        note=_CONVERGED,
    ),
    Case("break_on_threshold", break_on_threshold, _args_break_on_threshold, needs=("break",)),
    Case("break_inner_nested", break_inner_nested, _args_break_inner_nested, needs=("break",)),
    Case(
        "continue_skip_negative",
        continue_skip_negative,
        lambda rng: (_nonzero(rng, (10,), 0.2, 2.0),),
        needs=("continue",),
    ),
    Case(
        "pair_energy_continue",
        pair_energy_continue,
        lambda rng: (_normal(rng, (6,)),),
        needs=("continue",),
    ),
    Case(
        "return_first_above",
        return_first_above,
        _args_return_first_above,
        needs=("return_in_loop",),
    ),
    Case(
        "return_in_helper_loop",
        return_in_helper_loop,
        _args_return_in_helper,
        needs=("return_in_loop",),
    ),
    # --- in-place updates
    Case(
        "prefix_sums_inplace",
        prefix_sums_inplace,
        lambda rng: (_normal(rng, (10,)),),
        needs=("inplace",),
    ),
    Case(
        "cumprod_inplace_aug",
        cumprod_inplace_aug,
        lambda rng: (_uniform(rng, (8,), 0.6, 1.4),),
        needs=("inplace",),
    ),
    Case(
        "piecewise_into_output",
        piecewise_into_output,
        lambda rng: _args_piecewise(rng) + (_normal(rng, (12,)),),
        needs=("inplace",),
    ),
    Case("heat_stencil_inplace", heat_stencil_inplace, _args_heat_stencil, needs=("inplace",)),
    Case("heat_stencil_slices", heat_stencil_slices, _args_heat_stencil, needs=("inplace",)),
    Case("gauss_seidel_inplace", gauss_seidel_inplace, _args_gauss_seidel, needs=("inplace",)),
    Case("thomas_tridiagonal", thomas_tridiagonal, _args_thomas, needs=("inplace",)),
    Case(
        "lu_logdet_inplace",
        lu_logdet_inplace,
        lambda rng: (_args_diag_dominant(rng, 5),),
        needs=("inplace",),
    ),
    Case(
        "gram_schmidt_columns",
        gram_schmidt_columns,
        lambda rng: (_normal(rng, (5, 3)), _normal(rng, (5, 3))),
        needs=("inplace",),
    ),
    Case("nbody_step", nbody_step, _args_nbody, needs=("inplace",)),
    Case("rk4_trajectory", rk4_trajectory, _args_rk4_trajectory, needs=("inplace",)),
    Case(
        "outer_accumulate_2d",
        outer_accumulate_2d,
        lambda rng: (_normal(rng, (5, 3), 0.5),),
        needs=("inplace",),
    ),
    Case("soft_dtw", soft_dtw, _args_soft_dtw, needs=("inplace",)),
    # --- accumulators that start as an int
    Case("horner_int_start", horner_int_start, _args_horner),
    Case("power_int_start", power_int_start, lambda rng: (_scalar(rng, -2.0, 2.0),)),
    Case(
        "sine_recurrence_int_start",
        sine_recurrence_int_start,
        lambda rng: (_scalar(rng, -2.0, 2.0),),
    ),
    Case(
        "while_int_start",
        while_int_start,
        lambda rng: (_scalar(rng, -1.5, 1.5), 4),
        argnums=(0,),
        needs=("while",),
    ),
    # no element within 0.1 of the branch at 0
    Case(
        "int_start_float_in_one_branch",
        int_start_float_in_one_branch,
        lambda rng: (_spaced(rng, (6,), -2.0, 2.0),),
    ),
    # |x|^2 far from the thresholds 1, 4, 16, 64 of halved_until_small
    Case(
        "arrays_returned_from_loops",
        arrays_returned_from_loops,
        lambda rng: (np.array([1.3, -0.7, 0.4]) * rng.uniform(0.95, 1.05),),
        needs=("return_in_loop",),
    ),
    Case(
        "helper_with_constant_flag_in_loop",
        helper_with_constant_flag_in_loop,
        lambda rng: (_normal(rng, (4,)),),
        needs=("inplace",),
    ),
]
