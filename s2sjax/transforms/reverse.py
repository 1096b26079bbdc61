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
its tapes grow. In-place updates save what they overwrite and restore it, except
into arrays read only after their last write (passes/unread.py), whose old values nothing
reads. A
loop nested in a loop that does not replay it (it touches an array updated
only by element) records its tapes once, at slots counted across the whole
nest, and the loops around it tape only the scalars it leaves.

Adjoints are accumulated: while generating, a contribution is written
`x_bar += expr`; `_initialize_adjoints` then turns the first contribution
into `x_bar = expr` (or inserts `x_bar = rt.zeros_like(x)` where the first
one is conditional) and the others into `x_bar = x_bar + expr`, never in
place, so an adjoint array may safely alias another.
"""

import copy
from dataclasses import dataclass, field

import gast

from .. import rules
from ..backend.naming import comment, line_comment, name
from ..backend.templates import assign, fill, fill_each, subscript
from ..passes import optimize
from ..passes.mutation import gathers, is_element
from ..passes.unread import unread_before_last_write
from ..abstract import Type
from ..passes.queries import assigned, is_store, reads, statements
from ..mode import Mode
from .common import (
    atom_type,
    generated_name,
    positional,
    scalar_seed,
    with_line_comments,
    zeros_like,
)


class NonScalarOutput(Exception):
    """grad of a function whose output is not a scalar; the API reports the shape."""


class DerivativesInside(Exception):
    """The function calls a gradient or a Jacobian (inlined generated code): s2sjax differentiates
    such code in forward mode (kinds/jacobian.forward_loop), not in reverse. `call`: the first
    such call (frontend/jvpcalls.JvpCall), for an error at the user's line."""

    def __init__(self, call):
        super().__init__()
        self.call = call


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
    unrestored = unread_before_last_write(forward, mutable, types)
    builder = _Reverse(types, active, namer, program.origins, program.carried, mutable, unrestored)
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
            [builder.accumulate(outputs[0], scalar_seed(1.0, spec))] if outputs[0] in active else []
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
    # id(nested loop recorded once) -> {name it leaves defined -> its tape}, written after it
    exits: dict
    # the slot counter of a loop whose tapes outlive its enclosing loops' iterations, or None
    cursor: str = None
    # id(store) -> (that store, the tape of the values it overwrites), for the arrays the loop
    # updates by stores whose overwritten values are taped instead of the whole array
    overwritten: dict = field(default_factory=dict)

    def scalar_tapes(self):
        """The tapes of slots of one scalar each (a recorded-once loop has no others)."""
        return {**self.values, **{v: t for e in self.exits.values() for v, t in e.items()}}


