"""W2 in forward mode: a JVP of the recurrence and a Hessian-vector product (jvp of grad).

    x = x0; for i in range(n): x = x + 0.01 * (-k * x + sin(x)),  n = 10**4

Targets (issue 4): the JVP costs at most 1.5x the primal loop (forward mode
needs no tape), the Hessian-vector product at most 4x the gradient.
"""

import math

import numba

import s2sjax
from bench.report import Target, WorkloadResult
from bench.timing import check_close, measure
from bench.w2_loop import K, N, X0, REPEATS, adjoint_by_hand, recurrence

V = (1.0, -0.5)  # the tangent direction in (k, x0)


primal_by_hand = numba.njit(recurrence)  # the loop as written, compiled by Numba directly


@numba.njit
def tangent_by_hand(k, x0, n, k_dot, x0_dot):
    x, x_dot = x0, x0_dot
    for i in range(n):
        x_dot = x_dot + 0.01 * (-k_dot * x - k * x_dot + math.cos(x) * x_dot)
        x = x + 0.01 * (-k * x + math.sin(x))
    return x, x_dot


def hvp_by_differences(step=1e-5):
    """(H v) by central differences of the hand-written gradient: the independent check."""
    plus = adjoint_by_hand(K + step * V[0], X0 + step * V[1], N)
    minus = adjoint_by_hand(K - step * V[0], X0 - step * V[1], N)
    return tuple((p - m) / (2 * step) for p, m in zip(plus[1:], minus[1:]))


def run_jvp(jax, autograd):
    def jvp():
        return s2sjax.jvp(recurrence, (K, X0, N), (V[0], V[1], 0))

    check_close("s2sjax.jvp", jvp(), tangent_by_hand(K, X0, N, *V), rtol=1e-12)
    return WorkloadResult(
        name="W2-jvp",
        title="jvp of the 10**4-step recurrence along (k, x0)",
        target=Target("ratio", 1.5),
        s2sjax=measure("s2sjax.jvp", jvp, (), calls=20, repeats=REPEATS),
        baseline=measure(
            "numba.njit primal loop, by hand", primal_by_hand, (K, X0, N), calls=20, repeats=REPEATS
        ),
    )


def run_hvp(jax, autograd):
    gradient = s2sjax.grad(recurrence, argnums=(0, 1))

    def hvp():
        return s2sjax.jvp(gradient, (K, X0, N), (V[0], V[1], 0))[1]

    check_close("s2sjax.jvp(grad)", hvp(), hvp_by_differences(), rtol=1e-6)
    return WorkloadResult(
        name="W2-hvp",
        title="Hessian-vector product (jvp of grad) of the recurrence, vs its gradient",
        target=Target("ratio", 4.0),
        s2sjax=measure("s2sjax.jvp(s2sjax.grad)", hvp, (), calls=20, repeats=REPEATS),
        baseline=measure("s2sjax.grad", gradient, (K, X0, N), calls=20, repeats=REPEATS),
    )
