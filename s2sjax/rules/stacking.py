"""Stacking rules: joining arrays (concatenate, stack, hstack, ...) and splitting one (split, ...).

None of these reaches a transformation: passes/stacking.py writes each call
out, before the types are analyzed for derivatives, as stores into a new
array (a join) or as slices of the array (a split), which every
transformation and target already handles. A record's `lowering` says how,
from the argument types:

- a join gives a `Join`: the result's rank, the axis the pieces are laid
  along, and per piece whether it spans a range of that axis (`np.concatenate`)
  or one position on it (`np.stack`, a 1-d row of `np.vstack`, a scalar of
  `np.append`);
- a join of one array, whose rows NumPy joins, gives a `Regroup`: the array
  with its first axis moved, copied, and reshaped where rows are laid end to
  end (`np.concatenate(x)` of an (n, m, k) array is an (n * m, k) reshape);
- a split gives a `Split`: the array, the axis, and the sections (a count of
  pieces, or the indices where the pieces start).

The arrays to join are a list or a tuple (`sequence`): normalize keeps its
elements as they are, not as the array NumPy would make of them. The result
of a split is a list whose length `pieces` tells from the call, so that
normalize knows each piece (`a, b = np.split(x, 2)`).
"""

from dataclasses import dataclass

import gast
import numpy as np

from ..abstract import Type, promote
from .registry import Rule, RuleError, register

SPAN, SLOT, RAVEL = (
    "span",
    "slot",
    "ravel",
)  # how a piece lies along the axis; RAVEL: np.ravel first


@dataclass(frozen=True)
class Join:
    rank: int
    axis: int
    pieces: tuple  # (node, SPAN | SLOT | RAVEL) per piece
    kind: str  # the result's dtype kind


@dataclass(frozen=True)
class Regroup:
    array: object  # the node of the array whose rows are joined
    destination: int  # where its axis 0 (the rows) moves first
    dims: tuple  # per dimension of the result, the array's axes whose lengths multiply to it;
    # None: the moved array as it is
    kind: str
    ndim: int  # the array's rank

    @property
    def rank(self):
        return self.ndim if self.dims is None else len(self.dims)


@dataclass(frozen=True)
class Split:
    array: object  # the node of the array split
    axis: int
    sections: object  # int: that many pieces; tuple of ints: where the pieces after the first start
    equal: bool  # np.split: an int count must divide the axis evenly


def _constant_int(node, what):
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    raise RuleError(f"{what} must be an int written in the code")


def _pieces(types, nodes):
    """(node, type) of each array in the `arrays`/`tup` argument: a tuple display or a tuple."""
    param = "arrays" if "arrays" in nodes else "tup"
    node, typ = nodes[param], types[param]
    if typ.kind != "tuple" or not typ.elts:
        raise RuleError(
            "the arrays to join must be a non-empty list or tuple of arrays, or one array"
        )
    if isinstance(node, gast.Tuple):
        elements = node.elts
    else:  # a tuple argument: its elements by index
        elements = [
            gast.Subscript(node, gast.Constant(k, None), gast.Load()) for k in range(len(typ.elts))
        ]
    for element in typ.elts:
        if element.kind not in ("float", "int", "bool") or element.ndim is None:
            raise RuleError("the pieces to join must be numbers or arrays of a known rank")
    return list(zip(elements, typ.elts))


def _normal_axis(axis_node, rank):
    axis = _constant_int(axis_node, "the axis")
    if not -rank <= axis < rank:
        raise RuleError(f"axis {axis} is out of bounds for a result of rank {rank}")
    return axis % rank


def _join(pieces, rank, axis_node, placement):
    """The Join of `pieces` into a result of `rank`, each placed by `placement(type)`."""
    axis = _normal_axis(axis_node, rank)
    placed = []
    for node, typ in pieces:
        how = placement(typ)
        if typ.ndim != rank - (how == SLOT) and how != RAVEL:
            raise RuleError("the pieces to join must have the same rank")
        placed.append((node, how))
    return Join(rank, axis, tuple(placed), promote(*(t.kind for _, t in pieces)))


