"""normalize: A-normal form with SSA names, user functions inlined.

Accepts a desugared function (desugar.py: every `return` ends its path, none
is in a loop). Inlines each call of a user's function where it meets it
(inline.py), and unrolls each loop over a container. Leaves a `Normalized`
function whose body holds only these statement forms (atoms are names and
number constants):

    name = atom                       copy
    name = atom OP atom               binary operator, one comparison
    name = OP atom                    unary -, +, not
    name = f(atom, ..., k=atom)       a registry rule (np.sin, abs, ...); a
                                      tuple of atoms may stand for an atom
    name = atom.astype(dtype)         the one method call kept as a method
    name = atom.shape / .size / .ndim / .dtype
    name = atom[index]                index: atom, slice of atoms, tuple of those
    name[index] = atom                an in-place update of an array
    name = (atom, ...)                tuple display
    if name: ... else: ...
    for name in range(atom, atom[, atom]): ...     (or rt.prange)
    while name: ...                   the test computed again at the end of the body
    assert name

Every variable is assigned once per path: redefinitions get new names
(`x`, `x_1`, ...); a variable assigned on both sides of an `if` gets a new
name, copied into at the end of each branch (a phi). Temporaries (`t1`), the
values of `a if c else b` and `a and b`, and the outputs are such phi names
too. `return` statements become assignments to the output names; the
function's last statement is `return outputs`. A `for` loop over an array,
`zip` or `enumerate` becomes a loop over `range`; a variable the body
reassigns gets a phi before the loop, copied into at the end of the body.
A `for` loop that may `break` or `continue` becomes a `while` loop over a
counter; a `break` sets a flag that the loop's test reads, and the code after
a `break` or `continue` moves into the branches that go on (desugar.lower_exits).

>>> from s2sjax.pipeline import stage_source
>>> def f(x):
...     y = x * x
...     y += 1.0
...     return y if x > 0 else -y
>>> print(stage_source(f, "normalize"))
def f(x):
    y = x * x
    y_1 = y + 1.0
    t1 = x > 0
    if t1:
        out = y_1
    else:
        out = -y_1
    return out
"""

import copy
import types
from dataclasses import dataclass, field

import gast

from .. import rules
from ..backend.naming import comment, is_generated
from ..frontend.fence import ARRAY_ATTRIBUTES, is_filled_loop, is_summed_loop
from ..frontend.jvpcalls import JvpCall
from ..frontend.parse import parse
from ..frontend.resolve import ClassTest
from ..pytree import LEAF, Record, TreeDef
from ..frontend import procedures
from .desugar import lower_exits, may_exit
from .inline import bound_arguments, defaults, inlined_comment
from .queries import assigned


@dataclass
class Normalized:
    tree: gast.FunctionDef  # normalized body, parameters as the user named them
    params: list  # the user's positional parameters, in order
    defaults: dict  # parameter -> default value
    captured: list  # frontend.resolve.Captured, hidden parameters after `params`
    outputs: list  # output names; more than one when the function returns a tuple display
    origins: dict = field(default_factory=dict)  # id(statement) -> errors.Location
    carried: dict = field(default_factory=dict)  # id(for statement) -> its loop-carried (phi) names
    # pytree.TreeDef of what the function returns, when not one value or a flat tuple
    output_tree: object = None
    assumptions: list = field(
        default_factory=list
    )  # frontend.resolve.Assumption, of every function inlined too
    augmented: dict = field(
        default_factory=dict
    )  # name defined by `var += v` -> (the name it updated, var)
    variables: dict = field(
        default_factory=dict
    )  # SSA name -> the user's variable it is a version of
    # id(statement) -> the calls that inlined it ("step() called at f.py:12"), for errors
    call_sites: dict = field(default_factory=dict)


def normalize(resolved, namer, load, generated=False, nones=frozenset(), classes=None, ranks=None):
    """Normalize `resolved`; `load(pyfunc)` resolves and fences a function to inline.

    `generated`: the function is s2sjax's own output, whose backward sweep reads values its
    forward sweep defined under the same condition: a name defined in one branch stays usable.
    `nones`: the positions of the parameters given None, a constant (`if y is None`), or a
    mapping of positions to their constant values (None, and a bool switch's True or False).
    `classes`: the Python class of each argument, for `isinstance(x, float)` (None: not known).
    `ranks`: the ranks of the parameters given numbers or arrays, by position, for the rules that
    expand by their arguments' ranks (`Rule.ranked`).
    """
    fdef = resolved.function.tree
    params = [a.id for a in fdef.args.args + fdef.args.kwonlyargs]
    namer.reserve(resolved.local_names)
    # a parameter's own name always denotes it: normalize renames each assignment to it
    ranks = {params[i]: rank for i, rank in (ranks or {}).items() if i < len(params)}
    state = _Function(namer, load, {}, [resolved.function.pyfunc], generated=generated, ranks=ranks)
    state.classes = dict(zip(params, classes or ()))
    constants = nones if isinstance(nones, dict) else dict.fromkeys(nones)
    env = {
        p: gast.Constant(constants[i], None) if i in constants else _name(p)
        for i, p in enumerate(params)
    }
    normalizer = _Normalizer(state, resolved, env, resolved.local_names)
    body, outputs = normalizer.function_body(fdef)
    ret = gast.Return(_tuple_or_atom(outputs, normalizer.returns_tuple))
    new = gast.FunctionDef(
        name=fdef.name,
        args=fdef.args,
        body=body + [ret],
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )
    gast.copy_location(new, fdef)
    return Normalized(
        new,
        params,
        defaults(resolved.function.pyfunc),
        state.captured + resolved.captured,
        outputs,
        state.origins,
        state.carried,
        normalizer.output_tree,
        state.assumptions + resolved.assumptions,
        state.augmented,
        state.variables,
        state.call_sites,
    )


@dataclass
class _Function:
    """State shared by the normalizers of a function and everything inlined into it."""

    namer: object
    load: object
    origins: dict
    stack: list  # functions being inlined, to catch recursion
    captured: list = field(default_factory=list)
    carried: dict = field(default_factory=dict)
    generated: bool = False  # see normalize()
    assumptions: list = field(default_factory=list)
    ranks: dict = field(default_factory=dict)  # a parameter's name -> its rank (see normalize())
    augmented: dict = field(default_factory=dict)  # see Normalized
    variables: dict = field(default_factory=dict)  # see Normalized
    functions: dict = field(default_factory=dict)  # the functions to inline, of every resolve
    maybe_none: set = field(default_factory=set)  # names None on some path, a value on others
    call_sites: dict = field(default_factory=dict)  # see Normalized
    classes: dict = field(default_factory=dict)  # parameter -> the class of its argument


