"""The differential sweep: every rule case x every transformation x layout x target.

A rule that is right under `grad` on the cpu but wrong under `jacrev` on
`parallel`, or with a tuple argument, or in float32, is caught here. The
cases are tests/test_rules.py's `RULE_CASES` (one source of cases: a
function per registered rule, with its arguments), in these *variants*:

- ``f64``: the case's own arguments;
- ``f32``: its float arguments in float32 (arrays, and NumPy float32 scalars);
- ``int64``: its Python int arguments as np.int64 (for cases that have one);

each in three *layouts*: ``args`` (as written), ``tuple`` and ``dict`` (the
same function taking its float arguments packed in a tuple or a dict and
unpacking them inside). The *kinds*: grad, value_and_grad, jvp, vjp, jacfwd,
jacrev, hessian, and ``vmap:K`` of each (and of the function itself) over a
batch of 3 points, mapped on axis 0 of the differentiated arguments. The
*targets*: python, cpu, parallel, and cuda (vmap kinds only, in Numba's CUDA
simulator, where a located "a CUDA kernel cannot" refusal is the contract, as
in tests/test_cuda.py).

References, never s2sjax's other mode:

- first derivatives: float64 central finite differences of the function
  (tests/fd.py), at the case's point (float32 points converted to float64);
- second derivatives (hessian): finite differences of `s2sjax.grad` on
  target python (itself checked against finite differences by the grad row);
- values: NumPy, calling the function;
- vmap:K: an explicit loop of the unbatched K on target python, same layout
  and variant (checked against finite differences by the unbatched row);
- domain edges (`EDGE_CASES`: sqrt at 0, arcsin at 1, log at 0, ties, ...):
  NumPy's semantics. The value is NumPy's; the derivative on target python is
  the case's NumPy-evaluated expectation (inf, nan, -inf, or a subgradient at
  a tie); every compiled target must give what target python gives, inf/nan
  included, and none may raise.

Dtypes follow JAX: a derivative with respect to a float32 argument is
float32 (grad, value_and_grad, vjp, jacrev, hessian), a tangent has its
output's dtype (jvp, jacfwd); the value has NumPy's dtype.

A rule whose record says a derivative is not available (a forward-only
runtime helper under a reverse-mode kind, a parameter in `unsupported`) must
be refused with a `TransformError` located in the user's file
(`EXPECTED_REFUSALS`, checked against the records).

What runs:

- the CI slice (`test_sweep`, no marker): on target python every case under
  every direct kind (the layout rotating with the case) and every edge case
  under every kind; a deterministic sample (by a hash of the row id) of the
  vmap kinds, variants and layouts on python, and of the rows on cpu,
  parallel and cuda. About 2,200 rows: a minute of CPU on python, two or
  three on the compiled targets (Numba compiles each row's function).
- the full sweep (`test_sweep_full`, marker ``sweep``, deselected by
  default): on python every (case, variant, layout, kind); on cuda every
  (case, vmap kind); on cpu or parallel every (case, kind) once (see
  `full_rows`), about 27,000 rows:
  ``python -m pytest tests/test_sweep.py -m sweep -n 0``
  (``S2SJAX_SWEEP_SHARD=i/n`` runs one n-th of it, for processes side by
  side; ``S2SJAX_SWEEP_COMPLETE=1`` every row on every compiled target).

Rows in `KNOWN_FAILURES` (failures found by the full sweep, not fixed yet,
each with its class, reason and a reproduction) are kept out of the CI slice,
by name; a row whose only known failures are dtypes stays in the slice with
its dtypes unchecked. The full sweep runs them all and names the entry in a
failure's message. ``S2SJAX_SWEEP_LOG=path`` appends one JSON line per row
(id, outcome, class, message) for reports.

A transformed function is made once per (case, variant, layout, kind,
target) and process (`_memo`): a vmap row's reference loop reuses the python
row's function. A compiled row's functions are let go after the row
(`forget_compiled`): thousands of Numba dispatchers would fill the memory.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
import pytest
from numba.core.errors import NumbaPerformanceWarning

import s2sjax
from s2sjax import rules
from s2sjax.backend import compile as compile_backend
from tests import fd
from tests.test_rules import RULE_CASES, SETUP
from tests.util import define

SWEEP_SETUP = SETUP + "import s2sjax\n"
# Numba notes that parallel=True found nothing to parallelize in code without a batch loop: not a
# finding.
pytestmark = pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaPerformanceWarning")
DIRECT_KINDS = ("grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "hessian")
VMAP_KINDS = ("vmap:primal",) + tuple(f"vmap:{k}" for k in DIRECT_KINDS)
KINDS = DIRECT_KINDS + VMAP_KINDS
REVERSE_KINDS = ("grad", "value_and_grad", "vjp", "jacrev", "hessian")  # need the rules' adjoints
LAYOUTS = ("args", "tuple", "dict")
TARGETS = ("python", "cpu", "parallel", "cuda")
BATCH = 3

# (rtol, atol) against finite differences; second derivatives are finite differences of a gradient.
FD_TOL = {"float64": (1e-7, 1e-9), "float32": (1e-4, 1e-5)}
FD2_TOL = {"float64": (1e-6, 1e-8), "float32": (1e-3, 1e-4)}
# Two computations of the same quantity (vmap vs a loop, cpu vs python): summation order and libm
# may differ.
SAME_TOL = {"float64": (1e-10, 1e-12), "float32": (2e-5, 1e-6)}


# ---------------------------------------------------------------------------
# Cases


@dataclass(frozen=True)
class Subgradient:
    """At a kink or tie: each element in [lo, hi], and (if given) the elements sum to `total`."""

    lo: object
    hi: object
    total: float | None = None


@dataclass(frozen=True)
class SweepCase:
    id: str  # "np.sin-0", "edge:np.sqrt-1"
    rule: str
    source: str
    args: tuple
    edge: bool = False
    expected_grads: tuple | None = None  # edge cases: NumPy's derivative per float argument

    @property
    def float_positions(self):
        return tuple(i for i, a in enumerate(self.args) if np.asarray(a).dtype.kind == "f")

    @property
    def has_int(self):
        return any(np.asarray(a).dtype.kind in "iu" for a in self.args)

    @property
    def has_array(self):
        return any(isinstance(a, np.ndarray) for a in self.args)


CASES = [
    SweepCase(f"{name}-{i}", name, src, args)
    for name, entries in sorted(RULE_CASES.items())
    for i, (src, args) in enumerate(entries)
]

# Domain edges and ties: NumPy's semantics are the reference (see the module docstring).
# (rule, source, arguments, expected derivative per float argument, NumPy-evaluated; None: compare
# targets only)
_EDGES = [
    ("np.sqrt", "def f(x):\n    return np.sqrt(x)\n", (0.0,), (np.inf,)),
    (
        "np.sqrt",
        "def f(x):\n    return np.sum(np.sqrt(x))\n",
        (np.array([0.0, 1.0, 4.0]),),
        (np.array([np.inf, 0.5, 0.25]),),
    ),
    ("math.sqrt", "def f(x):\n    return math.sqrt(x)\n", (0.0,), (np.inf,)),
    ("**", "def f(x):\n    return x ** 0.5\n", (0.0,), (np.inf,)),
    (
        "**",
        "def f(x):\n    return np.sum(x ** 0.5)\n",
        (np.array([0.0, 1.0, 4.0]),),
        (np.array([np.inf, 0.5, 0.25]),),
    ),
    (
        "**",
        "def f(x):\n    return np.sum(x ** -1)\n",
        (np.array([0.0, 1.0, 2.0]),),
        (np.array([-np.inf, -1.0, -0.25]),),
    ),
    (
        "/",
        "def f(x):\n    return np.sum(1.0 / x)\n",
        (np.array([0.0, 1.0, 2.0]),),
        (np.array([-np.inf, -1.0, -0.25]),),
    ),
    ("np.arcsin", "def f(x):\n    return np.arcsin(x)\n", (1.0,), (np.inf,)),
    (
        "np.arcsin",
        "def f(x):\n    return np.sum(np.arcsin(x))\n",
        (np.array([-1.0, 0.0, 1.0]),),
        (np.array([np.inf, 1.0, np.inf]),),
    ),
    ("np.arccos", "def f(x):\n    return np.arccos(x)\n", (-1.0,), (-np.inf,)),
    (
        "np.arccos",
        "def f(x):\n    return np.sum(np.arccos(x))\n",
        (np.array([-1.0, 0.0, 1.0]),),
        (np.array([-np.inf, -1.0, -np.inf]),),
    ),
    ("math.asin", "def f(x):\n    return math.asin(x)\n", (1.0,), (np.inf,)),
    ("math.acos", "def f(x):\n    return math.acos(x)\n", (-1.0,), (-np.inf,)),
    (
        "np.arctanh",
        "def f(x):\n    return np.sum(np.arctanh(x))\n",
        (np.array([-1.0, 0.0, 1.0]),),
        (np.array([np.inf, 1.0, np.inf]),),
    ),
    ("np.arccosh", "def f(x):\n    return np.arccosh(x)\n", (1.0,), (np.inf,)),
    ("np.log", "def f(x):\n    return np.log(x)\n", (0.0,), (np.inf,)),
    (
        "np.log",
        "def f(x):\n    return np.sum(np.log(x))\n",
        (np.array([0.0, 1.0, 2.0]),),
        (np.array([np.inf, 1.0, 0.5]),),
    ),
    (
        "np.log",
        "def f(x):\n    return np.log(x)\n",
        (-1.0,),
        (-1.0,),
    ),  # nan value, finite derivative
    ("np.log1p", "def f(x):\n    return np.log1p(x)\n", (-1.0,), (np.inf,)),
    (
        "np.log2",
        "def f(x):\n    return np.sum(np.log2(x))\n",
        (np.array([0.0, 2.0]),),
        (np.array([np.inf, 0.5 / np.log(2.0)]),),
    ),
    (
        "np.cbrt",
        "def f(x):\n    return np.sum(np.cbrt(x))\n",
        (np.array([0.0, 8.0]),),
        (np.array([np.inf, 1.0 / 12.0]),),
    ),
    (
        "np.exp",
        "def f(x):\n    return np.sum(np.exp(x))\n",
        (np.array([1000.0, 0.0]),),
        (np.array([np.inf, 1.0]),),
    ),
    (
        "np.power",
        "def f(a, b):\n    return np.sum(np.power(a, b))\n",
        (np.array([0.0, 1.0]), np.array([2.0, 2.0])),
        (np.array([0.0, 2.0]), np.array([0.0, 0.0])),
    ),  # d/db at a=0: 0, as JAX (log(0) * 0 ** b)
    ("np.hypot", "def f(a, b):\n    return np.hypot(a, b)\n", (0.0, 0.0), (np.nan, np.nan)),
    ("np.arctan2", "def f(a, b):\n    return np.arctan2(a, b)\n", (0.0, 0.0), (np.nan, np.nan)),
    (
        "np.prod",
        "def f(x):\n    return np.prod(x)\n",
        (np.array([0.0, 2.0, 3.0]),),
        (np.array([6.0, 0.0, 0.0]),),
    ),
    (
        "np.prod",
        "def f(x):\n    return np.prod(x)\n",
        (np.array([0.0, 0.0, 3.0]),),
        (np.array([0.0, 0.0, 0.0]),),
    ),
    ("abs", "def f(x):\n    return abs(x)\n", (0.0,), (Subgradient(-1.0, 1.0),)),
    (
        "np.absolute",
        "def f(x):\n    return np.sum(np.abs(x))\n",
        (np.array([0.0, -2.0]),),
        (Subgradient(np.array([-1.0, -1.0]), np.array([1.0, -1.0])),),
    ),
    (
        "np.maximum",
        "def f(a, b):\n    return np.sum(np.maximum(a, b))\n",
        (np.array([1.0, 2.0]), np.array([1.0, 0.0])),
        (
            Subgradient(np.array([0.0, 1.0]), np.array([1.0, 1.0])),
            Subgradient(np.array([0.0, 0.0]), np.array([1.0, 0.0])),
        ),
    ),
    (
        "max",
        "def f(a, b):\n    return max(a, b)\n",
        (1.5, 1.5),
        (Subgradient(0.0, 1.0), Subgradient(0.0, 1.0)),
    ),
    (
        "np.max",
        "def f(x):\n    return np.max(x)\n",
        (np.array([1.0, 3.0, 3.0]),),
        (Subgradient(np.zeros(3), np.array([0.0, 1.0, 1.0]), 1.0),),
    ),
    (
        "np.clip",
        "def f(x):\n    return np.sum(np.clip(x, -1.0, 1.0))\n",
        (np.array([-1.0, 0.0, 1.0]),),
        (Subgradient(np.array([0.0, 1.0, 0.0]), np.array([1.0, 1.0, 1.0])),),
    ),
    (
        "np.sign",
        "def f(x):\n    return np.sum(np.sign(x) * x)\n",
        (np.array([0.0, -2.0]),),
        (np.array([0.0, -1.0]),),
    ),
    # far from 0, where log(exp(a) + exp(b)) would overflow: the derivative stays exp(a - out)
    ("np.logaddexp", "def f(a, b):\n    return np.logaddexp(a, b)\n", (1000.0, 1000.0), (0.5, 0.5)),
    # reduce2 family: np.cumprod's derivatives at a zero, computed without dividing by it
    (
        "np.cumprod",
        "def f(x):\n    return np.sum(np.cumprod(x))\n",
        (np.array([2.0, 0.0, 3.0]),),
        (np.array([1.0, 8.0, 0.0]),),
    ),
]
EDGE_CASES = [
    SweepCase(f"edge:{rule}-{i}", rule, src, args, edge=True, expected_grads=exp)
    for i, (rule, src, args, exp) in enumerate(_EDGES)
]
ALL_CASES = CASES + EDGE_CASES
_BY_ID = {c.id: c for c in ALL_CASES}


# Rules whose case has no float32 variant: the function itself does not run on NumPy float32
# scalars.
NO_FLOAT32 = {"math.trunc": "math.trunc(np.float32(1.3)) raises TypeError in Python itself"}


def variants_of(case):
    """The variants a case runs in.

    f64 always; int64 if it has an int argument; f32 (not for edges).
    """
    out = ["f64"]
    if case.has_int:
        out.append("int64")
    if not case.edge and case.rule not in NO_FLOAT32:
        out.append("f32")
    return out


def _convert(value, variant):
    if variant == "f32" and isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value.astype(np.float32)
    if variant == "f32" and type(value) is float:
        return np.float32(value)
    if variant == "int64" and type(value) is int:
        return np.int64(value)
    return value


def case_args(case, variant):
    return tuple(_convert(a, variant) for a in case.args)


def points(case, variant):
    """BATCH points for vmap.

    The case's own, then its float arguments moved by an increasing affine map
    (order-preserving, so no new ties); an edge case repeats its own point.
    """
    base = case_args(case, variant)
    # moved, an edge point leaves the domain, where Python's math raises in the user's function
    if case.edge:
        return [base] * BATCH
    out = [base]
    for k in range(1, BATCH):
        step = k
        moved = []
        for i, a in enumerate(base):
            if i in case.float_positions:
                scaled = np.asarray(a) * (1.0 + 0.01 * step) + 0.003 * step
                a = (
                    scaled.astype(np.asarray(a).dtype)
                    if isinstance(a, np.ndarray)
                    else type(a)(scaled)
                )
            moved.append(a)
        out.append(tuple(moved))
    return out


# ---------------------------------------------------------------------------
# Layouts: the same function with its float arguments packed in a tuple or a dict


def _param_names(source):
    return [a.arg for a in ast.parse(source).body[0].args.args]


def layout_source(case, layout):
    if layout == "args":
        return case.source
    tree = ast.parse(case.source)
    fdef = tree.body[0]
    names = _param_names(case.source)
    floats = [names[i] for i in case.float_positions]
    others = [n for i, n in enumerate(names) if i not in case.float_positions]
    fdef.args.args = [ast.arg("packed")] + [ast.arg(n) for n in others]
    if layout == "tuple":
        unpack = f"{floats[0]} = packed[0]" if len(floats) == 1 else f"{', '.join(floats)} = packed"
    else:
        unpack = "\n".join(f"{n} = packed[{n!r}]" for n in floats)
    fdef.body = ast.parse(unpack).body + fdef.body
    return ast.unparse(tree) + "\n"


def call_args(case, layout, args):
    """The arguments of the layout's function for the case's arguments `args`."""
    if layout == "args":
        return tuple(args)
    names = _param_names(case.source)
    floats = [args[i] for i in case.float_positions]
    others = tuple(a for i, a in enumerate(args) if i not in case.float_positions)
    packed = (
        tuple(floats) if layout == "tuple" else {names[i]: args[i] for i in case.float_positions}
    )
    return (packed,) + others


def argnums(case, layout):
    """A container is argument 0; a single float argument is an int argnums (one derivative, not a
    tuple of one); several, a tuple."""
    if layout != "args":
        return 0
    return (
        case.float_positions[0] if len(case.float_positions) == 1 else tuple(case.float_positions)
    )


def leaves(result, case, layout, what):
    """A derivative per float argument, in order, from `result`.

    `result` is a tuple per argnum, or the container.
    """
    n = len(case.float_positions)
    if layout == "args" and n == 1:  # int argnums: the derivative itself
        return (result,)
    if layout == "dict":
        names = [_param_names(case.source)[i] for i in case.float_positions]
        if not isinstance(result, dict) or list(result) != names:
            raise SweepFailure(
                "wrong structure",
                f"{what}: expected a dict with keys {names}, got {_describe(result)}",
            )
        return tuple(result[k] for k in names)
    if not isinstance(result, tuple) or len(result) != n:
        raise SweepFailure(
            "wrong structure", f"{what}: expected a tuple of {n}, got {_describe(result)}"
        )
    return result


def _describe(value):
    if isinstance(value, dict):
        return f"dict with keys {list(value)}"
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__} of {len(value)}"
    return f"{type(value).__name__} of shape {np.shape(value)}"


# ---------------------------------------------------------------------------
# Rows


@dataclass(frozen=True)
class Row:
    case: str
    variant: str
    layout: str
    kind: str
    target: str

    @property
    def id(self):
        return f"{self.case}:{self.variant}:{self.layout}:{self.kind}:{self.target}"


def _crc(text):
    return zlib.crc32(text.encode())


COMPLETE = os.environ.get("S2SJAX_SWEEP_COMPLETE") == "1"
_RULE_SIZE = {}  # rule -> its number of cases; case id -> its index among them
_RULE_TURN = {}
for _case in CASES:
    _RULE_TURN[_case.id] = _RULE_SIZE.get(_case.rule, 0)
    _RULE_SIZE[_case.rule] = _RULE_TURN[_case.id] + 1
HESSIAN_KINDS = ("hessian", "vmap:hessian")


def full_rows(complete=COMPLETE):
    """Every row of the full sweep.

    - python: every (case, variant, layout, kind);
    - cuda (the simulator, no compilation): every (case, vmap kind), in one (variant, layout);
    - cpu and parallel: every (case, kind) on one of them, alternating (on both for the few cases
      with an int argument; on cpu for a direct kind of a case without arrays, where parallel=True
      finds nothing to parallelize), in one (variant, layout); the hessians, whose compilation
      takes 10-60 s, for one case of each rule (and every edge case), on cpu.

    The (variant, layout) of a compiled row rotates with the case, the kind and the target, so that
    every variant and layout is compiled under every kind (a case with an int argument: int64
    always; its Python int is compiled by tests/test_rules.py). A Numba compilation takes 2-60 s
    here: the complete product on every compiled target (``S2SJAX_SWEEP_COMPLETE=1``: every (case,
    variant, layout, kind) on cpu, parallel and cuda) takes about a day on two cores.
    """
    rows = []
    for c_index, case in enumerate(ALL_CASES):
        variants = variants_of(case)
        layouts = ("args",) if case.edge else LAYOUTS
        combos = [(v, lay) for v in variants for lay in layouts]
        for k_index, kind in enumerate(KINDS):
            for variant, layout in combos:
                rows.append(Row(case.id, variant, layout, kind, "python"))
            if kind in HESSIAN_KINDS:  # one case of each rule (they take turns), on cpu
                compiled = (
                    ["cpu"]
                    if case.edge or _RULE_TURN[case.id] == k_index % _RULE_SIZE[case.rule]
                    else []
                )
            elif case.has_int:  # few: on both
                compiled = ["cpu", "parallel"]
            # no loop for parallel=True to parallelize
            elif not kind.startswith("vmap:") and not case.has_array:
                compiled = ["cpu"]
            else:
                compiled = [("cpu", "parallel")[(c_index + k_index) % 2]]
            if kind.startswith("vmap:"):
                compiled.append("cuda")
            for target in (
                compiled
                if not complete
                else [t for t in TARGETS[1:] if t != "cuda" or "vmap:" in kind]
            ):
                if complete:
                    rows.extend(Row(case.id, v, lay, kind, target) for v, lay in combos)
                    continue
                variant, layout = combos[(c_index + k_index + TARGETS.index(target)) % len(combos)]
                if case.has_int:  # compiled, a case with an int argument takes it as np.int64
                    variant = "int64"
                rows.append(Row(case.id, variant, layout, kind, target))
    return rows


@dataclass(frozen=True)
class Known:
    """A failure the full sweep found, not fixed yet: its class, why, and the rows it covers.

    Each field is a tuple of accepted values, empty for any; `cases`: fnmatch patterns over case
    ids; `floats`: "several" or "one", only for cases with several float arguments or with one;
    "tuple", only where the derivative comes back as a tuple or a container: several float
    arguments, or a container layout.
    """

    klass: str
    reason: str
    repro: str
    kinds: tuple = ()
    variants: tuple = ()
    layouts: tuple = ()
    targets: tuple = ()
    cases: tuple = ("*",)
    floats: str = ""

    def covers(self, row):
        case = _BY_ID[row.case]
        return (
            (not self.kinds or row.kind in self.kinds)
            and (not self.variants or row.variant in self.variants)
            and (not self.layouts or row.layout in self.layouts)
            and (not self.targets or row.target in self.targets)
            and any(fnmatch.fnmatchcase(row.case, p) for p in self.cases)
            and self._floats_match(row, len(case.float_positions))
        )

    def _floats_match(self, row, n):
        if self.floats == "several":
            return n > 1
        if self.floats == "one":
            return n == 1
        if self.floats == "tuple":
            return n > 1 or row.layout != "args"
        return True


# Failures the full sweep found that are not fixed yet, by name. Kept out of the CI slice (the full
# sweep runs them, and names the entry in its failure message); a row whose only known failures are
# "wrong dtype" stays in the slice with its dtypes unchecked. Remove an entry when its rows pass.
# Cases whose float32 tangent a runtime helper widens to float64 (rt.max_weight, rt.prod_adjoint,
# linspace's): a jvp called directly returns it in its output's dtype, one inlined into a vmap not.
_FLOAT32_TANGENT_CASES = (
    "max-0",
    "min-0",
    "np.linspace-1",
    "np.max-0",
    "np.min-0",
    "np.prod-0",
    "np.prod-4",
)
KNOWN_FAILURES: dict[str, Known] = {
    "isinstance-float-in-a-vmapped-pullback": Known(
        "refusal",
        "the pullback of s2sjax.vjp called inside a vmapped function, of a function testing "
        "isinstance(b, float): where the pullback's code is specialized from types, a float's "
        "width (np.float32 is not a float) and a tuple or dict leaf's class are not known (a "
        "located refusal at the isinstance; it was decided True, wrong for float32)",
        "def f(a, b):\n    return np.sum(a) * (2.0 if isinstance(b, float) else 1.0)\n"
        "def pull(a, b, ct):\n    return s2sjax.vjp(f, a, b)[1](ct)\n"
        "s2sjax.vmap(pull)(np.ones((2, 3)), np.ones(2), np.ones(2))",
        kinds=("vmap:vjp",),
        variants=("f64", "f32"),
        cases=("list-0",),
    ),
    "vmap-of-a-float32-pullback-is-float64": Known(
        "wrong dtype",
        "a pullback of float32 primals called inside a vmapped function returns float64 "
        "cotangents (s2sjax.vjp called directly returns float32)",
        "def pull(x, ct):\n    return s2sjax.vjp(np.sin, x)[1](ct)\n"
        "s2sjax.vmap(pull)(np.ones((2, 3), np.float32), np.ones((2, 3), np.float32))[0].dtype",
        kinds=("vmap:vjp",),
        variants=("f32",),
    ),
    "max-of-scalars-under-vmap-of-hessian-falls-back": Known(
        "numba fallback",
        "vmap(hessian(f)) of `max(a, b)` at a tie: Numba cannot type the generated code, which "
        "runs as Python with a NumbaFallbackWarning",
        "s2sjax.vmap(s2sjax.hessian(lambda a, b: max(a, b), argnums=(0, 1)), target='cpu')"
        "(np.ones(3), np.ones(3))",
        kinds=("vmap:hessian",),
        targets=("cpu", "parallel"),
        cases=("edge:max-*",),
    ),
    "np-gradient-without-axis-of-a-container-leaf": Known(
        "refusal",
        "np.gradient without axis= of an array taken out of a tuple or dict argument is refused "
        "(its rank, which sets how many arrays come back, is known at normalize only for the "
        "function's own parameters): the message says to write axis=",
        "def f(p):\n    x, h = p\n    a, b = np.gradient(x, h)\n    return np.sum(a * b)\n"
        "s2sjax.grad(f)((np.ones((3, 4)), 0.5))  # TransformError: write axis=(0, 1, ...)",
        layouts=("tuple", "dict"),
        cases=("np.gradient-0",),
    ),
    "vmap-of-a-float32-gradient-is-float64": Known(
        "wrong dtype",
        "vmap(grad(f)) and vmap(value_and_grad(f)) of float32 arguments return float64 gradients "
        "(grad(f) alone returns float32)",
        "x = np.ones((3, 2), np.float32)\n"
        "s2sjax.vmap(s2sjax.grad(lambda v: np.sum(np.sin(v))))(x).dtype  # float64",
        kinds=("vmap:grad", "vmap:value_and_grad"),
        variants=("f32",),
    ),
    "float32-tangents-become-float64": Known(
        "wrong dtype",
        "under vmap, a jvp's float32 tangent becomes float64 where a runtime helper computes it "
        "in float64 (s2sjax.jvp called directly gives it its output's dtype; the jvp inlined "
        "into the batched code does not)",
        "def f(v):\n    return np.max(v)\n"
        "def push(x, t):\n    return s2sjax.jvp(f, (x,), (t,))\n"
        "s2sjax.vmap(push, target='python')(np.ones((3, 2), np.float32), "
        "np.ones((3, 2), np.float32))[1].dtype  # float64",
        kinds=("vmap:jvp",),
        variants=("f32",),
        cases=_FLOAT32_TANGENT_CASES,
    ),
    "np-array-of-float32-is-float64": Known(
        "wrong dtype",
        "np.array([x, x * x]) of float32 arrays is float64 in generated code (NumPy: float32)",
        "def f(x):\n    return np.sum(np.array([x, x * x]) * np.array(x))\n"
        "s2sjax.value_and_grad(f)(np.ones(3, np.float32))[0].dtype  # float64",
        variants=("f32",),
        cases=("np.array-1",),
    ),
    "compiled-float32-results-are-float64": Known(
        "wrong dtype",
        "on cpu and parallel a float32 scalar result (a value, a gradient of a float32 scalar, a "
        "jvp's tangent) comes back as a Python float, "
        "and batched float32 results as float64 arrays",
        "s2sjax.value_and_grad(lambda x: np.sum(x) * 2.0, target='cpu')"
        "(np.ones(3, np.float32))[0]  # a Python float (NumPy: np.float32)",
        variants=("f32",),
        targets=("cpu", "parallel"),
    ),
    "float32-matmul-against-float64-falls-back": Known(
        "numba fallback",
        "generated code multiplies a float32 array by a float64 one with @ / np.dot (a float64 "
        "constant such as np.eye(3), or a float64 tangent basis): Numba's @ requires one dtype, "
        "so the code falls back to Python with a NumbaFallbackWarning",
        "s2sjax.vmap(s2sjax.value_and_grad(lambda a: np.sum(a @ np.eye(3))), target='parallel')"
        "(np.ones((2, 3), np.float32))  "
        "# NumbaFallbackWarning: '@' arguments must all have the same dtype",
        variants=("f32",),
        targets=("cpu", "parallel"),
        cases=("@-*", "np.dot-*", "np.matmul-*", "np.eye-*", "rt.matmul-*", "np.outer-*"),
    ),
    "cuda-simulator-raises-at-domain-edges": Known(
        "internal crash",
        "Numba's CUDA simulator runs device functions with Python floats and math: at a domain "
        "edge 0.5 / math.sqrt(0.0) raises ZeroDivisionError and math.log(0.0) ValueError "
        "(a GPU gives inf; not run on one here)",
        "s2sjax.vmap(s2sjax.grad(lambda x: np.sqrt(x)), target='cuda')(np.zeros(3))  "
        "# ZeroDivisionError",
        targets=("cuda",),
        cases=("edge:*",),
    ),
}


def known_failures(row):
    """The names of the KNOWN_FAILURES entries covering `row`."""
    return [name for name, known in KNOWN_FAILURES.items() if known.covers(row)]


def known_failure(row):
    """The name of the first KNOWN_FAILURES entry covering `row`, or None."""
    return next(iter(known_failures(row)), None)


def _in_ci_as(row):
    """None if the CI slice leaves `row` out (a known failure), else whether it checks dtypes there:
    a row whose only known failures are dtypes still checks its numbers in CI."""
    names = known_failures(row)
    if any(KNOWN_FAILURES[n].klass != "wrong dtype" for n in names):
        return None
    return not names


def _in_ci(row, c_index):
    """The CI slice: cheap on python, a deterministic sample (by a hash of the row id) elsewhere."""
    case = _BY_ID[row.case]
    if row.target == "python":
        if case.edge:
            return True
        # every case under every direct kind, the layout rotating with the case
        if row.kind in DIRECT_KINDS:
            return row.variant == "f64" and row.layout == LAYOUTS[c_index % 3]
        # vmap kinds, other variants and layouts: a sample
        return _crc(row.id) % 32 == 0
    if row.target == "cuda":
        return _crc(row.id) % 100 == 0
    if case.edge:
        return row.kind in ("grad", "value_and_grad", "vmap:primal") and row.target == "cpu"
    vmapped = row.kind.startswith("vmap:")
    if vmapped and case.rule.startswith("np.linalg."):
        return False  # a minute of compiling each: the full sweep has them
    # parallel=True compiles several times slower than cpu, a vmap's code is larger: sparser
    every = 150 if row.target == "parallel" or vmapped else 120
    return _crc(row.id) % every == 0 and not row.kind.endswith("hessian")


_C_INDEX = {c.id: i for i, c in enumerate(ALL_CASES)}
FULL = full_rows()
# S2SJAX_SWEEP_SHARD=i/n: the full sweep's rows whose id hashes to i modulo n (processes side by
# side).
_SHARD = os.environ.get("S2SJAX_SWEEP_SHARD")
FULL_HERE = (
    FULL
    if not _SHARD
    else [r for r in FULL if _crc(r.id) % int(_SHARD.split("/")[1]) == int(_SHARD.split("/")[0])]
)
CI = [(r, _in_ci_as(r)) for r in FULL if _in_ci(r, _C_INDEX[r.case]) and _in_ci_as(r) is not None]


# ---------------------------------------------------------------------------
# Running a row


class SweepFailure(AssertionError):
    def __init__(self, klass, message):
        super().__init__(f"[{klass}] {message}")
        self.klass = klass


_MEMO: dict = {}


def _memo(key, compute):
    if key not in _MEMO:
        try:
            _MEMO[key] = (True, compute())
        except BaseException as exc:  # remembered: a broken transformation is attempted once
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            _MEMO[key] = (False, exc)
    ok, value = _MEMO[key]
    if not ok:
        raise value
    return value


def function(case, layout):
    def compute():
        return define(layout_source(case, layout), namespace_setup=SWEEP_SETUP)

    return _memo(("function", case.id, layout), compute)


def _wrapper(case, layout, kind):
    """vmap:jvp and vmap:vjp map a function calling s2sjax.jvp / s2sjax.vjp, as a user writes it."""

    def compute():
        fun = function(case, layout)
        n = len(_param_names(layout_source(case, layout)))
        xs = [f"x{i}" for i in range(n)]
        differentiated = [0] if layout != "args" else list(case.float_positions)
        if kind == "vmap:jvp":
            ts = [f"t{i}" if i in differentiated else "0.0" for i in range(n)]
            params = xs + [f"t{i}" for i in differentiated]
            body = (
                f"    return s2sjax.jvp(fun, ({''.join(x + ', ' for x in xs)}), "
                f"({''.join(t + ', ' for t in ts)}))\n"
            )
        else:
            params = xs + ["ct"]
            body = f"    return s2sjax.vjp(fun, {', '.join(xs)})[1](ct)\n"
        wrapper = define(f"def wrapper({', '.join(params)}):\n{body}", namespace_setup=SWEEP_SETUP)
        wrapper.__globals__["fun"] = fun
        return wrapper

    return _memo(("wrapper", case.id, layout, kind), compute)


def _direction(case, variant, k=0):
    """A tangent per float argument (the case's dtype), drawn from a generator the case seeds."""
    rng = np.random.default_rng(_crc(f"{case.id}:{k}"))
    out = []
    for i in case.float_positions:
        a = case_args(case, variant)[i]
        d = rng.uniform(-1.0, 1.0, np.shape(a))
        out.append(d.astype(a.dtype) if isinstance(a, np.ndarray) else type(a)(d))
    return tuple(out)


def _cotangent(value):
    return np.float32(0.75) if np.asarray(value).dtype == np.float32 else 0.75


def _tangents(case, layout, directions):
    """The tangent argument of jvp for the layout (0.0 for arguments that are not floats)."""
    n_other = len(case.args) - len(case.float_positions)
    if layout == "args":
        it = iter(directions)
        return tuple(next(it) if i in case.float_positions else 0.0 for i in range(len(case.args)))
    names = _param_names(case.source)
    packed = (
        tuple(directions)
        if layout == "tuple"
        else {names[i]: d for i, d in zip(case.float_positions, directions)}
    )
    return (packed,) + (0.0,) * n_other


def transformed(case, variant, layout, kind, target):
    """The transformed function for a row (made once per process; see `forget_compiled`)."""

    def compute():
        fun = function(case, layout)
        nums = argnums(case, layout)
        if kind.startswith("vmap:"):
            base = kind[5:]
            inner_target = "cpu" if target == "cuda" else target
            if base == "primal":
                inner = fun
            elif base in ("jvp", "vjp"):
                inner = _wrapper(case, layout, kind)
            else:
                inner = getattr(s2sjax, base)(fun, argnums=nums, target=inner_target)
            return s2sjax.vmap(inner, in_axes=_in_axes(case, layout, base), target=target)
        if kind in ("jvp", "vjp"):
            return fun
        return getattr(s2sjax, kind)(fun, argnums=nums, target=target)

    return _memo(("transformed", case.id, variant, layout, kind, target), compute)


def _in_axes(case, layout, base):
    n = len(case.args)
    if layout == "args":
        axes = tuple(0 if i in case.float_positions else None for i in range(n))
        n_diff = len(case.float_positions)
    else:
        axes = (0,) + (None,) * (n - len(case.float_positions))
        n_diff = 1
    if base == "jvp":
        return axes + (0,) * n_diff
    if base == "vjp":
        return axes + (0,)
    return axes


def run_direct(case, variant, layout, kind, target, args, k=0):
    """A direct kind at `args` (the case's arguments): a dict of named results.

    Derivatives as a tuple per float argument (hessian: a tuple of tuples), whatever the layout.
    """
    t = transformed(case, variant, layout, kind, target)
    cargs = call_args(case, layout, args)
    with np.errstate(all="ignore"):
        if kind == "grad":
            return {"grad": leaves(t(*cargs), case, layout, "grad")}
        if kind == "value_and_grad":
            value, g = t(*cargs)
            return {"value": value, "grad": leaves(g, case, layout, "value_and_grad's gradient")}
        if kind in ("jacfwd", "jacrev"):
            return {"jac": leaves(t(*cargs), case, layout, kind)}
        if kind == "hessian":
            h = leaves(t(*cargs), case, layout, "hessian")
            return {"hess": tuple(leaves(row, case, layout, "hessian row") for row in h)}
        if kind == "jvp":
            directions = _direction(case, variant, k)
            out, tangent = s2sjax.jvp(t, cargs, _tangents(case, layout, directions), target=target)
            return {"value": out, "tangent": tangent}
        if kind == "vjp":
            out, pullback = s2sjax.vjp(t, *cargs, target=target)
            cts = pullback(_cotangent(out))
            if not isinstance(cts, tuple) or len(cts) != len(cargs):
                raise SweepFailure(
                    "wrong structure",
                    f"vjp's pullback returned {_describe(cts)} for {len(cargs)} primals",
                )
            got = (
                tuple(cts[i] for i in case.float_positions)
                if layout == "args"
                else leaves(cts[0], case, layout, "vjp")
            )
            return {"value": out, "cotangent": got}
    raise ValueError(kind)


def _stack_results(results):
    """Per-point result dicts -> one dict of stacked leaves."""

    def stack(items):
        if isinstance(items[0], tuple):
            return tuple(stack([it[j] for it in items]) for j in range(len(items[0])))
        return np.stack([np.asarray(it) for it in items])

    return {key: stack([r[key] for r in results]) for key in results[0]}


def _batched_args(case, layout, pts):
    """The vmap arguments.

    The float arguments of the points stacked on axis 0, the others from point 0.
    """
    stacked = []
    for i, a in enumerate(pts[0]):
        stacked.append(
            np.stack([np.asarray(p[i]) for p in pts]) if i in case.float_positions else a
        )
    return call_args(case, layout, tuple(stacked))


def _stacked_directions(case, variant):
    per_point = [_direction(case, variant, k) for k in range(BATCH)]
    return tuple(
        np.stack([np.asarray(d[j]) for d in per_point]) for j in range(len(case.float_positions))
    )


def run_vmap(case, variant, layout, kind, target):
    """A vmap kind over the case's BATCH points: the named results the loop gives, stacked."""
    base = kind[5:]
    pts = points(case, variant)
    t = transformed(case, variant, layout, kind, target)
    bargs = _batched_args(case, layout, pts)
    with np.errstate(all="ignore"):
        if base == "primal":
            return {"value": t(*bargs)}
        if base == "jvp":
            dirs = _stacked_directions(case, variant)
            if layout == "args":
                extra = dirs
            elif layout == "tuple":
                extra = (dirs,)
            else:
                names = _param_names(case.source)
                extra = ({names[i]: d for i, d in zip(case.float_positions, dirs)},)
            out, tangent = t(*bargs, *extra)
            return {"value": out, "tangent": tangent}
        if base == "vjp":
            values = np.stack(
                [np.asarray(function(case, layout)(*call_args(case, layout, p))) for p in pts]
            )
            cts = np.stack([np.asarray(_cotangent(v)) for v in values])
            got = t(*bargs, cts)
            n_primals = len(call_args(case, layout, pts[0]))
            if not isinstance(got, tuple) or len(got) != n_primals:
                raise SweepFailure(
                    "wrong structure", f"vmap of a pullback returned {_describe(got)}"
                )
            got = (
                tuple(got[i] for i in case.float_positions)
                if layout == "args"
                else leaves(got[0], case, layout, "vjp")
            )
            return {"value": values, "cotangent": got}
        result = t(*bargs)
        if base == "grad":
            return {"grad": leaves(result, case, layout, "vmap of grad")}
        if base == "value_and_grad":
            return {
                "value": result[0],
                "grad": leaves(result[1], case, layout, "vmap of value_and_grad"),
            }
        if base in ("jacfwd", "jacrev"):
            return {"jac": leaves(result, case, layout, f"vmap of {base}")}
        if base == "hessian":
            h = leaves(result, case, layout, "vmap of hessian")
            return {"hess": tuple(leaves(r, case, layout, "vmap of hessian row") for r in h)}
    raise ValueError(kind)


def vmap_reference(case, variant, layout, kind):
    """The loop: the unbatched kind on target python at each point, stacked."""
    base = kind[5:]
    pts = points(case, variant)

    def compute():
        if base == "primal":
            fun = function(case, layout)
            with np.errstate(all="ignore"):
                return {
                    "value": np.stack([np.asarray(fun(*call_args(case, layout, p))) for p in pts])
                }
        return _stack_results(
            [run_direct(case, variant, layout, base, "python", p, k) for k, p in enumerate(pts)]
        )

    return _memo(("vmap reference", case.id, variant, layout, kind), compute)


# ---------------------------------------------------------------------------
# References and comparisons


def _dtype_name(args, case):
    return (
        "float32"
        if any(np.asarray(args[i]).dtype == np.float32 for i in case.float_positions)
        else "float64"
    )


def fd_reference(case, variant):
    """NumPy's value, and finite differences of it and of the python target's gradients."""
    args = case_args(case, variant)

    def compute():
        fun = function(case, "args")
        with np.errstate(all="ignore"):
            value = fun(*args)
            grads = tuple(fd.numerical_grad(fun, args, i) for i in case.float_positions)
        return {"value": value, "grad": grads}

    return _memo(("fd", case.id, variant), compute)


def fd_hessian(case, variant):
    """d grad_i / d arg_j by fourth-order central differences, in float64.

    Differences of s2sjax.grad(target="python").
    """

    def compute():
        fun = function(case, "args")
        args64 = [fd._to_float64(a) for a in case_args(case, variant)]
        rows = []
        for i in case.float_positions:
            g = s2sjax.grad(fun, argnums=i, target="python")
            row = []
            for j in case.float_positions:
                x = np.array(args64[j], dtype=np.float64)
                out = np.zeros(np.shape(args64[i]) + x.shape)
                for index in np.ndindex(x.shape):
                    x0 = float(x[index])
                    h = fd.DEFAULT_STEP[4] * max(1.0, abs(x0))
                    h = (x0 + h) - x0
                    total = 0.0
                    for mult, weight in fd._STENCILS[4]:
                        values = []
                        for sign in (1.0, -1.0):
                            point = list(args64)
                            point[j] = fd._with_value(args64[j], x, index, x0 + sign * mult * h)
                            with np.errstate(all="ignore"):
                                values.append(np.asarray(g(*point), dtype=np.float64))
                        total = total + weight * (values[0] - values[1])
                    out[(Ellipsis,) + index] = total / h
                row.append(out)
            rows.append(tuple(row))
        return tuple(rows)

    return _memo(("fd hessian", case.id, variant), compute)


def assert_close(actual, expected, rtol, atol, what):
    """Same shape; NaN where expected has NaN, same infinities; finite values within tolerance."""
    if isinstance(expected, Subgradient):
        a = np.asarray(actual, dtype=np.float64)
        ok = np.all(a >= np.asarray(expected.lo) - 1e-12) and np.all(
            a <= np.asarray(expected.hi) + 1e-12
        )
        if expected.total is not None:
            ok = ok and abs(float(np.sum(a)) - expected.total) <= 1e-12
        if not ok:
            raise SweepFailure(
                "wrong number",
                f"{what}: {a!r} is not a subgradient in [{expected.lo!r}, "
                f"{expected.hi!r}] (total {expected.total})",
            )
        return
    if isinstance(expected, tuple):
        if not isinstance(actual, tuple) or len(actual) != len(expected):
            raise SweepFailure(
                "wrong structure",
                f"{what}: expected a tuple of {len(expected)}, got {_describe(actual)}",
            )
        for k, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, rtol, atol, f"{what}[{k}]")
        return
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise SweepFailure("wrong shape", f"{what}: shape {a.shape}, expected {e.shape}")
    same_special = np.array_equal(np.isnan(a), np.isnan(e)) and np.array_equal(
        np.where(np.isinf(e), e, 0.0), np.where(np.isinf(a), a, 0.0)
    )
    finite = np.isfinite(e) & np.isfinite(a)
    err = np.abs(a - e)
    close = np.all(err[finite] <= atol + rtol * np.abs(e[finite]))
    if not (same_special and close):
        raise SweepFailure(
            "wrong number",
            f"{what}: got {np.array2string(a, precision=12)}, expected "
            f"{np.array2string(e, precision=12)}",
        )


