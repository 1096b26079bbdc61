"""widen: a copy into a variable of a wider type converts the value.

(A variable with no value yet, `.ret` before a loop that may return, gets a
placeholder of the type it will have.)

A variable that a loop carries, or that both sides of an `if` assign, has one
type: the join of its definitions (`abstract.merge`: int ⊔ float = float). Python
keeps the int that `total = 0` starts with until the first float arrives, but a
tape, an adjoint and Numba's typing take the type of the first value they see.
So each copy into such a name converts what it copies, and the variable holds
its joined type on every path:

>>> from s2sjax.pipeline import stage_source
>>> def f(x):
...     total = 0
...     for i in range(3):
...         total = total * x + 1.0
...     return total
>>> print(stage_source(f, "widen"))
def f(x):
    total = 0
    total_1 = float(total)
    for i in range(0, 3):
        t1 = total_1 * x
        total_2 = t1 + 1.0
        total_1 = total_2
    out = total_1
    return out
"""

import gast

from ..rules import dotted
from .queries import statements
from ..abstract import UNSET, of_value, promote

_SCALAR_CONVERSIONS = {"float": "float", "int": "int"}
_ARRAY_DTYPES = {"float": "np.float64", "int": "np.int64"}


def widen(program, env):
    """Convert, in place, every copy `name = atom` whose atom is narrower than `name`'s type."""
    for stmt in statements(program.tree.body):
        if _is_copy(stmt):
            want = env.get(stmt.targets[0].id)
            have = _type_of(stmt.value, env)
            if want is not None and have == UNSET and want != UNSET:
                stmt.value = _placeholder(want)
            elif want is not None and have is not None and _narrower(have, want):
                stmt.value = _converted(stmt.value, want)
    return program


def _placeholder(want):
    """A value of type `want` for a variable that has none yet (never read before it gets one)."""
    if want.kind == "tuple":
        return gast.Tuple([_placeholder(e) for e in want.elts], gast.Load())
    if want.kind == "none" or want.ndim is None:
        return gast.Constant(None if want.kind == "none" else 0.0, None)
    if want.ndim == 0:
        return gast.Constant({"float": 0.0, "int": 0, "bool": False}.get(want.kind, 0.0), None)
    empty = gast.Tuple(
        [gast.Constant(0, None)] * want.ndim, gast.Load()
    )  # an empty array of that rank
    dtype = _ARRAY_DTYPES.get(want.kind, "np.bool_")
    return gast.Call(dotted("np.zeros"), [empty], [gast.keyword("dtype", dotted(dtype))])


def _is_copy(stmt):
    return (
        isinstance(stmt, gast.Assign)
        and isinstance(stmt.targets[0], gast.Name)
        and isinstance(stmt.value, (gast.Name, gast.Constant))
    )


def _type_of(atom, env):
    return env.get(atom.id) if isinstance(atom, gast.Name) else of_value(atom.value)


def _narrower(have, want):
    """Whether a value of type `have` must be converted to be stored as `want` (same rank)."""
    return (
        want.kind in _SCALAR_CONVERSIONS
        and have.kind != want.kind
        and have.ndim == want.ndim
        and promote(have.kind, want.kind) == want.kind
    )


def _converted(atom, want):
    if isinstance(atom, gast.Constant):
        return gast.Constant(float(atom.value) if want.kind == "float" else int(atom.value), None)
    if want.ndim == 0:
        return gast.Call(
            gast.Name(_SCALAR_CONVERSIONS[want.kind], gast.Load(), None, None), [atom], []
        )
    return gast.Call(
        gast.Attribute(atom, "astype", gast.Load()), [dotted(_ARRAY_DTYPES[want.kind])], []
    )
