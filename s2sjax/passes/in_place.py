"""outputs_in_place: each example of a batch loop builds its array output in its slot.

Accepts a generated function after dead code removal (a vmap's batch loop
around the inlined per-example code, for one). Leaves it with each array
that a loop's body allocates, fills and then stores whole into a slot of a
batched output (`batched[example] = g`) written in that slot instead: the
allocation becomes a view of the slot, zeroed when the allocation was
zeros (folding reads of known zeros, see zerofill), and the store and the
copies that led to it are gone. This applies when the array (through
copies) is made once, by an allocation shaped like another array
(`rt.zeros_like`, `np.zeros_like`, `np.empty_like`, `rt.tape`), in that
loop's body, and nothing updates it after it is stored. Compiled targets
only: it saves an allocation and a copy per example.

>>> import gast, textwrap
>>> from s2sjax.backend.emit import emit
>>> fdef = gast.parse(textwrap.dedent('''
...     def f_vmap(x):
...         for example in range(1, x.shape[0]):
...             g = rt.zeros_like(p)
...             t = x[example]
...             g[1] = t * 2.0
...             batched[example] = g
... ''')).body[0]
>>> print(emit(write_outputs_in_place(fdef)))
def f_vmap(x):
    for example in range(1, x.shape[0]):
        g = batched[example]
        g[:] = 0.0
        t = x[example]
        g[1] = t * 2.0
<BLANKLINE>
"""

import copy
from collections import Counter

import gast

from .. import rules
from .queries import is_store, statements
from .zerofill import zero_fill


def write_outputs_in_place(fdef, types=None):
    """Let each example build an array output in its slot of the batched output.

    In a loop, `x = rt.zeros_like(p) ... batched[example] = x` allocates an array per example
    and copies it; `x = batched[example]; x[:] = 0.0 ...` does neither. Applies when `x` (through
    copies) is made once by an allocation shaped like another array, at the top of that loop's
    body, and nothing updates it after it is stored. `types`: the variables' types, where known
    (a scalar output, `rt.zeros_like` of a number, has no slot to write into).
    """
    assigned_count, load_count = _counts(fdef, gast.Store), _counts(fdef, gast.Load)
    scalars = {n for n, t in (types or {}).items() if t.ndim == 0}
    for loop in [s for s in statements(fdef.body) if isinstance(s, gast.For)]:
        for store in [s for s in loop.body if is_store(s) and isinstance(s.value, gast.Name)]:
            _write_in_place(loop, store, assigned_count, load_count, scalars)
    return fdef


def _write_in_place(loop, store, assigned_count, load_count, scalars):
    body = loop.body
    index = body.index(store)
    definitions = {
        s.targets[0].id: s
        for s in body[:index]
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
    }
    chain, name = [], store.value.id
    while (
        name in definitions
        and isinstance(definitions[name].value, gast.Name)
        and assigned_count[name] == 1
    ):
        chain.append(name)
        name = definitions[name].value.id
    chain.append(name)
    allocation = definitions.get(name)
    slot = store.targets[0]
    rule = (
        rules.callee(allocation.value) if allocation is not None else None
    )  # zeros or unfilled, shaped like an argument
    if (
        rule is None
        or name in scalars
        or rule.allocates not in ("zeros", "unfilled")
        or rule.like is None
        or assigned_count[name] != 1
        or not isinstance(slot.slice, gast.Name)
        or slot.slice.id != loop.target.id
        or any(is_store(s) and s.targets[0].value.id in chain for s in body[index + 1 :])
    ):
        return
    body.remove(store)
    for copy_stmt in [definitions[n] for n in chain[:-1]]:  # the copies led only to the store
        if load_count[copy_stmt.targets[0].id] == 1 and copy_stmt in body:
            body.remove(copy_stmt)
    position = body.index(allocation)
    view = gast.Assign([gast.Name(name, gast.Store(), None, None)], _load(slot))
    fill = [] if rule.allocates == "unfilled" else zero_fill(name, body[position + 1 :])
    body[position : position + 1] = [view] + fill


def _load(slot):
    return gast.Subscript(copy.deepcopy(slot.value), copy.deepcopy(slot.slice), gast.Load())


def _counts(fdef, context):
    return Counter(
        n.id for n in gast.walk(fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, context)
    )
