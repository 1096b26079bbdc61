"""Every derivative mode of a function, checked against finite differences.

What `python -m s2sjax check` runs.

The reference is an independent one: central differences of order 4 on the
plain Python function, in float64, element by element (step `1e-4 * max(1,
|x|)`). Each mode is compared with the Jacobian they give:

- grad and value_and_grad (scalar outputs), jacfwd and jacrev, per argument;
- jvp along a random tangent, against the Jacobians applied to it;
- vjp along a random cotangent, against the Jacobians transposed.

At a kink or a jump the finite differences mean nothing: where the one-sided
differences (forward and backward, order 2) disagree, a row that does not
match says so instead of MISMATCH.
"""

import inspect
from dataclasses import dataclass

import numpy as np

from . import api

STEP = 1e-4
RTOL, ATOL = 1e-6, 1e-9


@dataclass
class Row:
    mode: str
    wrt: str
    abs_error: float = float("nan")
    rel_error: float = float("nan")
    problem: str = ""  # the error a mode raised, if it raised one
    scale: float = 0.0  # the largest entry of the reference
    rtol: float = RTOL
    atol: float = ATOL
    kink: bool = False  # the one-sided differences of the reference disagree

    @property
    def ok(self):
        return not self.problem and self.abs_error <= self.atol + self.rtol * self.scale

    @property
    def result(self):
        if self.ok:
            return "ok"
        if self.problem:
            return f"ERROR: {self.problem}"
        if self.kink:
            return "KINK: the one-sided differences disagree here; check at another point"
        return "MISMATCH"


def check(fun, args, argnums=None, target="cpu", seed=0, rtol=RTOL, atol=ATOL):
    """The rows of the table: one per mode and argument (see the module docstring)."""
    args = tuple(_as_float64(a) for a in args)
    for a in args:
        if type(a) in (tuple, list, dict):
            raise TypeError(
                "check takes arrays and numbers as arguments (flatten containers first)"
            )
    wrt = [i for i, a in enumerate(args) if _is_float(a)] if argnums is None else list(argnums)
    if not wrt:
        raise TypeError("check needs at least one float argument to differentiate")
    out = np.asarray(fun(*args), dtype=float)
    differences = {i: _differences(fun, args, i) for i in wrt}
    jacobians = {i: jacobian for i, (jacobian, _) in differences.items()}
    kinks = {i for i, (_, kink) in differences.items() if kink}
    names = list(inspect.signature(fun).parameters)
    rows = []
    for i in wrt:
        name = names[i] if i < len(names) else str(i)
        if out.ndim == 0:
            rows.append(
                _row(
                    "grad",
                    name,
                    lambda: api.grad(fun, argnums=i, target=target)(*args),
                    jacobians[i],
                )
            )
            rows.append(
                _row(
                    "value_and_grad",
                    name,
                    lambda: _value_then_grad(
                        api.value_and_grad(fun, argnums=i, target=target)(*args), out
                    ),
                    jacobians[i],
                )
            )
        rows.append(
            _row(
                "jacfwd",
                name,
                lambda: api.jacfwd(fun, argnums=i, target=target)(*args),
                jacobians[i],
            )
        )
        rows.append(
            _row(
                "jacrev",
                name,
                lambda: api.jacrev(fun, argnums=i, target=target)(*args),
                jacobians[i],
            )
        )
    rng = np.random.default_rng(seed)
    tangents = tuple(
        rng.normal(size=np.shape(a)) if i in wrt else np.zeros(np.shape(a))
        for i, a in enumerate(args)
    )
    pushed = sum(_apply(jacobians[i], tangents[i]) for i in wrt)
    rows.append(
        _row(
            "jvp",
            "a random tangent",
            lambda: api.jvp(
                fun, args, tuple(_like(t, a) for t, a in zip(tangents, args)), target=target
            )[1],
            pushed,
        )
    )
    cotangent = rng.normal(size=out.shape)
    pulled = np.concatenate(
        [np.ravel(np.tensordot(cotangent, jacobians[i], out.ndim)) for i in wrt]
    )
    rows.append(
        _row(
            "vjp",
            "a random cotangent",
            lambda: _pulled(fun, args, cotangent, out, wrt, target),
            pulled,
        )
    )
    at_kinks = {names[i] if i < len(names) else str(i) for i in kinks}
    for row in rows:
        row.rtol, row.atol = rtol, atol
        # jvp and vjp mix every argument's differences
        row.kink = row.wrt in at_kinks or (bool(kinks) and row.mode in ("jvp", "vjp"))
    return rows


