"""Finite-difference oracle for gradients of scalar-output functions.

Everything is evaluated in float64: float32 arguments are converted before the
function is called, so the oracle is the float64 derivative at the float32
point.  The step for element ``x`` is ``step * max(1, |x|)``, rounded so that
``x + h`` and ``x`` differ by exactly ``h``.

Two stencils (central differences, both symmetric):

* ``order=2``: ``(f(x+h) - f(x-h)) / 2h``.  Truncation error ``~h^2 f'''/6``,
  round-off ``~eps |f| / h``; the default step is 1e-6.
* ``order=4``: ``(8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h``.
  Truncation ``~h^4 f^(5)/30``, round-off ``~1.5 eps |f| / h``; the default
  step is 1e-4, which puts both near 1e-12 relative on smooth functions --
  about a hundred times more accurate than order 2 at its best step.  The
  stencil reaches ``2h`` from ``x``, so the point must be at least that far
  from any kink or branch boundary.
"""

from __future__ import annotations

import numpy as np

DEFAULT_STEP = {2: 1e-6, 4: 1e-4}
_STENCILS = {
    # (multiple of h, weight of f(x + k h) - f(x - k h)), divided by h at the end
    2: ((1, 0.5),),
    4: ((1, 2.0 / 3.0), (2, -1.0 / 12.0)),
}


def _to_float64(arg):
    """A float64 copy of a float argument; other arguments unchanged."""
    if isinstance(arg, np.ndarray) and arg.dtype.kind == "f":
        return arg.astype(np.float64)  # always a copy
    if isinstance(arg, np.floating):
        return np.float64(arg)
    return arg


def _with_value(template, flat, index, value):
    """The argument `template` with element `index` set to `value`, of the same
    kind as `template` (Python float, NumPy scalar or ndarray)."""
    if isinstance(template, np.ndarray):
        out = flat.copy()
        out[index] = value
        return out
    if isinstance(template, np.floating):
        return np.float64(value)
    return float(value)


def _call_scalar(fun, args):
    out = fun(*args)
    if np.ndim(out) != 0:
        raise TypeError(
            f"finite differences need a scalar output; "
            f"{getattr(fun, '__qualname__', fun)!s} returned shape {np.shape(out)}"
        )
    return float(out)


def numerical_grad(fun, args, argnum, *, order=4, step=None):
    """d fun(*args) / d args[argnum] by central finite differences in float64.

    args[argnum] may be a Python float, a NumPy floating scalar, or a float
    ndarray of any rank (0-d included).  Returns a float64 ndarray with the
    argument's shape (0-d for scalars).  No argument passed in is modified.
    """
    if order not in _STENCILS:
        raise ValueError(f"order must be one of {sorted(_STENCILS)}, got {order}")
    step = DEFAULT_STEP[order] if step is None else step
    args64 = [_to_float64(a) for a in args]
    template = args64[argnum]
    x = np.array(template, dtype=np.float64)  # a copy, shape () for scalars
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        x0 = float(x[index])
        h = step * max(1.0, abs(x0))
        h = (x0 + h) - x0  # a step that is exact in floating point
        total = 0.0
        for k, weight in _STENCILS[order]:
            values = []
            for sign in (1.0, -1.0):
                point = list(args64)
                point[argnum] = _with_value(template, x, index, x0 + sign * k * h)
                values.append(_call_scalar(fun, point))
            total += weight * (values[0] - values[1])
        grad[index] = total / h
    return grad


def _name(fun, name):
    if name is not None:
        return name
    return getattr(fun, "__qualname__", None) or repr(fun)


def check_grad(fun, args, argnums, grads, rtol, atol, *, name=None, order=4, step=None):
    """Assert that `grads` (one per entry of `argnums`) match finite differences.

    Element-wise test: ``|g - fd| <= atol + rtol * |fd|``; NaN or inf in
    either fails.  On failure the AssertionError names the function, the
    argument index, the worst element (the largest |g - fd| / tolerance) with
    both values, and how many elements failed.
    """
    argnums = tuple(argnums)
    grads = tuple(grads)
    label = _name(fun, name)
    if len(grads) != len(argnums):
        raise AssertionError(f"{label}: {len(grads)} gradients for argnums {argnums}")
    for argnum, g in zip(argnums, grads):
        expected = numerical_grad(fun, args, argnum, order=order, step=step)
        actual = np.asarray(g, dtype=np.float64)
        if actual.shape != expected.shape:
            raise AssertionError(
                f"{label}: gradient wrt argument {argnum} has shape {actual.shape}, "
                f"the argument has shape {expected.shape}"
            )
        err = np.abs(actual - expected)
        tol = atol + rtol * np.abs(expected)
        bad = ~(err <= tol)  # NaN counts as bad
        if not np.any(bad):
            continue
        ratio = np.where(np.isfinite(err), err / tol, np.inf)
        ratio = np.where(bad, ratio, -1.0)
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), actual.shape))
        where = f" at index {worst}" if actual.shape else ""
        detail = ""
        if actual.size <= 24 and actual.shape:
            detail = (
                f"\n  s2sjax: {np.array2string(actual, precision=10)}"
                f"\n  fd:     {np.array2string(expected, precision=10)}"
            )
        raise AssertionError(
            f"{label}: gradient wrt argument {argnum} differs from finite differences"
            f"{where}: s2sjax {float(actual[worst])!r}, fd {float(expected[worst])!r}, "
            f"|diff| {err[worst]:.3g} > tol {tol[worst]:.3g} "
            f"(rtol {rtol:g}, atol {atol:g}); {int(np.sum(bad))} of {actual.size} elements fail"
            f"{detail}"
        )