def assert_dtype(actual, dtypes, what):
    """`actual`'s dtype is `dtypes` (one, or a set of those accepted)."""
    got = np.asarray(actual).dtype
    accepted = {np.dtype(d) for d in dtypes} if isinstance(dtypes, set) else {np.dtype(dtypes)}
    if got not in accepted:
        raise SweepFailure(
            "wrong dtype",
            f"{what}: dtype {got}, expected {' or '.join(sorted(map(str, accepted)))}",
        )


def _arg_dtype(a):
    return np.asarray(a).dtype if isinstance(a, (np.ndarray, np.floating)) else np.dtype(np.float64)


def check_dtypes(case, variant, kind, result, value_dtype, args):
    """JAX's dtypes.

    A derivative w.r.t. an argument has its dtype (grad, vjp, jacrev, hessian), a tangent its
    output's (jvp, jacfwd); the value NumPy's. Where NumPy's output is float64 from float32
    arguments (a float64 constant, or `math`'s Python floats), a float32 tangent is accepted too.
    """
    arg_dtypes = [_arg_dtype(args[i]) for i in case.float_positions]
    tangent_dtypes = {value_dtype} | (
        {np.dtype(np.float32)} if np.dtype(np.float32) in arg_dtypes else set()
    )
    if "value" in result:
        assert_dtype(result["value"], value_dtype, "value")
    for key in ("grad", "cotangent"):
        for k, (g, dt) in enumerate(zip(result.get(key, ()), arg_dtypes)):
            assert_dtype(g, dt, f"{key}[{k}]")
    if "tangent" in result:
        assert_dtype(result["tangent"], tangent_dtypes, "tangent")
    for k, (j, dt) in enumerate(zip(result.get("jac", ()), arg_dtypes)):
        assert_dtype(j, tangent_dtypes if kind == "jacfwd" else dt, f"jac[{k}]")
    for k, (row, dt) in enumerate(zip(result.get("hess", ()), arg_dtypes)):
        for m, h in enumerate(row):
            assert_dtype(h, dt, f"hess[{k}][{m}]")


