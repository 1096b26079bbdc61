"""Container arguments (tuples, lists, dicts, nested) as leaf arguments.

Generated code takes arrays and numbers only. A transformed function called
with containers transforms instead an *adapter*: a function of the leaves
that puts the containers back together and calls the user's function, which
the front end then inlines. Containers are static structure, so constant
indexing, unpacking and loops over them resolve at transform time and the
generated code sees only the leaves:

    def loss(params_0_0, params_0_1, x, y):     # for loss([(w, b)], x, y)
        return loss_([(params_0_0, params_0_1)], x, y)

Results come back in the user's structures: a gradient has the structure of
its argument (`Flattening.regroup`).
"""

import copy
import inspect
import keyword
import math

import numpy as np

from .errors import check_not_complex, real_input_error
from .frontend.fence import check_parameters
from .frontend.parse import function_from_source, parse
from .pytree import (
    LEAF,
    is_container,
    leaf_paths,
    node_type,
    record_name,
    record_of,
    tree_display,
    tree_leaves,
    tree_structure,
    tree_unflatten,
)

_LEAF_TYPES = (float, int, bool, np.ndarray, np.floating, np.integer, np.bool_)


def has_containers(args, static=()):
    """Whether any argument (but jit's static ones, compiled in whole) is a container."""
    return any(is_container(a) and a is not None and i not in static for i, a in enumerate(args))


def structure_key(args, static=()):
    """The arguments' structures as plain tuples: cheap to build and hash, for finding the
    Flattening of an earlier call with the same structures."""
    return tuple(None if i in static else _structure_key(a) for i, a in enumerate(args))


def _structure_key(value):
    kind = type(value)
    if kind is tuple or kind is list:
        return kind, tuple(map(_structure_key, value))
    if kind is dict:
        return dict, tuple(value), tuple(map(_structure_key, value.values()))
    if value is None:
        return 0
    node = node_type(value)
    if node is None:
        return 1
    children, aux = node.flatten(value)
    return node, aux, tuple(map(_structure_key, children))


class Flattening:
    """How the arguments of one call map to leaves: their structures, names and positions."""

    def __init__(self, names, args, static=(), axes=None):
        self.names = names
        self.static = static  # jit's static arguments stay whole: they are compiled in as constants
        # vmap: per argument, its mapped axes (a tuple per container, see batching)
        self.axes = axes
        self.treedefs = tuple(
            LEAF if i in static else tree_structure(a) for i, a in enumerate(args)
        )
        self.paths = [leaf_paths(t, n) for n, t in zip(names, self.treedefs)]
        self.starts = np.cumsum([0] + [len(p) for p in self.paths]).tolist()

    def checked_leaves(self, args, kind, argnums=None):
        """The leaves of `args`, each checked to be a real number or array.

        A float one if in `argnums`.
        """
        leaves = self.leaves(args)
        check_not_complex(leaves, kind, paths=self.leaf_paths)
        static = {self.starts[i] for i in self.static}
        for k, leaf in enumerate(leaves):
            if k not in static and not isinstance(leaf, _LEAF_TYPES):
                raise TypeError(
                    f"the argument {self.leaf_paths[k]} is a {type(leaf).__name__}; s2sjax takes "
                    "arrays, numbers and tuples, lists, dicts, namedtuples, dataclasses and "
                    "registered classes (s2sjax.register_pytree) of those"
                )
        if argnums is not None:
            self.check_differentiable(leaves, argnums, kind)
        return leaves

    @property
    def key(self):
        return self.treedefs, self.axes

    @property
    def leaf_axes(self):
        """vmap's mapped axis of each leaf."""
        return tuple(
            a for axes, treedef in zip(self.axes, self.treedefs) for a in _aligned(axes, treedef)
        )

    def with_axes(self, axes):
        twin = copy.copy(self)
        twin.axes = axes
        return twin

    def leaves_of(self, arg):
        return tree_leaves(arg) if is_container(arg) else [arg]  # None: no leaves

    def leaves(self, args):
        return tuple(
            leaf
            for i, a in enumerate(args)
            for leaf in ([a] if i in self.static else self.leaves_of(a))
        )

    @property
    def leaf_paths(self):
        return [path for paths in self.paths for path in paths]

    def positions(self, i):
        return range(self.starts[i], self.starts[i + 1])

    def argnums(self, argnums):
        """The leaf positions of the arguments numbered `argnums` (an int or a tuple)."""
        items = argnums if isinstance(argnums, tuple) else (argnums,)
        return tuple(k for i in items for k in self.positions(i % len(self.names)))

    def regroup(self, per_leaf, argnums):
        """Results per leaf (for the leaves of `argnums`) in the structures of those arguments."""
        items = argnums if isinstance(argnums, tuple) else (argnums,)
        per_leaf, grouped = list(per_leaf), []
        for i in items:
            count = len(self.positions(i % len(self.names)))
            grouped.append(tree_unflatten(self.treedefs[i % len(self.names)], per_leaf[:count]))
            per_leaf = per_leaf[count:]
        return tuple(grouped) if isinstance(argnums, tuple) else grouped[0]

    def check_tangents(self, tangents):
        """JAX's error for tangents whose structure is not their primals'."""
        for treedef, tangent in zip(self.treedefs, tangents):
            if tree_structure(tangent) != treedef:
                raise TypeError(
                    "primal and tangent arguments to s2sjax.jvp must have the same tree structure; "
                    f"primals have tree structure {treedef} whereas tangents have tree structure "
                    f"{tree_structure(tangent)}."
                )

    def check_differentiable(self, leaves, argnums, kind):
        """JAX's error for a leaf that is not a float, naming the leaf."""
        paths = self.leaf_paths
        for k in self.argnums(argnums):
            leaf = leaves[k]
            if isinstance(leaf, (float, np.floating)) or (
                isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f"
            ):
                continue
            raise real_input_error(kind, leaf, where=f" for {paths[k]}")


