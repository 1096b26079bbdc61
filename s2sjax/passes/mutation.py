"""analyze (mutation): which arrays are updated in place, and whether that is safe.

`a[i] = v` is allowed only on an array the function created itself (np.zeros,
np.empty, np.ones, np.full, the *_like functions, np.copy / .copy(), or arithmetic
such as `a * 2.0`, always a new array), so
s2sjax never modifies your inputs, and only while no other name refers to the
same memory: a copy `b = a` or a view (`a.T`, `a[1:3]`, a row `A[i]`, a
reshape) followed by a store into `a` is an error, since the two names would
need one adjoint. `check(program, types)` returns the names updated in place.

`a += v` on an array is different: s2sjax gives `a` a new array (`a = a + v`), so the
caller's arrays stay as they were. Python updates the array itself, which every name
sharing its memory sees; a name that may (`b = a`, a view, the argument `a` came from, on
any path) read afterwards would see other values than in Python, and is an error.
"""

import os

import gast

from .. import rules
from ..backend.naming import GENERATED_MODULE_PREFIX
from .queries import is_store, statements


def stored(program):
    """The names of the arrays `program` updates in place."""
    return {_root(s.targets[0]) for s in statements(program.tree.body) if is_store(s)}


def check(program, types, reversed_=True):
    """The names updated in place, after checking that each update is safe.

    `reversed_`: whether the code will be differentiated in reverse mode. When it is not, the
    updates in code s2sjax generated and inlined here (a pullback's adjoints, restored tapes) run
    as that code was written, its aliasing included, and are not checked (as pipeline does for a
    generated function itself).
    """
    layout = _Layout(program.tree.body)
    _check_augmented(program, types, layout)
    stores = [s for s in statements(program.tree.body) if is_store(s)]
    mutable = {_root(s.targets[0]) for s in stores}
    if not reversed_:
        stores = [s for s in stores if not _generated_here(program, s)]
    if not stores:
        return mutable
    for store in stores:
        array = _root(store.targets[0])
        if not _made_here(array, program, set()):
            spelled = (
                "an argument" if array in program.params else "an array the function did not create"
            )
            var = program.variables.get(array, array)
            raise program.origins[id(store)].error(
                store,
                f"in-place update of {var!r}, {spelled}{_reached(program, store)}",
                f"update a copy: {var} = {var}.copy() first (s2sjax never modifies its inputs)",
            )
    _check_sharing(program, mutable, types, layout, {id(s) for s in stores})
    return mutable


def _generated_here(program, stmt):
    """Whether `stmt` comes from code s2sjax generated, inlined into the user's."""
    origin = program.origins.get(id(stmt))
    filename = os.path.basename(getattr(origin, "filename", None) or "")
    return filename.startswith(GENERATED_MODULE_PREFIX)


def _reached(program, stmt):
    """` (in step() called at f.py:12)` for a statement of an inlined function, else ""."""
    site = program.call_sites.get(id(stmt))
    return f" (in {site})" if site else ""


def _made_here(array, program, visiting):
    """Whether every definition of `array` is an allocation, `+=` on an array made here, or a
    copy of one (around a loop, of itself: `visiting`)."""
    if array in visiting:
        return True
    visiting.add(array)
    if array in program.augmented:
        return _made_here(program.augmented[array][0], program, visiting)
    values = [s.value for s in statements(program.tree.body) if _defines(s, array)]
    return bool(values) and all(
        _made_here(v.id, program, visiting) if isinstance(v, gast.Name) else _new_array(v)
        for v in values
    )


def _new_array(value):
    """Whether `value` is an array no other name shares: an allocation, or arithmetic (`a + b`,
    `-a`), which NumPy always computes into a new array."""
    return allocates(value) or isinstance(value, (gast.BinOp, gast.UnaryOp))


def allocates(value):
    """Whether `value` is a new array the code may update in place.

    np.zeros, np.copy, rt.tape, ...
    """
    rule = rules.callee(value)
    return rule is not None and rule.allocates is not None


