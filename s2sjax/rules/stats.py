"""SciPy's normal distributions: `scipy.stats.norm`'s logpdf, pdf, cdf and logcdf, elementwise, and
`scipy.stats.multivariate_normal`'s logpdf and pdf.

`scipy.stats.norm.logpdf` is a bound method, a new object at every attribute lookup: the registry
knows it by its instance and function (`registry.lookup`). Generated code spells each as its
runtime helper (`rt.norm_logpdf(x, loc, scale)`), one body for every target (see the family's
block in `s2sjax/backend/runtime.py`). Templates follow elementwise.py's conventions: `g` times
the partial derivative, `out` the result; `loc` and `scale` broadcast against `x`.
"""

import math

import gast

from ..backend import runtime as rt
from .elementwise import _float_result
from .reductions import _call, _constant, _flag, _is_none, never_typed
from .registry import Rule, RuleError, dotted, register

PARAMS = ("x", "loc", "scale")
RESIDUAL = "(x - loc) / (scale * scale)"  # -d logpdf / dx
Z = "((x - loc) / scale)"


def norm(method, adjoints, cuda=None):
    """Declare `scipy.stats.norm.<method>`, spelled `rt.norm_<method>`; `adjoints` per parameter;
    `cuda`: its spelling on numbers in a CUDA device function, where the helper's is not."""
    rule = Rule(
        f"rt.norm_{method}",
        PARAMS,
        _float_result,
        adjoints,
        defaults={"loc": 0.0, "scale": 1.0},
        broadcasts=True,
        cuda=cuda,
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
    cuda="rt.norm_pdf_of_scalar",
)
norm("cdf", _slopes("rt.norm_pdf(x, loc, scale)"))
# pdf / cdf as exp(logpdf - logcdf): neither underflows in the far left tail
norm("logcdf", _slopes("exp(rt.norm_logpdf(x, loc, scale) - out)"))


# ---- scipy.stats.multivariate_normal: logpdf and pdf, written in other rules ----------------
# With cov = L L^T (cholesky) and z = L^-1 (x - mean) (a triangular solve), logpdf is
# -z.z / 2 - sum(log diag L) - k log(2 pi) / 2: its derivatives are those of the rules it is
# written in, in x, mean and cov. x is one point (k,) or a point per row (n, k).


def _expand_multivariate_normal(pdf):
    def expand(given):
        if _flag(given.get("allow_singular"), "allow_singular"):
            raise RuleError(
                "scipy.stats.multivariate_normal with allow_singular=True is not supported: "
                "s2sjax factors cov by cholesky, which needs it positive definite"
            )
        x, mean, cov = given["x"], given.get("mean"), given.get("cov")
        if cov is None or _is_none(cov):
            raise RuleError("give scipy.stats.multivariate_normal's cov, a (k, k) matrix")
        # in float64 whatever the arguments' dtypes, as SciPy computes
        x = gast.Call(gast.Attribute(x, "astype", gast.Load()), [dotted("np.float64")], [])
        centred = x if mean is None or _is_none(mean) else gast.BinOp(x, gast.Sub(), mean)
        factor = _call("np.linalg.cholesky", cov)
        z = _call("rt.solve_lower", factor, _call("np.transpose", centred))
        half_square = gast.BinOp(
            _constant(0.5),
            gast.Mult(),
            _call("np.sum", gast.BinOp(z, gast.Mult(), z), axis=_constant(0)),
        )
        half_log_det = _call("np.sum", _call("np.log", _call("np.diag", factor)))
        size = gast.Subscript(gast.Attribute(cov, "shape", gast.Load()), _constant(0), gast.Load())
        normalizer = gast.BinOp(size, gast.Mult(), _constant(_HALF_LOG_2PI))
        log_density = gast.BinOp(
            gast.BinOp(gast.UnaryOp(gast.USub(), half_square), gast.Sub(), half_log_det),
            gast.Sub(),
            normalizer,
        )
        return _call("np.exp", log_density) if pdf else log_density

    return expand


_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)

for _method, _pdf in (("logpdf", False), ("pdf", True)):
    register(
        Rule(
            f"scipy.stats.multivariate_normal.{_method}",
            ("x", "mean", "cov", "allow_singular"),
            never_typed,
            defaults={"mean": None, "cov": None, "allow_singular": False},
            expands=_expand_multivariate_normal(_pdf),
        ),
        paths=[f"scipy.stats.multivariate_normal.{_method}"],
    )
