"""A transformation called inside a transformed function: `grad(f)(x)`, or `df(x)` with
`df = grad(f)` built outside.

Like `s2sjax.jvp` written inside (jvpcalls.py), the call is opaque in the
front end's first pass; type inference, reaching it with the arguments' types,
asks `specialize` for the transformation's generated code for those types
(plain NumPy code, target python), and the second pass inlines it as an
ordinary callee. That code is what the outer transformation differentiates
again, as `hessian = jacfwd(jacrev(f))` does: in forward mode
(`derivatives_inside` in jvpcalls).
"""

from dataclasses import dataclass

import numpy as np

from ..abstract import FloatOfEitherWidth, Type, of_value
from ..backend import compile as backend
from ..pytree import LEAF, tree_display

# the kinds whose generated code can be inlined as a plain function of the arguments
INLINED_KINDS = ("grad", "value_and_grad", "jacfwd", "jacrev")
# the transformations that can be written where they are called, `grad(g)(x)`
WRITTEN = INLINED_KINDS + ("hessian",)


@dataclass
class InnerCode:
    """A transformation's generated code, as transformed code calling it inlines it."""

    function: object  # (args, hidden values) -> the result, in the user's tuples
    hidden: list  # () -> the current value of each hidden argument, passed after the arguments
    output_type: Type
    assumptions: list  # frontend.resolve.Assumption: when the caller's code goes stale


def refusal(transformed):
    """Why calling `transformed` inside transformed code is refused (message, hint), or None."""
    kind = transformed.kind
    if kind.name not in INLINED_KINDS:
        return (
            f"calling a {kind.name} inside a transformed function is not supported",
            "call grad, value_and_grad, jacfwd, jacrev, hessian, jvp or vmap there",
        )
    if kind.has_aux:
        return (
            f"a {kind.name} with has_aux=True called inside a transformed function is not "
            "supported",
            "call it without has_aux, and compute the auxiliary value beside it",
        )
    return None


def specialize(transformed, arg_types, generate_types, regroup=None):
    """The `InnerCode` of `transformed` (a Transformed) for arguments of `arg_types`.

    `generate_types(function, types)`: pipeline.Generated of `function` as it is (for its output
    types). `regroup(params)`, when given: the expression returned instead of the
    tuple `result` (a vjp's pullback puts them in its primals' structures, pullbacks.py). Raises
    TypeError or ValueError where the transformation refuses the arguments.
    """
    python = _as_python(transformed)
    entry = python.specialization(tuple(_example(t) for t in arg_types))
    tree = _code_tree(entry)
    hidden = entry.hidden + [c.read for c in entry.captured]
    params = [f"arg_{i}" for i in range(len(arg_types))]
    extra = [f"hidden_{i}" for i in range(len(hidden))]
    name = f"{entry.function_name}_called"
    result = tree_display(tree, iter(f"result[{i}]" for i in range(tree.num_leaves)))
    if tree.kind == "leaf":
        result = "result"
    if regroup is not None:
        result = regroup(params)
    wrapper = (
        f"def {name}({', '.join(params + extra)}):\n"
        f"    result = {entry.function_name}({', '.join(params + extra)})\n"
        f"    return {result}\n"
    )
    module = backend.load_module(
        backend.module_source(
            entry.function_source + "\n\n" + wrapper,
            f"{transformed!r} called in a transformed function",
        ),
        backend.module_stem(name),
    )
    function = getattr(module, name)
    hidden_types = tuple(of_value(read()) for read in hidden)
    generated = generate_types(function, tuple(arg_types) + hidden_types)
    return InnerCode(function, hidden, _output_type(generated), list(entry.assumptions))


def _as_python(transformed):
    """`transformed` generating plain NumPy code all the way in (the outer one compiles it)."""
    fun = transformed.fun
    if type(fun) is type(transformed):
        fun = _as_python(fun)
    return type(transformed)(fun, transformed.kind, "python")


def _code_tree(entry):
    """The tuples the user gets the code's flat results in (a Jacobian's per output)."""
    if entry.output_tree is not None or entry.inner is not None or any(entry.convert):
        raise TypeError(
            "a transformation returning lists or dicts is not supported inside a transformed "
            "function; return arrays or tuples"
        )
    tree = entry.code_tree
    if tree is None:
        return LEAF
    if not _only_tuples(tree):
        raise TypeError(
            "a transformation returning lists or dicts is not supported inside a transformed "
            "function; return arrays or tuples"
        )
    return tree


def _only_tuples(tree):
    return tree.kind == "leaf" or (tree.kind == "tuple" and all(map(_only_tuples, tree.children)))


def _output_type(generated):
    """The type of what `generated` returns (its nested tuples included)."""
    leaves = iter(generated.output_types)
    if generated.output_tree is not None:
        return _typed(generated.output_tree, leaves)
    if generated.returns_tuple:
        return Type("tuple", 0, tuple(leaves))
    return next(leaves)


def _typed(tree, leaves):
    if tree.kind == "leaf":
        return next(leaves)
    if tree.kind in ("dict", "list"):  # a pullback's in its primal's structure (a dict's
        # type is the tuple of its values)
        return Type("tuple", 0, tuple(_typed(c, leaves) for c in tree.children))
    if tree.kind != "tuple":
        raise TypeError(
            "a transformation returning lists or dicts is not supported inside a transformed "
            "function; return arrays or tuples"
        )
    return Type("tuple", 0, tuple(_typed(c, leaves) for c in tree.children))


_EXAMPLE = 0.5  # any value: the code depends on the types of the arguments, not their values


def _example(typ):
    """A value of abstract type `typ`, to specialize the transformation for."""
    if typ.kind == "tuple":
        return tuple(_example(e) for e in typ.elts)
    if typ.kind == "none":
        return None
    if typ.kind not in ("float", "int", "bool") or typ.ndim is None:
        raise TypeError("its arguments must be numbers, arrays or tuples of those")
    dtype = {"float": np.float64, "int": np.int64, "bool": np.bool_}[typ.kind]
    if typ.ndim == 0:
        return FloatOfEitherWidth(_EXAMPLE) if typ.kind == "float" else dtype(_EXAMPLE).item()
    return np.full((2,) * typ.ndim, _EXAMPLE, dtype=dtype)
