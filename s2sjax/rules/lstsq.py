"""np.linalg.lstsq(a, b, rcond): the least-squares solution x and its companions.

Written by normalize as the tuple display of its parts (`Rule.parts`): the
solution `rt.lstsq_solution`, the residuals `rt.lstsq_residuals`, the rank
`rt.lstsq_rank` and the singular values `rt.svd_s` (NumPy's lstsq returns
those of `a`). Like NumPy, `a` is one matrix and `b` a vector or a matrix.

The solution's derivatives assume that `a` has full column rank (at least as
many rows as columns), where x = (a^T a)^-1 a^T b. With r = b - a x and
G = a^T a:

    dx = G^-1 (da^T r - a^T da x) + pinv(a) db
    a_bar = r z^T - (a z) x^T,  b_bar = a z,  where z = G^-1 x_bar

They are templates of other rules (solve, `@`, the Gram matrix), so second
derivatives follow. `rt.lstsq_gram` raises where `a` has fewer rows than
columns, so such a derivative is an error, never a wrong number. The
residuals' derivative is refused: NumPy returns them empty where `a` is
rank-deficient or square, so their shape depends on the values.
"""

import numpy as np

from ..abstract import INT, Type
from .decompositions import _matrix, _written_as_parts
from .registry import Rule, RuleError, register
from .runtime import matrix_helper


def _solution_result(types, nodes):
    _matrix(types, "a", "np.linalg.lstsq")
    if types["b"].ndim not in (1, 2):
        raise RuleError(
            f"np.linalg.lstsq takes b of rank 1 or 2, not a rank-{types['b'].ndim} array"
        )
    return Type("float", types["b"].ndim)


def _residuals_result(types, nodes):
    _solution_result(types, nodes)
    return Type("float", 1)


def _rank_result(types, nodes):
    _matrix(types, "a", "np.linalg.lstsq")
    return INT


register(
    Rule(
        "np.linalg.lstsq",
        ("a", "b", "rcond"),
        _written_as_parts,
        defaults={"rcond": None},
        product=True,
        parts=(
            "rt.lstsq_solution(a, b, rcond)",
            "rt.lstsq_residuals(a, b, rcond)",
            "rt.lstsq_rank(a, rcond)",
            "rt.svd_s(a)",
        ),
    ),
    np.linalg.lstsq,
)

_Z = "rt.solve(rt.lstsq_gram(a), g)"  # G^-1 x_bar
_RESIDUAL = "(b - rt.matmul(a, out))"


def _solution_adjoint_a(types, nodes):
    if types["b"].ndim == 1:
        return f"np.outer({_RESIDUAL}, {_Z}) - np.outer(rt.matmul(a, {_Z}), out)"
    return (
        f"rt.matmul({_RESIDUAL}, np.transpose({_Z}))"
        f" - rt.matmul(rt.matmul(a, {_Z}), np.transpose(out))"
    )


matrix_helper(
    "lstsq_solution",
    ("a", "b", "rcond"),
    _solution_result,
    adjoints={"a": _solution_adjoint_a, "b": f"rt.matmul(a, {_Z})"},
    tangents={
        "a": f"rt.solve(rt.lstsq_gram(a), rt.matmul(np.transpose(d), {_RESIDUAL})"
        " - rt.matmul(np.transpose(a), rt.matmul(d, out)))"
    },
    linear=("b",),
)
matrix_helper(
    "lstsq_gram",
    ("a",),
    lambda types, nodes: Type("float", 2),
    adjoints={"a": "rt.matmul(a, g + np.transpose(g))"},
    tangents={"a": "rt.matmul(np.transpose(d), a) + rt.matmul(np.transpose(a), d)"},
)
_NO_RESIDUALS = (
    "NumPy returns the residuals empty where a is rank-deficient or square, so their shape "
    "depends on the values; write np.sum((b - a @ x) ** 2, axis=0) with the solution x"
)
matrix_helper(
    "lstsq_residuals",
    ("a", "b", "rcond"),
    _residuals_result,
    unsupported={"a": _NO_RESIDUALS, "b": _NO_RESIDUALS},
)
matrix_helper("lstsq_rank", ("a", "rcond"), _rank_result)  # an int: no derivative
