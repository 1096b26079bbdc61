"""jit: the user's function itself, compiled; static arguments written in as constants."""

import inspect
from dataclasses import dataclass, replace

import numpy as np

from ..mode import Mode
from .base import Kind, check_argnums
from ..lazy import lazy_module

# modules loaded on first use (s2sjax/lazy.py): `import s2sjax` leaves them for code generation
templates = lazy_module("s2sjax.backend.templates")
common = lazy_module("s2sjax.transforms.common")


@dataclass(frozen=True)
class Jit(Kind):
    static_argnums: tuple = ()

    name = "jit"
    mode = Mode.PRIMAL
    composable = True

    def __post_init__(self):
        static = self.static_argnums
        object.__setattr__(
            self, "static_argnums", (static,) if isinstance(static, int) else tuple(static)
        )
        check_argnums(self.static_argnums)

    @property
    def typed_by_type(self):
        return not self.static_argnums

    def static_positions(self, nargs):
        return tuple(sorted({i % nargs for i in self.static_argnums if -nargs <= i < nargs}))

    def cache_key(self, args):
        """The static arguments' values: a new value compiles anew."""
        values = []
        for i in self.static_positions(len(args)):
            try:
                hash(args[i])
            except TypeError as exc:
                raise ValueError(
                    "Non-hashable static arguments are not supported. "
                    "An error occurred while trying to hash an object of type "
                    f"{type(args[i])}, {args[i]!r}. The error was:\nTypeError: {exc}"
                ) from None
            values.append((i, type(args[i]), args[i]))
        return tuple(values)

    def of_leaves(self, flattening, rebuild_inner):
        return Jit(tuple(flattening.positions(i)[0] for i in flattening.static))

    def generate(self, specialization, code, args):
        if specialization.static:
            return _with_static(specialization, code, args)
        return super().generate(specialization, code, args)

    def header(self, name, types, argnums, axes, target):
        return f"jit of {name} for ({types})"


def static_positions(fun, static_argnums, static_argnames):
    """`static_argnums` (an int or ints) with the positions of the parameters of `fun` named in
    `static_argnames` (a name or names) added."""
    numbers = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if not names:
        return numbers
    params = list(inspect.signature(fun).parameters)
    for name in names:
        if name not in params:
            raise ValueError(
                f"static_argnames names {name!r}, which is not a parameter of "
                f"{getattr(fun, '__name__', fun)} ({', '.join(params)})"
            )
    return numbers + tuple(params.index(n) for n in names if params.index(n) not in numbers)


def _with_static(specialization, code, args):
    """The function with its static arguments written in as constants."""
    s = specialization
    function = s.generate(code, replace(s.spec, target="python"))
    s.output_tree = function.output_tree
    params = s.param_names(code)
    kept = [p for i, p in enumerate(params) if i not in s.static]
    constants = {params[i]: _constant_source(args[i], params[i]) for i in s.static}
    extra = [c.name for c in function.captured]
    wrapper = jit_source(
        common.generated_name(code.__name__, "jit"),
        kept + extra,
        function.name,
        [constants.get(p, p) for p in params] + extra,
    )
    s.arg_types = tuple(t for i, t in enumerate(s.arg_types) if i not in s.static)
    return s.inline(wrapper, [function], function.captured)


def _constant_source(value, name):
    """`value` as source, for a static argument."""
    if isinstance(value, tuple):
        return f"({''.join(_constant_source(v, name) + ', ' for v in value)})"
    if value is None or isinstance(value, (bool, np.bool_)):
        return repr(None if value is None else bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if np.isfinite(value):
            return repr(value)
        return "math.nan" if np.isnan(value) else f"{'-' if value < 0 else ''}math.inf"
    raise TypeError(
        f"the static argument {name!r} is a {type(value).__name__}; s2sjax compiles in numbers, "
        "bools, None and tuples of those"
    )


def jit_source(name, params, function, arguments):
    """`name(params)`: `function` called with `arguments`, each the source of a parameter's name or
    of a constant (jit's static arguments, written in)."""
    return templates.source(
        _jit,
        name=name,
        params=params,
        function=function,
        arguments=[templates.parsed(a) for a in arguments],
    )


def _jit(name, params, function, arguments):
    def name(*params):
        return function(*arguments)
