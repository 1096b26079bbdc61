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
- an inner function calling another one passes that one's variables too.

Other uses (a local function passed as an argument, returned, defined under
an `if` or in a loop, redefined) are left in place, for the fence to refuse.
The lifted source is kept in linecache under a name saying where it was
written.
"""

import copy
import os
import types

import gast

from ..backend import emit as emitter
from .parse import function_from_source


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
        key = namer.fresh(f"{name}_local")
        lifted[key] = _function(function, inner, name, reads, lifted, liftable)
        outer_reads[name] = (key, reads)
        fdef.body.remove(stmt)
    _Calls(outer_reads, rename=True).visit(fdef)
    return lifted


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
            key, reads = self.outer_reads[func.id]
            node.keywords = node.keywords + [
                gast.keyword(r, gast.Name(r, gast.Load(), None, None)) for r in reads
            ]
            if self.rename:
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
    free = sorted(cells)
    where = f"{os.path.basename(function.location.filename)}:{getattr(inner, 'lineno', '?')}"
    filename = f"<s2sjax: {name} at {where}, lifted out of {function.tree.name}>"
    body = emitter.emit(inner).strip("\n")
    source = (
        f"def s2sjax_enclosing({', '.join(free)}):\n"
        + "".join(f"    {line}\n" for line in body.splitlines())
        + f"    return {name}\n"
    )
    made = function_from_source(source, "s2sjax_enclosing", filename, {})
    code = made.__code__.co_consts
    inner_code = next(c for c in code if isinstance(c, types.CodeType) and c.co_name == name)
    closure = tuple(cells[v] for v in inner_code.co_freevars)
    defaults = made(*(None for _ in free)).__defaults__
    return types.FunctionType(inner_code, function.globals, name, defaults, closure or None)


def _by_name(lifted, liftable):
    """{user's name: lifted function} of those lifted so far."""
    return {f.__name__: f for f in lifted.values() if f.__name__ in liftable}


def _cells(pyfunc):
    code, cells = pyfunc.__code__, pyfunc.__closure__ or ()
    return dict(zip(code.co_freevars, cells))
