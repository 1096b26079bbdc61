"""s2sjax: source-to-source derivatives of numeric Python, compiled by Numba.

>>> import math, s2sjax
>>> df = s2sjax.grad(lambda x: x * math.sin(x ** 2), target="python")
>>> round(float(df(0.13)), 10)
0.0506943688
"""

import sys

from . import config, habits, numba_calls  # noqa: F401  (numba_calls: njit callers)
from .lazy import lazy_module
from .version import __version__  # noqa: F401  (s2sjax.__version__)
from .api import grad, hessian, jacfwd, jacrev, jit, jvp, source, value_and_grad, vjp, vmap
from .kinds.integers import float0
from .errors import CacheWarning, NumbaFallbackWarning, TransformError
from .pytree import (
    register_pytree,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)

extend = lazy_module("s2sjax.extend")  # loaded on first use, with the pipeline (s2sjax/lazy.py)

__all__ = [
    "grad",
    "value_and_grad",
    "jvp",
    "vjp",
    "jacfwd",
    "jacrev",
    "hessian",
    "vmap",
    "jit",
    "source",
    "float0",
    "config",
    "extend",
    "tree_map",
    "tree_flatten",
    "tree_unflatten",
    "tree_leaves",
    "tree_structure",
    "register_pytree",
    "TransformError",
    "NumbaFallbackWarning",
    "CacheWarning",
]


def __getattr__(name):
    """A JAX name that s2sjax does not have gets a hint saying what to write instead."""
    message = f"module 's2sjax' has no attribute {name!r}"
    hint = habits.attribute_hint(name)
    error = AttributeError(message if hint is None else f"{message}\nhint: {hint}")
    error.name, error.obj = name, sys.modules[__name__]  # Python's "Did you mean" reads them
    raise error
