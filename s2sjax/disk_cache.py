"""The transform cached on disk: a new process skips the pipeline for code it generated before.

`pipeline.generate(fun, spec)` is a function of `spec`, of s2sjax's own source, and of what
`fun` reads: its source and code, its defaults and closure values, and the globals it names
(numbers written in as literals, helpers inlined, modules whose attributes it calls), the same
again for every helper it may inline. `generate` fingerprints all of that before running the
pipeline; the digest names a file in the cache directory holding what the pipeline returned,
and a later process computing the same digest loads it instead of generating. A value that
cannot be fingerprinted safely (an array, a list, an object, a class of the user's) makes the call
uncached, as do code that captures arrays and rules a user defined: they generate as before.

In the process that loads it, the code is watched as generated code is: when it was written
for some value, it holds while every global and closure value the fingerprint read is still
the same object or an equal one (a superset of what the pipeline would have recorded).
"""

import builtins
import hashlib
import linecache
import os
import pickle
import sys
import tempfile
import types

import numba
import numpy as np

from . import config, extend, pipeline
from .backend import compile as backend
from .frontend import parse
from .frontend.resolve import Assumption
from .version import __version__

# objects of these packages are fixed by their versions and s2sjax's source, both in the key
_LIBRARIES = frozenset(
    {"builtins", "math", "cmath", "operator", "numpy", "scipy", "numba", "s2sjax"}
)
_NUMBERS = (bool, int, float, complex, str, bytes, type(None), np.generic)
_MISSING = object()  # a global the code names that is not defined (yet)


def generate(fun, spec):
    """`pipeline.generate(fun, spec)`, from the disk cache when an equal call was cached."""
    fingerprint = _fingerprint(fun, spec)
    if fingerprint is None:
        return pipeline.generate(fun, spec)
    digest, watched = fingerprint
    path = os.path.join(backend.cache_dir(), f"transform-{digest}.pickle")
    found = _load(path, watched)
    if found is not None:
        return found
    generated = pipeline.generate(fun, spec)
    if _storable(generated):
        _store(path, generated)
    return generated


def _load(path, watched):
    try:
        with open(path, "rb") as fh:
            generated = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return None  # not cached yet, or a file cut short: generate anew
    if not isinstance(generated, pipeline.Generated):
        return None
    # code written for some value: watch every value the fingerprint read (none read: it cannot
    # be watched, generate it anew)
    if generated.assumptions:
        if not watched:
            return None
        generated.assumptions = [Assumption(read, value) for read, value in watched]
    return generated


def _storable(generated):
    """Whether `generated` is whole without its process: no captured arrays (read by functions),
    no error kept for later, no user's pytree node in its outputs."""
    return (
        not generated.captured
        and generated.ragged is None
        and not _has_nodes(generated.output_tree)
    )


def _has_nodes(tree):
    return tree is not None and (tree.kind == "node" or any(map(_has_nodes, tree.children)))


def _store(path, generated):
    # its assumptions hold functions: a marker that there were some is enough (see `_load`)
    kept = pipeline.Generated(
        generated.name,
        generated.source,
        [],
        generated.output_types,
        generated.returns_tuple,
        generated.output_tree,
        [True] if generated.assumptions else [],
        generated.boundscheck,
        None,
    )
    try:
        data = pickle.dumps(kept)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=".pickle")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)  # a reader never sees half a file
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass  # a full disk: the next process generates again


# ---- the fingerprint --------------------------------------------------------


class _Uncached(Exception):
    """A value the fingerprint cannot vouch for: the call generates, uncached."""


def _fingerprint(fun, spec):
    """(the digest of everything `pipeline.generate(fun, spec)` depends on, the (read, value)
    pairs of the globals and closure values it read), or None when the call is not cached."""
    if extend.definitions() or not isinstance(fun, types.FunctionType):
        return None
    walk = _Walk()
    try:
        parts = [
            _package_stamp(),
            np.__version__,
            numba.__version__,
            repr(config.strict),
            _spec_text(spec),
            walk.function(fun),
        ]
    except (_Uncached, OSError, TypeError, ValueError, RecursionError):
        return None
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    return digest, walk.watched


def _spec_text(spec):
    for cls in spec.classes or ():
        if not _is_library(cls):
            raise _Uncached(cls)
    return repr(spec)


