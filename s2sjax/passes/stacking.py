"""lower (stacking): joins and splits of arrays, written out as stores and slices.

A join (`np.concatenate`, `np.stack`, `np.hstack`, ...; rules/stacking.py
says how each lays its pieces out) becomes a new array and one store per
piece, into a range of the axis or one position on it. A split (`np.split`,
...) becomes one slice per piece. Every transformation already handles
stores and slices: a piece's adjoint is the adjoint's slice, a slice's
adjoint accumulates into its range of the array. Here two numbers, each one
position of the result (an array spanning a range of it is stored as
`t1[t4:t7] = b`):

>>> import numpy as np
>>> from s2sjax.pipeline import stage_source
>>> def f(a, b):
...     return np.sum(np.hstack((a, b)))
>>> print(stage_source(f, "lower"))
def f(a, b):
    t3 = 2,
    t1 = rt.empty_joined(t3, (a, b))
    t1[0] = a
    t1[1] = b
    t2 = np.sum(t1)
    out = t2
    return out
"""

from collections import Counter

import gast

from ..abstract import INT, Type
from ..backend.naming import name as _name
from ..rules import callee, dotted, rule_of
from ..rules.stacking import RAVEL, SPAN, Join, Regroup
from .lowering import StatementLowering


def lower_stacking(program, env, namer):
    """Replace, in place, every join and split by stores into a new array and by slices."""
    body = program.tree.body
    definitions = Counter(
        n.id
        for n in gast.walk(program.tree)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
    )
    pieces = _split_pieces(program.tree)
    program.tree.body = _Lowering(program.origins, env, namer, definitions, pieces).block(body)
    return program


def _split_pieces(tree):
    """split result -> {k: the name normalize gave its k-th piece (`e = t[k]`)}."""
    splits = {
        s.targets[0].id
        for s in gast.walk(tree)
        if isinstance(s, gast.Assign) and _lowered(s) and callee(s.value).pieces
    }
    named = {t: {} for t in splits}
    for stmt in gast.walk(tree):
        if _is_piece(stmt, splits):
            named[stmt.value.value.id][stmt.value.slice.value] = stmt.targets[0].id
    return named


def _is_piece(stmt, splits):
    return (
        isinstance(stmt, gast.Assign)
        and isinstance(stmt.targets[0], gast.Name)
        and isinstance(stmt.value, gast.Subscript)
        and isinstance(stmt.value.value, gast.Name)
        and stmt.value.value.id in splits
        and isinstance(stmt.value.slice, gast.Constant)
    )


def _lowered(stmt):
    rule = callee(stmt.value)
    return isinstance(stmt.targets[0], gast.Name) and rule is not None and rule.lowering is not None


