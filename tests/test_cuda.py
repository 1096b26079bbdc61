"""target="cuda": vmap as a CUDA kernel, one thread per example, against an explicit Python loop.

These run in Numba's CUDA simulator (conftest sets NUMBA_ENABLE_CUDASIM=1) unless
S2SJAX_TEST_GPU=1 is set, which runs them on the real device.
"""

import numpy as np
import pytest

import s2sjax
from s2sjax.kinds import vmap as vmap_kind
from tests.catalogue import CASES as STRAIGHT
from tests.catalogue import REGRESSIONS
from tests.catalogue_loops import CASES as LOOPS
from tests.test_vmap import RANK_BY_BRANCH, _batched, _examples, _loop, l1, loss
from tests.fd import check_grad
from tests.util import define

RNG = np.random.default_rng(11)
CASES = STRAIGHT + LOOPS


def test_per_example_gradients_on_the_device():
    p, xs = np.array([1.5, -0.5]), RNG.uniform(-1, 1, 300)  # more examples than a block's threads
    ys = 2 * xs + 1
    got = s2sjax.vmap(s2sjax.grad(loss), in_axes=(None, 0, 0), target="cuda")(p, xs, ys)
    r = p[0] * xs + p[1] - ys
    np.testing.assert_allclose(got, np.stack([2 * r * xs, 2 * r], axis=1), rtol=1e-13)


def test_pairwise_distances_by_nested_vmap_on_the_device():
    a, b = RNG.uniform(size=(5, 4)), RNG.uniform(size=(6, 4))
    pairwise = s2sjax.vmap(s2sjax.vmap(l1, (None, 0)), (0, None), target="cuda")
    np.testing.assert_allclose(pairwise(a, b), [[l1(x, y) for y in b] for x in a], rtol=1e-13)
    source = s2sjax.source(pairwise)
    assert "@cuda.jit(device=True, debug=False)" in source and "cuda.grid(2)" in source
    assert "np.absolute" not in source  # scalars take math's functions (or builtins) on the device


def test_a_vmap_of_a_vmap_runs_a_thread_per_pair_with_the_out_axes_of_both():
    a, b = RNG.uniform(size=(5, 3, 4)), RNG.uniform(size=(4, 5))  # b's outer axis is 1
    inner = s2sjax.vmap(s2sjax.grad(l1), in_axes=(0, None), out_axes=1)
    nested = s2sjax.vmap(inner, in_axes=(0, 1), out_axes=2, target="cuda")
    grad_l1 = s2sjax.grad(l1, target="python")
    each = [np.stack([grad_l1(x, b[:, i]) for x in a[i]], axis=1) for i in range(5)]
    np.testing.assert_allclose(nested(a, b), np.stack(each, axis=2), rtol=1e-13)
    assert "cuda.grid(2)" in s2sjax.source(nested)


def test_rows_of_length_one_broadcast_in_the_fused_device_loop():
    a, b = RNG.uniform(size=(3, 4)), RNG.uniform(size=(2, 1))
    got = s2sjax.vmap(s2sjax.vmap(l1, (None, 0)), (0, None), target="cuda")(a, b)
    np.testing.assert_allclose(got, [[l1(x, y) for y in b] for x in a], rtol=1e-13)


SUM_OF_THE_SHORTER = define("""
def f(x, y):
    a = np.sin(x)
    return np.sum(a * y) * np.sum(a)
""")


def test_a_sum_of_the_shorter_operand_counts_its_own_elements_on_the_device():
    # the loop over the longer length reads element `i % 1` of a length-1 `x`: its sum stops at 1
    xs, ys = RNG.uniform(size=(2, 1)), RNG.uniform(size=(2, 3))
    got = s2sjax.vmap(SUM_OF_THE_SHORTER, target="cuda")(xs, ys)
    np.testing.assert_allclose(got, [SUM_OF_THE_SHORTER(x, y) for x, y in zip(xs, ys)], rtol=1e-13)


HALVINGS = define("""
def halvings(x, limit):
    n = 0
    while x > limit:
        x = x / 2.0
        n += 1
    return n
""")


def test_each_thread_runs_its_own_iterations():
    xs = np.array([0.5, 3.0, 100.0, 1e6])
    got = s2sjax.vmap(HALVINGS, in_axes=(0, None), target="cuda")(xs, 1.0)
    np.testing.assert_array_equal(got, [HALVINGS(x, 1.0) for x in xs])


PRODUCT_AND_SUM = define("""
def product_and_sum(x):
    out = np.zeros(2)
    out[0] = x[0] * x[1]
    out[1] = x[0] + x[1]
    return out
""")


def test_array_outputs_and_out_axes_on_the_device():
    xs = RNG.uniform(size=(5, 2))
    got = s2sjax.vmap(PRODUCT_AND_SUM, out_axes=1, target="cuda")(xs)
    np.testing.assert_allclose(got, np.stack([PRODUCT_AND_SUM(x) for x in xs], axis=1), rtol=1e-13)


