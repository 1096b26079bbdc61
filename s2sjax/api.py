"""The public transformations: grad, value_and_grad, source.

A transformed function is a `Transformed` object. At each call it computes
the *abstract signature* of its arguments (per argument: Python scalar type
or NumPy dtype and rank), generates and compiles code once per signature,
and calls it. Semantics follow JAX: argnums int or tuple (negative counts
from the end), `has_aux`, and JAX's error messages.
"""
import functools
import inspect

import numpy as np

from . import pipeline
from .backend import compile as backend
from .frontend.parse import function_for_rule
from .passes.types import of_value
from .transforms.reverse import NonScalarOutput

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


def source(fun, *args):
    """The generated Python source of a transformed function.

    With example `args`, the source for arguments like those; without, the
    source of the most recent call (or, before any call, for float arguments).
    """
    if not isinstance(fun, Transformed):
        raise TypeError(f"source() takes a function made by an s2sjax transformation, got {type(fun).__name__}")
    return fun.source_for(*args)


class Transformed:
    """A transformed function: specializes, compiles and calls generated code."""

    def __init__(self, fun, kind, argnums, has_aux, target):
        if target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(map(repr, TARGETS))}, got {target!r}")
        _check_argnums(argnums)
        if not callable(fun):
            raise TypeError(f"{kind} expects a callable, got {type(fun).__name__}")
        fun = function_for_rule(fun) or fun
        self.fun = fun
        self.kind = kind
        self.argnums = argnums
        self.has_aux = has_aux
        self.target = target
        self._signature = inspect.signature(fun)
        self._nparams = len(self._signature.parameters)
        self._specializations = {}
        self._by_type = {}  # the same specializations, for calls with no array argument
        self._last = None
        functools.update_wrapper(self, fun)

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
        return self._lookup(args).run(args)

    def _lookup(self, args):
        key = _key(args)
        entry = self._specializations.get(key) or self._specialize(args)
        if np.ndarray not in map(type, args) and tuple not in map(type, args):
            self._by_type[key] = entry
        return entry

    def _bind(self, args, kwargs):
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.fun.__name__}(): {exc}") from None
        bound.apply_defaults()
        return tuple(bound.arguments.values())

    def _specialize(self, args):
        argnums = _normalize_argnums(self.argnums, len(args))
        for i in argnums:
            _check_differentiable(args[i], self.kind)
        spec = pipeline.Spec(tuple(of_value(a) for a in args), argnums, self.has_aux, self.target)
        try:
            entry = _Specialization(self, spec, args)
        except NonScalarOutput:
            output = self._primal_output(args)
            shown = f"had shape: {np.shape(output)}" if not isinstance(output, tuple) else f"was a tuple of {len(output)}"
            raise TypeError(f"Gradient only defined for scalar-output functions. Output {shown}.") from None
        self._specializations[_key(args)] = entry
        self._last = entry
        return entry

    def _primal_output(self, args):
        out = self.fun(*args)
        return out[0] if self.has_aux and isinstance(out, tuple) else out

    # ---- source ----------------------------------------------------------

    def source_for(self, *args):
        if args:
            args = self._bind(args, {})
            return (self._specializations.get(_key(args)) or self._specialize(args)).source
        if self._last is None:
            params = list(self._signature.parameters)
            return self._specialize(tuple(1.0 for _ in params)).source
        return self._last.source

    @property
    def source(self):
        return self.source_for()


