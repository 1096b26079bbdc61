"""Derivative rules, one family per module; importing this package registers them all."""

# imported for their registrations
from . import decompositions, elementwise, linalg, reductions, runtime, shape  # noqa: F401
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
    "parse_template",
    "rule_of",
    "METHODS",
]
