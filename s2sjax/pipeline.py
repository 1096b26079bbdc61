"""The pipeline, one flat named list of stages; the code can be printed after any.

    parse -> resolve -> fence -> desugar -> normalize -> widen -> lower -> analyze -> transform
      -> optimize -> outputs_in_place -> float_powers -> fuse -> parfor_names -> device -> emit

The front end, parse to normalize, reads the user's function; the fence runs
before the rewrites so its errors show the user's own spelling, and every
function that gets inlined goes through parse, resolve, fence and desugar
too. The types are inferred once, after normalize: widen and lower use
them, and `--after analyze` prints them with the active variables. From
transform on the code is the generated function; the stages after it
apply by target, and one that does not apply leaves the code as it is:

    outputs_in_place   compiled targets, primal code (a vmap's batch loop)
    float_powers       compiled targets (Numba raises at 0 for a negative int power)
    fuse               compiled targets (a Python loop would be slower than NumPy)
    parfor_names       target "parallel" (names Numba's prange would clash with)
    device             target "cuda" (the code for one example, a device function)

`compile` and `wrap` (backend/compile.py, specialize.py) follow.
"""

import copy
import inspect
from dataclasses import dataclass, field, replace

import gast

from .abstract import FLOAT, NONE, NUMBER_KINDS, of_value
from .backend import compile as backend
from .backend import emit as emitter
from .backend.naming import Namer, is_generated, without_parfor_clashes
from .frontend import inner, local_functions
from .frontend.fence import fence
from .frontend.jvpcalls import JvpCalls
from .frontend.parse import Function, parse
from .frontend.resolve import Resolved, resolve
from .passes import activity, fuse, kernel, mutation, optimize, queries, ragged, types, widen
from .passes.desugar import desugar
from .passes.displays import lower_displays
from .passes.stacking import lower_stacking
from .passes.linalg_stacks import lower_linalg_stacks
from .passes.lower_calls import lower_calls
from .passes.in_place import write_outputs_in_place
from .passes.normalize import Normalized, normalize
from .pytree import LEAF, TreeDef
from .transforms import forward, reverse
from .transforms.reverse import DerivativesInside
from .mode import Mode
from .transforms.common import generated_name, positional, with_line_comments

STAGES = (
    "parse",
    "resolve",
    "fence",
    "desugar",
    "normalize",
    "widen",
    "lower",
    "analyze",
    "transform",
    "optimize",
    "outputs_in_place",
    "float_powers",
    "fuse",
    "parfor_names",
    "device",
    "emit",
)


@dataclass(frozen=True)
class Spec:
    """What to generate: the kind of function, its options and the argument types.

    `single`: argnums was one int (the gradient is returned bare, not in a tuple).
    """

    arg_types: tuple
    argnums: tuple = (0,)
    has_aux: bool = False
    target: str = "cpu"
    mode: Mode = Mode.VALUE_AND_GRAD
    single: bool = True
    # the Python class of each argument (a vmap's, of one example), for `isinstance` and `type`
    classes: tuple = None
    switches: tuple = ()  # (position, value) of each Python bool argument: a constant in the code


@dataclass(frozen=True)
class Analysis:
    """What analyze found: each variable's type, and the active ones.

    The active ones are those a derivative flows through.
    """

    types: dict
    active: set


def front(pyfunc, namer, jvp_calls, given_functions=None):
    """parse, resolve, fence and desugar one function (the transformed one or one to inline);
    `given_functions`: {parameter: function} a call site gives a helper (resolve)."""
    return desugar(fence(resolve(parse(pyfunc), namer, jvp_calls, given_functions)))


def stages(pyfunc, spec):
    """Run the pipeline, yielding `(stage, result)` after each of STAGES, in order."""
    front_end = _typed_front_end(pyfunc, spec)
    if front_end.derivatives_inside is not None and spec.mode in _REVERSE:
        raise DerivativesInside(front_end.derivatives_inside)
    namer, resolved, program = front_end.namer, front_end.resolved, front_end.program
    yield "parse", front_end.function
    yield "resolve", resolved
    yield "fence", resolved
    yield "desugar", front_end.desugared
    yield "normalize", program
    env = types.infer(program, spec.arg_types + _captured_types(program))
    yield "widen", widen.widen(program, env)
    lowered = lower_displays(lower_stacking(program, env, namer), env, namer)
    yield "lower", lower_calls(lower_linalg_stacks(lowered, env, namer), env)
    active, stored = _analyze(pyfunc, program, env, spec)
    yield "analyze", Analysis(env, active)
    fdef = _transform(pyfunc, program, env, active, spec, namer, stored)
    yield "transform", fdef
    for stage, run in _code_passes(spec, env, namer, resolved.function.location, program.origins):
        fdef = run(fdef)
        yield stage, fdef
    yield "emit", _generated(pyfunc, program, env, fdef)


_REVERSE = (Mode.GRAD, Mode.VALUE_AND_GRAD, Mode.VJP)


