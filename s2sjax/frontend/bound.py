"""Functions with some parameters bound to values: functions given as arguments, partials.

As JAX's static arguments, a function given to a transformed function
(`grad(apply, argnums=1)(np.sin, x)`) is part of what picks the code: the code
is generated for a twin of `apply` that reads `func` from its closure, a
constant of its code (a NumPy function becomes its rule, a user's function is
inlined). `functools.partial(f, w)` is `f` reading `w` from its closure the
same way (an array there is read again at every call).
"""

import copy
import functools
import inspect
import os
import types


from .parse import compiled_with_cells, parse

# the parameter a static callable was given to, kept under this name: the call passes None there
_UNUSED = "{}_given_statically"


def is_static_callable(value):
    """Whether an argument is a function, compiled into the code rather than passed to it."""
    return callable(value) and not isinstance(value, type) and not hasattr(value, "__array__")


def with_callables(pyfunc, values):
    """`pyfunc` with the parameters named in `values` (name -> a callable) read from its closure;
    those parameters stay, renamed, for the call to pass None."""
    function = parse(pyfunc)
    fdef = copy.deepcopy(function.tree)
    for param in fdef.args.posonlyargs + fdef.args.args + fdef.args.kwonlyargs:
        if param.id in values:
            param.id = _UNUSED.format(param.id)
    return _closed(function, fdef, values, "given " + ", ".join(values))


def of_partial(partial):
    """The plain function a `functools.partial` of a plain function is, its bound arguments read
    from its closure; None for other callables."""
    inner = partial.func
    if isinstance(inner, functools.partial):
        inner = of_partial(inner)
    if not inspect.isfunction(inner):
        return None
    params = list(inspect.signature(inner).parameters.values())
    if len(partial.args) > len(params) or any(
        p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params[: len(partial.args)]
    ):
        return None
    values = {p.name: v for p, v in zip(params, partial.args)}
    values.update(partial.keywords)
    function = parse(inner)
    fdef = copy.deepcopy(function.tree)
    if not set(values) <= {a.id for a in fdef.args.args + fdef.args.kwonlyargs}:
        return None
    _remove_parameters(fdef.args, set(values))
    return _closed(function, fdef, values, "a partial of it")


def _remove_parameters(args, names):
    """Drop the parameters `names` (and their defaults) from `args`."""
    defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
    kept = [(a, d) for a, d in zip(args.args, defaults) if a.id not in names]
    args.args = [a for a, _ in kept]
    args.defaults = [d for _, d in kept if d is not None]
    kwonly = [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if a.id not in names]
    args.kwonlyargs = [a for a, _ in kwonly]
    args.kw_defaults = [d for _, d in kwonly]


def _closed(function, fdef, values, what):
    """The Python function `fdef` is, in `function`'s globals, its closure `function`'s cells
    and one cell per bound value."""
    pyfunc = function.pyfunc
    cells = dict(zip(pyfunc.__code__.co_freevars, pyfunc.__closure__ or ()))
    cells.update({name: types.CellType(value) for name, value in values.items()})
    name = fdef.name
    fdef.decorator_list = []
    where = f"{os.path.basename(function.location.filename)}:{getattr(fdef, 'lineno', '?')}"
    filename = f"<s2sjax: {name} at {where}, {what}>"
    code, closure, _ = compiled_with_cells(fdef, cells, filename, dict(function.globals))
    defaults, kwdefaults = _defaults(pyfunc, fdef.args)
    bound = types.FunctionType(code, function.globals, name, defaults, closure or None)
    bound.__kwdefaults__ = kwdefaults
    bound.__qualname__ = getattr(pyfunc, "__qualname__", name)
    return bound


def _defaults(pyfunc, args):
    """The default values of the twin's parameters `args`: the original function's own (their
    expressions may name what only the original's definition could see, its enclosing
    function's variables)."""
    original = {
        name: p.default
        for name, p in inspect.signature(pyfunc).parameters.items()
        if p.default is not p.empty
    }

    def value(param):
        name = param.id
        return original[name if name in original else _original_name(name)]

    positional = args.posonlyargs + args.args
    defaults = tuple(value(a) for a in positional[len(positional) - len(args.defaults) :])
    kwdefaults = {a.id: value(a) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d}
    return defaults or None, kwdefaults or None


def _original_name(name):
    """The user's name of a parameter renamed with _UNUSED."""
    suffix = _UNUSED.format("")
    return name[: -len(suffix)] if name.endswith(suffix) else name
