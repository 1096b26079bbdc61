"""transform (reverse): a normalized function -> its value and gradient (VJP).

The generated function runs the forward sweep (the normalized statements,
unchanged: SSA names keep every value alive, so straight-line code needs no
tape), seeds the output's adjoint with 1.0, then runs the backward sweep:
the statements in reverse order, each replaced by its adjoint statements.
An `if` is reversed under the same condition variable. It returns the
outputs followed by the adjoints of the differentiated parameters.

Loops: the forward sweep becomes a loop that tapes, at each iteration's start,
the loop-carried values (and arrays it updates whole); the backward sweep is a
loop counting down that restores them, recomputes what the adjoints read, and
runs the reversed body (see `_Reverse.loop`). A `while` counts its trips and
its tapes grow. In-place updates save what they overwrite and restore it.

Adjoints are accumulated: while generating, a contribution is written
`x_bar += expr`; `_initialize_adjoints` then turns the first contribution
into `x_bar = expr` (or inserts `x_bar = rt.zeros_like(x)` where the first
one is conditional) and the others into `x_bar = x_bar + expr`, never in
place, so an adjoint array may safely alias another.
"""

import copy
from dataclasses import dataclass

import gast

from .. import rules
from ..backend.naming import comment, line_comment, name
from ..backend.templates import assign, fill, fill_each, subscript
from ..passes import optimize
from ..passes.mutation import gathers, is_element
from ..abstract import Type
from ..passes.queries import assigned, is_store, reads, statements
from .common import Mode, atom_type, generated_name, positional, with_line_comments, zeros_like


class NonScalarOutput(Exception):
    """grad of a function whose output is not a scalar; the API reports the shape."""


class DerivativesInside(Exception):
    """The function calls a gradient or a Jacobian (inlined generated code): s2sjax differentiates
    such code in forward mode (kinds/jacobian.forward_loop), not in reverse."""


class OutputError(TypeError):
    """The output cannot be differentiated (not a float, or has_aux without a pair)."""


def transform(program, types, active, spec, namer, mutable=frozenset()):
    """The gradient (`spec.mode` GRAD or VALUE_AND_GRAD) or VJP (VJP) function of `program`.

    It returns what JAX's function of that kind returns: grad `g` (a tuple for
    tuple argnums), `(g, aux)` with has_aux; value_and_grad `(value, g)` or
    `((value, aux), g)`; a VJP takes one cotangent per output after the
    arguments and returns a tuple with one cotangent per differentiated argument.
    Adds the type of every adjoint it creates to `types` (an adjoint has its primal's type).
    """
    outputs, tree = program.outputs, program.output_tree
    if spec.has_aux and (len(outputs) != 2 if tree is None else not _is_pair(tree)):
        raise OutputError(
            "has_aux=True requires the function to return a pair (output, aux), "
            "written as a tuple display: return out, aux"
        )
    differentiated = outputs[:1] if spec.has_aux else outputs
    if spec.mode is not Mode.VJP:
        _check_scalar_output(outputs, types, spec.has_aux)
    wrt = [program.params[i] for i in spec.argnums]
    forward = program.tree.body[:-1]  # without the final `return`
    builder = _Reverse(types, active, namer, program.origins, program.carried, mutable)
    backward = builder.block(forward)
    forward = builder.taped(forward)
    if spec.mode is Mode.VJP:
        cotangents = [namer.fresh(f"{o}_ct") for o in differentiated]
        seeds = [
            builder.accumulate(o, name(ct))
            for o, ct in zip(differentiated, cotangents)
            if o in active
        ]
    else:
        cotangents = []
        seeds = (
            [builder.accumulate(outputs[0], gast.Constant(1.0, None))]
            if outputs[0] in active
            else []
        )
    grads = [name(builder.adjoint(w)) for w in wrt]
    result = gast.Return(_result(spec, outputs, grads, tree is not None))
    backward = _initialize_adjoints(
        seeds + backward + [result], builder.adjoints, builder.loop_locals, builder.owned
    )
    types.update(builder.adjoint_types())
    body = (
        [comment("forward sweep")]
        + with_line_comments(forward, program.origins)
        + [comment("backward sweep")]
        + backward
    )
    fdef = copy.copy(program.tree)
    fdef.name = generated_name(program.tree.name, "vjp" if spec.mode is Mode.VJP else "grad")
    fdef.args = positional(program.params + cotangents + [c.name for c in program.captured])
    fdef.body = body
    return fdef