def _typed_front_end(pyfunc, spec):
    """The front end's results.

    It runs twice when the function calls s2sjax.jvp or another transformation
    (frontend/jvpcalls.py, frontend/inner.py).
    """
    jvp_calls = JvpCalls(_generate_jvp, _load_jvp, _specialize_inner)
    nones = {i for i, t in enumerate(spec.arg_types) if t == NONE}
    nones = {**dict.fromkeys(nones), **dict(spec.switches)}
    ranks = {i: t.ndim for i, t in enumerate(spec.arg_types) if t.kind in NUMBER_KINDS}
    front_end = _front_end(pyfunc, jvp_calls, nones, len(spec.arg_types), spec.classes, ranks)
    if jvp_calls.pending:  # pass 1 met calls of s2sjax.jvp: type them, then inline their code
        types.infer(
            front_end.program, spec.arg_types + _captured_types(front_end.program), jvp_calls
        )
        jvp_calls.restart()
        front_end = _front_end(pyfunc, jvp_calls, nones, len(spec.arg_types), spec.classes, ranks)
    return replace(front_end, derivatives_inside=jvp_calls.derivatives_inside)


def _analyze(pyfunc, program, env, spec):
    """(the active variables, the arrays that the code updates in place)."""
    differentiated = (
        program.outputs[:1]
        if spec.has_aux or spec.mode in (Mode.GRAD, Mode.VALUE_AND_GRAD)
        else program.outputs
    )
    active = activity.analyze(
        program, env, [program.params[i] for i in spec.argnums], differentiated
    )
    # s2sjax's own generated code updates only arrays it allocated (adjoints, tapes), some of them
    # aliased on purpose; forward mode, the only mode applied to it, handles that.
    if is_generated(pyfunc):
        stored = mutation.stored(program)
    else:
        stored = mutation.check(program, env, reversed_=spec.mode in _REVERSE)
    return active, stored


def _transform(pyfunc, program, env, active, spec, namer, stored):
    if spec.mode is Mode.PRIMAL:
        return primal(program, keep_name=is_generated(pyfunc))
    transform = forward.transform if spec.mode is Mode.JVP else reverse.transform
    return transform(program, env, active, spec, namer, stored)


def _code_passes(spec, env, namer, location, origins):
    """`(stage, fdef -> fdef)` for each stage between transform and emit, in order; a stage that
    does not apply to `spec` leaves the code as it is."""
    compiled, parallel, cuda = (
        spec.target != "python",
        spec.target == "parallel",
        spec.target == "cuda",
    )
    return [
        ("optimize", optimize.optimize),
        (
            "outputs_in_place",
            (lambda fdef: write_outputs_in_place(fdef, env))
            if compiled and spec.mode is Mode.PRIMAL
            else _unchanged,
        ),
        ("float_powers", optimize.float_negative_powers if compiled else _unchanged),
        (
            "fuse",
            (lambda fdef: fuse.fuse(fdef, env, namer, broadcast_in_loop=cuda, parallel=parallel))
            if compiled
            else _unchanged,
        ),
        ("parfor_names", without_parfor_clashes if parallel else _unchanged),
        (
            "device",
            (lambda fdef: kernel.device_function(fdef, env, location, origins))
            if cuda
            else _unchanged,
        ),
    ]


def _unchanged(fdef):
    return fdef


def _generated(pyfunc, program, env, fdef):
    output_types = tuple(env.get(o) for o in program.outputs)
    returns_tuple = isinstance(program.tree.body[-1].value, gast.Tuple)
    return Generated(
        fdef.name,
        emitter.emit(fdef),
        program.captured,
        output_types,
        returns_tuple,
        program.output_tree,
        program.assumptions,
        not is_generated(pyfunc) and queries.indexes_elements(program.tree),
        _ragged(program, env),
    )


def _ragged(program, env):
    """The error a vmap of this code raises: an output whose shape a mask sets (or None)."""
    stmt = ragged.ragged_output(program, env)
    if stmt is None:
        return None
    return program.origins[id(stmt)].error(
        stmt,
        "vmap of a function whose output has a shape set by a boolean mask (its number of True "
        "elements) is not supported: each example's output could have another length",
        "select with np.where(mask, x, 0.0), which keeps the shape, or reduce the selection",
    )


@dataclass(frozen=True)
class _FrontEnd:
    """What the front end made of a function, stage by stage."""

    namer: Namer
    function: object  # frontend.parse.Function
    resolved: object  # frontend.resolve.Resolved, fenced
    desugared: object  # the same, its tree desugared
    program: object  # passes.normalize.Normalized
    # the first call whose gradient's or Jacobian's generated code it inlines, or None
    derivatives_inside: object = None


