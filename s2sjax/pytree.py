"""Containers as trees: tuples, lists and dicts (nested), with arrays and numbers as leaves.

As in JAX, a container is static structure and its leaves are the values:
`tree_flatten` splits a tree into its leaves and a `TreeDef`, and
`tree_unflatten` puts leaves back into that structure. Unlike JAX, dicts keep
their key order (they are not sorted). `None` is a node with no leaves.

>>> leaves, tree = tree_flatten([(1.0, 2.0), {"w": 3.0}])
>>> leaves
[1.0, 2.0, 3.0]
>>> tree_unflatten(tree, [x * 10 for x in leaves])
[(10.0, 20.0), {'w': 30.0}]
>>> tree_map(lambda p, g: p - 0.5 * g, {"w": 1.0, "b": 2.0}, {"w": 2.0, "b": 2.0})
{'w': 0.0, 'b': 1.0}
"""

import functools
from dataclasses import dataclass

CONTAINERS = (tuple, list, dict)


@dataclass(frozen=True)
class TreeDef:
    """The structure of a tree: `kind` is "leaf", "tuple", "list", "dict" or "none"."""

    kind: str
    children: tuple = ()
    keys: tuple = ()  # a dict's keys, in order

    @functools.cached_property
    def num_leaves(self):
        return 1 if self.kind == "leaf" else sum(c.num_leaves for c in self.children)

    def __repr__(self):
        if self.kind in ("leaf", "none"):
            return "*" if self.kind == "leaf" else "None"
        inner = [repr(c) for c in self.children]
        if self.kind == "dict":
            return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(self.keys, inner)) + "}"
        if self.kind == "list":
            return "[" + ", ".join(inner) + "]"
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"


LEAF = TreeDef("leaf")


def is_container(value):
    return type(value) in CONTAINERS or value is None


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
    if treedef.kind == "dict":
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(treedef.keys, parts)) + "}"
    if treedef.kind == "list":
        return "[" + ", ".join(parts) + "]"
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def leaf_paths(treedef, root=""):
    """The path of each leaf below `root`, as the user would index it: `params[1][0]`, `p['w']`."""
    if treedef.kind == "leaf":
        return [root]
    steps = treedef.keys if treedef.kind == "dict" else range(len(treedef.children))
    return [
        path
        for step, child in zip(steps, treedef.children)
        for path in leaf_paths(child, f"{root}[{step!r}]")
    ]