def _whole(types, nodes):
    """The array whose rows a join is given instead of a list of arrays, or None."""
    typ = types["arrays" if "arrays" in nodes else "tup"]
    return typ if typ.kind in ("float", "int", "bool") and typ.ndim else None


def _regroup(nodes, typ, destination, dims):
    node = nodes["arrays" if "arrays" in nodes else "tup"]
    return Regroup(node, destination, dims, typ.kind, typ.ndim)


def _rows_concatenated(nodes, typ, axis_node):
    """np.concatenate of the rows of an array: along `axis`, the rows' lengths laid end to end."""
    rank = typ.ndim - 1
    if not rank:
        raise RuleError("zero-dimensional arrays cannot be concatenated")
    axis = _normal_axis(axis_node, rank)
    dims = tuple((0, j + 1) if j == axis else (j + 1,) for j in range(rank))
    return _regroup(nodes, typ, axis, dims)


def _concatenate(types, nodes):
    if _whole(types, nodes):
        return _rows_concatenated(nodes, types["arrays"], nodes["axis"])
    pieces = _pieces(types, nodes)
    return _join(pieces, pieces[0][1].ndim or 1, nodes["axis"], lambda t: SPAN)


def _stack(types, nodes):
    typ = _whole(types, nodes)
    if typ:
        return _regroup(nodes, typ, _normal_axis(nodes["axis"], typ.ndim), None)
    pieces = _pieces(types, nodes)
    return _join(pieces, pieces[0][1].ndim + 1, nodes["axis"], lambda t: SLOT)


# A join of an array's rows by their rank: (axis 0's destination, the result's dims), or the axis
# that np.concatenate joins them along.
_ROWS = {
    "hstack": {0: (0, None), 1: 0, "higher": 1},
    "vstack": {0: (0, ((0,), ())), 1: (0, None), "higher": 0},
    "dstack": {0: (0, ((), (), (0,))), 1: (1, ((), (1,), (0,))), 2: (2, None), "higher": 2},
    "column_stack": {0: (0, ((), (0,))), 1: (1, None), "higher": 1},
}


def _rows_joined(name, nodes, typ):
    how = _ROWS[name].get(typ.ndim - 1, _ROWS[name]["higher"])
    if isinstance(how, int):
        return _rows_concatenated(nodes, typ, _int(how))
    return _regroup(nodes, typ, *how)


def _hstack(types, nodes):
    if _whole(types, nodes):
        return _rows_joined("hstack", nodes, types["tup"])
    pieces = _pieces(types, nodes)
    if max(t.ndim for _, t in pieces) <= 1:  # numbers and 1-d arrays: one row
        return _join(pieces, 1, _int(0), _slot_if_rank(0))
    return _join(pieces, pieces[0][1].ndim, _int(1), lambda t: SPAN)


def _vstack(types, nodes):
    if _whole(types, nodes):
        return _rows_joined("vstack", nodes, types["tup"])
    pieces = _pieces(types, nodes)
    return _join(pieces, max(2, *(t.ndim for _, t in pieces)), _int(0), _slot_if_rank(1))


def _dstack(types, nodes):
    if _whole(types, nodes):
        return _rows_joined("dstack", nodes, types["tup"])
    pieces = _pieces(types, nodes)
    if any(t.ndim < 2 for _, t in pieces):
        raise RuleError("np.dstack of numbers or 1-d arrays is not supported; give it 2-d arrays")
    return _join(pieces, max(3, *(t.ndim for _, t in pieces)), _int(2), _slot_if_rank(2))


def _column_stack(types, nodes):
    if _whole(types, nodes):
        return _rows_joined("column_stack", nodes, types["tup"])
    return _join(_pieces(types, nodes), 2, _int(1), _slot_if_rank(1))


def _slot_if_rank(rank):
    """A piece of `rank` takes one position along the axis (a row, a column); others span."""
    return lambda t: SLOT if t.ndim == rank else SPAN


