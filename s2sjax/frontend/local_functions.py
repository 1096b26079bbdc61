"""Lambdas and inner `def`s of a transformed function, lifted out to be inlined where called.

`lift(function, namer)` takes each `def g(...)` and `g = lambda ...: ...`
written at the top level of the function's body, its name bound once, out
of the tree, and returns {name: Python function} for resolve to inline:

- the variables of the enclosing function it reads (`w` in
  `def g(v): return v * w`) become keyword-only parameters after its own,
  and every call `g(x)` passes them, `g(x, w=w)`: Python reads them when
  `g` is called, so does the lifted function;
- what it reads from the enclosing function's closure it reads through the
  same cells, so the generated code goes stale as the enclosing function's
  would;
- an inner function calling another one passes that one's variables too;
- one with `*args` is lifted once per number of arguments its calls give
  (`with_fixed_arity`).

Other uses (a local function passed as an argument, returned, defined under
an `if` or in a loop, redefined) are left in place, for the fence to refuse.
The lifted source is kept in linecache under a name saying where it was
written.
"""

import copy
import os
import types

import gast

from .parse import compiled_with_cells, lifted_from


def lift(function, namer):
    """Remove the liftable local functions from `function.tree`; {call name: lifted function}."""
    fdef = function.tree
    liftable = _liftable(fdef)
    lifted, outer_reads = {}, {}
    for stmt in list(fdef.body):
        name, inner = _definition(stmt)
        if name not in liftable:
            continue
        reads = _outer_reads(inner, fdef, liftable, outer_reads)
        _pass_variables(inner, outer_reads)
        keys = {}
        for arity in _arities(fdef, name) if inner.args.vararg else [None]:
            keys[arity] = namer.fresh(f"{name}_local")
            fixed = with_fixed_arity(copy.deepcopy(inner), arity)
            lifted[keys[arity]] = _function(function, fixed, name, reads, lifted, liftable)
        outer_reads[name] = (keys, reads)
        fdef.body.remove(stmt)
    _Calls(outer_reads, rename=True).visit(fdef)
    return lifted


def _arities(fdef, name):
    """The numbers of positional arguments the calls of `name` in `fdef` give (a `*args`
    function is lifted once per number)."""
    return sorted(
        {
            len(c.args)
            for c in gast.walk(fdef)
            if isinstance(c, gast.Call) and isinstance(c.func, gast.Name) and c.func.id == name
        }
    )


def _definition(stmt):
    """(name, FunctionDef) of `def g` or `g = lambda ...`, else (None, None)."""
    if isinstance(stmt, gast.FunctionDef) and not stmt.decorator_list:
        return (stmt.name, stmt) if _constant_defaults(stmt.args) else (None, None)
    if (
        isinstance(stmt, gast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], gast.Name)
        and isinstance(stmt.value, gast.Lambda)
    ):
        lam = stmt.value
        if not _constant_defaults(lam.args):
            return None, None
        body = [gast.copy_location(gast.Return(lam.body), lam)]
        inner = gast.FunctionDef(stmt.targets[0].id, lam.args, body, [], None, None)
        return stmt.targets[0].id, gast.copy_location(inner, stmt)
    return None, None


def _constant_defaults(args):
    """Whether every default is a constant (the lifted function evaluates them on its own)."""
    return all(isinstance(d, gast.Constant) for d in args.defaults + args.kw_defaults if d)


def _liftable(fdef):
    """Names of the top-level local functions bound once and only ever called."""
    stores = {}
    for node in gast.walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, gast.FunctionDef) and node is not fdef:
            stores[node.name] = stores.get(node.name, 0) + 1
    names = {_definition(s)[0] for s in fdef.body} - {None}
    params = {a.id for a in fdef.args.args + fdef.args.kwonlyargs + fdef.args.posonlyargs}
    once = {n for n in names if n not in params and stores.get(n, 0) == 1}
    called = {id(c.func) for c in gast.walk(fdef) if isinstance(c, gast.Call)}
    uses = [
        n
        for n in gast.walk(fdef)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in once
    ]
    return once - {n.id for n in uses if id(n) not in called}


def _outer_reads(inner, fdef, liftable, outer_reads):
    """The enclosing function's variables `inner` reads, those of the local functions it calls
    included, in a fixed order."""
    own = {a.id for a in inner.args.args + inner.args.kwonlyargs + inner.args.posonlyargs}
    own |= {
        n.id for n in gast.walk(inner) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
    }
    outer = _assigned(fdef) - liftable
    reads = []
    for node in gast.walk(inner):
        if not (isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load)):
            continue
        found = outer_reads[node.id][1] if node.id in outer_reads else [node.id]
        reads += [r for r in found if r in outer and r not in own and r not in reads]
    return reads


