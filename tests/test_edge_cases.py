"""Regressions from review.

Each of these once gave a wrong answer, or a traceback from inside s2sjax.
"""

from types import SimpleNamespace

import numpy as np
import pytest

import s2sjax
from tests import fd
from tests.programs import HELPERS
from tests.util import define


@pytest.mark.parametrize(
    "source",
    [
        "def f(x, c):\n    t = (x, 1.0) if c > 0 else (2.0 * x, 3.0)\n    return t[0] * t[1]\n",
        "def f(x, c):\n    if c > 0:\n        t = (x, 1.0)\n    else:\n        t = (2.0 * x, 3.0)\n"
        "    return t[0] * t[1]\n",
    ],
)
def test_a_tuple_chosen_by_a_branch_is_rejected_not_wrong(source):
    with pytest.raises(s2sjax.TransformError, match="tuple that is only known at run time"):
        s2sjax.grad(define(source))(1.5, 1.0)


def test_a_tuple_built_the_same_way_on_every_path_still_unpacks():
    fun = define("def f(x):\n    t = (x * x, x)\n    a, b = t\n    return a + b * 3.0\n")
    assert s2sjax.grad(fun)(1.5) == pytest.approx(6.0)


def test_grad_of_a_tuple_output_without_has_aux():
    with pytest.raises(
        TypeError,
        match="Gradient only defined for scalar-output functions. Output was a tuple of 2",
    ):
        s2sjax.grad(define("def f(x):\n    return x * x, 3.0\n"))(1.5)


@pytest.mark.parametrize(
    "body,kind",
    [
        ("    y = x * 2.0\n", "None"),
        ("    return int(3 * x)\n", "int64"),
        ("    return x > 0\n", "bool"),
    ],
)
def test_grad_of_a_non_float_output(body, kind):
    with pytest.raises(TypeError, match=f"grad requires real-valued outputs .* but got {kind}"):
        s2sjax.grad(define(f"def f(x):\n{body}"))(1.5)


def test_has_aux_without_a_pair():
    with pytest.raises(TypeError, match=r"has_aux=True requires the function to return a pair"):
        s2sjax.grad(define("def f(x):\n    return x * x\n"), has_aux=True)(1.5)


@pytest.mark.parametrize("target", ["cpu", "python"])
def test_indexing_with_an_array_accumulates_repeated_indices(target):
    fun = define("def f(x, idx):\n    return np.sum(x[idx] ** 2)\n")
    args = (np.array([1.0, 2.0, 3.0]), np.array([0, 0, 1]))
    fd.check_grad(fun, args, (0,), (s2sjax.grad(fun, target=target)(*args),), rtol=1e-7, atol=1e-9)


def test_indexing_with_an_array_beside_other_indices_adds_up_repeated_rows():
    fun = define("def f(x, idx):\n    return np.sum(x[idx, 0] ** 2)\n")
    x = np.array([[0.5, 1.0], [-1.5, 2.0], [0.25, 3.0]])
    expected = np.array([[2.0, 0.0], [-3.0, 0.0], [0.0, 0.0]])  # row 0 read twice
    np.testing.assert_allclose(s2sjax.grad(fun)(x, np.array([0, 0, 1])), expected)