class _Normalizer:
    def __init__(self, state, resolved, env, own_names=()):
        self.state = state
        self.resolved = resolved
        self.location = resolved.function.location
        self.env = env  # user variable -> its current atom
        self.own_names = set(own_names)  # names reserved for this function's first definitions
        self.defined = set(env)
        self.static = {}  # name -> _Static: a container whose elements are known
        self.out = []
        self.outputs = None
        self.returns_tuple = False  # `return (x,)` is a tuple of one, not x
        self.output_tree = None  # when the function returns a structure (see return_leaves)
        self.returned = {}  # output -> whether each return gives it None (a constant to callers)
        self.updated_in_place = set()  # user variables `+=` (or a procedure) may have updated
        self.call_site = None  # the calls that inlined this function, for errors (Normalized)
        self.generated = state.generated  # s2sjax's own code: see normalize()
        state.functions.update(resolved.functions)  # a function passed on is called in a callee

    # ---- blocks and statements ------------------------------------------

    def function_body(self, fdef):
        self.block(fdef.body)
        return self.out, self.outputs

    def block(self, stmts):
        for stmt in stmts:
            self.current = stmt
            getattr(self, f"stmt_{type(stmt).__name__}")(stmt)

    def emit(self, stmt, src):
        gast.copy_location(stmt, src if getattr(src, "lineno", None) else self.current)
        self.state.origins[id(stmt)] = self.location
        if self.call_site:
            self.state.call_sites[id(stmt)] = self.call_site
        self.out.append(stmt)

    def assign(self, target, value, src):
        if _is_none(value):  # a join of None and a value (at an `if`, a loop, a return)
            self.state.maybe_none.add(target)
        self.emit(gast.Assign([_name(target, store=True)], value), src)

    def stmt_Pass(self, node):
        pass

    def stmt_Expr(self, node):
        """A call as a statement (the fence lets no other expression through but a string):
        `print(...)` is kept with its arguments evaluated; a procedure is inlined for its
        updates, `x.fill(v)` is `x[:] = v`, and the discarded value of a NumPy function has no
        effect."""
        call = node.value
        if not isinstance(call, gast.Call):
            return
        if rules.dotted_name(call.func) == "print":
            args = [a if _is_key(a) else self.atom(a) for a in call.args]
            self.emit(gast.Expr(gast.Call(call.func, args, [])), node)
            return
        store = procedures.as_store(call)
        if store is not None:
            self.store(store.targets[0], self.atom(store.value), node)
        elif rules.dotted_name(call.func) in self.state.functions or self.calls_argument(call):
            self.expr(call)

    def stmt_Raise(self, node):
        self.emit(copy.deepcopy(node), node)

    def stmt_Assert(self, node):
        test = self.atom(node.test)
        self.emit(gast.Assert(test, node.msg), node)

    def stmt_Assign(self, node):
        if len(node.targets) == 1 and isinstance(node.targets[0], gast.Subscript):
            self.store(node.targets[0], self.atom(node.value), node)
            return
        if len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
            name = self.new_version(node.targets[0].id)
            self.bind(node.targets[0].id, self.expr(node.value, name), node, name)
            return
        value = self.expr(node.value)
        for target in node.targets:
            self.unpack(target, value, node)

    def store(self, target, value, src):
        """`a[index] = value`: an in-place update of the array `a` currently names."""
        array = self.expr_Name(target.value, None)
        if isinstance(array, gast.Name) and array.id in self.static:
            kind = self.static[array.id].kind
            raise self.location.error(
                src,
                f"updating an element of a {kind} is not supported",
                f"build a new {kind} instead",
            )
        index = self.index(target.slice)
        self.emit(gast.Assign([gast.Subscript(array, index, gast.Store())], value), src)

    def stmt_AugAssign(self, node):
        if isinstance(node.target, gast.Subscript):  # a[i] += v  ->  t = a[i] + v; a[i] = t
            load = gast.copy_location(
                gast.Subscript(node.target.value, node.target.slice, gast.Load()), node
            )
            value = self.atom(gast.copy_location(gast.BinOp(load, node.op, node.value), node))
            self.store(node.target, value, node)
            return
        var = node.target.id
        updated = self.env.get(var)
        binop = gast.copy_location(gast.BinOp(_name(var), node.op, node.value), node)
        name = self.new_version(var)
        self.bind(var, self.expr(binop, name), node, name)
        if isinstance(updated, gast.Name):  # on an array, Python updates it in place: see mutation
            self.state.augmented[name] = (updated.id, var)
            self.updated_in_place.add(var)

    def stmt_If(self, node):
        test = self.atom(node.test)
        # decided now (a helper's flag argument): only that branch is code
        if isinstance(test, gast.Constant):
            self.block(node.body if test.value else node.orelse)
            return
        before = dict(self.env)
        then_env, then_out, then_defined = self.branch(node.body, before)
        else_env, else_out, else_defined = self.branch(node.orelse, before)
        self.defined = then_defined | else_defined
        self.env = self.join(then_env, then_out, else_env, else_out, node)
        self.emit(gast.If(test, then_out or [gast.Pass()], else_out), node)

    def stmt_For(self, node):
        """`for` over range, an array, zip or enumerate -> `for k in range(...)` with phis."""
        items = self.static_items(node.iter)
        if items is not None:
            return self.unrolled_for(node, items)
        if may_exit(node.body):
            return self.for_with_exits(node)
        bounds, elements = self.iteration(node)
        loop_range = (
            rules.dotted_name(node.iter.func) if elements is None else "range"
        )  # range or rt.prange
        phis = {}
        for var in sorted(self.may_assign(node.body) & self.env.keys()):
            phi = self.phi(var)
            self.assign(phi, self.env[var], node)  # the value on entry
            self.env[var] = phis[var] = _name(phi)
        if elements is None:
            index = self.new_version(node.target.id)
        else:
            index = self.state.namer.fresh("k")
        saved = self.out, self.env, self.defined
        self.out, self.env, self.defined = [], dict(self.env), set(self.defined)
        if elements is None:
            self.env[node.target.id] = _name(index)
        else:
            self.unpack(node.target, elements(_name(index)), node)
        self.block(node.body)
        for var, phi in phis.items():  # the values for the next iteration
            if not _same_atom(self.env[var], phi):
                self.assign(phi.id, self.env[var], node)
        body, body_defined = self.out, self.defined
        self.out, self.env, self.defined = saved
        self.defined |= body_defined
        loop = gast.For(
            _name(index, store=True),
            gast.Call(rules.dotted(loop_range), bounds, []),
            body,
            [],
            None,
        )
        self.emit(loop, node)
        self.state.carried[id(loop)] = [phi.id for phi in phis.values()]

    def unrolled_for(self, node, items):
        """A loop over a container: the body once per element, each with the target bound to it."""
        if may_exit(node.body):
            raise self.location.error(
                node,
                "'break', 'continue' or 'return' in a loop over a container is not supported",
                "a loop over a container is unrolled when the function is "
                "transformed; loop over an array or a range instead",
            )
        for item in items:
            self.unpack(node.target, item, node)
            self.block(copy.deepcopy(node.body))

    def static_items(self, it):
        """The elements' atoms of an iterable whose elements are known (a container), or None."""
        func = rules.dotted_name(it.func) if isinstance(it, gast.Call) else None
        if func in ("zip", "enumerate"):
            sources = [self.known(a) for a in it.args]
            if not sources or None in sources:
                return None
            columns = [self.elements(s) for s in sources]
            if func == "enumerate":
                columns = [[gast.Constant(k, None) for k in range(len(columns[0]))]] + columns
            return [
                self.define(gast.Tuple(list(row), gast.Load()), it, static=True)
                for row in zip(*columns)
            ]
        if (
            isinstance(it, gast.Call)
            and isinstance(it.func, gast.Attribute)
            and it.func.attr in _DICT_VIEWS
        ):
            container = self.known(it.func.value)
            if container is None or container.kind != "dict" or it.args:
                raise self.location.error(
                    it,
                    f"'.{it.func.attr}()' of something that is not a dict known when "
                    "the function is transformed",
                )
            keys = [gast.Constant(k, None) for k in container.keys]
            if it.func.attr == "keys":
                return keys
            if it.func.attr == "values":
                return list(container.elts)
            return [
                self.define(gast.Tuple([k, v], gast.Load()), it, static=True)
                for k, v in zip(keys, container.elts)
            ]
        container = self.known(it)
        return None if container is None else self.elements(container)

    def known(self, node):
        """The _Static that a display, a name or a subscript (`params[1:]`) gives, or None."""
        if isinstance(node, (gast.Subscript, gast.List, gast.Tuple)) or _expands(node):
            atom = self.atom(node)  # evaluated again if not a container: the copy is dead code
        elif isinstance(node, gast.Name) and node.id in self.env:
            atom = self.env[node.id]
        else:
            return None
        container = self.static.get(atom.id) if isinstance(atom, gast.Name) else None
        if container is not None and container.kind in _OPAQUE:
            raise self.not_a_sequence(container, node)
        return container

    def not_a_sequence(self, container, node):
        if container.kind == "slice":
            return self.location.error(node, "a slice is not a sequence", "index with it: x[s]")
        return self.location.error(
            node,
            f"the {container.record.spelled} object here is not a sequence",
            "read its fields as attributes (p.w)",
        )

    def elements(self, container):
        """What iterating over `container` gives, as Python does: a dict's keys."""
        if container.kind == "dict":
            return [gast.Constant(k, None) for k in container.keys]
        return list(container.elts)

    def stmt_While(self, node):
        self.while_loop(node, node.test, node.body)

    def for_with_exits(self, node):
        """A `for` that may `break` -> a `while` over a counter `.k` stepping through the range."""
        bounds, elements = self.iteration(node)
        start, stop = bounds[0], bounds[1]
        step = bounds[2] if len(bounds) == 3 else gast.Constant(1, None)
        if not (
            isinstance(step, gast.Constant) and isinstance(step.value, int) and step.value != 0
        ):
            raise self.location.error(
                node, "'break' in a loop over a range with a step that is not a number"
            )
        enclosing = self.env.pop(".k", None)  # an enclosing loop's counter, back after this one
        self.env[".k"] = start
        counter = gast.Name(".k", gast.Load(), None, None)
        test = gast.Compare(
            counter, [gast.Lt() if step.value > 0 else gast.Gt()], [_Evaluated(stop)]
        )

        def prologue():
            if elements is None:
                self.bind(node.target.id, copy.deepcopy(self.env[".k"]), node)
            else:
                self.unpack(node.target, elements(copy.deepcopy(self.env[".k"])), node)

        def epilogue():
            self.env[".k"] = self.expr(
                gast.copy_location(gast.BinOp(copy.deepcopy(counter), gast.Add(), step), node)
            )

        self.while_loop(node, gast.copy_location(test, node), node.body, prologue, epilogue)
        del self.env[".k"]
        if enclosing is not None:
            self.env[".k"] = enclosing

    def while_loop(self, node, test, body, prologue=None, epilogue=None):
        """`while test: body` with phis; the test is evaluated again at the end of the body.

        `break` sets the flag `.broke` and `continue` skips the rest of the body (see
        desugar.lower_exits); the loop goes on while `not .broke and test`.
        """
        # An enclosing loop's flags are its own: set aside here, back after this loop.
        enclosing = {var: self.env.pop(var) for var in (".go", ".broke") if var in self.env}
        exits = may_exit(body)
        if exits:
            self.env[".broke"] = gast.Constant(False, None)
            test = gast.copy_location(
                gast.BoolOp(
                    gast.And(),
                    [gast.UnaryOp(gast.Not(), gast.Name(".broke", gast.Load(), None, None)), test],
                ),
                node,
            )
        self.env[".go"] = self.atom(test)
        private = {".go", ".broke", ".k"} & self.env.keys()
        phis = {}
        for var in sorted((self.may_assign(body) & self.env.keys()) | private):
            phi = self.phi(var)
            self.assign(phi, self.env[var], node)  # the value on entry
            self.env[var] = phis[var] = _name(phi)
        saved = self.out, self.env, self.defined
        self.out, self.env, self.defined = [], dict(self.env), set(self.defined)
        if prologue:
            prologue()
        self.block(lower_exits(copy.deepcopy(body)) if exits else body)
        if epilogue:
            epilogue()
        self.env[".go"] = self.atom(test)
        for var, phi in phis.items():  # the values for the next iteration
            if not _same_atom(self.env[var], phi):
                self.assign(phi.id, self.env[var], node)
        loop_body, body_defined = self.out, self.defined
        self.out, self.env, self.defined = saved
        self.defined |= body_defined
        loop = gast.While(copy.deepcopy(phis[".go"]), loop_body, [])
        self.emit(loop, node)
        self.state.carried[id(loop)] = [phi.id for phi in phis.values()]
        for var in private - {".k"}:  # the counter is the caller's to drop
            del self.env[var]
        self.env.update(enclosing)

    def may_assign(self, body):
        """The variables `body` assigns, and those it passes to a function it calls that may
        give them back updated (a procedure updating an array with `+=` gives the caller's
        variable the new value)."""
        passed = {
            n.id
            for call in gast.walk(gast.Module(list(body), []))
            if isinstance(call, gast.Call) and self.may_update_arguments(call)
            for n in call.args + [k.value for k in call.keywords]
            if isinstance(n, gast.Name)
        }
        return assigned(body) | passed

    def may_update_arguments(self, call):
        """Whether `call`'s callee may rebind what it is given: it updates a name with `+=` or
        calls a procedure (an argument's function: it may)."""
        if self.calls_argument(call):
            return True
        callee = self.state.functions.get(rules.dotted_name(call.func))
        if callee is None or isinstance(callee, JvpCall):
            return False
        return any(
            (isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name))
            or (isinstance(n, gast.Expr) and isinstance(n.value, gast.Call))
            for n in gast.walk(parse(callee).tree)
        )

    def stmt_SetFlag(self, node):
        self.env[node.flag] = gast.Constant(True, None)

    def iteration(self, node):
        """(range bounds, element binder or None) for a `for` statement's iterable."""
        it = node.iter
        func = rules.dotted_name(it.func) if isinstance(it, gast.Call) else None
        if func in ("range", "rt.prange"):
            args = [self.atom(a) for a in it.args]
            if len(args) == 1:
                args = [gast.Constant(0, None)] + args
            return args, None
        zipped = func == "zip" or (
            func == "enumerate" and rules.dotted_name(getattr(it.args[0], "func", None)) == "zip"
        )
        sources = (
            it.args[0].args
            if func == "enumerate" and zipped
            else it.args
            if func in ("zip", "enumerate")
            else [it]
        )
        sequences = [self.atom(a) for a in sources]
        stop = self.define(gast.Call(_name("len"), [sequences[0]], []), node)
        for sequence in sequences[1:]:  # zip stops at the shortest
            length = self.define(gast.Call(_name("len"), [sequence], []), node)
            stop = self.define(gast.Call(_name("min"), [stop, length], []), node)
        bounds = [gast.Constant(0, None), stop]

        def elements(k):
            items = [
                self.define(gast.Subscript(copy.deepcopy(s), copy.deepcopy(k), gast.Load()), node)
                for s in sequences
            ]
            item = (
                self.define(gast.Tuple(items, gast.Load()), node, static=True)
                if zipped
                else items[0]
            )
            if func == "enumerate":
                return self.define(
                    gast.Tuple([copy.deepcopy(k), item], gast.Load()), node, static=True
                )
            return item

        return bounds, elements

    def stmt_Return(self, node):
        value = node.value if node.value is not None else gast.Constant(None, None)
        if self.may_be_static_tuple(value):  # such a tuple is returned as a tuple display
            atom = self.atom(value)
            value = _Evaluated(atom)
            if (
                isinstance(atom, gast.Name)
                and atom.id in self.static
                and self.static[atom.id].kind == "tuple"
                and self.static[atom.id].record is None  # a namedtuple is returned as one
            ):
                value = gast.Tuple([_Evaluated(e) for e in self.static[atom.id].elts], gast.Load())
        parts = value.elts if isinstance(value, gast.Tuple) else [value]
        self.returns_tuple = isinstance(value, gast.Tuple)
        # parts that may hold a list or a dict are evaluated first, to see
        atoms = [
            self.atom(p)
            if isinstance(p, (gast.Name, gast.Call, gast.Tuple, gast.List, gast.Dict, _Evaluated))
            else None
            for p in parts
        ]
        # a tuple of one, or one holding a container, is a structure for the caller to rebuild
        structured = (self.returns_tuple and len(parts) == 1) or any(
            isinstance(a, gast.Name) and a.id in self.static for a in atoms if a is not None
        )
        if len(self.state.stack) == 1 and structured:
            return self.return_leaves(
                node, [self.atom(p) if a is None else a for p, a in zip(parts, atoms)]
            )
        if self.outputs is None:
            self.outputs = [self.state.namer.fresh("out") for _ in parts]
        elif len(self.outputs) != len(parts) or self.output_tree is not None:
            raise self.location.error(node, "every return must give the same number of values")
        for name, part, atom in zip(self.outputs, parts, atoms):
            atom = self.expr(part, name) if atom is None else atom
            self.returned.setdefault(name, []).append(_is_none(atom))
            if not (isinstance(atom, gast.Name) and atom.id == name):
                self.assign(name, atom, node)
                if isinstance(atom, gast.Name) and atom.id in self.static:
                    self.static[name] = self.static[
                        atom.id
                    ]  # an inlined helper's container stays known

    def return_leaves(self, node, atoms):
        """The transformed function returns a structure (a list, a dict, nested tuples, a tuple of
        one): its outputs are the leaves, and `output_tree` says how the caller puts them back
        together (see pytree)."""
        leaves = []
        trees = [self.tree_of(a, leaves) for a in atoms]
        tree = TreeDef("tuple", tuple(trees)) if self.returns_tuple else trees[0]
        if self.outputs is None:
            self.outputs = [self.state.namer.fresh("out") for _ in leaves]
            self.output_tree = tree
        elif tree != self.output_tree:
            raise self.location.error(node, "every return must give the same structure")
        for name, leaf in zip(self.outputs, leaves):
            self.assign(name, leaf, node)
        self.returns_tuple = True

    def tree_of(self, atom, leaves):
        container = self.static.get(atom.id) if isinstance(atom, gast.Name) else None
        if container is None:
            leaves.append(atom)
            return LEAF
        children = tuple(self.tree_of(e, leaves) for e in container.elts)
        if container.record is not None:  # an object is returned as an object of its class
            return TreeDef("node", children, container.record.attributes, container.record.node)
        return TreeDef(container.kind, children, container.keys)

    def may_be_static_tuple(self, value):
        """Whether `value` is a variable or a call of a function to inline.

        Those may give a tuple.
        """
        return isinstance(value, gast.Name) or (
            isinstance(value, gast.Call)
            and (
                rules.dotted_name(value.func) in self.state.functions or self.calls_argument(value)
            )
        )

    def calls_argument(self, call):
        return isinstance(call.func, gast.Name) and call.func.id in self.env

    # ---- branches --------------------------------------------------------

    def branch(self, stmts, env):
        saved = self.out, self.env, self.defined, self.static
        self.out, self.env, self.defined, self.static = (
            [],
            dict(env),
            set(self.defined),
            dict(self.static),
        )
        self.block(stmts)
        result = self.env, self.out, self.defined
        # a tuple known on one path only is not known
        self.out, self.env, self.defined, self.static = saved
        return result

    def join(self, then_env, then_out, else_env, else_out, node):
        """Merge the variables of two branches, copying into a new name where they differ."""
        merged = {}
        for var in [
            v for v in then_env if v in else_env
        ]:  # in order: the code must not depend on hashing
            a, b = then_env[var], else_env[var]
            if _same_atom(a, b):
                merged[var] = a
                continue
            phi = self.phi(var)
            for out, atom in ((then_out, a), (else_out, b)):
                stmt = gast.Assign([_name(phi, store=True)], copy.deepcopy(atom))
                gast.copy_location(stmt, node)
                self.state.origins[id(stmt)] = self.location
                out.append(stmt)
            merged[var] = _name(phi)
        if self.generated:
            for env in (then_env, else_env):
                merged.update({var: atom for var, atom in env.items() if var not in merged})
        return merged

    # ---- targets ---------------------------------------------------------

    def new_version(self, var):
        """The name of a new definition of user variable `var`: `var` itself the first time."""
        if var in self.own_names and var not in self.defined:
            name = var
        else:
            name = self.state.namer.version(var.lstrip("."))  # `.ret`: a name of s2sjax's own
            self.state.variables[name] = var
        self.defined.add(var)
        return name

    def phi(self, var):
        """A new name joining the versions of user variable `var` (at a loop or an `if`)."""
        name = self.state.namer.version(var.lstrip("."))
        self.state.variables[name] = var
        return name

    def bind(self, var, atom, src, name=None):
        """Define user variable `var` as `atom`, under the name `name` (a new version if None)."""
        if _is_key(atom) or _is_none(atom):  # known now: `for k in d: d[k]`, `if y is None`
            self.env[var] = copy.deepcopy(atom)
            return
        name = name or self.new_version(var)
        if not (isinstance(atom, gast.Name) and atom.id == name):
            self.assign(name, atom, src)
        if isinstance(atom, gast.Name) and atom.id in self.static:
            self.static[name] = self.static[atom.id]
        self.env[var] = _name(name)

    def unpack(self, target, atom, src):
        if isinstance(target, gast.Name):
            self.bind(target.id, atom, src)
            return
        elts = self.static_elements(atom, len(target.elts), src)
        for sub, elt in zip(target.elts, elts):
            self.unpack(sub, elt, src)

    def static_elements(self, atom, count, src):
        if isinstance(atom, gast.Name) and atom.id in self.static:
            container = self.static[atom.id]
            if container.kind in _OPAQUE:
                raise self.not_a_sequence(container, src)
            if container.kind == "dict":
                raise self.location.error(
                    src, "unpacking a dict is not supported", "index it by its keys"
                )
            elts = container.elts
            if len(elts) != count:
                raise self.location.error(
                    src, f"cannot unpack {len(elts)} values into {count} names"
                )
            return elts
        return [
            self.define(
                gast.Subscript(copy.deepcopy(atom), gast.Constant(i, None), gast.Load()), src
            )
            for i in range(count)
        ]

    # ---- expressions -----------------------------------------------------

    def atom(self, node):
        return self.expr(node)

    def define(self, value, src, target=None, static=False):
        """Assign `value` to `target` (a new temporary if None).

        `static`: a tuple known element-wise.
        """
        name = target or self.state.namer.temp()
        if static:  # known element by element; also built, in case it is used whole
            self.static[name] = _Static("tuple", value.elts)
        self.assign(name, value, src)
        return _name(name)

    def expr(self, node, target=None):
        """Normalize `node`; its value ends in `target` (a fresh temp if None) unless an atom."""
        handler = getattr(self, f"expr_{type(node).__name__}")
        return handler(node, target)

    def expr_Constant(self, node, target):
        return gast.Constant(node.value, None)

    def expr_Name(self, node, target):
        if node.id in self.env:
            return copy.deepcopy(self.env[node.id])
        if node.id in self.resolved.local_names:
            raise self.location.error(
                node, f"variable {node.id!r} may be used before it is assigned"
            )
        return gast.Name(node.id, gast.Load(), None, None)  # a captured value's hidden parameter

    def expr_Tuple(self, node, target):
        elts = [self.atom(e) for e in node.elts]
        result = self.define(gast.Tuple(elts, gast.Load()), node, target)
        self.static[result.id] = _Static("tuple", elts)
        return result

    def expr_List(self, node, target):
        result = self.expr_Tuple(
            node, target
        )  # a tuple to Numba, a list to the code that indexes it
        self.static[result.id] = _Static("list", self.static[result.id].elts)
        return result

    def expr_Dict(self, node, target):
        keys = tuple(k.value for k in node.keys)
        elts = [self.atom(v) for v in node.values]
        result = self.define(gast.Tuple(elts, gast.Load()), node, target)
        self.static[result.id] = _Static("dict", elts, keys)
        return result

    def expr_BinOp(self, node, target):
        left, right = self.atom(node.left), self.atom(node.right)
        if self.display(left) is not None or self.display(right) is not None:
            return self.container_operation(node, left, right, target)
        folded = _folded(node.op, left, right)
        return folded or self.define(gast.BinOp(left, node.op, right), node, target)

    def container_operation(self, node, left, right, target):
        """An operator with a list or tuple operand, as Python and NumPy read it: `[a] + [b]` and
        `(a,) * 2` build containers, `m @ [a, b]` multiplies by the array of the elements."""
        if isinstance(node.op, gast.MatMult):
            left, right = (
                self.as_array(_MATRIX_OPERAND, "a", atom, node) for atom in (left, right)
            )
            return self.define(gast.BinOp(left, node.op, right), node, target)
        both = [self.static.get(a.id) if isinstance(a, gast.Name) else None for a in (left, right)]
        if any(c is not None and c.kind in _OPAQUE for c in both):
            raise self.not_a_sequence(next(c for c in both if c and c.kind in _OPAQUE), node)
        if isinstance(node.op, gast.Add) and all(both) and both[0].kind == both[1].kind != "dict":
            return self.define_container(both[0].kind, both[0].elts + both[1].elts, node, target)
        if isinstance(node.op, gast.Mult) and (_is_int(left) or _is_int(right)) and any(both):
            container, count = (both[0], right.value) if both[0] else (both[1], left.value)
            if container.kind != "dict":
                return self.define_container(
                    container.kind, container.elts * max(count, 0), node, target
                )
        raise self.location.error(
            node,
            "arithmetic on a list or a tuple is not supported",
            "write np.array([...]) to compute with its elements",
        )

    def define_container(self, kind, elts, node, target):
        result = self.define(
            gast.Tuple([copy.deepcopy(e) for e in elts], gast.Load()), node, target
        )
        self.static[result.id] = _Static(kind, list(elts))
        return result

    def expr_UnaryOp(self, node, target):
        if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.Constant):
            return gast.Constant(-node.operand.value, None)
        if isinstance(node.op, gast.UAdd):
            return self.expr(node.operand, target)
        operand = self.atom(node.operand)
        return _folded(node.op, operand) or self.define(
            gast.UnaryOp(node.op, operand), node, target
        )

    def expr_Compare(self, node, target):
        if isinstance(node.ops[0], (gast.Is, gast.IsNot)):  # x is None (the fence allows no other)
            left, right = self.atom(node.left), self.atom(node.comparators[0])
            for atom in (left, right):
                if isinstance(atom, gast.Name) and atom.id in self.state.maybe_none:
                    var = self.state.variables.get(atom.id)
                    raise self.location.error(
                        node,
                        f"{repr(var) if var else 'the value'} is None on one path and a value on "
                        "another: 'is None' cannot be decided when the code is generated",
                        "give the variable one kind of value on every path",
                    )
            # None is a constant (written, a default, an argument given None); values are not
            same = _is_none(left) == _is_none(right)
            return gast.Constant(same == isinstance(node.ops[0], gast.Is), None)
        if len(node.ops) == 1:
            left, right = self.atom(node.left), self.atom(node.comparators[0])
            folded = _folded(node.ops[0], left, right)
            return folded or self.define(gast.Compare(left, node.ops, [right]), node, target)
        # a < b < c  ->  (a < b) and (b < c), evaluating b once
        middle = self.atom(node.comparators[0])
        first = gast.copy_location(
            gast.Compare(node.left, node.ops[:1], [_Evaluated(middle)]), node
        )
        rest = gast.copy_location(
            gast.Compare(_Evaluated(middle), node.ops[1:], node.comparators[1:]), node
        )
        both = gast.BoolOp(gast.And(), [first, rest])
        return self.expr(gast.copy_location(both, node), target)

    def expr_BoolOp(self, node, target):
        result = target or self.state.namer.temp()
        first = self.atom(node.values[0])
        rest = node.values[1:]
        remaining = (
            rest[0] if len(rest) == 1 else gast.copy_location(gast.BoolOp(node.op, rest), node)
        )
        if isinstance(node.op, gast.And):  # a and b  ->  b if a else a
            chosen = gast.IfExp(_Evaluated(first), remaining, _Evaluated(first))
        else:  # a or b  ->  a if a else b
            chosen = gast.IfExp(_Evaluated(first), _Evaluated(first), remaining)
        return self.expr(gast.copy_location(chosen, node), result)

    def expr_IfExp(self, node, target):
        test = self.atom(node.test)
        if isinstance(test, gast.Constant):
            return self.expr(node.body if test.value else node.orelse, target)
        result = target or self.state.namer.temp()
        outs = []
        for value in (node.body, node.orelse):
            saved = self.out, self.static
            self.out, self.static = [], dict(self.static)
            atom = self.expr(value, result)
            if not (isinstance(atom, gast.Name) and atom.id == result):
                self.assign(result, atom, node)
            outs.append(self.out)
            self.out, self.static = saved
        self.emit(gast.If(test, outs[0], outs[1]), node)
        return _name(result)

    def expr_Slice(self, node, target):
        """`slice(a, b)` (rules/objects.py): its parts, known for indexing as `x[a:b]`."""
        parts = [gast.Constant(None, None) if p is None else self.atom(p) for p in _parts(node)]
        result = self.define(gast.Tuple(parts, gast.Load()), node, target)
        self.static[result.id] = _Static("slice", parts)
        return result

    def expr__Evaluated(self, node, target):
        return copy.deepcopy(node.atom)

    def expr_Attribute(self, node, target):
        if rules.dotted_name(node) and rules.by_name(rules.dotted_name(node)):
            return node  # a dtype such as np.float64, used as a value
        value = self.atom(node.value)
        container = self.static.get(value.id) if isinstance(value, gast.Name) else None
        if container is not None and container.record is not None:
            return self.field(container, node)
        if node.attr == "T":
            return self.define(gast.Call(rules.dotted("np.transpose"), [value], []), node, target)
        if node.attr not in ARRAY_ATTRIBUTES:  # the fence lets any attribute of a variable by
            raise self.location.error(
                node,
                f"the attribute {node.attr!r} is not supported by s2sjax",
                f"supported array attributes: {', '.join(sorted(ARRAY_ATTRIBUTES))}; fields of "
                "namedtuples, dataclasses and registered classes given as arguments",
            )
        return self.define(gast.Attribute(value, node.attr, gast.Load()), node, target)

    def field(self, container, node):
        """`p.w` of an object argument: the element its attribute holds."""
        if node.attr not in container.record.attributes:
            raise self.location.error(
                node,
                f"{node.attr!r} is not a field of the {container.record.spelled} given here",
                "read the fields its flatten gives (static configuration belongs in a closure "
                "or a method's self)",
            )
        return copy.deepcopy(container.elts[container.record.attributes.index(node.attr)])

    def summed_loop(self, call, target):
        """`sum(e for i in range(n) if c, start)` over a range known at run time: the loop
        `acc = start; for i in range(n): if c: acc = acc + e` (a float accumulator if e is one)."""
        comp = call.args[0].generators[0]
        acc, index = self.state.namer.fresh(".sum"), self.state.namer.fresh(".i")
        rename = _Renamed(comp.target.id, index)
        step = gast.Assign(
            [_name(acc, store=True)],
            gast.BinOp(_name(acc), gast.Add(), rename.visit(copy.deepcopy(call.args[0].elt))),
        )
        for condition in reversed(comp.ifs):
            step = gast.If(rename.visit(copy.deepcopy(condition)), [step], [])
        start = call.args[1] if len(call.args) > 1 else gast.Constant(0, None)
        loop = gast.For(_name(index, store=True), comp.iter, [step], [], None)
        stmts = [gast.Assign([_name(acc, store=True)], start), loop]
        for stmt in stmts:
            for part in gast.walk(stmt):
                gast.copy_location(part, call)
        self.block(stmts)
        return self.expr(_name(acc), target)

    def filled_loop(self, call, target):
        """`np.array([e for v in seq])` (np.asarray, np.stack) over a run-time range or an array's
        rows: a new array of one slot per element, shaped like the element at the first position
        (computed once more for its shape), filled by a loop:
        `out = rt.tape(e(first), n); for k in range(n): v = seq at k; out[k] = e(v)`."""
        comp = call.args[0]
        loop = comp.generators[0]
        container = self.known(loop.iter)
        if container is not None and isinstance(loop.target, gast.Name):
            # a list or tuple known element by element: its display
            elts = [
                _Substituted(loop.target.id, e).visit(copy.deepcopy(comp.elt))
                for e in self.elements(container)
            ]
            display = gast.List(elts, gast.Load())
            return self.expr(gast.copy_location(gast.Call(call.func, [display], []), call), target)
        kind = rules.callee(call).name
        self.emit(comment(f"{kind} of a list comprehension: a new array filled by a loop"), call)
        count, position = self.positions(loop.iter)
        out = self.state.namer.fresh(".filled")
        stmts = self.filling(out, count, position, loop.target, comp.elt)
        for stmt in stmts:
            for part in gast.walk(stmt):
                gast.copy_location(part, call)
        self.block(stmts)
        return self.expr(_name(out), target)

    def filling(self, out, count, position, target, element):
        """The statements making `out` and filling it: `element` at each position of `count`,
        `target` (a name or a tuple of names) bound to what the sequence holds there. The first
        element comes from variables, not constants, so that its type is the loop's element's
        (`0 if i == 0 else x[i]`: a float, both branches kept)."""
        k = self.state.namer.fresh(".k")
        first, shaped_like = self.bound(target, element, ".first")
        each, filled = self.bound(target, element, ".v")
        body = [
            gast.Assign([each], position(_name(k))),
            gast.Assign([gast.Subscript(_name(out), _name(k), gast.Store())], filled),
        ]
        return [
            gast.Assign([first], position(gast.Constant(0, None))),
            gast.Assign(
                [_name(out, store=True)],
                gast.Call(rules.dotted("rt.tape"), [shaped_like, count], []),
            ),
            gast.For(_name(k, store=True), gast.Call(_name("range"), [count], []), body, [], None),
        ]

    def bound(self, target, element, base):
        """The comprehension's target with fresh names, and its element reading them."""
        names = target.elts if isinstance(target, gast.Tuple) else [target]
        fresh = [self.state.namer.fresh(base) for _ in names]
        for old, new in zip(names, fresh):
            element = _Renamed(old.id, new).visit(copy.deepcopy(element))
        stored = [_name(n, store=True) for n in fresh]
        renamed = gast.Tuple(stored, gast.Store()) if isinstance(target, gast.Tuple) else stored[0]
        return renamed, element

    def positions(self, iterable):
        """The number of elements of a comprehension's `range` or array, and a function giving
        the expression of the element at a position."""
        if isinstance(iterable, gast.Call) and rules.dotted_name(iterable.func) == "range":
            bounds = [self.atom(a) for a in iterable.args]
            start, stop, step = (
                (gast.Constant(0, None), bounds[0], gast.Constant(1, None))
                if len(bounds) == 1
                else (
                    bounds[0],
                    bounds[1],
                    bounds[2] if len(bounds) > 2 else gast.Constant(1, None),
                )
            )
            count = self.atom(gast.Call(rules.dotted("rt.trip_count"), [start, stop, step], []))

            def at(k):
                if len(bounds) == 1:
                    return k
                scaled = gast.BinOp(k, gast.Mult(), copy.deepcopy(step))
                return gast.BinOp(copy.deepcopy(start), gast.Add(), scaled)

            return count, at
        called = rules.dotted_name(iterable.func) if isinstance(iterable, gast.Call) else None
        if called in ("zip", "enumerate"):
            return self.zipped_positions(called, [self.atom(a) for a in iterable.args])
        sequence = self.atom(iterable)
        count = self.atom(gast.Call(_name("len"), [sequence], []))
        return count, lambda k: gast.Subscript(copy.deepcopy(sequence), k, gast.Load())

    def zipped_positions(self, called, sequences):
        """`zip(a, b)` (stopping at the shortest) or `enumerate(a)`: the count, and the tuple
        at a position."""
        count = self.atom(gast.Call(_name("len"), [sequences[0]], []))
        for sequence in sequences[1:]:
            length = self.atom(gast.Call(_name("len"), [sequence], []))
            count = self.atom(gast.Call(_name("min"), [count, length], []))

        def at(k):
            items = [
                gast.Subscript(copy.deepcopy(s), copy.deepcopy(k), gast.Load()) for s in sequences
            ]
            return gast.Tuple([k, *items] if called == "enumerate" else items, gast.Load())

        return count, at

    def class_test(self, test, node):
        """`isinstance(x, C)`, `type(x) is C`: decided now, where the class of `x` is known (a
        constant, a container, an argument), else refused."""
        atom = self.atom(node.args[0])
        cls = self.class_of(atom)
        if cls is None:
            raise self.location.error(
                node,
                "the class of this value is known only at run time: "
                f"{test.spelled} is decided for arguments, constants and containers",
                "test an argument of the transformed function, or pass a bool switch",
            )
        holds = test.holds(cls)
        if holds is None:
            raise self.location.error(
                node,
                f"{test.spelled} of a float argument of a transformation called inside another: "
                "whether it holds depends on the float's width (np.float32 is not a float), "
                "which is not known when the code is generated",
                "test for (float, np.floating), or decide it outside and pass a bool switch",
            )
        return gast.Constant(holds, None)

    def class_of(self, atom):
        """The Python class of `atom`'s value where known when the code is generated, or None."""
        if isinstance(atom, gast.Constant):
            return type(atom.value)
        if not isinstance(atom, gast.Name):
            return None
        container = self.static.get(atom.id)
        if container is not None:
            if container.record is not None:
                return container.record.node[0].cls
            return {"tuple": tuple, "list": list, "dict": dict}[container.kind]
        return self.state.classes.get(atom.id)

    def record(self, record, node, target):
        """`P(a, b)`, `P(w=a, b=b)`: an object argument (containers.adapter), or a namedtuple or
        dataclass built in the code, known element by element."""
        given = dict(zip(record.attributes, node.args))
        given.update((k.arg, k.value) for k in node.keywords)
        if len(node.args) > len(record.attributes) or set(given) != set(record.attributes):
            raise self.location.error(
                node,
                f"{record.spelled}() takes its fields {', '.join(record.attributes)}, each given",
                "pass every field (defaults are not filled in)",
            )
        elts = [self.atom(given[k]) for k in record.attributes]
        result = self.define(gast.Tuple(elts, gast.Load()), node, target)
        kind = "tuple" if record.tuple_like else "node"
        self.static[result.id] = _Static(kind, elts, record=record)
        return result

    def expr_Subscript(self, node, target):
        value = self.atom(node.value)
        index = self.index(node.slice)
        if isinstance(value, gast.Name) and value.id in self.static:
            element = self.element(self.static[value.id], index, node)
            # else a run-time index into a tuple of like values, left to Numba
            if element is not None:
                return copy.deepcopy(element)
        return self.define(gast.Subscript(value, index, gast.Load()), node, target)

    def element(self, container, index, node):
        """`container[index]` for an index known now: the element's atom, or Python's own error."""
        if container.kind in _OPAQUE:
            raise self.not_a_sequence(container, node)
        if container.kind == "dict":
            if not isinstance(index, gast.Constant):
                raise self.location.error(
                    node,
                    "indexing a dict with a key known only at run time is not supported",
                    "index it with a constant key",
                )
            if index.value not in container.keys:
                raise self.location.note(KeyError(index.value), node)
            return container.elts[container.keys.index(index.value)]
        if isinstance(index, gast.Slice) and all(
            p is None or _is_int(p) for p in (index.lower, index.upper, index.step)
        ):
            parts = [None if p is None else p.value for p in (index.lower, index.upper, index.step)]
            elts = container.elts[slice(*parts)]
            result = self.define(gast.Tuple(list(elts), gast.Load()), node)
            self.static[result.id] = _Static(container.kind, list(elts))
            return result
        if not _is_int(index):
            return None
        if not -len(container.elts) <= index.value < len(container.elts):
            raise self.location.note(IndexError(f"{container.kind} index out of range"), node)
        return container.elts[index.value]

    def index(self, node):
        if isinstance(node, gast.Slice):
            parts = [
                None if p is None else self.atom(p) for p in (node.lower, node.upper, node.step)
            ]
            return gast.Slice(*parts)
        if isinstance(node, gast.Tuple):
            return gast.Tuple([self.index(e) for e in node.elts], gast.Load())
        atom = self.atom(node)
        container = self.static.get(atom.id) if isinstance(atom, gast.Name) else None
        if container is not None and container.kind == "list":
            # NumPy reads a list index as an array of indices (x[[0, 1]] is two rows), a tuple as
            # one index
            return self.define(gast.Call(rules.dotted("np.array"), [self.display(atom)], []), node)
        if container is not None and container.kind == "slice":  # s = slice(1, 3); x[s]
            return gast.Slice(*(None if _is_none(p) else copy.deepcopy(p) for p in container.elts))
        if container is not None and container.kind == "tuple":  # pos = (i, j); m[pos] is m[i, j]
            return gast.Tuple([copy.deepcopy(e) for e in container.elts], gast.Load())
        return atom

    def expr_Call(self, node, target):
        if isinstance(node.func, gast.Name) and node.func.id in self.env:
            node = self.call_of_argument(node)
        name = rules.dotted_name(node.func)
        # typed by inference, inlined in pass 2
        if isinstance(self.state.functions.get(name), JvpCall):
            atoms = [self.atom(a) for a in node.args]
            # a dict's keys are lost in its tuple of values: the call needs them for its leaves
            self.state.functions[name].trees = [self.tree_of(a, []) for a in atoms]
            return self.define(gast.Call(node.func, atoms, []), node, target)
        if isinstance(self.state.functions.get(name), ClassTest):
            return self.class_test(self.state.functions[name], node)
        if isinstance(self.state.functions.get(name), Record):
            return self.record(self.state.functions[name], node, target)
        if name in self.state.functions:
            return self.inline(self.state.functions[name], node, target)
        if name == "sum" and node.args and is_summed_loop(node.args[0]):
            return self.summed_loop(node, target)
        if is_filled_loop(node):
            return self.filled_loop(node, target)
        if name == "len" and len(node.args) == 1 and self.known(node.args[0]) is not None:
            return gast.Constant(len(self.known(node.args[0]).elts), None)
        rule = rules.by_name(name) if name else None
        if (
            rule is not None
            and rule.operator
            and len(node.args) == len(rule.params)
            and not node.keywords
        ):
            # np.multiply(a, b) is a * b (and Numba lacks np.matmul)
            return self.expr(
                gast.copy_location(rules.operation(rule.operator, node.args), node), target
            )
        if rule is not None and rule.parts:  # w, v = np.linalg.eigh(a): one call per element
            return self.expr(self.parts(rule, node), target)
        if name is not None and rules.by_name(name) is not None:
            func, args = rules.dotted(name), [self.call_arg(a) for a in node.args]
        elif node.func.attr == "get":
            return self.dict_get(node, target)
        else:  # a method: x.sum(axis=0) -> np.sum(x, axis=0)
            receiver = self.atom(node.func.value)
            func, args = self.method(
                node.func.attr, receiver, [self.call_arg(a) for a in node.args]
            )
        keywords = [gast.keyword(k.arg, self.call_arg(k.value)) for k in node.keywords]
        rule = rules.by_name(rules.dotted_name(func) or "")
        expansion = self.expansion(rule, args, keywords, node)
        if expansion is not None:
            return self.expr(gast.copy_location(expansion, node), target)
        if rule is not None:
            params = list(rule.params) + [None] * len(args)
            args = [self.as_array(rule, p, a, node) for p, a in zip(params, args)]
            keywords = [
                gast.keyword(k.arg, self.as_array(rule, k.arg, k.value, node)) for k in keywords
            ]
        result = self.define(gast.Call(func, args, keywords), node, target)
        if rule is not None and rule.pieces is not None:
            self.name_pieces(rule, result, args, keywords, node)
        return result

    def dict_get(self, node, target):
        """`d.get("k", default)`: the element, or the default where the key is absent (the dict's
        keys are its structure, known now)."""
        container = self.known(node.func.value)
        key = self.atom(node.args[0]) if node.args else None
        if container is None or container.kind != "dict" or not _is_key(key) or node.keywords:
            raise self.location.error(
                node,
                "'.get()' is supported on a dict known when the function is transformed, "
                "with a constant key",
                "write d.get('k', default)",
            )
        if key.value in container.keys:
            return copy.deepcopy(container.elts[container.keys.index(key.value)])
        default = node.args[1] if len(node.args) > 1 else gast.Constant(None, None)
        return self.expr(default, target)

    def call_of_argument(self, node):
        """`func(x)` where `func` is a helper's parameter given a function (`apply(np.sin, w)`,
        `apply(my_fn, w)`): the call of that function, known when the code is generated."""
        given = self.env[node.func.id]
        name = rules.dotted_name(given)
        if name is None or not (rules.by_name(name) or name in self.state.functions):
            raise self.location.error(
                node.func,
                f"calling {node.func.id!r}, which is not a function known when the function is "
                "transformed",
                "pass a function (a def, a lambda at module level or a NumPy function) to the "
                "helper that calls it",
            )
        return gast.copy_location(gast.Call(copy.deepcopy(given), node.args, node.keywords), node)

    def name_pieces(self, rule, result, args, keywords, node):
        """The list a split returns is known piece by piece: `t[k]` is a variable of its own
        (passes/stacking.py defines the pieces as slices)."""
        try:
            count = rule.pieces(rule.bind(args, keywords))
        except rules.RuleError as exc:
            raise self.location.error(node, str(exc)) from None
        pieces = [
            self.define(gast.Subscript(result, gast.Constant(k, None), gast.Load()), node)
            for k in range(count)
        ]
        self.static[result.id] = _Static("list", pieces)

    def expansion(self, rule, args, keywords, node):
        """The expression a call of `rule` is written as (`Rule.expands`), or None."""
        if rule is None or rule.expands is None:
            return None
        try:
            given = rule.bind(args, keywords, fill=False)
            evaluated = {
                p: [self.expanded_arg(e) for e in a] if p == "*" else self.expanded_arg(a)
                for p, a in given.items()
            }
            if rule.ranked:
                return rule.expands(evaluated, {p: self.rank(a) for p, a in given.items()})
            return rule.expands(evaluated)
        except rules.RuleError as exc:
            raise self.location.error(node, str(exc)) from None

    def rank(self, atom):
        """The rank of `atom` where it is a parameter's value, given a number or an array, else
        None (known only once the types are inferred)."""
        return self.state.ranks.get(atom.id) if isinstance(atom, gast.Name) else None

    def expanded_arg(self, atom):
        """An argument as `Rule.expands` sees it: a list or tuple as the display of its elements,
        a dict as that of its keys (what iterating over it gives)."""
        container = self.static.get(atom.id) if isinstance(atom, gast.Name) else None
        if container is not None and container.kind == "dict":
            return gast.Tuple(self.elements(container), gast.Load())
        return self.display(atom) or (_Evaluated(atom) if isinstance(atom, gast.Name) else atom)

    def parts(self, rule, node):
        """The tuple display of a call's parts (`Rule.parts`), or its one part."""
        args = [self.call_arg(a) for a in node.args]
        keywords = [gast.keyword(k.arg, self.call_arg(k.value)) for k in node.keywords]
        try:
            bound = rule.bind(args, keywords)
            bound = {p: self.as_array(rule, p, a, node) for p, a in bound.items()}
            parts = rule.parts(bound) if callable(rule.parts) else rule.parts
        except rules.RuleError as exc:
            raise self.location.error(node, str(exc)) from None
        calls = [
            rules.instantiate(rules.parse_template(p), bound, "np")
            for p in ((parts,) if isinstance(parts, str) else parts)
        ]
        written = calls[0] if isinstance(parts, str) else gast.Tuple(calls, gast.Load())
        for part in gast.walk(written):  # an error in a part points at the user's call
            gast.copy_location(part, node)
        return written

    def as_array(self, rule, param, atom, node):
        """A list or tuple given to a NumPy function where it takes an array is that array:
        `np.sum([a, b])` sums `np.array((a, b))`, whose elements passes/displays.py writes out."""
        if param == rule.sequence:
            return self.sequence(atom, node)
        elements = self.display(atom)
        # fixed when the code is generated: np.transpose(a, [1, 0]) reads (1, 0), a split its
        # indices, np.tensordot its axes
        if param in rule.static:
            return elements or atom
        if elements is None or not rule.takes_array(param):
            return atom
        if rule.array_of:
            return elements
        return self.define(gast.Call(rules.dotted("np.array"), [elements], []), node)

    def sequence(self, atom, node):
        """The arrays to join (np.concatenate's): a tuple display of them, a nested list being the
        array of its elements; a tuple argument stays as it is."""
        elements = self.display(atom)
        if elements is None:
            return atom
        return gast.Tuple(
            [
                self.define(gast.Call(rules.dotted("np.array"), [e], []), node)
                if isinstance(e, gast.Tuple)
                else e
                for e in elements.elts
            ],
            gast.Load(),
        )

    def display(self, atom):
        """The nested tuple of element atoms of a list or tuple, or None.

        The list or tuple is a display, or a name of one.
        """
        if isinstance(atom, gast.Tuple):
            elts = atom.elts
        elif (
            isinstance(atom, gast.Name)
            and atom.id in self.static
            and self.static[atom.id].kind not in ("dict", *_OPAQUE)
        ):
            elts = self.static[atom.id].elts
        else:
            return None
        return gast.Tuple([self.display(e) or copy.deepcopy(e) for e in elts], gast.Load())

    def call_arg(self, node):
        if isinstance(node, gast.Tuple):
            return gast.Tuple([self.call_arg(e) for e in node.elts], gast.Load())
        return self.atom(node)

    def method(self, attr, receiver, args):
        canonical = rules.METHODS[attr]
        if canonical == "astype":
            return gast.Attribute(receiver, "astype", gast.Load()), args
        if attr in ("reshape", "transpose") and len(args) > 1:
            args = [gast.Tuple(args, gast.Load())]
        return rules.dotted(canonical), [receiver] + args

    def inline(self, pyfunc, node, target):
        if pyfunc in self.state.stack:
            raise self.location.error(
                node,
                f"recursive call to {pyfunc.__name__!r} cannot be inlined: s2sjax does not "
                "support recursion",
                "write the recursion as a loop (`for i in range(n):` updating the variables the "
                "recursive call would get)",
            )
        callee = self.state.load(pyfunc, self.given_functions(pyfunc, node))
        bound = bound_arguments(callee, pyfunc, node, self.atom, self.location)
        self.emit(inlined_comment(callee), node)
        self.state.stack.append(pyfunc)
        inner = _Normalizer(self.state, callee, dict(bound))
        # a pullback's or a gradient's code inlined into the user's is s2sjax's own too
        inner.generated = self.generated or is_generated(pyfunc)
        inner.out = self.out
        inner.call_site = procedures.call_site(pyfunc, self.location, node, self.call_site)
        inner.static = dict(self.static)  # names are unique: what is known here holds there
        _, outputs = inner.function_body(callee.function.tree)
        self.state.stack.pop()
        self.state.captured.extend(callee.captured)
        self.state.assumptions.extend(callee.assumptions)
        self.static.update(inner.static)  # its names are fresh, and what it knows holds here too
        self.write_back(callee, bound, inner, node)
        atoms = [
            gast.Constant(None, None) if all(inner.returned.get(o, [False])) else _name(o)
            for o in outputs
        ]
        if len(outputs) == 1 and not inner.returns_tuple:
            return self.expr(gast.copy_location(_Evaluated(atoms[0]), node), target)
        result = self.define(gast.Tuple(atoms, gast.Load()), node, target)
        self.static[result.id] = _Static("tuple", atoms)
        return result

    def given_functions(self, pyfunc, call):
        """{parameter: Python function} of the functions `call` gives `pyfunc` by name
        (`gram(rbf, xs)`), which a lambda the helper vmaps may call."""
        code = pyfunc.__code__
        positional = code.co_varnames[: code.co_argcount]
        given = list(zip(positional, call.args)) + [(k.arg, k.value) for k in call.keywords]
        return {
            param: self.state.functions[arg.id]
            for param, arg in given
            if isinstance(arg, gast.Name)
            and isinstance(self.state.functions.get(arg.id), types.FunctionType)
        }

    def write_back(self, callee, bound, inner, call):
        """Python's `u += v` on a parameter given an array updates the caller's array: the caller's
        variables naming it now name the updated value. `rt.written_back(old, new)` is that value,
        `old` where it turns out to be a number (lowered once the types are known)."""
        reassigned = procedures.reassigned(callee.function.tree)
        captured = {c.name for c in self.state.captured + self.resolved.captured}
        for param, atom in bound.items():
            final = inner.env.get(param)
            if (
                param not in inner.updated_in_place
                or not isinstance(atom, gast.Name)
                or final is None
                or _same_atom(final, atom)
            ):
                continue
            holders = [v for v, a in self.env.items() if _same_atom(a, atom)]
            if not holders and atom.id not in captured:
                continue  # a temporary: no one sees its update
            why = procedures.write_back_refusal(
                callee, call, param, param in reassigned, atom.id in captured
            )
            args = [atom, final] + ([gast.Constant(why, None)] if why else [])
            written = self.define(gast.Call(rules.dotted("rt.written_back"), args, []), call)
            for var in holders:
                self.env[var] = copy.deepcopy(written)
                self.updated_in_place.add(var)


