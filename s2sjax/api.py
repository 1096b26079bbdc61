"""The public transformations: grad, value_and_grad, jvp, vjp, jacfwd, jacrev, hessian, source.

A transformed function is a `Transformed` object. At each call it computes
the *abstract signature* of its arguments (per argument: Python scalar type
or NumPy dtype and rank), generates and compiles code once per signature
(a `Specialization`, specialize.py), and calls it. Semantics follow JAX:
argnums int or tuple (negative counts from the end), `has_aux`, output
dimensions first in Jacobians, and JAX's error messages.

Transformations compose (`grad(grad(f))`, `jacfwd(jacrev(f))`): the inner
one's generated code is the function the outer one transforms.
"""
import functools
import inspect
import weakref

import numpy as np

from .specialize import Specialization  # first: it loads the rules before the passes that use them
from .frontend.parse import function_for_rule
from .passes.types import of_value

TARGETS = ("cpu", "python")


def grad(fun=None, argnums=0, has_aux=False, *, target="cpu"):
    """The gradient of a scalar-valued function `fun`, as a new function.

    `grad(f)(x)` has the shape and dtype of `x`. With a tuple `argnums`, the
    result is a tuple of gradients, one per listed argument. With
    `has_aux=True`, `fun` returns `(output, aux)` and the result is `(g, aux)`.
    Usable as a decorator, bare or with options.

    >>> import math
    >>> df = grad(lambda x: x * math.sin(x ** 2), target="python")
    >>> round(df(0.13), 10)
    0.0506943688
    >>> round(grad(grad(lambda x: 3 * x * x + 9), target="python")(20.0), 12)
    6.0
    """
    if fun is None:
        return functools.partial(grad, argnums=argnums, has_aux=has_aux, target=target)
    return Transformed(fun, "grad", argnums, has_aux, target)


def value_and_grad(fun=None, argnums=0, has_aux=False, *, target="cpu"):
    """`fun`'s value and gradient together: `(value, g)`, or `((value, aux), g)` with has_aux.

    >>> import numpy as np
    >>> vg = value_and_grad(lambda x: np.sum(x ** 2), target="python")
    >>> value, g = vg(np.arange(3.0))
    >>> float(value), g.tolist()
    (5.0, [0.0, 2.0, 4.0])
    """
    if fun is None:
        return functools.partial(value_and_grad, argnums=argnums, has_aux=has_aux, target=target)
    return Transformed(fun, "value_and_grad", argnums, has_aux, target)


def jvp(fun, primals, tangents, *, target="cpu"):
    """`(fun(*primals), J @ tangents)`: the Jacobian-vector product, in forward mode.

    `primals` and `tangents` are tuples (or lists) with one entry per
    argument, a tangent shaped like its primal. Arguments that are not
    floats are not differentiated: their tangents are ignored.

    >>> import math
    >>> jvp(lambda x, y: x * math.sin(y), (2.0, 0.0), (1.0, 1.0), target="python")
    (0.0, 2.0)
    """
    primals, tangents = _check_jvp_arguments(primals, tangents)
    return _shared(fun, "jvp", False, target).jvp(primals, tangents)


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
    return _shared(fun, "vjp", has_aux, target).vjp(primals)


def jacfwd(fun=None, argnums=0, *, target="cpu"):
    """The Jacobian of `fun` by forward mode (one JVP per input element): shape `out.shape + x.shape`.

    >>> import numpy as np
    >>> jacfwd(lambda x: x ** 2, target="python")(np.array([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """
    if fun is None:
        return functools.partial(jacfwd, argnums=argnums, target=target)
    return Transformed(fun, "jacfwd", argnums, False, target)


def jacrev(fun=None, argnums=0, *, target="cpu"):
    """The Jacobian of `fun` by reverse mode (one VJP per output element): shape `out.shape + x.shape`."""
    if fun is None:
        return functools.partial(jacrev, argnums=argnums, target=target)
    return Transformed(fun, "jacrev", argnums, False, target)


