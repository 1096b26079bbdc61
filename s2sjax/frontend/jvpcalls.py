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

A primal that is a tuple (of arrays and numbers, nested too) is differentiated
leaf by leaf: `g`'s JVP is generated for a function of the leaves that puts the
tuples back together and calls `g`, and pass 2 passes it `p[0], p[1], ...` and
the tangents' leaves likewise.
"""

from dataclasses import dataclass, field

from ..abstract import Type, of_value
from ..pytree import LEAF, TreeDef, tree_display
from ..rules.reduce2 import refusing_draws
from . import pullbacks
from .parse import function_from_source


@dataclass
class JvpCall:
    fun: object  # the plain Python function differentiated
    location: object  # errors.Location of the caller
    node: object  # the call, in pass 1
    defaults: tuple  # the values of the parameters after the primals given (fixed, as in JAX)
    generated: object = None  # pipeline.Generated: g's JVP for the primals' types
    # the primals that get tangents (the float ones); leaves of tuples are primals
    argnums: tuple = ()
    function: object = None  # the generated JVP, loaded: what pass 2 inlines
    leaf_paths: list = None  # per primal, the index paths of its leaves, when a primal is a tuple
    # a transformation called in the code (`grad(f)(x)`, a `Transformed` from outside): its
    # generated code for the arguments' types (inner.InnerCode) is inlined in pass 2
    transformed: object = None
    # the structures of the arguments (primals, then tangents) where normalize knows them: a
    # dict's keys, which its type (a tuple of its values) does not hold
    trees: list = None
    # `vjp(fun, ...)[1](ct)`: the number of the caller's variables a lambda reads, passed after
    # the primals (the pullback becomes a gradient once the cotangent's structure is known)
    pulled: int = None
    grad: object = None  # s2sjax.grad, for a pullback: the api's, which the front end cannot import
    regroup: object = None  # pullbacks.gradient: the pullback's results in the primals' structures


@dataclass
class JvpCalls:
    """The jvp calls of one pipeline run, in the order resolution meets them."""

    generate: object  # (fun, arg types, argnums) -> pipeline.Generated
    load: object  # pipeline.Generated -> the Python function
    specialize: object = None  # (Transformed, arg types) -> inner.InnerCode
    calls: list = field(default_factory=list)
    by_name: dict = field(default_factory=dict)  # pass 1: the opaque call's name -> JvpCall
    seen: int = 0

    def meet(self, fun, location, node, defaults, transformed=None):
        """The call resolution meets next: a new one in pass 1, the same one again in pass 2."""
        if self.seen == len(self.calls):
            self.calls.append(JvpCall(fun, location, node, defaults, transformed=transformed))
        call = self.calls[self.seen]
        self.seen += 1
        return call

    @property
    def pending(self):
        return any(call.function is None for call in self.calls)

    @property
    def derivatives_inside(self):
        """The first call whose inlined code is a transformation's other than a JVP (a gradient,
        a Jacobian), or None: an outer derivative of such code is taken in forward mode."""
        return next((call for call in self.calls if call.transformed is not None), None)

    def type_of(self, name, arg_types):
        """The type of the opaque call `name(*primals, *tangents)`, generating its JVP (pass 1)."""
        call = self.by_name[name]
        if call.pulled is not None:
            arg_types = _pulled(call, arg_types)
            with refusing_draws("in the pullback of s2sjax.vjp, which runs the function again"):
                call.generated = self.specialize(call, tuple(arg_types))
            return call.generated.output_type
        if call.transformed is not None:
            call.generated = self.specialize(call, tuple(arg_types))
            return call.generated.output_type
        half = len(arg_types) // 2
        primals, tangents = tuple(arg_types[:half]), tuple(arg_types[half:])
        fun, fixed = call.fun, call.defaults
        if any(p.kind == "tuple" for p in primals):
            trees = [_structure(call, k, typ) for k, typ in enumerate(arg_types)]
            call.leaf_paths = [_leaf_paths(t) for t in trees[:half]]
            primals = _leaves(primals)
            tangents = _leaves(tangents, call, trees[:half], trees[half:])
            fun, fixed = (
                _of_leaves(call.fun, trees[:half]),
                (),
            )  # g's own defaults apply in the function of the leaves
        for p, t in zip(primals, tangents):
            if p.ndim is not None and t.ndim is not None and p.differentiable and p.ndim != t.ndim:
                raise call.location.error(
                    call.node,
                    "jvp called with different primal and tangent shapes: "
                    f"a primal of rank {p.ndim} has a tangent of rank {t.ndim}",
                )
        call.argnums = tuple(i for i, p in enumerate(primals) if p.differentiable)
        call.generated = self.generate(
            fun, primals + tuple(of_value(d) for d in fixed), call.argnums
        )
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
            call.function = (
                call.generated.function
                if call.transformed is not None
                else self.load(call.generated)
            )
        self.by_name.clear()
        self.seen = 0


def _pulled(call, arg_types):
    """Make the pullback's gradient, `call.transformed` (and `call.regroup`), for `arg_types`
    (the primals', the caller's variables', the cotangent's); the types it takes: the primals'
    leaves, the caller's variables', the cotangent's leaves."""
    primal_count = len(arg_types) - 1 - call.pulled
    trees = [_structure(call, k, arg_types[k]) for k in range(primal_count)]
    cotangent = _structure(call, len(arg_types) - 1, arg_types[-1])
    call.leaf_paths = [_leaf_paths(t) for t in trees] + [_leaf_paths(cotangent)]
    primal_leaves = _leaves(arg_types[:primal_count])
    call.transformed, call.regroup = pullbacks.gradient(
        call.grad, call.fun, trees, primal_leaves, call.pulled, cotangent
    )
    return primal_leaves + tuple(arg_types[primal_count:-1]) + _leaves(arg_types[-1:])


