"""lower (calls): a call whose rule writes it as another expression once the operands' types are
known (`Rule.lower`): np.tensordot, np.inner and matrix products of rank 3 or more become
np.einsum with its index letters spelled out, and einsum's '...' becomes letters. The rewritten
call has the same type, and its derivative is the einsum's.
"""

import gast

from .. import rules
from ..abstract import UNKNOWN, of_value
from .queries import statements


def lower_calls(program, env):
    """Replace, in place, the value of every `name = call` whose rule lowers it."""
    for stmt in statements(program.tree.body):
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.value, (gast.Call, gast.BinOp))):
            continue
        rule, bound = rules.rule_of(stmt.value)
        if rule is None or rule.lower is None:
            continue
        types = {param: _type_of(node, env) for param, node in bound.items()}
        try:
            template = rule.lower(types, bound)
        except rules.RuleError as exc:
            raise program.origins[id(stmt)].error(stmt, str(exc)) from None
        if template is not None:
            stmt.value = rules.instantiate(gast.parse(template, mode="eval").body, bound, "np")
    return program


def _type_of(node, env):
    if isinstance(node, gast.Name):
        return env.get(node.id, UNKNOWN)
    return of_value(node.value) if isinstance(node, gast.Constant) else UNKNOWN
