"""fuse: chains of elementwise array statements become one loop.

Accepts a generated function (either sweep, straight-line at the top level)
and the types of its variables. Leaves it with each maximal run of
statements that work elementwise on rank-1 arrays of one *class* (arrays
known to have the same length: a parameter and everything computed from it
elementwise, with scalars) replaced by one `for` loop with scalar
temporaries. `np.sum`/`np.mean` of a class member become accumulators; only
the arrays read after the loop are allocated and stored. One pass over
memory and no temporary arrays is what makes array code as fast as a
hand-written loop. Only compiled targets are fused: a Python loop would be
slower than NumPy.

    t1 = np.sin(x)                        out = 0.0
    t2 = t1 * x                  ->       for i in range(x.shape[0]):
    out = np.sum(t2)                          t1 = math.sin(x[i])
                                              t2 = t1 * x[i]
                                              out = out + t2
"""

import copy
from collections import Counter

import gast

from .. import rules
from ..backend.naming import name
from .queries import assigned, is_comment, reads


def fuse(fdef, types, namer, broadcast_in_loop=False, parallel=False):
    """Fuse `fdef`. Arrays of lengths known only at run time are fused behind a length check, or,
    with `broadcast_in_loop` (a CUDA device function, which cannot run the unfused NumPy code),
    in one loop over the longest that reads element `i % len(x)` of each (NumPy's broadcasting
    of a length-1 array; the host checks that the lengths are compatible).

    With `parallel`, fused loops outside any other loop are `rt.prange` loops: their iterations
    are independent but for sums, which Numba reduces per thread. Inside a loop (a vmap's
    batch loop, say) they stay serial: a parallel region per outer iteration costs more.
    """
    fuser = _Fuser(types, namer, fdef.args.args, fdef.body, broadcast_in_loop, parallel)
    fdef.body = fuser.run(fdef.body)
    return fdef


class _Group:
    def __init__(self, cls):
        self.cls = cls  # the root array whose length the loop runs over
        self.stmts = []
        self.defined = set()  # names assigned in the group
        self.reductions = {}  # name -> "sum" or "mean"
        # array -> class, as when the group was formed (later statements may rebind)
        self.classes = {}
        self.equal = (
            set()
        )  # other classes whose arrays the loop reads: fused only when their lengths agree

    @property
    def size(self):
        """The number of statements that compute (copies of a name do not)."""
        return sum(
            1 for s in self.stmts if not is_comment(s) and not isinstance(s.value, gast.Name)
        )


