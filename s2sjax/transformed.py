"""A transformed function: specializes, compiles and calls generated code.

At each call a `Transformed` computes the *abstract signature* of its
arguments (per argument: Python scalar type or NumPy dtype and rank),
generates and compiles code once per signature (a `Specialization`,
specialize.py), and calls it. What differs between transformations is its
kind's (kinds/): `Transformed` holds the function, the kind and the target,
and the caches.

Transformations compose (`grad(grad(f))`, `jacfwd(jacrev(f))`): the inner
one's generated code is the function the outer one transforms.
"""

import collections
import functools
import inspect
import threading

import numpy as np

from . import config, tracebacks
from .kinds import Pullback
from .kinds.base import same, signature_key
from .lazy import lazy_module

# modules loaded on first use (s2sjax/lazy.py): `import s2sjax` leaves them for code generation
by_value = lazy_module("s2sjax.by_value")
containers = lazy_module("s2sjax.containers")
extend = lazy_module("s2sjax.extend")
bound = lazy_module("s2sjax.frontend.bound")
parse = lazy_module("s2sjax.frontend.parse")
specialize = lazy_module("s2sjax.specialize")

TARGETS = ("cpu", "parallel", "python", "cuda")


class _NoArgument:
    """The type of `Transformed.__call__`'s first argument when none is given: no code has it."""


_NO_ARGUMENT = _NoArgument()


