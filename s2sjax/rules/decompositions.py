"""np.linalg: solve, inv, det, slogdet, cholesky, eigh, svd, pinv, norm, qr, multi_dot (a chain
of `@`); eig and eigvals are refused (their results are complex in general).

Each function takes one matrix (rank 2) or, as NumPy, a stack of matrices
(rank 3 or more: its last two axes), which passes/linalg_stacks.py writes out
as a loop over the stack; `STACKED` gives, per function, the dimensions of
its result for one matrix. A function returning a tuple
(slogdet, eigh, svd) is written by normalize as a tuple display of its parts
(`Rule.parts`), one runtime helper per element, each with its own derivative.

Derivatives of solve, inv, det, slogdet and cholesky are templates of other
rules (`@`, np.linalg.solve, np.transpose, linear helpers), so their own
derivatives (hessian, jvp of grad) follow. Those of eigh, svd, pinv and qr are
runtime helpers linear in the seed and not differentiable again: a second
derivative is refused. eigh and cholesky read one triangle of their matrix,
as NumPy does: the derivative with respect to the other triangle is zero.
The formulas assume what makes the function differentiable: an invertible
matrix, distinct eigenvalues and singular values, a constant rank for pinv.
"""

import gast
import numpy as np

from ..abstract import FLOAT, Type
from .reductions import never_typed
from .registry import Rule, RuleError, refuse, register

MATRIX = Type("float", 2)


def _matrix(types, param, function):
    """`types[param]` must be one matrix: the rank is checked, a stack refused."""
    ndim = types[param].ndim
    if ndim != 2:
        stack = " (a stack of matrices)" if ndim is not None and ndim > 2 else ""
        raise RuleError(
            f"{function} of a rank-{ndim} array{stack} is not supported: s2sjax computes it on one "
            "matrix (rank 2); loop over the stack"
        )


def _of_matrix(function, result):
    """A result function that checks that its argument `a` is one matrix."""

    def typed(types, nodes):
        _matrix(types, "a", function)
        return result

    return typed


def _stack_rank(types, param, function):
    """The number of leading axes of `types[param]`, a matrix (0) or a stack of matrices."""
    ndim = types[param].ndim
    if ndim is None or ndim < 2:
        raise RuleError(
            f"{function} of a rank-{ndim} array is not supported: it takes a matrix (rank 2) or "
            "a stack of matrices"
        )
    return ndim - 2


def _of_stack(function, dims):
    """A result function for a matrix or a stack `a`: `dims` dimensions per matrix."""

    def typed(types, nodes):
        rank = _stack_rank(types, "a", function) + len(dims)
        return Type("float", rank) if rank else FLOAT

    return typed


# the dimensions of the result for one matrix of m rows and n columns ("k": min(m, n), "q": the
# columns of solve's b), by function (or a function of the argument types choosing them); a
# stack's are its leading ones followed by them
STACKED = {
    "np.linalg.solve": lambda types: "m" if types["b"].ndim == 1 else "mq",
    "np.linalg.inv": "mn",
    "np.linalg.cholesky": "mn",
    "np.linalg.pinv": "nm",
    "np.linalg.det": "",
    "rt.det_sign": "",
    "rt.log_abs_det": "",
    "rt.eigh_values": "n",
    "rt.eigh_vectors": "mn",
    "rt.svd_s": "k",
    "rt.svd_u": "mk",
    "rt.svd_vh": "kn",
    "rt.qr_q": "mk",
    "rt.qr_r": "kn",
}


def _written_as_parts(types, nodes):
    raise AssertionError("normalize writes a call of a function with parts as its parts")


def _linalg(name, params, result, adjoints=None, **forms):
    """Register np.linalg.<name>: a matrix function, which a CUDA device function cannot compute."""
    rule = Rule(f"np.linalg.{name}", params, result, adjoints or {}, product=True, **forms)
    return register(rule, getattr(np.linalg, name))


# ---- solve, inv, det, slogdet: templates of other rules, so second derivatives follow


def _solve_result(types, nodes):
    """NumPy 2's: b is one vector (rank 1) or a matrix or stack of matrices, broadcast with a."""
    lead = _stack_rank(types, "a", "np.linalg.solve")
    if types["b"].ndim is None or types["b"].ndim < 1:
        raise RuleError("np.linalg.solve takes b of rank 1 or more")
    if types["b"].ndim == 1:
        return Type("float", lead + 1)
    return Type("float", max(lead + 2, types["b"].ndim))


def _solve_adjoint_a(types, nodes):
    """-(a^-T g) out^T: an outer product where b (and so the result) is a vector."""
    if types["b"].ndim == 1:
        return "-np.outer(rt.solve(np.transpose(a), g), out)"
    return "-rt.matmul(rt.solve(np.transpose(a), g), np.transpose(out))"