def expected_direct(case, variant, kind, result_value=None):
    """The reference for a direct kind (non-edge case): NumPy's value, finite differences."""
    ref = fd_reference(case, variant)
    grads = ref["grad"]
    if kind == "grad":
        return {"grad": grads}
    if kind == "value_and_grad":
        return {"value": ref["value"], "grad": grads}
    if kind in ("jacfwd", "jacrev"):
        return {"jac": grads}
    if kind == "hessian":
        return {"hess": fd_hessian(case, variant)}
    if kind == "jvp":
        directions = _direction(case, variant)
        tangent = sum(
            float(np.sum(g * np.asarray(d, dtype=np.float64))) for g, d in zip(grads, directions)
        )
        return {"value": ref["value"], "tangent": tangent}
    if kind == "vjp":
        ct = float(_cotangent(ref["value"]))
        return {"value": ref["value"], "cotangent": tuple(ct * g for g in grads)}
    raise ValueError(kind)


def _tolerances(kind, dtype, key):
    if key == "value":
        return SAME_TOL[dtype]
    if key == "hess":
        return FD2_TOL[dtype]
    rtol, atol = FD_TOL[dtype]
    if key == "tangent":  # a sum over the elements of the directional derivative
        return rtol * 10, atol * 10
    return rtol, atol


