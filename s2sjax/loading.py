"""Loading generated modules, and compiling them with Numba on their first call.

A `Specialization` keeps what it loaded as attributes (`call`, `pushforward`, ...): the first
call of a compiled target compiles (or falls back to Python, with a warning) and replaces the
attribute with the compiled function, so later calls go straight to it.
"""

import functools

from . import extend
from .backend import compile as backend
from .located import origin_of


def load_generated(specialization, module_source, name, attribute, target=None):
    """Load a generated module; `specialization.<attribute>` runs its function `name`, returned.

    For a compiled target, the first call compiles it (or, failing that, falls back to
    Python) and puts the result in `specialization.<attribute>`, so later calls go straight to it.
    """
    compiled = (target or specialization.transformed.target) != "python"
    options = (
        backend.jit_options(
            specialization.transformed.target == "parallel", specialization.boundscheck
        )
        if compiled
        else None
    )
    module = backend.load_module(module_source, backend.module_stem(name), options)
    pyfunc = getattr(module, name)
    if not compiled:
        setattr(specialization, attribute, backend.noting_user_lines(pyfunc))
        return pyfunc
    specialization.as_python[attribute] = backend.noting_user_lines(pyfunc)
    cache = not extend.calls_custom_rules(module_source)
    jitted = specialization.dispatchers[attribute] = backend.jitted(module, name, options, cache)
    if options["parallel"]:
        specialization.serial[attribute] = functools.partial(
            _serial, module_source, name, specialization.boundscheck, cache
        )
    first = backend.FirstCall(
        jitted, backend.noting_user_lines(pyfunc), origin_of(specialization.transformed)
    )

    def first_call(*args):
        result, compiled = first(*args)
        setattr(specialization, attribute, compiled)
        return result

    setattr(specialization, attribute, first_call)
    return pyfunc


def _serial(module_source, name, boundscheck, cache):
    """The generated function `name` compiled as target 'cpu' compiles it."""
    options = backend.jit_options(False, boundscheck)
    module = backend.load_module(module_source, backend.module_stem(name), options)
    return backend.jitted(module, name, options, cache=cache)