class _Fuser:
    def __init__(self, types, namer, params, body, broadcast_in_loop, parallel):
        self.types = types
        self.namer = namer
        self.broadcast_in_loop = broadcast_in_loop
        self.parallel = parallel
        self.loop_depth = 0  # how many loops enclose the block being fused
        self.classes = {p.id: p.id for p in params if self._rank1(p.id)}
        self.loads = Counter(
            n.id
            for s in body
            for n in gast.walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
        )
        self.stores = Counter(
            n.id
            for s in body
            for n in gast.walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
        )

    def _rank1(self, ident):
        t = self.types.get(ident)
        return t is not None and t.ndim == 1 and t.kind in ("float", "int", "bool")

    def _scalar(self, ident):
        t = self.types.get(ident)
        return t is not None and t.ndim == 0 and t.kind in ("float", "int", "bool")

    # ---- partition -------------------------------------------------------

    def run(self, stmts, defined_outside=frozenset()):
        """Fuse a block.

        `defined_outside`: names also assigned outside it (a group must not store them, since
        its allocation would come before their other values are read).
        """
        segments, group, defined_before = [], None, set(defined_outside)

        def close():
            nonlocal defined_before
            segments.append(group)
            defined_before |= group.defined
            # when the lengths differ, the statements run unfused, with NumPy's broadcasting
            if group.equal:
                self.own_classes(group.defined)

        for stmt in stmts:
            if is_comment(stmt):
                (group.stmts if group else segments).append(stmt)
                continue
            fusible = self.classify(stmt, group, defined_before)
            if fusible is not None:
                cls = group.cls if group is not None and group.cls in fusible else min(fusible)
                if group is not None and group.cls != cls:
                    close()
                    group = None
                group = group or _Group(cls)
                self.add(group, stmt, fusible - {cls})
                continue
            if group is not None and self.can_hoist(stmt, group):
                segments.append(stmt)
                defined_before |= assigned(stmt)
                continue
            if group is not None:
                close()
                group = None
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                self.nested(stmt)
            segments.append(stmt)
            defined_before |= assigned(stmt)
            self.note_root(stmt)
        if group is not None:
            close()
        return self.emit(segments)

    def nested(self, stmt):
        """Fuse inside the blocks of a branch or loop.

        A name assigned in a block may hold arrays of other lengths on other paths and in
        other iterations, so it starts a class of its own, in the block and after it.
        """
        self.own_classes(assigned(stmt))
        is_loop = isinstance(stmt, (gast.For, gast.While))
        self.loop_depth += is_loop
        stmt.body = self.run(stmt.body, self.assigned_outside(stmt.body))
        self.loop_depth -= is_loop
        self.own_classes(assigned(stmt))
        stmt.orelse = self.run(stmt.orelse, self.assigned_outside(stmt.orelse))
        self.own_classes(assigned(stmt))

    def assigned_outside(self, block):
        inside = Counter(
            n.id
            for s in block
            for n in gast.walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
        )
        return {n for n in inside if self.stores[n] > inside[n]}

    def own_classes(self, names):
        for target in names:
            self.classes.pop(target, None)
            if self._rank1(target):
                self.classes[target] = target

    def classify(self, stmt, group, defined_before):
        """The classes of the arrays a statement reads, if it can be fused, or None."""
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            return None
        target = stmt.targets[0].id
        if target in defined_before or (group and reads(stmt.value) & set(group.reductions)):
            return None
        reduced = self.reduction_class(stmt.value)
        classes = {reduced} if reduced else self.element_classes(stmt.value)
        if not classes or (
            group is not None and group.cls not in classes and target in group.defined
        ):
            return None
        return classes

    def reduction_class(self, value):
        """The class of the array whose sum or mean `value` is, or None.

        The sum or mean is an accumulator in the loop.
        """
        rule = rules.callee(value)
        if (
            rule is not None
            and rule.accumulates
            and len(value.args) == 1
            and not value.keywords
            and isinstance(value.args[0], gast.Name)
        ):
            return self.classes.get(value.args[0].id)
        return None

    def element_classes(self, node):
        """The classes of the arrays an elementwise expression reads (with scalars), or None."""
        found = set()
        if not self._elementwise(node, found) or not found:
            return None
        return found

    def _elementwise(self, node, found):
        if isinstance(node, gast.Constant):
            return isinstance(node.value, (int, float, bool))
        if isinstance(node, gast.Name):
            if node.id in self.classes:
                found.add(self.classes[node.id])
                return True
            return self._scalar(node.id)
        if isinstance(node, gast.BinOp):
            return (
                _elementwise_operator(node.op)
                and self._elementwise(node.left, found)
                and self._elementwise(node.right, found)
            )
        if isinstance(node, gast.UnaryOp):
            return _elementwise_operator(node.op) and self._elementwise(node.operand, found)
        if isinstance(node, gast.Compare):
            return self._elementwise(node.left, found) and self._elementwise(
                node.comparators[0], found
            )
        if isinstance(node, gast.Call) and not node.keywords:
            return self._elementwise_call(node, found)
        return False

    def _elementwise_call(self, node, found):
        func = rules.dotted_name(node.func)
        if func in (
            "rt.sum_adjoint",
            "rt.mean_adjoint",
        ):  # g spread over `a`: elementwise when reducing all of `a`
            g, a, axis = node.args
            return (
                isinstance(axis, gast.Constant)
                and axis.value is None
                and self._elementwise(g, found)
                and _is_scalar_expr(g, self)
                and self._elementwise(a, found)
            )
        if func == "rt.zeros_like":
            return self._elementwise(node.args[0], found)
        # a copy when `x` is an array as long as `v`; otherwise it sums
        if func == "rt.unbroadcast":
            v, x = node.args
            own = set()
            if not (
                isinstance(x, gast.Name)
                and x.id in self.classes
                and self._elementwise(v, own)
                and self._elementwise(x, own)
                and len(own) == 1
            ):
                return False
            found |= own
            return True
        rule = rules.by_name(func) if func else None
        elementwise = rule is not None and rule.broadcasts
        return elementwise and all(self._elementwise(a, found) for a in node.args)

    def add(self, group, stmt, equal):
        group.equal |= equal
        target = stmt.targets[0].id
        if self.reduction_class(stmt.value):
            group.reductions[target] = rules.callee(stmt.value).accumulates
        else:
            self.classes[target] = group.cls
        group.stmts.append(stmt)
        group.defined.add(target)
        group.classes = dict(self.classes)

    def can_hoist(self, stmt, group):
        """A scalar statement independent of the group can run before its loop."""
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            return False
        target = stmt.targets[0].id
        touched = group.defined | {n for s in group.stmts for n in reads(s)}
        return (
            self._scalar(target)
            and target not in touched
            and not (reads(stmt.value) & group.defined)
        )

    def note_root(self, stmt):
        """A rank-1 array made by a statement that is not fused starts a class of its own."""
        self.own_classes(assigned(stmt))

    # ---- emission --------------------------------------------------------

    def emit(self, segments):
        out = []
        for k, segment in enumerate(segments):
            if not isinstance(segment, _Group):
                out.append(segment)
            elif segment.size < 2:
                out.extend(segment.stmts)
            else:
                out.extend(self.loop(segment, self.read_elsewhere(segment)))
        return out

    def read_elsewhere(self, group):
        """The names of `group` read outside it: they must be stored as arrays."""
        inside = Counter(
            n.id
            for s in group.stmts
            for n in gast.walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
        )
        return {n for n in group.defined if self.loads[n] > inside[n]}

    def loop(self, group, live_after):
        """The group as one loop. With arrays of other classes (lengths known only at run time), a
        plain loop when the lengths agree, else the statements unfused (NumPy broadcasts a
        length-1 array, or raises its error); a device function reads element `i % len`."""
        if not group.equal:
            return self._loop(group, live_after, _length(group.cls), broadcasting=False)
        lengths = [_length(group.cls)] + [_length(c) for c in sorted(group.equal)]
        if self.broadcast_in_loop and not _may_be_shorter(group, live_after):
            # a device function: the host has checked the lengths
            return self._loop(group, live_after, _call("max", lengths), broadcasting=True)
        return self._loop_or_unfused(group, live_after, lengths)

    def _loop_or_unfused(self, group, live_after, lengths):
        """One loop when the lengths agree, else the statements as they are: NumPy broadcasts,
        and an array of only the shorter operands keeps their length (`np.sin(x)` beside
        `x * y`), as rt.unbroadcast needs. A device function has only the statements."""
        unfused = copy.deepcopy(group.stmts)
        if self.broadcast_in_loop:
            return unfused
        same = gast.Compare(
            _copy(lengths[0]), [gast.Eq() for _ in lengths[1:]], [_copy(n) for n in lengths[1:]]
        )
        fused = self._loop(group, live_after, _copy(lengths[0]), broadcasting=False)
        return [gast.If(same, fused, unfused)]

    def _loop(self, group, live_after, length, broadcasting):
        index = self.namer.fresh("i")
        stored = sorted(n for n in group.defined - set(group.reductions) if n in live_after)
        # For a device function, whose later passes read the types, no element reuses an array's
        # name.
        renamed = (
            sorted(group.defined - set(group.reductions)) if self.broadcast_in_loop else stored
        )
        scalar_names = {n: self.namer.fresh(f"{n}_i") for n in renamed}
        before = [_assign(n, self.allocate(n, length, group)) for n in stored]
        before += [_assign(n, gast.Constant(0.0, None)) for n in sorted(group.reductions)]
        body, current = [], set()
        for stmt in group.stmts:
            if is_comment(stmt):
                body.append(_copy(stmt))
                continue
            target = stmt.targets[0].id
            elements = _Elements(self, group, index, current, scalar_names, length, broadcasting)
            value = elements.visit(_copy(stmt.value))
            if target in group.reductions:
                value = gast.BinOp(name(target), gast.Add(), value.args[0])
            body.append(gast.copy_location(_assign(scalar_names.get(target, target), value), stmt))
            current.add(target)
        body += [
            gast.Assign([gast.Subscript(name(n), name(index), gast.Store())], name(scalar_names[n]))
            for n in stored
        ]
        loop_range = "rt.prange" if self.parallel and not self.loop_depth else "range"
        loop = gast.For(name(index, store=True), _call(loop_range, [_copy(length)]), body, [], None)
        after = [
            _assign(r, gast.BinOp(name(r), gast.Div(), _copy(length)))
            for r, kind in sorted(group.reductions.items())
            if kind == "mean"
        ]
        return before + [loop] + after

    def allocate(self, ident, length, group):
        kind = self.types[ident].kind
        # NumPy computes in the inputs' widest float type: float32 stays float32
        if kind == "float":
            inputs = [name(n) for n in self.float_arrays_read(group)]
            if len(inputs) == 1:
                dtype = gast.Attribute(inputs[0], "dtype", gast.Load())
                return gast.Call(
                    rules.dotted("np.empty"), [_copy(length)], [gast.keyword("dtype", dtype)]
                )
            if inputs:
                return _call("rt.empty_float", [_copy(length), gast.Tuple(inputs, gast.Load())])
        dtype = {"bool": "np.bool_", "int": "np.int64"}.get(kind)
        keywords = [gast.keyword("dtype", rules.dotted(dtype))] if dtype else []
        return gast.Call(rules.dotted("np.empty"), [_copy(length)], keywords)

    def float_arrays_read(self, group):
        """The float arrays `group` reads from outside it, in order of name."""
        read = {
            n.id
            for s in group.stmts
            for n in gast.walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
        }
        return sorted(
            n
            for n in read - group.defined
            if n in self.types and self.types[n].kind == "float" and self.types[n].ndim
        )