class _Reverse:
    def __init__(self, types, active, namer, origins, carried, mutable, unrestored=frozenset()):
        self.types = types
        self.active = active
        self.namer = namer
        self.origins = origins
        self.carried = carried  # id(for statement) -> its loop-carried (phi) names
        self.plans = {}  # id(for statement) -> _LoopPlan
        # id(nested loop) -> id(the outermost loop around it replaying none of it): its tapes
        # are recorded once, by the forward sweep, and consumed once, by the backward sweep
        self.once = {}
        # id(forward code of a loop recorded once) -> (that code, kept alive so that its id
        # stays its own; id(the loop))
        self.forward_loops = {}
        self.reserves = {}  # id(statement lengthening a shared tape before a loop) -> it
        self.back_edges = set()  # ids of the copies that carry values to the next iteration
        self.loop_locals = {}  # id(backward loop) -> names defined in that loop's body
        self.mutable = mutable  # arrays updated in place
        # arrays read only after their last write: their stores keep no old values (see unread)
        self.unrestored = unrestored
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
        from their tapes, recompute what the adjoints read, then run the reversed body.

        Arrays the body updates in place but did not create, only element by element (in the
        loops nested in it too), keep their overwritten elements (and scalar reads) on tapes;
        a nested loop touching them is not replayed: it records its tapes once, at slots
        counted across the iterations of the loops around it, and the values it leaves are
        taped after it (see `recordable_once`). Arrays updated only at fixed places tape the
        values each iteration overwrites (see `overwriting_stores`); the other updated arrays
        have their whole state at each iteration's start taped, so the body can be replayed
        exactly.
        """
        carried = self.carried.get(id(loop), [])
        self.back_edges |= {
            id(s)
            for s in loop.body
            if isinstance(s, gast.Assign) and not is_store(s) and s.targets[0].id in carried
        }
        updated = _updated(loop.body)
        by_element = self.by_element(loop)
        owner = self.once.get(id(loop), id(loop))
        for nested in _nested_loops(loop.body):
            if _mentions_any(nested, by_element):
                self.once[id(nested)] = owner
        reversed_body = self.block(loop.body)
        if not reversed_body:
            return []
        cursor = self.namer.fresh("slot") if id(loop) in self.once else None
        index, start, step = self.counter(loop)
        slot = cursor or index
        exits = {
            id(nested): {v: self.namer.fresh(f"{v}_tape") for v in self.exit_names(nested)}
            for nested in _nested_loops(loop.body)
            if id(nested) in self.once
        }
        replay = self.taped([s for s in loop.body if id(s) not in self.back_edges])
        replay = self.without_recorded_once(replay, exits, slot)
        late = self.late_reads(loop.body, by_element)
        from_memory = {
            s.targets[0].id
            for s in _direct(replay)
            if _reads_any(s, by_element) and not is_store(s) and id(s) not in late
        }
        recompute = _without(
            replay,
            lambda s: (
                (_reads_any(s, by_element) and id(s) not in late)
                or (is_store(s) and s.targets[0].value.id in by_element)
            ),
        )
        recompute = optimize.remove_dead(recompute, reads(reversed_body))
        needed = reads(recompute + reversed_body)
        overwriting = self.overwriting_stores(loop, updated - by_element)
        in_place = {s.targets[0].value.id for s in overwriting}
        kept = [p for p in carried if p in needed] + sorted(updated - by_element - in_place)
        repeated = {
            v: first
            for v, first in _repeated_reads(replay, by_element, late).items()
            if v in from_memory & needed
        }
        plan = _LoopPlan(
            self.namer.fresh("trips"),
            {p: self.namer.fresh(f"{p}_tape") for p in kept},
            {
                v: self.namer.fresh(f"{v}_tape")
                for v in sorted({repeated.get(v, v) for v in from_memory & needed})
            },
            {n: {v: t for v, t in e.items() if t in needed} for n, e in exits.items()},
            cursor,
            {id(s): (s, self.namer.fresh(f"{self.saved[id(s)]}_tape")) for s in overwriting},
        )
        self.types[plan.trips] = Type("int", 0)  # taped after a `while` recorded once
        if not (plan.tapes or plan.scalar_tapes()):
            plan.cursor = None  # nothing to record: no slots to count
        self.plans[id(loop)] = plan
        tapes = {**plan.tapes, **plan.values}
        restores = fill_each(
            _from_tape, (dict(value=p, tape=tape, k=slot) for p, tape in tapes.items())
        ) + [assign(v, name(first))[0] for v, first in sorted(repeated.items())]
        restores += self.restore_overwritten(plan, slot)
        header = self.position(loop, index, start, step)
        if plan.cursor:
            header += fill(_step_back, slot=plan.cursor)
        (backward,) = fill(
            _countdown,
            k=index,
            trips=plan.trips,
            body=header + restores + recompute + reversed_body,
        )
        self.loop_locals[id(backward)] = assigned(loop.body) - set(carried)
        return [backward]

    def overwriting_stores(self, loop, arrays):
        """The stores into `arrays` of a counted loop's body (in order) whose overwritten values
        are taped instead of the whole arrays at each iteration's start: each array is stored
        into only by statements of the body itself (run once per iteration, not under an `if`
        or in a nested loop), each at the same place in every iteration (an index of names the
        loop does not assign, no index array). Restoring them, last first, onto the state an
        iteration ends in gives back the state it started in."""
        if not isinstance(loop, gast.For) or id(loop) in self.once:
            return []
        varying = assigned(loop.body) | {loop.target.id}

        def fixed(store):
            index = store.targets[0].slice
            return not (reads(index) & varying) and not gathers(index, self.types)

        stores = {a: [s for s in statements(loop.body) if _stores_into(s, a)] for a in arrays}
        chosen = {
            a
            for a, into in stores.items()
            if all(fixed(s) and any(s is d for d in loop.body) for s in into)
            and not any(_mentions_any(n, {a}) for n in _nested_loops(loop.body))
        }
        return [s for s in loop.body if any(_stores_into(s, a) for a in chosen)]

    def restore_overwritten(self, plan, slot):
        """At a backward iteration's start, the values its stores overwrote put back, last
        first: the iteration's start state, which the body's replay reads."""
        out = []
        for store, tape in reversed(plan.overwritten.values()):
            saved = self.saved[id(store)]
            out += fill(_from_tape, value=saved, tape=tape, k=slot)
            out += fill(
                _put_back,
                array=store.targets[0].value.id,
                index=store.targets[0].slice,
                saved=saved,
            )
        return out

    def overwritten_tapes(self, plan):
        """Before the loop, a tape for the values each overwriting store overwrites."""
        return fill_each(
            _new_tape,
            (
                dict(
                    tape=tape,
                    value=subscript(name(s.targets[0].value.id), s.targets[0].slice),
                    size=plan.trips,
                )
                for s, tape in plan.overwritten.values()
            ),
        )

    def tape_overwritten(self, stmts, plan, slot):
        """The forward body with the values each overwriting store overwrites taped before it."""
        out = []
        for stmt in stmts:
            if id(stmt) in plan.overwritten:
                _, tape = plan.overwritten[id(stmt)]
                out += fill(_store, tape=tape, k=slot, value=self.saved[id(stmt)])
            out.append(stmt)
        return out

    def by_element(self, loop):
        """The arrays `loop` updates but did not create, only element by element, reading only
        scalars from them, in the loops nested in it too: those loops must be recordable once."""
        chosen = {
            a
            for a in _updated(loop.body)
            if a in self.unrestored or self.updated_by_element(loop.body, a)
        }
        nested = list(_nested_loops(loop.body))
        changed = True
        while changed:
            changed = False
            for inner in nested:
                touched = {a for a in chosen if _mentions_any(inner, {a})}
                if touched and not self.recordable_once(inner, chosen):
                    chosen -= touched
                    changed = True
        return chosen

    def recordable_once(self, loop, arrays):
        """Whether a nested loop can keep its tapes for the whole sweep of the loops around it,
        which then do not replay it: they tape only the scalars it leaves (its loop-carried
        values), and it updates only `arrays`, all element by element, so it tapes no array."""
        updated = _updated(loop.body)
        scalars = all(
            self.types[p].ndim == 0 and self.types[p].kind in ("float", "int", "bool")
            for p in self.carried.get(id(loop), [])
        )
        return scalars and updated <= arrays and self.by_element(loop) == updated

    def exit_names(self, loop):
        """The names a loop recorded once leaves for the statements after it: its loop-carried
        values, and a `while`'s trip count, which its backward loop reads."""
        names = list(self.carried.get(id(loop), []))
        if isinstance(loop, gast.While) and id(loop) in self.plans:
            names.append(self.plans[id(loop)].trips)
        return names

    def without_recorded_once(self, replay, exits, slot):
        """The replay with each loop recorded once replaced by the values it left, from tapes."""
        out = []
        for stmt in replay:
            if isinstance(stmt, gast.If):
                stmt = gast.copy_location(
                    gast.If(
                        stmt.test,
                        self.without_recorded_once(stmt.body, exits, slot),
                        self.without_recorded_once(stmt.orelse, exits, slot),
                    ),
                    stmt,
                )
            elif id(stmt) in self.reserves:
                continue
            elif id(stmt) in self.forward_loops:
                left = exits[self.forward_loops[id(stmt)][1]]
                out += fill_each(
                    _from_tape, (dict(value=v, tape=t, k=slot) for v, t in left.items())
                )
                continue
            out.append(stmt)
        return out

    def updated_by_element(self, body, array):
        """Whether the body (not counting the loops nested in it) updates `array` only by
        element stores, and reads from it only scalars or, after its last write, anything."""
        direct = list(_direct(body))
        last = _last_write(direct, array)
        for position, stmt in enumerate(direct):
            if isinstance(stmt, (gast.For, gast.While)):
                continue
            if is_store(stmt) and stmt.targets[0].value.id == array:
                if not is_element(self.types[array], stmt.targets[0].slice, self.types):
                    return False
            elif (
                _reads_any(stmt, {array})
                and position < last
                and not (
                    isinstance(stmt, gast.Assign)
                    and not is_store(stmt)
                    and self.types[stmt.targets[0].id].ndim == 0
                )
            ):
                return False
        return True

    def late_reads(self, body, arrays):
        """The ids of the body's statements reading `arrays` only after their last writes in the
        body: replayed at an iteration's end state, the state the backward sweep starts it in."""
        direct = list(_direct(body))
        last = {a: _last_write(direct, a) for a in arrays}
        return {
            id(stmt)
            for position, stmt in enumerate(direct)
            if not is_store(stmt)
            and not isinstance(stmt, (gast.For, gast.While))
            and all(position > last[a] for a in arrays if _reads_any(stmt, {a}))
        }

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
                stmt = self.recording(
                    stmt, gast.copy_location(gast.While(stmt.test, self.taped(stmt.body), []), stmt)
                )
            elif isinstance(stmt, gast.For) and id(stmt) in self.plans:
                out.extend(self.taping_loop(stmt, self.plans[id(stmt)]))
                continue
            elif isinstance(stmt, gast.For):
                stmt = self.recording(
                    stmt,
                    gast.copy_location(
                        gast.For(stmt.target, stmt.iter, self.taped(stmt.body), [], None), stmt
                    ),
                )
            elif is_store(stmt) and stmt.targets[0].value.id not in self.unrestored:
                out.append(self.save(stmt))
            out.append(stmt)
        return out

    def recording(self, loop, copy_of_loop):
        """`copy_of_loop`, the forward code of `loop`, known as such if `loop` is recorded once."""
        if id(loop) in self.once:
            self.forward_loops[id(copy_of_loop)] = (copy_of_loop, id(loop))
        return copy_of_loop

    def taping_loop(self, loop, plan):
        start, stop, step = _bounds(loop)
        index, _, _ = self.counter(loop)
        slot = plan.cursor or index
        setup = fill(_trip_count, trips=plan.trips, start=start, stop=stop, step=step)
        if plan.cursor:
            setup += self.reserve(plan)
        else:
            setup += self.new_tapes(plan, plan.trips) + self.recorded_once_tapes(loop)
            setup += self.overwritten_tapes(plan)
        stores = fill_each(_store, (dict(tape=t, k=slot, value=p) for p, t in plan.tapes.items()))
        body = (
            self.position(loop, index, start, step)
            + stores
            + self.tape_overwritten(self.tape_values(self.taped(loop.body), plan, slot), plan, slot)
            + self.advance(plan)
            + self.extrapolate(loop, index, plan.trips)
        )
        (counted,) = fill(_counted, k=index, trips=plan.trips, body=body)
        return setup + [self.recording(loop, gast.copy_location(counted, loop))]

    def tape_values(self, stmts, plan, slot):
        """The body's forward code storing, in slot `slot`, the values read from memory where
        they are defined and the values the loops recorded once leave, after them."""
        left = {
            forward: plan.exits[original]
            for forward, (_, original) in self.forward_loops.items()
            if plan.exits.get(original)
        }
        return _tape_values(stmts, plan.values, slot, left)

    def reserve(self, plan):
        """Before a counted loop recorded once, its tapes made long enough for its trips (not
        checked per iteration: that check would cost more than the loop's own work)."""
        tapes = [*plan.tapes.values(), *plan.scalar_tapes().values()]
        out = fill_each(_reserve, (dict(tape=t, slot=plan.cursor, trips=plan.trips) for t in tapes))
        self.reserves.update((id(s), s) for s in out)
        return out

    def advance(self, plan):
        return fill(_advance, slot=plan.cursor) if plan.cursor else []

    def new_tapes(self, plan, size):
        """Before a taping loop, its tapes, each with `size` slots (a recorded-once loop's tapes
        hold scalars only)."""
        scalars = {**plan.tapes, **plan.scalar_tapes()} if plan.cursor else plan.scalar_tapes()
        rows = (
            [] if plan.cursor else [dict(tape=t, value=p, size=size) for p, t in plan.tapes.items()]
        )
        rows += [dict(tape=t, value=self.example(v), size=size) for v, t in scalars.items()]
        return fill_each(_new_tape, rows)

    def extrapolate(self, owner, k, trips):
        """At the end of iteration `k` of `owner`, a counted loop, the tapes of the loops
        recorded once inside it made long enough for `trips` iterations like those so far: after
        the first, exactly long enough where the iterations are alike (the usual loop nest)."""
        rows = [
            dict(tape=t, slot=plan.cursor, k=k, trips=trips)
            for loop_id, outer in self.once.items()
            if outer == id(owner) and (plan := self.plans.get(loop_id)) is not None and plan.cursor
            for t in [*plan.tapes.values(), *plan.scalar_tapes().values()]
        ]
        return fill_each(_extrapolated, rows)

    def recorded_once_tapes(self, owner):
        """Before `owner`, the outermost loop replaying none of them, the growing tapes of the
        loops recorded once inside it, and their slot counters."""
        out = []
        for loop_id, outer in self.once.items():
            plan = self.plans.get(loop_id)
            if outer == id(owner) and plan is not None and plan.cursor:
                out += assign(plan.cursor, 0) + self.new_tapes(plan, 16)
        return out

    def example(self, ident):
        """A constant of `ident`'s scalar type, for sizing its tape before the loop."""
        return gast.Constant({"float": 0.0, "int": 0, "bool": False}[self.types[ident].kind], None)

    def taping_while(self, loop, plan):
        """A `while` counting its trips; its tapes grow (doubling) as it goes."""
        slot = plan.cursor or plan.trips
        setup = assign(plan.trips, 0)
        if not plan.cursor:
            setup += self.new_tapes(plan, 16) + self.recorded_once_tapes(loop)
        tapes = [*plan.tapes.values(), *plan.scalar_tapes().values()]
        stores = fill_each(_grow, (dict(tape=t, trips=slot) for t in tapes))
        stores += fill_each(_store, (dict(tape=t, k=slot, value=p) for p, t in plan.tapes.items()))
        body = self.tape_values(self.taped(loop.body), plan, slot) + self.advance(plan)
        (counted,) = fill(_counting_while, test=loop.test, body=stores + body, trips=plan.trips)
        return setup + [self.recording(loop, gast.copy_location(counted, loop))]

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
        if array not in self.unrestored:
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
        if array in self.unrestored:
            return out
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


