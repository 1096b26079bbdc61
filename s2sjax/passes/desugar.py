"""desugar: one exit per function; a `return` in a loop becomes a flag and a `break`.

Accepts a fenced, resolved function (frontend/). Leaves a copy of its tree
(the resolved tree stays as the user wrote it) in which

- no loop holds a `return`: each becomes `.ret = e; .returned = True; break`,
  leaving every loop around it, and after the outermost loop
  `if .returned: return .ret` (one `.ret_k` per value where every such
  return gives a tuple of as many values);
- every `return` is the last statement of its path through the function:
  the code after an `if` that may return moves into the branches that fall
  through, and a function that can fall off its end gets `return None`.

Names starting with a dot are s2sjax's own (no user's variable has one);
normalize gives them names of their own. `break` and `continue` stay: normalize
lowers them when it turns their loop into a `while` (`lower_exits` below).

>>> from s2sjax.pipeline import stage_source
>>> def f(x):
...     for i in range(3):
...         if x > 1.0:
...             return x
...         x = x * 2.0
...     return -x
>>> print(stage_source(f, "desugar"))
def f(x):
    .returned = False
    .ret = rt.unset()
    for i in range(3):
        if x > 1.0:
            .ret = x
            .returned = True
            break
        x = x * 2.0
    if .returned:
        return .ret
    else:
        return -x
"""

import copy
from dataclasses import replace

import gast

from .. import rules
from ..backend.naming import name


def desugar(resolved):
    """`resolved` with its function's tree desugared (a copy)."""
    tree = copy.deepcopy(resolved.function.tree)
    tree.body = _single_exit(_lift_loop_returns(tree.body))
    return replace(resolved, function=replace(resolved.function, tree=tree))


def _lift_loop_returns(stmts):
    """`return e` in a loop -> `.ret = e; .returned = True; break`, and after the
    loop `if .returned: return .ret` (which _single_exit then handles as any return).
    Where every such return gives a tuple of n values, each has its own `.ret_k`."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, (gast.For, gast.While)) and _may_return(stmt.body):
            names, as_tuple = _returned_names(stmt.body)
            # `.ret` has no value until a return sets it: lower (widen) gives it one of the returned
            # type
            out += [_set(".returned", gast.Constant(False, None), stmt)]
            out += [_set(n, gast.Call(rules.dotted("rt.unset"), [], []), stmt) for n in names]
            stmt.body = _returns_to_breaks(stmt.body, names, as_tuple)
            returned = gast.Name(".returned", gast.Load(), None, None)
            value = _names_value(names, as_tuple)
            out += [
                stmt,
                gast.copy_location(
                    gast.If(returned, [gast.copy_location(gast.Return(value), stmt)], []), stmt
                ),
            ]
            continue
        if isinstance(stmt, gast.If):
            stmt.body, stmt.orelse = _lift_loop_returns(stmt.body), _lift_loop_returns(stmt.orelse)
        out.append(stmt)
    return out


def _returned_names(body):
    """(the names holding what the returns in a loop `body` give, whether they give a tuple).

    The tuple is of those names.
    """
    values = [n.value for s in body for n in gast.walk(s) if isinstance(n, gast.Return)]
    sizes = {len(v.elts) if isinstance(v, gast.Tuple) else None for v in values}
    if len(sizes) == 1 and None not in sizes:
        return [f".ret_{k}" for k in range(sizes.pop())], True
    return [".ret"], False


def _returns_to_breaks(stmts, names, as_tuple):
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.Return):
            value = stmt.value if stmt.value is not None else gast.Constant(None, None)
            parts = value.elts if as_tuple else [value]
            out += [_set(n, part, stmt) for n, part in zip(names, parts)]
            out += [
                _set(".returned", gast.Constant(True, None), stmt),
                gast.copy_location(gast.Break(), stmt),
            ]
        elif isinstance(stmt, gast.If):
            stmt.body = _returns_to_breaks(stmt.body, names, as_tuple)
            stmt.orelse = _returns_to_breaks(stmt.orelse, names, as_tuple)
            out.append(stmt)
        elif isinstance(stmt, (gast.For, gast.While)) and _may_return(stmt.body):
            stmt.body = _returns_to_breaks(
                stmt.body, names, as_tuple
            )  # and leave the enclosing loop too
            returned = gast.Name(".returned", gast.Load(), None, None)
            out += [
                stmt,
                gast.copy_location(
                    gast.If(returned, [gast.copy_location(gast.Break(), stmt)], []), stmt
                ),
            ]
        else:
            out.append(stmt)
    return out


def _set(var, value, src):
    return gast.copy_location(gast.Assign([gast.Name(var, gast.Store(), None, None)], value), src)


def _names_value(names, as_tuple):
    """The name, or the tuple of the names, that a lifted return gives."""
    return gast.Tuple([name(n) for n in names], gast.Load()) if as_tuple else name(names[0])


def _single_exit(stmts, falls_off_function=True):
    """Move the code after an `if` that may return into the branches that fall through.

    A function that can fall off its end gets the implicit `return None`.
    """
    out = []
    for i, stmt in enumerate(stmts):
        if isinstance(stmt, gast.Return):
            out.append(stmt)
            return out
        if isinstance(stmt, gast.If):
            rest = stmts[i + 1 :]
            if rest and (_may_return(stmt.body) or _may_return(stmt.orelse)):
                stmt.body = _single_exit(stmt.body + copy.deepcopy(rest), falls_off_function)
                stmt.orelse = _single_exit(stmt.orelse + rest, falls_off_function)
                out.append(stmt)
                return out
            stmt.body = _single_exit(stmt.body, False)
            stmt.orelse = _single_exit(stmt.orelse, False)
        out.append(stmt)
    if falls_off_function and not _always_returns(out):
        out.append(gast.Return(None))
    return out


def _always_returns(stmts):
    last = stmts[-1] if stmts else None
    if isinstance(last, gast.If):
        return _always_returns(last.body) and _always_returns(last.orelse)
    return isinstance(last, gast.Return)


def _may_return(stmts):
    return any(isinstance(n, gast.Return) for s in stmts for n in gast.walk(s))


# ---- break and continue, lowered by normalize in the loops it turns into `while` loops


class SetFlag(gast.stmt):
    """`break`, lowered: set the loop's flag (the rest of the body was moved out of its way)."""

    _fields = ()

    def __init__(self, flag):
        self.flag = flag


def lower_exits(stmts):
    """`break` -> set `.broke`; `continue` -> nothing; the code after either moves into
    the branches that do not exit (loops nested inside keep their own exits)."""
    out = []
    for i, stmt in enumerate(stmts):
        if isinstance(stmt, gast.Break):
            out.append(gast.copy_location(SetFlag(".broke"), stmt))
            return out
        if isinstance(stmt, gast.Continue):
            return out
        if isinstance(stmt, gast.If) and (may_exit(stmt.body) or may_exit(stmt.orelse)):
            rest = stmts[i + 1 :]
            stmt.body = lower_exits(stmt.body + copy.deepcopy(rest))
            stmt.orelse = lower_exits(stmt.orelse + rest)
            out.append(stmt)
            return out
        out.append(stmt)
    return out


def may_exit(stmts):
    """Whether a loop body may `break` or `continue` (not counting loops nested in it)."""
    for stmt in stmts:
        if isinstance(stmt, (gast.Break, gast.Continue)):
            return True
        if isinstance(stmt, gast.If) and (may_exit(stmt.body) or may_exit(stmt.orelse)):
            return True
    return False
