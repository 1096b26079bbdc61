"""Containers as trees: tuples, lists and dicts (nested), with arrays and numbers as leaves.

As in JAX, a container is static structure and its leaves are the values:
`tree_flatten` splits a tree into its leaves and a `TreeDef`, and
`tree_unflatten` puts leaves back into that structure. Unlike JAX, dicts keep
their key order (they are not sorted). `None` is a node with no leaves.
Objects are nodes too, as in JAX: namedtuples and dataclass instances (their
fields are the children), and the classes given to `register_pytree`.

>>> leaves, tree = tree_flatten([(1.0, 2.0), {"w": 3.0}])
>>> leaves
[1.0, 2.0, 3.0]
>>> tree_unflatten(tree, [x * 10 for x in leaves])
[(10.0, 20.0), {'w': 30.0}]
>>> tree_map(lambda p, g: p - 0.5 * g, {"w": 1.0, "b": 2.0}, {"w": 2.0, "b": 2.0})
{'w': 0.0, 'b': 1.0}
"""

import dataclasses
import functools
from dataclasses import dataclass

CONTAINERS = (tuple, list, dict)


@dataclass(frozen=True)
class TreeDef:
    """The structure of a tree: `kind` is "leaf", "tuple", "list", "dict", "none" or "node" (an
    object, see `register_pytree`)."""

    kind: str
    children: tuple = ()
    keys: tuple = ()  # a dict's keys, in order; an object's attribute holding each child
    node: object = None  # an object's (NodeType, aux data)

    @functools.cached_property
    def num_leaves(self):
        return 1 if self.kind == "leaf" else sum(c.num_leaves for c in self.children)

    def __repr__(self):
        if self.kind in ("leaf", "none"):
            return "*" if self.kind == "leaf" else "None"
        inner = [repr(c) for c in self.children]
        if self.kind == "node":
            return f"{self.node[0].cls.__name__}(" + ", ".join(inner) + ")"
        if self.kind == "dict":
            return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(self.keys, inner)) + "}"
        if self.kind == "list":
            return "[" + ", ".join(inner) + "]"
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"


LEAF = TreeDef("leaf")


def is_container(value):
    return type(value) in CONTAINERS or value is None or node_type(value) is not None


def tree_structure(tree):
    """The `TreeDef` of `tree`: its containers' kinds, lengths and keys, with `*` for each leaf.

    >>> tree_structure({"w": [1.0, 2.0], "b": None})
    {'w': [*, *], 'b': None}
    """
    kind = type(tree)
    if kind in (tuple, list):
        return TreeDef(kind.__name__, tuple(tree_structure(c) for c in tree))
    if kind is dict:
        return TreeDef("dict", tuple(tree_structure(c) for c in tree.values()), tuple(tree))
    node = node_type(tree)
    if node is not None:
        children, aux = node.flatten(tree)
        return TreeDef(
            "node",
            tuple(map(tree_structure, children)),
            node.attributes(aux, len(children)),
            (node, aux),
        )
    return TreeDef("none") if tree is None else LEAF


def tree_leaves(tree):
    """The leaves of `tree`, depth first, dicts in key order.

    >>> tree_leaves([(1.0, 2.0), {"b": 3.0, "a": 4.0}])
    [1.0, 2.0, 3.0, 4.0]
    """
    if type(tree) in (tuple, list):
        return [leaf for child in tree for leaf in tree_leaves(child)]
    if type(tree) is dict:
        return [leaf for child in tree.values() for leaf in tree_leaves(child)]
    node = node_type(tree)
    if node is not None:
        return [leaf for child in node.flatten(tree)[0] for leaf in tree_leaves(child)]
    return [] if tree is None else [tree]


def tree_flatten(tree):
    """`(leaves, treedef)`: `tree_leaves(tree)` and `tree_structure(tree)`.

    >>> tree_flatten((1.0, [2.0]))
    ([1.0, 2.0], (*, [*]))
    """
    return tree_leaves(tree), tree_structure(tree)


def tree_unflatten(treedef, leaves):
    """The tree of structure `treedef` holding `leaves` (any iterable with exactly enough of them).

    >>> tree_unflatten(tree_structure({"w": 0.0, "b": (0.0,)}), [1.0, 2.0])
    {'w': 1.0, 'b': (2.0,)}
    """
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree_unflatten: the structure {treedef} has {treedef.num_leaves} leaves, "
            f"but {len(leaves)} were given"
        )
    return _build(treedef, iter(leaves))


def _build(treedef, leaves):
    if treedef.kind == "leaf":
        return next(leaves)
    if treedef.kind == "none":
        return None
    children = [_build(c, leaves) for c in treedef.children]
    if treedef.kind == "node":
        node, aux = treedef.node
        return node.unflatten(aux, children)
    if treedef.kind == "dict":
        return dict(zip(treedef.keys, children))
    return children if treedef.kind == "list" else tuple(children)


