"""Where generated code comes from in the user's code, for errors that must name their line.

Generated code that fails in the pipeline (a hessian's jacrev of a gradient) or at run time
(compiled code carries no lines) is traced back to the user's function and line here.
"""

import inspect
import os
import re

from .backend import compile as backend
from .backend.naming import GENERATED_MODULE_PREFIX, user_line_above
from .errors import TransformError


def raise_as_python(exc, twin, arguments):
    """Run the compiled call's Python `twin` (briefly); if it fails as `exc` did, raise its
    error instead, which names the user's line (and NumPy's words)."""
    try:
        backend.run_briefly(twin, arguments)
    except type(exc) as located:
        raise located from exc
    except Exception:
        return


def in_users_code(exc, transformed):
    """`exc`, raised in generated code, at the user's line that code comes from.

    None if not known.
    """
    if (
        not os.path.basename(exc.filename or "").startswith(GENERATED_MODULE_PREFIX)
        or not exc.lineno
    ):
        return None
    where = re.match(r"(\S+):(\d+): ", user_line_above(exc.filename, exc.lineno))
    users = getattr(_user_function(transformed), "__code__", None)
    if where is None or users is None or os.path.basename(users.co_filename) != where.group(1):
        return None
    return TransformError(exc.message, users.co_filename, int(where.group(2)), None, exc.hint)


def _user_function(transformed):
    fun = transformed.fun
    while not inspect.isfunction(fun) and hasattr(fun, "fun") or hasattr(fun, "s2sjax_adapts"):
        fun = getattr(fun, "s2sjax_adapts", None) or fun.fun
    return fun


def origin_of(transformed):
    fun = _user_function(transformed)
    code = getattr(fun, "__code__", None)
    if code is None:
        return getattr(fun, "__qualname__", repr(fun))
    return f"{fun.__qualname__} ({code.co_filename}:{code.co_firstlineno})"