class Transformed:
    def __init__(self, fun, kind, target):
        if target not in TARGETS:
            raise ValueError(
                f"target must be one of {', '.join(map(repr, TARGETS))}, got {target!r}"
            )
        kind.check_target(target)
        self._given = fun  # what pickling carries (by_value.py)
        if isinstance(fun, Pullback):
            raise TypeError(kind.pullback_refusal())
        if not callable(fun):
            raise TypeError(f"{kind.name} expects a callable, got {type(fun).__name__}")
        # a user's rule defined since an equal transformation was made, or strict compiling
        # switched on, changes its code
        self._identity = (_identity(fun), kind, target, extend.definitions(), config.strict)
        # a NumPy function given directly: its shape-deciding arguments are written in per call
        self._rule_callee = fun if parse.function_for_rule(fun) is not None else None
        self._rule_calls = {}
        if isinstance(fun, functools.partial):
            fun = bound.of_partial(fun) or fun
        if not isinstance(fun, Transformed):
            fun = parse.function_for_rule(fun) or fun
            parse.check_readable(fun)
        self.fun = fun
        self.kind = kind
        self.target = target
        self._signature = fun._signature if isinstance(fun, Transformed) else inspect.signature(fun)
        self._defaults_read = _defaults_of(fun)
        self.param_names = list(self._signature.parameters)
        # whether the fast path may pick the code: not for a NumPy function given directly (its
        # constants first) nor a kind with a call of its own
        self._types_pick_code = self._rule_callee is None and kind.call is None
        self.nparams = len(self.param_names)
        self.forget_specializations()
        functools.update_wrapper(
            self, fun, updated=()
        )  # not __dict__: it would overwrite our own state

    def forget_specializations(self):
        """Take the generated code from an equal transformation made recently, or start afresh.

        `value_and_grad(loss)` built anew every epoch (seed 004) then generates code once, as
        JAX's caches do; whether that code still holds is checked at each call as always.
        """
        self._caches = _caches_for(self._identity)
        self._lock = self._caches.lock
        self._specializations = self._caches.specializations
        self._by_type = self._caches.by_type
        self._by_one_type = self._caches.by_one_type
        self.by_signature = self._caches.by_signature
        self._flats = self._caches.flats
        self._by_structure = self._caches.by_structure

    @property
    def inlined(self):
        """The kind's plain function for transformed code calling this one (vmap's), or None."""
        return self._caches.inlined

    @inlined.setter
    def inlined(self, function):
        self._caches.inlined = function

    def with_kind(self, kind):
        """The same function under another transformation (of the same kind, other options)."""
        return Transformed(self.fun, kind, self.target)

    def __reduce__(self):
        """Pickled by value: a worker that cannot import the user's file makes it again."""
        return by_value.reduce(self, self._given)

    def __repr__(self):
        return f"<s2sjax.{self.kind.name} of {getattr(self.fun, '__qualname__', self.fun)}>"

    @property
    def inlinable(self):
        """() -> this transformation as a plain Python function that transformed code calling it
        inlines, for the kinds that have one (vmap); None for the others."""
        return None if self.kind.inlinable is None else functools.partial(self.kind.inlinable, self)

    # ---- calling ---------------------------------------------------------

    def __call__(self, first=_NO_ARGUMENT, /, *rest, **kwargs):
        # `first` apart: one argument needs no tuple to pick its code nor to call it (W1)
        try:
            if not rest and not kwargs:
                # Fastest path: one argument, compiled code that its type alone picks
                try:
                    compiled = self._by_one_type[type(first)]
                except KeyError:
                    pass
                else:
                    try:
                        return compiled(first)
                    except Exception as exc:  # compiled code called directly: the user's line
                        self._by_type[(type(first),)].raise_located(exc, "call", (first,))
                        raise
            args = rest if first is _NO_ARGUMENT else (first, *rest)
            if self._types_pick_code and not kwargs:
                # Fast path: every argument given, no arrays: the types alone pick the code (the
                # key spelled out here, as `_types_of` does: a call would cost a tenth of W1's)
                entry = self._by_type.get(
                    (type(args[0]),) if len(args) == 1 else tuple(map(type, args))
                )
                if entry is not None and entry.plain:
                    try:
                        return entry.call(*args)
                    except Exception as exc:  # compiled code called directly: find the user's line
                        entry.raise_located(exc, "call", args)
                        raise
                if entry is not None:
                    return entry.run(args)
            return self._call_otherwise(args, kwargs)
        except Exception as exc:
            tracebacks.hide_internal_frames(exc)
            raise

    @staticmethod
    def _run_typed(entry, args):
        try:
            return entry.call(*args) if entry.plain else entry.run(args)
        except Exception as exc:
            if entry.plain:  # compiled code called directly: find the user's line
                entry.raise_located(exc, "call", args)
            raise

    def _call_otherwise(self, args, kwargs):
        """A call that the fast path did not take: a NumPy function given directly, keywords,
        arrays, containers, or types not seen yet."""
        if self._rule_callee is not None and not kwargs:
            with_constants = self.for_arguments(args)
            if with_constants is not self:
                return with_constants(*args)
        if self.kind.call is None and not kwargs:
            entry = self._by_type.get(_types_of(args))
            if entry is not None:
                return self._run_typed(entry, args)
        return self._call(args, kwargs)

    def _call(self, args, kwargs):
        if self.kind.call is not None:
            return self.kind.call(self, args, kwargs)
        if kwargs or len(args) != self.nparams:
            args = self.bind(args, kwargs)
        if any(map(bound.is_static_callable, args)):
            return self._with_callables(args)
        if containers.has_containers(args, self.kind.static_positions(len(args))):
            flat, flattening, rebuild = self.flat(args)
            return rebuild(
                flat(*flattening.checked_leaves(args, self.kind.name, self.kind.argnums))
            )
        return self.specialization(args).run(args)

    def _with_callables(self, args):
        """Call with functions among `args`: they are static, compiled into the code of a twin of
        the function that reads them as constants (bound.with_callables); None goes in their
        place."""
        given = tuple((i, a) for i, a in enumerate(args) if bound.is_static_callable(a))
        twin = self._caches.with_callables.get(given)
        if twin is None:
            names = {self.param_names[i]: a for i, a in given}
            twin = self._caches.with_callables[given] = self._bound_twin(names)
        static = {i for i, _ in given}
        return twin._call(tuple(None if i in static else a for i, a in enumerate(args)), {})

    def _bound_twin(self, values):
        """This transformation of the function with the parameters in `values` bound to them."""
        if isinstance(self.fun, Transformed):
            return Transformed(self.fun._bound_twin(values), self.kind, self.target)
        return Transformed(bound.with_callables(self.fun, values), self.kind, self.target)

    def for_arguments(self, args):
        """This transformation for a call with the positional `args`.

        Itself, or for a NumPy function given directly, the transformation of it called with
        `args`' shape-deciding arguments written in (parse.function_for_rule_call).
        """
        if self._rule_callee is None:
            return self
        key = len(args), parse.static_key(args)
        if key not in self._rule_calls:
            function = parse.function_for_rule_call(self._rule_callee, args)
            self._rule_calls[key] = function and Transformed(function, self.kind, self.target)
        return self._rule_calls[key] or self

    def bind(self, args, kwargs):
        self._refresh_defaults()
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.__name__}(): {exc}") from None
        bound.apply_defaults()
        return bound.args + tuple(bound.kwargs.values())  # `*args` given one by one

    def _refresh_defaults(self):
        """Read the defaults again where the user has set `f.__defaults__` since: a call of f
        would fill in the new ones, so a call of the transformation must too."""
        defaults = _defaults_of(self.fun)
        if any(now is not read for now, read in zip(defaults, self._defaults_read)):
            fun = self.fun
            if isinstance(fun, Transformed):
                fun._refresh_defaults()
            self._signature = (
                fun._signature if isinstance(fun, Transformed) else inspect.signature(fun)
            )
            self._defaults_read = defaults

    # ---- container arguments --------------------------------------------

    def flat(self, args, axes=None):
        """(this transformation of a function of the leaves of `args`, their Flattening, how to
        rebuild its results into the user's structures); `axes`: vmap's, per argument."""
        static = self.kind.static_positions(len(args))
        key = containers.structure_key(args, static), axes
        found = self._by_structure.get(key)
        if found is None:
            flattening = containers.Flattening(self.param_names, args, static, axes)
            found = self._by_structure[key] = self.flat_of(flattening)
        return found

    def flat_of(self, flattening):
        """`flat` for the arguments of `flattening` (this call's, or an outer transformation's)."""
        flattening = self.kind.flattening_for(self, flattening)
        if flattening.key not in self._flats:
            with self._lock:
                if flattening.key not in self._flats:
                    self._flats[flattening.key] = self._flat_for(flattening)
        flat, rebuild_inner = self._flats[flattening.key]
        return flat, flattening, self.kind.rebuild(flattening, rebuild_inner)

    def _flat_for(self, flattening):
        """(the flat transformation, the rebuilding of the function it transforms)."""
        # the axes are this vmap's: an inner vmap maps its own
        if isinstance(self.fun, Transformed):
            inner, _, rebuild_inner = self.fun.flat_of(flattening.with_axes(None))
        else:
            inner, rebuild_inner = containers.adapter(self.fun, flattening, self._signature), same
        return Transformed(
            inner, self.kind.of_leaves(flattening, rebuild_inner), self.target
        ), rebuild_inner

    # ---- specializing ----------------------------------------------------

    def specialization(self, args, axes=None):
        """The generated code for arguments like `args` (bound, defaults filled in).

        `axes`: vmap's.
        """
        axes = self.kind.axes_for(self, args, axes)
        key = signature_key(args), self.kind.cache_key(args), axes
        entry = self._specializations.get(key)
        # new arguments, or a global or helper it was written for changed
        if entry is None or not entry.holds():
            # threads calling a new function at once: one generates, the others wait for it
            with self._lock:
                entry = self._specializations.get(key)
                if entry is None or not entry.holds():
                    entry = self._specializations[key] = specialize.Specialization(self, args, axes)
                    self._caches.last = entry
                    if (
                        axes is None
                        and self.kind.typed_by_type
                        and not entry.assumptions
                        and not any(type(a) in (np.ndarray, tuple, list, dict) for a in args)
                    ):
                        # checks nothing: only code that assumes nothing
                        self._by_type[key[0]] = entry
                        if len(args) == 1 and entry.plain and self._types_pick_code:
                            self._by_one_type[type(args[0])] = self._registering(entry)
        return entry

    def _registering(self, entry):
        """`entry.call` of one argument that, once it has run, leaves `_by_one_type` holding the
        function its run compiled: later calls skip the attribute lookup (a tenth of W1's call)."""

        def first_call(argument):
            result = entry.call(argument)
            self._by_one_type[type(argument)] = entry.call
            return result

        return first_call

    # ---- source ----------------------------------------------------------

    def specialization_for(self, *args):
        """The generated code that a call with `args` runs (its flat twin's, for containers)."""
        bound = self.bind(args, {})
        if containers.has_containers(bound, self.kind.static_positions(len(bound))):
            flat, flattening, _ = self.flat(bound)
            return flat.specialization_for(*flattening.leaves(bound))
        return self.specialization(bound)

    def source_for(self, *args):
        self.kind.check_examples(self, args)
        if args:
            return self.specialization_for(*args).source
        if self.latest() is None:
            return self.specialization(tuple(1.0 for _ in range(self.nparams))).source
        return self.latest().source

    def latest(self):
        """The specialization generated last.

        Its own or, after calls with containers, its flat twin's.
        """
        if self._caches.last is None and self._flats:
            return list(self._flats.values())[-1][0].latest()
        return self._caches.last

    @property
    def source(self):
        return self.source_for()

    def _repr_markdown_(self):
        """Jupyter shows a transformed function as its generated source (of the last call)."""
        if self.latest() is None:
            return (
                f"`{self!r}`: not called yet; call it, or `s2sjax.source(f, *example_args)`, "
                "to see the code generated for those arguments"
            )
        return (
            f"`{self!r}`, generated for its last call:\n\n"
            f"```python\n{self.latest().source.rstrip()}\n```\n"
        )


