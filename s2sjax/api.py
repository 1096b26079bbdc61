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
import hashlib
import inspect
import math
import threading
import weakref

import numpy as np

from .specialize import Specialization  # first: it loads the rules before the passes that use them
from . import batching, containers
from .frontend.parse import check_readable, function_for_rule, function_from_source
from .abstract import of_value

TARGETS = ("cpu", "parallel", "python", "cuda")


def grad(fun=None, argnums=0, has_aux=False, *, target="cpu"):
    """The gradient of a scalar-valued function `fun`, as a new function.

    `grad(f)(x)` has the shape and dtype of `x` (for a tuple, list or dict
    `x`, its structure, with the gradient of each leaf). With a tuple `argnums`, the
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

    For a function returning a tuple, a tuple with each output's Jacobian; for a
    container argument, its structure with each leaf's Jacobian.

    >>> import numpy as np
    >>> jacfwd(lambda x: x ** 2, target="python")(np.array([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """
    if fun is None:
        return functools.partial(jacfwd, argnums=argnums, target=target)
    return Transformed(fun, "jacfwd", argnums, False, target)


def jacrev(fun=None, argnums=0, *, target="cpu"):
    """The Jacobian of `fun` by reverse mode (one VJP per output element): shape `out.shape + x.shape`.

    >>> import numpy as np
    >>> jacrev(lambda x: np.sum(x) * x, target="python")(np.array([1.0, 2.0])).tolist()
    [[4.0, 1.0], [2.0, 5.0]]
    """
    if fun is None:
        return functools.partial(jacrev, argnums=argnums, target=target)
    return Transformed(fun, "jacrev", argnums, False, target)


