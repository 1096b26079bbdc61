"""analyze (activity): which variables need an adjoint.

A variable is *varied* when it depends, through a differentiable argument of
a rule, on a differentiated input; *useful* when the differentiated output
depends on it. Active = varied and useful and of a float type. Integer and
boolean values are never active, and neither is anything computed only
through zero-derivative functions (np.floor, comparisons, shapes).

`analyze(program, types, wrt, outputs)` returns the set of active names.
"""

import gast

from .. import rules
from .queries import is_store, reads


def analyze(program, types, wrt, outputs):
    """The set of active names. Arrays updated in place are active as a whole."""
    body = program.tree.body
    varied = {name for name in wrt if types[name].differentiable}
    _forward(body, varied, types, program.origins)
    useful = set(outputs)
    _backward(body, useful)
    return {name for name in varied & useful if types.get(name) and types[name].differentiable}


def flows(value):
    """The names whose derivatives flow into the result of a normalized right-hand side."""
    if isinstance(value, gast.Name):
        return [value.id]
    if isinstance(value, gast.Subscript):
        return flows(value.value)
    rule, bound = rules.rule_of(value)
    if rule is None:
        return []
    return [
        node.id
        for param, node in bound.items()
        if rule.differentiable(param) and isinstance(node, gast.Name)
    ]


def dependents(program, sources):
    """The names whose values depend on `sources`, by data or by a branch or loop on them."""
    found = set(sources)
    _depend(program.tree.body, found, False)
    return found


def _depend(stmts, found, controlled):
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if controlled or reads(stmt) & found:
                found.add(target.value.id if isinstance(target, gast.Subscript) else target.id)
        elif isinstance(stmt, gast.If):
            inner = controlled or bool(reads(stmt.test) & found)
            _depend(stmt.body, found, inner)
            _depend(stmt.orelse, found, inner)
        elif isinstance(stmt, (gast.For, gast.While)):  # until the loop-carried values settle
            size = -1
            while size != len(found):
                size = len(found)
                head = stmt.iter if isinstance(stmt, gast.For) else stmt.test
                _depend(stmt.body, found, controlled or bool(reads(head) & found))


def _reads_runtime_tuple(value, types):
    return (
        isinstance(value, gast.Subscript)
        and isinstance(value.value, gast.Name)
        and types.get(value.value.id) is not None
        and types[value.value.id].kind == "tuple"
    )


def _forward(stmts, varied, types, origins):
    for stmt in stmts:
        if is_store(stmt):  # a[i] = v: the array depends on v
            array = stmt.targets[0].value.id
            if types[array].differentiable and any(n in varied for n in flows(stmt.value)):
                varied.add(array)
        elif isinstance(stmt, gast.Assign):
            target = stmt.targets[0].id
            # a tuple holding a varied value is tracked, never active
            if types[target].kind == "tuple":
                parts = stmt.value.elts if isinstance(stmt.value, gast.Tuple) else [stmt.value]
                if any(isinstance(p, gast.Name) and p.id in varied for p in parts):
                    varied.add(target)
                continue
            if _reads_runtime_tuple(stmt.value, types) and stmt.value.value.id in varied:
                raise origins[id(stmt)].error(
                    stmt,
                    "taking a float out of a tuple that is only known at run time is not supported",
                    "unpack the tuple where it is built, or build it the same way on every path",
                )
            if any(n in varied for n in flows(stmt.value)):
                if types[target].kind == "unknown":
                    raise origins[id(stmt)].error(
                        stmt,
                        f"cannot tell the type of {target!r}, "
                        "which depends on a differentiated input",
                        "give the value one type on every path (a float, or an array of one rank)",
                    )
                if types[target].differentiable:
                    varied.add(target)
        elif isinstance(stmt, gast.If):
            _forward(stmt.body, varied, types, origins)
            _forward(stmt.orelse, varied, types, origins)
        elif isinstance(stmt, (gast.For, gast.While)):  # until the loop-carried values settle
            size = -1
            while size != len(varied):
                size = len(varied)
                _forward(stmt.body, varied, types, origins)


def _backward(stmts, useful):
    for stmt in reversed(stmts):
        if is_store(stmt):
            if stmt.targets[0].value.id in useful:
                useful.update(flows(stmt.value))
        elif isinstance(stmt, gast.Assign):
            if stmt.targets[0].id in useful:
                useful.update(flows(stmt.value))
        elif isinstance(stmt, gast.If):
            _backward(stmt.body, useful)
            _backward(stmt.orelse, useful)
        elif isinstance(stmt, (gast.For, gast.While)):
            size = -1
            while size != len(useful):
                size = len(useful)
                _backward(stmt.body, useful)
