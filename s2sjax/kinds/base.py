"""What every transformation shares, and the defaults a kind overrides.

A kind is one transformation with its options (`Grad(argnums=0, has_aux=False)`,
`Vmap(in_axes, out_axes, axis_size)`). A `Transformed` (transformed.py) holds a
kind and the user's function; a `Specialization` (specialize.py) holds the code
generated for one abstract signature. Both ask their kind what differs between
transformations: what code to generate, how the generated function is called,
how its results are put back into the user's structures, and the header line of
the generated module. Nothing outside this package tests which kind it has.
"""

from dataclasses import dataclass, replace

import numpy as np

from ..pytree import tree_unflatten
from ..abstract import of_value
from ..errors import real_input_error


@dataclass(frozen=True)
class Kind:
    """A transformation. Subclasses are frozen dataclasses of their options."""

    name = None  # the public name: errors and the generated module's header say it
    mode = None  # what the pipeline generates for it directly (s2sjax.mode.Mode), if anything
    # its code is a plain function of the arguments: another transformation can take it
    composable = False
    gradient = False  # of a scalar output, returned in the argument's shape (grad, value_and_grad)
    returns_value = False  # the output's value comes back first, beside the derivatives
    batches = False  # maps its function over examples, batching each leaf of its results (vmap)

    @property
    def argnums(self):
        """The differentiated positions as the user gave them (None: every float argument)."""
        return None

    @property
    def has_aux(self):
        return False

    @property
    def single(self):
        """Whether one derivative comes back bare, not in a tuple (argnums an int)."""
        return isinstance(self.argnums, int)

    # ---- the Transformed: options, calls, containers ---------------------

    def check_target(self, target):
        if target == "cuda":
            raise ValueError(
                f"target='cuda' is for vmap (one GPU thread per example); "
                f"{self.name} runs on the CPU: "
                f"use vmap({self.name}(f), target='cuda') to run it per example on the GPU"
            )

    def pullback_refusal(self):
        """Why a vjp's pullback cannot be given to this transformation, and what to do instead."""
        return (
            f"{self.name} of a vjp's pullback is not supported; transform the function given to vjp"
        )

    def static_positions(self, nargs):
        """The positions of arguments compiled in as constants (jit's static_argnums)."""
        return ()

    typed_by_type = True  # without arrays, the arguments' types alone pick the code
    call = None  # a call of its own: (transformed, args, kwargs) -> the result (vmap's)
    # (transformed) -> a plain function for transformed code that calls it (vmap's)
    inlinable = None

    def flattening_for(self, transformed, flattening):
        """The Flattening of a call's containers, as this transformation maps them."""
        return flattening

    def axes_for(self, transformed, args, axes):
        """The mapped axis of each argument (vmap's; None for the others)."""
        return axes

    def check_examples(self, transformed, args):
        """Refuse `source(f)` without example arguments where they are needed."""

    def cache_key(self, args):
        """What picks the code for `args` beside their abstract signature."""
        return ()

    def of_leaves(self, flattening, rebuild_inner):
        """This transformation of the function of the leaves of the arguments.

        `flattening` describes the arguments.
        """
        return self

    def rebuild(self, flattening, rebuild_inner):
        """How to put the results for the leaves into the user's structures."""
        return rebuild_inner

    # ---- the Specialization: code, calls, results ------------------------

    def argnums_for(self, args):
        """The differentiated positions for `args`, normalized (every float argument for None)."""
        if self.argnums is None:
            return tuple(i for i, a in enumerate(args) if of_value(a).differentiable)
        argnums = normalize_argnums(self.argnums, len(args))
        for i in argnums:
            if not of_value(args[i]).differentiable:
                raise real_input_error(self.name, args[i])
        return argnums

    def generate(self, specialization, code, args):
        """The code for `specialization` (a pipeline.Generated), from `code` (the user's function,
        or a transformed function's generated code)."""
        generated = specialization.generate(code, specialization.spec)
        specialization.output_tree = generated.output_tree
        return generated

    def load(self, specialization, module_source, generated):
        """Load the generated module; the specialization's `call` runs it."""
        specialization.code_function = specialization.load(module_source, generated.name, "call")

    def header(self, name, types, argnums, axes, target):
        return f"{self.name} of {name} w.r.t. argnums {argnums} for ({types})"

    def converters(self, args, argnums):
        """Per differentiated argument, how to give its derivative the argument's type.

        None: as it is.
        """
        return []

    def unflatten(self, tree, result):
        """The code's `result` in the user's lists and dicts (`tree`, the code's output tree)."""
        return tree_unflatten(tree, result)

    def finished(self, specialization, result):
        """`result`, rebuilt, as the user gets it (gradients take their arguments' dtypes)."""
        return result


