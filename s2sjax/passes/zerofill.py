"""zero fill: zeroing an output slot that the code then fills element by element.

Not a stage of its own: outputs_in_place (in_place.py) and device (kernel.py)
zero with it the slots they write arrays into.

A gradient written into its row of a batched output starts at zero and is
accumulated: `g[:] = 0.0; t = g[1]; g[1] = t + v; ...`. When the statements
after the fill read and write `g` only at constant indices, a read before any
write is 0.0, and when the writes reach indices 0..k-1 the fill is needed only
for a longer row: `if g.shape[0] != k: g[:] = 0.0`. What is left is the
straight-line code a hand-written loop has (and that LLVM vectorizes).
"""

import gast


def zero_fill(name, following):
    """The statements that zero the rank-1 array `name`, folding reads of zeros in `following`."""
    fill = gast.Assign(
        [gast.Subscript(_name(name), gast.Slice(None, None, None), gast.Store())],
        gast.Constant(0.0, None),
    )
    written = set()
    for stmt in following:
        index = _constant_index(stmt, name)
        if index is None:
            if name in {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name)}:
                return [fill]  # used some other way: keep the plain fill
            continue
        if isinstance(stmt.targets[0], gast.Subscript):
            written.add(index)
        elif index not in written:
            stmt.value = gast.Constant(0.0, None)
    if not written or written != set(range(len(written))):
        return [fill]
    shorter = gast.Compare(_shape0(name), [gast.NotEq()], [gast.Constant(len(written), None)])
    return [gast.If(shorter, [fill], [])]


def _constant_index(stmt, name):
    """k when `stmt` is `t = name[k]` or `name[k] = v` (with `v` not reading `name`), else None."""
    if not isinstance(stmt, gast.Assign):
        return None
    target, value = stmt.targets[0], stmt.value
    access = target if isinstance(target, gast.Subscript) else value
    if not (
        isinstance(access, gast.Subscript)
        and isinstance(access.value, gast.Name)
        and access.value.id == name
        and isinstance(access.slice, gast.Constant)
        and type(access.slice.value) is int
        and access.slice.value >= 0
    ):
        return None
    if access is target and name in {n.id for n in gast.walk(value) if isinstance(n, gast.Name)}:
        return None
    if access is value and not isinstance(target, gast.Name):
        return None
    return access.slice.value


def _name(ident):
    return gast.Name(ident, gast.Load(), None, None)


def _shape0(ident):
    return gast.Subscript(
        gast.Attribute(_name(ident), "shape", gast.Load()), gast.Constant(0, None), gast.Load()
    )
