"""Questions several passes ask about normalized and generated code."""

import itertools

import gast

from ..backend.naming import COMMENT_MARK


def _walk(nodes):
    items = nodes if isinstance(nodes, list) else [nodes]
    return itertools.chain.from_iterable(gast.walk(n) for n in items)


def reads(nodes):
    """The names a node (or a list of nodes) reads."""
    return {n.id for n in _walk(nodes) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def assigned(nodes):
    """The names a node (or a list of nodes) assigns; `a[i] = v` assigns no name."""
    return {
        n.id for n in _walk(nodes) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
    }


def is_store(stmt):
    """Whether `stmt` is an in-place update `a[index] = v`."""
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript)


def statements(stmts):
    """Every statement of a block, those of nested blocks included."""
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            yield from statements(stmt.body)
            yield from statements(stmt.orelse)


def is_comment(stmt):
    """Whether `stmt` is a comment line made by naming.comment."""
    return (
        isinstance(stmt, gast.Expr)
        and isinstance(stmt.value, gast.Call)
        and getattr(stmt.value.func, "id", None) == COMMENT_MARK
    )


def indexes_elements(tree):
    """Whether `tree` indexes by element (`x[i]`, `A[i, 0]`), which may go out of bounds:
    compiled code then checks bounds, as Python does (Numba does not, by default). Slices
    (`x[1:]`) are clipped, never out of bounds."""
    return any(
        isinstance(node, gast.Subscript) and not _all_slices(node.slice) for node in gast.walk(tree)
    )


def _all_slices(index):
    items = index.elts if isinstance(index, gast.Tuple) else [index]
    return all(isinstance(item, gast.Slice) for item in items)
