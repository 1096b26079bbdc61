"""What the forward and reverse transforms both need.

The generated function's signature and comments.
"""

import copy

import gast
import numpy as np

from .. import rules
from ..backend.naming import line_comment, name
from ..passes.queries import is_comment
from ..abstract import FloatOfEitherWidth, Type, of_value


def positional(params):
    """Plain positional parameters: the wrapper always passes every argument, defaults filled in."""
    return gast.arguments(
        args=[gast.Name(p, gast.Param(), None, None) for p in params],
        posonlyargs=[],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )


def atom_type(node, types):
    """The type of an atom of normalized code: a name, a constant, a tuple of those, or a dtype."""
    if isinstance(node, gast.Name):
        return types[node.id]
    if isinstance(node, gast.Constant):
        return of_value(node.value)
    if isinstance(node, gast.Tuple):
        return Type("tuple", 0, tuple(atom_type(e, types) for e in node.elts))
    return Type("dtype")


def zeros_like(primal):
    """`rt.zeros_like(primal)`: a zero derivative shaped like `primal`."""
    return gast.Call(rules.dotted("rt.zeros_like"), [name(primal)], [])


# a vmap's examples of float64 arrays are np.float64; an inner transformation's floats, of either
# width, are seeded as before
_FLOAT64_NUMBERS = {float, int, bool, np.float64, FloatOfEitherWidth}


def scalar_seed(value, spec, classes=None):
    """The constant `value` seeding a derivative of a function of Python numbers (`classes`, the
    classes of the arguments it derives from; default all of `spec`'s): on target python it is
    `np.float64(value)`.

    Python floats raise ZeroDivisionError where NumPy's scalars give inf or nan (the derivative of
    `math.sqrt` at 0.0); Numba's compiled code, NumPy's float32 scalars and arrays follow NumPy
    already (and a float64 seed would widen float32 derivatives).
    """
    classes = spec.classes if classes is None else classes
    if spec.target != "python" or classes is None or not set(classes) <= _FLOAT64_NUMBERS:
        return gast.Constant(value, None)
    return gast.Call(rules.dotted("np.float64"), [gast.Constant(value, None)], [])


def generated_name(user_name, suffix):
    base = "lambda" if user_name == "<lambda>" else user_name
    return f"{base}_{suffix}"


def with_line_comments(stmts, origins):
    """The statements, each group preceded by the user's source line it comes from.

    Statements the transform added (no origin) stay under the comment of the one before.
    """
    out, last = [], None
    for stmt in stmts:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            stmt = copy.copy(stmt)
            stmt.body = with_line_comments(stmt.body, origins)
            stmt.orelse = with_line_comments(stmt.orelse, origins)
        location = origins.get(id(stmt))
        if location is not None and not is_comment(stmt):
            marker = line_comment(location, getattr(stmt, "lineno", None))
            text = marker.value.args[0].value
            if text != last:
                out.append(marker)
                last = text
        out.append(stmt)
    return out
