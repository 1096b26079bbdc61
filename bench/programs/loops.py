"""Loop nests and time loops with in-place writes: Numba's benchmark suite and npbench's
polybench stencils. autograd cannot differentiate in-place writes, so it sits these out."""

import math

import numba
import numpy as np

from bench.programs import Program

lax = None  # jax.lax, bound by `rebind` in the *_jax functions
IN_PLACE = "in-place array writes (autograd has no item assignment)"
RNG = np.random.default_rng

# --- centred differences: numba/numba-benchmark, benchmarks/bench_centdiff.py --------------

DX = 1.5


def centered_difference_range2d(u, D, dx=1.0):
    m, n = u.shape
    for i in range(1, m - 1):
        for j in range(1, n - 1):
            D[i, j] = (
                u[i + 1, j] + u[i, j + 1] + u[i - 1, j] + u[i, j - 1] - 4.0 * u[i, j]
            ) / dx**2
    return D


def centdiff(u):
    """The 2-D five-point difference of bench_centdiff.py, 250 x 250; the objective sum(D²)."""
    D = centered_difference_range2d(u, np.zeros_like(u), DX)
    return np.sum(D * D)


def centdiff_jax(u):
    D = np.zeros_like(u)
    inner = u[2:, 1:-1] + u[1:-1, 2:] + u[:-2, 1:-1] + u[1:-1, :-2] - 4.0 * u[1:-1, 1:-1]
    D = D.at[1:-1, 1:-1].set(inner / DX**2)
    return np.sum(D * D)


@numba.njit
def centdiff_grad_by_hand(u):
    """One pass: each D[i, j] is written once, so nothing is taped."""
    m, n = u.shape
    u_bar = np.zeros_like(u)
    scale = 1.0 / DX**2
    for i in range(1, m - 1):
        for j in range(1, n - 1):
            d = (u[i + 1, j] + u[i, j + 1] + u[i - 1, j] + u[i, j - 1] - 4.0 * u[i, j]) * scale
            g = 2.0 * d * scale
            u_bar[i + 1, j] += g
            u_bar[i, j + 1] += g
            u_bar[i - 1, j] += g
            u_bar[i, j - 1] += g
            u_bar[i, j] -= 4.0 * g
    return u_bar


# --- Laplace sweeps: numba/numba-benchmark, benchmarks/bench_laplace.py ---------------------

DX2 = DY2 = 0.1 * 0.1


def laplace(top, n_iter):
    """bench_laplace.py's Jacobi sweeps (N = 150, 200 iterations), the top row an input."""
    n = top.shape[0]
    u = np.zeros((n, n))
    u[0] = top
    for i in range(n_iter):
        u[1:-1, 1:-1] = (
            (u[2:, 1:-1] + u[:-2, 1:-1]) * DY2 + (u[1:-1, 2:] + u[1:-1, :-2]) * DX2
        ) / (2 * (DX2 + DY2))
    return np.sum(u * u)


def laplace_jax(top, n_iter):
    n = top.shape[0]
    u = np.zeros((n, n)).at[0].set(top)

    def sweep(i, u):
        inner = (u[2:, 1:-1] + u[:-2, 1:-1]) * DY2 + (u[1:-1, 2:] + u[1:-1, :-2]) * DX2
        return u.at[1:-1, 1:-1].set(inner / (2 * (DX2 + DY2)))

    u = lax.fori_loop(0, n_iter, sweep, u)
    return np.sum(u * u)


# --- Jacobi 1-D, 2-D and heat 3-D: spcl/npbench, npbench/benchmarks/polybench/ --------------


def jacobi_1d_kernel(TSTEPS, A, B):
    for t in range(1, TSTEPS):
        B[1:-1] = 0.33333 * (A[:-2] + A[1:-1] + A[2:])
        A[1:-1] = 0.33333 * (B[:-2] + B[1:-1] + B[2:])


def jacobi_1d(A, B, tsteps):
    """polybench/jacobi_1d/jacobi_1d_numpy.py at size S (N = 3200, 800 steps); sum(A²)."""
    A, B = A.copy(), B.copy()
    jacobi_1d_kernel(tsteps, A, B)
    return np.sum(A * A)


