"""SciPy's normal distribution (`scipy.stats.norm`): logpdf, pdf, cdf and logcdf, elementwise.

`scipy.stats.norm.logpdf` is a bound method, a new object at every attribute lookup: the registry
knows it by its instance and function (`registry.lookup`). Generated code spells each as its
runtime helper (`rt.norm_logpdf(x, loc, scale)`), one body for every target (see the family's
block in `s2sjax/backend/runtime.py`). Templates follow elementwise.py's conventions: `g` times
the partial derivative, `out` the result; `loc` and `scale` broadcast against `x`.
"""

from ..backend import runtime as rt
from .elementwise import _float_result
from .registry import Rule, register

PARAMS = ("x", "loc", "scale")
RESIDUAL = "(x - loc) / (scale * scale)"  # -d logpdf / dx
Z = "((x - loc) / scale)"


def norm(method, adjoints):
    """Declare `scipy.stats.norm.<method>`, spelled `rt.norm_<method>`; `adjoints` per parameter."""
    rule = Rule(
        f"rt.norm_{method}",
        PARAMS,
        _float_result,
        adjoints,
        defaults={"loc": 0.0, "scale": 1.0},
        broadcasts=True,
    )
    register(rule, getattr(rt, f"norm_{method}"), paths=[f"scipy.stats.norm.{method}"])


def _slopes(slope):
    """The adjoints of a function of the standardized value whose d/dx is `slope`: d/dloc is
    -slope, and d/dscale is -slope times the standardized value (x = loc + scale z)."""
    return {"x": f"g * {slope}", "loc": f"-g * {slope}", "scale": f"-g * {slope} * {Z}"}


norm(
    "logpdf",
    {
        "x": f"-g * {RESIDUAL}",
        "loc": f"g * {RESIDUAL}",
        "scale": f"g * ({Z} * {Z} - 1.0) / scale",
    },
)
norm(
    "pdf",
    {
        "x": f"-g * out * {RESIDUAL}",
        "loc": f"g * out * {RESIDUAL}",
        "scale": f"g * out * ({Z} * {Z} - 1.0) / scale",
    },
)
norm("cdf", _slopes("rt.norm_pdf(x, loc, scale)"))
# pdf / cdf as exp(logpdf - logcdf): neither underflows in the far left tail
norm("logcdf", _slopes("exp(rt.norm_logpdf(x, loc, scale) - out)"))
