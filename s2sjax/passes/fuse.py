"""fuse: chains of elementwise array statements become one loop.

Accepts a generated function (either sweep, straight-line at the top level)
and the types of its variables. Leaves it with each maximal run of
statements that work elementwise on arrays of one *class* (arrays known to
have the same shape: a parameter and everything computed from it
elementwise, with scalars; views of one array with the same trims, as
`x[1:-1, 2:]` and `x[2:, :-2]`) replaced by one loop nest (a `for` per axis)
with scalar temporaries. `np.sum`/`np.mean` of a class member become
accumulators; only the arrays read after the loop are allocated and stored.
Arrays of classes not known to agree are fused behind a check of their
shapes. One pass over memory and no temporary arrays is what makes array code
as fast as a hand-written loop. Only compiled targets are fused: a Python
loop would be slower than NumPy.

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
    fdef.body = _without_unread_stores(fuser.run(fdef.body), fuser.allocated)
    return fdef


def _without_unread_stores(body, allocated):
    """`body` without the arrays of `allocated` (a fused loop's, stored element by element) that
    nothing reads: the code read them for their shapes only, and those reads were fused away."""
    loads = Counter(
        n.id
        for s in body
        for n in gast.walk(s)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
    )
    stores = Counter(  # `x[i] = v` loads the name x
        n.value.id
        for s in body
        for n in gast.walk(s)
        if isinstance(n, gast.Subscript)
        and isinstance(n.ctx, gast.Store)
        and isinstance(n.value, gast.Name)
    )
    unread = {n for n in allocated if loads[n] == stores[n]}
    return _Dropping(unread).visit(gast.Module(body, [])).body if unread else body


class _Dropping(gast.NodeTransformer):
    """Removes the statements that allocate or store into the arrays `names`."""

    def __init__(self, names):
        self.names = names

    def visit_Assign(self, node):
        target = node.targets[0]
        if isinstance(target, gast.Subscript):
            target = target.value
        return None if isinstance(target, gast.Name) and target.id in self.names else node


class _Group:
    def __init__(self, cls):
        self.cls = cls  # the root array whose length the loop runs over
        self.stmts = []
        self.defined = set()  # names assigned in the group
        self.reductions = {}  # name -> "sum" or "mean"
        self.deps = {}  # name -> the classes whose arrays its value reads
        self.stored, self.float_inputs = [], []  # as the fused loop has them
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
        self.allocated = set()  # the arrays the fused loops store
        self.classes = {p.id: p.id for p in params if self._fusible_array(p.id)}
        # class -> its shape, symbolically: one (array, axis, less) per axis, `array.shape[axis]
        # - less` long (0 at least), so that views with the same trims share a class
        self.shapes = {p: self._own_shape(p) for p in self.classes}
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

    def _fusible_array(self, ident):
        """Arrays of numbers; in a device function, which broadcasts in its loops, of rank 1."""
        t = self.types.get(ident)
        rank_ok = t is not None and (t.ndim == 1 if self.broadcast_in_loop else (t.ndim or 0) >= 1)
        return rank_ok and t.kind in ("float", "int", "bool")

    def _rank(self, cls):
        return self.types[cls].ndim

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
                cls = group.cls if self.joins(group, fusible) else min(fusible)
                if group is not None and group.cls != cls:
                    close()
                    group = None
                group = group or _Group(cls)
                self.add(group, stmt, fusible - {cls})
                continue
            if group is not None and self.can_hoist(stmt, group):
                segments.append(stmt)
                defined_before |= assigned(stmt)
                self.note_root(stmt)
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
        """Rebound `names` start classes of their own; shapes that named them are forgotten."""
        for target in names:
            self._forget_class(target)
        for cls, shape in list(self.shapes.items()):
            if any(array in names for array, _, _ in shape):
                del self.shapes[cls]
        for target in names:
            if self._fusible_array(target):
                self.classes[target] = target
                self.shapes[target] = self._own_shape(target)

    def _forget_class(self, cls):
        """`cls` no longer names its class's shape: its other members take one of theirs."""
        members = sorted(n for n, c in self.classes.items() if c == cls and n != cls)
        self.classes.pop(cls, None)
        shape = self.shapes.pop(cls, None)
        if members:
            for n in members:
                self.classes[n] = members[0]
            if shape is not None and all(array != cls for array, _, _ in shape):
                self.shapes[members[0]] = shape

    def _own_shape(self, array):
        return tuple((array, axis, 0) for axis in range(self._rank(array)))

    def classify(self, stmt, group, defined_before):
        """The classes of the arrays a statement reads, if it can be fused, or None."""
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            return None
        target = stmt.targets[0].id
        if target in defined_before or (group and reads(stmt.value) & set(group.reductions)):
            return None
        reduced = self.reduction_class(stmt.value)
        classes = {reduced} if reduced else self.element_classes(stmt.value)
        if not classes or len({self._rank(c) for c in classes}) > 1:  # NumPy broadcasts ranks
            return None
        if group is not None and group.cls not in classes and target in group.defined:
            return None
        return classes

    def reduction_class(self, value):
        """The class of the array whose sum or mean `value` is (an array of one class, or an
        elementwise expression of arrays of one class), or None.

        The sum or mean is an accumulator in the loop.
        """
        rule = rules.callee(value)
        if not (rule is not None and rule.accumulates and len(value.args) == 1):
            return None
        if value.keywords:
            return None
        if isinstance(value.args[0], gast.Name):
            return self.classes.get(value.args[0].id)
        classes = self.element_classes(value.args[0])
        return min(classes) if classes and len(classes) == 1 else None

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
        # a copy when `x` has `v`'s shape (in a loop that checks its arrays' shapes are one, or
        # of one class); otherwise it sums
        if func == "rt.unbroadcast":
            v, x = node.args
            own = set()
            if not (
                isinstance(x, gast.Name)
                and x.id in self.classes
                and self._elementwise(v, own)
                and self._elementwise(x, own)
                and (len(own) == 1 or self._same_shape_checked(own))
            ):
                return False
            found |= own
            return True
        rule = rules.by_name(func) if func else None
        elementwise = rule is not None and rule.broadcasts
        return elementwise and all(self._elementwise(a, found) for a in node.args)

    def _same_shape_checked(self, classes):
        """Whether a loop over arrays of `classes` runs only when their shapes are one."""
        return not self.broadcast_in_loop and len({self._rank(c) for c in classes}) == 1

    def add(self, group, stmt, equal):
        group.equal |= equal
        target = stmt.targets[0].id
        group.deps[target] = set().union(
            *(
                group.deps.get(n) or {self.classes[n]}
                for n in reads(stmt.value)
                if n in self.classes
            )
        )
        if self.reduction_class(stmt.value):
            group.reductions[target] = rules.callee(stmt.value).accumulates
        else:
            self.classes[target] = group.cls
        group.stmts.append(stmt)
        group.defined.add(target)
        group.classes = dict(self.classes)

    def joins(self, group, classes):
        """Whether a statement reading arrays of `classes` joins `group`.

        One of the group's own arrays, or (outside a device function) arrays of the group's rank
        whose shapes the loop checks are the group's before it runs."""
        if group is None:
            return False
        if group.cls in classes:
            return True
        return self._same_shape_checked(classes | {group.cls}) and not any(
            self._differ(c, member) for c in classes for member in {group.cls} | group.equal
        )

    def _differ(self, one, other):
        """Whether the classes' shapes differ (trims of one axis of one array), as far as known."""
        shapes = self.shapes.get(one), self.shapes.get(other)
        if None in shapes:
            return False
        return any(a[:2] == b[:2] and a[2] != b[2] for a, b in zip(*shapes))

    def can_hoist(self, stmt, group):
        """A statement independent of the group can run before its loop: a scalar's, or a view
        of an array (`t = x[1:, :-1]`, which the group's next statements then read)."""
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            return False
        target = stmt.targets[0].id
        touched = group.defined | {n for s in group.stmts for n in reads(s)}
        return (
            (self._scalar(target) or self._view(stmt.value))
            and target not in touched
            and not (reads(stmt.value) & group.defined)
        )

    def _view(self, value):
        return (
            not self.broadcast_in_loop
            and isinstance(value, gast.Subscript)
            and isinstance(value.value, gast.Name)
        )

    def note_root(self, stmt):
        """An array made by a statement that is not fused starts a class of its own, or joins the
        class of arrays of its shape where it is a view with the same trims (`x[1:-1, 2:]` and
        `x[2:, :-2]`)."""
        read = self.element_classes(stmt.value) if isinstance(stmt, gast.Assign) else None
        self.own_classes(assigned(stmt))
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            return
        target = stmt.targets[0].id
        if target in self.classes and read and len(read) == 1 and target not in read:
            # `x = x + v` (unfused: x was made before) has the shape of the arrays it reads
            (cls,) = read
            if self._rank(cls) == self._rank(target):
                self._forget_class(target)
                self.classes[target] = cls
            return
        shape = self._view_shape(stmt.value)
        if target not in self.classes or shape is None:
            return
        same = [c for c, known in self.shapes.items() if known == shape and c != target]
        if same:
            self._forget_class(target)
            self.classes[target] = same[0]
        else:
            self.shapes[target] = shape

    def _view_shape(self, value):
        """The symbolic shape of `x[a:-b, ...]` (ints and such slices), or None."""
        if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)):
            return None
        base = value.value.id
        if base not in self.classes or self.classes[base] not in self.shapes:
            return None
        axes = list(self.shapes[self.classes[base]])
        items = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
        if len(items) > len(axes):
            return None
        shape = []
        for item, (array, axis, less) in zip(items, axes):
            if isinstance(item, gast.Slice):
                trim = _trim(item)
                if trim is None:
                    return None
                shape.append((array, axis, less + trim))
            elif not self._int_index(item):
                return None
        return tuple(shape + axes[len(items) :])

    def _int_index(self, node):
        if isinstance(node, gast.Constant):
            return type(node.value) is int
        return (
            isinstance(node, gast.Name)
            and self._scalar(node.id)
            and self.types[node.id].kind == "int"
        )

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
        loop when the lengths agree, else the statements as they were, with NumPy's broadcasting.

        A device function cannot run NumPy's code: there one loop over the longest reads element
        `i % len` of each array (a length-1 array repeats; the host has checked the lengths)."""
        rank = self._rank(group.cls)
        if not group.equal:
            return self._loop(group, live_after, _Space.of(group.cls, rank), broadcasting=False)
        classes = [group.cls] + sorted(group.equal)
        if self.broadcast_in_loop:
            longest = _call("max", [_length(c) for c in classes])
            return self._loop(group, live_after, _Space.line(longest), broadcasting=True)
        extents = [_extent(c, rank) for c in classes]
        same = gast.Compare(extents[0], [gast.Eq() for _ in extents[1:]], extents[1:])
        fused = self._loop(group, live_after, _Space.of(group.cls, rank), broadcasting=False)
        return [gast.If(same, fused, [_copy(s) for s in group.stmts] + self.recast(group))]

    def recast(self, group):
        """The float arrays the fused loop stores, given its dtype where the statements ran
        unfused: both branches must give one type (the loop's is NumPy's; generated code of
        float32 arrays can widen, see rt.float_cast)."""
        inputs = gast.Tuple([name(n) for n in group.float_inputs], gast.Load())
        return [
            _assign(n, _call("rt.float_cast", [name(n), _copy(inputs)]))
            for n in group.stored
            if self.types[n].kind == "float" and group.float_inputs
        ]

    def _loop(self, group, live_after, space, broadcasting):
        indices = [self.namer.fresh("i") for _ in space.extents]
        index = indices[0]  # the one index of a loop that broadcasts (rank 1)
        element = (
            name(index) if len(indices) == 1 else gast.Tuple(list(map(name, indices)), gast.Load())
        )
        stored = sorted(n for n in group.defined - set(group.reductions) if n in live_after)
        # For a device function, whose later passes read the types, no element reuses an array's
        # name; nor where the statements also run unfused, with arrays of those names.
        if self.broadcast_in_loop or group.equal:
            renamed = sorted(group.defined - set(group.reductions))
        else:
            renamed = stored
        scalar_names = {n: self.namer.fresh(f"{n}_i") for n in renamed}
        own = {n: self.own_length(group, n) if broadcasting else None for n in group.defined}
        body, current = [], set()
        for stmt in group.stmts:
            if is_comment(stmt):
                body.append(_copy(stmt))
                continue
            target = stmt.targets[0].id
            elements = _Elements(self, group, element, current, scalar_names, space, broadcasting)
            value = elements.visit(_copy(stmt.value))
            if target in group.reductions:
                value = gast.BinOp(name(target), gast.Add(), value.args[0])
            assign = gast.copy_location(_assign(scalar_names.get(target, target), value), stmt)
            body.append(
                _below(index, own[target], assign) if target in group.reductions else assign
            )
            current.add(target)
        body += [
            _below(
                index,
                own[n],
                gast.Assign(
                    [gast.Subscript(name(n), _copy(element), gast.Store())], name(scalar_names[n])
                ),
            )
            for n in stored
        ]
        inputs = self.float_arrays_read(body, group)
        group.stored, group.float_inputs = stored, inputs
        before = [_assign(n, self.allocate(n, own[n] or space.shape, inputs)) for n in stored]
        self.allocated.update(stored)
        before += [_assign(n, gast.Constant(0.0, None)) for n in sorted(group.reductions)]
        for axis in reversed(range(len(indices))):  # the outermost loop is the parallel one
            outermost = axis == 0 and self.parallel and not self.loop_depth
            extent = _call("rt.prange" if outermost else "range", [_copy(space.extents[axis])])
            body = [gast.For(name(indices[axis], store=True), extent, body, [], None)]
        after = [
            _assign(r, gast.BinOp(name(r), gast.Div(), _copy(own[r] or space.count)))
            for r, kind in sorted(group.reductions.items())
            if kind == "mean"
        ]
        return before + body + after + self.recast_sums(group, inputs)

    def recast_sums(self, group, inputs):
        """The float sums of `group` in its inputs' dtype: their accumulators start at 0.0, a
        float64, where NumPy's sum of float32 arrays is a float32."""
        floats = gast.Tuple([name(n) for n in inputs], gast.Load())
        return [
            _assign(r, _call("rt.float_cast", [name(r), _copy(floats)]))
            for r in sorted(group.reductions)
            if self.types[r].kind == "float" and inputs
        ]

    def own_length(self, group, ident):
        """The length of `ident` in a loop that broadcasts, or None where it is the loop's.

        A value that reads fewer arrays than the loop is shorter than the loop when an array it
        does not read is longer: its elements past its own length repeat, so they are neither
        stored nor summed."""
        deps = group.deps[ident]
        if deps == {group.cls} | group.equal:
            return None
        lengths = [_length(c) for c in sorted(deps)]
        return lengths[0] if len(lengths) == 1 else _call("max", lengths)

    def allocate(self, ident, shape, inputs):
        """A new array for `ident`, of `shape`; a float one of the float `inputs`' dtype."""
        kind = self.types[ident].kind
        # NumPy computes in the inputs' widest float type: float32 stays float32
        if kind == "float":
            inputs = [name(n) for n in inputs]
            if len(inputs) == 1:
                dtype = gast.Attribute(inputs[0], "dtype", gast.Load())
                return gast.Call(
                    rules.dotted("np.empty"), [_copy(shape)], [gast.keyword("dtype", dtype)]
                )
            if inputs:
                return _call("rt.empty_float", [_copy(shape), gast.Tuple(inputs, gast.Load())])
        dtype = {"bool": "np.bool_", "int": "np.int64"}.get(kind)
        keywords = [gast.keyword("dtype", rules.dotted(dtype))] if dtype else []
        return gast.Call(rules.dotted("np.empty"), [_copy(shape)], keywords)

    def float_arrays_read(self, body, group):
        """The float arrays the fused `body` of `group` reads from outside it, in order of name."""
        read = {
            n.id
            for s in body
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

    def __init__(self, fuser, group, element, current, scalar_names, space, broadcasting):
        self.fuser = fuser
        self.space = space
        self.group = group
        self.element = element  # the index of the element: `i`, or `(i, j, ...)`
        self.current = current  # group names already assigned in this iteration: scalars now
        self.scalar_names = scalar_names
        self.broadcasting = broadcasting  # read element `index % len`: a length-1 array repeats

    def visit_Name(self, node):
        if node.id in self.current:
            return name(self.scalar_names.get(node.id, node.id))
        if self.group.classes.get(node.id) in {self.group.cls} | self.group.equal:
            index = _copy(self.element)
            if self.broadcasting:
                index = gast.BinOp(index, gast.Mod(), _length(node.id))
            return gast.Subscript(name(node.id), index, gast.Load())
        return node

    def visit_Call(self, node):
        func = rules.dotted_name(node.func)
        if func == "rt.sum_adjoint":
            return self.visit(node.args[0])
        if func == "rt.mean_adjoint":
            return gast.BinOp(self.visit(node.args[0]), gast.Div(), _copy(self.space.count))
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


def _trim(piece):
    """How many elements the slice `a:-b` (a, b >= 0 constants; either left out) drops from an
    axis, or None for another slice."""
    start, stop = _constant_int(piece.lower, 0), _constant_int(piece.upper, 0)
    step = _constant_int(piece.step, 1)
    if start is None or stop is None or step != 1 or start < 0 or stop > 0:
        return None
    if piece.upper is not None and stop == 0:  # `x[a:0]` is empty
        return None
    return start - stop


def _constant_int(node, default):
    if node is None:
        return default
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        value = _constant_int(node.operand, None)
        return None if value is None else -value
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    return None


def _below(index, length, stmt):
    """`stmt`, run only while `index < length` (always, where `length` is None)."""
    if length is None:
        return stmt
    return gast.If(gast.Compare(name(index), [gast.Lt()], [_copy(length)]), [stmt], [])


def _elementwise_operator(op):
    """Whether an operator works element by element (its rule broadcasts).

    `+`, `**`, unary `-`; not `@`, `&`.
    """
    rule = rules.operator_rule(op)
    return rule is not None and rule.broadcasts


def _is_scalar_expr(node, fuser):
    found = set()
    return fuser._elementwise(node, found) and not found


class _Space:
    """What a fused loop runs over: one loop per extent; the shape of the arrays it stores, and
    their number of elements (a mean's divisor)."""

    def __init__(self, extents, shape, count):
        self.extents, self.shape, self.count = extents, shape, count

    @classmethod
    def line(cls, length):
        return cls([length], length, length)

    @classmethod
    def of(cls, array, rank):
        """The elements of `array`, of `rank`, in C order."""
        if rank == 1:
            return cls.line(_length(array))
        extents = [_axis_length(array, axis) for axis in range(rank)]
        return cls(extents, _shape(array), gast.Attribute(name(array), "size", gast.Load()))


def _extent(array, rank):
    """What must be equal for arrays of `rank` to have the same elements: length, or shape."""
    return _length(array) if rank == 1 else _shape(array)


def _shape(array):
    return gast.Attribute(name(array), "shape", gast.Load())


def _axis_length(array, axis):
    return gast.Subscript(_shape(array), gast.Constant(axis, None), gast.Load())


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
