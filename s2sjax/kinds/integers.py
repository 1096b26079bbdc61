"""`allow_int=True`: derivatives with respect to integer arguments, which are zero.

As in JAX, such a derivative is an array of dtype `float0` (a dtype with no
bytes: it says "no derivative here") with the argument's shape, or for a
Jacobian the output's shape followed by the argument's. The float arguments
are differentiated as usual, by the same transformation without the integer
ones; the zeros are put in at the integer ones' places.
"""

from dataclasses import replace

import numpy as np

from ..pytree import tree_map
from .base import normalize_argnums
from .jit import Jit

float0 = np.dtype([("float0", np.void, 0)])


def is_integer_valued(value):
    """A bool or an integer, a Python one, a NumPy scalar or an array."""
    if isinstance(value, (bool, int, np.integer, np.bool_)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "biu"


def call(transformed, args, kwargs):
    """Call `transformed` (a grad, value_and_grad or jacrev with allow_int) with `args`."""
    kind = transformed.kind
    if kwargs or len(args) != transformed.nparams:
        args = transformed.bind(args, kwargs)
    argnums = normalize_argnums(kind.argnums, len(args))
    floats = tuple(i for i in argnums if not is_integer_valued(args[i]))
    if len(floats) == len(argnums):
        return transformed.with_kind(replace(kind, allow_int=False))(*args)
    value, aux, by_position = None, None, {}
    if floats:  # the same transformation of the float arguments alone, spliced into
        result = transformed.with_kind(replace(kind, argnums=floats, allow_int=False))(*args)
        value, derivatives, aux = _parts(kind, result)
        by_position = dict(zip(floats, derivatives))
    if not kind.gradient or not floats and (kind.returns_value or kind.has_aux):
        value = _value(transformed, args)  # shapes a Jacobian's zeros; the value and aux
        value, aux = value if kind.has_aux else (value, None)
    derivatives = tuple(
        by_position[i] if i in by_position else _zeros(kind, args[i], value) for i in argnums
    )
    derivatives = derivatives if isinstance(kind.argnums, tuple) else derivatives[0]
    return _assembled(kind, value, derivatives, aux)


def _parts(kind, result):
    """(value or None, the derivatives, aux or None) of a result of `kind` at tuple argnums."""
    if kind.returns_value:
        (value, aux), derivatives = result if kind.has_aux else ((result[0], None), result[1])
        return value, derivatives, aux
    if kind.has_aux:
        return None, result[0], result[1]
    return None, result, None


def _value(transformed, args):
    """The function's output (and aux), which shapes a Jacobian's zeros and value_and_grad's
    value, when there is no float argument to differentiate."""
    return transformed.with_kind(Jit())(*args)


def _zeros(kind, argument, output):
    shape = np.shape(argument)
    if not kind.gradient:  # a Jacobian: one block per output
        return tree_map(lambda out: np.zeros(np.shape(out) + shape, dtype=float0), output)
    return np.zeros(shape, dtype=float0)


def _assembled(kind, value, derivatives, aux):
    if kind.returns_value:
        return ((value, aux) if kind.has_aux else value), derivatives
    return (derivatives, aux) if kind.has_aux else derivatives
