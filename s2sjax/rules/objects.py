"""Objects and small Python things (the objects family): the builtins `list` and `slice`.

- `list(...)` of a list or tuple display, or of a name normalize knows as one, is the list
  display of its elements (`Rule.expands`), as `tuple(...)` is the tuple display
  (rules/small.py). `dict(...)` is written as a dict display by resolve
  (frontend/resolve.py), which sees its keywords.
- `slice(a, b, c)` is a slice known part by part (normalize's `_Static` of kind "slice"): `x[s]`
  indexes as `x[a:b:c]` does.
"""

import gast

from .reductions import never_typed
from .registry import Rule, RuleError, register


def _expand_list(given):
    elements = given.get("iterable", gast.Tuple([], gast.Load()))
    if not isinstance(elements, gast.Tuple):
        raise RuleError(
            "list() takes a list or tuple written in the code or assigned from one "
            "(the rows of an array are not supported: write list(x[i] for i in range(3)) with "
            "a constant range, or keep the array)"
        )
    return gast.List(elements.elts, gast.Load())


register(Rule("list", ("iterable",), never_typed, expands=_expand_list), list)


def _expand_slice(given):
    """`slice(stop)`, `slice(start, stop[, step])`: the slice, which normalize keeps as one."""
    parts = [given.get(p) for p in ("start", "stop", "step")]
    if parts[1] is None:  # slice(stop)
        parts = [None, parts[0], None]
    return gast.Slice(*parts)


register(
    Rule("slice", ("start", "stop", "step"), never_typed, expands=_expand_slice),
    slice,
)
