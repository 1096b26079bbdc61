"""Every row of design.md's error table that applies to grad, each with its message and location."""

import warnings

import numpy as np
import pytest

import s2sjax
from tests.util import define


def test_integer_input_is_a_type_error():
    g = s2sjax.grad(define("def f(x):\n    return 3 * x * x + 9\n"))
    with pytest.raises(TypeError, match=r"grad requires real-valued inputs .* but got int64"):
        g(2)
    assert g(2.0) == 12.0


def test_integer_array_input_names_its_dtype():
    g = s2sjax.grad(define("def f(x):\n    return np.sum(x * 2.0)\n"))
    with pytest.raises(TypeError, match=r"got int32"):
        g(np.arange(3, dtype=np.int32))


def test_integer_argument_outside_argnums_is_allowed():
    g = s2sjax.grad(define("def f(x, n):\n    return x ** n\n"))
    assert g(2.0, 3) == pytest.approx(12.0)


def test_non_scalar_output_names_its_shape():
    g = s2sjax.grad(define("def f(x):\n    return np.sin(x)\n"))
    with pytest.raises(
        TypeError,
        match=r"^Gradient only defined for scalar-output functions\. Output had shape: \(3,\)\.$",
    ):
        g(np.ones(3))


@pytest.mark.parametrize("argnums", [2, (0, 2), -3])
def test_argnums_beyond_the_arguments(argnums):
    g = s2sjax.grad(define("def f(x, y):\n    return x * y\n"), argnums=argnums)
    with pytest.raises(
        TypeError, match=r"argnums=.* requires at least 3 positional arguments .* but got only 2"
    ):
        g(1.0, 2.0)


def test_argnums_must_be_ints():
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
        s2sjax.grad(lambda x: x, argnums="0")


def test_unknown_target():
    with pytest.raises(ValueError, match="target must be one of"):
        s2sjax.grad(lambda x: x, target="gpu")


UNSUPPORTED = {
    "with": ("    with open('f') as fh:\n        y = x\n", "a 'with' statement", 4),
    "class": ("    class A:\n        pass\n", "a class definition", 4),
    "yield": ("    yield x\n", "an expression statement", 4),
    "try": (
        "    try:\n        y = x\n    except Exception:\n        y = 0.0\n",
        "a 'try' statement",
        4,
    ),
    "global": ("    global G\n", "a 'global' statement", 4),
    "list comprehension": (
        "    y = [x for _ in range(3) for _ in range(2)]\n",
        "a list comprehension",
        8,
    ),
    "while-else": (
        "    while x > 0:\n        x = x - 1.0\n    else:\n        x = 0.0\n",
        "'else' after a loop",
        4,
    ),
    "for-else": (
        "    for i in range(3):\n        x = x * 2.0\n    else:\n        x = 0.0\n",
        "'else' after a loop",
        4,
    ),
    "range as a value": ("    r = range(3)\n", "range() outside the head of a 'for' loop", 8),
    "in-place update of an argument": (
        "    x[0] = 1.0\n",
        "in-place update of 'x', an argument",
        4,
    ),
    "unknown method": ("    y = x.cumsum()\n", "the method 'cumsum'", 8),
}


@pytest.mark.parametrize("construct", sorted(UNSUPPORTED))
def test_unsupported_syntax_names_file_line_column_and_shows_a_caret(construct):
    body, what, col = UNSUPPORTED[construct]
    fun = define(f"def f(x):\n    z = x\n{body}    return x\n")
    with pytest.raises(s2sjax.TransformError) as info:
        s2sjax.grad(fun)(1.0)
    err = info.value
    assert isinstance(err, SyntaxError)
    assert err.filename == fun.__code__.co_filename
    assert err.lineno == fun.__code__.co_firstlineno + 2
    assert err.offset == col + 1
    text = str(err)
    assert what in text
    assert f"{fun.__code__.co_filename}:{err.lineno}:{err.offset}:" in text
    source_line, caret_line = text.splitlines()[1:3]
    assert source_line.strip() == body.splitlines()[0].strip()
    assert caret_line.index("^") == source_line.index(source_line.strip()) + col - 4


def test_hint_is_part_of_the_message():
    fun = define("def f(x):\n    global G\n    return x\n")
    with pytest.raises(s2sjax.TransformError, match="hint: pass the value as an argument instead"):
        s2sjax.grad(fun)(1.0)


def test_function_with_no_source_and_no_rule_is_named_at_the_call():
    fun = define("def f(x):\n    return math.gamma(x) * x\n")
    with pytest.raises(
        s2sjax.TransformError, match=r"'math.gamma' has no Python source and no derivative rule"
    ) as info:
        s2sjax.grad(fun)(1.5)
    assert info.value.lineno == fun.__code__.co_firstlineno + 1
    assert info.value.offset == 12


def test_undefined_name():
    fun = define("def f(x):\n    return x * not_defined_anywhere\n")
    with pytest.raises(s2sjax.TransformError, match="name 'not_defined_anywhere' is not defined"):
        s2sjax.grad(fun)(1.0)