def _check_sharing(program, mutable, types, layout, checked):
    """A store into `a` while a name sharing its memory is read later would split one
    array's adjoint in two: reject it. Loop bodies are laid out twice, for the next iteration.
    `checked`: the ids of the stores to check."""
    order = layout.order
    for position, stmt in enumerate(order):
        if id(stmt) not in checked:
            continue
        array = _root(stmt.targets[0])
        sources = _copied_from(order, position, array, types)
        aliases = set(sources)
        for source in sources:
            aliases |= _aliases_since_defined(order, position, source, mutable | sources, types)
        live = sorted(a for a in aliases - {array} if layout.read_later(position, a))
        if live:
            array, alias = (program.variables.get(n, n) for n in (array, live[0]))
            raise program.origins[id(stmt)].error(
                stmt,
                f"in-place update of {array!r} while {alias!r} refers to the same memory "
                f"and is read later{_reached(program, stmt)}",
                f"take a copy ({array}.copy()) where {alias!r} should keep the old values",
            )


def _aliases_since_defined(order, position, array, mutable, types):
    """The names given `array`'s memory (`b = array`, a view) between its last definition
    before `position` and `position`; aliases of an older array under this name do not count."""
    defined = [i for i, s in enumerate(order[:position]) if _defines(s, array)]
    since = defined[-1] if defined else 0
    return {
        s.targets[0].id
        for s in order[since:position]
        if isinstance(s, gast.Assign)
        and not is_store(s)
        and array in _shared_by(s.value, mutable, types)
    }


def _copied_from(order, position, array, types):
    """`array` and the names it may be a copy of before `position` (`a = b` on any path, or
    `a = b = np.zeros(3)`, which normalizes to `a = t; b = t`), transitively: a store into
    `a` changes each of them."""
    found, todo = {array}, [(array, position)]
    while todo:
        target, before = todo.pop()
        for i, stmt in enumerate(order[:before]):
            value = stmt.value if _defines(stmt, target) else None
            if isinstance(value, gast.Name) and value.id in types and value.id not in found:
                found.add(value.id)
                todo.append((value.id, i))
    return found


def _check_augmented(program, types, layout):
    places = _MemoryPlaces(set(types), types, program.augmented)
    for position, stmt in enumerate(layout.order):
        if not _defines_name(stmt):
            continue
        target = stmt.targets[0].id
        if target in program.augmented:
            _check_one_augmented(program, types, layout, position, places)
        places.define(target, stmt.value, position)


def _check_one_augmented(program, types, layout, position, places):
    stmt = layout.order[position]
    updated, var = program.augmented[stmt.targets[0].id]
    if updated not in types or types[updated].is_scalar:
        return
    before, after = types[updated], types.get(stmt.targets[0].id, types[updated])
    known = None not in (before.ndim, after.ndim) and {before.kind, after.kind} <= {
        "float",
        "int",
        "bool",
    }
    if known and (before.ndim, before.kind) != (after.ndim, after.kind):
        raise program.origins[id(stmt)].error(
            stmt,
            f"'{var} += ...' would make {var!r} a {after.ndim}-d {after.kind} array, "
            f"but Python's in-place '+=' keeps the {before.ndim}-d {before.kind} array it has "
            "(NumPy refuses to)",
            f"write {var} = {var} + ... for a new array",
        )
    sharing = places.sharing(updated) - {
        updated,
        stmt.targets[0].id,
    }  # the array itself, old and new names
    live = sorted(n for n in sharing if layout.read_later(position, n))
    if live:
        alias = program.variables.get(live[0], live[0])
        raise program.origins[id(stmt)].error(
            stmt,
            f"'{var} += ...' on an array changes it in place in Python, and {alias!r} may refer to "
            f"the same memory and is read later (s2sjax would give {var!r} a new array)"
            f"{_reached(program, stmt)}",
            f"write {var} = {var} + ... (a new array), "
            f"or take a copy ({alias}.copy()) where it should keep the old values",
        )


