"""The call path of a compiled one-argument function (W1): after its first call, the argument's
type picks the compiled function itself, and its errors still name the user's line."""

import numba
import pytest
import s2sjax

from tests.fd import numerical_grad
from tests.util import define

CHECKED = define("""
def checked(x):
    if x > 10.0:
        raise ValueError("x is too large")
    return x * math.sin(x ** 2)
""")
GRAD = s2sjax.grad(CHECKED, target="cpu")  # one compile shared by the tests below


def test_a_second_call_goes_straight_to_the_compiled_function():
    first = GRAD(0.3)
    GRAD(0.3)  # the first call through the table puts the compiled function there
    assert isinstance(GRAD._by_one_type[float], numba.core.registry.CPUDispatcher)
    assert GRAD(0.3) == first
    assert first == pytest.approx(numerical_grad(CHECKED, (0.3,), 0), rel=1e-9)


def test_an_error_on_the_direct_call_names_the_users_line():
    GRAD(0.3), GRAD(0.3)  # the direct call is in place
    assert isinstance(GRAD._by_one_type[float], numba.core.registry.CPUDispatcher)
    with pytest.raises(ValueError, match="x is too large") as info:
        GRAD(11.0)
    notes = [n for n in getattr(info.value, "__notes__", []) if n.startswith("in generated code")]
    assert [n.endswith(':6: raise ValueError("x is too large")') for n in notes] == [True]


def test_other_calls_leave_the_one_argument_table_alone():
    # keywords and several arguments take the general path, with the same result
    assert GRAD(x=0.3) == GRAD(0.3)
    two = s2sjax.grad(lambda x, y: x * y, target="python")
    assert two(2.0, 3.0) == 3.0 and two._by_one_type == {}
