"""lower (linalg stacks): np.linalg on a stack of matrices, written out as a loop over the stack.

NumPy's linalg functions take an array of rank 3 or more as a stack of matrices (its last two
axes), broadcasting the leading axes of solve's two operands. Numba's take one matrix. So a call
on a stack becomes a loop calling the one-matrix function on each matrix and storing its result
(rules/decompositions.py's `STACKED` gives each result's dimensions): every transformation
already handles loops, slices and stores, and the one-matrix derivatives are reused as they are.
Leading axes beyond one are raveled into one and the result reshaped back:

>>> import numpy as np
>>> from s2sjax.abstract import Type
>>> from s2sjax.pipeline import Spec, stage_source
>>> def f(a):
...     return np.sum(np.linalg.det(a))
>>> print(stage_source(f, "lower", Spec((Type("float", 3),))))
def f(a):
    t3 = a.shape
    t4 = t3[0]
    t5 = t3[1]
    t6 = t3[2]
    t7 = t4,
    t8 = rt.empty_joined(t7, (a,))
    for t9 in range(0, t4):
        t10 = a[t9]
        t11 = np.linalg.det(t10)
        t8[t9] = t11
    t1 = t8
    t2 = np.sum(t1)
    out = t2
    return out
"""

import gast

from ..abstract import INT, Type
from ..backend.naming import name as _name
from ..rules import dotted, rule_of
from ..rules.decompositions import STACKED
from .lowering import StatementLowering


def lower_linalg_stacks(program, env, namer):
    """Replace, in place, every np.linalg call on a stack of matrices by a loop over the stack."""
    program.tree.body = _Lowering(program.origins, env, namer).block(program.tree.body)
    return program