def jacobi_1d_jax(A, B, tsteps):
    def step(t, AB):
        A, B = AB
        B = B.at[1:-1].set(0.33333 * (A[:-2] + A[1:-1] + A[2:]))
        return A.at[1:-1].set(0.33333 * (B[:-2] + B[1:-1] + B[2:])), B

    A, B = lax.fori_loop(1, tsteps, step, (A, B))
    return np.sum(A * A)


def jacobi_2d_kernel(TSTEPS, A, B):
    for t in range(1, TSTEPS):
        B[1:-1, 1:-1] = 0.2 * (
            A[1:-1, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:] + A[2:, 1:-1] + A[:-2, 1:-1]
        )
        A[1:-1, 1:-1] = 0.2 * (
            B[1:-1, 1:-1] + B[1:-1, :-2] + B[1:-1, 2:] + B[2:, 1:-1] + B[:-2, 1:-1]
        )


def jacobi_2d(A, B, tsteps):
    """polybench/jacobi_2d/jacobi_2d_numpy.py at size S (N = 150, 50 steps); sum(A²)."""
    A, B = A.copy(), B.copy()
    jacobi_2d_kernel(tsteps, A, B)
    return np.sum(A * A)


def jacobi_2d_jax(A, B, tsteps):
    for t in range(1, tsteps):
        B = B.at[1:-1, 1:-1].set(
            0.2 * (A[1:-1, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:] + A[2:, 1:-1] + A[:-2, 1:-1])
        )
        A = A.at[1:-1, 1:-1].set(
            0.2 * (B[1:-1, 1:-1] + B[1:-1, :-2] + B[1:-1, 2:] + B[2:, 1:-1] + B[:-2, 1:-1])
        )
    return np.sum(A * A)


def heat_3d_step(A):
    """The 3-D Laplacian update of polybench's heat_3d, read from A."""
    return (
        0.125 * (A[2:, 1:-1, 1:-1] - 2.0 * A[1:-1, 1:-1, 1:-1] + A[:-2, 1:-1, 1:-1])
        + 0.125 * (A[1:-1, 2:, 1:-1] - 2.0 * A[1:-1, 1:-1, 1:-1] + A[1:-1, :-2, 1:-1])
        + 0.125 * (A[1:-1, 1:-1, 2:] - 2.0 * A[1:-1, 1:-1, 1:-1] + A[1:-1, 1:-1, 0:-2])
        + A[1:-1, 1:-1, 1:-1]
    )


def heat_3d_kernel(TSTEPS, A, B):
    for t in range(1, TSTEPS):
        B[1:-1, 1:-1, 1:-1] = heat_3d_step(A)
        A[1:-1, 1:-1, 1:-1] = heat_3d_step(B)


def heat_3d(A, B, tsteps):
    """polybench/heat_3d/heat_3d_numpy.py at size S (N = 25, 25 steps); sum(A²)."""
    A, B = A.copy(), B.copy()
    heat_3d_kernel(tsteps, A, B)
    return np.sum(A * A)


def heat_3d_jax(A, B, tsteps):
    for t in range(1, tsteps):
        B = B.at[1:-1, 1:-1, 1:-1].set(heat_3d_step(A))
        A = A.at[1:-1, 1:-1, 1:-1].set(heat_3d_step(B))
    return np.sum(A * A)


def two_grids(shape, tsteps):
    rng = RNG(1)
    return rng.uniform(0, 1, shape), rng.uniform(0, 1, shape), tsteps


# --- Black-Scholes: numba/numba-benchmark, benchmarks/bench_blackscholes.py -----------------

RISKFREE, VOLATILITY = 0.02, 0.30
A1, A2, A3, A4, A5 = 0.31938153, -0.356563782, 1.781477937, -1.821255978, 1.330274429
RSQRT2PI = 0.39894228040143267793994605993438


def cnd(d):
    K = 1.0 / (1.0 + 0.2316419 * math.fabs(d))
    ret_val = (
        RSQRT2PI * math.exp(-0.5 * d * d) * (K * (A1 + K * (A2 + K * (A3 + K * (A4 + K * A5)))))
    )
    if d > 0:
        ret_val = 1.0 - ret_val
    return ret_val


