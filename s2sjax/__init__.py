"""s2sjax: source-to-source derivatives of numeric Python, compiled by Numba.

    >>> import math, s2sjax
    >>> df = s2sjax.grad(lambda x: x * math.sin(x ** 2), target="python")
    >>> round(df(0.13), 10)
    0.0506943688
"""
__version__ = "0.1.0"

from . import config, extend  # noqa: E402
from .api import grad, hessian, jacfwd, jacrev, jit, jvp, source, value_and_grad, vjp, vmap  # noqa: E402
from .errors import CacheWarning, NumbaFallbackWarning, TransformError  # noqa: E402
from .pytree import tree_flatten, tree_leaves, tree_map, tree_structure, tree_unflatten  # noqa: E402

__all__ = ["grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "hessian", "vmap", "jit", "source", "config", "extend",
           "tree_map", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure", "TransformError", "NumbaFallbackWarning", "CacheWarning"]