def _check_scalar_output(outputs, types, has_aux):
    if not has_aux and len(outputs) > 1:
        raise NonScalarOutput(None)
    out_type = types.get(outputs[0])
    if out_type is None or out_type.ndim != 0:
        raise NonScalarOutput(out_type)
    if out_type.kind != "float":
        kind = {"none": "None", "int": "int64", "bool": "bool"}.get(out_type.kind, out_type.kind)
        raise OutputError(
            "grad requires real-valued outputs (output dtype that is a sub-dtype of np.floating), "
            f"but got {kind}."
        )


def _is_pair(tree):
    return tree.kind == "tuple" and len(tree.children) == 2 and tree.children[0].kind == "leaf"


def _result(spec, outputs, grads, aux_leaves=False):
    """The returned value, structured as JAX's function of `spec.mode` structures it.

    `aux_leaves`: the outputs after the first are the leaves of aux (a list or dict), returned
    as a tuple.
    """

    def tuple_of(items):
        return gast.Tuple(list(items), gast.Load())

    if spec.mode is Mode.VJP:
        return tuple_of(grads)
    g = grads[0] if spec.single else tuple_of(grads)
    value = name(outputs[0])
    aux = (
        None
        if not spec.has_aux
        else tuple_of(map(name, outputs[1:]))
        if aux_leaves
        else name(outputs[1])
    )
    if spec.mode is Mode.GRAD:
        return tuple_of([g, aux]) if spec.has_aux else g
    return tuple_of([tuple_of([value, aux]) if spec.has_aux else value, g])


@dataclass
class _LoopPlan:
    """How a loop's forward sweep tapes what its backward sweep restores."""

    trips: str  # the variable holding the trip count
    # loop-carried name (or array checkpointed whole) -> its tape, written at each iteration's start
    tapes: dict
    # name defined in the body from memory the body updates -> its tape, written where defined
    values: dict


