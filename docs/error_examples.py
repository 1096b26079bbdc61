"""The errors a user can hit, each with a program that raises it and the fix: what
docs/errors.md is written from (by docs/generate.py, which runs every program, so the messages
on the page are the ones s2sjax gives today).

Each example is a module's source (saved as `example.py` and imported) and a call, evaluated
with the module's names, `np` and `s2sjax` at hand.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    title: str
    source: str
    call: str
    fix: str


def _with_np(body):
    return "import numpy as np\n\n\n" + body


EXAMPLES = (
    Example(
        "An integer input to `grad`",
        _with_np("def f(x):\n    return x ** 2\n"),
        's2sjax.grad(f, target="python")(3)',
        "Pass a float (`3.0`), or leave the integer argument out of `argnums`: integers are "
        "never differentiated. With `allow_int=True` (as in JAX), an integer argument's "
        "gradient is zeros of dtype `s2sjax.float0`.",
    ),
    Example(
        "A complex input",
        _with_np("def f(x):\n    return np.sum(x * 2.0)\n"),
        's2sjax.grad(f, target="python")(np.ones(2) + 1j)',
        "s2sjax has no complex numbers yet: split the real and imaginary parts into two real "
        "arrays.",
    ),
    Example(
        "`grad` of a function whose output is not a scalar",
        _with_np("def f(x):\n    return np.sin(x)\n"),
        's2sjax.grad(f, target="python")(np.ones(3))',
        "Reduce the output to one number (`np.sum`), or take `jacrev`/`jacfwd` for the "
        "Jacobian, or `vjp` for one vector-Jacobian product.",
    ),
    Example(
        "`grad` of a function whose output is not a float",
        _with_np("def f(x):\n    return np.allclose(x, 1.0)\n"),
        's2sjax.grad(f, target="python")(np.ones(3))',
        "A comparison or a bool has no derivative: differentiate the float it is computed from.",
    ),
    Example(
        "`argnums` beyond the arguments",
        _with_np("def f(x, y):\n    return x * y\n"),
        's2sjax.grad(f, argnums=2, target="python")(1.0, 2.0)',
        "Count argnums from 0; a negative one counts from the end.",
    ),
    Example(
        "`vmap` over arrays of different lengths",
        _with_np("def f(x, y):\n    return x * y\n"),
        's2sjax.vmap(f, target="python")(np.ones(3), np.ones(4))',
        "Give every mapped argument the same size along its mapped axis, or map only some "
        "(`in_axes=(0, None)`).",
    ),
    Example(
        "`in_axes` that does not match the arguments",
        _with_np("def f(x, y):\n    return x * y\n"),
        's2sjax.vmap(f, in_axes=(0, 0, 0), target="python")(np.ones(3), np.ones(3))',
        "One entry of `in_axes` per positional argument (or one int for all).",
    ),
    Example(
        "Python outside the supported subset",
        _with_np(
            "def f(x):\n    with open('log.txt') as log:\n        y = x * 2.0\n    return y\n"
        ),
        's2sjax.grad(f, target="python")(1.0)',
        "Keep such code outside the transformed function (see "
        "[Supported Python](supported-python.md) for what is inside the subset).",
    ),
    Example(
        "A function s2sjax has no rule for",
        _with_np("def f(x):\n    return np.sum(np.i0(x))\n"),
        's2sjax.grad(f, target="python")(np.ones(4))',
        "Write it with the functions s2sjax knows ([Functions](functions.md)), or give it a "
        "rule with `s2sjax.extend.defvjp` and `defjvp`.",
    ),
    Example(
        "A variable a loop carries changes its rank",
        _with_np(
            "def f(x):\n    y = x\n    for i in range(3):\n        y = y * np.ones(2)\n"
            "    return np.sum(y)\n"
        ),
        's2sjax.grad(f, target="python")(1.0)',
        "Start the variable with the rank it gets in the loop (`y = x * np.ones(2)`): compiled "
        "code gives each variable one type.",
    ),
    Example(
        "An index out of bounds",
        _with_np("def f(x):\n    return x[5] * 2.0\n"),
        's2sjax.grad(f, target="python")(np.ones(3))',
        "Python's own IndexError, at your line, on every target (JAX would clamp the index).",
    ),
    Example(
        "An array held by a method's self",
        _with_np(
            "class Model:\n    w = np.ones(2)\n\n    def loss(self, x):\n"
            "        return np.sum(x * self.w)\n"
        ),
        's2sjax.grad(Model().loss, target="python")(np.ones(2))',
        "A method's `self` gives numbers, strings and bools, read as constants like a "
        "closure's; pass arrays as arguments (a namedtuple or dataclass of them is fine).",
    ),
    Example(
        "A JAX name s2sjax does not have",
        _with_np("def f(x):\n    return x * 2.0\n"),
        "s2sjax.pmap(f)",
        "The hint says what to write; [Coming from JAX](coming-from-jax.md) has the whole table.",
    ),
    Example(
        "A JAX array method inside a transformed function",
        _with_np("def f(x):\n    y = x.at[0].set(2.0)\n    return np.sum(y)\n"),
        's2sjax.grad(f, target="python")(np.ones(3))',
        "Update a copy in place: `y = x.copy(); y[0] = 2.0`, differentiated as written.",
    ),
    Example(
        "`vjp` of a pullback",
        _with_np("def f(x):\n    return x * 2.0\n"),
        's2sjax.vjp(s2sjax.vjp(f, np.ones(2), target="python")[1], np.ones(2))',
        "Take `vjp` or `grad` of a function that computes the product itself, e.g. "
        "`grad(lambda x, ct: np.sum(f(x) * ct))`.",
    ),
)