def compare(result, expected, dtype, what, same=False):
    for key, exp in expected.items():
        if key not in result:
            raise SweepFailure("wrong structure", f"{what}: no {key!r} in the result")
        rtol, atol = SAME_TOL[dtype] if same else _tolerances(None, dtype, key)
        assert_close(result[key], exp, rtol, atol, f"{what}: {key}")


# ---------------------------------------------------------------------------
# Expected refusals: what the rule records say is not available


def _forward_only(rule):
    if rule.lower:  # written as another call (np.tensordot as np.einsum), whose adjoints those are
        return False
    # forward forms and no adjoints (a rule whose only derivatives are refused, as the loc of
    # np.random.normal, is not forward-only: its record's reason is expected instead)
    return not rule.adjoints and any(p in rule.tangents or p in rule.linear for p in rule.params)


def expected_refusal(case, kind, target):
    """The record's reason when the row must be refused with a located TransformError, else None."""
    rule = rules.by_name(case.rule)
    base = kind[5:] if kind.startswith("vmap:") else kind
    if rule is not None and _forward_only(rule) and base in REVERSE_KINDS:
        return f"{rule.name} has no reverse-mode rule"
    for pattern, kinds, reason in EXPECTED_REFUSALS:
        if fnmatch.fnmatchcase(case.id, pattern) and base in kinds:
            return reason
    return None


