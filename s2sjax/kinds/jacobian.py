"""jacfwd and jacrev: loops over basis vectors around generated JVP and VJP functions.

`jacfwd` runs the JVP once per element of each differentiated argument,
`jacrev` the VJP once per element of the output (the loops are templates,
below). The pipeline inlines the loop and the functions it calls into
one function, which Numba compiles whole and which can be transformed again
(`hessian = jacfwd(jacrev(f))`). Any derivative of generated code is
`forward_loop` too: s2sjax differentiates generated code in forward mode.
"""

from dataclasses import dataclass, replace

import numpy as np

from ..pytree import tree_map
from ..mode import Mode
from . import integers
from .base import Differentiating, same
from ..lazy import lazy_module

# modules loaded on first use (s2sjax/lazy.py): `import s2sjax` leaves them for code generation
gast = lazy_module("gast")
naming = lazy_module("s2sjax.backend.naming")
rules = lazy_module("s2sjax.rules")
templates = lazy_module("s2sjax.backend.templates")
common = lazy_module("s2sjax.transforms.common")
reverse = lazy_module("s2sjax.transforms.reverse")


@dataclass(frozen=True)
class Jacfwd(Differentiating):
    name = "jacfwd"
    composable = True

    def rebuild(self, flattening, rebuild_inner):
        regroup = self.regroup(flattening)
        if rebuild_inner is not same:  # of a gradient (hessian): one row per inner leaf
            # the inner one returns a tuple, one gradient per leaf (of one, too): so does jacfwd
            return lambda result: rebuild_inner(tuple(regroup(row) for row in result))
        return regroup

    def generate(self, specialization, code, args):
        with rules.reduce2.refusing_draws(
            f"under {self.name}, which runs the function once per column"
        ):
            return forward_loop(specialization, code)

    def converters(self, args, argnums):
        """One converter giving every derivative the arguments' float32 dtype, as JAX's: a zero
        second derivative or a float64 basis must not widen it (none for float64 or mixed)."""
        dtypes = {np.result_type(args[i]) for i in argnums}
        if dtypes != {np.dtype(np.float32)}:
            return []
        return [_as_float32]

    def finished(self, specialization, result):
        if not specialization.convert:
            return result
        return tree_map(_as_float32, result)


@dataclass(frozen=True)
class Jacrev(Jacfwd):
    allow_int: bool = False  # integer arguments at argnums get float0 zeros (kinds/integers.py)

    name = "jacrev"

    @property
    def call(self):
        return integers.call if self.allow_int else None

    def rebuild(self, flattening, rebuild_inner):
        return self.regroup(flattening)

    def generate(self, specialization, code, args):
        with rules.reduce2.refusing_draws(
            f"under {self.name}, which runs the function once per row"
        ):
            if specialization.generated_code:
                return forward_loop(specialization, code)
            try:
                return reverse_loop(specialization, code)
            except reverse.DerivativesInside:  # it calls a gradient: differentiated in forward mode
                return forward_loop(specialization, code)


def _as_float32(derivative):
    return (
        np.float32(derivative) if np.ndim(derivative) == 0 else np.asarray(derivative, np.float32)
    )


def forward_loop(specialization, code):
    """A loop of JVPs over basis vectors: jacfwd, and any derivative of generated code."""
    s, kind = specialization, specialization.kind
    jvp = s.generate(code, replace(s.spec, mode=Mode.JVP, target="python"))
    if kind.gradient:
        check_single_output(jvp, kind.name)
        if jvp.output_types[0].ndim != 0:
            raise reverse.NonScalarOutput(jvp.output_types[0])
    else:  # jacfwd takes tuples of outputs (hessian of containers); jacrev one output
        s.output_tree = _jacobian_tree(jvp, kind.name)
    result = "value_and_jacobian" if kind.returns_value else "jacobian"
    wrapper = jacfwd_source(
        common.generated_name(code.__name__, kind.name),
        s.param_names(code),
        [c.name for c in jvp.captured],
        _wrt(s, code),
        jvp.name,
        result,
        s.spec.single,
        len(jvp.output_types),
        structured=s.output_tree is not None,
        spec=s.spec,
    )
    return s.inline(wrapper, [jvp], jvp.captured)


