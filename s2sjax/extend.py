"""Custom derivative rules for your own functions: `defvjp` and `defjvp`.

A function with a custom rule is not inlined or differentiated: generated
code calls it (compiled by Numba) and uses your rule for its derivative. Use
it for a derivative that is numerically stabler than the automatic one, or
for a function s2sjax cannot read (a Numba-compiled function, say).

>>> import numpy as np
>>> def logsumexp(x):
...     top = np.max(x)
...     return top + np.log(np.sum(np.exp(x - top)))
>>> defvjp(logsumexp, lambda g, out, x: g * np.exp(x - out))
>>> defjvp(logsumexp, lambda d, out, x: np.sum(d * np.exp(x - out)))

Each rule is a function of the result's adjoint `g` (for defvjp) or one
argument's tangent `d` (for defjvp), the result `out`, and all of the
function's arguments; rule k is for argument k (None: that argument has no
derivative). Rules run compiled, so they must be Numba-compilable; their own
derivatives are not available (`grad(grad(f))` of such a function is an
error, not a wrong number).
"""

import hashlib
import inspect
import itertools

import numba

from . import pipeline, rules
from .rules import registry
from .backend import runtime
from .backend.compile import jit_options
from .errors import TransformError
from .abstract import Type
from .mode import Mode

_COUNTER = itertools.count()
# of the runtime names of users' functions and rules: generated code calls rt.user_...
PREFIX = "user_"


_defined = 0  # how many rules users have defined or redefined: code made before may be stale


def definitions():
    """A number that changes whenever a user (re)defines a rule."""
    return _defined


def calls_custom_rules(source):
    """Whether generated source calls a user's function or rule."""
    return f"rt.{PREFIX}" in source


def defvjp(fun, *vjps, output_ndim=None):
    """Use `vjps[k](g, out, *args)` as the adjoint contribution of `fun`'s k-th argument.

    `g` has the shape of `fun`'s result `out`; rule k returns an array shaped like
    argument k (None for an argument with no derivative). `output_ndim`: the rank
    of `fun`'s result, needed only when s2sjax cannot read `fun`.

    >>> import numpy as np, s2sjax
    >>> def softplus(x):
    ...     return np.log1p(np.exp(x))
    >>> defvjp(softplus, lambda g, out, x: g / (1.0 + np.exp(-x)))  # stable for large x
    >>> s2sjax.grad(lambda x: np.sum(softplus(x)), target="python")(np.array([800.0, 0.0])).tolist()
    [1.0, 0.5]
    """
    _define(fun, vjps, "vjp", output_ndim)


def defjvp(fun, *jvps, output_ndim=None):
    """Use `jvps[k](d, out, *args)` as the tangent contribution of `fun`'s k-th argument.

    `d` has the shape of argument k; rule k returns a tangent shaped like `fun`'s result.

    >>> import numpy as np, s2sjax
    >>> def cube(x):
    ...     return x ** 3
    >>> defjvp(cube, lambda d, out, x: 3.0 * x * x * d)
    >>> value, tangent = s2sjax.jvp(lambda x: cube(x) + x, (2.0,), (1.0,), target="python")
    >>> float(value), float(tangent)
    (10.0, 13.0)
    """
    _define(fun, jvps, "jvp", output_ndim)


def _define(fun, derivatives, mode, output_ndim):
    global _defined
    _defined += 1
    pyfunc = getattr(fun, "py_func", fun)  # a Numba dispatcher's Python function
    if not inspect.isfunction(pyfunc):
        raise TypeError(
            f"def{mode} takes a Python function (or a Numba-compiled one), got {type(fun).__name__}"
        )
    params = tuple(inspect.signature(pyfunc).parameters)
    if len(derivatives) > len(params):
        raise TypeError(
            f"def{mode}: {pyfunc.__name__} has {len(params)} arguments, "
            f"but {len(derivatives)} rules were given"
        )
    for k, rule in enumerate(derivatives):
        if rule is not None and not callable(rule):
            raise TypeError(
                f"def{mode}: the rule for argument {params[k]!r} is a {type(rule).__name__}, "
                "not a function"
            )
    rule = rules.lookup(fun) or _new_rule(fun, pyfunc, params)
    if output_ndim is not None:
        rule.result.output_ndim = output_ndim
    table = rule.adjoints if mode == "vjp" else rule.tangents
    seed = "g" if mode == "vjp" else "d"
    for k, param in enumerate(params):
        table.pop(param, None)
        derivative = derivatives[k] if k < len(derivatives) else None
        if derivative is None:
            continue
        helper = _runtime_name(rule, f"{mode}_{param}", derivative)
        table[param] = f"rt.{helper}({seed}, out, {', '.join(params)})"
        _register_helper(helper, params, param if mode == "vjp" else None)


def _register_helper(helper, params, shaped_like):
    """Make a rule callable from generated code that is transformed again (vmap of grad), with no
    derivative of its own: differentiating it is an error."""
    names = ("_seed", "_out") + params
    like = shaped_like or "_out"
    rule = registry.Rule(
        f"rt.{helper}",
        names,
        lambda types, nodes: Type("float", types[like].ndim),
        unsupported={
            p: "it is a custom rule (s2sjax.extend), whose own derivative s2sjax does not know"
            for p in names
        },
        custom=True,
    )
    registry.register(rule, getattr(runtime, helper))


def _new_rule(fun, pyfunc, params):
    helper = _runtime_name(None, pyfunc.__name__, fun)
    rule = registry.Rule(f"rt.{helper}", params, _result_type(pyfunc, params), custom=True)
    objects = {
        id(o): o for o in (fun, pyfunc, getattr(runtime, helper))
    }  # as written, and as generated code has it
    registry.register(rule, *objects.values())
    return rule


def _runtime_name(rule, role, function):
    """Put `function`, compiled, in the runtime module under a name that changes with its source.

    Generated code calls it as `rt.<name>`; the name is part of the generated source, so a
    changed rule gives new source and new compiled code (never a stale cached one).
    """
    pyfunc = getattr(function, "py_func", function)
    try:
        text = inspect.getsource(pyfunc)
    except (OSError, TypeError):
        text = f"{pyfunc.__qualname__} {next(_COUNTER)}"
    stem = (
        rule.name[len("rt.") :]
        if rule
        else f"{PREFIX}{pyfunc.__name__}".replace("<lambda>", "lambda")
    ) + ("" if rule is None else f"_{role}")
    name = f"{stem}_{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    # the user's own Numba function keeps its options; a Python one gets generated code's (NumPy's
    # error model)
    compiled = (
        function
        if isinstance(function, numba.core.registry.CPUDispatcher)
        else numba.njit(**jit_options())(pyfunc)
    )
    setattr(runtime, name, compiled)
    return name


def _result_type(pyfunc, params):
    """The result type of a call, by s2sjax's own type inference of `pyfunc` where it can."""
    known = {}

    def result(types, nodes):
        arg_types = tuple(types[p] for p in params)
        if result.output_ndim is not None:
            return Type("float", result.output_ndim)
        if arg_types not in known:
            try:
                spec = pipeline.Spec(arg_types, (), target="python", mode=Mode.PRIMAL)
                known[arg_types] = pipeline.generate(pyfunc, spec).output_types[0]
            except (TransformError, OSError, TypeError) as exc:
                raise rules.RuleError(
                    f"s2sjax cannot read {pyfunc.__name__} to find the rank of its result "
                    f"({str(exc).splitlines()[0]}); give it: defvjp({pyfunc.__name__}, ..., "
                    "output_ndim=...)"
                ) from None
        return known[arg_types]

    result.output_ndim = None
    return result
