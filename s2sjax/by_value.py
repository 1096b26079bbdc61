"""Transformed functions pickled by value, for worker processes that cannot import the user's file.

`pickle.dumps(vmap(grad(loss)))` holds what the transformation was made of (the function
given, its kind with the options, the target), pickled by cloudpickle, and the source lines
of each file that a function it carries by value was written in (a script's `__main__`, a
notebook cell; a local function or lambda anywhere). Unpickling puts those lines in
linecache, where parse (inspect) reads them on a machine without the file, and makes the
transformation again: the worker generates the code from the same source and compiles it
into its own disk cache. A function of an importable module travels by reference, as
pickle's do: the worker imports the module and reads its file.
"""

import hashlib
import linecache
import pickle
import sys
import threading
import types

from .rules import registry

# a payload unpickled in this process -> the transformation made of it: a worker unpickling
# the same function for each block (Dask's processes scheduler) generates its code once
_REBUILT = {}
_REBUILT_LOCK = threading.Lock()


def reduce(transformed, given):
    """`Transformed.__reduce__`: `given`, what `transformed` was made of, with its sources."""
    cloudpickle = _cloudpickle()
    made_of = (given, transformed.kind, transformed.target)
    reached = list(_by_value_functions(given))
    _refuse_custom_rules(transformed, reached)
    try:
        payload = cloudpickle.dumps(made_of)
    except Exception as exc:
        raise _unpicklable(transformed, reached, exc) from exc
    sources, files = {}, {}
    for function in reached:
        filename = function.__code__.co_filename
        sources.setdefault(filename, linecache.getlines(filename))
        files[_place_key(function)] = filename
    return rebuilt, (type(transformed), sources, files, payload)


def rebuilt(cls, sources, files, payload):
    """The transformation (a `cls`, Transformed) that `reduce` pickled: `files` names the file of
    each function pickled by value (its `_place_key`), which cloudpickle does not keep."""
    key = hashlib.sha256(payload).digest()
    found = _REBUILT.get(key)
    if found is None:
        for filename, lines in sources.items():
            if linecache.getlines(filename) != lines:  # not here, or not as it was written
                linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
        given, kind, target = pickle.loads(payload)  # which rebuilds the transformations inside
        for function in _by_value_functions(given):
            filename = files.get(_place_key(function))
            if filename is not None:
                function.__code__ = _in_file(function.__code__, filename)
        with _REBUILT_LOCK:
            found = _REBUILT.setdefault(key, cls(given, kind, target))
    return found


def _place_key(function):
    return function.__qualname__, function.__code__.co_firstlineno


def _in_file(code, filename):
    """`code`, and the code nested in it, compiled from `filename`: where parse reads it."""
    consts = tuple(
        _in_file(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts
    )
    return code.replace(co_filename=filename, co_consts=consts)


def _cloudpickle():
    try:
        import cloudpickle
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "pickling a transformed function needs cloudpickle, to carry the functions of "
            '__main__ by value: pip install "s2sjax[dask]"'
        ) from None
    return cloudpickle


def _by_value_functions(root):
    """The Python functions that cloudpickle carries by value among those `root` reaches
    through closures and the globals they read: their source must travel too."""
    seen, pending = set(), [root]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        for inner in _parts(value):
            pending.append(inner)
        if isinstance(value, types.FunctionType) and _travels_by_value(value):
            yield value


def _travels_by_value(function):
    """Whether cloudpickle carries `function` by value: unless an importable module has it
    under its name (not `__main__`'s, nor a local function's or lambda's)."""
    module = sys.modules.get(function.__module__)
    if module is None or function.__module__ == "__main__":
        return True
    found = module
    for part in function.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is not function


def _parts(value):
    """What a callable is made of that may be a function of its own."""
    if isinstance(value, types.FunctionType):
        return [v for _, v in _named_references(value)] if _travels_by_value(value) else []
    if isinstance(value, types.MethodType):
        return [value.__func__]
    if hasattr(value, "func") and hasattr(value, "args"):  # functools.partial
        return [value.func, *value.args, *value.keywords.values()]
    given = getattr(value, "_given", None)  # a transformed function
    return [] if given is None else [given]


def _named_references(function):
    """(how to name it, value) for each closure value and global that `function` reads."""
    cells = function.__closure__ or ()
    for name, cell in zip(function.__code__.co_freevars, cells):
        try:
            yield f"closure value {name!r}", cell.cell_contents
        except ValueError:  # a cell not yet filled
            pass
    for name in sorted(_global_names(function.__code__)):
        if name in function.__globals__:
            yield f"global {name!r}", function.__globals__[name]


def _global_names(code):
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):  # a nested function, a comprehension
            names |= _global_names(constant)
    return names


def _unpicklable(transformed, reached, exc):
    """The error for a transformation that cannot be pickled: which value of which function."""
    cloudpickle = _cloudpickle()
    for function in reached:
        for what, value in _named_references(function):
            if isinstance(value, (types.FunctionType, types.ModuleType)):
                continue  # looked at on its own, or pickled by name
            try:
                cloudpickle.dumps(value)
            except Exception as inner:
                return TypeError(
                    f"cannot pickle {transformed!r} by value: the {what} of "
                    f"{function.__qualname__} ({_place(function)}) is a "
                    f"{type(value).__name__} that cannot be pickled ({inner}); "
                    "pass it as an argument, or make it where the function runs"
                )
    return TypeError(f"cannot pickle {transformed!r} by value: {exc}")


def _refuse_custom_rules(transformed, reached):
    """A rule for a function carried by value (s2sjax.extend) is not defined again by the
    worker."""
    for function in reached:
        rule = registry.lookup(function)
        if rule is not None and rule.custom:
            raise TypeError(
                f"cannot pickle {transformed!r} by value: {function.__qualname__} "
                f"({_place(function)}) has a custom rule (s2sjax.extend), which workers would "
                "not know; define the function and its rule in a module they can import"
            )


def _place(function):
    return f"{function.__code__.co_filename}:{function.__code__.co_firstlineno}"