def hessian(fun=None, argnums=0, *, target="cpu"):
    """The Hessian of `fun`, `jacfwd(jacrev(fun))`: forward over reverse, shape `out.shape + x.shape + x.shape`.

    For a container argument, nested in its structure twice: `hessian(f)(p)["w"]["b"]`.

    >>> import numpy as np
    >>> hessian(lambda x: np.sum(x ** 3), target="python")(np.array([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    if fun is None:
        return functools.partial(hessian, argnums=argnums, target=target)
    return jacfwd(jacrev(fun, argnums, target=target), argnums, target=target)


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
        return functools.partial(vmap, in_axes=in_axes, out_axes=out_axes, axis_size=axis_size, target=target)
    return Batched(fun, in_axes, out_axes, axis_size, target)


def jit(fun=None, static_argnums=(), *, target="cpu"):
    """`fun` compiled by Numba, once per abstract signature (and per value of each static argument).

    Arguments listed in `static_argnums` are compiled in as constants: a new
    value compiles anew. They must be hashable numbers, bools, None or tuples
    of those.

    >>> f = jit(lambda x, n: x ** n, static_argnums=1, target="python")
    >>> f(2.0, 3)
    8.0
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums, target=target)
    return Compiled(fun, static_argnums, target)


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
        if target == "cuda" and kind != "vmap":
            raise ValueError(f"target='cuda' is for vmap (one GPU thread per example); {kind} runs on the CPU: "
                             f"use vmap({kind}(f), target='cuda') to run it per example on the GPU")
        if argnums is not None:
            _check_argnums(argnums)
        if isinstance(fun, Pullback):
            raise TypeError(f"{kind} of a vjp's pullback is not supported; "
                            + ("batch the vector-Jacobian products as gradients instead: "
                               "vmap(grad(lambda x, ct: np.sum(f(x) * ct)), in_axes=(None, 0))(x, cts)"
                               if kind == "vmap" else "transform the function given to vjp"))
        if not callable(fun):
            raise TypeError(f"{kind} expects a callable, got {type(fun).__name__}")
        if not isinstance(fun, Transformed):
            fun = function_for_rule(fun) or fun
            check_readable(fun)
        self.fun = fun
        self.kind = kind
        self.argnums = argnums
        self.has_aux = has_aux
        self.target = target
        self._signature = fun._signature if isinstance(fun, Transformed) else inspect.signature(fun)
        self._nparams = len(self._signature.parameters)
        self.forget_specializations()
        functools.update_wrapper(self, fun, updated=())  # not __dict__: it would overwrite our own state

    def forget_specializations(self):
        self._lock = threading.RLock()  # guards the tables below while code is generated
        self._specializations = {}
        self._by_type = {}  # the same specializations, for calls with no array argument
        self._flats = {}  # the arguments' structures -> (the transformation of the leaves, rebuild)
        self._by_structure = {}  # containers.structure_key of a call's arguments -> what `flat` returns
        self._last = None

    def __repr__(self):
        return f"<s2sjax.{self.kind} of {getattr(self.fun, '__qualname__', self.fun)}>"

    # ---- calling ---------------------------------------------------------

    def __call__(self, *args, **kwargs):
        if not kwargs:
            # Fast path: every argument given, no arrays: the types alone pick the code.
            entry = self._by_type.get(tuple(map(type, args)))
            if entry is not None:
                try:
                    return entry.call(*args) if entry.plain else entry.run(args)
                except Exception as exc:
                    if entry.plain:  # compiled code called directly: find the user's line
                        entry.raise_located(exc, "call", args)
                    raise
        if kwargs or len(args) != self._nparams:
            args = self._bind(args, kwargs)
        if containers.has_containers(args, self._static(len(args))):
            flat, flattening, rebuild = self.flat(args)
            return rebuild(flat(*flattening.checked_leaves(args, self.kind, self.argnums)))
        return self.specialization(args).run(args)

    # ---- container arguments --------------------------------------------

    def flat(self, args, axes=None):
        """(this transformation of a function of the leaves of `args`, their Flattening, how to
        rebuild its results into the user's structures); `axes`: vmap's, per argument."""
        static = self._static(len(args))
        key = containers.structure_key(args, static), axes
        found = self._by_structure.get(key)
        if found is None:
            flattening = containers.Flattening(list(self._signature.parameters), args, static, axes)
            found = self._by_structure[key] = self.flat_of(flattening)
        return found

    def _flat_for(self, flattening):
        """(the flat transformation, the rebuilding of the function it transforms)."""
        if isinstance(self.fun, Transformed):  # the axes are this vmap's: an inner vmap maps its own
            inner, _, rebuild_inner = self.fun.flat_of(flattening.with_axes(None))
        else:
            inner, rebuild_inner = containers.adapter(self.fun, flattening, self._signature), _same
        argnums = None if self.argnums is None else flattening.argnums(self.argnums)
        return self._twin(inner, argnums, flattening, rebuild_inner), rebuild_inner

    def flat_of(self, flattening):
        """`flat` for the arguments of `flattening` (this call's, or an outer transformation's)."""
        if flattening.key not in self._flats:
            with self._lock:
                if flattening.key not in self._flats:
                    self._flats[flattening.key] = self._flat_for(flattening)
        flat, rebuild_inner = self._flats[flattening.key]
        return flat, flattening, self._rebuild(flattening, rebuild_inner)

    def _twin(self, fun, argnums, flattening, rebuild_inner):
        """This transformation of `fun`, the function of the leaves that `flattening` describes."""
        return Transformed(fun, self.kind, argnums, self.has_aux, self.target)

    def _rebuild(self, flattening, rebuild_inner):
        """How to put the flat transformation's results into the user's structures."""
        kind, has_aux, argnums = self.kind, self.has_aux, self.argnums
        if kind not in ("grad", "value_and_grad", "jacfwd", "jacrev"):
            return rebuild_inner

        def regroup(grads):
            return flattening.regroup(grads, argnums)

        if kind == "jacfwd" and rebuild_inner is not _same:  # of a gradient (hessian): one row per inner leaf
            # the inner one returns a tuple, one gradient per leaf (of one, too): so does jacfwd
            return lambda result: rebuild_inner(tuple(regroup(row) for row in result))

        if kind == "value_and_grad":
            return lambda result: (result[0], regroup(result[1]))
        if has_aux:
            return lambda result: (regroup(result[0]), result[1])
        return regroup

    def _static(self, nargs):
        return ()

    def specialization(self, args, axes=None):
        """The generated code for arguments like `args` (bound, defaults filled in); `axes`: vmap's."""
        key = self._cache_key(args), axes
        entry = self._specializations.get(key)
        if entry is None or not entry.holds():  # new arguments, or a global or helper it was written for changed
            with self._lock:  # threads calling a new function at once: one generates, the others wait for it
                entry = self._specializations.get(key)
                if entry is None or not entry.holds():
                    entry = self._specializations[key] = Specialization(self, args, axes, **self._options(args))
                    self._last = entry
                    if axes is None and self._typed_by_type and not entry.assumptions and not any(
                            type(a) in (np.ndarray, tuple, list, dict) for a in args):
                        self._by_type[key[0]] = entry  # checks nothing: only code that assumes nothing
        return entry

    _typed_by_type = True  # arguments' types alone pick the code

    def _cache_key(self, args):
        return _key(args)

    def _options(self, args):
        return {}

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
        if containers.has_containers(primals):
            flat, flattening, rebuild = self.flat(primals)
            flattening.check_tangents(tangents)
            out, tangent_out = flat.jvp(flattening.checked_leaves(primals, self.kind), flattening.leaves(tangents))
            return rebuild(out), rebuild(tangent_out)
        entry = self.specialization(primals)
        return entry.run_jvp(primals, [tangents[i] for i in entry.argnums])

    def vjp(self, primals):
        passed = len(primals)
        primals = self._bind(primals, {})
        if containers.has_containers(primals):
            return self._vjp_of_containers(primals, passed)
        entry = self.specialization(primals)
        out = entry.primal(primals)
        value, aux = (out[0], out[1]) if self.has_aux else (out, None)

        def pullback(cotangent):
            return entry.pullback(primals, value, cotangent)[:passed]  # one per primal passed, as in JAX

        return (value, Pullback(pullback), aux) if self.has_aux else (value, Pullback(pullback))

    def _vjp_of_containers(self, primals, passed):
        flat, flattening, rebuild = self.flat(primals)
        value, flat_pullback, *aux = flat.vjp(flattening.checked_leaves(primals, self.kind))

        def pullback(cotangent):
            return flattening.regroup(flat_pullback(cotangent), tuple(range(passed)))

        return (rebuild(value), Pullback(pullback), *aux)

    # ---- source ----------------------------------------------------------

    def specialization_for(self, *args):
        """The generated code that a call with `args` runs (its flat twin's, for containers)."""
        bound = self._bind(args, {})
        if containers.has_containers(bound, self._static(len(bound))):
            flat, flattening, _ = self.flat(bound)
            return flat.specialization_for(*flattening.leaves(bound))
        return self.specialization(bound)

    def source_for(self, *args):
        if args:
            return self.specialization_for(*args).source
        if self._latest() is None:
            return self.specialization(tuple(1.0 for _ in range(self._nparams))).source
        return self._latest().source

    def _latest(self):
        """The specialization generated last: its own or, after calls with containers, its flat twin's."""
        if self._last is None and self._flats:
            return list(self._flats.values())[-1][0]._latest()
        return self._last

    @property
    def source(self):
        return self.source_for()

    def _repr_markdown_(self):
        """Jupyter shows a transformed function as its generated source (of the last call)."""
        if self._latest() is None:
            return (f"`{self!r}`: not called yet; call it, or `s2sjax.source(f, *example_args)`, "
                    "to see the code generated for those arguments")
        return f"`{self!r}`, generated for its last call:\n\n```python\n{self._latest().source.rstrip()}\n```\n"