def _append(types, nodes):
    pieces = [(nodes["arr"], types["arr"]), (nodes["values"], types["values"])]
    for _, typ in pieces:
        if typ.kind not in ("float", "int", "bool") or typ.ndim is None:
            raise RuleError("np.append takes numbers or arrays of a known rank")
    if isinstance(nodes["axis"], gast.Constant) and nodes["axis"].value is None:
        return _join(pieces, 1, _int(0), lambda t: SLOT if t.ndim == 0 else RAVEL)
    if any(t.ndim != pieces[0][1].ndim for _, t in pieces) or not pieces[0][1].ndim:
        raise RuleError("np.append along an axis takes arrays of the same rank")
    return _join(pieces, pieces[0][1].ndim, nodes["axis"], lambda t: SPAN)


def _int(value):
    return gast.Constant(value, None)


def _join_result(layout):
    def result(types, nodes):
        join = layout(types, nodes)
        return Type(join.kind, join.rank)

    return result


def _sections(node, what):
    if isinstance(node, gast.Tuple):
        return tuple(_constant_int(e, f"each index of {what}") for e in node.elts)
    count = _constant_int(node, f"the number of sections of {what}")
    if count < 1:
        raise RuleError(f"the number of sections of {what} must be at least 1")
    return count


def _split_layout(name, axis_of_rank=None, equal=True):
    def layout(types, nodes):
        typ = types["ary"]
        if typ.kind not in ("float", "int", "bool") or not typ.ndim:
            raise RuleError(f"np.{name} splits an array of a known rank of at least 1")
        if axis_of_rank is None:
            axis = _normal_axis(nodes["axis"], typ.ndim)
        else:
            axis = axis_of_rank(typ.ndim)
        sections = _sections(nodes["indices_or_sections"], f"np.{name}")
        return Split(nodes["ary"], axis, sections, equal)

    return layout


def _hsplit_axis(rank):
    return 0 if rank == 1 else 1


def _dsplit_axis(rank):
    if rank < 3:
        raise RuleError("np.dsplit splits arrays of rank 3 or more")
    return 2


def _vsplit_axis(rank):
    if rank < 2:
        raise RuleError("np.vsplit splits arrays of rank 2 or more")
    return 0


def _split_result(layout):
    def result(types, nodes):
        split = layout(types, nodes)
        count = _count(split.sections)
        return Type("tuple", 0, (types["ary"],) * count)

    return result


def _count(sections):
    return sections if isinstance(sections, int) else len(sections) + 1


def _pieces_of(layout):
    """How many arrays the split gives, from the call's nodes (before the types are known)."""

    def count(nodes):
        return _count(_sections(nodes["indices_or_sections"], "a split"))

    return count


def _register_join(function, params, layout, defaults=None, aliases=()):
    sequence = params[0] if params[0] in ("arrays", "tup") else None
    register(
        Rule(
            f"np.{function.__name__}",
            params,
            _join_result(layout),
            defaults=defaults or {},
            static=tuple(p for p in params if p == "axis"),
            sequence=sequence,
            lowering=layout,
        ),
        function,
        *aliases,
    )


_register_join(np.concatenate, ("arrays", "axis"), _concatenate, {"axis": 0})
_register_join(np.stack, ("arrays", "axis"), _stack, {"axis": 0})
_register_join(np.hstack, ("tup",), _hstack)
# np.row_stack, deprecated, is np.vstack
_register_join(np.vstack, ("tup",), _vstack, aliases=[getattr(np, "row_stack", np.vstack)])
_register_join(np.dstack, ("tup",), _dstack)
_register_join(np.column_stack, ("tup",), _column_stack)
_register_join(np.append, ("arr", "values", "axis"), _append, {"axis": None})

for _function, _axis, _equal in (
    (np.split, None, True),
    (np.array_split, None, False),
    (np.hsplit, _hsplit_axis, True),
    (np.vsplit, _vsplit_axis, True),
    (np.dsplit, _dsplit_axis, True),
):
    _params = ("ary", "indices_or_sections") + (("axis",) if _axis is None else ())
    _layout = _split_layout(_function.__name__, _axis, _equal)
    register(
        Rule(
            f"np.{_function.__name__}",
            _params,
            _split_result(_layout),
            defaults={"axis": 0} if _axis is None else {},
            static=("indices_or_sections", "axis"),
            pieces=_pieces_of(_layout),
            lowering=_layout,
        ),
        _function,
    )
