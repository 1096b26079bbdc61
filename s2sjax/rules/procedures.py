"""The value a procedure's `u += v` leaves in the caller's variable (frontend/procedures.py).

`rt.written_back(old, new)` stands, after normalize, where an inlined function updated a
parameter with `+=`: Python updates an array in place, so the caller's variable sees `new`, and
rebinds a number, so it keeps `old`. Which one is known once the types are: `lower` writes the
call as `new` or `old`, a copy, before any derivative is taken. `refusal` (a string) is why
an array's update cannot be given to the caller (normalize found it), raised then.
"""

from .registry import Rule, RuleError, register


def _old_type(types, nodes):
    return types["old"]


def _chosen(types, nodes):
    old = types["old"]
    if old.ndim == 0:
        return "old"
    refusal = getattr(nodes.get("refusal"), "value", None)
    if refusal:
        raise RuleError(refusal)
    if old.ndim is None:
        raise RuleError(
            "a function updates its parameter in place with '+=' and its type is not known "
            "when the code is generated: write p[:] = p + ... to update the caller's array"
        )
    return "new"


register(
    Rule(
        "rt.written_back",
        ("old", "new", "refusal"),
        _old_type,
        defaults={"refusal": None},
        static=("refusal",),
        lower=_chosen,
    )
)