# (case id pattern, base kinds, the message the refusal must contain). Each is checked against the
# rule
# records by test_expected_refusals_are_in_the_records.
EXPECTED_REFUSALS: list[tuple[str, tuple, str]] = [
    ("*np.prod-*", ("hessian",), "derivatives of np.prod's derivative are not supported"),
    # reduce2 family: np.cumprod's derivatives are runtime helpers, as np.prod's
    *(
        (pattern, ("hessian",), "derivatives of np.cumprod's derivative are not supported")
        for pattern in ("*np.cumprod-*", "rt.cumprod_*")
    ),
    # draws of np.random: refused where the function runs more than once for one result
    ("np.random.*", ("vjp", "jacfwd", "jacrev", "hessian"), "a draw of np.random"),
    (
        "rt.pow_base_adjoint-*",
        ("hessian",),
        "third derivatives of a variable power x ** p are not supported",
    ),
    # ufuncs family: np.sinc's derivatives stop at the second
    ("rt.sinc_slope-*", ("hessian",), "third derivatives of np.sinc are not supported"),
    # np.linalg: the derivatives of eigh, svd (and so ord='nuc' norms) and pinv are runtime helpers
    *(
        (pattern, ("hessian",), f"second derivatives of np.linalg.{name} are not supported")
        for name, patterns in (
            ("eigh", ("np.linalg.eigh-*", "rt.eigh_*")),
            ("svd", ("np.linalg.svd-*", "rt.svd_*", "np.linalg.norm-3", "np.linalg.norm-5")),
            ("pinv", ("np.linalg.pinv-*", "rt.pinv_*")),
            ("qr", ("np.linalg.qr-*", "rt.qr_*")),
        )
        for pattern in patterns
    ),
]


