"""`+=` and stores change an array in place in Python: the change shows through every other
name for it, and the array keeps its shape and dtype. s2sjax gives `a += v` a new array and
keeps `a[i] = v` to arrays it may update, so a program where the difference shows is rejected
at its line; one where it cannot show runs and agrees with Python (run on copies of its
arguments, which Python's `+=` would change)."""

import re

import numpy as np
import pytest

import s2sjax

from .fd import numerical_grad
from .util import define

REJECTED = {
    "aug of a copy read later": (
        """
def f(x):
    a = x * 1.0
    b = a
    a += 1.0
    return np.sum(b * x)
""",
        7,
        "'a += ...' on an array changes it in place in Python, "
        "and 'b' may refer to the same memory",
    ),
    "aug of an argument's alias": (
        """
def f(x):
    b = x
    b += 1.0
    return np.sum(b * x)
""",
        6,
        "'b += ...' on an array changes it in place in Python, "
        "and 'x' may refer to the same memory",
    ),
    "aug of an array viewed": (
        """
def f(x):
    a = x * 1.0
    b = a[1:]
    a += 1.0
    return np.sum(b)
""",
        7,
        "'a += ...' on an array changes it in place in Python, and 'b' may refer",
    ),
    "aug of a view of an array read later": (
        """
def f(x):
    b = x * 1.0
    a = b[1:]
    a += 1.0
    return np.sum(b)
""",
        7,
        "'a += ...' on an array changes it in place in Python, and 'b' may refer",
    ),
    "aug where one branch made a copy": (
        """
def f(x):
    a = x * 1.0
    if x[0] > 0:
        b = a
    else:
        b = np.zeros(3)
    a += 1.0
    return np.sum(b)
""",
        10,
        "'a += ...' on an array changes it in place in Python, and 'b' may refer",
    ),
    "aug in a loop of a copy read after it": (
        """
def f(x):
    b = x * 1.0
    a = b
    for i in range(2):
        a += 1.0
    return np.sum(a * b)
""",
        8,
        "'a += ...' on an array changes it in place in Python, and 'b' may refer",
    ),
    "store into an array copied": (
        """
def f(x):
    a = np.zeros(3)
    b = a
    a[0] = 5.0
    return np.sum(b * x)
""",
        7,
        "in-place update of 'a' while 'b' refers to the same memory and is read later",
    ),
    "store after += on an argument's alias": (
        """
def f(x):
    a = x
    a += 1.0
    a[0] = 2.0
    return np.sum(a)
""",
        7,
        "in-place update of 'a', an array the function did not create",
    ),
    "+= that would grow the array": (
        """
def f(x):
    a = np.zeros(3)
    a += np.outer(x, x)
    return np.sum(a)
""",
        6,
        "'a += ...' would make 'a' a 2-d float array, "
        "but Python's in-place '+=' keeps the 1-d float array",
    ),
    "+= of floats into an int array": (
        """
def f(x):
    a = np.zeros(3, dtype=np.int64) + 2
    a += x
    return np.sum(a)
""",
        6,
        "'a += ...' would make 'a' a 1-d float array, "
        "but Python's in-place '+=' keeps the 1-d int array",
    ),
    "store into a copy, the original read later": (
        """
def f(x):
    b = np.zeros(3)
    a = b
    a[0] = x[0]
    return np.sum(b * x) + a[0]
""",
        7,
        "in-place update of 'a' while 'b' refers to the same memory and is read later",
    ),
    "store after a chained assignment": (
        """
def f(x):
    a = b = np.zeros(3)
    a[0] = x[0]
    return np.sum(b * x) + a[0]
""",
        6,
        "in-place update of 'a' while 'b' refers to the same memory and is read later",
    ),
    "store into a copy made on one branch": (
        """
def f(x):
    b = np.zeros(3)
    if x[0] > 0.0:
        a = b
    else:
        a = np.ones(3)
    a[0] = x[1]
    return np.sum(b * x) + a[0]
""",
        10,
        "in-place update of 'a' while 'b' refers to the same memory and is read later",
    ),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
@pytest.mark.parametrize("transform", ["jit", "grad"])
def test_a_change_seen_through_another_name_is_rejected_at_its_line(case, transform):
    source, line, message = REJECTED[case]
    fun = define(source)
    with pytest.raises(s2sjax.TransformError, match=re.escape(message)) as info:
        getattr(s2sjax, transform)(fun, target="python")(np.array([1.0, 2.0, 3.0]))
    assert f".py:{line}:" in str(info.value)
    assert "hint:" in str(info.value)


ALLOWED = {
    "aug of an alias of an argument not read again": """
def f(x):
    y = x
    y += 1.0
    return np.sum(y * y)
""",
    "accumulating in a loop": """
def f(x):
    acc = np.zeros(3)
    for i in range(3):
        acc += x * i
    return np.sum(acc * x)
""",
    "aug of a copy in a loop, the copy not read again": """
def f(x):
    b = x * 1.0
    a = b
    for i in range(2):
        a += 1.0
    return np.sum(a * x)
""",
    "an alias redefined before it is read": """
def f(x):
    acc = x * 1.0
    last = x
    for i in range(2):
        acc += x
        last = acc
    return np.sum(last * x)
""",
    "a store after += on an array made here": """
def f(x):
    a = np.zeros(3)
    a += x
    a[0] = 1.0
    return np.sum(a * x)
""",
    "stores and += in a loop": """
def f(x):
    a = np.zeros(3)
    for i in range(3):
        a += x * i
        a[i] = a[i] * x[i]
    return np.sum(a * x)
""",
}


@pytest.mark.parametrize("case", sorted(ALLOWED))
@pytest.mark.parametrize("target", ["python", "cpu"])
def test_a_change_no_other_name_sees_runs_as_in_python(case, target):
    fun = define(ALLOWED[case])
    x = np.array([0.5, -1.0, 2.0])
    before = x.copy()
    assert s2sjax.jit(fun, target=target)(x) == pytest.approx(fun(x.copy()), rel=1e-14)
    np.testing.assert_allclose(
        s2sjax.grad(fun, target=target)(x),
        numerical_grad(lambda v: fun(v.copy()), (x,), 0),
        rtol=1e-8,
    )
    np.testing.assert_array_equal(x, before)  # Python's `+=` would have changed it