def _assigned(fdef):
    args = fdef.args
    names = {a.id for a in args.args + args.kwonlyargs + args.posonlyargs}
    return names | {
        n.id for n in gast.walk(fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
    }


def _pass_variables(inner, outer_reads):
    """Calls of earlier local functions inside `inner` pass their variables too."""
    _Calls(outer_reads, rename=False).visit(inner)


class _Calls(gast.NodeTransformer):
    """`g(x)` -> `g(x, w=w)` for each lifted `g` (and its new name, where `rename`)."""

    def __init__(self, outer_reads, rename):
        self.outer_reads, self.rename = outer_reads, rename

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if isinstance(func, gast.Name) and func.id in self.outer_reads:
            keys, reads = self.outer_reads[func.id]
            node.keywords = node.keywords + [
                gast.keyword(r, gast.Name(r, gast.Load(), None, None)) for r in reads
            ]
            key = keys.get(len(node.args), keys.get(None))
            if self.rename and key is not None:
                node.func = gast.copy_location(gast.Name(key, gast.Load(), None, None), func)
        return node


def _function(function, inner, name, reads, lifted, liftable):
    """The Python function `inner` is, taking `reads` as keyword-only parameters; the enclosing
    function's closure cells and the earlier lifted functions are its closure."""
    inner = copy.deepcopy(inner)
    inner.name = name
    inner.args.kwonlyargs = inner.args.kwonlyargs + [
        gast.Name(r, gast.Param(), None, None) for r in reads
    ]
    inner.args.kw_defaults = inner.args.kw_defaults + [None] * len(reads)
    earlier = {n: f for n, f in _by_name(lifted, liftable).items() if n != name}
    cells = {**_cells(function.pyfunc), **{n: types.CellType(f) for n, f in earlier.items()}}
    where = f"{os.path.basename(function.location.filename)}:{getattr(inner, 'lineno', '?')}"
    filename = f"<s2sjax: {name} at {where}, lifted out of {function.tree.name}>"
    inner_code, closure, enclosing = compiled_with_cells(inner, cells, filename, {})
    defaults = enclosing(*(None for _ in cells)).__defaults__
    lifted_function = types.FunctionType(
        inner_code, function.globals, name, defaults, closure or None
    )
    lifted_from(lifted_function, inner, function.location.filename)
    return lifted_function


def _by_name(lifted, liftable):
    """{user's name: lifted function} of those lifted so far."""
    return {f.__name__: f for f in lifted.values() if f.__name__ in liftable}


def _cells(pyfunc):
    code, cells = pyfunc.__code__, pyfunc.__closure__ or ()
    return dict(zip(code.co_freevars, cells))


def with_fixed_arity(fdef, count):
    """`fdef` taking `count` positional arguments, its `*args` made parameters `args_0 ...`
    (known from a call): `args` is their tuple, and `f(*args)`, `f(*args[1:])` pass them one by
    one."""
    vararg = fdef.args.vararg
    if vararg is None:
        return fdef
    names = [f"{vararg.id}_{i}" for i in range(count - len(fdef.args.args))]
    fdef.args.args = fdef.args.args + [gast.Name(n, gast.Param(), None, None) for n in names]
    fdef.args.vararg = None
    _Starred(vararg.id, names).visit(fdef)
    packed = gast.Tuple([gast.Name(n, gast.Load(), None, None) for n in names], gast.Load())
    prologue = gast.Assign([gast.Name(vararg.id, gast.Store(), None, None)], packed, None)
    fdef.body.insert(0, gast.copy_location(prologue, fdef.body[0]))
    return fdef


class _Starred(gast.NodeTransformer):
    """`f(*args)`, `f(*args[i:j])` (constant bounds) -> `f(args_0, ...)`."""

    def __init__(self, vararg, names):
        self.vararg, self.names = vararg, names

    def visit_Call(self, node):
        self.generic_visit(node)
        args = []
        for arg in node.args:
            spread = self.spread(arg.value) if isinstance(arg, gast.Starred) else None
            args += [arg] if spread is None else spread
        node.args = args
        return node

    def spread(self, value):
        """The parameter names `*value` passes, or None where it is not a slice of `*args`."""
        if isinstance(value, gast.Name) and value.id == self.vararg:
            bounds = slice(None)
        elif (
            isinstance(value, gast.Subscript)
            and isinstance(value.value, gast.Name)
            and value.value.id == self.vararg
            and isinstance(value.slice, gast.Slice)
            and all(
                _int_or_none(p) for p in (value.slice.lower, value.slice.upper, value.slice.step)
            )
        ):
            s = value.slice
            bounds = slice(*(None if p is None else p.value for p in (s.lower, s.upper, s.step)))
        else:
            return None
        return [gast.Name(n, gast.Load(), None, None) for n in self.names[bounds]]


def _int_or_none(node):
    return node is None or (isinstance(node, gast.Constant) and type(node.value) is int)
