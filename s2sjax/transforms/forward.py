"""transform (forward): a normalized function -> its Jacobian-vector product (JVP).

Every active variable `x` gets a tangent `x_dot`, computed right after `x`, so
the generated code keeps the function's own shape: the same branches, the
same loops, no tape. An in-place update `a[i] = v` gets its twin
`a_dot[i] = v_dot`. The generated function takes the primal arguments, then
the tangents of the differentiated ones, then captured values, and returns
`(outputs, their tangents)`.

Tangents alias each other exactly where their primals do: a copy or a view of
`x` gives a copy or view of `x_dot`, and a fresh primal array that is later
updated in place gets a fresh tangent (never one shared with an operand).
This is what makes forward mode safe on code that updates arrays in place,
the code the reverse transform generates included.
"""

import copy

import gast

from .. import rules
from ..backend.naming import name
from ..passes.queries import is_store
from .common import atom_type, generated_name, positional, with_line_comments, zeros_like


def transform(program, types, active, spec, namer, stored):
    """The JVP function of `program` for `spec.argnums`; `stored` are the arrays updated in place.

    Adds the type of every tangent it creates to `types` (a tangent has its primal's type).
    """
    builder = _Forward(types, active, namer, program.origins, stored)
    wrt = [program.params[i] for i in spec.argnums]
    tangent_params = [builder.tangent(w) for w in wrt]
    body = builder.block(program.tree.body[:-1])  # without the final `return`
    outputs = [name(o) for o in program.outputs]
    tangents = [builder.tangent_of(o) for o in program.outputs]
    if len(outputs) == 1:
        result = gast.Tuple([outputs[0], tangents[0]], gast.Load())
    else:
        result = gast.Tuple(
            [gast.Tuple(outputs, gast.Load()), gast.Tuple(tangents, gast.Load())], gast.Load()
        )
    types.update(builder.tangent_types())
    fdef = copy.copy(program.tree)
    fdef.name = generated_name(program.tree.name, "jvp")
    fdef.args = positional(program.params + tangent_params + [c.name for c in program.captured])
    fdef.body = with_line_comments(body, program.origins) + [gast.Return(result)]
    return fdef


class _Forward:
    def __init__(self, types, active, namer, origins, stored):
        self.types = types
        self.origins = origins
        self.active = active
        self.namer = namer
        self.stored = stored
        self.tangents = {}  # primal name -> tangent name

    def tangent(self, primal):
        if primal not in self.tangents:
            self.tangents[primal] = self.namer.tangent(primal)
        return self.tangents[primal]

    def tangent_types(self):
        return {t: self.types[p] for p, t in self.tangents.items() if p in self.types}

    def tangent_of(self, primal):
        """`x_dot`, or a zero of x's shape when x does not depend on the differentiated inputs."""
        if primal in self.active:
            return name(self.tangent(primal))
        return zeros_like(primal)

    def block(self, stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, gast.If):
                stmt = gast.copy_location(
                    gast.If(stmt.test, self.block(stmt.body), self.block(stmt.orelse)), stmt
                )
            elif isinstance(stmt, gast.For):
                stmt = gast.copy_location(
                    gast.For(stmt.target, stmt.iter, self.block(stmt.body), [], None), stmt
                )
            elif isinstance(stmt, gast.While):
                stmt = gast.copy_location(gast.While(stmt.test, self.block(stmt.body), []), stmt)
            elif is_store(stmt):
                out.extend(self.store(stmt))
            elif isinstance(stmt, gast.Assign) and stmt.targets[0].id in self.active:
                out.append(stmt)
                out.append(self.assign(stmt))
                continue
            out.append(stmt)
        return out

    def store(self, stmt):
        """`a[index] = v` -> `a_dot[index] = v_dot` (0.0 where v is constant)."""
        target = stmt.targets[0]
        if target.value.id not in self.active:
            return []
        value = stmt.value
        tangent = (
            name(self.tangent(value.id))
            if isinstance(value, gast.Name) and value.id in self.active
            else gast.Constant(0.0, None)
        )
        element = gast.Subscript(
            name(self.tangent(target.value.id)), copy.deepcopy(target.slice), gast.Store()
        )
        return [gast.Assign([element], tangent)]

    def assign(self, stmt):
        target, value = stmt.targets[0].id, stmt.value
        try:
            tangent = self.tangent_expression(target, value)
        except rules.RuleError as exc:
            raise self.origins[id(stmt)].error(stmt, str(exc)) from None
        if tangent is None:
            tangent = zeros_like(target)
        elif target in self.stored and not _aliases(value) and _aliases(tangent):
            tangent = gast.Call(
                rules.dotted("np.copy"), [tangent], []
            )  # the primal is fresh: so is its tangent
        return gast.Assign([name(self.tangent(target), store=True)], tangent)

    def tangent_expression(self, target, value):
        """The tangent of `target = value`, or None when it is zero."""
        if isinstance(value, gast.Name):
            return name(self.tangent(value.id)) if value.id in self.active else None
        if isinstance(value, gast.Subscript):
            base = value.value.id
            return (
                gast.Subscript(name(self.tangent(base)), copy.deepcopy(value.slice), gast.Load())
                if base in self.active
                else None
            )
        rule, bound = rules.rule_of(value)
        if rule is None:
            return None
        arg_types = {p: self._type(n) for p, n in bound.items()}
        library = rule.template_library(self.types[target].is_scalar)
        terms, mentioned = [], set()
        for param, node in bound.items():
            if not (isinstance(node, gast.Name) and node.id in self.active):
                continue
            template = rule.tangent_template(param, arg_types, bound)
            if template is None:
                continue
            d = name(self.tangent(node.id))
            if template is rules.LINEAR:
                terms.append(_replace(value, node, d))
                continue
            terms.append(
                rules.instantiate(template, {**bound, "out": name(target), "d": d}, library)
            )
            mentioned |= {param} | {n.id for n in gast.walk(template) if isinstance(n, gast.Name)}
        if not terms:
            return None
        total = terms[0]
        for term in terms[1:]:
            total = gast.BinOp(total, gast.Add(), term)
        if rule.broadcasts and not self.full_shape(mentioned, arg_types, target):
            total = gast.Call(rules.dotted("rt.broadcast_to"), [total, name(target)], [])
        return total

    def full_shape(self, mentioned, arg_types, target):
        """Whether a tangent built from the `mentioned` operands has the result's shape: it
        does when it mentions `out` or every operand that is an array (NumPy broadcasting)."""
        if self.types[target].ndim == 0 or "out" in mentioned:
            return True
        return all(p in mentioned for p, t in arg_types.items() if t.ndim != 0)

    def _type(self, node):
        return atom_type(node, self.types)


def _replace(value, old, new):
    """A copy of `value` with the node `old` (found by identity) replaced by `new`."""
    memo = {}
    result = copy.deepcopy(value, memo)
    old_copy = memo[id(old)]

    class Replace(gast.NodeTransformer):
        def visit(self, node):
            return new if node is old_copy else super().visit(node)

    return Replace().visit(result)


def _aliases(value):
    """Whether `target = value` may share memory with an operand (a copy or a view).

    Its tangent may too.
    """
    if isinstance(value, (gast.Name, gast.Subscript)):
        return True
    rule = rules.callee(value)
    return rule is not None and rule.view