def test_a_gradient_fuses_into_one_loop_writing_its_row():
    xs = RNG.uniform(size=(3, 4))
    batched = s2sjax.vmap(s2sjax.grad(lambda x: np.sum(np.sin(x) * x)), target="cuda")
    np.testing.assert_allclose(batched(xs), np.cos(xs) * xs + np.sin(xs), rtol=1e-13)
    assert "math.cos(x[i])" in s2sjax.source(batched)


def test_a_temporary_array_is_an_error():
    with pytest.raises(s2sjax.TransformError, match="this array expression allocates an array"):
        s2sjax.vmap(lambda x: np.sum(np.outer(x, x)), target="cuda")(RNG.uniform(size=(3, 4)))


ALLOCATES = define("""
def allocates(x):
    y = np.zeros(3)
    y[0] = x
    return np.sum(y)
""")


def test_an_allocation_in_the_kernel_is_an_error_at_the_users_line():
    with pytest.raises(
        s2sjax.TransformError,
        match=r"np.zeros\(\.\.\.\) allocates an array, which a CUDA kernel cannot do",
    ) as info:
        s2sjax.vmap(ALLOCATES, target="cuda")(np.ones(3))
    assert "y = np.zeros(3)" in str(info.value)


def test_an_output_whose_rank_is_known_only_as_the_code_runs_is_an_error_at_the_users_line():
    with pytest.raises(
        s2sjax.TransformError, match="the rank of every output must be known before the kernel runs"
    ) as info:
        s2sjax.vmap(RANK_BY_BRANCH, target="cuda")(np.ones((3, 2)))
    assert "return y" in str(info.value)


RETURNS_ITS_ARGUMENT = define("""
def returns_its_argument(x, w):
    return w
""")


def test_an_array_output_the_kernel_does_not_make_is_an_error_at_the_users_line():
    with pytest.raises(
        s2sjax.TransformError, match="an array output must be an array the function creates"
    ) as info:
        s2sjax.vmap(RETURNS_ITS_ARGUMENT, in_axes=(0, None), target="cuda")(np.ones(2), np.ones(3))
    assert info.value.lineno == RETURNS_ITS_ARGUMENT.__code__.co_firstlineno + 1


PRODUCT = define("""
def product(a, b):
    return np.sum(np.sin(a @ b))
""")


def test_a_vector_product_in_the_kernel_is_an_error_at_the_users_line():
    with pytest.raises(
        s2sjax.TransformError, match="a CUDA kernel cannot compute a matrix or vector product"
    ) as info:
        s2sjax.vmap(PRODUCT, target="cuda")(np.ones((2, 3)), np.ones((2, 3)))
    assert "return np.sum(np.sin(a @ b))" in str(info.value)


SIZED = define("""
def sized(a, x):
    return a * x.shape[0]
""")


def test_a_zero_derivative_array_is_zeroed_on_the_device():
    # the gradient in x is zero: nothing in the kernel writes it (was an internal StopIteration)
    a, x = np.array([0.1, 0.2]), RNG.uniform(size=(2, 2, 3))
    da, dx = s2sjax.vmap(s2sjax.grad(SIZED, argnums=(0, 1)), target="cuda")(a, x + np.nan)
    np.testing.assert_array_equal(da, [2.0, 2.0])
    np.testing.assert_array_equal(dx, np.zeros_like(x))


def test_cuda_is_a_target_for_vmap_only():
    with pytest.raises(ValueError, match="target='cuda' is for vmap"):
        s2sjax.grad(loss, target="cuda")


SAMPLE = [c for i, c in enumerate(CASES) if i % 12 == 0 or c.name in REGRESSIONS]


@pytest.mark.parametrize("case", SAMPLE, ids=[c.name for c in SAMPLE])
def test_catalogue_on_the_device_or_a_clear_error(case):
    """Every function gives the loop's results on the device or names what a kernel cannot do."""
    examples = _examples(case)
    axes = (0,) * len(examples[0])
    try:
        got = s2sjax.vmap(case.fun, in_axes=axes, target="cuda")(*_batched(examples, axes))
    except s2sjax.TransformError as exc:
        assert "CUDA kernel cannot" in str(exc) or "target='cuda'" in str(exc), str(exc)
        return
    rtol = 1e-5 if case.dtype == "float32" else 1e-12
    np.testing.assert_allclose(
        got, _loop(case.fun, examples, axes), rtol=rtol, atol=1e-12, err_msg=case.name
    )


def test_an_array_output_of_a_loop_fused_over_two_arrays_is_written_into_its_slot():
    rng = np.random.default_rng(5)
    xs, ys = rng.uniform(size=(4, 3)), rng.uniform(size=(4, 3))
    batched = s2sjax.vmap(lambda x, y: np.sin(x) * y + x, target="cuda")
    np.testing.assert_allclose(batched(xs, ys), np.sin(xs) * ys + xs, rtol=1e-13)
    assert "out = dest_0" in s2sjax.source(
        batched
    )  # rt.empty_float's array, like np.empty's, is the slot