class _Reverse:
    def __init__(self, types, active, namer, origins, carried, mutable):
        self.types = types
        self.active = active
        self.namer = namer
        self.origins = origins
        self.carried = carried  # id(for statement) -> its loop-carried (phi) names
        self.plans = {}  # id(for statement) -> _LoopPlan
        self.back_edges = set()  # ids of the copies that carry values to the next iteration
        self.loop_locals = {}  # id(backward loop) -> names defined in that loop's body
        self.mutable = mutable  # arrays updated in place
        self.saved = {}  # id(store) -> the name keeping the values it overwrites
        self.owned = set()  # primals whose adjoints are updated in place: never aliased
        self.adjoints = {}  # primal name -> adjoint name

    def adjoint_types(self):
        return {adjoint: self.types[primal] for primal, adjoint in self.adjoints.items()}

    def adjoint(self, primal):
        if primal not in self.adjoints:
            self.adjoints[primal] = self.namer.adjoint(primal)
        return self.adjoints[primal]

    def block(self, stmts):
        out, last = [], None
        for stmt in reversed(stmts):
            if isinstance(stmt, gast.If):
                then, orelse = self.block(stmt.body), self.block(stmt.orelse)
                if then or orelse:
                    out.append(gast.If(copy.deepcopy(stmt.test), then or [gast.Pass()], orelse))
                    last = None
            elif isinstance(stmt, (gast.For, gast.While)):
                out.extend(self.loop(stmt))
                last = None
            elif isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
                out.append(line_comment(self.origins.get(id(stmt)), stmt.lineno))
                out.extend(self.store(stmt))
                last = None
            elif isinstance(stmt, gast.Assign) and stmt.targets[0].id in self.active:
                adjoint_stmts = self.assign(stmt)
                # the phi's adjoint now belongs to the previous iteration
                if id(stmt) in self.back_edges:
                    phi = stmt.targets[0].id
                    adjoint_stmts.append(
                        gast.Assign([name(self.adjoint(phi), store=True)], zeros_like(phi))
                    )
                key = (self.origins.get(id(stmt)), stmt.lineno)
                if adjoint_stmts and key != last:
                    out.append(line_comment(*key))
                    last = key
                out.extend(adjoint_stmts)
        return out

    def loop(self, loop):
        """The backward loop: per iteration, counting down, restore the loop-carried values
        from their tapes, recompute what the adjoints read, then run the reversed body."""
        carried = self.carried.get(id(loop), [])
        self.back_edges |= {
            id(s)
            for s in loop.body
            if isinstance(s, gast.Assign) and not is_store(s) and s.targets[0].id in carried
        }
        reversed_body = self.block(loop.body)
        if not reversed_body:
            return []
        # Arrays the body updates in place but did not create. Updated element by element,
        # they keep their overwritten elements (and scalar reads) on tapes; otherwise their
        # whole state at each iteration's start is taped, so the body can be replayed exactly.
        updated = {s.targets[0].value.id for s in statements(loop.body) if is_store(s)} - assigned(
            loop.body
        )
        by_element = {a for a in updated if self.updated_by_element(loop.body, a)}
        replay = self.taped([s for s in loop.body if id(s) not in self.back_edges])
        from_memory = {
            s.targets[0].id
            for s in _direct(replay)
            if _reads_any(s, by_element) and not is_store(s)
        }
        recompute = _without(
            replay,
            lambda s: (
                _reads_any(s, by_element) or (is_store(s) and s.targets[0].value.id in by_element)
            ),
        )
        recompute = optimize.remove_dead(recompute, reads(reversed_body))
        needed = reads(recompute + reversed_body)
        kept = [p for p in carried if p in needed] + sorted(updated - by_element)
        plan = _LoopPlan(
            self.namer.fresh("trips"),
            {p: self.namer.fresh(f"{p}_tape") for p in kept},
            {v: self.namer.fresh(f"{v}_tape") for v in sorted(from_memory & needed)},
        )
        self.plans[id(loop)] = plan
        index, start, step = self.counter(loop)
        tapes = {**plan.tapes, **plan.values}
        restores = fill_each(
            _from_tape, (dict(value=p, tape=tape, k=index) for p, tape in tapes.items())
        )
        header = self.position(loop, index, start, step)
        (backward,) = fill(
            _countdown,
            k=index,
            trips=plan.trips,
            body=header + restores + recompute + reversed_body,
        )
        self.loop_locals[id(backward)] = assigned(loop.body) - set(carried)
        return [backward]

    def updated_by_element(self, body, array):
        """Whether the body updates `array` only by element stores, reads only scalars from it
        directly, and leaves it alone in the loops nested in it."""
        for stmt in _direct(body):
            if isinstance(stmt, (gast.For, gast.While)):
                if any(isinstance(n, gast.Name) and n.id == array for n in gast.walk(stmt)):
                    return False
            elif is_store(stmt) and stmt.targets[0].value.id == array:
                if not is_element(self.types[array], stmt.targets[0].slice, self.types):
                    return False
            elif _reads_any(stmt, {array}) and not (
                isinstance(stmt, gast.Assign)
                and not is_store(stmt)
                and self.types[stmt.targets[0].id].ndim == 0
            ):
                return False
        return True

    def counter(self, loop):
        """(the iteration counter, start, step): the loop variable itself for range(0, n)."""
        if isinstance(loop, gast.While):
            return self.namer.fresh("k"), None, None
        start, _, step = _bounds(loop)
        simple = _is_constant(start, 0) and _is_constant(step, 1)
        return (loop.target.id if simple else self.namer.fresh("k")), start, step

    def position(self, loop, index, start, step):
        """`i = start + k * step` when the counter is not the loop variable itself."""
        if isinstance(loop, gast.While) or index == loop.target.id:
            return []
        return fill(_position, i=loop.target.id, start=start, k=index, step=step)

    def taped(self, stmts):
        """The forward statements, each planned loop taping its loop-carried values."""
        out = []
        for stmt in stmts:
            if isinstance(stmt, gast.If):
                stmt = gast.copy_location(
                    gast.If(stmt.test, self.taped(stmt.body), self.taped(stmt.orelse)), stmt
                )
            elif isinstance(stmt, gast.While) and id(stmt) in self.plans:
                out.extend(self.taping_while(stmt, self.plans[id(stmt)]))
                continue
            elif isinstance(stmt, gast.While):
                stmt = gast.copy_location(gast.While(stmt.test, self.taped(stmt.body), []), stmt)
            elif isinstance(stmt, gast.For) and id(stmt) in self.plans:
                out.extend(self.taping_loop(stmt, self.plans[id(stmt)]))
                continue
            elif isinstance(stmt, gast.For):
                stmt = gast.copy_location(
                    gast.For(stmt.target, stmt.iter, self.taped(stmt.body), [], None), stmt
                )
            elif isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
                out.append(self.save(stmt))
            out.append(stmt)
        return out

    def taping_loop(self, loop, plan):
        start, stop, step = _bounds(loop)
        index, _, _ = self.counter(loop)
        setup = fill(
            _trip_count, trips=plan.trips, start=start, stop=stop, step=step
        ) + self.new_tapes(plan, plan.trips)
        stores = fill_each(_store, (dict(tape=t, k=index, value=p) for p, t in plan.tapes.items()))
        body = (
            self.position(loop, index, start, step)
            + stores
            + _tape_values(self.taped(loop.body), plan.values, index)
        )
        (counted,) = fill(_counted, k=index, trips=plan.trips, body=body)
        return setup + [gast.copy_location(counted, loop)]

    def new_tapes(self, plan, size):
        """Before a taping loop, its tapes, each with `size` slots."""
        rows = [dict(tape=t, value=p, size=size) for p, t in plan.tapes.items()]
        rows += [dict(tape=t, value=self.example(v), size=size) for v, t in plan.values.items()]
        return fill_each(_new_tape, rows)

    def example(self, ident):
        """A constant of `ident`'s scalar type, for sizing its tape before the loop."""
        return gast.Constant({"float": 0.0, "int": 0, "bool": False}[self.types[ident].kind], None)

    def taping_while(self, loop, plan):
        """A `while` counting its trips; its tapes grow (doubling) as it goes."""
        setup = assign(plan.trips, 0) + self.new_tapes(plan, 16)
        stores = fill_each(
            _grow,
            (dict(tape=t, trips=plan.trips) for t in [*plan.tapes.values(), *plan.values.values()]),
        )
        stores += fill_each(
            _store, (dict(tape=t, k=plan.trips, value=p) for p, t in plan.tapes.items())
        )
        body = _tape_values(self.taped(loop.body), plan.values, plan.trips)
        (counted,) = fill(_counting_while, test=loop.test, body=stores + body, trips=plan.trips)
        return setup + [gast.copy_location(counted, loop)]

    def accumulate(self, primal, expr):
        return gast.AugAssign(name(self.adjoint(primal), store=True), gast.Add(), expr)

    def assign(self, stmt):
        target, value = stmt.targets[0].id, stmt.value
        g = name(self.adjoint(target))
        if isinstance(value, gast.Name):
            return [self.accumulate(value.id, g)] if value.id in self.active else []
        try:
            if isinstance(value, gast.Subscript):
                return self.subscript(value, g)
            rule, bound = rules.rule_of(value)
            return [] if rule is None else self.rule(rule, bound, target, g)
        except rules.RuleError as exc:
            raise self.origins[id(stmt)].error(stmt, str(exc)) from None

    def rule(self, rule, bound, target, g):
        arg_types = {p: self._type(n) for p, n in bound.items()}
        bindings = {**bound, "out": name(target), "g": g}
        library = rule.template_library(self.types[target].is_scalar)
        out = []
        for param, node in bound.items():
            if not (isinstance(node, gast.Name) and node.id in self.active):
                continue
            template = rule.adjoint_template(param, arg_types, bound)
            if template is None:
                continue
            expr = rules.instantiate(template, bindings, library)
            if rule.broadcasts:
                expr = self.reduce_to_operand(expr, node.id, param, arg_types, target)
            out.append(self.accumulate(node.id, expr))
        return out

    def reduce_to_operand(self, expr, operand_name, param, arg_types, target):
        """Sum a contribution over the dimensions along which operand `param` was broadcast."""
        operand, result = arg_types[param], self.types[target]
        if result.ndim == 0:
            return expr
        if operand.ndim == 0:
            return gast.Call(rules.dotted("np.sum"), [expr], [])
        others = [t for p, t in arg_types.items() if p != param]
        if (
            operand.ndim is not None
            and operand.ndim == result.ndim
            and all(t.ndim == 0 for t in others)
        ):
            return expr
        return gast.Call(rules.dotted("rt.unbroadcast"), [expr, name(operand_name)], [])

    def subscript(self, value, g):
        """`y = x[index]`: `x_bar[index] += y_bar`, in place (x_bar is a fresh array of its own)."""
        base = value.value.id
        if base not in self.active:
            return []
        if gathers(value.slice, self.types):
            return [self.accumulate(base, self.scattered(value.slice, g, base))]
        self.owned.add(base)
        element = gast.Subscript(name(self.adjoint(base)), copy.deepcopy(value.slice), gast.Store())
        return [gast.AugAssign(element, gast.Add(), g)]

    def scattered(self, index, g, base):
        """The adjoint of `base[index]` for an index with arrays in it: `g` added at the flat
        positions the index read (a repeated one accumulates; `x_bar[index] += g` would not)."""
        return gast.Call(
            rules.dotted("rt.scatter_add"), [_positions(base, index), g, name(base)], []
        )

    def store(self, stmt):
        """`a[index] = v`: hand a_bar[index] to v_bar, clear it, restore the overwritten values."""
        target, value = stmt.targets[0], stmt.value
        array = target.value.id
        saved = self.saved.setdefault(id(stmt), self.namer.fresh(f"{array}_old"))
        out = []
        if array in self.active:
            self.owned.add(array)
            element = subscript(self.adjoint(array), target.slice)
            if isinstance(value, gast.Name) and value.id in self.active:
                out.append(
                    self.accumulate(
                        value.id, self.stored_adjoint(element, array, target.slice, value.id)
                    )
                )
            if gathers(target.slice, self.types):
                # zeros like the values overwritten: with a scalar 0.0 under a mask, Numba's
                # parallel pass fails on an adjoint whose size it cannot see (numba 0.68)
                out += fill(
                    _cleared_selection,
                    adjoint=self.adjoint(array),
                    index=target.slice,
                    saved=saved,
                )
            else:
                out += fill(_cleared, adjoint=self.adjoint(array), index=target.slice)
        return out + fill(_put_back, array=array, index=target.slice, saved=saved)

    def stored_adjoint(self, element, array, index, value):
        """a_bar[index], as a value of v's shape that no later clearing of a_bar can change."""
        if gathers(index, self.types):
            # an element stored twice keeps the last value: only that one gets its adjoint
            element = gast.Call(
                rules.dotted("rt.index_last_writes"),
                [_positions(array, index), name(self.adjoint(array))],
                [],
            )
        elif is_element(self.types[array], index, self.types):
            return element
        if self.types[value].ndim == 0:
            return gast.Call(rules.dotted("np.sum"), [element], [])
        if not gathers(index, self.types):  # a view of a_bar, which clearing it would change
            element = gast.Call(rules.dotted("np.copy"), [element], [])
        return gast.Call(rules.dotted("rt.unbroadcast"), [element, name(value)], [])

    def save(self, stmt):
        """The statement keeping what a store overwrites, for the backward sweep to restore."""
        target = stmt.targets[0]
        array = target.value.id
        element = is_element(self.types[array], target.slice, self.types)
        saved = self.saved.setdefault(id(stmt), self.namer.fresh(f"{array}_old"))
        self.types[saved] = Type(self.types[array].kind, 0 if element else None)
        (saving,) = fill(
            _saved if element else _copied, saved=saved, array=array, index=target.slice
        )
        return gast.copy_location(saving, stmt)

    def _type(self, node):
        return atom_type(node, self.types)


