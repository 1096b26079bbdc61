"""Jacobians as source: loops over basis vectors around generated JVP and VJP functions.

`jacfwd` runs the JVP once per element of each differentiated argument,
`jacrev` the VJP once per element of the output. Each is written here as a
short Python function calling the generated ones; the pipeline then inlines
them into one function, which Numba compiles whole and which can itself be
transformed again (`hessian = jacfwd(jacrev(f))`). A transformation of
generated code (grad of grad) is a jacfwd too: s2sjax differentiates
generated code in forward mode, one pass per input element.

`params` are the code function's parameters (the user's, then hidden ones
holding captured arrays); `extra` are the parameters the generated function
takes after its tangents or cotangents (its own captured arrays).
"""
from dataclasses import dataclass

from .backend.naming import Namer


@dataclass
class Argument:
    name: str
    scalar: bool


def jacfwd_source(name, params, extra, wrt, jvp_name, result="jacobian", single=True, outputs=1, structured=False):
    """`name(params, extra)`: the Jacobian by columns, each a JVP along a basis vector.

    `result` "jacobian" returns the Jacobians (a tuple for several `wrt`);
    "value_and_jacobian" returns `(value, jacobians)`. With several `outputs` (the JVP then
    returns tuples), or `structured` ones (the caller rebuilds their structure), a tuple with
    the Jacobians of each output.
    """
    namer = Namer(params + extra)
    lines = [f"def {name}({', '.join(params + extra)}):"]
    zero_tangents = [_zero(a) for a in wrt]
    value = namer.fresh("value")
    lines.append(f"    {value} = {_call(jvp_name, params, zero_tangents, extra)}[0]")
    picks = [f"[{o}]" for o in range(outputs)] if outputs > 1 else [""]  # output o of the JVP's tuples
    jacobians = [[] for _ in picks]
    for i, arg in enumerate(wrt):
        r = namer.fresh("r")
        jacs = [namer.fresh(f"jac_{arg.name}") for _ in picks]
        if arg.scalar:
            tangents = [("1.0" if j == i else z) for j, z in enumerate(zero_tangents)]
            lines.append(f"    {r} = {_call(jvp_name, params, tangents, extra)}")
            lines += [f"    {jac} = {r}[1]{pick}" for jac, pick in zip(jacs, picks)]
        else:
            basis, k = namer.fresh(f"basis_{arg.name}"), namer.fresh("k")
            columns = [namer.fresh(f"columns_{arg.name}") for _ in picks]
            tangents = [(f"{basis}.reshape({arg.name}.shape)" if j == i else z) for j, z in enumerate(zero_tangents)]
            lines.append(f"    {basis} = np.zeros({arg.name}.size)")
            lines += [f"    {c} = rt.tape({value}{pick}, {arg.name}.size)" for c, pick in zip(columns, picks)]
            lines += [f"    for {k} in range({arg.name}.size):",
                      f"        {basis}[{k}] = 1.0",
                      f"        {r} = {_call(jvp_name, params, tangents, extra)}"]
            lines += [f"        {c}[{k}] = {r}[1]{pick}" for c, pick in zip(columns, picks)]
            lines.append(f"        {basis}[{k}] = 0.0")
            lines += [f"    {jac} = rt.columns_to_jacobian({c}, {arg.name})" for jac, c in zip(jacs, columns)]
        for per_output, jac in zip(jacobians, jacs):
            per_output.append(jac)
    returned = _returned(jacobians[0], single) if outputs == 1 and not structured else \
        f"({', '.join(_returned(j, single) for j in jacobians)},)"
    if result == "value_and_jacobian":
        returned = f"{value}, {returned}"
    lines.append(f"    return {returned}")
    return "\n".join(lines) + "\n"


def jacrev_source(name, params, extra, wrt, vjp_name, primal_name, single=True, structured=False):
    """`name(params, extra)`: the Jacobian by rows, each a VJP of a basis cotangent.

    `structured`: the primal returns its one output in a tuple, and so does this function
    (the caller rebuilds the output's structure around it).
    """
    namer = Namer(params + extra)
    out, size, cotangent, k, r = (namer.fresh(n) for n in ("out", "size", "cotangent", "k", "r"))
    rows = [namer.fresh(f"rows_{a.name}") for a in wrt]
    lines = [
        f"def {name}({', '.join(params + extra)}):",
        f"    {out} = {primal_name}({', '.join(params + extra)}){'[0]' if structured else ''}",
        f"    {size} = rt.size({out})",
        f"    {cotangent} = np.zeros({size})",
    ]
    lines += [f"    {row} = rt.tape({a.name}, {size})" for row, a in zip(rows, wrt)]
    lines += [
        f"    for {k} in range({size}):",
        f"        {cotangent}[{k}] = 1.0",
        f"        {r} = {_call(vjp_name, params, [f'rt.unflatten_like({cotangent}, {out})'], extra)}",
    ]
    lines += [f"        {row}[{k}] = {r}[{i}]" for i, row in enumerate(rows)]
    lines.append(f"        {cotangent}[{k}] = 0.0")
    jacobians = [namer.fresh(f"jac_{a.name}") for a in wrt]
    lines += [f"    {jac} = rt.rows_to_jacobian({row}, {out})" for jac, row in zip(jacobians, rows)]
    returned = _returned(jacobians, single)
    lines.append(f"    return {f'({returned},)' if structured else returned}")
    return "\n".join(lines) + "\n"


def _returned(jacobians, single):
    """One Jacobian for an int argnums, else a tuple (of one, too)."""
    return jacobians[0] if single else f"({', '.join(jacobians)},)"


def _zero(arg):
    return "0.0" if arg.scalar else f"rt.zeros_like({arg.name})"


def _call(function, params, middle, extra):
    return f"{function}({', '.join(params + middle + extra)})"
