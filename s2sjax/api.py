"""The public transformations.

grad, value_and_grad, jvp, vjp, jacfwd, jacrev, hessian, vmap, jit and source each make a
`Transformed` (transformed.py) of the user's function under a
kind (kinds/), which says what the transformation generates and how it is
called. Semantics follow JAX: argnums int or tuple (negative counts from the
end), `has_aux`, output dimensions first in Jacobians, and JAX's error messages.
"""

import functools
import weakref

from . import tracebacks

from .kinds import (
    Grad,
    Jacfwd,
    Jacrev,
    Jit,
    Jvp,
    ValueAndGrad,
    Vjp,
    Vmap,
    jvp as jvp_kind,
    static_positions,
    vjp as vjp_kind,
)
from .transformed import TARGETS, Transformed  # noqa: F401  (TARGETS: the command line's choices)


def transformation(fun):
    """Mark a public transformation, so the front end knows it where the user's code calls it;
    its errors come with s2sjax's frames hidden."""
    entered = tracebacks.entry_point(fun)
    entered.s2sjax_transformation = fun.__name__
    return entered


@transformation
def grad(fun=None, argnums=0, has_aux=False, *, allow_int=False, target="cpu"):
    """The gradient of a scalar-valued function `fun`, as a new function.

    `grad(f)(x)` has the shape and dtype of `x` (for a tuple, list or dict
    `x`, its structure, with the gradient of each leaf). With a tuple `argnums`, the
    result is a tuple of gradients, one per listed argument. With
    `has_aux=True`, `fun` returns `(output, aux)` and the result is `(g, aux)`.
    With `allow_int=True`, the gradient for an integer or bool argument is zeros
    of dtype `s2sjax.float0` (as JAX's). Usable as a decorator, bare or with options.

    >>> import math
    >>> df = grad(lambda x: x * math.sin(x ** 2), target="python")
    >>> round(float(df(0.13)), 10)
    0.0506943688
    >>> round(float(grad(grad(lambda x: 3 * x * x + 9), target="python")(20.0)), 12)
    6.0
    """
    if fun is None:
        return functools.partial(
            grad, argnums=argnums, has_aux=has_aux, allow_int=allow_int, target=target
        )
    return Transformed(fun, Grad(argnums, has_aux, allow_int), target)


@transformation
def value_and_grad(fun=None, argnums=0, has_aux=False, *, allow_int=False, target="cpu"):
    """`fun`'s value and gradient together: `(value, g)`, or `((value, aux), g)` with has_aux.

    >>> import numpy as np
    >>> vg = value_and_grad(lambda x: np.sum(x ** 2), target="python")
    >>> value, g = vg(np.arange(3.0))
    >>> float(value), g.tolist()
    (5.0, [0.0, 2.0, 4.0])
    """
    if fun is None:
        return functools.partial(
            value_and_grad, argnums=argnums, has_aux=has_aux, allow_int=allow_int, target=target
        )
    return Transformed(fun, ValueAndGrad(argnums, has_aux, allow_int), target)


@transformation
def jvp(fun, primals, tangents, *, target="cpu"):
    """`(fun(*primals), J @ tangents)`: the Jacobian-vector product, in forward mode.

    `primals` and `tangents` are tuples (or lists) with one entry per
    argument, a tangent shaped like its primal. Arguments that are not
    floats are not differentiated: their tangents are ignored.

    >>> import math
    >>> value, tangent = jvp(lambda x, y: x * math.sin(y), (2.0, 0.0), (1.0, 1.0), target="python")
    >>> float(value), float(tangent)
    (0.0, 2.0)
    """
    primals, tangents = jvp_kind.checked_arguments(primals, tangents)
    return jvp_kind.call(_shared(fun, Jvp(), target), primals, tangents)


@transformation
def vjp(fun, *primals, has_aux=False, target="cpu"):
    """`(fun(*primals), pullback)`, or `(out, pullback, aux)` with has_aux.

    `pullback(cotangent)` returns a tuple with one cotangent per primal: the
    vector-Jacobian product, computed in reverse mode. `cotangent` has the
    output's structure (a tuple for a function returning a tuple).

    >>> import numpy as np
    >>> out, pullback = vjp(lambda x: x * 2.0, np.ones(2), target="python")
    >>> pullback(np.array([1.0, 3.0]))[0].tolist()
    [2.0, 6.0]
    """
    return vjp_kind.call(_shared(fun, Vjp(has_aux), target), primals)


@transformation
def jacfwd(fun=None, argnums=0, *, target="cpu"):
    """The Jacobian of `fun` by forward mode, of shape `out.shape + x.shape`.

    One JVP per input element.

    For a function returning a tuple, a tuple with each output's Jacobian; for a
    container argument, its structure with each leaf's Jacobian.

    >>> import numpy as np
    >>> jacfwd(lambda x: x ** 2, target="python")(np.array([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """
    if fun is None:
        return functools.partial(jacfwd, argnums=argnums, target=target)
    return Transformed(fun, Jacfwd(argnums), target)