class _Specialization:
    """Generated code for one abstract signature, compiled, with its calling convention."""

    def __init__(self, transformed, spec, example_args):
        fun = transformed.fun
        self.transformed = transformed
        self.argnums = spec.argnums
        self.single = isinstance(transformed.argnums, int)
        name, function_source, self.captured = pipeline.generate(fun, spec)
        self.source = backend.module_source(function_source, _describe(transformed, spec))
        module = backend.load_module(self.source, _stem(name))
        pyfunc = getattr(module, name)
        if transformed.target == "python":
            self.call = pyfunc
        else:
            self.call = self._first_call
            self._first = backend.FirstCall(backend.jitted(module, name), pyfunc, _where(fun))
        self.convert = [_converter(example_args[i]) for i in spec.argnums]
        # 0-d arrays are scalars to the generated code (and to Numba's math functions)
        self.zero_d = [i for i, a in enumerate(example_args) if isinstance(a, np.ndarray) and a.ndim == 0]
        self.n_outputs = 2 if transformed.has_aux else 1
        simple = not (self.zero_d or self.captured or any(self.convert) or transformed.has_aux)
        if simple and self.single:  # the common case, kept to one indexing per call
            self.run = self._run_grad if transformed.kind == "grad" else self._run_value_and_grad

    def _first_call(self, *args):
        result, self.call = self._first(*args)
        return result

    def _run_grad(self, args):
        return self.call(*args)[1]

    def _run_value_and_grad(self, args):
        result = self.call(*args)
        return result[0], result[1]

    def run(self, args):
        if self.zero_d:
            args = tuple(a[()] if i in self.zero_d else a for i, a in enumerate(args))
        if self.captured:
            args = args + tuple(c.read() for c in self.captured)
        result = self.call(*args)
        value = result[0]
        grads = result[self.n_outputs:]
        grads = tuple(g if c is None else c(g) for g, c in zip(grads, self.convert))
        g = grads[0] if self.single else grads
        t = self.transformed
        if t.kind == "grad":
            return (g, result[1]) if t.has_aux else g
        return ((value, result[1]), g) if t.has_aux else (value, g)


def _key(args):
    return tuple((a.dtype.char, a.ndim) if type(a) is np.ndarray else of_value(a) if type(a) is tuple else type(a)
                 for a in args)


def _converter(arg):
    """How to give a gradient the argument's own type (None: it already has it)."""
    if isinstance(arg, np.ndarray):
        dtype = arg.dtype
        if arg.ndim == 0:
            return lambda g: np.asarray(g, dtype=dtype)
        return None if dtype == np.float64 else (lambda g: g.astype(dtype, copy=False))
    if isinstance(arg, np.floating) and not isinstance(arg, np.float64):
        return type(arg)
    return None


def _check_argnums(argnums):
    items = argnums if isinstance(argnums, tuple) else (argnums,)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in items):
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")


def _normalize_argnums(argnums, nargs):
    items = argnums if isinstance(argnums, tuple) else (argnums,)
    for i in items:
        if not -nargs <= i < nargs:
            raise TypeError(
                f"differentiating with respect to argnums={argnums!r} requires at least "
                f"{max(i + 1, -i)} positional arguments to be passed by the caller, but got only {nargs} "
                f"positional arguments."
            )
    return tuple(i % nargs for i in items)


def _check_differentiable(arg, kind):
    typ = of_value(arg)
    if typ.differentiable:
        return
    dtype = np.asarray(arg).dtype if typ.kind in ("int", "bool") else type(arg).__name__
    raise TypeError(
        f"{kind} requires real-valued inputs (input dtype that is a sub-dtype of np.floating), "
        f"but got {dtype}. If you want to use Boolean- or integer-valued inputs, pass them as "
        f"arguments that are not differentiated (leave them out of argnums)."
    )


def _describe(transformed, spec):
    fun = transformed.fun
    types = ", ".join(_type_text(t) for t in spec.arg_types)
    return f"{transformed.kind} of {fun.__qualname__} w.r.t. argnums {spec.argnums} for ({types})"


def _type_text(t):
    if t.kind == "tuple":
        return "tuple"
    return t.kind if t.ndim == 0 else f"{t.kind}[{t.ndim}d]"


def _stem(name):
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def _where(fun):
    code = getattr(fun, "__code__", None)
    if code is None:
        return getattr(fun, "__qualname__", repr(fun))
    return f"{fun.__qualname__} ({code.co_filename}:{code.co_firstlineno})"