class Pullback:
    """A vjp's pullback: `pullback(cotangent)` gives one cotangent per primal (see `vjp`).
    A class of its own so that transforming it is refused with a way out, not a parse error."""

    def __init__(self, pull):
        self._pull = pull

    def __call__(self, cotangent):
        return self._pull(cotangent)


class Batched(Transformed):
    """A vmapped function (see `vmap`)."""

    def __init__(self, fun, in_axes, out_axes, axis_size, target, regroup=None):
        batching.check_spec(in_axes, "in_axes")
        batching.check_spec(out_axes, "out_axes")
        if axis_size is not None and (not isinstance(axis_size, int) or isinstance(axis_size, bool) or axis_size < 0):
            raise TypeError(f"vmap axis_size must be a non-negative int or None, got {axis_size!r}")
        super().__init__(fun, "vmap", None, False, target)
        self.in_axes = tuple(in_axes) if isinstance(in_axes, list) else in_axes
        self.out_axes = tuple(out_axes) if isinstance(out_axes, list) else out_axes
        self.axis_size = axis_size
        # how `fun`'s results are put into the user's structures, which out_axes follow: a
        # gradient of a leaf of a container regrouped in the container (see `_twin`)
        self.regroup = regroup or _same
        self._names = list(self._signature.parameters)

    def __call__(self, *args, **kwargs):
        # Fast path: arguments like earlier ones. The generated code checks the sizes itself;
        # on its ValueError, the checks below say which arguments disagree, in JAX's words.
        key = None if kwargs else _key(args)
        entry = self._by_key.get(key)
        if entry is not None:
            try:
                return entry.run(args)
            except ValueError:
                bound, axes, size = self._checked(args, kwargs)
                if size:
                    raise
                return self._over_nothing(bound, axes)
        bound, axes, size = self._checked(args, kwargs)
        if size == 0:
            return self._over_nothing(bound, axes)
        if containers.has_containers(bound):
            flat, flattening, rebuild = self.flat(bound, axes)
            return rebuild(flat(*flattening.checked_leaves(bound, self.kind)))
        entry = self.specialization(bound, axes)
        if key is not None and len(args) == self._nparams and self.target != "cuda" and not entry.assumptions and all(
                type(a) in (np.ndarray, float, int) for a in args):
            self._by_key[key] = entry
        return entry.run(bound)

    def forget_specializations(self):
        super().forget_specializations()
        self._by_key = {}  # _key(args) -> the specialization, for calls with every argument positional

    def _checked(self, args, kwargs):
        """(the arguments bound, their mapped axes), or JAX's error for axes and sizes that do not fit."""
        if not args and not kwargs and self.axis_size is None:
            raise ValueError("vmap wrapped function must be passed at least one argument containing an array, "
                             "got empty *args=() and **kwargs={}")
        bound = args if not kwargs and len(args) == self._nparams else self._bind(args, kwargs)
        axes = batching.argument_axes(self.in_axes, bound, self._names, kwargs.keys(), len(args))
        size = batching.axis_size(bound, axes, self._names, kwargs.keys(), self.axis_size)
        return bound, axes, size

    def _over_nothing(self, bound, axes):
        """A vmap over an axis of size 0: empty outputs, as JAX gives. JAX knows their shapes
        without running the function; s2sjax runs it on one stand-in example, of ones."""
        one = self if self.axis_size is None else Batched(self.fun, self.in_axes, self.out_axes, 1, self.target)
        try:
            with np.errstate(all="ignore"):
                outputs = one(*(batching.stand_in(value, spec) for value, spec in zip(bound, axes)))
        except Exception as exc:
            raise ValueError(f"vmap of {self.__name__} over an axis of size 0: s2sjax sizes the (empty) outputs by "
                             f"running one example of ones, which raised {type(exc).__name__}: {exc}") from exc
        return batching.emptied(outputs, self.out_axes)

    def flat_of(self, flattening):
        if flattening.axes is None:  # an outer transformation's arguments: this vmap's own axes
            flattening = flattening.with_axes(batching.structure_axes(self.in_axes, flattening.treedefs, self._names))
        return super().flat_of(flattening)

    def _twin(self, fun, argnums, flattening, rebuild_inner):
        return Batched(fun, flattening.leaf_axes, self.out_axes, self.axis_size, self.target, rebuild_inner)

    def specialization(self, args, axes=None):
        if axes is None:  # called by an outer transformation: every argument passed by position
            axes = batching.argument_axes(self.in_axes, args, self._names, (), len(args))
        return super().specialization(args, axes)

    def inlinable(self):
        """The batched function as Python source calling `fun`, for a transformed function that calls it.

        Written before any argument is seen, so only what needs no types is supported: a plain
        Python function (or a vmap of one), in_axes that are numbers >= 0 or None, one per
        parameter, out_axes that are numbers or None, one per output or one for all.
        """
        if self._inlinable is None:
            self._inlinable = _inlinable_batch(self)
        return self._inlinable

    _inlinable = None

    def source_for(self, *args):
        if not args and self._latest() is None:
            raise TypeError(f"source() of a vmapped function needs example arguments: source(f, {', '.join(self._names)})")
        return super().source_for(*args)


