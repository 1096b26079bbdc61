r"""ragged: an output whose shape the data decide, which vmap cannot stack.

`x[mask]` has as many elements as `mask` has True ones: one example's output
may be longer than another's, and vmap writes every example's output into one
array (JAX refuses to batch it too). `ragged_output(program, types)` returns
the statement selecting by a mask that an output's shape follows, or None.

>>> from types import SimpleNamespace
>>> from s2sjax.abstract import Type
>>> code = "def f(x):\n    m = x > 0.0\n    y = x[m]\n    z = y * 2.0\n    return z\n"
>>> program = SimpleNamespace(tree=gast.parse(code).body[0], outputs=["z"])
>>> types = dict(x=Type("float", 1), m=Type("bool", 1), y=Type("float", 1), z=Type("float", 1))
>>> ragged_output(program, types).lineno  # y = x[m]
3
"""

import gast

from .. import rules
from .queries import is_store, reads, statements


def ragged_output(program, types):
    """The statement whose selection by a mask sets the shape of an output, or None."""
    source = {}  # array name -> the selection its shape follows
    size = -1
    while size != len(source):  # a loop may carry a selection into an earlier statement
        size = len(source)
        for stmt in statements(program.tree.body):
            if not isinstance(stmt, gast.Assign) or is_store(stmt):
                continue
            target = stmt.targets[0]
            if not isinstance(target, gast.Name) or _rank(types, target.id) == 0:
                continue
            if _selects(stmt.value, types):
                source.setdefault(target.id, stmt)
            followed = [source[n] for n in _shaping(stmt.value) if n in source]
            if followed:
                source.setdefault(target.id, followed[0])
    return next((source[o] for o in program.outputs if o in source), None)


def _shaping(value):
    """The names whose shape the result of `value` may follow: the argument its record says it is
    shaped like (an adjoint takes its primal's shape: `rt.unbroadcast(v, x)`), else any."""
    if isinstance(value, gast.Name):
        return [value.id]
    if isinstance(value, gast.Subscript):
        return _shaping(value.value)
    rule, bound = rules.rule_of(value)
    if rule is not None and rule.like in bound:
        return _shaping(bound[rule.like])
    return sorted(reads(value))


def _selects(value, types):
    """Whether `value` is `a[index]` with a boolean array in the index."""
    if not isinstance(value, gast.Subscript):
        return False
    items = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
    return any(
        isinstance(i, gast.Name)
        and types.get(i.id) is not None
        and types[i.id].kind == "bool"
        and _rank(types, i.id) != 0
        for i in items
    )


def _rank(types, name):
    typ = types.get(name)
    return None if typ is None else typ.ndim
