"""The pipeline, one flat named list of stages; the code can be printed after any.

    parse -> resolve -> fence -> normalize -> lower -> analyze -> transform -> optimize -> emit

The fence runs before normalization so its errors show the user's own
spelling; every function that gets inlined goes through parse, resolve and
fence too. `compile` and `wrap` (backend/compile.py, api.py) follow.
"""
import copy
from dataclasses import dataclass, field

import gast

from . import batching
from .abstract import FLOAT, of_value
from .backend import emit as emitter
from .backend.naming import GENERATED_MODULE_PREFIX, Namer, without_parfor_clashes
from .frontend.fence import fence
from .frontend.jvpcalls import JvpCalls
from .frontend.parse import parse
from .frontend.resolve import resolve
from .passes import activity, fuse, kernel, mutation, optimize, queries, types, widen
from .passes.displays import lower_displays
from .passes.normalize import normalize
from .pytree import LEAF, TreeDef
from .transforms import forward, reverse
from .transforms.common import generated_name, positional, with_line_comments

STAGES = ("parse", "resolve", "fence", "normalize", "lower", "analyze", "transform", "optimize", "emit")


KINDS = ("grad", "value_and_grad", "vjp", "jvp", "primal")


@dataclass(frozen=True)
class Spec:
    """What to generate: the kind of function, its options and the argument types.

    `single`: argnums was one int (the gradient is returned bare, not in a tuple).
    """

    arg_types: tuple
    argnums: tuple = (0,)
    has_aux: bool = False
    target: str = "cpu"
    kind: str = "value_and_grad"
    single: bool = True


def front(pyfunc, namer, jvp_calls):
    """parse, resolve and fence one function (the transformed one or one to inline)."""
    return fence(resolve(parse(pyfunc), namer, jvp_calls))


def stages(pyfunc, spec):
    """Run the pipeline, yielding `(stage name, result)` after each stage."""
    jvp_calls = JvpCalls(_generate_jvp, _load_jvp)
    namer, function, resolved, program = _front_end(pyfunc, jvp_calls)
    if jvp_calls.pending:  # pass 1 met calls of s2sjax.jvp: type them, then inline their code
        types.infer(program, spec.arg_types + _captured_types(program), jvp_calls)
        jvp_calls.restart()
        namer, function, resolved, program = _front_end(pyfunc, jvp_calls)
    yield "parse", function
    yield "resolve", resolved
    yield "fence", resolved
    yield "normalize", program
    env = types.infer(program, spec.arg_types + _captured_types(program))
    widen.widen(program, env)
    lower_displays(program, env, namer)
    yield "lower", program
    differentiated = program.outputs[:1] if spec.has_aux or spec.kind in ("grad", "value_and_grad") else program.outputs
    active = activity.analyze(program, env, [program.params[i] for i in spec.argnums], differentiated)
    # s2sjax's own generated code updates only arrays it allocated (adjoints, tapes), some of them
    # aliased on purpose; forward mode, the only mode applied to it, handles that.
    stored = mutation.stored(program) if is_generated(pyfunc) else mutation.check(program, env)
    yield "analyze", (program, env, active)
    if spec.kind == "primal":
        fdef = primal(program, keep_name=is_generated(pyfunc))
    elif spec.kind == "jvp":
        fdef = forward.transform(program, env, active, spec, namer, stored)
    else:
        fdef = reverse.transform(program, env, active, spec, namer, stored)
    yield "transform", fdef
    fdef = optimize.optimize(fdef)
    if spec.kind == "primal" and spec.target != "python":  # a vmap's batch loop, for one
        fdef = batching.write_outputs_in_place(fdef)
    if spec.target != "python":  # a Python loop would be slower than NumPy's
        fdef = optimize.float_negative_powers(fdef)
        fdef = fuse.fuse(fdef, env, namer, broadcast_in_loop=spec.target == "cuda", parallel=spec.target == "parallel")
    if spec.target == "parallel":
        fdef = without_parfor_clashes(fdef)
    if spec.target == "cuda":
        fdef = kernel.device_function(fdef, env, resolved.function.location, program.origins)
    yield "optimize", fdef
    output_types = tuple(env.get(o) for o in program.outputs)
    returns_tuple = isinstance(program.tree.body[-1].value, gast.Tuple)
    yield "emit", Generated(fdef.name, emitter.emit(fdef), program.captured, output_types, returns_tuple,
                            program.output_tree, program.assumptions,
                            not is_generated(pyfunc) and queries.indexes_elements(program.tree))


def _front_end(pyfunc, jvp_calls):
    """(its namer, `pyfunc` parsed, resolved and fenced, normalized)."""
    namer = Namer()
    function = parse(pyfunc)
    resolved = fence(resolve(function, namer, jvp_calls))
    program = normalize(resolved, namer, lambda fn: front(fn, namer, jvp_calls), generated=is_generated(pyfunc))
    return namer, function, resolved, program


def _captured_types(program):
    return tuple(of_value(c.read()) for c in program.captured)


def _generate_jvp(fun, arg_types, argnums):
    """The JVP of `fun` as plain NumPy code, for a call of s2sjax.jvp in a transformed function."""
    return generate(fun, Spec(arg_types, argnums, target="python", kind="jvp", single=False))


def _load_jvp(generated):
    from .backend import compile as backend

    module = backend.load_module(backend.module_source(generated.source, "a JVP called in a transformed function"),
                                 generated.name)
    return getattr(module, generated.name)


def is_generated(pyfunc):
    """Whether `pyfunc` is code s2sjax generated (a transformed function being transformed again)."""
    return (getattr(pyfunc, "__module__", None) or "").startswith(GENERATED_MODULE_PREFIX)


def primal(program, keep_name=False):
    """The normalized function itself, taking its captured values as parameters (for jit and vjp)."""
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
    output_tree: object = None  # pytree.TreeDef of the user's function's result, when a list or dict is in it
    assumptions: list = field(default_factory=list)  # frontend.resolve.Assumption: when the code goes stale
    boundscheck: bool = False  # the user's code indexes arrays by element: compile it with bounds checks


def _normalized(pyfunc):
    """`pyfunc` normalized, its calls of s2sjax.jvp left opaque (enough for the queries below)."""
    return _front_end(pyfunc, JvpCalls(_generate_jvp, _load_jvp))[3]


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
            break
    if stage == "emit":
        return result.source.rstrip("\n")
    if stage == "analyze":
        program, env, active = result
        lines = [f"{n}: {_type_text(t)}{'  (active)' if n in active else ''}" for n, t in sorted(env.items())]
        return "\n".join(lines)
    tree = {"parse": lambda r: r.tree, "resolve": lambda r: r.function.tree, "fence": lambda r: r.function.tree,
            "normalize": lambda r: r.tree, "lower": lambda r: r.tree}.get(stage, lambda r: r)(result)
    return emitter.emit(tree).rstrip("\n")


def _float_types(pyfunc):
    import inspect

    return tuple(FLOAT for _ in inspect.signature(pyfunc).parameters)


def _type_text(t):
    if t.kind == "tuple":
        return f"tuple({', '.join(_type_text(e) for e in t.elts)})"
    return t.kind if t.ndim == 0 else f"{t.kind} array, rank {t.ndim}"
