"""Seed 002's pairwise distances, ported literally: only the import lines and the `jax.`/`jnp.`
prefixes changed (matplotlib, imported and unused there, left out).

`func` is a parameter of the function enclosing the lambdas that call it: each vmap's lambda reads
it as a constant of its code. Run it with `python examples/seed_pairwise_literal.py`; it prints
True. `tests/test_inner_transformations.py` checks it against an explicit loop.
"""

from s2sjax import vmap
import numpy as np


# fmt: off
# From JAX repo
def apply_double_arg_func(func, xs, xs2=None):
    if xs2 is None:
        return vmap(lambda x: vmap(lambda y: func(x, y))(xs))(xs)
    else:
        return vmap(lambda x: vmap(lambda y: func(x, y))(xs))(xs2).T
# From Matthew Johnson
def apply_double_arg_func2(func, xs, xs2=None):
    if xs2 is None:
        return vmap(vmap(func, (0, None)), (None, 0))(xs, xs)
    else:
        return vmap(vmap(func, (0, None)), (None, 0))(xs,xs2).T
def l1dist(x,y):
    return np.sum(np.abs(x-y))
x1=np.linspace(1,10,100)
y1=np.linspace(1,5,20)
print(np.allclose(apply_double_arg_func(l1dist, x1, y1), apply_double_arg_func2(l1dist, x1, y1)))
# fmt: on