def _bounds(loop):
    """(start, stop, step) of a normalized loop, `for i in range(start, stop[, step])`."""
    args = loop.iter.args
    return args[0], args[1], args[2] if len(args) == 3 else gast.Constant(1, None)


def _is_constant(node, value):
    return isinstance(node, gast.Constant) and node.value == value


# ---- templates: the tape loops, and the saving and restoring of what a store overwrites ----


def _trip_count(trips, start, stop, step):
    trips = rt.trip_count(start, stop, step)


def _new_tape(tape, value, size):
    tape = rt.tape(value, size)  # slots like `value`


def _counted(k, trips, body):
    for k in range(trips):
        body


def _counting_while(test, body, trips):
    while test:
        body
        trips = trips + 1


def _grow(tape, trips):
    tape = rt.grow(tape, trips)  # doubled when full


def _store(tape, k, value):
    tape[k] = value


def _countdown(k, trips, body):
    for k in range(trips - 1, -1, -1):
        body


def _from_tape(value, tape, k):
    value = tape[k]


def _position(i, start, k, step):
    i = start + k * step


def _saved(saved, array, index):
    saved = array[index]


def _copied(saved, array, index):
    saved = np.copy(array[index])


def _cleared(adjoint, index):
    adjoint[index] = 0.0


def _cleared_selection(adjoint, index, saved):
    adjoint[index] = rt.zeros_like(saved)