def _tree_of(typ):
    """The structure of a value of type `typ`: its tuples, with `*` for each leaf."""
    return TreeDef("tuple", tuple(map(_tree_of, typ.elts))) if typ.kind == "tuple" else LEAF


def _structure(call, k, typ):
    """The structure of argument `k` of `call`, of type `typ`: normalize's (a dict's keys
    included) where it knows it."""
    known = call.trees[k] if call.trees is not None else LEAF
    tree = known if known.num_leaves == len(_leaf_types(typ)) and known != LEAF else _tree_of(typ)
    if _has_objects(tree):
        raise call.location.error(
            call.node,
            "an object (a namedtuple, a dataclass) among the primals of s2sjax.jvp in a "
            "transformed function is not supported",
            "give jvp its fields as a tuple",
        )
    return tree


def _has_objects(tree):
    return tree.kind == "node" or any(map(_has_objects, tree.children))


def _leaf_paths(tree):
    """The index of each leaf: positions in tuples and lists, keys in dicts."""
    if tree.kind == "leaf":
        return [()]
    steps = tree.keys if tree.kind == "dict" else range(len(tree.children))
    return [(s,) + path for s, child in zip(steps, tree.children) for path in _leaf_paths(child)]


def _leaves(types, call=None, trees=(), tangent_trees=()):
    """The types of the leaves of `types`; the tangents' structures `tangent_trees` checked to be
    the primals' `trees`."""
    for k, (tree, tangent_tree) in enumerate(zip(trees, tangent_trees)):
        if tangent_tree != tree:
            raise call.location.error(
                call.node,
                "primal and tangent arguments to s2sjax.jvp must have the same "
                f"tree structure; primal {k} has tree structure {tree} whereas its tangent "
                f"has tree structure {tangent_tree}.",
            )
    return tuple(leaf for typ in types for leaf in _leaf_types(typ))


def _leaf_types(typ):
    return [leaf for e in typ.elts for leaf in _leaf_types(e)] if typ.kind == "tuple" else [typ]


def _of_leaves(fun, trees):
    """`fun` as a function of the leaves of its first arguments, of structures `trees`."""
    names = [f"leaf_{k}" for k in range(sum(t.num_leaves for t in trees))]
    leaves = iter(names)
    name = f"{fun.__name__}_of_leaves".replace("<lambda>", "lambda")
    source = (
        f"def {name}({', '.join(names)}):\n"
        f"    return fun({', '.join(tree_display(t, leaves) for t in trees)})\n"
    )
    namespace = {"__name__": __name__, "fun": fun}
    return function_from_source(
        source, name, f"<s2sjax: {fun.__qualname__} of the leaves of its tuples>", namespace
    )
