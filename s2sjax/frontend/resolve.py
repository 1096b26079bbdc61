"""resolve: bind every free name of a function to what it refers to at call time.

`resolve(function, namer)` rewrites the function's tree in place and returns
a `Resolved`:

- NumPy, `math` and builtin callables (and dtypes) become their canonical
  spelling from the rule registry, found by object identity, so
  `import numpy as onp; onp.sin(x)` reads `np.sin(x)`;
- numbers from globals and closures become literals;
- arrays from globals and closures become hidden parameters (`captured`),
  read again at every call;
- other Python functions are kept by name in `functions`, to be inlined.

Anything else a name can refer to is recorded in `problems` (node id ->
message, hint), for the fence to report in source order with the rest.
"""
import builtins
import functools
import inspect
import types as pytypes
from dataclasses import dataclass, field

import gast
import numpy as np

from .. import rules


@dataclass
class Captured:
    """A value from the user's globals or closure that generated code receives as a parameter."""

    name: str  # the parameter's name in generated code
    read: object  # () -> the current value


@dataclass
class Resolved:
    function: object  # frontend.parse.Function
    local_names: set
    functions: dict = field(default_factory=dict)  # name -> Python function to inline
    captured: list = field(default_factory=list)
    problems: dict = field(default_factory=dict)  # id(node) -> (message, hint)


def resolve(function, namer):
    local_names = _local_names(function.tree)
    resolved = Resolved(function, local_names)
    _Resolver(resolved, namer).visit(function.tree)
    return resolved


def _local_names(fdef):
    args = fdef.args
    names = {a.id for a in args.args + args.kwonlyargs + args.posonlyargs}
    for node in gast.walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            names.add(node.id)
    return names


_MISSING = object()


class _Resolver(gast.NodeTransformer):
    def __init__(self, resolved, namer):
        self.resolved = resolved
        self.namer = namer
        self.function = resolved.function
        self.scope = {**self.function.globals, **self.function.closure}

    def visit_FunctionDef(self, node):
        node.body = [self.visit(stmt) for stmt in node.body]
        return node

    def visit_Name(self, node):
        if not isinstance(node.ctx, gast.Load) or node.id in self.resolved.local_names:
            return node
        value = self._lookup(node.id, node)
        return node if value is _MISSING else self._classify(value, node, node.id)

    def visit_Attribute(self, node):
        chain = rules.dotted_name(node)
        root = chain.split(".")[0] if chain else None
        if root is None or root in self.resolved.local_names:
            return self.generic_visit(node)
        value = self._lookup(root, node)
        for attr in chain.split(".")[1:]:
            if value is _MISSING:
                return node
            value = getattr(value, attr, _MISSING)
            if value is _MISSING:
                return self._problem(node, f"{chain!r}: {attr!r} is not an attribute of {root!r}")
        return self._classify(value, node, chain)

    def _lookup(self, name, node):
        value = self.scope.get(name, _MISSING)
        if value is _MISSING:
            value = getattr(builtins, name, _MISSING)
        if value is _MISSING:
            self._problem(node, f"name {name!r} is not defined")
        return value

    def _problem(self, node, message, hint=None):
        self.resolved.problems[id(node)] = (message, hint)
        return node

    def _classify(self, value, node, spelled):
        rule = rules.lookup(value) if _hashable_callable(value) else None
        if rule is not None:
            return gast.copy_location(rules.dotted(rule.name), node)
        if isinstance(value, (bool, int, float, np.number)) or value is None:
            return gast.copy_location(gast.Constant(_python_number(value), None), node)
        if isinstance(value, np.ndarray):
            return self._capture(value, node, spelled)
        if callable(getattr(value, "inlinable", None)):  # a vmapped function: inline its batch loop
            try:
                value = value.inlinable()
            except TypeError as exc:
                return self._problem(node, str(exc))
        if inspect.isfunction(value):
            key = self.namer.fresh(value.__name__.replace("<lambda>", "lambda_"))
            self.resolved.functions[key] = value
            return gast.copy_location(gast.Name(key, gast.Load(), None, None), node)
        if isinstance(value, pytypes.ModuleType):
            return self._problem(node, f"module {spelled!r} cannot be used as a value")
        if callable(value):
            return self._problem(node, f"{spelled!r} has no Python source and no derivative rule",
                                 "use a NumPy or math function s2sjax knows")
        return self._problem(node, f"{spelled!r} is a {type(value).__name__}, which s2sjax cannot use in a transformed function")

    def _capture(self, value, node, spelled):
        name = self.namer.fresh(spelled.replace(".", "_"))
        root, *attrs = spelled.split(".")
        if root in self.function.closure:
            cell = self.function.pyfunc.__closure__[self.function.pyfunc.__code__.co_freevars.index(root)]
            read_root = lambda c=cell: c.cell_contents  # noqa: E731
        else:
            read_root = lambda g=self.function.globals, k=root: g[k]  # noqa: E731
        read = lambda: functools.reduce(getattr, attrs, read_root())  # noqa: E731  (the current value, every call)
        self.resolved.captured.append(Captured(name, read))
        return gast.copy_location(gast.Name(name, gast.Load(), None, None), node)


def _hashable_callable(value):
    return callable(value) or isinstance(value, type)


def _python_number(value):
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