def numerical_jacobian(fun, args, i):
    """d fun / d args[i], shape `out.shape + args[i].shape`, by order-4 central differences."""
    return _differences(fun, args, i)[0]


def _differences(fun, args, i):
    """(`numerical_jacobian`, whether the one-sided differences of order 2 disagree somewhere:
    a kink or a jump, where no derivative is to be trusted)."""
    x = np.asarray(args[i], dtype=float)
    columns, kink = [], False
    for k in range(x.size):
        h = STEP * max(1.0, abs(x.flat[k]))

        def at(step):
            moved = x.copy()
            moved.flat[k] += step
            value = moved if np.ndim(args[i]) else float(moved)
            return np.asarray(fun(*args[:i], value, *args[i + 1 :]), dtype=float)

        here, ahead, behind, ahead2, behind2 = at(0.0), at(h), at(-h), at(2 * h), at(-2 * h)
        central = (8 * (ahead - behind) - (ahead2 - behind2)) / (12 * h)
        forward = (4 * ahead - 3 * here - ahead2) / (2 * h)
        backward = (3 * here - 4 * behind + behind2) / (2 * h)
        gap = np.max(np.abs(forward - backward), initial=0.0)
        kink |= bool(gap > 1e-3 * (1.0 + np.max(np.abs(central), initial=0.0)))
        columns.append(central)
    out_shape = np.shape(columns[0]) if columns else ()
    jacobian = (
        np.moveaxis(
            np.array(columns).reshape(x.shape + out_shape), range(x.ndim), range(-x.ndim, 0)
        )
        if x.ndim
        else columns[0]
    )
    return jacobian, kink


def describe(fun, args, rtol=RTOL, atol=ATOL):
    """The point checked, the step sizes and the tolerances, as lines above the table."""
    names = list(inspect.signature(fun).parameters)
    shown = ", ".join(
        f"{names[i] if i < len(names) else i} = {_shown(a)}" for i, a in enumerate(args)
    )
    return (
        f"at {shown}\n"
        f"reference: central differences of order 4, step {STEP:g} * max(1, |x|) per element; "
        f"ok when max abs error <= {atol:g} + {rtol:g} * max |reference|"
    )


def _shown(value):
    if isinstance(value, np.ndarray):
        text = np.array2string(value, threshold=6, edgeitems=2, precision=4)
        return f"{' '.join(text.split())} (shape {value.shape}, {value.dtype})"
    return repr(value)


def table(rows):
    """The rows as a plain-text table."""
    lines = [f"{'mode':<16}{'w.r.t.':<20}{'max abs error':>15}{'max rel error':>15}  result"]
    for row in rows:
        lines.append(
            f"{row.mode:<16}{row.wrt:<20}{row.abs_error:>15.2e}{row.rel_error:>15.2e}  {row.result}"
        )
    return "\n".join(lines)


def _row(mode, wrt, compute, reference):
    try:
        got = np.asarray(compute(), dtype=float)
    except Exception as exc:  # a mode that fails is a row of the table, not the end of the check
        return Row(mode, wrt, problem=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    reference = np.asarray(reference, dtype=float)
    if got.shape != reference.shape:
        return Row(mode, wrt, problem=f"shape {got.shape}, expected {reference.shape}")
    error = float(np.max(np.abs(got - reference))) if got.size else 0.0
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    return Row(mode, wrt, error, error / scale if scale else error, scale=scale)


def _value_then_grad(value_and_grad, out):
    value, grad = value_and_grad
    if not np.allclose(value, out, rtol=1e-12, atol=0.0):
        raise ValueError(f"the value {value} is not the function's {out}")
    return grad


def _pulled(fun, args, cotangent, out, wrt, target):
    _, pullback = api.vjp(fun, *args, target=target)
    cotangents = pullback(cotangent if out.ndim else float(cotangent))
    return np.concatenate([np.ravel(cotangents[i]) for i in wrt])


def _apply(jacobian, tangent):
    return (
        np.tensordot(jacobian, tangent, np.ndim(tangent))
        if np.ndim(tangent)
        else jacobian * tangent
    )


def _like(tangent, primal):
    return float(tangent) if np.ndim(primal) == 0 else tangent


def _is_float(value):
    return isinstance(value, (float, np.floating)) or (
        isinstance(value, np.ndarray) and value.dtype.kind == "f"
    )


def _as_float64(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    return float(value) if isinstance(value, np.floating) else value
