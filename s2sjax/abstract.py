"""Abstract types: what specialization fixes and Numba will see, and their algebra.

A `Type` is the kind of a value (float, int, bool, a tuple of those, a dtype
object, None) and, for arrays, the rank; shapes stay runtime values. This
module is a leaf: the rules (`s2sjax.rules`) and type inference
(`s2sjax.passes.types`) both build on it, and it imports neither.

>>> broadcast(FLOAT, Type("float", 2))
Type(kind='float', ndim=2, elts=())
>>> merge(INT, FLOAT)
Type(kind='float', ndim=0, elts=())
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Type:
    kind: str  # "float", "int", "bool", "tuple", "dtype", "none", "unknown", "unset"
    ndim: int | None = 0  # 0 for scalars, None when unknown
    elts: tuple = ()  # element types of a tuple

    @property
    def differentiable(self):
        return self.kind == "float"

    @property
    def is_scalar(self):
        return self.kind in ("float", "int", "bool") and self.ndim == 0

    def with_kind(self, kind):
        return Type(kind, self.ndim)


class FloatOfEitherWidth(float):
    """The example value of a scalar float `Type` (which does not say the width), where code is
    specialized from types alone (a transformation called inside another): its class stands for
    float, np.float64 and np.float32 at once (see `classes_it_may_be`)."""


def classes_it_may_be(cls):
    """The classes a value of class `cls` may have when the code runs."""
    return (float, np.float64, np.float32) if cls is FloatOfEitherWidth else (cls,)


FLOAT = Type("float")
INT = Type("int")
BOOL = Type("bool")
NONE = Type("none")
DTYPE = Type("dtype")
UNKNOWN = Type("unknown", None)
UNSET = Type(
    "unset"
)  # a variable with no value yet (`.ret` before a loop that may return): joins as nothing

NUMBER_KINDS = ("bool", "int", "float")  # in the order arithmetic promotes them


def promote(*kinds):
    """The kind of an arithmetic result: bool < int < float."""
    known = [k for k in kinds if k in NUMBER_KINDS]
    if len(known) != len(kinds):
        return "unknown"
    return max(known, key=NUMBER_KINDS.index)


def broadcast(*types, kind=None):
    """The type of an elementwise result of `types` (NumPy broadcasting)."""
    ranks = [t.ndim for t in types]
    ndim = None if None in ranks else max(ranks)
    return Type(kind or promote(*(t.kind for t in types)), ndim)


def merge(a, b):
    """The type of a variable after a branch join."""
    if a == b or b == UNSET:
        return a
    if a == UNSET:
        return b
    if a.kind in NUMBER_KINDS and b.kind in NUMBER_KINDS:
        return Type(promote(a.kind, b.kind), a.ndim if a.ndim == b.ndim else None)
    return UNKNOWN


def of_value(value):
    """The abstract type of a runtime value (arguments and captured constants)."""
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (int, np.integer)):
        return INT
    if isinstance(value, (float, np.floating)):
        return FLOAT
    if isinstance(value, np.ndarray):
        return Type(_dtype_kind(value.dtype), value.ndim)
    if isinstance(value, tuple):
        return Type("tuple", 0, tuple(of_value(v) for v in value))
    if value is None:
        return NONE
    return UNKNOWN


def _dtype_kind(dtype):
    if dtype.kind == "f":
        return "float"
    if dtype.kind in "iu":
        return "int"
    if dtype.kind == "b":
        return "bool"
    return "unknown"