class _Lowering(StatementLowering):
    def rewrite(self, stmt):
        if not self.stacked(stmt):
            return False
        self.lower(stmt)
        return True

    def stacked(self, stmt):
        """Whether `stmt` is `name = f(...)`, f an np.linalg function taking a stack here."""
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            return False
        rule, bound = rule_of(stmt.value)
        if rule is None or rule.name not in STACKED:
            return False
        return any(self.rank(bound[p]) > 2 for p in _operands(rule, bound, self.rank))

    def rank(self, node):
        return self.type_of(node).ndim or 0

    def lower(self, stmt):
        rule, bound = rule_of(stmt.value)
        operands = _operands(rule, bound, self.rank)
        matrix = bound[operands[0]]
        shapes = {
            p: self.unpack(
                self.define(_attribute(bound[p], "shape"), self.shape_type(p, bound)),
                self.rank(bound[p]),
            )
            for p in operands
        }
        lead = self.leading(operands, bound, shapes)
        count = self.product(lead)
        m, n = shapes[operands[0]][-2:]
        spec = STACKED[rule.name]
        if callable(spec):
            spec = spec({p: self.type_of(node) for p, node in bound.items()})
        dims = [self.dimension(d, m, n, shapes, operands) for d in spec]
        flat_shape = self.define(_tuple([count, *dims]), _int_tuple(1 + len(dims)))
        flat = self.empty(flat_shape, bound, 1 + len(dims))
        flats = {p: self.raveled(bound[p], shapes[p]) for p in operands if self.rank(bound[p]) > 2}
        index = self.namer.temp()
        self.env[index] = INT
        saved, self.out = self.out, []
        args = dict(bound)
        for p, atom in flats.items():
            position = (
                _name(index)
                if len(operands) == 1
                else self.position(index, lead, shapes[p], p, bound)
            )
            args[p] = self.define(
                gast.Subscript(atom, position, gast.Load()), Type(self.type_of(atom).kind, 2)
            )
        types = {p: self.type_of(node) for p, node in args.items()}
        one = self.define(
            gast.Call(dotted(rule.name), [args[p] for p in rule.params if p in args], []),
            rule.result(types, args),
        )
        self.out.append(gast.Assign([gast.Subscript(flat, _name(index), gast.Store())], one))
        body, self.out = self.out, saved
        loop_range = _call("range", gast.Constant(0, None), count)
        self.out.append(gast.For(_name(index, store=True), loop_range, body, [], None))
        result = flat
        if len(lead) > 1:
            shape = self.define(_tuple([*lead, *dims]), _int_tuple(len(lead) + len(dims)))
            result = gast.Call(dotted("np.reshape"), [flat, shape], [])
        target = stmt.targets[0].id
        self.assign(target, result)

    def shape_type(self, p, bound):
        return _int_tuple(self.rank(bound[p]))

    def unpack(self, shape, rank):
        return [
            self.define(gast.Subscript(shape, gast.Constant(k, None), gast.Load()), INT)
            for k in range(rank)
        ]

    def leading(self, operands, bound, shapes):
        """The atoms of the stack's leading dimensions, broadcast from the operands' (NumPy's
        error where they do not broadcast)."""
        leads = [shapes[p][:-2] for p in operands if self.rank(bound[p]) > 2]
        width = max(len(lead) for lead in leads)
        dims = []
        for k in range(width):
            present = [lead[len(lead) - width + k] for lead in leads if len(lead) - width + k >= 0]
            dim = present[0]
            for other in present[1:]:
                dim = self.define(_call("rt.broadcast_dimension", dim, other), INT)
            dims.append(dim)
        return dims

    def product(self, factors):
        total = factors[0]
        for factor in factors[1:]:
            total = self.define(gast.BinOp(total, gast.Mult(), factor), INT)
        return total

    def dimension(self, spec, m, n, shapes, operands):
        if spec == "m":
            return m
        if spec == "n":
            return n
        if spec == "k":
            return self.define(_call("min", m, n), INT)
        return shapes[operands[1]][-1]  # "q": solve's right-hand sides

    def empty(self, shape, bound, rank):
        """A new array for the results: in the operands' float dtype, float64 for ints (as
        NumPy's linalg gives)."""
        arrays = [n for n in bound.values() if isinstance(n, gast.Name) and self.rank(n)]
        if all(self.type_of(n).kind == "float" for n in arrays):
            new = _call("rt.empty_joined", shape, _tuple(arrays))
        else:
            new = _call("np.empty", shape)
        return self.define(new, Type("float", rank))

    def raveled(self, atom, shape):
        """`atom` as a rank-3 stack: its leading axes raveled into one (raveled first: Numba
        reshapes no array laid out otherwise than C's, as np.moveaxis leaves it)."""
        if len(shape) == 3:
            return atom
        kind = self.type_of(atom).kind
        line = self.define(_call("np.ravel", atom), Type(kind, 1))
        flat = self.define(_tuple([gast.Constant(-1, None), *shape[-2:]]), _int_tuple(3))
        return self.define(_call("np.reshape", line, flat), Type(kind, 3))

    def position(self, index, lead, shape, p, bound):
        """Where the `index`-th matrix of the broadcast stack lies in the raveled operand."""
        lead_tuple = self.define(_tuple(lead), _int_tuple(len(lead)))
        own = self.define(_tuple(shape[:-2]), _int_tuple(len(shape) - 2))
        return self.define(_call("rt.stack_position", _name(index), lead_tuple, own), INT)


def _operands(rule, bound, rank):
    """The parameters taking matrices (solve's b where it is a stack of matrices too)."""
    if rule.name.endswith("solve") and rank(bound["b"]) > 1:
        return ("a", "b")
    return (rule.params[0],)


def _int_tuple(length):
    return Type("tuple", 0, (INT,) * length)


def _tuple(elts):
    return gast.Tuple(list(elts), gast.Load())


def _call(function, *args):
    return gast.Call(dotted(function), list(args), [])


def _attribute(node, attr):
    return gast.Attribute(node, attr, gast.Load())
