"""lower (displays): `np.array` of a list or tuple display, written out as stores.

(`np.array` of an array is `np.copy`, which Numba has; of a scalar, the scalar: a 0-d array
is a scalar to the generated code.)

normalize reads a list or tuple given where NumPy takes an array as that array:
`np.array` of a (nested) tuple of atoms. Once the elements' types are known,
it becomes a new array and one store per element, which every transformation
already handles (an element's adjoint is the array's adjoint at its index; the
tuple `t2`, unused, is dead code that optimize removes):

>>> import numpy as np
>>> from s2sjax.pipeline import stage_source
>>> def f(a):
...     return np.sum([1, a * a])
>>> print(stage_source(f, "lower"))
def f(a):
    t1 = a * a
    t2 = 1, t1
    t3 = np.empty((2,), dtype=np.float64)
    t3[0] = 1
    t3[1] = t1
    t4 = np.sum(t3)
    out = t4
    return out
"""

from collections import Counter

import gast

from ..backend.naming import name
from ..rules import callee, dotted, dotted_name
from ..abstract import INT, UNKNOWN, Type
from .lowering import StatementLowering

_DTYPES = {"float": "np.float64", "int": "np.int64", "bool": "np.bool_"}


def lower_displays(program, env, namer):
    """Replace, in place, every `a = np.array((e0, e1, ...))` by a new array and its stores."""
    definitions = Counter(
        n.id
        for n in gast.walk(program.tree)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
    )
    program.tree.body = _Lowering(program.origins, env, namer, definitions).block(program.tree.body)
    return program


class _Lowering(StatementLowering):
    def __init__(self, origins, env, namer, definitions):
        super().__init__(origins, env, namer)
        self.definitions = definitions  # name -> how many statements assign it

    def rewrite(self, stmt):
        if _is_display(stmt):
            self.stores(stmt)
            return True
        if self.copies_an_array(stmt):  # Numba has no np.array of an array
            stmt.value = _copy_of(stmt.value, self.env[stmt.targets[0].id])
        # a 0-d array is a scalar to the code (and to Numba's math)
        elif self.wraps_a_scalar(stmt):
            stmt.value = _scalar_of(stmt.value, self.env[stmt.targets[0].id])
        return False

    def copies_an_array(self, stmt):
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Call)):
            return False
        value = stmt.value
        return (
            dotted_name(value.func) == "np.array"
            and isinstance(value.args[0], gast.Name)
            and self.env[value.args[0].id].ndim != 0
        )

    def wraps_a_scalar(self, stmt):
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Call)):
            return False
        value = stmt.value
        if not _array_of(value) or not value.args:
            return False
        first = value.args[0]
        if isinstance(first, gast.Constant):
            return type(first.value) in (int, float, bool)
        return isinstance(first, gast.Name) and self.env[first.id].ndim == 0

    def stores(self, stmt):
        target = stmt.targets[0].id
        # a name another statement assigns too (a phi: `v = x` on the other branch) is no array of
        # the code's own to store into: fill a new one, then copy it in
        array = target if self.definitions[target] == 1 else self.namer.temp()
        self.env[array] = self.env[target]
        leaves = list(_leaves(stmt.value.args[0], ()))
        shape = self.shape(_lengths(stmt.value.args[0]), leaves)
        dtype = gast.keyword("dtype", dotted(_DTYPES[self.env[array].kind]))
        self.assign(array, gast.Call(dotted("np.empty"), [shape], [dtype]))
        for index, leaf in leaves:
            self.out.append(
                gast.Assign([gast.Subscript(name(array), _index(index), gast.Store())], leaf)
            )
        if array != target:
            self.assign(target, name(array))

    def shape(self, lengths, leaves):
        """The new array's shape: the lengths, then the elements' own shape (known at run time)."""
        constant = gast.Tuple([gast.Constant(n, None) for n in lengths], gast.Load())
        first = leaves[0][1] if leaves else None
        rank = self.env[first.id].ndim if isinstance(first, gast.Name) else 0
        if rank == 0:
            return constant
        typ = UNKNOWN if rank is None else Type("tuple", 0, (INT,) * (len(lengths) + rank))
        return self.define(gast.Call(dotted("rt.stacked_shape"), [constant, first], []), typ)


def _copy_of(call, result):
    """`np.array(a)` or `np.array(a, dtype)` of an array `a`, as np.copy or astype (a copy too)."""
    array = call.args[0]
    dtype = (
        call.args[1]
        if len(call.args) > 1
        else next((k.value for k in call.keywords if k.arg == "dtype"), None)
    )
    if dtype is None or (isinstance(dtype, gast.Constant) and dtype.value is None):
        return gast.Call(dotted("np.copy"), [array], [])
    return gast.Call(
        gast.Attribute(array, "astype", gast.Load()), [dotted(_DTYPES[result.kind])], []
    )


def _scalar_of(call, result):
    """`np.array(s)` of a scalar `s`: `s`, or `np.float64(s)` (the dtype's) given a dtype."""
    has_dtype = len(call.args) > 1 or any(k.arg == "dtype" for k in call.keywords)
    return (
        gast.Call(dotted(_DTYPES[result.kind]), [call.args[0]], []) if has_dtype else call.args[0]
    )


def _is_display(stmt):
    return (
        isinstance(stmt, gast.Assign)
        and isinstance(stmt.targets[0], gast.Name)
        and _array_of(stmt.value)
        and isinstance(stmt.value.args[0], gast.Tuple)
    )


def _array_of(value):
    """Whether `value` calls np.array or np.asarray, which make the array of a list or tuple."""
    rule = callee(value)
    return rule is not None and rule.array_of


def _leaves(node, index):
    """(index, atom) of every element of a nested tuple display, in order."""
    if not isinstance(node, gast.Tuple):
        yield index, node
        return
    for k, element in enumerate(node.elts):
        yield from _leaves(element, index + (k,))


def _lengths(node):
    lengths = []
    while isinstance(node, gast.Tuple):
        lengths.append(len(node.elts))
        node = node.elts[0] if node.elts else None
    return tuple(lengths)


def _index(index):
    constants = [gast.Constant(k, None) for k in index]
    return constants[0] if len(constants) == 1 else gast.Tuple(constants, gast.Load())
