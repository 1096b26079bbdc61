"""Tensor products beyond `@`, np.dot and np.outer (s2sjax/rules/linalg.py): np.cross, np.kron.

Each is bilinear in its two operands, so its tangent is the product with one operand replaced by
its tangent, and its adjoint with respect to one operand is a product of the result's adjoint `g`
with the other operand. Where Numba lacks a form (np.cross with axes), s2sjax/backend/runtime.py
overloads the NumPy function itself, so generated code keeps the user's spelling.
"""

import ast
import string

import gast
import numpy as np

from ..abstract import Type, broadcast, promote
from ..backend import runtime as rt
from .linalg import BILINEAR
from .registry import Rule, RuleError, register

CROSS_AXES = ("axisa", "axisb", "axisc")


def _static_int(nodes, param):
    node = nodes[param]
    if not (isinstance(node, gast.Constant) and (node.value is None or type(node.value) is int)):
        raise RuleError(f"{param} must be a constant int")
    return node.value


def _cross_axes(types, nodes):
    """(axisa, axisb, axisc) counted from the end (`axis`, when given, sets all three), so that
    an adjoint's vector axis lines up with its operand's when the stacks broadcast."""
    ranks = (types["a"].ndim, types["b"].ndim)
    if None in ranks:
        raise RuleError("np.cross needs operands of known rank")
    ranks += (max(ranks),)
    axis = _static_int(nodes, "axis")
    axes = [axis if axis is not None else _static_int(nodes, p) for p in CROSS_AXES]
    return [axis % rank - rank for axis, rank in zip(axes, ranks)]


def _cross_adjoint(which):
    def template(types, nodes):
        ka, kb, kc = _cross_axes(types, nodes)
        if which == "a":  # <g, a x b> = <a, b x g>
            return f"rt.unbroadcast(np.cross(b, g, axisa={kb}, axisb={kc}, axisc={ka}), a)"
        return f"rt.unbroadcast(np.cross(g, a, axisa={kc}, axisb={ka}, axisc={kb}), b)"

    return template


register(
    Rule(
        "np.cross",
        ("a", "b") + CROSS_AXES + ("axis",),
        lambda types, nodes: broadcast(types["a"], types["b"], kind="float"),
        {"a": _cross_adjoint("a"), "b": _cross_adjoint("b")},
        defaults={"axisa": -1, "axisb": -1, "axisc": -1, "axis": None},
        linear=BILINEAR,
        static=CROSS_AXES + ("axis",),
        product=True,
    ),
    np.cross,
)


def _kron_result(types, nodes):
    ranks = (types["a"].ndim, types["b"].ndim)
    if None in ranks or max(ranks) > 2:
        raise RuleError("np.kron is supported for operands of rank 0, 1 or 2 (as in Numba)")
    return Type(promote(types["a"].kind, types["b"].kind), max(ranks))


register(
    Rule(
        "np.kron",
        ("a", "b"),
        _kron_result,
        {"a": "rt.kron_adjoint_a(g, a, b)", "b": "rt.kron_adjoint_b(g, a, b)"},
        linear=BILINEAR,
        product=True,
    ),
    np.kron,
)


# np.einsum: multilinear in its operands. The adjoint of one operand is the einsum of the others
# and `g` into its indices (one of ones shaped like it supplies the indices only it has).
EINSUM_OPERANDS = ("a", "b", "c", "d")


def _einsum_parts(types, nodes):
    """(subscripts, the operand parameters given, their index letters, the output's)."""
    subscripts = nodes["subscripts"]
    if not (isinstance(subscripts, gast.Constant) and isinstance(subscripts.value, str)):
        raise RuleError("np.einsum takes its subscripts as a constant string")
    given = [p for p in EINSUM_OPERANDS if not _is_none(nodes[p])]
    explicit = _without_ellipsis(subscripts.value, [types[p].ndim for p in given])
    try:
        letters, output = rt.einsum_spec(explicit, len(given))
    except ValueError as exc:
        raise RuleError(str(exc)) from None
    for p, subs in zip(given, letters):
        if types[p].ndim != len(subs):
            raise RuleError(f"np.einsum operand {p!r} has rank {types[p].ndim}, not {len(subs)}")
    return explicit, given, letters, output


def _without_ellipsis(subscripts, ranks):
    """`subscripts` with each '...' spelled out as letters for its operand's rank (the axes it
    stands for line up from the right across operands, as NumPy broadcasts them)."""
    if "." not in subscripts:
        return subscripts
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ranks) or None in ranks:
        raise RuleError("np.einsum with '...' needs one operand of known rank per term")
    widths = [_ellipsis_width(term, rank) for term, rank in zip(terms, ranks)]
    batch = "".join(c for c in string.ascii_letters if c not in subscripts)[: max(widths)]
    if not arrow:  # implicit output: the '...' axes, then the letters given once, sorted
        named = "".join(t.replace("...", "") for t in terms)
        output = "..." + "".join(sorted(c for c in set(named) if named.count(c) == 1))
    elif batch and "..." not in output:
        raise RuleError(f"np.einsum output {output!r} must keep the '...' axes")
    terms = [t.replace("...", batch[len(batch) - w :]) for t, w in zip(terms, widths)]
    return ",".join(terms) + "->" + output.replace("...", batch)


