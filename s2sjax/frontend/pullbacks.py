"""`s2sjax.vjp(g, x, y)[1](ct)` written inside a transformed function: the pullback called
where it is made.

A pullback is linear in its cotangent: `vjp(g, x, y)[1](ct)` is the gradient, with respect to
each primal, of `<g(x, y), ct>`, the sum over the output's leaves of `np.sum(leaf * its
cotangent)`. The cotangent has the output's structure, known once type inference reaches the
call; then this module writes that sum as a helper, and its `grad` with `argnums=(0, ..., n-1)`
(a tuple, one cotangent per primal, as the pullback returns) is inlined like any transformation
called inside (inner.py).
"""

import numpy as np

from ..pytree import tree_display
from .parse import function_from_source


def gradient(grad, fun, primal_trees, leaf_types, outer_count, cotangent_tree):
    """(`grad` (target python) of `<fun(*primals, *outer), cotangent>` over the primals' float
    leaves, a function of (the primals' leaves, outer, the cotangent's leaves); the function
    that puts its results back in the primals' structures (`inner.specialize`'s `regroup`)).

    `grad`: s2sjax.grad (the api builds on the front end, which cannot import it);
    `primal_trees`, `cotangent_tree`: pytree.TreeDefs; `leaf_types`: the primals' leaves';
    `outer`: the caller's variables a lambda reads."""
    leaves = [f"leaf_{i}" for i in range(len(leaf_types))]
    outer = [f"outer_{i}" for i in range(outer_count)]
    cotangents = [f"cotangent_{k}" for k in range(cotangent_tree.num_leaves)]
    named = iter(leaves)
    primals = [tree_display(tree, named) for tree in primal_trees]
    products = [
        f"np.sum(out{index} * {leaf})"
        for index, leaf in zip(_indexes(cotangent_tree, ""), cotangents)
    ]
    name = f"{fun.__name__}_pulled".replace("<lambda>", "lambda")
    source = (
        f"def {name}({', '.join(leaves + outer + cotangents)}):\n"
        f"    out = fun({', '.join(primals + outer)})\n"
        f"    return {' + '.join(products)}\n"
    )
    namespace = {"__name__": __name__, "np": np, "fun": fun}
    helper = function_from_source(
        source, name, f"<s2sjax: the pullback of {fun.__qualname__}>", namespace
    )
    floats = tuple(i for i, t in enumerate(leaf_types) if t.differentiable)

    def regroup(params):
        """The cotangents, from the gradient's tuple `result`, in the primals' structures: zeros
        for a leaf that is not a float (as s2sjax.vjp gives outside)."""
        by_leaf = {i: f"result[{j}]" for j, i in enumerate(floats)}
        cotangent = iter(
            by_leaf.get(i, f"rt.zeros_like({params[i]})") for i in range(len(leaf_types))
        )
        return "(" + "".join(tree_display(t, cotangent) + ", " for t in primal_trees) + ")"

    return grad(helper, argnums=floats, target="python"), regroup


def _indexes(tree, root):
    """`[0]`, `['w']`, ...: how each leaf of a tree of structure `tree` is reached."""
    if tree.kind == "leaf":
        return [root]
    steps = tree.keys if tree.kind == "dict" else range(len(tree.children))
    return [
        index
        for step, child in zip(steps, tree.children)
        for index in _indexes(child, f"{root}[{step!r}]")
    ]
