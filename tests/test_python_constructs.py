"""The Python real programs use (issue 19): lambdas and inner defs closing over the function's
variables, functions passed to helpers, comprehensions over constants, builtins over sequences,
dict.get, `is None`, `*args`.

One small function uses them all, checked against finite differences on python and cpu, and its
vmap against a loop; the forms left out are refused with a located error.
"""

import numpy as np
import pytest

import s2sjax
from s2sjax import TransformError

from .fd import check_grad, numerical_grad
from .util import define

TARGETS = ["python", "cpu"]

CONSTRUCTS = define(
    """
def constructs(w, s):
    scale = lambda v: v * s + w[0]

    def energy(v, p=2):
        return sum(v[i] ** p for i in range(3)) * s

    def both(v):
        return energy(scale(v)) + max(v[0], v[1], s)

    terms = {"a": w[1], "b": s * s}
    first = sorted(terms)[0]
    return both(w) + terms.get(first, s) * terms.get("z", w[2]) + sum([w[0], s], s)
""",
    "constructs",
)
W, S = np.array([0.3, -0.6, 0.9]), 0.7

NONES = define(
    """
def scaled(v, by=None):
    return v if by is None else v * by


def nothing(v):
    pass


def nones(w, y=None):
    if y is not None and nothing(w) is None:
        return np.sum(scaled(w, y) * w)
    return np.sum(scaled(w) * scaled(w, 2.0))
""",
    "nones",
)


@pytest.mark.parametrize("target", TARGETS)
def test_constructs_match_finite_differences(target):
    grads = s2sjax.grad(CONSTRUCTS, argnums=(0, 1), target=target)(W, S)
    check_grad(CONSTRUCTS, (W, S), (0, 1), grads, rtol=1e-7, atol=1e-9, name=target)
    _, tangent = s2sjax.jvp(CONSTRUCTS, (W, S), (np.ones(3), 0.0), target=target)
    assert tangent == pytest.approx(np.sum(numerical_grad(CONSTRUCTS, (W, S), 0)), rel=1e-7)


PASSED_ON = define(
    """
def pair(x, y):
    return x * y, x + y


def apply(func, v):
    return func(v, v)


def apply_pair(func, v):
    a, b = func(v, v)
    return a * b


def passed_on(w):
    return np.sum(apply(np.add, w) * apply(np.multiply, w)) + np.sum(apply_pair(pair, w))
""",
    "passed_on",
)


STARRED = define(
    """
def symmetric(a):
    return (np.tril(a) + np.tril(a).T) / 2.0


def starred(*args):
    inner = lambda *xs: np.sum(np.sin(xs[0]) * xs[1]) + len(xs)
    return inner(symmetric(args[0]), *args[1:])
""",
    "starred",
)


@pytest.mark.parametrize("target", TARGETS)
def test_star_args_take_as_many_parameters_as_given(target):
    """`*args` of the transformed function and of a lambda in it (autograd's check of cholesky):
    one parameter per argument given, `f(*args[1:])` passing them on."""
    args = (np.array([[0.5, 0.2], [0.1, 0.9]]), np.array([[1.0, 2.0], [3.0, 4.0]]))
    grads = s2sjax.grad(STARRED, argnums=(0, 1), target=target)(*args)
    check_grad(STARRED, args, (0, 1), grads, rtol=1e-7, atol=1e-9, name=target)


@pytest.mark.parametrize("target", TARGETS)
def test_functions_passed_to_helpers_are_called(target):
    grads = s2sjax.grad(PASSED_ON, target=target)(W)
    check_grad(PASSED_ON, (W,), (0,), (grads,), rtol=1e-7, atol=1e-9, name=target)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("y", [None, W + 1.0], ids=["None", "array"])
def test_none_arguments_and_defaults_are_constants(target, y):
    """`is None` is decided when the code is generated: an argument given None (its own
    specialization), a helper's default None, a helper that returns None."""
    args = (W,) if y is None else (W, y)
    grads = s2sjax.grad(NONES, target=target)(*args)
    check_grad(NONES, args, (0,), (grads,), rtol=1e-7, atol=1e-9, name=f"{target} {y is None}")


@pytest.mark.parametrize("target", TARGETS)
def test_vmap_of_constructs_matches_a_loop(target):
    ws = np.array([W, W * 0.5, W - 0.2])
    got = s2sjax.vmap(CONSTRUCTS, in_axes=(0, None), target=target)(ws, S)
    np.testing.assert_allclose(got, [CONSTRUCTS(w, S) for w in ws], rtol=1e-13)


REFUSED = {
    "a lambda passed on": ("    g = lambda v: v * 2.0\n    return np.sum(apply(g, x))\n", 8),
    "calling a number": ("    return apply(2.0, x)\n", 11),
    "None on one path only": (
        "    y = None\n    t = 0.0\n    for i in range(3):\n"
        "        t = t + (np.sum(x) if y is None else np.sum(x * x))\n        y = 1.0\n"
        "    return t\n",
        30,
    ),
    "a filtered comprehension over a run-time range": (
        "    return np.sum(np.array([x[i] for i in range(len(x)) if x[i] > 0]))\n",
        27,
    ),
    "sorted values known at run time": ("    return sorted([x[0], x[1]])[0]\n", 11),
}


@pytest.mark.parametrize("construct", sorted(REFUSED))
def test_forms_left_out_are_refused_where_written(construct):
    body, column = REFUSED[construct]
    fun = define(
        f"def apply(f, v):\n    return f(v)\n\n\ndef f(x):\n{body}",
        "f",
    )
    with pytest.raises(TransformError) as info:
        s2sjax.grad(fun)(W)
    assert info.value.filename == fun.__code__.co_filename
    assert info.value.offset == column + 1, str(info.value)


@pytest.mark.parametrize(
    "local",
    ["    def g(v):\n        return np.frobnicate(v)\n", "    g = lambda v: np.frobnicate(v)\n"],
)
def test_an_error_in_a_local_function_names_the_users_file_and_line(local):
    fun = define(f"def f(x):\n{local}    return np.sum(g(x))\n", "f")
    with pytest.raises(TransformError, match="frobnicate") as info:
        s2sjax.grad(fun, target="python")(W)
    first_line = fun.__code__.co_firstlineno
    assert info.value.filename == fun.__code__.co_filename
    assert info.value.lineno == first_line + local.count("\n")
    assert "np.frobnicate(v)" in info.value.text
