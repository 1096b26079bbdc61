"""analyze (types): the abstract type of every variable of a normalized function.

`infer(fn, arg_types)` walks the normalized statements once, in order, and
asks the rule registry for the result type of every call; branches merge
their results at the join. The types and their algebra (`Type`, `promote`,
`broadcast`, `merge`) are s2sjax.abstract's.
"""

import gast

from .. import rules
from ..abstract import DTYPE, INT, NUMBER_KINDS, UNKNOWN, Type, merge, of_value


def _rank_text(typ):
    return "a scalar" if typ.ndim == 0 else f"an array of rank {typ.ndim}"


def infer(program, arg_types, jvp_calls=None):
    """The type of every variable of a normalized `program`, given its parameters' types.

    `jvp_calls` (frontend.jvpcalls) types the calls of s2sjax.jvp left opaque by normalize.
    """
    names = program.params + [c.name for c in program.captured]
    inference = _Inference(dict(zip(names, arg_types)), program, jvp_calls)
    inference.block(program.tree.body)
    return inference.env


class _Inference:
    def __init__(self, env, program, jvp_calls):
        self.env = env
        self.origins = program.origins
        self.variables = program.variables  # SSA name -> the user's variable, for errors
        self.jvp_calls = jvp_calls

    def block(self, stmts):
        for stmt in stmts:
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
                self.env[stmt.targets[0].id] = self.value(stmt.value, stmt)
            elif isinstance(stmt, gast.If):
                self.branches(stmt)
            elif isinstance(stmt, (gast.For, gast.While)):
                self.loop(stmt)

    def loop(self, stmt):
        """Iterate the body until the loop-carried types settle (entry merged with back edge)."""
        if isinstance(stmt, gast.For):
            self.env[stmt.target.id] = INT
        for _ in range(8):
            before = dict(self.env)
            self.block(stmt.body)
            for name in before.keys() & self.env.keys():
                self.check_same_rank(name, before[name], self.env[name], stmt)
            merged = {n: merge(before[n], t) if n in before else t for n, t in self.env.items()}
            self.env = merged
            if merged == before:
                return

    def check_same_rank(self, name, entry, carried, loop):
        """A tape has one slot shape: a loop-carried value cannot change its rank."""
        if entry.ndim is None or carried.ndim is None or entry.ndim == carried.ndim:
            return
        if entry.kind not in NUMBER_KINDS or carried.kind not in NUMBER_KINDS:
            return
        var = self.variables.get(name, name)
        raise self.origins[id(loop)].error(
            loop,
            f"{var!r} is {_rank_text(entry)} before this loop and {_rank_text(carried)} after an "
            "iteration: a variable the loop carries must keep its rank",
            f"start {var} with the rank it gets in the loop (e.g. {var} = np.zeros_like(...))",
        )

    def branches(self, stmt):
        before = dict(self.env)
        self.block(stmt.body)
        after_then = self.env
        self.env = dict(before)
        self.block(stmt.orelse)
        for name, typ in after_then.items():
            self.env[name] = merge(typ, self.env[name]) if name in self.env else typ

    def value(self, node, stmt):
        if isinstance(node, (gast.Name, gast.Constant, gast.Tuple, gast.Attribute)):
            return self.atom(node)
        if isinstance(node, gast.Subscript):
            return self.subscript(self.atom(node.value), node.slice)
        if (
            self.jvp_calls
            and isinstance(node, gast.Call)
            and getattr(node.func, "id", None) in self.jvp_calls.by_name
        ):
            return self.jvp_calls.type_of(node.func.id, [self.atom(a) for a in node.args])
        try:
            rule, bound = rules.rule_of(node)
            return rule.result({p: self.atom(n) for p, n in bound.items()}, bound)
        except rules.RuleError as exc:
            raise self.origins[id(stmt)].error(stmt, str(exc)) from None

    def atom(self, node):
        if isinstance(node, gast.Name):
            return self.env.get(node.id, UNKNOWN)
        if isinstance(node, gast.Constant):
            return of_value(node.value)
        if isinstance(node, gast.Tuple):
            return Type("tuple", 0, tuple(self.atom(e) for e in node.elts))
        if isinstance(node, gast.Attribute):
            return self.attribute(node)
        return UNKNOWN

    def attribute(self, node):
        if rules.by_name(rules.dotted_name(node) or ""):
            return DTYPE
        base = self.atom(node.value)
        if node.attr == "shape":
            return UNKNOWN if base.ndim is None else Type("tuple", 0, (INT,) * base.ndim)
        if node.attr in ("size", "ndim"):
            return INT
        return DTYPE

    def subscript(self, base, index):
        if base.kind == "tuple":
            if isinstance(index, gast.Constant) and isinstance(index.value, int) and base.elts:
                return base.elts[index.value]
            return UNKNOWN
        items = index.elts if isinstance(index, gast.Tuple) else [index]
        if base.ndim is None:
            return Type(base.kind, None)
        rank, advanced = base.ndim, []
        for item in items:
            if isinstance(item, gast.Constant) and item.value in (None, Ellipsis):
                rank += item.value is None  # np.newaxis adds an axis
                continue
            if isinstance(item, gast.Slice):
                continue
            typ = self.atom(item)
            if typ.kind == "int" and typ.ndim == 0:
                rank -= 1
            else:
                advanced.append(typ)
        if not advanced:
            return Type(base.kind, rank)
        if len(advanced) == 1 and advanced[0].ndim is not None:
            # one array of indices: its axes replace the one it indexes (a mask's, the ones it
            # covers)
            index = advanced[0]
            covered = index.ndim if index.kind == "bool" else 1
            return Type(base.kind, rank - covered + (1 if index.kind == "bool" else index.ndim))
        return Type(base.kind, None)  # several arrays of indices broadcast together: rank from data