class _Walk:
    """Text for the functions, globals and closure values that generating code reads."""

    def __init__(self):
        self.seen = {}  # id(function) -> its name, for recursive helpers
        self.watched = []  # (read, value)

    def function(self, fun):
        if id(fun) in self.seen:
            return f"function {self.seen[id(fun)]}"
        self.seen[id(fun)] = fun.__qualname__
        if parse.is_lifted(fun):  # parsed from a tree kept in memory, not from its source
            raise _Uncached(fun)
        code = fun.__code__
        names = _names(code)
        parts = [
            fun.__module__ or "",
            fun.__qualname__,
            _file_text(code.co_filename, fun.__globals__),
            _code_text(code),
            self.value(fun.__defaults__, names),
            self.value(fun.__kwdefaults__ and tuple(sorted(fun.__kwdefaults__.items())), names),
        ]
        for name, cell in zip(code.co_freevars, fun.__closure__ or ()):
            parts.append(f"closure {name}: {self._cell(cell, names)}")
        scope = fun.__globals__
        for name in sorted(names):
            if name in scope or not hasattr(builtins, name):
                parts.append(f"global {name}: {self._entry(scope, name, names)}")
        return "\n".join(parts)

    def _cell(self, cell, names):
        try:
            value = cell.cell_contents
        except ValueError:
            value = _MISSING
        self.watched.append((lambda: cell.cell_contents, value))
        return self.value(value, names)

    def _entry(self, namespace, name, names):
        value = namespace.get(name, _MISSING)
        self.watched.append((lambda: namespace.get(name, _MISSING), value))
        return self.value(value, names)

    def value(self, value, names):
        """Text for `value`, read by code naming `names` (a module's attributes among them)."""
        if value is _MISSING:
            return "missing"
        if isinstance(value, _NUMBERS):
            return f"{type(value).__module__}.{type(value).__qualname__} {value!r}"
        # not a list: changed in place, it would still be the object the code was loaded for
        if type(value) is tuple:
            return f"tuple({', '.join(self.value(v, names) for v in value)})"
        if isinstance(value, types.ModuleType):
            return self.module(value, names)
        if isinstance(value, np.ufunc):
            return _ufunc(value)
        if isinstance(value, types.FunctionType) and not _is_library(value):
            return self.function(value)
        if _is_library(value) and _named(value):
            return f"object {value.__module__}.{value.__qualname__} {type(value).__qualname__}"
        raise _Uncached(value)

    def module(self, module, names):
        """A module and the attributes of it that the code may read."""
        name, key = module.__name__, (id(module), frozenset(names))
        if key in self.seen:
            return f"module {name}"
        self.seen[key] = name
        attributes = vars(module)
        parts = [
            f"{attribute}={self._entry(attributes, attribute, names)}"
            for attribute in sorted(names)
            if attribute in attributes
        ]
        return f"module {name}({', '.join(parts)})"


def _file_text(filename, module_globals):
    """The text of the file the parser reads the function from, as it is now (all of it:
    quicker than inspect's search for the function, whose first call scans every module)."""
    linecache.checkcache(filename)
    lines = linecache.getlines(filename, module_globals)
    if not lines:
        raise _Uncached(filename)
    return "".join(lines)


def _names(code):
    """The names `code` and the code nested in it read: globals and attributes."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _code_text(code):
    consts = (_code_text(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts)
    return repr(
        (
            code.co_code,
            tuple(consts),
            code.co_names,
            code.co_varnames,
            code.co_freevars,
            code.co_cellvars,
            code.co_argcount,
            code.co_posonlyargcount,
            code.co_kwonlyargcount,
            code.co_flags,
            code.co_filename,
            code.co_firstlineno,
        )
    )


def _ufunc(ufunc):
    """A ufunc by the name NumPy's or SciPy's namespace gives it (ufuncs name no module)."""
    for module_name in ("numpy", "scipy.special"):
        module = sys.modules.get(module_name)
        if module is not None and vars(module).get(ufunc.__name__) is ufunc:
            return f"ufunc {module_name}.{ufunc.__name__}"
    raise _Uncached(ufunc)


def _is_library(obj):
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in _LIBRARIES


def _named(obj):
    """Whether `obj` is what its module and qualified name find (so they identify it)."""
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    found = module
    for attribute in (getattr(obj, "__qualname__", None) or "<none>").split("."):
        found = getattr(found, attribute, None)
    return found is obj


_PACKAGE_STAMP = None


def _package_stamp():
    """A digest of where s2sjax's own source files are, their sizes and modification times,
    read once per process: any edit is a new version (Python trusts the same for its .pyc)."""
    global _PACKAGE_STAMP
    if _PACKAGE_STAMP is None:
        root = os.path.dirname(os.path.abspath(__file__))
        stamps = []
        for folder, _, files in sorted(os.walk(root)):
            for name in sorted(f for f in files if f.endswith(".py")):
                stat = os.stat(os.path.join(folder, name))
                stamps.append(
                    f"{os.path.relpath(folder, root)}/{name} {stat.st_size} {stat.st_mtime_ns}"
                )
        _PACKAGE_STAMP = f"{__version__} {root}\n" + "\n".join(stamps)
    return _PACKAGE_STAMP
