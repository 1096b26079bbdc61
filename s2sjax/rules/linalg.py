"""Linear algebra: `@`, np.dot, np.matmul, np.outer.

Adjoint templates depend on the operands' ranks (1 or 2, or a scalar for
np.dot), so they are chosen per call from the types.
"""

import operator

import numpy as np

from ..abstract import Type
from .registry import Rule, RuleError, register, register_operator_function


def _product_rank(a, b, dot):
    """The rank of `a @ b` (or of np.dot(a, b) with `dot`) of operands of ranks `a`, `b` >= 1."""
    if a == 1 or b == 1:
        return a + b - 2
    return a + b - 2 if dot else max(a, b)


def _product_result(dot):
    def result(types, nodes):
        a, b = types["a"], types["b"]
        kind = "float" if "float" in (a.kind, b.kind) else a.kind
        if a.ndim == 0 or b.ndim == 0:  # np.dot with a scalar is multiplication
            return Type(kind, max(a.ndim or 0, b.ndim or 0))
        if a.ndim is None or b.ndim is None:
            return Type(kind, None)
        return Type(kind, _product_rank(a.ndim, b.ndim, dot))

    return result


def _product_as_einsum(dot):
    """np.einsum for a product with an operand of rank 3 or more (its ranks known), which
    Numba's `@` and np.dot do not take, so that its derivative is the einsum's."""

    def lower(types, nodes):
        ra, rb = types["a"].ndim, types["b"].ndim
        if None in (ra, rb) or 0 in (ra, rb) or max(ra, rb) < 3:
            return None
        if not dot and min(ra, rb) >= 3:  # batch axes on both sides, broadcast
            return "rt.batch_matmul(a, b)"
        return "np.einsum('{},{}->{}', a, b)".format(*_product_letters(ra, rb, dot))

    return lower


def _product_letters(ra, rb, dot):
    """The einsum letters of the operands and the result of np.dot(a, b) (`dot`) or `a @ b`."""
    if dot or 1 in (ra, rb):  # np.dot: every axis of a but its last, then every axis of b but j
        a = "abcdefgh"[: ra - 1] + "j"
        b = "j" if rb == 1 else "pqrstuvw"[: rb - 2] + "jk"
        return a, b, a[:-1] + b.replace("j", "")
    batch = "abcdefgh"[: max(ra, rb) - 2]
    a, b = (batch + "ij", "jk") if ra > rb else ("ij", batch + "jk")
    return a, b, batch + "ik"


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
register(
    Rule(
        "@",
        ("a", "b"),
        _product_result(dot=False),
        _ADJOINTS,
        linear=BILINEAR,
        product=True,
        lower=_product_as_einsum(dot=False),
    )
)
register(
    Rule(
        "np.dot",
        ("a", "b"),
        _product_result(dot=True),
        _ADJOINTS,
        linear=BILINEAR,
        product=True,
        lower=_product_as_einsum(dot=True),
    ),
    np.dot,
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