class _Elements(gast.NodeTransformer):
    """An array expression rewritten for element `index`."""

    def __init__(self, fuser, group, index, current, scalar_names, length, broadcasting):
        self.fuser = fuser
        self.length = length
        self.group = group
        self.index = index
        self.current = current  # group names already assigned in this iteration: scalars now
        self.scalar_names = scalar_names
        self.broadcasting = broadcasting  # read element `index % len`: a length-1 array repeats

    def visit_Name(self, node):
        if node.id in self.current:
            return name(self.scalar_names.get(node.id, node.id))
        if self.group.classes.get(node.id) in {self.group.cls} | self.group.equal:
            index = name(self.index)
            if self.broadcasting:
                index = gast.BinOp(index, gast.Mod(), _length(node.id))
            return gast.Subscript(name(node.id), index, gast.Load())
        return node

    def visit_Call(self, node):
        func = rules.dotted_name(node.func)
        if func == "rt.sum_adjoint":
            return self.visit(node.args[0])
        if func == "rt.mean_adjoint":
            return gast.BinOp(self.visit(node.args[0]), gast.Div(), _copy(self.length))
        if func == "rt.zeros_like":
            return gast.Constant(0.0, None)
        if func == "rt.unbroadcast":
            return self.visit(node.args[0])
        node.args = [self.visit(a) for a in node.args]
        rule = rules.by_name(func or "")
        if rule is not None and rule.math:
            node.func = rules.dotted(rule.math)
        elif func == "np.where":
            return gast.IfExp(*node.args)
        return node