_linalg(
    "solve",
    ("a", "b"),
    _solve_result,
    {"a": _solve_adjoint_a, "b": "rt.solve(np.transpose(a), g)"},
    tangents={"a": "-np.linalg.solve(a, rt.matmul(d, out))"},
    linear=("b",),
)
_linalg(
    "inv",
    ("a",),
    _of_stack("np.linalg.inv", "mn"),
    {"a": "-rt.matmul(np.transpose(out), rt.matmul(g, np.transpose(out)))"},
    tangents={"a": "-rt.matmul(out, rt.matmul(d, out))"},
)
_linalg(
    "det",
    ("a",),
    _of_stack("np.linalg.det", ""),
    {"a": "g * out * np.transpose(np.linalg.inv(a))"},
    tangents={"a": "out * np.sum(np.transpose(np.linalg.inv(a)) * d)"},
)
_linalg("slogdet", ("a",), _written_as_parts, parts=("rt.det_sign(a)", "rt.log_abs_det(a)"))

# ---- cholesky: L of a = L L^T, read from a's lower triangle (Iain Murray, arXiv:1602.07527)

# S = L^-T phi(L^T g) L^-1, phi: the lower triangle with half its diagonal; then folded onto the
# lower triangle that NumPy reads.
# (triangular solves with L: rt.solve_lower_transposed(out, x) is L^-T x)
_CHOLESKY_ADJOINT = (
    "rt.to_triangle(rt.solve_lower_transposed(out, np.transpose(rt.solve_lower_transposed("
    "out, np.transpose(rt.tril_halved(rt.matmul(np.transpose(out), g)))))), 'L')"
)
# dL = L phi(L^-1 da L^-T), da the symmetric matrix read from d's lower triangle
_CHOLESKY_TANGENT = (
    "rt.matmul(out, rt.tril_halved(rt.solve_lower(out, np.transpose(rt.solve_lower("
    "out, rt.from_triangle(d, 'L'))))))"
)
_linalg(
    "cholesky",
    ("a",),
    _of_stack("np.linalg.cholesky", "mn"),
    {"a": _CHOLESKY_ADJOINT},
    tangents={"a": _CHOLESKY_TANGENT},
)

# ---- eigh, svd, pinv: derivatives by runtime helpers, linear in the seed


def _eigh_parts(bound):
    """eigh's eigenvalues and eigenvectors, of the lower triangle only: Numba's eigh reads no
    other, and the upper one gives eigenvectors of other signs than NumPy's eigh(a, "U")."""
    uplo = bound["UPLO"]
    if not (isinstance(uplo, gast.Constant) and uplo.value == "L"):
        raise RuleError(
            "np.linalg.eigh with UPLO other than 'L' is not supported: s2sjax reads the lower "
            "triangle, and from the upper one its eigenvectors' signs would differ from NumPy's; "
            "write np.linalg.eigh(a.T) for the upper triangle of a (its own signs)"
        )
    return ("rt.eigh_values(a, UPLO)", "rt.eigh_vectors(a, UPLO)")


_linalg(
    "eigh",
    ("a", "UPLO"),
    _written_as_parts,
    defaults={"UPLO": "L"},
    static=("UPLO",),
    parts=_eigh_parts,
)


def _svd_parts(nodes):
    """u, s, vh; s alone with compute_uv=False."""
    if isinstance(nodes["compute_uv"], gast.Constant) and not nodes["compute_uv"].value:
        return "rt.svd_s(a)"
    return ("rt.svd_u(a, full_matrices)", "rt.svd_s(a)", "rt.svd_vh(a, full_matrices)")


_linalg(
    "svd",
    ("a", "full_matrices", "compute_uv"),
    _written_as_parts,
    defaults={"full_matrices": True, "compute_uv": True},
    static=("full_matrices", "compute_uv"),
    parts=_svd_parts,
)
_linalg(
    "pinv",
    ("a",),
    _of_stack("np.linalg.pinv", "nm"),
    {"a": "rt.pinv_adjoint(g, a, out)"},
    tangents={"a": "rt.pinv_tangent(d, a, out)"},
)

# ---- norm: written out as sums, powers and extremes of |x| (and the singular values for
# ord='nuc'), so that its derivatives, second ones included, are theirs. Where x is 0 the
# 2-norm's derivative is NumPy's 0 / 0: nan, as autograd's.