def blackscholes_kernel(callResult, putResult, stockPrice, optionStrike, optionYears, R, V):
    S, X, T = stockPrice, optionStrike, optionYears
    for i in range(len(S)):
        sqrtT = math.sqrt(T[i])
        d1 = (math.log(S[i] / X[i]) + (R + 0.5 * V * V) * T[i]) / (V * sqrtT)
        d2 = d1 - V * sqrtT
        cndd1 = cnd(d1)
        cndd2 = cnd(d2)
        expRT = math.exp((-1.0 * R) * T[i])
        callResult[i] = S[i] * cndd1 - X[i] * expRT * cndd2
        putResult[i] = X[i] * expRT * (1.0 - cndd2) - S[i] * (1.0 - cndd1)


def blackscholes(stock, strike, years):
    """bench_blackscholes.py's element loop, N = 16384; sum of calls and puts."""
    call, put = np.zeros_like(stock), np.zeros_like(stock)
    blackscholes_kernel(call, put, stock, strike, years, RISKFREE, VOLATILITY)
    return np.sum(call) + np.sum(put)


def cnd_jax(d):
    K = 1.0 / (1.0 + 0.2316419 * np.abs(d))
    ret_val = RSQRT2PI * np.exp(-0.5 * d * d) * (K * (A1 + K * (A2 + K * (A3 + K * (A4 + K * A5)))))
    return np.where(d > 0, 1.0 - ret_val, ret_val)


def blackscholes_jax(S, X, T):
    R, V = RISKFREE, VOLATILITY
    sqrtT = np.sqrt(T)
    d1 = (np.log(S / X) + (R + 0.5 * V * V) * T) / (V * sqrtT)
    d2 = d1 - V * sqrtT
    cndd1, cndd2 = cnd_jax(d1), cnd_jax(d2)
    expRT = np.exp((-1.0 * R) * T)
    call = S * cndd1 - X * expRT * cndd2
    put = X * expRT * (1.0 - cndd2) - S * (1.0 - cndd1)
    return np.sum(call) + np.sum(put)


def options(n):
    rng = RNG(2)
    return rng.uniform(5.0, 30.0, n), rng.uniform(1.0, 100.0, n), rng.uniform(0.25, 10.0, n)


NUMBA = "numba/numba-benchmark"
POLYBENCH = "spcl/npbench, npbench/benchmarks/polybench"
PROGRAMS = [
    Program(
        "centred differences",
        f"{NUMBA}, benchmarks/bench_centdiff.py",
        centdiff,
        lambda tiny: (RNG(0).uniform(0, 1, (6, 6) if tiny else (250, 250)),),
        jax_objective=centdiff_jax,
        autograd=IN_PLACE,
        numba_grad=centdiff_grad_by_hand,
    ),
    Program(
        "Laplace sweeps",
        f"{NUMBA}, benchmarks/bench_laplace.py",
        laplace,
        lambda tiny: (RNG(3).uniform(0, 1, 6 if tiny else 150), 3 if tiny else 200),
        jax_objective=laplace_jax,
        autograd=IN_PLACE,
    ),
    Program(
        "Jacobi 1-D",
        f"{POLYBENCH}/jacobi_1d/jacobi_1d_numpy.py",
        jacobi_1d,
        lambda tiny: two_grids(8 if tiny else 3200, 3 if tiny else 800),
        argnums=(0, 1),
        jax_objective=jacobi_1d_jax,
        autograd=IN_PLACE,
    ),
    Program(
        "Jacobi 2-D",
        f"{POLYBENCH}/jacobi_2d/jacobi_2d_numpy.py",
        jacobi_2d,
        lambda tiny: two_grids((5, 5) if tiny else (150, 150), 3 if tiny else 50),
        argnums=(0, 1),
        jax_objective=jacobi_2d_jax,
        autograd=IN_PLACE,
    ),
    Program(
        "heat 3-D",
        f"{POLYBENCH}/heat_3d/heat_3d_numpy.py",
        heat_3d,
        lambda tiny: two_grids((4, 4, 4) if tiny else (25, 25, 25), 3 if tiny else 25),
        argnums=(0, 1),
        jax_objective=heat_3d_jax,
        autograd=IN_PLACE,
    ),
    Program(
        "Black-Scholes",
        f"{NUMBA}, benchmarks/bench_blackscholes.py",
        blackscholes,
        lambda tiny: options(5 if tiny else 16384),
        argnums=(0, 1, 2),
        jax_objective=blackscholes_jax,
        autograd=IN_PLACE,
    ),
]
