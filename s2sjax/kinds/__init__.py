"""The transformations, one module each.

What each generates, how it is called, how its results come back.
"""

from .base import Kind, kind_of
from .gradient import Grad, ValueAndGrad
from .jacobian import Jacfwd, Jacrev
from .jit import Jit, static_positions
from .jvp import Jvp
from .vjp import Pullback, Vjp
from .vmap import Vmap

__all__ = [
    "Kind",
    "kind_of",
    "Grad",
    "ValueAndGrad",
    "Jacfwd",
    "Jacrev",
    "Jit",
    "static_positions",
    "Jvp",
    "Pullback",
    "Vjp",
    "Vmap",
]
