"""`s2sjax.jvp(g, primals, tangents)` called inside a function s2sjax transforms.

The JVP code of `g` depends on the types of the primals, which are known only
after type inference of the caller. So a pipeline run that meets such a call
goes through its front end twice:

1. the call stays an opaque call, and type inference, reaching it with the
   primals' types, generates `g`'s JVP (plain NumPy code) for those types;
2. the front end runs again, and the call becomes a call of that generated
   function, inlined like any other.

The second pass finds each call again by the order in which resolution meets
them, which is the same in both passes.
"""
from dataclasses import dataclass, field

from ..passes.types import Type, of_value


@dataclass
class JvpCall:
    fun: object  # the plain Python function differentiated
    location: object  # errors.Location of the caller
    node: object  # the call, in pass 1
    defaults: tuple  # the values of the parameters after the primals given (fixed, as in JAX)
    generated: object = None  # pipeline.Generated: g's JVP for the primals' types
    argnums: tuple = ()  # the primals that get tangents (the float ones)
    function: object = None  # the generated JVP, loaded: what pass 2 inlines


@dataclass
class JvpCalls:
    """The jvp calls of one pipeline run, in the order resolution meets them."""

    generate: object  # (fun, arg types, argnums) -> pipeline.Generated
    load: object  # pipeline.Generated -> the Python function
    calls: list = field(default_factory=list)
    by_name: dict = field(default_factory=dict)  # pass 1: the opaque call's name -> JvpCall
    seen: int = 0

    def meet(self, fun, location, node, defaults):
        """The call resolution meets next: a new one in pass 1, the same one again in pass 2."""
        if self.seen == len(self.calls):
            self.calls.append(JvpCall(fun, location, node, defaults))
        call = self.calls[self.seen]
        self.seen += 1
        return call

    @property
    def pending(self):
        return any(call.function is None for call in self.calls)

    def type_of(self, name, arg_types):
        """The type of the opaque call `name(*primals, *tangents)`, generating its JVP (pass 1)."""
        call = self.by_name[name]
        half = len(arg_types) // 2
        primals, tangents = tuple(arg_types[:half]), tuple(arg_types[half:])
        for p, t in zip(primals, tangents):
            if p.ndim is not None and t.ndim is not None and p.differentiable and p.ndim != t.ndim:
                raise call.location.error(call.node, "jvp called with different primal and tangent shapes: "
                                          f"a primal of rank {p.ndim} has a tangent of rank {t.ndim}")
        call.argnums = tuple(i for i, p in enumerate(primals) if p.differentiable)
        call.generated = self.generate(call.fun, primals + tuple(of_value(d) for d in call.defaults), call.argnums)
        outputs = call.generated.output_types
        tangent_types = tuple(Type("float", o.ndim) if not o.differentiable else o for o in outputs)
        if len(outputs) == 1 and not call.generated.returns_tuple:
            return Type("tuple", 0, (outputs[0], tangent_types[0]))
        return Type("tuple", 0, (Type("tuple", 0, outputs), Type("tuple", 0, tangent_types)))

    def restart(self):
        """Load every call's generated JVP, for the second pass."""
        for call in self.calls:
            if call.generated is None:  # in code that never runs (inference did not reach it)
                raise call.location.error(call.node, "s2sjax.jvp here could not be typed")
            call.function = self.load(call.generated)
        self.by_name.clear()
        self.seen = 0