def _norm_parts(nodes):
    """np.linalg.norm(x, ord, axis) as one expression of x, or a RuleError."""
    ord_, axis = (_constant(nodes, p) for p in ("ord", "axis"))
    if _constant(nodes, "keepdims"):
        raise RuleError("np.linalg.norm with keepdims=True is not supported")
    if isinstance(axis, tuple):
        return _matrix_norm_along(ord_, axis)
    if ord_ in ("fro", "nuc") and axis is not None:
        raise RuleError(f"np.linalg.norm with ord={ord_!r} takes a tuple of two axes")
    along = "" if axis is None else f", {axis}"  # Numba has no np.max(x, None)
    if ord_ in (None, "fro"):
        return f"np.sqrt(np.sum(x * x{along}))"
    if ord_ == "nuc":
        return "np.sum(rt.svd_s(x))"
    # a number: a vector's p-norm (a matrix's ord=1, 2, inf are other norms)
    x = "np.absolute(x)" if axis is not None else "np.absolute(rt.norm_vector(x))"
    if ord_ in (float("inf"), -float("inf")):
        return f"np.{'max' if ord_ > 0 else 'min'}({x}{along})"
    if ord_ == 0 or not isinstance(ord_, (int, float)):
        raise RuleError(f"the derivative of np.linalg.norm with ord={ord_!r} is not supported")
    return (
        f"np.sum({x}, {axis})" if ord_ == 1 else f"np.sum({x} ** {ord_!r}, {axis}) ** {1 / ord_!r}"
    )


def _matrix_norm_along(ord_, axes):
    """The Frobenius norm over two axes, given as numbers >= 0: the later one summed first; the
    nuclear norm: the sum of the singular values of the stack of matrices along them."""
    if ord_ not in (None, "fro", "nuc") or len(axes) != 2 or min(axes) < 0 or axes[0] == axes[1]:
        raise RuleError(
            f"np.linalg.norm with ord={ord_!r} along the axes {axes!r} is not supported: "
            "s2sjax computes the Frobenius and nuclear norms along two axes given as numbers >= 0"
        )
    if ord_ == "nuc":
        rows, columns = axes
        rows -= rows > columns  # once the columns' axis has moved to the end
        return f"np.sum(rt.svd_s(np.moveaxis(np.moveaxis(x, {columns}, -1), {rows}, -2)), -1)"
    first, second = sorted(axes)
    return f"np.sqrt(np.sum(np.sum(x * x, {second}), {first}))"


def _constant(nodes, param):
    node = nodes[param]
    if isinstance(node, gast.Tuple) and all(isinstance(e, gast.Constant) for e in node.elts):
        return tuple(e.value for e in node.elts)
    if not isinstance(node, gast.Constant):
        raise RuleError(f"np.linalg.norm needs {param} written as a constant")
    return node.value


_linalg(
    "norm",
    ("x", "ord", "axis", "keepdims"),
    _written_as_parts,
    defaults={"ord": None, "axis": None, "keepdims": False},
    static=("ord", "axis", "keepdims"),
    parts=_norm_parts,
)


# ---- qr: reduced, its parts q and r by runtime helpers (derivatives for m >= n rows)


def _qr_parts(bound):
    mode = bound["mode"]
    if not (isinstance(mode, gast.Constant) and mode.value == "reduced"):
        raise RuleError(
            "np.linalg.qr with a mode other than 'reduced' is not supported: the extra columns "
            "of a complete q are not unique, so have no derivative"
        )
    return ("rt.qr_q(a)", "rt.qr_r(a)")


_linalg(
    "qr",
    ("a", "mode"),
    _written_as_parts,
    defaults={"mode": "reduced"},
    static=("mode",),
    parts=_qr_parts,
)

# ---- multi_dot: a chain of `@`, left to right (NumPy picks the cheapest order: the same values)


def _expand_multi_dot(given):
    arrays = given["arrays"]
    if not isinstance(arrays, gast.Tuple) or len(arrays.elts) < 2:
        raise RuleError("np.linalg.multi_dot takes a list or tuple of two or more arrays")
    chain = arrays.elts[0]
    for array in arrays.elts[1:]:
        chain = gast.BinOp(chain, gast.MatMult(), array)
    return chain


register(
    Rule(
        "np.linalg.multi_dot",
        ("arrays", "out"),
        never_typed,
        defaults={"out": None},
        sequence="arrays",
        expands=_expand_multi_dot,
    ),
    np.linalg.multi_dot,
)

for _complex in (np.linalg.eig, np.linalg.eigvals):
    refuse(
        _complex,
        "a general matrix's eigenvalues and eigenvectors are complex, and s2sjax has no complex "
        "numbers",
        "for a symmetric matrix, np.linalg.eigh gives them real (and differentiable)",
    )
