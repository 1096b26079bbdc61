"""What the pipeline generates from a function: a module of its own, so that the kinds, which
name it in their class bodies, do not import the transforms with `import s2sjax`."""

import enum


class Mode(enum.Enum):
    """What the pipeline generates from a function."""

    PRIMAL = "primal"  # the function itself, optimized for its target
    JVP = "jvp"  # its forward transform: (outputs, output tangents)
    # its reverse transform seeded with the outputs' cotangents: one cotangent per argument
    VJP = "vjp"
    GRAD = "grad"  # its reverse transform seeded with 1.0: the gradient
    VALUE_AND_GRAD = "value_and_grad"  # the same, beside the value
