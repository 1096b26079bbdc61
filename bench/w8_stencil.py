"""W8: the gradient of a centred-difference stencil written element by element in a loop nest.

    d = zeros_like(u)
    for k in range(sweeps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                d[i, j] = 0.5 * (u[i+1, j] - u[i-1, j]) + 0.5 * (u[i, j+1] - u[i, j-1])
                          + 0.5 * d[i, j] ** 2
    return sum(d * d)

as Numba's benchmark suite writes centred differences (the double loop over `D[i, j]`), swept a
few times so that each sweep overwrites what the last one wrote: 250 x 250, 4 sweeps, the
gradient in `u`. `s2sjax.grad` (cpu) is timed against a hand-written Numba adjoint (one float
taped per write) and, if installed, `jax.jit(jax.grad)` of the vectorized sweep. Also printed:
the tape, in bytes, of one gradient: every array s2sjax's generated code allocates for tapes
(`rt.tape`, and `rt.grow` or `rt.reserve` when a growing tape doubles), counted on the `python`
target, forward and backward sweeps together, against the bytes the loop nest overwrites (8 per
write).
"""

import numba
import numpy as np

import s2sjax
from bench import tapes
from bench.report import Target, WorkloadResult, format_seconds
from bench.timing import check_then_measure

N, SWEEPS = 250, 4
TAPE_N = 40  # the tape is counted on the python target, where 250 x 250 would take minutes
REPEATS = 15


def centred(u, sweeps):
    n = u.shape[0]
    d = np.zeros_like(u)
    for k in range(sweeps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                d[i, j] = (
                    0.5 * (u[i + 1, j] - u[i - 1, j])
                    + 0.5 * (u[i, j + 1] - u[i, j - 1])
                    + 0.5 * d[i, j] * d[i, j]
                )
    return np.sum(d * d)


@numba.njit
def grad_by_hand(u, sweeps):
    """The gradient in `u`, taping each overwritten element once: what one would write by hand."""
    n = u.shape[0]
    d = np.zeros_like(u)
    old = np.empty((sweeps, n - 2, n - 2))
    for k in range(sweeps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                old[k, i - 1, j - 1] = d[i, j]
                centre = 0.5 * (u[i + 1, j] - u[i - 1, j]) + 0.5 * (u[i, j + 1] - u[i, j - 1])
                d[i, j] = centre + 0.5 * d[i, j] * d[i, j]
    d_bar = 2.0 * d
    u_bar = np.zeros_like(u)
    for k in range(sweeps - 1, -1, -1):
        for i in range(n - 2, 0, -1):
            for j in range(n - 2, 0, -1):
                g = d_bar[i, j]
                previous = old[k, i - 1, j - 1]
                d[i, j] = previous
                d_bar[i, j] = g * previous
                u_bar[i + 1, j] += 0.5 * g
                u_bar[i - 1, j] -= 0.5 * g
                u_bar[i, j + 1] += 0.5 * g
                u_bar[i, j - 1] -= 0.5 * g
    return u_bar


def make_input(n=N):
    return np.random.default_rng(8).uniform(-0.5, 0.5, (n, n))


def tape_bytes(n=TAPE_N):
    """The bytes of every tape array one gradient allocates (python target), and the bytes the
    loop nest overwrites."""
    taped = tapes.tape_bytes(lambda: s2sjax.grad(centred, target="python")(make_input(n), SWEEPS))
    return taped, 8 * SWEEPS * (n - 2) ** 2


def run(jax, autograd):
    u = make_input()
    expected = grad_by_hand(u, SWEEPS)
    entries = [
        ("s2sjax.grad", s2sjax.grad(centred), (u, SWEEPS)),
        ("numba.njit adjoint, by hand", grad_by_hand, (u, SWEEPS)),
    ]
    if jax is not None:
        jnp = jax.numpy

        def vectorized(u, sweeps):
            d = jnp.zeros_like(u)
            for _ in range(sweeps):
                centre = 0.5 * (u[2:, 1:-1] - u[:-2, 1:-1]) + 0.5 * (u[1:-1, 2:] - u[1:-1, :-2])
                d = d.at[1:-1, 1:-1].set(centre + 0.5 * d[1:-1, 1:-1] ** 2)
            return jnp.sum(d * d)

        compiled = jax.jit(jax.grad(vectorized), static_argnums=1)
        entries.append(
            (
                "jax.jit(jax.grad), vectorized",
                lambda u, sweeps: jax.block_until_ready(compiled(u, sweeps)),
                (jnp.asarray(u), SWEEPS),
            )
        )
    timings = check_then_measure(entries, expected, repeats=REPEATS, rtol=1e-9)
    taped, overwritten = tape_bytes()
    print(
        f"W8 tape at {TAPE_N} x {TAPE_N}, {SWEEPS} sweeps: {taped:,} bytes allocated for tapes, "
        f"{overwritten:,} bytes overwritten ({taped / overwritten:.2f} per overwritten byte); "
        f"s2sjax {format_seconds(timings[0].seconds)}"
    )
    return WorkloadResult(
        name="W8",
        title=f"grad of a centred-difference loop nest, {N} x {N}, {SWEEPS} sweeps",
        target=Target("ratio", 2.0),
        s2sjax=timings[0],
        baseline=timings[1],
        peers=timings[2:],
    )
