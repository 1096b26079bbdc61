"""Builtins over sequences: sum, any, all, sorted, min/max of many, math.fsum, divmod.

Each is written by normalize in other rules (`Rule.expands`) once its
argument is a list or tuple known element by element (a display, a name
assigned one, a comprehension that resolve unrolled, a dict's keys):

- `sum(xs, start)` is `start + x0 + x1 + ...` (Python's own order;
  `start` omitted while it is the default 0), `math.fsum` the same sum in
  floats (its exact rounding differs from it by an ulp at most);
- `any(xs)`/`all(xs)` are `x0 != 0 or ...` / `and`, a bool as Python's;
- `sorted(xs)` sorts values known now (numbers, a dict's keys) into a list;
  sorting values known only at run time is refused;
- `min`/`max` of one sequence or of more than two numbers are nested
  two-argument calls, whose rule splits ties as JAX does;
- `divmod(a, b)` is `(a // b, a % b)`.

Anything else (an array, a sequence known only at run time) is refused with
a located error saying what to write instead.
"""

import builtins
import math

import gast

from .reductions import never_typed
from .registry import Rule, RuleError, by_name, register

_KNOWN = "a list or tuple written in the code (or assigned from one, or a dict)"


def _elements(given, name):
    elements = given.get("iterable")
    if not isinstance(elements, gast.Tuple):
        raise RuleError(
            f"{name}() takes {_KNOWN}; of an array, use np.{name} instead"
            if name in ("sum", "any", "all")
            else f"{name}() takes {_KNOWN}"
        )
    return list(elements.elts)


def _chain(op, operands):
    result = operands[0]
    for operand in operands[1:]:
        result = gast.BinOp(result, op, operand)
    return result


def _expand_sum(given, name="sum"):
    operands = _elements(given, name)
    start = given.get("start")
    if start is not None and not (isinstance(start, gast.Constant) and start.value == 0):
        operands = [start] + operands
    if name == "math.fsum":
        operands = [gast.Constant(0.0, None)] + operands
    return _chain(gast.Add(), operands) if operands else gast.Constant(0, None)


def _truth_test(op, empty):
    def expand(given):
        tests = [
            gast.Compare(e, [gast.NotEq()], [gast.Constant(0, None)])
            for e in _elements(given, "any" if empty is False else "all")
        ]
        if not tests:
            return gast.Constant(empty, None)
        return tests[0] if len(tests) == 1 else gast.BoolOp(op, tests)

    return expand


def _expand_sorted(given):
    elements = _elements(given, "sorted")
    if not all(isinstance(e, gast.Constant) for e in elements):
        raise RuleError(
            "sorted() sorts values known when the function is transformed (numbers written in "
            "the code, a dict's keys); of an array, use np.sort"
        )
    values = sorted(e.value for e in elements)
    return gast.List([gast.Constant(v, None) for v in values], gast.Load())


def _expand_divmod(given):
    a, b = given["a"], given["b"]
    return gast.Tuple(
        [gast.BinOp(a, gast.FloorDiv(), b), gast.BinOp(a, gast.Mod(), b)], gast.Load()
    )


register(
    Rule("sum", ("iterable", "start"), never_typed, defaults={"start": 0}, expands=_expand_sum),
    builtins.sum,
)
register(
    Rule(
        "math.fsum",
        ("iterable",),
        never_typed,
        expands=lambda given: _expand_sum(given, "math.fsum"),
    ),
    math.fsum,
)
register(Rule("any", ("iterable",), never_typed, expands=_truth_test(gast.Or(), False)), any)
register(Rule("all", ("iterable",), never_typed, expands=_truth_test(gast.And(), True)), all)
register(Rule("sorted", ("iterable",), never_typed, expands=_expand_sorted), sorted)
register(Rule("divmod", ("a", "b"), never_typed, expands=_expand_divmod), divmod)


def _nested_extreme(name):
    """min/max of one sequence, or of more than two numbers: nested two-argument calls."""

    def expand(given):
        more = given.get("*", [])
        if "b" in given and not more:
            return None  # the two-argument form, differentiated by its own rule
        operands = (
            [given["a"], given["b"], *more]
            if "b" in given
            else _elements({"iterable": given["a"]}, name)
        )
        if not operands:
            raise RuleError(f"{name}() of an empty sequence")
        result = operands[0]
        for operand in operands[1:]:
            result = gast.Call(gast.Name(name, gast.Load(), None, None), [result, operand], [])
        return result

    return expand


for _name in ("min", "max"):
    by_name(_name).expands = _nested_extreme(_name)
    by_name(_name).variadic = True