def _may_be_shorter(group, live_after):
    """Whether a sum, an rt.unbroadcast or an array kept after `group` may be of fewer elements
    than the loop runs over: a value of only some of its classes (`np.sum(np.sin(x))` beside
    `x * y`), which a loop reading element `i % len` of each would count more than once."""
    every = {group.cls} | group.equal
    classes = {}
    for stmt in group.stmts:
        if is_comment(stmt):
            continue
        target = stmt.targets[0].id
        read = {n.id for n in gast.walk(stmt.value) if isinstance(n, gast.Name)}
        classes[target] = set().union(
            *(classes.get(n) or {group.classes.get(n)} - {None} for n in read)
        )
        sums_back = any(
            isinstance(n, gast.Call) and rules.dotted_name(n.func) == "rt.unbroadcast"
            for n in gast.walk(stmt.value)
        )
        kept = target in group.reductions or target in live_after or sums_back
        if kept and classes[target] != every:
            return True
    return False


def _elementwise_operator(op):
    """Whether an operator works element by element (its rule broadcasts).

    `+`, `**`, unary `-`; not `@`, `&`.
    """
    rule = rules.operator_rule(op)
    return rule is not None and rule.broadcasts


def _is_scalar_expr(node, fuser):
    found = set()
    return fuser._elementwise(node, found) and not found


def _length(array):
    return gast.Subscript(
        gast.Attribute(name(array), "shape", gast.Load()), gast.Constant(0, None), gast.Load()
    )


def _assign(target, value):
    return gast.Assign([name(target, store=True)], value)


def _call(func, args):
    return gast.Call(rules.dotted(func), args, [])


def _copy(node):
    return copy.deepcopy(node)