@dataclass
class _Static:
    """A container whose elements are known at transform time (atoms), as the user built it."""

    # "tuple", "list", "dict", "node" (an object argument, pytree.Record) or "slice" (its parts)
    kind: str
    elts: list
    keys: tuple = ()  # a dict's keys, in order
    record: object = None  # pytree.Record: an object's (a namedtuple's too) attributes, its class


_DICT_VIEWS = ("items", "keys", "values")
_OPAQUE = ("node", "slice")  # known containers that are not sequences
_MATRIX_OPERAND = rules.by_name("np.matmul")  # takes arrays: a list or tuple beside `@` is one


class _Evaluated(gast.expr):
    """An already-normalized atom standing inside a not-yet-normalized expression."""

    _fields = ()

    def __init__(self, atom):
        self.atom = atom


def _name(id_, store=False):
    return gast.Name(id_, gast.Store() if store else gast.Load(), None, None)


def _tuple_or_atom(names, is_tuple=False):
    if len(names) == 1 and not is_tuple:
        return _name(names[0])
    return gast.Tuple([_name(n) for n in names], gast.Load())


def _folded(op, *atoms):
    """The constant an operator gives on number constants (a helper's flag `b == 1`), computed now,
    or None: when an operand is not a constant, or Python raises (left to the compiled code)."""
    rule = rules.operator_rule(op)
    compute = None if rule is None else rule.fold
    if compute is None or not all(_is_number(a) for a in atoms):
        return None
    try:
        value = compute(*(a.value for a in atoms))
    except (ArithmeticError, ValueError):
        return None
    if not isinstance(value, (int, float)):  # (-8) ** 0.5 is complex in Python
        return None
    if isinstance(value, int) and not -(2**63) <= value < 2**63:  # an int64 in compiled code
        return None
    return gast.Constant(value, None)


