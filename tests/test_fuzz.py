"""Random programs (tests/programs.py) under every transformation, against independent oracles.

For each program: grad against float64 finite differences; the dot-product test
<jvp(v), 1> = <v, vjp(1)>; jit and vmap against Python (vmap: a loop); and, for some, grad, jvp
(with its primal value), vjp and vmap on cpu equal to those on python, compiled (a Numba fallback
fails). A program with an update at a list of indices (`a[[0, 2]] = v`) or a list index beside
other indices (`m[[2], 0]`) must be refused by grad and vjp, at that line, with that error and no
other; its jvp is then checked against finite differences. CI runs a fixed-seed slice; a long
campaign is

    S2SJAX_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py -n 0 --hypothesis-show-statistics

Hypothesis shrinks a failing program to a small one; keep it in FOUND below, with what was wrong.
"""

import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings

import s2sjax

from .fd import numerical_grad
from .programs import HELPERS, programs
from .util import define

EXAMPLES = int(os.environ.get("S2SJAX_FUZZ_EXAMPLES", "40"))
FIXED = (
    "S2SJAX_FUZZ_EXAMPLES" not in os.environ
)  # CI: the same programs every run; a campaign: new ones, and
X, S = np.array([0.3137, -0.5521, 0.8089]), 0.7123  # its failures kept in .hypothesis/ to replay
V, VS = np.array([0.2, -0.4, 0.3]), 0.5
CAMPAIGN = settings(
    max_examples=EXAMPLES,
    derandomize=FIXED,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    **({"database": None} if FIXED else {}),
)


def load(source):
    return define(source, "f")


def on_copies(fun):
    """`fun` run as Python on a copy of `x`: a program's `v = x; v += ...` changes its argument
    in Python (s2sjax never does), which would move the oracle's point under it."""
    return lambda x, s: fun(np.array(x, dtype=np.float64), s)


def finite_everywhere(fun):
    """Whether `fun` and its neighbourhood are finite.

    A program may overflow; that is not a bug.
    """
    values = [fun(X + h * V, S + h * VS) for h in (-1e-3, 0.0, 1e-3)]
    return all(np.isfinite(v) and abs(v) < 1e6 for v in values)


def near(a, b):
    return np.max(np.abs(a - b)) <= 1e-6 * (1.0 + np.max(np.abs(a)))


# Rejections a generated program may meet: the construct is refused, with this message, rather
# than given a meaning other than Python's.
REJECTIONS = (
    "may refer to the same memory and is read later",
    "refers to the same memory and is read later",
)
# Reverse mode refuses the derivative of an update at a list of indices (`a[[0, 2]] = v`) and of a
# list index beside other indices (`m[[2], 0]`), at the line that has one; jit, jvp and vmap compute
# them. A list index alone (`x[[0, 2]]`, `m[[1, 2]]`) is differentiated in every mode.
LIST_INDEX_REFUSALS = (
    (
        "the derivative of an update at an array of indices is not supported",
        re.compile(r"\w\[\[.*\]\] = "),
    ),
    (
        "the derivative of indexing with an array beside other indices is not supported",
        re.compile(r"\[\[[^]]*\], "),
    ),
)


def refuses_a_list_index(exc):
    """Whether `exc` is reverse mode's refusal of a list index it cannot differentiate.

    The refusal points at one.
    """
    return any(
        reason in str(exc) and pattern.search(exc.text or "")
        for reason, pattern in LIST_INDEX_REFUSALS
    )