def _check_refusal(exc, reason, fun, what):
    if not isinstance(exc, s2sjax.TransformError):
        raise SweepFailure(
            "internal crash",
            f"{what}: expected a TransformError saying {reason!r}, got {type(exc).__name__}: {exc}",
        )
    if reason not in str(exc):
        raise SweepFailure(
            "refusal", f"{what}: refused, but not for the record's reason {reason!r}: {exc}"
        )
    user_file = fun.__code__.co_filename
    if exc.filename != user_file or not exc.lineno:
        raise SweepFailure(
            "refusal not located",
            f"{what}: the refusal points at {exc.filename}:{exc.lineno}, "
            f"not at the user's file {user_file}: {exc}",
        )


# ---------------------------------------------------------------------------
# The row check


def check_row(row, dtypes=True):
    """Run the row and check it (its dtypes too, unless `dtypes` is false); "passed" or how it was
    refused as it must be, or a SweepFailure naming the class of the failure."""
    case = _BY_ID[row.case]
    what = row.id
    reason = expected_refusal(case, row.kind, row.target)
    args = case_args(case, row.variant)
    dtype = _dtype_name(args, case)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", s2sjax.NumbaFallbackWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", NumbaPerformanceWarning)
            if row.kind.startswith("vmap:"):
                result = run_vmap(case, row.variant, row.layout, row.kind, row.target)
            else:
                result = run_direct(case, row.variant, row.layout, row.kind, row.target, args)
    except SweepFailure:
        raise
    except s2sjax.NumbaFallbackWarning as exc:
        said = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise SweepFailure("numba fallback", f"{what}: {' / '.join(said)[:900]}") from exc
    except Exception as exc:
        if (
            row.target == "cuda"
            and isinstance(exc, s2sjax.TransformError)
            and ("CUDA kernel cannot" in str(exc) or "target='cuda'" in str(exc))
        ):
            return "refused by the CUDA kernel"
        if reason is not None:
            _check_refusal(exc, reason, function(case, row.layout), what)
            return "refused as recorded"
        klass = "refusal" if isinstance(exc, s2sjax.TransformError) else "internal crash"
        raise SweepFailure(klass, f"{what}: {type(exc).__name__}: {exc}") from exc
    if reason is not None:
        raise SweepFailure("not refused", f"{what}: the record says {reason!r}, but it ran")

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if row.kind.startswith("vmap:"):
            expected = _reference(
                lambda: vmap_reference(case, row.variant, row.layout, row.kind), what
            )
            compare(result, expected, dtype, f"{what} vs a loop of the python target", same=True)
        elif case.edge:
            check_edge(case, row, result, args, dtype)
        else:
            expected = _reference(lambda: expected_direct(case, row.variant, row.kind), what)
            compare(result, expected, dtype, f"{what} vs finite differences")
        if dtypes:
            value_dtype = np.asarray(function(case, "args")(*args)).dtype
            check_dtypes(
                case, row.variant, row.kind.removeprefix("vmap:"), result, value_dtype, args
            )
    return "passed"


