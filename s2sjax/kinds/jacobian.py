"""jacfwd and jacrev: loops over basis vectors around generated JVP and VJP functions.

`jacfwd` runs the JVP once per element of each differentiated argument,
`jacrev` the VJP once per element of the output (the loops are written by
wrappers.py). The pipeline inlines the loop and the functions it calls into
one function, which Numba compiles whole and which can be transformed again
(`hessian = jacfwd(jacrev(f))`). Any derivative of generated code is
`forward_loop` too: s2sjax differentiates generated code in forward mode.
"""
from dataclasses import dataclass, replace

from .. import wrappers
from ..transforms.common import Mode, generated_name
from ..transforms.reverse import NonScalarOutput
from .base import Kind, check_argnums, same


@dataclass(frozen=True)
class Jacfwd(Kind):
    argnums: object = 0

    name = "jacfwd"
    composable = True

    def __post_init__(self):
        check_argnums(self.argnums)

    def of_leaves(self, flattening, rebuild_inner):
        return replace(self, argnums=flattening.argnums(self.argnums))

    def rebuild(self, flattening, rebuild_inner):
        def regroup(grads):
            return flattening.regroup(grads, self.argnums)

        if rebuild_inner is not same:  # of a gradient (hessian): one row per inner leaf
            # the inner one returns a tuple, one gradient per leaf (of one, too): so does jacfwd
            return lambda result: rebuild_inner(tuple(regroup(row) for row in result))
        return regroup

    def generate(self, specialization, code, args):
        return forward_loop(specialization, code)


@dataclass(frozen=True)
class Jacrev(Jacfwd):
    name = "jacrev"

    def rebuild(self, flattening, rebuild_inner):
        return lambda grads: flattening.regroup(grads, self.argnums)

    def generate(self, specialization, code, args):
        if specialization.generated_code:
            return forward_loop(specialization, code)
        return reverse_loop(specialization, code)


def forward_loop(specialization, code):
    """A loop of JVPs over basis vectors: jacfwd, and any derivative of generated code."""
    s, kind = specialization, specialization.kind
    jvp = s.generate(code, replace(s.spec, mode=Mode.JVP, target="python"))
    if kind.gradient:
        check_single_output(jvp, kind.name)
        if jvp.output_types[0].ndim != 0:
            raise NonScalarOutput(jvp.output_types[0])
    else:  # jacfwd takes tuples of outputs (hessian of containers); jacrev one output
        s.output_tree = _jacobian_tree(jvp, kind.name)
    result = "value_and_jacobian" if kind.returns_value else "jacobian"
    wrapper = wrappers.jacfwd_source(generated_name(code.__name__, kind.name), s.param_names(code),
                                     [c.name for c in jvp.captured], _wrt(s, code), jvp.name, result, s.spec.single,
                                     len(jvp.output_types), structured=s.output_tree is not None)
    return s.inline(wrapper, [jvp], jvp.captured)


def reverse_loop(specialization, code):
    """A loop of VJPs over basis cotangents."""
    s = specialization
    spec = replace(s.spec, target="python")
    primal = s.generate(code, replace(spec, mode=Mode.PRIMAL))
    s.output_tree = _jacobian_tree(primal, "jacrev")
    vjp = s.generate(code, replace(spec, mode=Mode.VJP))
    wrapper = wrappers.jacrev_source(generated_name(code.__name__, "jacrev"), s.param_names(code),
                                     [c.name for c in vjp.captured], _wrt(s, code), vjp.name, primal.name,
                                     s.spec.single, structured=s.output_tree is not None)
    return s.inline(wrapper, [primal, vjp], vjp.captured)


def _wrt(specialization, code):
    names = specialization.param_names(code)
    return [wrappers.Argument(names[i], specialization.arg_types[i].ndim == 0) for i in specialization.argnums]


def check_single_output(generated, name):
    if len(generated.output_types) != 1 or generated.output_tree is not None:
        tree = generated.output_tree
        shown = "a tuple" if tree is None or _only_tuples(tree) else "a list or a dict"
        raise TypeError(f"{name} of a function returning {shown} is not supported; return one array")


def _jacobian_tree(generated, name):
    """The structure of a Jacobian's result: that of the outputs of `generated`, which may be
    tuples (for jacrev, of one output), not lists or dicts. None: one output, or a flat tuple."""
    tree = generated.output_tree
    if tree is None and (name == "jacfwd" or len(generated.output_types) == 1):
        return None
    if tree is None or not _only_tuples(tree) or (name == "jacrev" and tree.num_leaves != 1):
        check_single_output(generated, name)
    return tree


def _only_tuples(tree):
    return tree.kind == "leaf" or (tree.kind == "tuple" and all(map(_only_tuples, tree.children)))