def _put_back(array, index, saved):
    array[index] = saved


def _positions(array, index):
    """`rt.index_positions(array)[index]`: the flat positions of the elements `array[index]`
    reads."""
    positions = gast.Call(rules.dotted("rt.index_positions"), [name(array)], [])
    return gast.Subscript(positions, copy.deepcopy(index), gast.Load())


def _direct(stmts):
    """The statements of a loop body, those inside its `if`s included, not those of nested loops."""
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, gast.If):
            yield from _direct(stmt.body)
            yield from _direct(stmt.orelse)


def _reads_any(stmt, arrays):
    if isinstance(stmt, gast.If):
        return False  # its branches are looked at one statement at a time
    value = stmt.value if isinstance(stmt, gast.Assign) else stmt
    return any(isinstance(n, gast.Name) and n.id in arrays for n in gast.walk(value))


def _without(stmts, drop):
    """`stmts` without the statements (inside `if`s too) for which `drop` holds."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.If):
            stmt = gast.copy_location(
                gast.If(stmt.test, _without(stmt.body, drop), _without(stmt.orelse, drop)), stmt
            )
        elif drop(stmt):
            continue
        out.append(stmt)
    return out


def _tape_values(stmts, tapes, index):
    """After each statement defining a taped value (inside `if`s too), store it in its tape."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.If):
            stmt = gast.copy_location(
                gast.If(
                    stmt.test,
                    _tape_values(stmt.body, tapes, index),
                    _tape_values(stmt.orelse, tapes, index),
                ),
                stmt,
            )
        out.append(stmt)
        if isinstance(stmt, gast.Assign) and not is_store(stmt) and stmt.targets[0].id in tapes:
            out += fill(_store, tape=tapes[stmt.targets[0].id], k=index, value=stmt.targets[0].id)
    return out


