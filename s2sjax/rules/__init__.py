"""Derivative rules, one family per module; importing this package registers them all."""

from . import (  # noqa: F401  (registration side effects)
    elementwise,
    linalg,
    products,
    reductions,
    runtime,
    shape,
    special,
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
    rule_of,
)

METHODS = {**reductions.METHODS, **shape.METHODS}

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
    "rule_of",
    "METHODS",
]