def _front_end(pyfunc, jvp_calls, nones=frozenset(), count=None, classes=None, ranks=None):
    """`pyfunc` through parse, resolve, fence, desugar and normalize (each function inlined
    going through `front`); `nones`: the positions of its arguments that are None; `count`: how
    many it is given (its `*args` are as many parameters); `classes`: Spec.classes; `ranks`:
    those of its number and array arguments, by position."""
    namer = Namer()
    function = parse(pyfunc)
    if count is not None:
        local_functions.with_fixed_arity(function.tree, count)
    resolved = fence(resolve(function, namer, jvp_calls))
    desugared = desugar(resolved)
    program = normalize(
        desugared,
        namer,
        lambda fn, given_functions=None: front(fn, namer, jvp_calls, given_functions),
        generated=is_generated(pyfunc),
        nones=nones,
        classes=classes,
        ranks=ranks,
    )
    return _FrontEnd(namer, function, resolved, desugared, program)


def _captured_types(program):
    return tuple(of_value(c.read()) for c in program.captured)


def _generate_jvp(fun, arg_types, argnums):
    """The JVP of `fun` as plain NumPy code, for a call of s2sjax.jvp in a transformed function."""
    return generate(fun, Spec(arg_types, argnums, target="python", mode=Mode.JVP, single=False))


def _specialize_inner(call, arg_types):
    """The generated code of a transformation called in a transformed function (frontend/inner)."""
    try:
        return inner.specialize(call.transformed, arg_types, _typed, call.regroup)
    except (TypeError, ValueError) as exc:
        raise call.location.error(call.node, f"{call.transformed!r} called here: {exc}") from None


def _typed(function, arg_types):
    return generate(function, Spec(arg_types, target="python", mode=Mode.PRIMAL))


def _load_jvp(generated):
    module = backend.load_module(
        backend.module_source(generated.source, "a JVP called in a transformed function"),
        generated.name,
    )
    return getattr(module, generated.name)


def primal(program, keep_name=False):
    """The normalized function itself, taking its captured values as parameters.

    For jit and vjp.
    """
    fdef = copy.copy(program.tree)
    fdef.name = program.tree.name if keep_name else generated_name(program.tree.name, "primal")
    fdef.args = positional(program.params + [c.name for c in program.captured])
    fdef.body = with_line_comments(program.tree.body[:-1], program.origins) + program.tree.body[-1:]
    return fdef


@dataclass
class Generated:
    """The emitted function: its name, source, captured values (its last parameters) and outputs."""

    name: str
    source: str
    captured: list
    output_types: tuple
    returns_tuple: bool = False  # it returns a tuple (of one, too)
    # pytree.TreeDef of the user's function's result, when a list or dict is in it
    output_tree: object = None
    assumptions: list = field(
        default_factory=list
    )  # frontend.resolve.Assumption: when the code goes stale
    # the user's code indexes arrays by element: compile it with bounds checks
    boundscheck: bool = False
    ragged: object = None  # the TransformError vmap raises: an output's shape is set by data


def _normalized(pyfunc):
    """`pyfunc` normalized, its calls of s2sjax.jvp left opaque (enough for the queries below)."""
    return _front_end(pyfunc, JvpCalls(_generate_jvp, _load_jvp, _specialize_inner)).program


def returned_structure(pyfunc):
    """The structure of what `pyfunc` returns, the tuples nested in it included (for a vmap inlined
    before any type is known: `return y, (a, b)` is `(*, (*, *))`)."""
    program = _normalized(pyfunc)
    if program.output_tree is not None:  # nested tuples, lists, dicts, a tuple of one: its leaves
        return program.output_tree
    if isinstance(program.tree.body[-1].value, gast.Tuple):
        return TreeDef("tuple", tuple(LEAF for _ in program.outputs))
    return LEAF


def mapped_outputs(pyfunc, mapped):
    """Per output of `pyfunc`, whether it depends on the parameters numbered `mapped` (for vmap)."""
    program = _normalized(pyfunc)
    depends = activity.dependents(program, [program.params[i] for i in mapped])
    return [o in depends for o in program.outputs]


def generate(pyfunc, spec):
    """The `Generated` function for `spec`."""
    for _, result in stages(pyfunc, spec):
        pass
    return result


def stage_source(pyfunc, stage, spec=None):
    """The code after `stage`, as source text (for `show --after` and docs)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; the stages are {', '.join(STAGES)}")
    spec = spec or Spec(_float_types(pyfunc))
    for name, result in stages(pyfunc, spec):
        if name == stage:
            return _text(result)


def _text(result):
    """A stage's result as text: its code, or after analyze each variable's type."""
    if isinstance(result, Generated):
        return result.source.rstrip("\n")
    if isinstance(result, Analysis):
        return "\n".join(
            f"{n}: {_type_text(t)}{'  (active)' if n in result.active else ''}"
            for n, t in sorted(result.types.items())
        )
    if isinstance(result, Resolved):
        result = result.function
    if isinstance(result, (Function, Normalized)):
        result = result.tree
    return emitter.emit(result).rstrip("\n")


def _float_types(pyfunc):
    return tuple(FLOAT for _ in inspect.signature(pyfunc).parameters)


def _type_text(t):
    if t.kind == "tuple":
        return f"tuple({', '.join(_type_text(e) for e in t.elts)})"
    return t.kind if t.ndim == 0 else f"{t.kind} array, rank {t.ndim}"