def reverse_loop(specialization, code):
    """A loop of VJPs over basis cotangents."""
    s = specialization
    spec = replace(s.spec, target="python")
    primal = s.generate(code, replace(spec, mode=Mode.PRIMAL))
    s.output_tree = _jacobian_tree(primal, "jacrev")
    vjp = s.generate(code, replace(spec, mode=Mode.VJP))
    wrapper = jacrev_source(
        common.generated_name(code.__name__, "jacrev"),
        s.param_names(code),
        [c.name for c in vjp.captured],
        _wrt(s, code),
        vjp.name,
        primal.name,
        s.spec.single,
        structured=s.output_tree is not None,
    )
    return s.inline(wrapper, [primal, vjp], vjp.captured)


def _wrt(specialization, code):
    names = specialization.param_names(code)
    s = specialization
    classes = s.spec.classes or (None,) * len(names)
    return [Argument(names[i], s.arg_types[i].ndim == 0, classes[i]) for i in s.argnums]


def check_single_output(generated, name):
    if len(generated.output_types) != 1 or generated.output_tree is not None:
        tree = generated.output_tree
        shown = "a tuple" if tree is None or _only_tuples(tree) else "a list or a dict"
        raise TypeError(
            f"{name} of a function returning {shown} is not supported; return one array"
        )


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


# ---- the loops, as source ----------------------------------------------------
#
# `params` are the code function's parameters (the user's, then hidden ones
# holding captured arrays); `extra` are the parameters the generated function
# takes after its tangents or cotangents (its own captured arrays).


@dataclass
class Argument:
    name: str
    scalar: bool
    cls: type = float  # its Python class


def jacfwd_source(
    name,
    params,
    extra,
    wrt,
    jvp_name,
    result="jacobian",
    single=True,
    outputs=1,
    structured=False,
    spec=None,
):
    """`name(params, extra)`: the Jacobian by columns, each a JVP along a basis vector.

    `result` "jacobian" returns the Jacobians (a tuple for several `wrt`);
    "value_and_jacobian" returns `(value, jacobians)`. With several `outputs` (the JVP then
    returns tuples), or `structured` ones (the caller rebuilds their structure), a tuple with
    the Jacobians of each output. A scalar's basis tangents are `spec`'s seeds (transforms.common).
    """
    namer = naming.Namer(params + extra)
    zeros = [_zero(a, spec) for a in wrt]
    value = namer.fresh("value")
    picks = (
        list(range(outputs)) if outputs > 1 else [None]
    )  # output o of the JVP's tuples, or its one output
    columns, jacobians = [], [[] for _ in picks]
    for i, arg in enumerate(wrt):
        r = namer.fresh("r")
        jacs = [namer.fresh(f"jac_{arg.name}") for _ in picks]
        outs = [
            _output(templates.subscript(r, 1), o) for o in picks
        ]  # the JVP's tangent of each output
        if arg.scalar:
            tangents = zeros[:i] + [_seed(1.0, arg, spec)] + zeros[i + 1 :]
            columns += templates.fill(
                _jvp, r=r, jvp=jvp_name, params=params, tangents=tangents, extra=extra
            )
            columns += [stmt for jac, out in zip(jacs, outs) for stmt in templates.assign(jac, out)]
        else:
            basis, k = namer.fresh(f"basis_{arg.name}"), namer.fresh("k")
            tapes = [namer.fresh(f"columns_{arg.name}") for _ in picks]
            tangents = (
                zeros[:i]
                + [templates.expression(_reshaped, basis=basis, x=arg.name)]
                + zeros[i + 1 :]
            )
            columns += templates.fill(
                _columns,
                basis=basis,
                x=arg.name,
                k=k,
                r=r,
                jvp=jvp_name,
                params=params,
                tangents=tangents,
                extra=extra,
                tapes=templates.fill_each(
                    _column_tape,
                    (
                        dict(tape=t, value=_output(value, o), x=arg.name)
                        for t, o in zip(tapes, picks)
                    ),
                ),
                stores=templates.fill_each(
                    _store, (dict(tape=t, k=k, value=out) for t, out in zip(tapes, outs))
                ),
                jacobians=templates.fill_each(
                    _columns_to_jacobian,
                    (dict(jac=jac, tape=t, x=arg.name) for jac, t in zip(jacs, tapes)),
                ),
            )
        for per_output, jac in zip(jacobians, jacs):
            per_output.append(jac)
    returned = (
        _returned(jacobians[0], single)
        if outputs == 1 and not structured
        else templates.tuple_of([_returned(j, single) for j in jacobians])
    )
    if result == "value_and_jacobian":
        returned = templates.tuple_of([value, returned])
    return templates.source(
        _jacfwd,
        name=name,
        parameters=params + extra,
        value=value,
        jvp=jvp_name,
        params=params,
        zeros=zeros,
        extra=extra,
        columns=columns,
        returned=returned,
    )