class _Lowering(StatementLowering):
    def __init__(self, origins, env, namer, definitions, pieces):
        super().__init__(origins, env, namer)
        self.definitions = definitions  # name -> how many statements assign it
        self.pieces = pieces  # split result -> {k: its k-th piece's name}

    def rewrite(self, stmt):
        if _is_piece(stmt, self.pieces):  # defined at its split
            return True
        if not (isinstance(stmt, gast.Assign) and _lowered(stmt)):
            return False
        rule, bound = rule_of(stmt.value)
        layout = rule.lowering({p: self.type_of(n) for p, n in bound.items()}, bound)
        target = stmt.targets[0].id
        if isinstance(layout, Join):
            self.join(target, layout)
        elif isinstance(layout, Regroup):
            self.regroup(target, layout)
        else:
            self.split(target, layout)
        return True

    def join(self, target, join):
        # a name another statement assigns too (a phi) is no array of the code's own to store into
        array = target if self.definitions[target] == 1 else self.namer.temp()
        placed = [self.piece(node, how) for node, how in join.pieces]
        dims, others = self.other_dims(join, placed)
        offsets = [gast.Constant(0, None)]
        for atom, how in placed:
            offsets.append(self.add(offsets[-1], self.length(atom, how, join, others)))
        dims.insert(join.axis, offsets[-1])
        shape = self.define(gast.Tuple(dims, gast.Load()), Type("tuple", 0, (INT,) * join.rank))
        self.env[array] = Type(join.kind, join.rank)
        pieces = gast.Tuple([atom for atom, _ in placed], gast.Load())
        self.assign(array, gast.Call(dotted("rt.empty_joined"), [shape, pieces], []))
        for (atom, how), start, stop in zip(placed, offsets, offsets[1:]):
            position = gast.Slice(start, stop, None) if how == SPAN else start
            index = _along(join.axis, position)
            self.out.append(gast.Assign([gast.Subscript(_name(array), index, gast.Store())], atom))
        if array != target:
            self.assign(target, _name(array))

    def regroup(self, target, regroup):
        """The join of an array's rows: its axis 0 moved, copied (NumPy's join is a new array),
        and reshaped where rows are laid end to end."""
        moved = regroup.array
        kept = Type(regroup.kind, regroup.ndim)
        if regroup.destination:
            axes = [gast.Constant(0, None), gast.Constant(regroup.destination, None)]
            moved = self.define(gast.Call(dotted("np.moveaxis"), [moved, *axes], []), kept)
        joined = gast.Call(dotted("np.copy"), [moved], [])
        if regroup.dims is not None:
            copied = self.define(joined, kept)
            shape = self.shape_of(regroup.array)
            dims = [self.product([_item(shape, axis) for axis in axes]) for axes in regroup.dims]
            new_shape = self.define(
                gast.Tuple(dims, gast.Load()), Type("tuple", 0, (INT,) * len(dims))
            )
            joined = gast.Call(dotted("np.reshape"), [copied, new_shape], [])
        self.env[target] = Type(regroup.kind, regroup.rank)
        self.assign(target, joined)

    def product(self, factors):
        """An int atom: the product of `factors` (subscripts of a shape), 1 where there are none."""
        atoms = [self.define(factor, INT) for factor in factors] or [gast.Constant(1, None)]
        total = atoms[0]
        for atom in atoms[1:]:
            total = self.define(gast.BinOp(total, gast.Mult(), atom), INT)
        return total

    def piece(self, node, how):
        """(the piece's atom, SPAN or SLOT): a tuple's element named, a raveled piece raveled."""
        typ = self.type_of(node)
        if isinstance(node, gast.Subscript):
            node = self.define(node, typ)
        if how == RAVEL:
            if typ.ndim != 1:
                node = self.define(gast.Call(dotted("np.ravel"), [node], []), Type(typ.kind, 1))
            how = SPAN
        return node, how

    def other_dims(self, join, placed):
        """The result's dimensions but the axis, a piece's: their atoms, and their tuple atom
        (none at rank 1)."""
        if join.rank == 1:
            return [], None
        atom, how = next((a, h) for a, h in placed if self.type_of(a).ndim)
        shape = self.shape_of(atom)
        # a SLOT piece lacks the axis: its own dimensions are the others
        own = [d for d in range(join.rank - (how != SPAN)) if how != SPAN or d != join.axis]
        dims = [self.define(_item(shape, d), INT) for d in own]
        others = gast.Tuple(list(dims), gast.Load())
        return dims, self.define(others, Type("tuple", 0, (INT,) * len(dims)))

    def length(self, atom, how, join, others):
        """The length `atom` takes along the join's axis; NumPy's error where its other
        dimensions are not the result's (a slice store would broadcast a 1 silently)."""
        if others is None:  # one dimension: nothing else to match
            return self.axis_length(atom, join.axis) if how == SPAN else gast.Constant(1, None)
        shape = self.shape_of(atom)
        slot = gast.Constant(how != SPAN, None)
        check = [shape, others, gast.Constant(join.axis, None), slot]
        return self.define(gast.Call(dotted("rt.joined_length"), check, []), INT)

    def axis_length(self, atom, axis):
        return self.define(_item(self.shape_of(atom), axis), INT)

    def shape_of(self, atom):
        return self.define(gast.Attribute(atom, "shape", gast.Load()), self.shape_type(atom))

    def split(self, target, split):
        array_type = self.type_of(split.array)
        if isinstance(split.sections, int):
            length = self.axis_length(split.array, split.axis)
            bounds = [gast.Constant(0, None)] + [
                self.define(
                    gast.Call(
                        dotted("rt.section_start"),
                        [
                            length,
                            gast.Constant(split.sections, None),
                            gast.Constant(k, None),
                            gast.Constant(split.equal, None),
                        ],
                        [],
                    ),
                    INT,
                )
                for k in range(1, split.sections + 1)
            ]
        else:
            bounds = [gast.Constant(k, None) for k in (0, *split.sections, None)]
        named = self.pieces[target]
        names = []
        for k, (start, stop) in enumerate(zip(bounds, bounds[1:])):
            name = named.get(k) or self.namer.temp()
            index = _along(split.axis, gast.Slice(start, stop, None))
            self.env[name] = array_type
            self.assign(name, gast.Subscript(split.array, index, gast.Load()))
            names.append(name)
        self.assign(target, gast.Tuple([_name(n) for n in names], gast.Load()))

    def add(self, a, b):
        if isinstance(a, gast.Constant) and isinstance(b, gast.Constant):
            return gast.Constant(a.value + b.value, None)
        if isinstance(a, gast.Constant) and a.value == 0:
            return b
        return self.define(gast.BinOp(a, gast.Add(), b), INT)

    def shape_type(self, atom):
        return Type("tuple", 0, (INT,) * self.type_of(atom).ndim)


def _item(atom, k):
    return gast.Subscript(atom, gast.Constant(k, None), gast.Load())


def _along(axis, position):
    """The index of `position` on `axis` (`:, :, position`)."""
    items = [gast.Slice(None, None, None)] * axis + [position]
    return items[0] if len(items) == 1 else gast.Tuple(items, gast.Load())
