"""The pipeline, one flat named list of stages; the code can be printed after any.

    parse -> resolve -> fence -> normalize -> analyze -> transform -> optimize -> emit

The fence runs before normalization so its errors show the user's own
spelling; every function that gets inlined goes through parse, resolve and
fence too. `compile` and `wrap` (backend/compile.py, api.py) follow.
"""
from dataclasses import dataclass

from .backend import emit as emitter
from .backend.naming import Namer
from .frontend.fence import fence
from .frontend.parse import parse
from .frontend.resolve import resolve
from .passes import activity, fuse, mutation, optimize, types
from .passes.normalize import normalize
from .transforms import reverse

STAGES = ("parse", "resolve", "fence", "normalize", "analyze", "transform", "optimize", "emit")


@dataclass(frozen=True)
class Spec:
    """What to generate (the value and gradient): its options and the argument types."""

    arg_types: tuple
    argnums: tuple = (0,)
    has_aux: bool = False
    target: str = "cpu"


def front(pyfunc, namer):
    """parse, resolve and fence one function (the transformed one or one to inline)."""
    return fence(resolve(parse(pyfunc), namer))


def stages(pyfunc, spec):
    """Run the pipeline, yielding `(stage name, result)` after each stage."""
    namer = Namer()
    function = parse(pyfunc)
    yield "parse", function
    resolved = resolve(function, namer)
    yield "resolve", resolved
    yield "fence", fence(resolved)
    program = normalize(resolved, namer, lambda fn: front(fn, namer))
    yield "normalize", program
    captured_types = tuple(types.of_value(c.read()) for c in program.captured)
    env = types.infer(program, spec.arg_types + captured_types)
    differentiated = program.outputs[:1]
    active = activity.analyze(program, env, [program.params[i] for i in spec.argnums], differentiated)
    mutable = mutation.check(program, env)
    yield "analyze", (program, env, active)
    fdef = reverse.transform(program, env, active, spec, namer, mutable)
    yield "transform", fdef
    fdef = optimize.optimize(fdef)
    if spec.target != "python":  # a Python loop would be slower than NumPy's
        fdef = fuse.fuse(fdef, env, namer)
    yield "optimize", fdef
    yield "emit", (fdef.name, emitter.emit(fdef), program.captured)


def generate(pyfunc, spec):
    """(function name, its source, its captured values) for `spec`."""
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
        return result[1].rstrip("\n")
    if stage == "analyze":
        program, env, active = result
        lines = [f"{n}: {_type_text(t)}{'  (active)' if n in active else ''}" for n, t in sorted(env.items())]
        return "\n".join(lines)
    tree = {"parse": lambda r: r.tree, "resolve": lambda r: r.function.tree, "fence": lambda r: r.function.tree,
            "normalize": lambda r: r.tree}.get(stage, lambda r: r)(result)
    return emitter.emit(tree).rstrip("\n")


def _float_types(pyfunc):
    import inspect

    return tuple(types.FLOAT for _ in inspect.signature(pyfunc).parameters)


def _type_text(t):
    if t.kind == "tuple":
        return f"tuple({', '.join(_type_text(e) for e in t.elts)})"
    return t.kind if t.ndim == 0 else f"{t.kind} array, rank {t.ndim}"
