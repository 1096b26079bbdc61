"""Forms autograd's tests use: constants from globals, a NumPy function given directly with its
shape-deciding arguments, np.r_/np.c_ and einsum's sublists where they are refused."""

import numpy as np
import pytest

import s2sjax
from tests import fd
from tests.util import define

SUBLISTS = "import numpy as np\nSUBLIST = (Ellipsis, 0, 1)\nOUT = [Ellipsis, 0, 2]\n"
WEIGHTS = "import numpy as np\nWEIGHTS = (np.array([1.0, -2.0]), 3.0, [0.5])\n"


def test_a_global_tuple_of_sublists_is_a_display():
    fun = define(
        "def f(a, b):\n    return np.sum(np.sin(np.einsum(a, SUBLIST, b, (1, 2), OUT)))\n",
        namespace_setup=SUBLISTS,
    )
    a, b = np.linspace(-1.0, 1.0, 6).reshape(2, 3), np.linspace(0.5, 2.0, 12).reshape(3, 4)
    grads = s2sjax.grad(fun, argnums=(0, 1), target="cpu")(a, b)
    fd.check_grad(fun, (a, b), (0, 1), grads, rtol=1e-7, atol=1e-9, name="einsum sublists")


def test_a_global_tuple_of_arrays_and_numbers_is_read_again():
    module_fun = define(
        "def f(x):\n    w, s, (h,) = WEIGHTS\n    return np.sum(x * w) * s + h\n",
        namespace_setup=WEIGHTS,
    )
    grad = s2sjax.grad(module_fun, target="python")
    assert grad(np.ones(2)).tolist() == [3.0, -6.0]
    module_fun.__globals__["WEIGHTS"] = (np.array([1.0, 1.0]), 2.0, [0.5])
    assert grad(np.ones(2)).tolist() == [2.0, 2.0]


@pytest.mark.parametrize(
    "split,sections", [(np.vsplit, 2), (np.hsplit, [1, 3]), (np.array_split, 3)]
)
def test_a_split_given_directly_takes_its_sections_as_static(split, sections):
    x = np.linspace(-1.0, 1.0, 16).reshape(4, 4)
    pieces, pullback = s2sjax.vjp(split, x, sections, target="cpu")
    assert [p.shape for p in pieces] == [p.shape for p in split(x, sections)]
    weights = [np.full(p.shape, k + 1.0) for k, p in enumerate(pieces)]
    (x_bar, _) = pullback(weights)
    assert np.array_equal(x_bar, np.concatenate(weights, axis=1 if split is np.hsplit else 0))


@pytest.mark.parametrize(
    "body,message",
    [
        ("np.r_['0,2', x, x]", "string directive"),
        ("np.r_[x, 0:1:3j]", "complex step"),
        ("np.einsum(x, [0, 'a'])", "sublists must be tuples or lists of ints"),
    ],
)
def test_forms_refused_where_written(body, message):
    fun = define(f"def f(x):\n    return np.sum({body})\n")
    with pytest.raises(s2sjax.TransformError, match=message):
        s2sjax.grad(fun, target="python")(np.ones(3))