def test_variable_possibly_unassigned():
    fun = define("def f(x):\n    if x > 0:\n        y = x\n    return y\n")
    with pytest.raises(s2sjax.TransformError, match="'y' may be used before it is assigned"):
        s2sjax.grad(fun)(1.0)


def test_recursion_is_rejected():
    fun = define("def f(x):\n    return f(x - 1.0) if x > 0 else x\n")
    with pytest.raises(s2sjax.TransformError, match="recursive call to 'f'"):
        s2sjax.grad(fun)(1.0)


def test_source_of_a_builtin_cannot_be_read():
    with pytest.raises(s2sjax.TransformError, match="cannot read the source of 'repr'"):
        s2sjax.grad(repr)(1.0)


TRANSFORMATIONS = {
    "grad": lambda f, x: s2sjax.grad(f)(x),
    "jvp": lambda f, x: s2sjax.jvp(f, (x,), (x,)),
    "vjp": lambda f, x: s2sjax.vjp(f, x),
    "jacfwd": lambda f, x: s2sjax.jacfwd(f)(x),
    "hessian": lambda f, x: s2sjax.hessian(f)(x),
    "vmap": lambda f, x: s2sjax.vmap(f)(np.stack([x, x])),
    "jit": lambda f, x: s2sjax.jit(f)(x),
}


@pytest.mark.parametrize("transformation", sorted(TRANSFORMATIONS))
@pytest.mark.parametrize(
    "fun,spelled",
    [
        (np.i0, "np.i0"),
        (np.nanmean, "np.nanmean"),
        (np.linalg.matrix_power, "np.linalg.matrix_power"),
        (np.add.reduce, "np.add.reduce"),
    ],
)
def test_a_numpy_function_without_a_rule_given_directly_is_named_at_the_users_line(
    fun, spelled, transformation
):
    # it was an AttributeError ('__globals__') from inside s2sjax, or an IndexError
    with pytest.raises(
        s2sjax.TransformError, match=f"{spelled} has no derivative rule in s2sjax"
    ) as info:
        TRANSFORMATIONS[transformation](fun, np.array([0.3, 0.5]))
    assert info.value.filename == __file__


def test_callables_without_python_source_are_refused_by_name():
    import functools

    import numba

    class Scaled:
        def __call__(self, x):
            return 2.0 * x

    compiled = numba.njit(lambda x: 2.0 * x)
    cases = [
        (compiled, r"<lambda> is compiled by Numba: s2sjax cannot transform it"),
        (functools.partial(np.multiply, 2.0), r"cannot read the source of .*: it is a partial"),
        (Scaled(), r"cannot read the source of .*: it is a Scaled"),
    ]
    for fun, message in cases:
        with pytest.raises(s2sjax.TransformError, match=message) as info:
            s2sjax.grad(fun)(1.0)
        assert info.value.filename == __file__


MIXED_TYPES = """\
def f(x, c):
    if c > 0:
        y = x * 2.0
    else:
        y = x * np.ones(3)
    return np.sum(y)
"""


def test_numba_failure_falls_back_to_python_with_one_warning():
    fun = define(MIXED_TYPES)
    g = s2sjax.grad(fun)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = g(1.5, 1)
        second = g(1.5, -1)
    fallbacks = [w for w in caught if issubclass(w.category, s2sjax.NumbaFallbackWarning)]
    assert len(fallbacks) == 1
    assert "Numba said:" in str(fallbacks[0].message) and fun.__qualname__ in str(
        fallbacks[0].message
    )
    assert first == pytest.approx(2.0) and second == pytest.approx(3.0)


def test_strict_mode_raises_instead_of_falling_back(monkeypatch):
    import numba

    monkeypatch.setattr(s2sjax.config, "strict", True)
    with pytest.raises(numba.core.errors.TypingError):
        s2sjax.grad(define(MIXED_TYPES))(1.5, 1)


@pytest.mark.parametrize("transformation", ["grad", "jvp", "jit"])
def test_eigh_of_the_upper_triangle_is_refused_at_the_users_line(transformation):
    """Numba's eigh reads the lower triangle, whose eigenvectors' signs differ from NumPy's
    eigh(a, "U"): a value that differs from NumPy's is refused, not returned."""
    fun = define("def upper(a):\n    return np.sum(np.linalg.eigh(a, 'U')[1])\n")
    with pytest.raises(s2sjax.TransformError, match="UPLO other than 'L'") as info:
        TRANSFORMATIONS[transformation](fun, np.eye(3) + 0.1)
    assert info.value.filename == fun.__code__.co_filename


def test_quantile_takes_its_method_written_out_and_refuses_others_at_the_line():
    linear = define("def f(x):\n    return np.quantile(x, 0.3, method='linear')\n")
    x = np.array([0.3, 1.2, -0.5, 2.0])
    np.testing.assert_allclose(s2sjax.grad(linear, target="python")(x), [0.9, 0.0, 0.1, 0.0])
    nearest = define("def f(x):\n    return np.percentile(x, 30.0, method='nearest')\n")
    with pytest.raises(s2sjax.TransformError, match="method= is not supported") as info:
        s2sjax.grad(nearest, target="python")(x)
    assert "np.percentile(x, 30.0, method=" in info.value.text
