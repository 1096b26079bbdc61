"""Unusual inputs to the public API: the right answer or a clear error, and the inputs untouched.

Fortran-ordered, non-contiguous, read-only, 0-d, empty, NaN/inf, float32 and large arrays,
each checked against the closed-form derivative of sum(sin(x) * x) and of a loop.
"""

import numpy as np
import pytest

import s2sjax

from .util import define

TARGETS = ["python", "cpu"]

SMOOTH = define("""
def smooth(x):
    return np.sum(np.sin(x) * x)
""")

LOOP = define("""
def loop(x):
    total = 0.0
    for i in range(x.shape[0]):
        total = total + np.sin(x[i]) * x[i]
    return total
""")


def derivative(x):
    return np.cos(x) * x + np.sin(x)


def base(shape=(4, 3)):
    return np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape)


def fortran():
    return np.asfortranarray(base())


def strided():
    return base((8, 6))[::2, 1::2]


def read_only():
    x = base()
    x.flags.writeable = False
    return x


INPUTS = {
    "fortran": fortran,
    "strided": strided,
    "read_only": read_only,
    "transposed": lambda: base().T,
    "zero_d": lambda: np.array(0.3),
    "empty": lambda: np.zeros((0, 3)),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_unusual_arrays_give_the_right_gradient_and_stay_untouched(kind, target):
    x = INPUTS[kind]()
    before = x.copy()
    got = s2sjax.grad(SMOOTH, target=target)(x)
    np.testing.assert_allclose(got, derivative(x), rtol=1e-13, atol=1e-15)
    assert np.shape(got) == x.shape
    np.testing.assert_array_equal(x, before)
    batched = s2sjax.vmap(s2sjax.grad(SMOOTH, target=target), target=target)
    if x.ndim == 2:  # a row at a time, through vmap
        rows = batched(x)
        np.testing.assert_allclose(rows, derivative(x), rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("target", TARGETS)
def test_nan_and_inf_propagate_as_numpy_would(target):
    # the loop's np.sin(x[i]) is on scalars: its derivative must be np.cos too, since
    # math.cos(inf) raises where np.cos(inf) is nan
    x = np.array([0.5, np.nan, np.inf, -np.inf])
    with np.errstate(invalid="ignore"):
        got = s2sjax.grad(LOOP, target=target)(x)
        want = derivative(x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-13)


@pytest.mark.parametrize("target", TARGETS)
def test_float32_keeps_its_dtype_and_ints_are_refused(target):
    x = np.linspace(-1.0, 1.0, 5, dtype=np.float32)
    got = s2sjax.grad(LOOP, target=target)(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, derivative(x.astype(np.float64)), rtol=1e-6)
    with pytest.raises(TypeError, match="grad requires real-valued inputs"):
        s2sjax.grad(LOOP, target=target)(np.arange(3))


SINES = define("def sines(x):\n    return np.sin(x) * 2.0\n")
SUM_OF_SINES = define("def sum_of_sines(x):\n    return np.sum(np.sin(x)) * 2.0\n")
PRODUCT = define("def product(x):\n    return x[0] * x[1]\n")


@pytest.mark.parametrize("target", TARGETS + ["parallel"])
def test_derivative_arrays_of_float32_arguments_are_float32(target):
    x, v = np.linspace(-1.0, 1.0, 3, dtype=np.float32), np.ones(3, np.float32)
    value, tangent = s2sjax.jvp(SINES, (x,), (v,), target=target)
    results = {
        "value": value,
        "tangent": tangent,
        "jacfwd": s2sjax.jacfwd(SINES, target=target)(x),
        "jacrev": s2sjax.jacrev(SINES, target=target)(x),
        "hessian": s2sjax.hessian(SUM_OF_SINES, target=target)(x),
        "vmap of grad": s2sjax.vmap(s2sjax.grad(SUM_OF_SINES), target=target)(np.stack([x, v])),
        "vmap of a float32 scalar": s2sjax.vmap(PRODUCT, target=target)(np.stack([x, v])),
    }
    assert {name: r.dtype for name, r in results.items()} == {name: np.float32 for name in results}
    np.testing.assert_allclose(tangent, 2.0 * np.cos(x.astype(np.float64)), rtol=1e-6)
    # Python floats are weak, as in NumPy 2 and JAX: with float64 arguments the results are float64
    assert (
        s2sjax.jvp(SINES, (x.astype(np.float64),), (v.astype(np.float64),), target=target)[1].dtype
        == np.float64
    )


def test_scalar_results_of_float32_arguments_are_float32_on_python():
    # compiled code gives them back as Python floats (Numba boxes a float32 scalar as a float)
    x = np.linspace(-1.0, 1.0, 3, dtype=np.float32)
    value, tangent = s2sjax.jvp(SUM_OF_SINES, (x,), (x,), target="python")
    assert isinstance(value, np.float32) and isinstance(tangent, np.float32)
    assert s2sjax.vmap(SUM_OF_SINES, target="python")(np.stack([x, x])).dtype == np.float32


def test_a_large_array():
    x = np.linspace(-3.0, 3.0, 4_000_000)
    before = x[::100_000].copy()
    got = s2sjax.grad(SMOOTH)(x)
    np.testing.assert_allclose(got[::1000], derivative(x[::1000]), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(x[::100_000], before)


SQUARE = define("""
def square(x):
    return x * x
""")

TOTAL = define("""
def total(p):
    return np.sum(p[0] * p[1])
""")

COMPLEX_CALLS = {  # the transformation's public name -> a call of it with a complex input
    "grad": lambda z: s2sjax.grad(SQUARE)(z),
    "value_and_grad": lambda z: s2sjax.value_and_grad(SQUARE)(z),
    "jvp": lambda z: s2sjax.jvp(SQUARE, (z,), (z,)),
    "vjp": lambda z: s2sjax.vjp(SQUARE, z),
    "jacfwd": lambda z: s2sjax.jacfwd(SQUARE)(z),
    "jacrev": lambda z: s2sjax.jacrev(SQUARE)(z),
    "hessian": lambda z: s2sjax.hessian(SQUARE)(z),
    "vmap": lambda z: s2sjax.vmap(SQUARE)(np.stack([z, z])),
    "vmap of grad": lambda z: s2sjax.vmap(s2sjax.grad(SQUARE))(np.stack([z, z])),
    "jit": lambda z: s2sjax.jit(SQUARE)(z),
}
REFUSED = (
    "requires real-valued inputs, but got complex128. s2sjax does not support complex numbers yet"
)


@pytest.mark.parametrize(
    "value",
    [1 + 2j, np.complex128(1 + 2j), np.array([1 + 2j, 3.0])],
    ids=["complex", "complex128", "array"],
)
@pytest.mark.parametrize("transformation", sorted(COMPLEX_CALLS))
def test_every_transformation_refuses_complex_inputs(transformation, value):
    # s2sjax's types have no complex kind: jvp and vjp returned float zeros, vmap dropped the
    # imaginary part, jit failed at the first float it met
    with pytest.raises(TypeError, match=REFUSED):
        COMPLEX_CALLS[transformation](value)


@pytest.mark.parametrize("transformation", ["grad", "jvp", "vjp", "jit", "vmap"])
def test_a_complex_leaf_of_a_container_is_refused_by_name(transformation):
    p = (np.ones(2), np.array([1j, 2.0]))
    call = {
        "grad": lambda: s2sjax.grad(TOTAL)(p),
        "jvp": lambda: s2sjax.jvp(TOTAL, (p,), (p,)),
        "vjp": lambda: s2sjax.vjp(TOTAL, p),
        "jit": lambda: s2sjax.jit(TOTAL)(p),
        "vmap": lambda: s2sjax.vmap(TOTAL)(p),
    }[transformation]
    message = rf"{transformation} requires real-valued inputs, but got complex128 for p\[1\]"
    with pytest.raises(TypeError, match=message):
        call()


def test_complex_tangents_and_cotangents_are_refused():
    with pytest.raises(TypeError, match="jvp requires real-valued tangents, but got complex128"):
        s2sjax.jvp(SQUARE, (1.0,), (1j,))
    out, pullback = s2sjax.vjp(SQUARE, 1.5)
    with pytest.raises(TypeError, match="vjp requires real-valued cotangents, but got complex128"):
        pullback(1j)
    assert pullback(2.0) == (6.0,)  # a real cotangent still works: 2 * 2x at x = 1.5


def test_an_undifferentiated_complex_argument_is_refused_too():
    with pytest.raises(TypeError, match="grad " + REFUSED):
        s2sjax.grad(define("def scaled(x, c):\n    return x * c\n"))(1.0, 2j)


@pytest.mark.parametrize(
    "bad, message",
    [
        ("text", "str"),
        (None, "NoneType"),
        (object(), "object"),
    ],
)
def test_arguments_of_the_wrong_type_get_a_clear_error(bad, message):
    with pytest.raises(TypeError, match=message):
        s2sjax.grad(SMOOTH, target="python")(bad)


def _user_line_notes(exc):
    return [n for n in getattr(exc, "__notes__", []) if n.startswith("in generated code for ")]


@pytest.mark.parametrize("target", TARGETS)
def test_mismatched_shapes_get_numpys_error_at_the_users_line(target):
    fun = define("""
    def pair(x, y):
        z = x * 2.0
        return np.sum(z * y)
    """)
    grad = s2sjax.grad(fun, target=target)
    for _ in range(2):  # the first call, then the fast path
        with pytest.raises(ValueError, match="broadcast") as info:
            grad(np.ones(3), np.ones(4))
        assert [n.endswith(":6: return np.sum(z * y)") for n in _user_line_notes(info.value)] == [
            True
        ]


def test_a_division_by_zero_in_python_names_the_users_line():
    # Python ints raise on target="python" (floats compute as NumPy's, giving inf as compiled
    # targets do: test_backend)
    fun = define("""
    def ratio(x, y):
        z = x * 2.0
        return z * (1 // y)
    """)
    for transform in (s2sjax.grad, s2sjax.jit):
        with pytest.raises(ZeroDivisionError) as info:
            transform(fun, target="python")(1.0, 0)
        assert [n.endswith(":6: return z * (1 // y)") for n in _user_line_notes(info.value)] == [
            True
        ]


def test_a_python_error_in_generated_code_names_the_users_line():
    # math.sqrt(-1) raises in plain Python too; on target="python" the traceback ends in the
    # backward sweep, so a note says which line of the user's it comes from
    fun = define("""
def fun(x):
    y = x * 2.0
    return math.sqrt(y)
""")
    with pytest.raises(ValueError, match="math domain error") as info:
        s2sjax.grad(fun, target="python")(-1.0)
    assert any(
        note.startswith("in generated code for ")
        and note.endswith(":6: return math.sqrt(y)")  # after define's 2 imports
        for note in getattr(info.value, "__notes__", [])
    ), info.value


OUT_OF_BOUNDS = define("""
def shifted(x):
    total = 0.0
    for i in range(x.shape[0]):
        total = total + x[i + 1] * x[i]
    return total
""")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("transform", ["jit", "grad", "vmap", "hessian"])
def test_an_index_out_of_bounds_is_pythons_index_error_at_the_users_line(transform, target):
    # Numba reads (and, in a backward sweep, writes) past the end without a word unless asked
    # to check bounds: compiled code that indexes the user's arrays by element checks them
    fun = getattr(s2sjax, transform)(OUT_OF_BOUNDS, target=target)
    x = np.ones((2, 3)) if transform == "vmap" else np.ones(3)
    for _ in range(2):  # the first call, then the fast path
        with pytest.raises(IndexError, match="out of bounds") as info:
            fun(x)
        assert [
            n.endswith(":7: total = total + x[i + 1] * x[i]") for n in _user_line_notes(info.value)
        ] == [True]


def test_code_that_indexes_no_element_is_compiled_without_bounds_checks():
    fun = define("""
    def layer(w, x):
        return np.sum(np.tanh(x @ w)[1:])
    """)
    grad = s2sjax.grad(fun)
    args = (np.ones((3, 2)), np.ones(3))
    grad(*args)
    assert not grad.specialization(args).boundscheck
    assert s2sjax.grad(OUT_OF_BOUNDS).specialization((np.ones(3),)).boundscheck


def test_a_compiled_call_that_fails_late_is_not_run_again_as_python_for_long():
    # finding the line reruns the call as Python, ~100 times slower: it gives up after
    # 100,000 lines, and the compiled error stands as it is
    fun = define("""
    def late(x, n):
        total = 0.0
        for i in range(n):
            total = total + math.sin(total)
        return total + x[n]
    """)
    with pytest.raises(IndexError) as info:
        s2sjax.jit(fun)(np.ones(3), 1_000_000)
    assert not _user_line_notes(info.value)
    with pytest.raises(IndexError) as info:
        s2sjax.jit(fun)(np.ones(3), 10)
    assert [n.endswith(":8: return total + x[n]") for n in _user_line_notes(info.value)] == [True]


# ---- small: joins of pieces whose other dimensions differ raise NumPy's error ----
MISMATCHED_JOIN = define("""
def joined(a, b):
    return np.sum(np.concatenate((a, b), axis=1) ** 2)
""")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("transform", ["jit", "grad", "vmap"])
def test_a_join_of_pieces_whose_other_dimensions_differ_is_numpys_error(transform, target):
    # a slice store would broadcast the piece's 1 along the rows: a value where NumPy raises
    fun = getattr(s2sjax, transform)(MISMATCHED_JOIN, target=target)
    batch = (2,) if transform == "vmap" else ()
    with pytest.raises(ValueError, match="must match exactly"):
        fun(np.ones(batch + (2, 3)), np.ones(batch + (1, 3)))
    with pytest.raises(ValueError, match="must match exactly"):
        np.concatenate((np.ones((2, 3)), np.ones((1, 3))), axis=1)
