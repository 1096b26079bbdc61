"""analyze (unread): the arrays whose overwritten values no backward sweep needs.

A store `a[i] = v` keeps the value it overwrites so that the backward sweep can restore it:
every backward step must see the memory its forward step saw. That old value is needed only
if something reads `a` before the store overwrites it. For an array the function allocates
once (`D = np.zeros((n, m))`, then fills element by element in loops) and reads only after
its last write, nothing does: each forward read sees the final state, and so does its
backward counterpart, which runs before any store is reversed. Such an array needs no saved
old values, no restores and no tapes (Tapenade's to-be-recorded analysis, at the granularity
of whole arrays).

The test is made on the function's top-level statements, a loop or an `if` counting as one:
every statement reading the array's contents comes after every statement storing into it.
Reading only its shape (`a.shape`, `len(a)`) does not count. The array must be allocated
once, its names (the copies `b = a` included) each defined once, by a top-level statement,
and it must never be stored into through an index array (a gather's saved values size its
cleared adjoint). When unsure, the array keeps its tapes.

>>> import gast, textwrap
>>> from s2sjax.abstract import Type
>>> body = gast.parse(textwrap.dedent('''
...     t1 = np.zeros_like(u)
...     d = t1
...     for i in range(n):
...         t = u[i]
...         d[i] = t
...     e = np.zeros_like(u)
...     t2 = e[0]
...     e[1] = t2
...     out = d * e
... ''')).body
>>> sorted(unread_before_last_write(body, {"d", "e"}, {"i": Type("int", 0)}))
['d', 't1']
"""

import gast

from .mutation import allocates, gathers
from .queries import is_store, reads, statements

_METADATA = ("shape", "ndim", "size", "dtype")


def unread_before_last_write(body, mutable, types):
    """The arrays of `mutable` (updated in place in `body`, a function's statements) whose
    contents are read only after the last statement storing into them."""
    out = set()
    for family in _families(body):
        if family & mutable and _written_then_read(body, family, types):
            out |= family
    return out


def _families(body):
    """The names sharing one array that `body` allocates: the name it is allocated into and
    its copies (`b = a`, made by normalize from `b = a = np.zeros(n)` or a tuple assignment),
    each defined once, by a statement of `body` itself (not of a loop or an `if`)."""
    definitions = {}
    for stmt in statements(body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            definitions.setdefault(stmt.targets[0].id, []).append(stmt)
    once = {
        ident: stmts[0]
        for ident, stmts in definitions.items()
        if len(stmts) == 1 and any(s is stmts[0] for s in body)
    }
    families = [{ident} for ident, stmt in once.items() if allocates(stmt.value)]
    for family in families:
        grown = True
        while grown:
            copies = {
                ident
                for ident, stmt in once.items()
                if isinstance(stmt.value, gast.Name) and stmt.value.id in family
            }
            grown = bool(copies - family)
            family |= copies
    return families


def _written_then_read(body, family, types):
    stores = [p for p, stmt in enumerate(body) if _stores_into(stmt, family, types)]
    used = reads(body)
    late = [p for p, stmt in enumerate(body) if _reads_contents(stmt, family, used)]
    if any(_stores_into(s, family, types) == "gather" for s in statements(body)):
        return False
    return max(stores, default=-1) < min(late, default=len(body))


def _stores_into(stmt, family, types):
    """Whether `stmt` (or a statement nested in it) stores into the `family`'s array: "gather"
    for a store through an index array, True for another one."""
    found = False
    for s in statements([stmt]):
        if is_store(s) and s.targets[0].value.id in family:
            if gathers(s.targets[0].slice, types):
                return "gather"
            found = True
    return found


def _reads_contents(stmt, family, used):
    """Whether `stmt` (or a statement nested in it) reads the `family`'s elements, or may: any
    mention of one of its names except as the array a store writes into, as the owner of a
    shape, in a copy making one of its names, or in a value nothing `used` (a tuple packed by
    normalize and never unpacked, which optimize removes)."""
    for s in statements([stmt]):
        if _is_copy_within(s, family) or _defines_unused(s, used):
            continue
        parts = [s.targets[0].slice, s.value] if is_store(s) else _own_parts(s)
        if any(_mentions_beyond_metadata(part, family) for part in parts):
            return True
    return False


def _is_copy_within(stmt, family):
    return (
        isinstance(stmt, gast.Assign)
        and isinstance(stmt.targets[0], gast.Name)
        and stmt.targets[0].id in family
        and isinstance(stmt.value, gast.Name)
    )


def _defines_unused(stmt, used):
    return (
        isinstance(stmt, gast.Assign)
        and isinstance(stmt.targets[0], gast.Name)
        and stmt.targets[0].id not in used
    )


def _own_parts(stmt):
    """The expressions of a statement, without the statements nested in it."""
    if isinstance(stmt, (gast.If, gast.While)):
        return [stmt.test]
    if isinstance(stmt, gast.For):
        return [stmt.target, stmt.iter]
    return [stmt]


def _mentions_beyond_metadata(node, family):
    metadata = {
        id(n.value)
        for n in gast.walk(node)
        if isinstance(n, gast.Attribute) and n.attr in _METADATA
    } | {
        id(n.args[0])
        for n in gast.walk(node)
        if isinstance(n, gast.Call) and getattr(n.func, "id", None) == "len" and n.args
    }
    return any(
        isinstance(n, gast.Name)
        and isinstance(n.ctx, gast.Load)
        and n.id in family
        and id(n) not in metadata
        for n in gast.walk(node)
    )
