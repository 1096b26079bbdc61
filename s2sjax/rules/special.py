"""SciPy's special functions (`scipy.special`), elementwise.

Numba compiles no SciPy, so generated code spells each function as its runtime
helper (`scipy.special.gammaln(x)` becomes `rt.gammaln(x)`): SciPy itself on
target="python", s2sjax's own implementation when compiled (see the family's
block in `s2sjax/backend/runtime.py`). Templates follow elementwise.py's
conventions: `g` times the partial derivative, `out` the result. The
derivatives close over the family: gammaln' = digamma, digamma' = polygamma(1),
polygamma(n)' = polygamma(n + 1), so every order is available.
"""

import math

from ..backend import runtime as rt
from .elementwise import TWO_OVER_SQRT_PI, _float_result
from .registry import Rule, register


def special(name, template, params=("x",), math_name=None, aliases=()):
    """Declare `scipy.special.<name>`, spelled `rt.<name>`; `template` is its last parameter's
    adjoint (the others, like polygamma's order, are integers); `math_name` its spelling on
    scalars where `math` has it (fused loops, CUDA); `aliases` its other names in SciPy."""
    rule = Rule(
        f"rt.{name}",
        params,
        _float_result,
        {params[-1]: template},
        broadcasts=True,
        math=math_name,
    )
    spellings = (name, *aliases)
    register(rule, getattr(rt, name), paths=[f"scipy.special.{n}" for n in spellings])


ERF_SLOPE = f"{TWO_OVER_SQRT_PI} * exp(-x * x)"

special("gammaln", "g * rt.digamma(x)", math_name="math.lgamma")
special("digamma", "g * rt.polygamma(1, x)", aliases=["psi"])
special("polygamma", "g * rt.polygamma(n + 1, x)", params=("n", "x"))
special("erf", f"g * {ERF_SLOPE}", math_name="math.erf")
special("erfc", f"-g * {ERF_SLOPE}", math_name="math.erfc")
special("expit", "g * out * (1.0 - out)")
special("logit", "g / (x * (1.0 - x))")
register(
    Rule(
        "rt.xlogy",
        ("x", "y"),
        _float_result,
        {"x": "g * log(y)", "y": "g * x / y"},
        broadcasts=True,
    ),
    rt.xlogy,
    paths=["scipy.special.xlogy"],
)

# `math`'s twins, which fused loops write for rt.gammaln and rt.erfc on numbers
register(
    Rule("math.lgamma", ("x",), _float_result, {"x": "g * rt.digamma(x)"}, broadcasts=True),
    math.lgamma,
)
register(
    Rule("math.erfc", ("x",), _float_result, {"x": f"-g * {ERF_SLOPE}"}, broadcasts=True),
    math.erfc,
)