def hessian(fun=None, argnums=0, *, target="cpu"):
    """The Hessian of `fun`, `jacfwd(jacrev(fun))`: forward over reverse, shape `out.shape + x.shape + x.shape`.

    >>> import numpy as np
    >>> hessian(lambda x: np.sum(x ** 3), target="python")(np.array([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    if fun is None:
        return functools.partial(hessian, argnums=argnums, target=target)
    return jacfwd(jacrev(fun, argnums, target=target), argnums, target=target)


def source(fun, *args):
    """The generated Python source of a transformed function.

    With example `args`, the source for arguments like those; without, the
    source of the most recent call (or, before any call, for float arguments).
    """
    if not isinstance(fun, Transformed):
        raise TypeError(f"source() takes a function made by an s2sjax transformation, got {type(fun).__name__}")
    return fun.source_for(*args)


_SHARED = weakref.WeakKeyDictionary()  # fun -> {(kind, has_aux, target): Transformed}, for jvp and vjp


def _shared(fun, kind, has_aux, target):
    """The `Transformed` that jvp/vjp calls on `fun` share, so code is generated once per signature."""
    try:
        table = _SHARED.setdefault(fun, {})
    except TypeError:  # not weakly referenceable: no sharing
        table = {}
    key = (kind, has_aux, target)
    if key not in table:
        table[key] = Transformed(fun, kind, None, has_aux, target)
    return table[key]


class Transformed:
    """A transformed function: specializes, compiles and calls generated code."""

    def __init__(self, fun, kind, argnums, has_aux, target):
        if target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(map(repr, TARGETS))}, got {target!r}")
        if argnums is not None:
            _check_argnums(argnums)
        if not callable(fun):
            raise TypeError(f"{kind} expects a callable, got {type(fun).__name__}")
        if not isinstance(fun, Transformed):
            fun = function_for_rule(fun) or fun
        self.fun = fun
        self.kind = kind
        self.argnums = argnums
        self.has_aux = has_aux
        self.target = target
        self._signature = fun._signature if isinstance(fun, Transformed) else inspect.signature(fun)
        self._nparams = len(self._signature.parameters)
        self._specializations = {}
        self._by_type = {}  # the same specializations, for calls with no array argument
        self._last = None
        functools.update_wrapper(self, fun, updated=())  # not __dict__: it would overwrite our own state

    def __repr__(self):
        return f"<s2sjax.{self.kind} of {getattr(self.fun, '__qualname__', self.fun)}>"

    # ---- calling ---------------------------------------------------------

    def __call__(self, *args, **kwargs):
        if not kwargs:
            # Fast path: every argument given, no arrays: the types alone pick the code.
            entry = self._by_type.get(tuple(map(type, args)))
            if entry is not None:
                return entry.run(args)
        if kwargs or len(args) != self._nparams:
            args = self._bind(args, kwargs)
        return self.specialization(args).run(args)

    def specialization(self, args):
        """The generated code for arguments like `args` (bound, defaults filled in)."""
        key = _key(args)
        entry = self._specializations.get(key)
        if entry is None:
            entry = self._specializations[key] = Specialization(self, args)
            self._last = entry
            if not any(type(a) in (np.ndarray, tuple) for a in args):
                self._by_type[key] = entry
        return entry

    def _bind(self, args, kwargs):
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.__name__}(): {exc}") from None
        bound.apply_defaults()
        return tuple(bound.arguments.values())

    def jvp(self, primals, tangents):
        if len(primals) != self._nparams:
            primals = self._bind(primals, {})
            tangents = tangents + tuple(np.zeros(np.shape(p)) for p in primals[len(tangents):])  # defaults: fixed
        entry = self.specialization(primals)
        return entry.run_jvp(primals, [tangents[i] for i in entry.argnums])

    def vjp(self, primals):
        passed = len(primals)
        primals = self._bind(primals, {})
        entry = self.specialization(primals)
        out = entry.primal(primals)
        value, aux = (out[0], out[1]) if self.has_aux else (out, None)

        def pullback(cotangent):
            return entry.pullback(primals, value, cotangent)[:passed]  # one per primal passed, as in JAX

        return (value, pullback, aux) if self.has_aux else (value, pullback)

    # ---- source ----------------------------------------------------------

    def source_for(self, *args):
        if args:
            return self.specialization(self._bind(args, {})).source
        if self._last is None:
            return self.specialization(tuple(1.0 for _ in range(self._nparams))).source
        return self._last.source

    @property
    def source(self):
        return self.source_for()


def _key(args):
    return tuple((a.dtype.char, a.ndim) if type(a) is np.ndarray else of_value(a) if type(a) is tuple else type(a)
                 for a in args)


def _check_argnums(argnums):
    items = argnums if isinstance(argnums, tuple) else (argnums,)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in items):
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")


def _check_jvp_arguments(primals, tangents):
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("primal and tangent arguments to s2sjax.jvp must be tuples or lists; "
                        f"found {type(primals).__name__} and {type(tangents).__name__}.")
    if len(primals) != len(tangents):
        raise ValueError("jvp called with different primal and tangent tuple lengths: "
                         f"{len(primals)} primals and {len(tangents)} tangents.")
    for p, t in zip(primals, tangents):
        if of_value(p).differentiable and np.shape(p) != np.shape(t):
            raise ValueError("jvp called with different primal and tangent shapes;"
                             f"Got primal shape {np.shape(p)} and tangent shape as {np.shape(t)}")
    return tuple(primals), tuple(tangents)
