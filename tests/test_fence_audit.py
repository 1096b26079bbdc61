"""The fence against the transforms: every construct the fence lets through is handled by each one.

For each node type on the fence's allow-lists there is a function here using it. Each is
checked under grad (against float64 finite differences), jvp (against finite differences along
a direction) and vmap (against a Python loop). A node type newly allowed without a case here
fails `test_every_allowed_node_type_has_a_case`.
"""

import gast
import numpy as np
import pytest

import s2sjax
from s2sjax.frontend import fence

from .fd import numerical_grad
from .util import define

# node type name -> body of `def f(x, s):` (x: 3 floats in (0.2, 0.9), s: a float near 0.7)
CASES = {
    "Assign": "a = x * s\n    b, c = a, s\n    return np.sum(a * b) + c",
    "AugAssign": "t = x * 1.0\n    t += x * s\n    t *= s\n    return np.sum(t)",
    "If": "if s > 0.5:\n        y = x * s\n    else:\n        y = x + s\n    return np.sum(y)",
    "For": "t = 0.0\n    for v in x:\n        t = t + v * s\n    return t",
    "While": "t = 0.0\n    k = 0\n    while k < 3:\n        t = t + x[k] * s\n"
    "        k += 1\n    return t",
    "Break": "t = 0.0\n    for k in range(3):\n        if x[k] > 10.0:\n            break\n"
    "        t = t + x[k] * s\n    return t",
    "Continue": "t = 0.0\n    for k in range(3):\n        if k == 1:\n            continue\n"
    "        t = t + x[k] * s\n    return t",
    "Return": "for k in range(3):\n        if x[k] > 10.0:\n            return s\n"
    "    return np.sum(x) * s",
    "Pass": "if s > 0.0:\n        pass\n    return np.sum(x * s)",
    "Assert": "assert s > 0.0, 'positive'\n    return np.sum(x * s)",
    "Expr": "'''a docstring'''\n    return np.sum(x * s)",
    "BinOp": "return np.sum(x * s - x / 2.0)",
    "UnaryOp": "return np.sum(-x * +s)",
    "BoolOp": "c = s > 0.0 and s < 5.0 or s > 100.0\n    return np.sum(x * s) if c else 0.0",
    "Compare": "return np.sum(x * s) if 0.0 < s <= 5.0 else 0.0",
    "IfExp": "return np.sum(x * s if s > 0.1 else x)",
    "Call": "return np.sum(np.sin(x)) * math.cos(s)",
    "Name": "y = x\n    return np.sum(y) * s",
    "Constant": "return np.sum(x * 2.5) + s * 3",
    "Attribute": "return np.sum(x.T * s) + x.shape[0] * s + x.size",
    "Subscript": "return x[0] * s + x[-1] + np.sum(x[1:] * s)",
    "Tuple": "t = (x, s)\n    a, b = t\n    return np.sum(a) * b",
    "List": "t = [x, s]\n    return np.sum(t[0]) * t[1]",
    "Dict": "t = {'x': x, 's': s}\n    return np.sum(t['x']) * t['s']",
    "Slice": "return np.sum(x[0:2] * s) + np.sum(x[::2])",
    "Add": "return np.sum(x + s)",
    "Sub": "return np.sum(x - s)",
    "Mult": "return np.sum(x * s)",
    "Div": "return np.sum(x / s)",
    "FloorDiv": "return np.sum(x * (s // 0.5))",
    "Mod": "return np.sum((x + 3.0) % 2.5 * s)",
    "Pow": "return np.sum(x ** s)",
    "MatMult": "return (x @ x) * s",
    "BitAnd": "return np.sum(np.where((x > 0.0) & (x < 2.0), x * s, 0.0))",
    "BitOr": "return np.sum(np.where((x < 0.0) | (x > 0.1), x * s, 0.0))",
    "USub": "return np.sum(-x) * s",
    "UAdd": "return np.sum(+x) * s",
    "Not": "return np.sum(x * s) if not s < 0.0 else 0.0",
    "And": "return np.sum(x * s) if s > 0.0 and s < 5.0 else 0.0",
    "Or": "return np.sum(x * s) if s < 0.0 or s > 0.5 else 0.0",
    "Eq": "return np.sum(x) * s if x.shape[0] == 3 else 0.0",
    "NotEq": "return np.sum(x) * s if x.shape[0] != 4 else 0.0",
    "Lt": "return np.sum(x) * s if s < 5.0 else 0.0",
    "LtE": "return np.sum(x) * s if s <= 5.0 else 0.0",
    "Gt": "return np.sum(x) * s if s > 0.0 else 0.0",
    "GtE": "return np.sum(x) * s if s >= 0.0 else 0.0",
    "Load": "return np.sum(x) * s",
    "Store": "y = x * s\n    return np.sum(y)",
}

FUNCTIONS = {name: define(f"def f(x, s):\n    {body}\n") for name, body in CASES.items()}
X, S = np.array([0.3, 0.55, 0.8]), 0.7


def test_every_allowed_node_type_has_a_case():
    allowed = fence._STATEMENTS + fence._EXPRESSIONS + fence._OPERATORS + fence._CONTEXTS
    missing = sorted(t.__name__ for t in allowed if t.__name__ not in CASES)
    assert not missing, f"node types the fence allows with no case in {__name__}: {missing}"
    for name, fun in FUNCTIONS.items():  # each case uses its node type
        tree = gast.parse(f"def f(x, s):\n    {CASES[name]}\n")
        assert any(type(n).__name__ == name for n in gast.walk(tree)), name


@pytest.mark.parametrize("name", sorted(CASES))
def test_grad_jvp_and_vmap_of_each_construct(name):
    fun = FUNCTIONS[name]
    gx, gs = s2sjax.grad(fun, argnums=(0, 1), target="python")(X, S)
    np.testing.assert_allclose(gx, numerical_grad(fun, (X, S), 0), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gs, numerical_grad(fun, (X, S), 1), rtol=1e-8, atol=1e-10)
    v = np.array([0.2, -0.4, 0.3])
    _, tangent = s2sjax.jvp(fun, (X, S), (v, 0.5), target="python")
    h = 1e-6
    along = (fun(X + h * v, S + h * 0.5) - fun(X - h * v, S - h * 0.5)) / (2 * h)
    np.testing.assert_allclose(tangent, along, rtol=1e-7, atol=1e-9)
    xs = np.stack([X, X * 0.9, X * 1.1])
    batched = s2sjax.vmap(fun, in_axes=(0, None), target="python")(xs, S)
    np.testing.assert_allclose(batched, [fun(row, S) for row in xs], rtol=1e-14)