def check_program(source):
    """Every check of the campaign on one program.

    Returns "checked", "checked forward: list index" (reverse mode refused a list index as it
    must; jvp, jit and vmap checked), or "rejected" with a known error.
    """
    fun = load(source)
    python = on_copies(fun)
    if not finite_everywhere(python):
        return "skipped: overflow"
    refused = None
    try:
        gx, gs = s2sjax.grad(fun, argnums=(0, 1), target="python")(X, S)
    except s2sjax.TransformError as exc:
        if not refuses_a_list_index(exc):
            assert any(reason in str(exc) for reason in REJECTIONS), (source, exc)
            return "rejected"
        refused = exc
    fx, fs = numerical_grad(python, (X, S), 0), numerical_grad(python, (X, S), 1)
    if not near(fx, numerical_grad(python, (X, S), 0, step=1e-3)) or not near(
        fs, numerical_grad(python, (X, S), 1, step=1e-3)
    ):
        # finite differences across it mean nothing
        return "skipped: a branch's edge near the point"
    scale = 1.0 + max(np.max(np.abs(fx)), abs(fs))
    _, tangent = s2sjax.jvp(fun, (X, S), (V, VS), target="python")
    if refused is None:
        assert np.max(np.abs(gx - fx)) <= 1e-6 * scale, (source, gx, fx)
        assert abs(gs - fs) <= 1e-6 * scale, (source, gs, fs)
        _, pullback = s2sjax.vjp(fun, X, S, target="python")
        cx, cs = pullback(1.0)
        assert abs(tangent - (np.dot(V, cx) + VS * cs)) <= 1e-10 * scale, source
    else:
        with pytest.raises(s2sjax.TransformError) as vjp_refusal:
            s2sjax.vjp(fun, X, S, target="python")
        assert refuses_a_list_index(vjp_refusal.value), (source, vjp_refusal.value)
        assert abs(tangent - (np.dot(V, fx) + VS * fs)) <= 2e-6 * scale, (
            source,
            tangent,
            np.dot(V, fx) + VS * fs,
        )
    value = s2sjax.jit(fun, target="python")(X, S)
    np.testing.assert_allclose(value, python(X, S), rtol=1e-12, atol=1e-12, err_msg=source)
    xs = np.stack([X, X * 0.9, X[::-1]])
    batched = s2sjax.vmap(fun, in_axes=(0, None), target="python")(xs, S)
    np.testing.assert_allclose(
        batched, [python(row, S) for row in xs], rtol=1e-12, atol=1e-12, err_msg=source
    )
    return "checked" if refused is None else "checked forward: list index"


@CAMPAIGN
@given(programs())
def test_random_programs_under_grad_jvp_vjp_and_vmap(source):
    event(check_program(source))  # counted by --hypothesis-show-statistics


