"""Calls written as statements: procedures that update arrays in place, and in-place methods.

A call whose value is discarded (`step(u, tmp)`, `x.fill(0.0)`) is kept for what it does to
arrays. The fence lets through:

- a call of one of the user's functions (a procedure): normalize inlines it, so its
  `u[i] = v` are updates of the caller's arrays (the same names), and a `u += v` on a
  parameter given an array is seen by the caller (normalize's write-back);
- `x.fill(v)` and `np.copyto(dst, src)`, which normalize writes `x[:] = v`,
  `dst[:] = src`: the in-place update rules of s2sjax apply (the array must be one the
  function made);
- a call of a NumPy or math function, whose discarded value has no effect: dropped.

Other methods that change their array (`x.sort()`, `np.add.at(...)`) are refused with what to
write instead.
"""

import os

import gast

from .. import rules

COPYTO = ("np.copyto", "numpy.copyto")

# in-place methods and ufunc methods s2sjax does not support -> what to write instead
_REFUSED_METHODS = {
    "sort": "write x = np.sort(x) (a new array)",
    "resize": "write x = np.resize(x, shape) or build a new array",
    "partition": "write x = np.sort(x)",
    "itemset": "write x[index] = v",
    "put": "write x[index] = v",
    "at": "write the loop: for k in range(len(idx)): a[idx[k]] += v[k]",
}


def check_call_statement(fence, call):
    """Check a call written as a statement (`fence`: the Fence); raise where it is refused."""
    func = call.func
    name = rules.dotted_name(func)
    if isinstance(func, gast.Attribute) and func.attr in _REFUSED_METHODS:
        fence.reject(
            call,
            f"'.{func.attr}(...)', which changes an array in place,",
            _REFUSED_METHODS[func.attr],
        )
    if is_fill(call) or name in COPYTO:
        arity = 1 if is_fill(call) else 2
        named = is_fill(call) or (call.args and isinstance(call.args[0], gast.Name))
        if call.keywords or len(call.args) != arity or not named:
            fence.reject(call, f"this call to {name or '.fill'}()", "write a[:] = v, a a name")
        for node in ([func.value] if is_fill(call) else []) + call.args:
            fence.check_expression(node)
        return
    fence.check_expression(call)


def is_fill(call):
    """Whether `call` is `x.fill(v)` on a name."""
    func = call.func
    return (
        isinstance(func, gast.Attribute)
        and func.attr == "fill"
        and isinstance(func.value, gast.Name)
        and rules.by_name(rules.dotted_name(func) or "") is None
    )


def as_store(call):
    """`x.fill(v)` -> `x[:] = v`, `np.copyto(dst, src)` -> `dst[:] = src` (an Assign, not
    normalized), or None for another call."""
    if is_fill(call):
        array, value = call.func.value, call.args[0]
    elif rules.dotted_name(call.func) in COPYTO and isinstance(call.args[0], gast.Name):
        array, value = call.args
    else:
        return None
    whole = gast.Slice(None, None, None)  # `a[:]`: Numba does not index with `...` alone
    target = gast.Subscript(array, whole, gast.Store())
    return gast.copy_location(gast.Assign([gast.copy_location(target, call)], value), call)


def reassigned(fdef):
    """The names `fdef` assigns with `=` (or as a loop's target), not only with `+=`."""
    augmented = {id(s.target) for s in gast.walk(fdef) if isinstance(s, gast.AugAssign)}
    return {
        n.id
        for n in gast.walk(fdef)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and id(n) not in augmented
    }


def write_back_refusal(callee, call, param, is_reassigned, is_captured):
    """Why the update of `param` by `+=` in the inlined `callee` cannot be given to the caller
    when it is an array (None when it can): raised once the types are known."""
    fn = callee.function
    where = f"{fn.name}() ({os.path.basename(fn.location.filename)}:{fn.tree.lineno})"
    if is_captured:
        return (
            f"{where} updates its parameter {param!r} in place with '+=', and this call gives it "
            "a global array: s2sjax does not modify global arrays; pass a copy"
        )
    if is_reassigned:
        return (
            f"{where} both assigns its parameter {param!r} and updates it in place with '+=': "
            f"which array the caller's sees changed depends on the order; write "
            f"{param}[:] = ... to update the caller's array, or {param} = {param} + ... for a "
            "new one"
        )
    return None


def call_site(pyfunc, location, call, outer=None):
    """`step() called at f.py:12` (and the calls that inlined the caller, `outer`): where an
    error in inlined code was reached from."""
    here = (
        f"{pyfunc.__name__}() called at "
        f"{os.path.basename(location.filename)}:{getattr(call, 'lineno', '?')}"
    )
    return f"{here}, {outer}" if outer else here