def check_edge(case, row, result, args, dtype):
    """At a domain edge: NumPy's value; on python the recorded NumPy derivative.

    Elsewhere, python's derivative.
    """
    with np.errstate(all="ignore"):
        value = function(case, "args")(*args)
    if "value" in result:
        assert_close(result["value"], value, *SAME_TOL[dtype], f"{row.id}: value vs NumPy")
    if row.target == "python":
        expected = {"grad": case.expected_grads}
        # jacfwd pushes basis tangents forward: 0 * inf is nan, as in NumPy and JAX
        if row.kind == "jacrev":
            expected["jac"] = case.expected_grads
        if row.kind == "vjp":
            expected["cotangent"] = tuple(_scaled(e, 0.75) for e in case.expected_grads)
        for key, exp in expected.items():
            if key in result:
                assert_close(
                    result[key], exp, *SAME_TOL[dtype], f"{row.id}: {key} vs NumPy's derivative"
                )
        return
    reference = _reference(
        lambda: run_direct(case, row.variant, row.layout, row.kind, "python", args), row.id
    )
    compare(result, reference, dtype, f"{row.id} vs the python target", same=True)


def _scaled(expected, c):
    if isinstance(expected, Subgradient):
        return Subgradient(
            np.asarray(expected.lo) * c,
            np.asarray(expected.hi) * c,
            None if expected.total is None else expected.total * c,
        )
    return np.asarray(expected) * c