# Programs campaigns found, shrunk, each with what was wrong. Each must now pass its checks or
# be rejected, as written here.
FOUND = {
    # s2sjax read `v2 += v2` as `v2 = v2 + v2`, but v2 was x, so in Python `np.sum(x)` sees the
    # doubled array: a silently different value and gradient. Now rejected.
    "aug of an argument's alias, the argument read later": (
        """
def f(x, s):
    if s > 0.1:
        v2 = x
    else:
        v2 = x
    v2 += v2
    v3 = np.sum(x)
    return np.sum(v2) * v3 + s
""",
        "rejected",
    ),
    # The same `+=` changed the test's own copy of x between finite-difference steps: the
    # oracle, not s2sjax, was wrong. Oracles now run the program on copies.
    "aug of an argument's alias, the argument not read again": (
        """
def f(x, s):
    v2 = x
    v2 += v2
    return np.sum(v2) * s + s
""",
        "checked",
    ),
    # x[2] - s was 0.1 - 5.6e-17 at the test point: finite differences stepped across the
    # branch. The oracle was wrong; the point moved off round numbers, and finite differences
    # at two steps must agree before they judge.
    "a branch's edge at the test point": (
        """
def f(x, s):
    v2 = (x - s)[-1]
    if v2 > 0.0966:
        v4 = s
    else:
        v4 = v2
    return np.sum(x) * v4 + s
""",
        "skipped: a branch's edge near the point",
    ),
    # A list beside `@` was not read as an array: the derivative through it was silently 0
    # (grad 1.0 where finite differences say 1.179).
    "@ of a display": (
        """
def f(x, s):
    return np.sum([s, 1.0, 2.0] @ np.outer(x, x)) + s
""",
        "checked",
    ),
    # np.array of a display was written as stores into v2, which on the other branch is the
    # argument x: refused as an in-place update of an array the function did not create.
    "a display in a branch beside an argument": (
        """
def f(x, s):
    if s > 0.1:
        v2 = x
    else:
        v2 = np.array((0.5, 0.5, 0.5))
    return np.sum(v2) * s + s
""",
        "checked",
    ),
    # m[v2] with v2 a tuple held in a variable is m[-3, 2], a float, but was typed as a row:
    # grad and vmap failed inside s2sjax.
    "a held tuple as an index": (
        """
def f(x, s):
    v2 = (-3, 2)
    return np.outer(x, x)[v2] * s + s
""",
        "checked",
    ),
    # A loop over a list written in the loop's head was refused (over a held list it worked).
    "a loop over a display": (
        """
def f(x, s):
    v2 = 0
    for e2 in (0.5, x[0]):
        v2 = v2 + s
    return np.sum(x) * v2 + s
""",
        "checked",
    ),
    # An array returned from inside a helper's loop joined the float the returned value started
    # as: its rank was unknown (refused, a TypeError under grad, Numba could not unify it).
    "an array returned from a loop": (
        """
def f(x, s):
    return np.sum(np.outer(x, x) @ until_big(x)) * s + np.sum(pick(x, 1))
""",
        "checked",
    ),
    # Reverse mode refused a list index beside another index (the oracle expected a derivative);
    # since indexing by arrays landed, it is differentiated and checked in every mode.
    "a list index beside another index": (
        """
def f(x, s):
    v4 = np.zeros(3)
    v4[0] = (np.outer(x, x) + s)[[2], 0][0]
    return np.sum(v4) * s + s
""",
        "checked",
    ),
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_programs_campaigns_found(name):
    body, outcome = FOUND[name]
    assert check_program(HELPERS + body) == outcome


def every_transformation(fun, target, reverse=True):
    """jvp (its primal output is jit's), vmap and (`reverse`) grad and vjp of `fun` at the test
    point, on `target`, as flat float64 values."""
    out, tangent = s2sjax.jvp(fun, (X, S), (V, VS), target=target)
    batched = s2sjax.vmap(fun, in_axes=(0, None), target=target)(np.stack([X, X * 0.9, X[::-1]]), S)
    values = [out, tangent, batched]
    if reverse:
        values += s2sjax.grad(fun, argnums=(0, 1), target=target)(X, S)
        values += s2sjax.vjp(fun, X, S, target=target)[1](1.0)
    return np.hstack([np.ravel(v) for v in values]).astype(np.float64)


@settings(
    CAMPAIGN, max_examples=max(2, EXAMPLES // 20)
)  # each compiles 5 functions (3 with a list index)
@given(programs())
def test_random_programs_on_cpu_equal_python(source):
    """The oracles judge the python target; the compiled code must then agree with it, and be
    compiled: a Numba fallback to Python is a failure here (config.strict)."""
    outcome = check_program(source)
    event(outcome)
    if outcome.startswith("checked"):
        fun = load(source)
        reverse = outcome == "checked"
        strict, s2sjax.config.strict = s2sjax.config.strict, True
        try:
            compiled = every_transformation(fun, "cpu", reverse)
            compiled_dtype = float32_vmap_dtype(fun, "cpu")
        finally:
            s2sjax.config.strict = strict
        np.testing.assert_allclose(
            compiled,
            every_transformation(fun, "python", reverse),
            rtol=1e-12,
            atol=1e-14,
            err_msg=source,
        )
        assert compiled_dtype == float32_vmap_dtype(fun, "python"), source


def float32_vmap_dtype(fun, target):
    """The dtype of a vmap of `fun` over float32 rows: a fused sum once widened it on cpu."""
    rows = np.stack([X, X * 0.9]).astype(np.float32)
    return np.asarray(s2sjax.vmap(fun, in_axes=(0, None), target=target)(rows, S)).dtype
