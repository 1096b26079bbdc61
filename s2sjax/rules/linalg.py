"""Linear algebra: `@`, np.dot, np.matmul, np.outer.

Adjoint templates depend on the operands' ranks (1 or 2, or a scalar for
np.dot), so they are chosen per call from the types.
"""

import operator

import numpy as np

from ..abstract import Type
from .registry import Rule, RuleError, register, register_operator_function


def _matmul_rank(a, b):
    if a is None or b is None:
        return None
    return {(2, 2): 2, (2, 1): 1, (1, 2): 1, (1, 1): 0}.get((a, b))


def _product_result(types, nodes):
    a, b = types["a"], types["b"]
    kind = "float" if "float" in (a.kind, b.kind) else a.kind
    if a.ndim == 0 or b.ndim == 0:  # np.dot with a scalar is multiplication
        return Type(kind, max(a.ndim or 0, b.ndim or 0))
    return Type(kind, _matmul_rank(a.ndim, b.ndim))


# (rank of a, rank of b) -> (adjoint of a, adjoint of b)
# rt.matmul is `@` that accepts two dtypes: an adjoint may be float64 where `a` is float32.
_PRODUCT_ADJOINTS = {
    (2, 2): ("rt.matmul(g, np.transpose(b))", "rt.matmul(np.transpose(a), g)"),
    (2, 1): ("np.outer(g, b)", "rt.matmul(np.transpose(a), g)"),
    (1, 2): ("rt.matmul(b, g)", "np.outer(a, g)"),
    (1, 1): ("g * b", "g * a"),
}


def _product_adjoint(which):
    def template(types, nodes):
        ranks = (types["a"].ndim, types["b"].ndim)
        if 0 in ranks:
            return {"a": "rt.unbroadcast(g * b, a)", "b": "rt.unbroadcast(g * a, b)"}[which]
        if ranks not in _PRODUCT_ADJOINTS:
            raise RuleError(
                f"the derivative of a matrix product of rank {ranks[0]} by rank {ranks[1]} "
                "is not supported"
            )
        return _PRODUCT_ADJOINTS[ranks][which == "b"]

    return template


_ADJOINTS = {"a": _product_adjoint("a"), "b": _product_adjoint("b")}
BILINEAR = ("a", "b")  # forward: (a @ b)_dot = a_dot @ b + a @ b_dot
register(Rule("@", ("a", "b"), _product_result, _ADJOINTS, linear=BILINEAR, product=True))
register(
    Rule("np.dot", ("a", "b"), _product_result, _ADJOINTS, linear=BILINEAR, product=True), np.dot
)
register_operator_function(np.matmul, "@", "np.matmul")  # np.matmul(a, b) is a @ b
register_operator_function(operator.matmul, "@", "operator.matmul")
register(
    Rule(
        "np.outer",
        ("a", "b"),
        lambda types, nodes: Type("float", 2),
        {
            "a": "rt.reshape_like(rt.matmul(g, np.ravel(b)), a)",
            "b": "rt.reshape_like(rt.matmul(np.ravel(a), g), b)",
        },
        linear=BILINEAR,
    ),
    np.outer,
)
