"""grad and value_and_grad: the reverse transform of the user's function.

The gradient of a transformed function (grad of grad) is a loop of JVPs over
its generated code (jacobian.forward_loop): s2sjax differentiates generated
code in forward mode. Gradients come back with their arguments' dtypes, in
their arguments' structures.
"""

from dataclasses import dataclass

import numpy as np

from ..pytree import tree_unflatten
from ..mode import Mode
from . import integers, jacobian
from .base import Differentiating, kind_of
from ..lazy import lazy_module

# modules loaded on first use (s2sjax/lazy.py): `import s2sjax` leaves them for code generation
reverse = lazy_module("s2sjax.transforms.reverse")


@dataclass(frozen=True)
class Grad(Differentiating):
    has_aux: bool = False
    allow_int: bool = False  # integer arguments at argnums get float0 zeros (kinds/integers.py)

    name = "grad"
    mode = Mode.GRAD
    composable = True
    gradient = True

    @property
    def call(self):
        return integers.call if self.allow_int else None

    def rebuild(self, flattening, rebuild_inner):
        regroup = self.regroup(flattening)
        if self.returns_value:
            return lambda result: (result[0], regroup(result[1]))
        if self.has_aux:
            return lambda result: (regroup(result[0]), result[1])
        return regroup

    def generate(self, specialization, code, args):
        try:
            if specialization.generated_code:
                return self._forward(specialization, code, "a transformed function")
            try:
                return super().generate(specialization, code, args)
            except reverse.DerivativesInside:
                return self._forward(specialization, code, "a function calling a transformation")
        except reverse.NonScalarOutput:
            raise _non_scalar_error(specialization.transformed, args) from None

    def _forward(self, specialization, code, what):
        """The gradient of generated code, or of code that inlines some: a loop of JVPs."""
        if self.has_aux:
            raise TypeError(f"{self.name} with has_aux=True of {what} is not supported")
        return jacobian.forward_loop(specialization, code)

    def converters(self, args, argnums):
        return [_converter(args[i]) for i in argnums]

    def unflatten(self, tree, result):
        return result[0], tree_unflatten(tree.children[1], result[1])  # has_aux: aux's leaves

    def finished(self, specialization, result):
        if not any(specialization.convert):
            return result
        if self.has_aux:
            return _converted(specialization, result[0]), result[1]
        return _converted(specialization, result)


@dataclass(frozen=True)
class ValueAndGrad(Grad):
    name = "value_and_grad"
    mode = Mode.VALUE_AND_GRAD
    returns_value = True

    def unflatten(self, tree, result):
        (value, aux), grads = result
        return (value, tree_unflatten(tree.children[1], aux)), grads

    def finished(self, specialization, result):
        if not any(specialization.convert):
            return result
        return result[0], _converted(specialization, result[1])


def _non_scalar_error(transformed, args):
    """JAX's error for the gradient of a function whose output is not a scalar."""
    user = transformed.fun
    output = user.fun(*args) if kind_of(user) else user(*args)
    output = output[0] if transformed.kind.has_aux and isinstance(output, tuple) else output
    shown = (
        f"had shape: {np.shape(output)}"
        if not isinstance(output, tuple)
        else f"was a tuple of {len(output)}"
    )
    return TypeError(f"Gradient only defined for scalar-output functions. Output {shown}.")


def _converted(specialization, grads):
    convert = specialization.convert
    if len(convert) == 1 and specialization.spec.single:
        return apply(convert[0], grads)
    return tuple(apply(c, g) for c, g in zip(convert, grads))


def _converter(arg):
    """How to give a gradient the argument's own type (None: it already has it)."""
    if isinstance(arg, np.ndarray):
        dtype = arg.dtype
        if arg.ndim == 0:
            return lambda g: np.asarray(g, dtype=dtype)
        return None if dtype == np.float64 else (lambda g: g.astype(dtype, copy=False))
    if isinstance(arg, np.floating) and not isinstance(arg, np.float64):
        return type(arg)
    return None


def apply(convert, value):
    return value if convert is None else convert(value)


def as_argument_type(value, arg):
    """A derivative `value` with the argument `arg`'s own type (a vjp's cotangent)."""
    return apply(_converter(arg), value)
