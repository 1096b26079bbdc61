"""Derivative rules, one family per module; importing this package registers them all."""

from . import (  # noqa: F401  (registration side effects)
    along_axis,
    decompositions,
    elementwise,
    linalg,
    lstsq,
    ordering,
    products,
    reduce2,
    reductions,
    runtime,
    sequences,
    shape,
    small,
    special,
    stacking,
    stats,
)
from .registry import (
    LINEAR,
    Rule,
    RuleError,
    all_rules,
    by_name,
    callee,
    dotted,
    dotted_name,
    instantiate,
    lookup,
    operation,
    operator_rule,
    parse_template,
    refusal,
    rule_of,
)

METHODS = {
    **reductions.METHODS,
    **shape.METHODS,
    **ordering.METHODS,
    **small.METHODS,
    **reduce2.METHODS,
}

__all__ = [
    "LINEAR",
    "Rule",
    "RuleError",
    "all_rules",
    "by_name",
    "callee",
    "dotted",
    "dotted_name",
    "instantiate",
    "lookup",
    "operation",
    "operator_rule",
    "parse_template",
    "refusal",
    "rule_of",
    "METHODS",
]