def _jacfwd(name, parameters, value, jvp, params, zeros, extra, columns, returned):
    def name(*parameters):
        value = jvp(*params, *zeros, *extra)[0]
        columns
        return returned


def _jvp(r, jvp, params, tangents, extra):
    r = jvp(*params, *tangents, *extra)


def _columns(basis, x, tapes, k, r, jvp, params, tangents, extra, stores, jacobians):
    basis = np.zeros(x.size)
    tapes
    for k in range(x.size):
        basis[k] = 1.0
        r = jvp(*params, *tangents, *extra)
        stores
        basis[k] = 0.0
    jacobians


def _reshaped(basis, x):
    return basis.reshape(x.shape)


def _column_tape(tape, value, x):
    tape = rt.tape(value, x.size)


def _columns_to_jacobian(jac, tape, x):
    jac = rt.columns_to_jacobian(tape, x)


def jacrev_source(name, params, extra, wrt, vjp_name, primal_name, single=True, structured=False):
    """`name(params, extra)`: the Jacobian by rows, each a VJP of a basis cotangent.

    `structured`: the primal returns its one output in a tuple, and so does this function
    (the caller rebuilds the output's structure around it).
    """
    namer = naming.Namer(params + extra)
    out, size, cotangent, k, r = (namer.fresh(n) for n in ("out", "size", "cotangent", "k", "r"))
    rows = [namer.fresh(f"rows_{a.name}") for a in wrt]
    jacobians = [namer.fresh(f"jac_{a.name}") for a in wrt]
    primal = templates.call(primal_name, params + extra)
    returned = _returned(jacobians, single)
    return templates.source(
        _jacrev,
        name=name,
        parameters=params + extra,
        out=out,
        primal=templates.subscript(primal, 0) if structured else primal,
        size=size,
        cotangent=cotangent,
        k=k,
        r=r,
        vjp=vjp_name,
        params=params,
        extra=extra,
        tapes=templates.fill_each(
            _row_tape, (dict(tape=row, x=a.name, size=size) for row, a in zip(rows, wrt))
        ),
        stores=templates.fill_each(
            _store,
            (dict(tape=row, k=k, value=templates.subscript(r, i)) for i, row in enumerate(rows)),
        ),
        jacobians=templates.fill_each(
            _rows_to_jacobian,
            (dict(jac=jac, tape=row, out=out) for jac, row in zip(jacobians, rows)),
        ),
        returned=templates.tuple_of([returned]) if structured else returned,
    )


def _jacrev(
    name,
    parameters,
    out,
    primal,
    size,
    cotangent,
    tapes,
    k,
    r,
    vjp,
    params,
    extra,
    stores,
    jacobians,
    returned,
):
    def name(*parameters):
        out = primal
        size = rt.size(out)
        cotangent = np.zeros(size)
        tapes
        for k in range(size):
            cotangent[k] = 1.0
            r = vjp(*params, rt.unflatten_like(cotangent, out), *extra)
            stores
            cotangent[k] = 0.0
        jacobians
        return returned


def _row_tape(tape, x, size):
    tape = rt.tape(x, size)


def _rows_to_jacobian(jac, tape, out):
    jac = rt.rows_to_jacobian(tape, out)


# ---- templates both loops use ----


def _store(tape, k, value):
    tape[k] = value


def _output(results, o):
    """Output `o` of a function's results, or all of them (`o` None) when it has one."""
    return results if o is None else templates.subscript(results, o)


def _returned(jacobians, single):
    """One Jacobian for an int argnums, else a tuple (of one, too)."""
    return jacobians[0] if single else templates.tuple_of(jacobians)


def _zero(arg, spec):
    return _seed(0.0, arg, spec) if arg.scalar else templates.expression(_zeros_like, x=arg.name)


def _seed(value, arg, spec):
    return (
        gast.Constant(value, None) if spec is None else common.scalar_seed(value, spec, [arg.cls])
    )


def _zeros_like(x):
    return rt.zeros_like(x)