def _reference(compute, what):
    """A reference computed by s2sjax (target python): its failure is reported as such."""
    try:
        return compute()
    except SweepFailure:
        raise
    except Exception as exc:
        klass = "refusal" if isinstance(exc, s2sjax.TransformError) else "internal crash"
        raise SweepFailure(
            klass, f"{what}: the reference on target python raised {type(exc).__name__}: {exc}"
        ) from exc


def _log(row, outcome, exc=None):
    path = os.environ.get("S2SJAX_SWEEP_LOG")
    if not path:
        return
    entry = {"id": row.id, "outcome": outcome}
    if exc is not None:
        entry["class"] = getattr(exc, "klass", type(exc).__name__)
        entry["message"] = str(exc)[:2000]
    with open(path, "a") as fh:
        fh.write(json.dumps(entry) + "\n")


def forget_compiled(jitted_before):
    """Let go of the compiled rows' functions: a compiled target's row is checked once, and Numba's
    dispatchers (kept by s2sjax's table of jitted functions) hold megabytes each; thousands of rows
    would fill the memory. Python-target functions stay: vmap rows' references reuse them."""
    for key in [k for k in _MEMO if k[0] == "transformed" and k[-1] != "python"]:
        del _MEMO[key]
    for key in set(compile_backend._JITTED) - jitted_before:
        del compile_backend._JITTED[key]


def _run(row, dtypes=True):
    jitted_before = set(compile_backend._JITTED)
    try:
        outcome = check_row(row, dtypes)
    except SweepFailure as exc:
        _log(row, "failed", exc)
        failure = str(exc)
    except BaseException as exc:
        _log(row, "failed", exc)
        raise
    else:
        _log(row, outcome)
        return
    finally:
        if row.target != "python":
            forget_compiled(jitted_before)
    known = known_failures(row)
    pytest.fail(
        failure + (f"\n(known failure: KNOWN_FAILURES{known})" if known else ""), pytrace=False
    )


# ---------------------------------------------------------------------------
# Tests


@pytest.mark.parametrize("row,dtypes", CI, ids=[r.id for r, _ in CI])
def test_sweep(row, dtypes):
    _run(row, dtypes)


@pytest.mark.sweep
@pytest.mark.parametrize("row", FULL_HERE, ids=[r.id for r in FULL_HERE])
def test_sweep_full(row):
    _run(row)


def rules_without_a_row():
    """Registered rules (not a user's custom ones) that no sweep case uses."""
    covered = {c.rule for c in CASES}
    return sorted(r.name for r in rules.all_rules() if r.name not in covered and not r.custom)


def test_every_rule_has_a_row_in_every_kind_and_target():
    """Every case under every kind on python and on a compiled CPU target.

    And cuda for vmap kinds; the hessians: every rule. Every variant and every layout under each
    kind on each compiled target.
    """
    assert not rules_without_a_row(), (
        f"rules without a case in tests/test_rules.py: {rules_without_a_row()}"
    )
    per_case = {}
    for r in FULL:
        per_case.setdefault(r.case, set()).add(
            (r.kind, "compiled" if r.target in ("cpu", "parallel") else r.target)
        )
    for case in ALL_CASES:
        for kind in KINDS:
            wanted = {"python", "compiled"} | ({"cuda"} if kind.startswith("vmap:") else set())
            got = {t for k, t in per_case[case.id] if k == kind}
            assert got == wanted or kind in HESSIAN_KINDS and got == wanted - {"compiled"}, (
                case.id,
                kind,
            )
    for rule in {c.rule for c in CASES}:
        for kind in HESSIAN_KINDS:
            assert any(
                r.kind == kind and r.target == "cpu" and _BY_ID[r.case].rule == rule for r in FULL
            ), (rule, kind)
    for target in TARGETS[1:]:
        for kind in KINDS:
            if (
                target == "cuda"
                and not kind.startswith("vmap:")
                or target == "parallel"
                and kind in HESSIAN_KINDS
            ):
                continue
            rows = [r for r in FULL if r.target == target and r.kind == kind]
            assert {r.variant for r in rows} == {"f64", "f32", "int64"}, (target, kind)
            assert {r.layout for r in rows} == set(LAYOUTS), (target, kind)


def test_a_new_rule_without_a_case_fails_the_check():
    from s2sjax.rules import registry

    rule = registry.Rule(
        "np.sweep_probe", ("x",), lambda types, nodes: types["x"], adjoints={"x": "g"}
    )
    registry.register(rule)
    try:
        assert rules_without_a_row() == ["np.sweep_probe"]
    finally:
        del registry._BY_NAME["np.sweep_probe"]
    assert rules_without_a_row() == []


def test_expected_refusals_are_in_the_records():
    """Each expected refusal is what a rule record says.

    A forward-only rule, or an `unsupported` entry.
    """
    forward_only = [r for r in rules.all_rules() if _forward_only(r) and not r.custom]
    for rule in forward_only:
        assert any(c.rule == rule.name for c in CASES), rule.name
    unsupported = {why for r in rules.all_rules() for why in r.unsupported.values()}
    for pattern, kinds, reason in EXPECTED_REFUSALS:
        assert any(fnmatch.fnmatchcase(c.id, pattern) for c in CASES), pattern
        assert any(reason in why for why in unsupported) or "has no reverse-mode rule" in reason, (
            reason
        )


def test_known_failures_name_rows_that_exist():
    for name, known in KNOWN_FAILURES.items():
        assert known.klass and known.reason and known.repro, name
        assert any(known.covers(r) for r in FULL), f"KNOWN_FAILURES[{name!r}] covers no row"
        for pattern in known.cases:
            assert any(fnmatch.fnmatchcase(c.id, pattern) for c in ALL_CASES), (name, pattern)


def test_the_ci_slice_covers_every_case_and_kind():
    """On python, every case under every direct kind (but known failures); each target sampled."""
    ci = {r.id for r, _ in CI}
    for r in FULL:
        if r.target == "python" and r.kind in DIRECT_KINDS and _in_ci(r, _C_INDEX[r.case]):
            assert r.id in ci or _in_ci_as(r) is None, r.id
    covered = {
        (r.case, r.kind) for r in FULL if r.target == "python" and _in_ci(r, _C_INDEX[r.case])
    }
    assert covered >= {(c.id, k) for c in ALL_CASES for k in DIRECT_KINDS}
    assert {r.target for r, _ in CI} == set(TARGETS)