def tree_map(f, tree, *rest):
    """`f` applied leaf by leaf to `tree` and the trees in `rest`, which share its structure.

    The result has `tree`'s structure; a leaf is anything that is not a tuple,
    list, dict or None (an array is one leaf).

    >>> import numpy as np
    >>> tree_map(lambda p, g: p - 0.1 * g, [np.ones(2), 3.0], [np.ones(2), 10.0])
    [array([0.9, 0.9]), 2.0]
    """
    leaves, treedef = tree_flatten(tree)
    others = []
    for other in rest:
        other_leaves, other_def = tree_flatten(other)
        if other_def != treedef:
            raise ValueError(
                f"tree_map: the trees have different structures: {treedef} and {other_def}"
            )
        others.append(other_leaves)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def tree_display(treedef, names):
    """Python source for a tree of structure `treedef` holding the names `names` (an iterator),
    a display to build it or a target to unpack it.

    >>> tree_display(tree_structure((1.0, [2.0], {"w": 3.0})), iter("abc"))
    "(a, [b], {'w': c})"
    >>> tree_display(tree_structure((1.0,)), iter("a"))
    '(a,)'
    """
    if treedef.kind == "leaf":
        return next(names)
    if treedef.kind == "none":
        return "None"
    parts = [tree_display(c, names) for c in treedef.children]
    if treedef.kind == "node":  # the adapter's namespace binds the record (containers.adapter)
        return f"{record_name(treedef)}({', '.join(parts)})"
    if treedef.kind == "dict":
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(treedef.keys, parts)) + "}"
    if treedef.kind == "list":
        return "[" + ", ".join(parts) + "]"
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def leaf_paths(treedef, root=""):
    """The path of each leaf below `root`, as the user would index it: `params[1][0]`, `p['w']`."""
    if treedef.kind == "leaf":
        return [root]
    if treedef.kind == "node":
        steps = [f".{k}" if k else f"[{i}]" for i, k in enumerate(treedef.keys)]
    else:
        keys = treedef.keys if treedef.kind == "dict" else range(len(treedef.children))
        steps = [f"[{k!r}]" for k in keys]
    return [
        path
        for step, child in zip(steps, treedef.children)
        for path in leaf_paths(child, f"{root}{step}")
    ]


# ---- objects as nodes: namedtuples, dataclasses and registered classes


@dataclass(frozen=True, eq=False)
class NodeType:
    """How to take an object of class `cls` apart and put it back together, as JAX's
    `register_pytree_node`: `flatten(obj) -> (children, aux)`, `unflatten(aux, children) -> obj`.
    `tuple_like`: a namedtuple, which code may also index, unpack and take the `len` of."""

    cls: type
    flatten: object
    unflatten: object
    tuple_like: bool = False

    def attributes(self, aux, count):
        """The attribute holding each child, or None where none holds it alone.

        Found by putting marker children into `unflatten` and looking where each lands.
        """
        if self.tuple_like:
            return tuple(self.cls._fields)
        markers = [_Marker() for _ in range(count)]
        try:
            found = {id(v): k for k, v in vars(self.unflatten(aux, markers)).items()}
        except Exception:  # an unflatten that checks its children, no __dict__: no attributes
            found = {}
        return tuple(found.get(id(m)) for m in markers)


class _Marker:
    """A stand-in child, to see which attribute of an object holds it."""


_REGISTERED = {}  # class -> NodeType


def register_pytree(cls, flatten, unflatten):
    """Make instances of `cls` trees: `flatten(obj)` gives `(children, aux)`, `unflatten(aux,
    children)` the object back (JAX's `register_pytree_node`). The children are the
    differentiable parts; `aux` is static (hashable) and part of the structure.

    >>> class Affine:
    ...     def __init__(self, w, b):
    ...         self.w, self.b = w, b
    >>> register_pytree(Affine, lambda a: ((a.w, a.b), None), lambda _, c: Affine(*c))
    >>> tree_map(lambda v: 2 * v, Affine(1.0, 2.0)).b
    4.0
    """
    _REGISTERED[cls] = NodeType(cls, flatten, unflatten)


def node_type(value):
    """The `NodeType` of an object that is a tree node (not a tuple, list or dict), or None."""
    kind = type(value)
    if kind in _REGISTERED:
        return _REGISTERED[kind]
    if issubclass(kind, tuple) and kind is not tuple and hasattr(kind, "_fields"):
        return _namedtuple_node(kind)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass_node(kind)
    return None


@functools.cache
def _namedtuple_node(cls):
    return NodeType(cls, lambda t: (tuple(t), None), lambda _, c: cls(*c), tuple_like=True)


@functools.cache
def _dataclass_node(cls):
    names = [f.name for f in dataclasses.fields(cls)]
    return NodeType(
        cls,
        lambda obj: (tuple(getattr(obj, n) for n in names), None),
        lambda _, children: cls(**dict(zip(names, children))),
    )


@dataclass(frozen=True)
class Record:
    """What builds an object argument in the adapter (containers.adapter): to the front end, a
    container known element by element whose elements are read as attributes, and, for a
    namedtuple, indexed as a tuple's."""

    attributes: tuple  # the attribute holding each element, or None
    tuple_like: bool
    spelled: str  # the class's name, for messages
    node: tuple  # (NodeType, aux data), to rebuild the object where the function returns it

    def __call__(self, *children):  # the adapter run as Python (to word an error)
        node, aux = self.node
        return node.unflatten(aux, list(children))


def record_of(treedef):
    node = treedef.node[0]
    return Record(treedef.keys, node.tuple_like, node.cls.__name__, treedef.node)


def class_record(cls):
    """The `Record` that builds a namedtuple or dataclass of class `cls` in transformed code
    (`P(w, b)`, `P(w=w, b=b)`), or None for other classes."""
    if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return Record(tuple(cls._fields), True, cls.__name__, (_namedtuple_node(cls), None))
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        names = tuple(f.name for f in dataclasses.fields(cls))
        return Record(names, False, cls.__name__, (_dataclass_node(cls), None))
    return None


def record_name(treedef):
    """The name the adapter gives the record building an object of `treedef`'s class."""
    return f"_record_{treedef.node[0].cls.__name__}_{id(treedef)}"