def _initialize_adjoints(stmts, adjoints, loop_locals, owned):
    """Make every adjoint defined before it is read (see the module docstring).

    A loop's body is a block of its own only for names defined in that body:
    an adjoint accumulated over the iterations starts before the loop.
    """
    names = {}  # id(statement) -> the names it mentions, computed once
    for primal, adjoint in adjoints.items():
        _initialize(stmts, adjoint, primal, names, loop_locals, primal in owned)
    _expand_accumulations(stmts)
    return stmts


def _initialize(stmts, adjoint, primal, names, loop_locals, owned):
    """In the innermost block holding every mention of `adjoint`, define it at the first one."""

    def mentions(stmt):
        if id(stmt) not in names:
            names[id(stmt)] = {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name)}
        return adjoint in names[id(stmt)]

    block = stmts
    while True:
        holders = [s for s in block if mentions(s)]
        if not holders:
            return
        if len(holders) == 1 and isinstance(holders[0], gast.If):
            branches = [
                b for b in (holders[0].body, holders[0].orelse) if any(mentions(s) for s in b)
            ]
            if len(branches) == 1:
                block = branches[0]
                continue
        if len(holders) == 1 and primal in loop_locals.get(id(holders[0]), ()):
            block = holders[0].body
            continue
        break
    first = next(i for i, s in enumerate(block) if mentions(s))
    stmt = block[first]
    if (
        not owned
        and isinstance(stmt, gast.AugAssign)
        and isinstance(stmt.target, gast.Name)
        and stmt.target.id == adjoint
        and not _mentions(stmt.value, adjoint)
    ):
        block[first] = gast.copy_location(gast.Assign([stmt.target], stmt.value), stmt)
    else:
        block.insert(first, gast.Assign([name(adjoint, store=True)], zeros_like(primal)))


def _expand_accumulations(stmts):
    """`x_bar += e` -> `x_bar = x_bar + e`: a new value, so aliased adjoints stay intact."""
    for i, stmt in enumerate(stmts):
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
            total = gast.BinOp(name(stmt.target.id), gast.Add(), stmt.value)
            stmts[i] = gast.copy_location(
                gast.Assign([name(stmt.target.id, store=True)], total), stmt
            )
        elif isinstance(stmt, (gast.If, gast.For, gast.While)):
            _expand_accumulations(stmt.body)
            _expand_accumulations(stmt.orelse)


def _mentions(node, ident):
    return any(isinstance(n, gast.Name) and n.id == ident for n in gast.walk(node))