def adapter(fun, flattening, signature):
    """A function of the leaves that rebuilds the containers and calls `fun` (see the module
    docstring), passing each argument as `signature` (fun's) says: by position or by keyword."""
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values()):
        function = parse(
            fun
        )  # the fence's error, at the user's line: no adapter could pass them on
        check_parameters(function.tree, function.location)
    name = _identifier(getattr(fun, "__name__", "f"))
    taken = set()
    params = [
        [
            _fresh(_identifier(p.replace("[", "_").replace("]", "").replace("'", "")), taken)
            for p in paths
        ]
        for paths in flattening.paths
    ]
    callee = _fresh(name + "_", taken)
    arguments = []
    for arg_name, treedef, leaves in zip(flattening.names, flattening.treedefs, params):
        value = tree_display(treedef, iter(leaves))
        keyword = signature.parameters[arg_name].kind == inspect.Parameter.KEYWORD_ONLY
        arguments.append(f"{arg_name}={value}" if keyword else value)
    all_params = [p for leaves in params for p in leaves]
    source = f"def {name}({', '.join(all_params)}):\n    return {callee}({', '.join(arguments)})\n"
    filename = f"<s2sjax: {name} called with containers {flattening.treedefs!r}>"
    namespace = {"__name__": "s2sjax.containers.adapter", "math": math, "np": np, callee: fun}
    namespace.update(_records(flattening.treedefs))
    function = function_from_source(source, name, filename, namespace)
    function.__qualname__ = getattr(fun, "__qualname__", name)
    function.s2sjax_adapts = fun  # the user's function, for messages naming its place
    return function


def _records(treedefs):
    """The names the adapter's source calls to build its object arguments, and their records."""
    found, pending = {}, list(treedefs)
    while pending:
        treedef = pending.pop()
        pending.extend(treedef.children)
        if treedef.kind == "node":
            found[record_name(treedef)] = record_of(treedef)
    return found


def _aligned(axes, treedef):
    """The leaves of an axes tree made for a value of structure `treedef` (None is an axis here)."""
    if treedef.kind == "leaf":
        return [axes]
    return [a for sub, child in zip(axes, treedef.children) for a in _aligned(sub, child)]


def _identifier(text):
    text = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in text).strip("_") or "f"
    return "_" + text if text[0].isdigit() or keyword.iskeyword(text) else text


def _fresh(name, taken):
    while name in taken:
        name += "_"
    taken.add(name)
    return name