def _ellipsis_width(term, rank):
    """How many axes the '...' of `term` stands for (0 where it has none)."""
    named = term.replace("...", "", 1)
    if "." in named or (term == named and len(term) != rank) or len(named) > rank:
        raise RuleError(f"np.einsum term {term!r} does not fit an operand of rank {rank}")
    return rank - len(named)


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def _einsum_result(types, nodes):
    _, given, _, output = _einsum_parts(types, nodes)
    return Type(promote(*(types[p].kind for p in given)), len(output))


def _einsum_adjoint(param):
    def template(types, nodes):
        _, given, letters, output = _einsum_parts(types, nodes)
        mine = letters[given.index(param)]
        if len(set(mine)) != len(mine):
            raise RuleError(
                "the derivative of np.einsum with respect to an operand with a repeated index "
                f"({mine!r}, a diagonal) is not supported"
            )
        others = [(p, s) for p, s in zip(given, letters) if p != param] + [("g", output)]
        if not set(mine) <= set("".join(s for _, s in others)):
            others.append((f"np.full_like({param}, 1.0)", mine))
        spec = ",".join(s for _, s in others) + "->" + mine
        return f"np.einsum({spec!r}, {', '.join(p for p, _ in others)})"

    return template


def _einsum_tangent(param):
    def template(types, nodes):
        subscripts, given, _, _ = _einsum_parts(types, nodes)
        operands = ", ".join("d" if p == param else p for p in given)
        return f"np.einsum({subscripts!r}, {operands})"

    return template


def _einsum_spelled_out(types, nodes):
    """np.einsum with its '...' spelled out as letters (Numba's overload takes letters only)."""
    if "." not in nodes["subscripts"].value:
        return None
    explicit, given, _, _ = _einsum_parts(types, nodes)
    return f"np.einsum({explicit!r}, {', '.join(given)})"


register(
    Rule(
        "np.einsum",
        ("subscripts",) + EINSUM_OPERANDS,
        _einsum_result,
        {p: _einsum_adjoint(p) for p in EINSUM_OPERANDS},
        defaults={p: None for p in EINSUM_OPERANDS[1:]},
        tangents={p: _einsum_tangent(p) for p in EINSUM_OPERANDS},
        static=("subscripts",),
        product=True,
        lower=_einsum_spelled_out,
    ),
    np.einsum,
)


# np.tensordot and np.inner: contractions of known axes, written as np.einsum once the operands'
# ranks are known (passes/lower_calls.py), so that their derivatives are the einsum's.


def _known_ranks(types, name):
    ranks = (types["a"].ndim, types["b"].ndim)
    if None in ranks:
        raise RuleError(f"{name} needs operands of known rank")
    return ranks


def _tensordot_axes(types, nodes):
    """(a's contracted axes, b's), each counted from 0, from np.tensordot's static `axes`."""
    ra, rb = _known_ranks(types, "np.tensordot")
    try:
        axes = ast.literal_eval(gast.gast_to_ast(nodes["axes"]))
    except ValueError:
        raise RuleError("np.tensordot takes its axes as a constant int or pair") from None
    if isinstance(axes, int) and 0 <= axes <= min(ra, rb):
        pair = (range(ra - axes, ra), range(axes))
    elif isinstance(axes, (list, tuple)) and len(axes) == 2:
        pair = [[x] if isinstance(x, int) else list(x) for x in axes]
    else:
        raise RuleError(f"np.tensordot axes {axes!r} are not an int or a pair")
    a_axes, b_axes = ([x % r if -r <= x < r else None for x in xs] for xs, r in zip(pair, (ra, rb)))
    if len(a_axes) != len(b_axes) or None in a_axes + b_axes or len(set(a_axes)) < len(a_axes):
        raise RuleError(f"np.tensordot axes {axes!r} do not fit operands of ranks {ra}, {rb}")
    return a_axes, b_axes


def _tensordot_einsum(types, nodes):
    a_axes, b_axes = _tensordot_axes(types, nodes)
    ra, rb = types["a"].ndim, types["b"].ndim
    a, b = list(string.ascii_lowercase[:ra]), list(string.ascii_lowercase[ra : ra + rb])
    for i, j in zip(a_axes, b_axes):
        b[j] = a[i]
    output = [c for k, c in enumerate(a) if k not in a_axes]
    output += [c for k, c in enumerate(b) if k not in b_axes]
    return f"np.einsum('{''.join(a)},{''.join(b)}->{''.join(output)}', a, b)"


def _contraction_result(contracted):
    def result(types, nodes):
        ra, rb = types["a"].ndim, types["b"].ndim
        kind = promote(types["a"].kind, types["b"].kind)
        return Type(kind, None if None in (ra, rb) else ra + rb - 2 * contracted(types, nodes))

    return result


register(
    Rule(
        "np.tensordot",
        ("a", "b", "axes"),
        _contraction_result(lambda types, nodes: len(_tensordot_axes(types, nodes)[0])),
        defaults={"axes": 2},
        linear=BILINEAR,
        static=("axes",),
        product=True,
        lower=_tensordot_einsum,
    ),
    np.tensordot,
)


def _inner_einsum(types, nodes):
    ra, rb = _known_ranks(types, "np.inner")
    if 0 in (ra, rb):
        return "a * b"
    a, b = string.ascii_lowercase[: ra - 1], string.ascii_lowercase[ra - 1 : ra + rb - 2]
    return f"np.einsum('{a}z,{b}z->{a}{b}', a, b)"


register(
    Rule(
        "np.inner",
        ("a", "b"),
        _contraction_result(lambda types, nodes: 0 not in _known_ranks(types, "np.inner")),
        linear=BILINEAR,
        product=True,
        lower=_inner_einsum,
    ),
    np.inner,
)