@transformation
def jacrev(fun=None, argnums=0, *, allow_int=False, target="cpu"):
    """The Jacobian of `fun` by reverse mode, of shape `out.shape + x.shape`.

    One VJP per output element. With `allow_int=True`, the Jacobian for an integer
    or bool argument is zeros of dtype `s2sjax.float0`.

    >>> import numpy as np
    >>> jacrev(lambda x: np.sum(x) * x, target="python")(np.array([1.0, 2.0])).tolist()
    [[4.0, 1.0], [2.0, 5.0]]
    """
    if fun is None:
        return functools.partial(jacrev, argnums=argnums, allow_int=allow_int, target=target)
    return Transformed(fun, Jacrev(argnums, allow_int), target)


@transformation
def hessian(fun=None, argnums=0, *, target="cpu"):
    """The Hessian of `fun`, of shape `out.shape + x.shape + x.shape`.

    `jacfwd(jacrev(fun))`: forward over reverse.

    For a container argument, nested in its structure twice: `hessian(f)(p)["w"]["b"]`.

    >>> import numpy as np
    >>> hessian(lambda x: np.sum(x ** 3), target="python")(np.array([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    if fun is None:
        return functools.partial(hessian, argnums=argnums, target=target)
    return jacfwd(jacrev(fun, argnums, target=target), argnums, target=target)


@transformation
def vmap(fun=None, in_axes=0, out_axes=0, axis_size=None, *, target="cpu"):
    """`fun` mapped over an axis of its arguments: one compiled loop over the examples.

    `in_axes` says which axis of each positional argument is mapped: an int
    (negative counts from the end) or None (not mapped) for all, or a tuple
    with one entry per positional argument (for a container argument, an entry
    or a container of entries, a prefix of its structure). Keyword arguments
    are mapped along axis 0.
    `out_axes` says where the mapped axis goes in each output (None: the
    output does not depend on the mapped arguments and is returned once).
    `axis_size` gives the size when no argument is mapped. Each example runs
    its own branches and loops. `target="parallel"` runs the examples on all
    cores.

    >>> import numpy as np
    >>> vmap(lambda x, y: x * y, in_axes=(0, None), target="python")(np.arange(3.0), 2.0).tolist()
    [0.0, 2.0, 4.0]
    """
    if fun is None:
        return functools.partial(
            vmap, in_axes=in_axes, out_axes=out_axes, axis_size=axis_size, target=target
        )
    return Transformed(fun, Vmap(in_axes, out_axes, axis_size), target)


@transformation
def jit(fun=None, static_argnums=(), static_argnames=(), *, target="cpu"):
    """`fun` compiled by Numba, once per abstract signature (and per value of each static argument).

    Arguments listed in `static_argnums` (by position) or `static_argnames`
    (by name) are compiled in as constants: a new value compiles anew. They
    must be hashable numbers, bools, None or tuples of those.

    >>> f = jit(lambda x, n: x ** n, static_argnames="n", target="python")
    >>> float(f(2.0, n=3))
    8.0
    """
    if fun is None:
        return functools.partial(
            jit, static_argnums=static_argnums, static_argnames=static_argnames, target=target
        )
    positions = static_positions(fun, static_argnums, static_argnames)
    return Transformed(fun, Jit(positions), target)


@tracebacks.entry_point
def source(fun, *args):
    """The generated Python source of a transformed function.

    With example `args`, the source for arguments like those; without, the
    source of the most recent call (or, before any call, for float arguments).

    >>> import math
    >>> print(source(grad(lambda x: math.sin(x) * x, target="python")))  # doctest: +ELLIPSIS
    # Generated by s2sjax ...: grad of <lambda> w.r.t. argnums (0,) for (float).
    ...
    def lambda_grad(x):
        # forward sweep
    ...
        x_bar = x_bar + t1_bar * math.cos(x)
        return x_bar
    <BLANKLINE>
    """
    if not isinstance(fun, Transformed):
        raise TypeError(
            f"source() takes a function made by an s2sjax transformation, got {type(fun).__name__}"
        )
    return fun.source_for(*args)


_SHARED = weakref.WeakKeyDictionary()  # fun -> {(kind, target): Transformed}, for jvp and vjp


def _shared(fun, kind, target):
    """The `Transformed` that jvp/vjp calls on `fun` share: code generated once per signature."""
    try:
        table = _SHARED.setdefault(fun, {})
    except TypeError:  # not weakly referenceable: no sharing
        table = {}
    if (kind, target) not in table:
        table[kind, target] = Transformed(fun, kind, target)
    return table[kind, target]