# ---- errors a kernel would raise are raised on the host, before the launch ----------
# A real GPU ignores an exception in a kernel; example 0, run on the host in Python to size the
# outputs, meets every error that depends on shapes alone (the examples' shapes are all alike).

SINE_TIMES = define("""
def sine_times(x, y):
    return np.sin(x) * y + x
""")


@pytest.fixture
def launches(monkeypatch):
    launched = []
    monkeypatch.setattr(vmap_kind, "_launch", lambda *launch: launched.append(launch))
    return launched


def test_a_size_mismatch_is_raised_at_the_users_line_before_the_launch(launches):
    with pytest.raises(ValueError, match="could not be broadcast") as info:
        s2sjax.vmap(SINE_TIMES, target="cuda")(np.ones((4, 3)), np.ones((4, 2)))
    assert launches == []
    assert "return np.sin(x) * y + x" in "".join(info.value.__notes__)


def test_an_inner_vmaps_size_mismatch_is_raised_before_the_launch(launches):
    pairwise = s2sjax.vmap(s2sjax.vmap(l1, (0, 0)), (0, None), target="cuda")
    with pytest.raises(ValueError, match="inconsistent sizes for array axes to be mapped"):
        pairwise(np.ones((3, 5, 4)), np.ones((6, 4)))
    assert launches == []


# An index computed from the data is checked on the device (a GPU would read other memory), and
# the example that was out of range is found again on the host, whose error names the line.
WINDOW_SUM = define("""
def window_sum(x, start):
    s = 0.0
    for j in range(3):
        s += x[int(start) + j]
    return s
""")


def test_an_index_computed_from_the_data_out_of_range_is_raised_on_the_host():
    xs, starts = RNG.uniform(size=(3, 5)), np.array([0.0, 2.0, 1.0])
    windows = s2sjax.vmap(WINDOW_SUM, target="cuda")
    np.testing.assert_allclose(windows(xs, starts), [WINDOW_SUM(x, k) for x, k in zip(xs, starts)])
    assert "rt.checked_index(" in s2sjax.source(windows)
    with pytest.raises(IndexError, match="index 5 is out of bounds") as info:
        windows(xs, np.array([0.0, 3.0, 1.0]))  # example 1 reads x[5]; the simulator's error
    notes = "".join(info.value.__notes__)  # would say which thread, not which line
    assert "s += x[int(start) + j]" in notes and "example 1" in notes


SQUARED = define("""
def squared(x):
    y = x * 2.0
    return np.logaddexp(y, x)
""")


def test_a_numpy_function_of_a_number_that_cuda_lacks_is_an_error_at_the_users_line():
    # the simulator would run np.logaddexp; NVVM has no implementation of it (the PTX tier)
    with pytest.raises(
        s2sjax.TransformError, match="np.logaddexp of a number is a NumPy function a CUDA kernel"
    ) as info:
        s2sjax.vmap(SQUARED, target="cuda")(np.ones(3))
    assert "return np.logaddexp(y, x)" in str(info.value)


# NumPy functions of numbers that Numba's CUDA target lacks, each spelled for the device (a
# `math` function or a runtime helper); the PTX tier compiles the kernels these tests launch.
OF_NUMBERS = define(
    """
def of_numbers(x, row):
    y = np.round(x * 3.0) + np.rint(x) + np.nan_to_num(x / (x - 1.0), posinf=7.0)
    z = np.cbrt(x) + math.cbrt(x * 2.0) + np.square(x) + np.std(x) * x
    w = scipy.stats.norm.pdf(x) * np.max(x) + np.min(x) * np.sum(x)
    return y * x + z + w + np.sum(np.sign(row) * row * x)
""",
    namespace_setup="import math\nimport numpy as np\nimport scipy.stats\n",
)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_numpy_functions_of_numbers_run_on_the_device_as_on_the_host():
    xs = np.array([0.4, 1.0, -1.7, 2.5, -0.5, 3.2])  # 1.0: nan_to_num's inf; 2.5: half to even
    rows = RNG.uniform(-1, 1, (6, 1))  # length 1: the fused loop reads row[i % 1]
    got = s2sjax.vmap(OF_NUMBERS, target="cuda")(xs, rows)
    expected = [OF_NUMBERS(x, r) for x, r in zip(xs, rows)]
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_derivatives_of_numpy_functions_of_numbers_on_the_device():
    xs, rows = np.array([0.4, -1.7, 2.3, 3.2]), RNG.uniform(-1, 1, (4, 1))
    grads = s2sjax.vmap(s2sjax.grad(OF_NUMBERS), target="cuda")(xs, rows)
    for x, row, g in zip(xs, rows, grads):
        check_grad(OF_NUMBERS, (x, row), (0,), (g,), rtol=1e-7, atol=1e-9)
    tangents = s2sjax.vmap(
        lambda x, row: s2sjax.jvp(OF_NUMBERS, (x, row), (1.0, 0.0 * row))[1], target="cuda"
    )
    np.testing.assert_allclose(tangents(xs, rows), grads, rtol=1e-13)