def _reserve(tape, slot, trips):
    tape = rt.reserve(tape, slot + trips)  # lengthened (doubling) when too short


def _extrapolated(tape, slot, k, trips):
    tape = rt.reserve(tape, slot * trips // (k + 1))


def _store(tape, k, value):
    tape[k] = value


def _advance(slot):
    slot = slot + 1


def _step_back(slot):
    slot = slot - 1


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


def _repeated_reads(stmts, arrays, late):
    """{name: the name that read the same element before it}, for reads of an element of
    `arrays` repeating one earlier in the same block (no store, loop or branch between them, no
    name in the index reassigned), taped once."""
    out, earlier = {}, {}  # earlier: the element read, dumped -> the name holding it
    for stmt in stmts:
        if isinstance(stmt, gast.If):
            out |= _repeated_reads(stmt.body, arrays, late)
            out |= _repeated_reads(stmt.orelse, arrays, late)
        if not isinstance(stmt, gast.Assign) or is_store(stmt):
            earlier = {}
            continue
        changed = assigned(stmt)
        earlier = {key: v for key, v in earlier.items() if not (reads(v[1]) & changed)}
        value = stmt.value
        if (
            id(stmt) in late
            or not isinstance(value, gast.Subscript)
            or not _reads_any(stmt, arrays)
        ):
            continue
        key = gast.dump(value)
        if key in earlier:
            out[stmt.targets[0].id] = earlier[key][0]
        else:
            earlier[key] = (stmt.targets[0].id, value)
    return out


def _last_write(direct, array):
    """The position in `direct` (a body's `_direct` statements) of the last store into `array`,
    or of the last nested loop storing into it; -1 if none."""
    writes = [
        position
        for position, stmt in enumerate(direct)
        if any(is_store(s) and s.targets[0].value.id == array for s in statements([stmt]))
        and not isinstance(stmt, gast.If)
    ]
    return max(writes, default=-1)


def _updated(body):
    """The arrays the body (its nested loops included) updates in place but did not create."""
    return {s.targets[0].value.id for s in statements(body) if is_store(s)} - assigned(body)


def _stores_into(stmt, array):
    return is_store(stmt) and stmt.targets[0].value.id == array


def _nested_loops(body):
    """The loops nested directly in a loop body (inside its `if`s too)."""
    return (s for s in _direct(body) if isinstance(s, (gast.For, gast.While)))


def _mentions_any(node, names):
    return any(isinstance(n, gast.Name) and n.id in names for n in gast.walk(node))


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


def _tape_values(stmts, tapes, index, left):
    """After each statement defining a taped value (inside `if`s too), store it in its tape;
    after each loop in `left` (id -> {name: tape}), the values it leaves."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.If):
            stmt = gast.copy_location(
                gast.If(
                    stmt.test,
                    _tape_values(stmt.body, tapes, index, left),
                    _tape_values(stmt.orelse, tapes, index, left),
                ),
                stmt,
            )
        out.append(stmt)
        if isinstance(stmt, gast.Assign) and not is_store(stmt) and stmt.targets[0].id in tapes:
            out += fill(_store, tape=tapes[stmt.targets[0].id], k=index, value=stmt.targets[0].id)
        for value, tape in left.get(id(stmt), {}).items():
            out += fill(_store, tape=tape, k=index, value=value)
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