@dataclass(frozen=True)
class Differentiating(Kind):
    """A transformation with respect to the arguments at `argnums` (an int, or a tuple of ints)."""

    argnums: object = 0

    def __post_init__(self):
        check_argnums(self.argnums)

    def of_leaves(self, flattening, rebuild_inner):
        return replace(self, argnums=flattening.argnums(self.argnums))

    def regroup(self, flattening):
        """How to put one derivative per leaf into the structures of the arguments at argnums."""
        return lambda per_leaf: flattening.regroup(per_leaf, self.argnums)


def same(value):
    """The rebuilding of results that need none."""
    return value


def normalize_argnums(argnums, nargs):
    items = argnums if isinstance(argnums, tuple) else (argnums,)
    for i in items:
        if not -nargs <= i < nargs:
            raise TypeError(
                f"differentiating with respect to argnums={argnums!r} requires at least "
                f"{max(i + 1, -i)} positional arguments to be passed by the caller, "
                f"but got only {nargs} positional arguments."
            )
    return tuple(i % nargs for i in items)


def check_argnums(argnums):
    items = argnums if isinstance(argnums, tuple) else (argnums,)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in items):
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")


def signature_key(args):
    """The abstract signature of `args` that picks the generated code, computed quickly.

    A Python bool is a static switch (its own code per value, as JAX's static_argnums).
    """
    return tuple(
        (a.dtype.char, a.ndim)
        if type(a) is np.ndarray
        else of_value(a)
        if type(a) is tuple
        else a
        if type(a) is bool
        else type(a)
        for a in args
    )


def kind_of(fun):
    """The kind of a function that an s2sjax transformation made, or None for any other callable."""
    kind = getattr(fun, "kind", None)
    return kind if isinstance(kind, Kind) else None


def type_text(t):
    if t.kind == "tuple":
        return "tuple"
    return t.kind if t.ndim == 0 else f"{t.kind}[{t.ndim}d]"


def unfused(fun):
    """A transformed `fun` generating plain NumPy code all the way in, for an outer transformation.

    Compiled code is optimized for running, not for transforming again: fused loops would be
    fused again (on CUDA its own way: CPU fusion leaves NumPy fallbacks a kernel cannot run), and
    outputs written into views of a batched output alias what forward mode assumes is separate.
    The outer transformation optimizes the code it generates, once.
    """
    if kind_of(fun) is None or fun.target == "python":
        return fun
    return type(fun)(unfused(fun.fun), fun.kind, "python")


def code_to_transform(fun, args, kind):
    """(the function to transform, the read functions of its hidden arguments, what its code
    assumes, whether it indexes the user's arrays by element, and for a vmap the Specialization
    of `fun` that finishes its code's results: None when they are the user's as they are)."""
    fun = unfused(fun)
    inner_kind = kind_of(fun)
    if inner_kind is None:
        return fun, [], [], False, None
    if not inner_kind.composable:
        raise TypeError(
            f"a {inner_kind.name} cannot be transformed again; "
            "transform the function it differentiates"
        )
    inner = fun.specialization(args)
    # a vmap batches each leaf; other transformations take arrays
    if inner.restructures and not kind.batches:
        raise TypeError(
            f"a {inner_kind.name} of a function returning nested tuples, a list or a dict "
            "cannot be transformed again; return a flat tuple"
        )
    finishing = inner if kind.batches and inner.rebuilds else None
    hidden = inner.hidden + [c.read for c in inner.captured]
    return inner.code_function, hidden, inner.assumptions, inner.boundscheck, finishing