class _MemoryPlaces:
    """A points-to analysis, statement by statement: each name gets the places its memory may
    have been made (statement positions; an argument is its own place), through copies and
    views (`b = a`, `b = a[1:]`) and `a += v`, which in Python keeps the array. Names are SSA
    versions, defined again only in the branches of an `if` and around loops (laid out twice),
    where any of their definitions may hold: places only grow."""

    def __init__(self, names, types, augmented):
        self.names, self.types, self.augmented = names, types, augmented
        self.places = {}

    def define(self, target, value, position):
        sources = _shared_by(value, self.names, self.types)
        if not sources and target in self.augmented:
            sources = {self.augmented[target][0]}  # `a += v` keeps a's array, in Python
        made = set().union(*(self.places.get(s, {s}) for s in sources)) if sources else {position}
        self.places.setdefault(target, set()).update(made)

    def sharing(self, array):
        """The names that may share `array`'s memory now."""
        mine = self.places.get(array, {array})
        return {n for n, where in self.places.items() if where & mine} | {
            p for p in mine if isinstance(p, str)
        }


def _defines_name(stmt):
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)


class _Layout:
    """The statements in the order they run (loop bodies twice, for the next iteration), and
    the names each reads."""

    def __init__(self, body):
        self.order = _linear(body)
        self.loads = [
            {
                n.id
                for n in gast.walk(s)
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
            }
            for s in self.order
        ]

    def read_later(self, position, ident):
        """Whether `ident` is read after statement `position`, before it is defined again."""
        for stmt, loads in zip(self.order[position + 1 :], self.loads[position + 1 :]):
            if ident in loads:
                return True
            if _defines(stmt, ident):
                return False
        return False


def _defines(stmt, ident):
    return _defines_name(stmt) and stmt.targets[0].id == ident


def _linear(stmts):
    order = []
    for stmt in stmts:
        if isinstance(stmt, gast.If):
            order += _linear(stmt.body) + _linear(stmt.orelse)
        elif isinstance(stmt, (gast.For, gast.While)):
            order += _linear(stmt.body) * 2
        else:
            order.append(stmt)
    return order


def _shared_by(value, mutable, types):
    """The mutable arrays another name refers to after `name = value`."""
    if isinstance(value, gast.Name) and value.id in mutable:
        return {value.id}
    if (
        isinstance(value, gast.Subscript)
        and isinstance(value.value, gast.Name)
        and value.value.id in mutable
    ):
        copied = gathers(value.slice, types) or is_element(
            types[value.value.id], value.slice, types
        )
        return set() if copied else {value.value.id}
    rule = rules.callee(value)
    if rule is not None and rule.view:
        return {a.id for a in value.args[:1] if isinstance(a, gast.Name) and a.id in mutable}
    return set()


def is_element(array_type, index, types):
    """Whether `array[index]` is one element (a scalar) rather than a view or a gather."""
    items = _index_items(index)
    return (
        array_type.ndim is not None
        and len(items) == array_type.ndim
        and not any(isinstance(i, gast.Slice) or _is_marker(i) for i in items)
        and not gathers(index, types)
    )


def gathers(index, types):
    """Whether `index` holds an array (of indices, or a mask): `array[index]` is then a copy,
    which may read an element twice (NumPy's advanced indexing)."""
    return any(
        isinstance(i, gast.Name) and (i.id not in types or types[i.id].ndim != 0)
        for i in _index_items(index)
    )


def _index_items(index):
    return index.elts if isinstance(index, gast.Tuple) else [index]


def _is_marker(item):
    """`...` or `None` (np.newaxis) in an index."""
    return isinstance(item, gast.Constant) and item.value in (None, Ellipsis)


def _root(target):
    return target.value.id