class Compiled(Transformed):
    """A jitted function (see `jit`)."""

    def __init__(self, fun, static_argnums, target):
        self.static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        _check_argnums(self.static_argnums)
        super().__init__(fun, "primal", None, False, target)
        self._typed_by_type = not self.static_argnums

    def _cache_key(self, args):
        static = self._static(len(args))
        values = []
        for i in static:
            try:
                hash(args[i])
            except TypeError as exc:
                raise ValueError(f"Non-hashable static arguments are not supported. An error occurred while trying "
                                 f"to hash an object of type {type(args[i])}, {args[i]!r}. The error was:\nTypeError: "
                                 f"{exc}") from None
            values.append((i, type(args[i]), args[i]))
        return _key(args), tuple(values)

    def _options(self, args):
        return {"static": self._static(len(args))}

    def _twin(self, fun, argnums, flattening, rebuild_inner):
        static = tuple(flattening.positions(i)[0] for i in flattening.static)
        return Compiled(fun, static, self.target)

    def _static(self, nargs):
        return tuple(sorted({i % nargs for i in self.static_argnums if -nargs <= i < nargs}))


def _inlinable_batch(batched):
    """The batch loop as a Python function calling `batched.fun`, its source in linecache, not a file."""
    from .backend import runtime
    from .backend.naming import GENERATED_MODULE_PREFIX
    from .pipeline import mapped_outputs, returned_structure

    fun, names = batched.fun, batched._names
    per_example = fun.inlinable() if isinstance(fun, Batched) else fun
    if not inspect.isfunction(per_example):
        what = f"a {fun.kind}" if isinstance(fun, Transformed) else f"a {type(fun).__name__}"
        raise TypeError(f"a vmap inside a transformed function maps a Python function (or a vmap of one), not {what}; "
                        "transform the whole computation instead, e.g. vmap(grad(f)) outside")
    in_axes = batched.in_axes if isinstance(batched.in_axes, tuple) else (batched.in_axes,) * len(names)
    if len(in_axes) != len(names) or not all(a is None or (isinstance(a, int) and a >= 0) for a in in_axes):
        raise TypeError(f"a vmap inside a transformed function needs in_axes of numbers >= 0 or None, one per parameter "
                        f"of {fun.__name__}{inspect.signature(fun)}, got {batched.in_axes!r} (it is written before the "
                        "ranks are known: count axes from the front, and map containers as a whole)")
    returned = returned_structure(per_example)
    out_axes = batching.leaf_out_axes(batched.out_axes, returned, _same)
    if None in out_axes:
        mapped = [i for i, a in enumerate(in_axes) if a is not None]
        if any(a is None and d for a, d in zip(out_axes, mapped_outputs(per_example, mapped))):
            raise ValueError("vmap has mapped output but out_axes is None")
    name = f"{fun.__name__.replace('<lambda>', 'lambda')}_vmap"
    source = batching.vmap_source(name, names, [], in_axes, "per_example", out_axes, returned, batched.axis_size)
    digest = hashlib.sha256(source.encode()).hexdigest()[:8]  # the same name for the same source, in every process
    namespace = {"__name__": f"{GENERATED_MODULE_PREFIX}inlined_vmap", "math": math, "np": np, "rt": runtime,
                 "per_example": per_example}
    return function_from_source(source, name, f"<s2sjax: vmap of {fun.__qualname__} {digest}>", namespace)


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
        if type(p) is float and type(t) is float:  # the common case, checked without NumPy
            continue
        if of_value(p).differentiable and np.shape(p) != np.shape(t):
            raise ValueError("jvp called with different primal and tangent shapes;"
                             f"Got primal shape {np.shape(p)} and tangent shape as {np.shape(t)}")
    return tuple(primals), tuple(tangents)


def _same(value):
    return value
