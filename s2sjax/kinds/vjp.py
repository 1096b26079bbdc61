"""vjp: the reverse transform seeded with cotangents, beside the function itself.

`vjp(f, *primals)` runs `f` (its own generated code, kind primal) for the
output; the pullback runs the reverse transform, which takes the user's
arguments, its hidden ones, then one cotangent per output.
"""

from dataclasses import dataclass, replace

import numpy as np

from .. import tracebacks
from ..errors import check_not_complex
from ..mode import Mode
from ..pytree import tree_leaves, tree_structure
from .base import Kind
from .gradient import as_argument_type
from ..lazy import lazy_module

# modules loaded on first use (s2sjax/lazy.py): `import s2sjax` leaves them for code generation
containers = lazy_module("s2sjax.containers")
backend = lazy_module("s2sjax.backend.compile")
reverse = lazy_module("s2sjax.transforms.reverse")
rules = lazy_module("s2sjax.rules")


@dataclass(frozen=True)
class Vjp(Kind):
    has_aux: bool = False

    name = "vjp"
    mode = Mode.VJP

    def generate(self, specialization, code, args):
        if specialization.generated_code:
            raise TypeError("vjp of a transformed function is not supported; use jacfwd or jvp")
        with rules.reduce2.refusing_draws("under vjp, whose pullback runs the function again"):
            try:
                return self._generate(specialization, code, args)
            except reverse.DerivativesInside as inside:
                raise inside.call.location.error(
                    inside.call.node,
                    "vjp of a function that calls a gradient or a Jacobian is not supported",
                    "use jvp or jacfwd",
                ) from None

    def _generate(self, specialization, code, args):
        s = specialization
        primal = s.generate(code, replace(s.spec, mode=Mode.PRIMAL))
        s.load(
            backend.module_source(primal.source, f"{s.transformed.__name__} itself"),
            primal.name,
            "primal_call",
        )
        return super().generate(specialization, code, args)


class Pullback:
    """A vjp's pullback: `pullback(cotangent)` gives one cotangent per primal (see `vjp`).
    A class of its own so that transforming it is refused with a way out, not a parse error."""

    def __init__(self, pull):
        self._pull = pull

    def __call__(self, cotangent):
        try:
            return self._pull(cotangent)
        except Exception as exc:
            tracebacks.hide_internal_frames(exc)
            raise


def call(transformed, primals):
    """`(out, pullback)` (with has_aux `(out, pullback, aux)`) for the Transformed `transformed`."""
    transformed = transformed.for_arguments(primals)
    passed = len(primals)
    primals = transformed.bind(primals, {})
    if containers.has_containers(primals):
        return _of_containers(transformed, primals, passed)
    entry = transformed.specialization(primals)
    out = entry.rebuilt(entry.invoke("primal_call", entry.arguments(primals)))
    value, aux = (out[0], out[1]) if transformed.kind.has_aux else (out, None)

    def pullback(cotangent):
        return _pulled(entry, primals, value, cotangent)[
            :passed
        ]  # one per primal passed, as in JAX

    return (
        (value, Pullback(pullback), aux)
        if transformed.kind.has_aux
        else (value, Pullback(pullback))
    )


def _of_containers(transformed, primals, passed):
    flat, flattening, rebuild = transformed.flat(primals)
    value, flat_pullback, *aux = call(flat, flattening.checked_leaves(primals, Vjp.name))

    def pullback(cotangent):
        return flattening.regroup(flat_pullback(cotangent), tuple(range(passed)))

    return (rebuild(value), Pullback(pullback), *aux)


def _pulled(specialization, primals, value, cotangent):
    """One cotangent per primal: the reverse transform run on the output `value`'s cotangent."""
    s = specialization
    if s.output_tree is not None and not s.kind.has_aux:
        if tree_structure(cotangent) != s.output_tree:
            raise TypeError(
                f"the cotangent must have the output's structure {s.output_tree}, "
                f"got {tree_structure(cotangent)}"
            )
        value, cotangent = tuple(tree_leaves(value)), tuple(tree_leaves(cotangent))
    cotangents = _checked_cotangent(cotangent, value)
    grads = s.invoke("call", s.arguments(primals, cotangents))
    by_argument = dict(zip(s.argnums, grads))
    return tuple(
        as_argument_type(by_argument[i], p) if i in by_argument else np.zeros(np.shape(p))
        for i, p in enumerate(primals)
    )


def _checked_cotangent(cotangent, value):
    """The cotangents, one per output, each shaped like its output (JAX's check)."""
    outputs = value if isinstance(value, tuple) else (value,)
    cotangents = cotangent if isinstance(value, tuple) else (cotangent,)
    if isinstance(value, tuple) and (
        not isinstance(cotangent, tuple) or len(cotangent) != len(value)
    ):
        raise TypeError(f"the cotangent must have the output's structure: a tuple of {len(value)}")
    check_not_complex(cotangents, Vjp.name, "cotangents")
    for out, ct in zip(outputs, cotangents):
        if np.shape(out) != np.shape(ct):
            raise ValueError(
                f"Shape of cotangent input to vjp pullback function {np.shape(ct)} "
                f"must be the same as the shape of corresponding primal input {np.shape(out)}."
            )
    return tuple(ct[()] if isinstance(ct, np.ndarray) and ct.ndim == 0 else ct for ct in cotangents)