class _Caches:
    """What one transformation of one function has generated, shared by its equal copies."""

    def __init__(self):
        self.lock = threading.RLock()  # guards the tables below while code is generated
        self.specializations = {}
        self.by_type = {}  # the same specializations, for calls with no array argument
        self.by_one_type = {}  # an argument's type -> its compiled code (plain), for one argument
        self.by_signature = {}  # signature_key(args) -> the specialization, for the kind's own call
        self.flats = {}  # the arguments' structures -> (the transformation of the leaves, rebuild)
        self.by_structure = {}  # containers.structure_key of a call's arguments -> `flat`'s answer
        self.last = None  # the specialization generated last
        self.inlined = None  # the kind's plain function for transformed code calling this one
        # ((position, function), ...) -> the twin reading them as constants
        self.with_callables = {}


# (function, kind, target) -> _Caches, most recently used last. Bounded, so that lambdas made anew
# in a loop (each a new function) do not keep their code alive forever.
_RECENT = collections.OrderedDict()
_RECENT_LIMIT = 256
_RECENT_LOCK = threading.Lock()


def _caches_for(identity):
    try:
        hash(identity)
    except TypeError:  # options that cannot be compared (a list in in_axes): nothing to share
        return _Caches()
    with _RECENT_LOCK:
        caches = _RECENT.pop(identity, None) or _Caches()
        _RECENT[identity] = caches
        if len(_RECENT) > _RECENT_LIMIT:
            _RECENT.popitem(last=False)
    return caches


def _types_of(args):
    """The key of `_by_type` for `args`: their types (one argument's without `map`, quicker)."""
    return (type(args[0]),) if len(args) == 1 else tuple(map(type, args))


def _identity(fun):
    """What makes two transformations of `fun` the same: the function object itself, or for a
    transformed function its own function, kind and target."""
    return fun._identity if isinstance(fun, Transformed) else fun


def _defaults_of(fun):
    """The defaults of the function that `fun` transforms, to compare by identity."""
    while isinstance(fun, Transformed):
        fun = fun.fun
    return getattr(fun, "__defaults__", None), getattr(fun, "__kwdefaults__", None)