def test_outer_of_a_matrix_keeps_its_shape():
    fun = define("def f(A, b):\n    return np.sum(np.sin(np.outer(A, b)))\n")
    args = (np.arange(4.0).reshape(2, 2) / 4, np.array([0.1, 0.2, 0.3]))
    grads = s2sjax.grad(fun, argnums=(0, 1))(*args)
    assert grads[0].shape == (2, 2)
    fd.check_grad(fun, args, (0, 1), grads, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("target", ["cpu", "python"])
def test_power_zero_has_zero_slope_at_zero(target):
    fun = define("def f(x):\n    return x ** 0 + x * 2.0\n")
    assert s2sjax.grad(fun, target=target)(0.0) == 2.0


def test_tuple_axis_reduces_each_axis():
    fun = define("def f(M):\n    return np.sum(np.sum(M ** 2, axis=(0, 1)))\n")
    M = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(s2sjax.grad(fun)(M), 2.0 * M)


def test_unsupported_keyword_is_reported_at_the_call():
    fun = define("def f(x):\n    return np.sum(x, where=x > 0)\n")
    with pytest.raises(s2sjax.TransformError, match="unsupported keyword argument 'where'") as info:
        s2sjax.grad(fun)(np.ones(3))
    assert info.value.lineno == fun.__code__.co_firstlineno + 1


def test_array_default_of_a_helper_is_a_clear_error():
    helper = define("def h(x, w=np.ones(2)):\n    return np.sum(x * w)\n")
    fun = define("def f(x):\n    return h(x)\n", namespace_setup="import numpy as np\n")
    fun.__globals__["h"] = helper
    with pytest.raises(s2sjax.TransformError, match="default for 'w' that is not a number"):
        s2sjax.grad(fun)(np.ones(2))


def test_grad_of_something_not_callable():
    with pytest.raises(TypeError, match="grad expects a callable, got int"):
        s2sjax.grad(3)


def test_tuple_arguments_with_different_contents_get_their_own_code():
    fun = define("def f(x, t):\n    return x * t[0] + t[1]\n")
    g = s2sjax.grad(fun)
    assert g(1.5, (2.0, 3.0)) == 2.0
    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions"):
        g(1.5, (np.array([1.0, 2.0]), 3.0))


def test_an_array_reached_through_an_attribute_is_read_at_each_call():
    fun = define("def f(x):\n    return np.sum(cfg.W * x)\n")
    fun.__globals__["cfg"] = SimpleNamespace(W=np.ones(3))
    g = s2sjax.grad(fun)
    np.testing.assert_allclose(g(np.ones(3)), [1.0, 1.0, 1.0])
    fun.__globals__["cfg"].W = np.full(3, 5.0)
    np.testing.assert_allclose(g(np.ones(3)), [5.0, 5.0, 5.0])


@pytest.mark.parametrize("target", ["cpu", "python"])
def test_a_zip_item_passed_whole_to_a_helper(target):
    helper = define("def h(p, c):\n    return p[0] * c\n")
    fun = define(
        "def f(x, y, c):\n    s = 0.0\n    for p in zip(x, y):\n"
        "        s = s + h(p, c) + p[1] * c\n    return s\n"
    )
    fun.__globals__["h"] = helper
    args = (np.array([1.0, 2.0]), np.array([3.0, 4.0]), 0.5)
    grads = s2sjax.grad(fun, argnums=(0, 1, 2), target=target)(*args)
    fd.check_grad(fun, args, (0, 1, 2), grads, rtol=1e-7, atol=1e-9)


# ---- once silently wrong: list indices, updates at repeated indices, dtypes of fused loops


@pytest.mark.parametrize("target", ["cpu", "python"])
def test_a_list_index_selects_rows_as_numpy_does(target):
    fun = define("def f(x):\n    return np.sum(x[[0, 2]]) + x[[1], 0][0]\n")  # was read as x[0, 2]
    x = np.arange(6.0).reshape(3, 2)
    assert s2sjax.jit(fun, target=target)(x) == fun(x)


def test_the_derivative_of_a_list_index_counts_each_index():
    fun = define(
        "def f(x):\n    return np.sum(x[[0, 0]] * x[[2, 0]])\n"
    )  # was read as x[0, 0]: an IndexError
    x = np.array([0.5, 1.5, 2.5])
    fd.check_grad(fun, (x,), (0,), (s2sjax.grad(fun)(x),), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("index", ["[0, 0]", "np.array([0, 0])"])
def test_an_update_at_repeated_indices_keeps_the_last_value_in_both_modes(index):
    # the last value stored wins: v[0] has no effect, in reverse mode as in forward mode
    fun = define(
        f"def f(x, v):\n    a = np.zeros(3)\n    a[{index}] = v\n    return np.sum(a * x)\n"
    )
    args = (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(s2sjax.grad(fun, argnums=1)(*args), [0.0, 1.0])
    _, tangent = s2sjax.jvp(fun, args, (np.zeros(3), np.array([1.0, 10.0])))
    assert tangent == pytest.approx(10.0)


@pytest.mark.parametrize("target", ["cpu", "python"])
def test_a_string_in_the_middle_of_a_function_is_no_statement(target):
    fun = define(
        'def f(x):\n    """doc"""\n    y = x * 2.0\n    """a second string"""\n    return y * x\n'
    )
    assert s2sjax.grad(fun, target=target)(1.5) == pytest.approx(6.0)


@pytest.mark.parametrize("target", ["cpu", "python"])
def test_none_indexing_keeps_the_rank(target):
    fun = define(
        "def f(x):\n    return np.sum(np.dot(x[:, None], x[None, :]) * x[np.newaxis, :, None][0])\n"
    )
    x = np.array([0.5, -1.0, 2.0])
    fd.check_grad(fun, (x,), (0,), (s2sjax.grad(fun, target=target)(x),), rtol=1e-7, atol=1e-9)


def test_a_loop_that_changes_a_variable_rank_is_a_clear_error():
    fun = define(
        "def f(X):\n    total = 0.0\n    for i in range(X.shape[0]):\n"
        "        total = total + X[i]\n"
        "    return np.sum(total)\n"
    )
    with pytest.raises(
        s2sjax.TransformError, match="'total' is a scalar before this loop and an array of rank 1"
    ):
        s2sjax.grad(fun)(np.ones((3, 2)))


@pytest.mark.parametrize("target", ["cpu", "python"])
def test_fused_loops_compute_in_the_inputs_float_type(target):
    fun = define("def f(x):\n    return np.tanh(x) / (1.0 + x * x)\n")
    x = np.linspace(0.1, 1.0, 5, dtype=np.float32)
    value, tangent = s2sjax.jvp(fun, (x,), (np.ones(5, np.float32),), target=target)
    assert value.dtype == tangent.dtype == np.float32
    assert s2sjax.jit(fun, target=target)(x).dtype == np.float32


@pytest.mark.parametrize("target", ["cpu", "python"])
def test_fused_sums_of_float32_arrays_are_float32(target):
    # a fused sum's accumulator adds in float64: a vmap of it gave float64 rows on cpu
    fun = define("def f(x):\n    return np.sum(x * x) + np.mean(np.sin(x) * x)\n")
    rows = np.linspace(0.1, 1.0, 6, dtype=np.float32).reshape(2, 3)
    batched = s2sjax.vmap(fun, target=target)(rows)
    assert batched.dtype == np.float32
    np.testing.assert_allclose(batched, [fun(row) for row in rows], rtol=1e-6)


def test_a_helper_branching_on_a_constant_keeps_only_the_branch_taken():
    helper = define("def h(flag, x):\n    if flag == 0:\n        return x\n    return x * flag\n")
    fun = define(
        "def f(x):\n    return h(0, x) + h(2, x)\n", namespace_setup="import numpy as np\n"
    )
    fun.__globals__["h"] = helper
    source = s2sjax.source(s2sjax.grad(fun, target="python"), 1.0)
    assert "if " not in source and "== 0" not in source
    assert s2sjax.grad(fun)(1.5) == 3.0


# ---- found by fuzzing lists and tuples: each was refused, crashed or silently zero

CONTAINER_PROGRAMS = {
    "matmul by a list": "def f(x, s):\n    return np.sum([s, 1.0, 2.0] @ np.outer(x, x)) + s\n",
    "a display on one branch, an argument on the other": "def f(x, s):\n    if s > 0.1:\n"
    "        v = x\n    else:\n        v = np.array((0.5, s, 0.5))\n"
    "    return np.sum(v) * s + s\n",
    "a tuple held as an index": "def f(x, s):\n    pos = (-3, 2)\n"
    "    return np.outer(x, x)[pos] * s + s\n",
    "a loop over a display": "def f(x, s):\n    v = 0\n    for e in (0.5, x[0]):\n"
    "        v = v + s * e\n"
    "    return np.sum(x) * v + s\n",
    "tuples and lists joined and repeated": "def f(x, s):\n    t = (s, 2.0) + (x[0],)\n"
    "    l = [s] * 2 + [x[1]]\n    return t[2] * t[0] + l[1] * l[2]\n",
    # a 0-d array is a scalar to the generated code: Numba's math.tanh had a 0-d array to type
    "np.array of a scalar": "def f(x, s):\n"
    "    return np.sum(x) * math.tanh(np.array(s)) + np.asarray(s, dtype=float)"
    " * math.sin(np.array(1.5))\n",
}


@pytest.mark.parametrize("target", ["cpu", "python"])
@pytest.mark.parametrize("s", [0.4, -0.2])
@pytest.mark.parametrize("program", CONTAINER_PROGRAMS.values(), ids=CONTAINER_PROGRAMS.keys())
def test_operators_and_loops_on_lists_and_tuples(program, s, target):
    fun = define(program)
    args = (np.array([0.3, 0.5, 0.7]), s)
    fd.check_grad(
        fun,
        args,
        (0, 1),
        s2sjax.grad(fun, argnums=(0, 1), target=target)(*args),
        rtol=1e-7,
        atol=1e-9,
    )
    batched = s2sjax.vmap(fun, in_axes=(0, None), target=target)(
        np.stack([args[0], 2 * args[0]]), s
    )
    np.testing.assert_allclose(batched, [fun(args[0], s), fun(2 * args[0], s)], rtol=1e-13)


PRUNED_RETURN = define(
    HELPERS
    + """
def f(x, s):
    m = np.zeros((3, 3))
    for i in range(3):
        for j in range(1):
            m[i, j] = pick(s, 0) * x[i]
    return np.sum(m) * s
""",
    "f",
)  # pick(v, 0): the helper's `return` inside its loop is pruned


@pytest.mark.parametrize("target", ["cpu", "python"])
def test_a_loop_whose_return_a_constant_flag_prunes_compiles(target, monkeypatch):
    # the returned value, never set, stayed `rt.unset()`, which Numba could not call (found by
    # fuzzing)
    monkeypatch.setattr(s2sjax.config, "strict", True)  # a fallback to Python fails
    x, s = np.array([0.3, 0.5, 0.7]), 0.7
    value, tangent = s2sjax.jvp(PRUNED_RETURN, (x, s), (np.ones(3), 1.0), target=target)
    assert value == pytest.approx(PRUNED_RETURN(x, s), rel=1e-14)
    gradient = s2sjax.grad(PRUNED_RETURN, argnums=(0, 1), target=target)(x, s)
    fd.check_grad(PRUNED_RETURN, (x, s), (0, 1), gradient, rtol=1e-7, atol=1e-9)
    assert tangent == pytest.approx(np.sum(gradient[0]) + gradient[1], rel=1e-12)


def test_arithmetic_of_an_array_and_a_list_is_a_clear_error():
    fun = define("def f(x):\n    return np.sum(x + [1.0, 2.0, 3.0])\n")
    with pytest.raises(
        s2sjax.TransformError, match="arithmetic on a list or a tuple is not supported"
    ):
        s2sjax.grad(fun)(np.ones(3))


def test_the_adjoint_of_a_product_over_an_empty_axis_is_empty():
    fun = define(
        "def f(x, m):\n"
        "    return np.prod(x[3:]) * x[0] + np.sum(np.prod(m[:, 3:], axis=1) * m[:, 0])\n"
    )
    x, m = np.array([0.3, -0.7, 0.9]), np.array([[0.3, -0.7, 0.9], [0.2, 0.5, 0.1]])
    gx, gm = s2sjax.grad(fun, argnums=(0, 1), target="python")(x, m)
    fd.check_grad(fun, (x, m), (0, 1), (gx, gm), rtol=1e-8, atol=1e-10)
