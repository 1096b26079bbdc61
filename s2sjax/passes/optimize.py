"""Dead code and negative powers in a generated function.

optimize removes dead code from a generated function; float_powers spells negative powers
for Numba.

Only semantics-preserving rewrites live here: a statement is removed when
nothing reads what it assigns (every right-hand side of generated code is
free of side effects). `assert` and stores into arrays are always kept: a
view of the array may read what a store wrote. Comment lines left with nothing under them go too.
Never `0 * x -> 0`: it would break NaN propagation.
"""

import gast

from .queries import is_comment, reads


def optimize(fdef):
    fdef.body = remove_dead(fdef.body, set())
    fdef.body = _drop_orphan_comments(fdef.body)
    return fdef


def float_negative_powers(fdef):
    """`x ** -2` as `x ** -2.0` (for Numba, which computes a power by an integer by repeated
    multiplication and raises ZeroDivisionError at x = 0, where NumPy gives inf; by a float, with
    libm's pow, inf). The value is the same: Python and NumPy give a float for either."""
    for node in gast.walk(fdef):
        if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Pow):
            exponent = _negative_int(node.right)
            if exponent is not None:
                node.right = gast.Constant(float(exponent), None)
    return fdef


def _negative_int(node):
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        positive = node.operand
        if (
            isinstance(positive, gast.Constant)
            and type(positive.value) is int
            and positive.value > 0
        ):
            return -positive.value
    if isinstance(node, gast.Constant) and type(node.value) is int and node.value < 0:
        return node.value
    return None


def remove_dead(stmts, live):
    """`stmts` without the statements whose results nothing in `live` (read later) depends on."""
    return _remove_dead(list(stmts), set(live))


def _remove_dead(stmts, live):
    """Walk `stmts` backwards; `live` (names read later) is updated in place."""
    kept = []
    for stmt in reversed(stmts):
        if isinstance(stmt, gast.If):
            live_else = set(live)
            stmt.body = _remove_dead(stmt.body, live)
            stmt.orelse = _remove_dead(stmt.orelse, live_else)
            live |= live_else
            if not _has_code(stmt.body) and not _has_code(stmt.orelse):
                continue
            if not _has_code(stmt.body):
                stmt.body = [gast.Pass()]
            live |= reads(stmt.test)
        elif isinstance(stmt, (gast.For, gast.While)):
            if not _remove_dead_loop(stmt, live):
                continue
        elif isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                if target.id not in live:
                    continue
                live.discard(target.id)
            # A store into an array is kept (views of the array may read it), so the array stays
            # defined.
            live |= reads(stmt.value) | (
                reads(target) if isinstance(target, gast.Subscript) else set()
            )
        else:
            live |= reads(stmt)
        kept.append(stmt)
    return kept[::-1]


def _remove_dead_loop(loop, live):
    """Prune a loop body until it settles: a value may be read by the next iteration."""
    body = loop.body
    while True:
        inside = set(live) | {n for s in body for n in reads(s)}
        if isinstance(loop, gast.While):
            inside |= reads(loop.test)
        pruned = _remove_dead(list(body), inside)
        if len(pruned) == len(body):
            break
        body = pruned
    loop.body = body
    if not _has_code(body):
        return False
    live |= {n for s in body for n in reads(s)} | reads(
        loop.iter if isinstance(loop, gast.For) else loop.test
    )
    return True


def _has_code(stmts):
    return any(not is_comment(s) and not isinstance(s, gast.Pass) for s in stmts)


def _drop_orphan_comments(stmts):
    """Remove a comment followed by another comment of the same kind or by nothing."""
    out = []
    for i, stmt in enumerate(stmts):
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            stmt.body = _drop_orphan_comments(stmt.body) or [gast.Pass()]
            stmt.orelse = _drop_orphan_comments(stmt.orelse)
        if is_comment(stmt) and _is_line_comment(stmt):
            following = stmts[i + 1] if i + 1 < len(stmts) else None
            if following is None or is_comment(following):
                continue
        out.append(stmt)
    return out


def _is_line_comment(stmt):
    text = stmt.value.args[0].value
    return text not in ("forward sweep", "backward sweep")
