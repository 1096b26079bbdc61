"""Programs of other projects, differentiated: the benchmark of issue 23.

Each program is written here after a public project's example or benchmark kernel (the
docstring names the project and the file), in that project's style: loops stay loops,
vectorized code stays vectorized, parameters stay in the containers the project uses. The
code is ours; the algorithms, sizes and habits are theirs. s2sjax differentiates the NumPy
function as written: a program it refuses stays in the benchmark, reported as refused.

JAX and autograd run the same function with `np` bound to `jax.numpy` or `autograd.numpy`
(`rebind`); where JAX needs other code (in-place writes become `.at[].set`, long loops
`lax.fori_loop`) the program names a `*_jax` function, also written against `np`.
"""

import types
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Program:
    name: str
    source: str  # the project and the file the program follows
    objective: Callable  # the NumPy function, scalar output (per example when `per_example`)
    make_args: Callable  # make_args(tiny) -> the arguments; tiny for the finite-difference check
    argnums: tuple = (0,)
    jax_objective: Callable | None = None  # None: `objective` with np bound to jax.numpy
    autograd: str | None = None  # why autograd cannot run it; None: it runs `objective`
    numba_grad: Callable | None = None  # a hand-written @numba.njit gradient, same argnums
    per_example: bool = False  # time vmap(grad(objective), in_axes=(None, 0, ...))

    @property
    def in_axes(self):
        return (None,) + (0,) * (len(self.make_args(True)) - 1)


def rebind(fn, **names):
    """`fn` with the module globals `names` replaced (`np=jax.numpy`), and so the module's other
    functions it calls, which see the same globals: a helper keeps using the same NumPy."""
    globals_ = dict(fn.__globals__, **names)
    for key, value in fn.__globals__.items():
        if isinstance(value, types.FunctionType) and value.__module__ == fn.__module__:
            globals_[key] = types.FunctionType(
                value.__code__, globals_, value.__name__, value.__defaults__, value.__closure__
            )
    return globals_[fn.__name__]


def all_programs():
    from bench.programs import arrays, loops, models, batched

    return [*loops.PROGRAMS, *arrays.PROGRAMS, *models.PROGRAMS, *batched.PROGRAMS]