class _Renamed(gast.NodeTransformer):
    """A comprehension's loop variable renamed, to be the loop's (its scope is its own)."""

    def __init__(self, old, new):
        self.old, self.new = old, new

    def visit_Name(self, node):
        return _name(self.new) if node.id == self.old else node


class _Substituted(gast.NodeTransformer):
    """A comprehension's loop variable replaced by the atom of one element."""

    def __init__(self, old, atom):
        self.old, self.atom = old, atom

    def visit_Name(self, node):
        return _Evaluated(copy.deepcopy(self.atom)) if node.id == self.old else node


def _parts(index):
    return (index.lower, index.upper, index.step)


def _expands(node):
    """Whether `node` calls a rule that normalize writes in others (`sorted(d)`): a loop over it
    may be over a container."""
    rule = rules.callee(node) if isinstance(node, gast.Call) else None
    return rule is not None and rule.expands is not None


def _is_none(atom):
    return isinstance(atom, gast.Constant) and atom.value is None


def _is_key(atom):
    return isinstance(atom, gast.Constant) and isinstance(atom.value, str)


def _is_number(atom):
    return isinstance(atom, gast.Constant) and type(atom.value) in (int, float, bool)


def _is_int(atom):
    return (
        isinstance(atom, gast.Constant)
        and isinstance(atom.value, int)
        and not isinstance(atom.value, bool)
    )


def _same_atom(a, b):
    if isinstance(a, gast.Name) and isinstance(b, gast.Name):
        return a.id == b.id
    return isinstance(a, gast.Constant) and isinstance(b, gast.Constant) and a.value == b.value
