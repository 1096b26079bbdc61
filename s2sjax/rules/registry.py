"""The rule registry: every callable s2sjax knows, found by object identity.

A `Rule` says how generated code calls a function (`name`), its parameters,
the type of its result, and, per differentiable parameter, *templates*:
Python expressions written with the parameter names and `out` (the result).

- reverse: `adjoints[param]`, the parameter's adjoint contribution, with `g`
  for the result's adjoint;
- forward: `tangents[param]`, its contribution to the result's tangent, with
  `d` for the parameter's tangent. An elementwise rule (`broadcasts`) needs
  none: its adjoint template is `g` times the partial derivative, so the
  same template with `g` bound to `d` is the tangent. A parameter in
  `linear` needs none either: the tangent is the call itself with the
  parameter replaced by its tangent (`np.sum(x_dot)`, `a_dot @ b`).

Bare NumPy function names in a template (`cos(x)`) become `np.cos`, or
`math.cos` where the call was `math.sin` or an operator on scalars (see
`Rule.template_library`); runtime helpers are written `rt.name`. A
parameter with no template at all has a zero derivative (or is not a number);
one in `unsupported` has a derivative s2sjax does not compute: using it is an
error, never a silent zero.

Operators are rules too, named by their symbol (`"+"`, `"@"`, `"unary -"`).

Beside its derivative, a rule is the one record of what the passes need to
know about its function: its spelling on scalars (`math`, `cuda`), whether its
result is a new array or may share its argument's memory (`allocates`,
`like`, `view`), how fusion and the CUDA kernel treat it (`accumulates`,
`product`), where the fence allows it (`loop_only`), which arguments are
values and which are fixed (`static`), and which rules compute the elements of
a tuple it returns (`parts`).
Runtime helpers that only generated code calls (`rt.tape`) have records too.
"""

import copy
import dataclasses
import sys
from types import MethodType
from dataclasses import dataclass, field
from typing import Callable

import gast

_BY_ID = {}  # _identity(object) -> (object, rule); the object is kept alive by the tuple
_BY_NAME = {}


class RuleError(Exception):
    """A rule cannot apply to these argument types; the transform adds the location."""


@dataclass
class Rule:
    name: str
    params: tuple
    result: Callable  # (types: dict param -> Type, nodes: dict param -> node) -> Type
    adjoints: dict = field(default_factory=dict)  # param -> template str, or (types, nodes) -> str
    defaults: dict = field(default_factory=dict)
    broadcasts: bool = False  # elementwise with NumPy broadcasting: adjoints need reducing
    tangents: dict = field(
        default_factory=dict
    )  # param -> template str (with `d`), or (types, nodes) -> str
    linear: tuple = ()  # params the result is linear in
    unsupported: dict = field(default_factory=dict)  # param -> why its derivative is not available
    custom: bool = False  # a user's rule (s2sjax.extend), tested by its user, not by the rule tests
    # params fixed when the code is generated (axis, shape, dtype): a tuple there is no array
    static: tuple = ()
    # the operator this function is (np.add: "+"): normalize writes its calls as one
    operator: str = None
    # an operator's Python function (operator.add for "+"): normalize folds constants with it
    fold: Callable = None
    # its spelling on scalars (np.power: "math.pow"): in templates on scalars and in fused loops
    math: str = None
    # its spelling on scalars in a CUDA device function, where `math` has none (np.absolute: "abs")
    cuda: str = None
    # a new array the code may update in place, holding "zeros", "values" or "unfilled" memory
    allocates: str = None
    # the argument whose shape gives that new array's (np.zeros_like: "a"; a tape's slots:
    # "value"), or an adjoint's (rt.unbroadcast: "x")
    like: str = None
    view: bool = False  # its result may share memory with its first argument (np.reshape, rt.grow)
    # the array of a (nested) list or tuple (np.array): passes/displays.py writes it out
    array_of: bool = False
    # a fused loop computes it of a whole array as a running "sum" or "mean"
    accumulates: str = None
    # a matrix or vector product (`@`, np.dot), which a CUDA device function cannot compute
    product: bool = False
    # an iterable allowed only in the head of a `for` (range, zip, enumerate)
    loop_only: bool = False
    # written out before the transforms (passes/stacking.py): (types, nodes) -> its layout
    lowering: Callable = None
    sequence: str = None  # the param taking a list or tuple of arrays, kept as its elements
    pieces: Callable = None  # (nodes) -> the length of the list of arrays it returns (np.split)
    # (the call's given argument nodes by parameter) -> the expression normalize writes in its
    # place (np.var: a mean of squares), or None where the call is already in the form it applies
    expands: Callable = None
    # `expands` takes a second argument: the rank of each argument that normalize knows (a
    # parameter's, from the argument types), else None
    ranked: bool = False
    # the expression generated code writes for a call instead, once the operands' types are known
    # ((types, nodes) -> template str, or None to keep the call): np.tensordot as np.einsum
    lower: Callable = None
    # the templates of the elements of a tuple it returns (np.linalg.slogdet: its sign and
    # log|det|), or a function of the argument nodes choosing them (or one template): normalize
    # writes the call as their tuple display
    parts: tuple = ()
    # takes more positional arguments than `params` (builtin min/max); `bind` gives them as "*"
    variadic: bool = False

    def takes_array(self, param):
        """Whether `param` takes an array, so that a list or tuple display given there is one
        (`np.sum([a, b])` sums `np.array([a, b])`, as NumPy does)."""
        return (
            self.name.startswith("np.")
            and param in self.params
            and param not in self.static
            and param != self.sequence
        )

    def template_library(self, scalar):
        """ "math" or "np": what a template's bare names call for this rule with a `scalar` result.

        A derivative follows its function's library: `np.cos(inf)` is nan where `math.cos(inf)`
        raises, so `np.sin(x[i])`'s derivative must not call `math.cos` (target="python" would
        raise where the user's function and the compiled targets give nan).
        """
        return "math" if scalar and not self.name.startswith("np.") else "np"

    def differentiable(self, param):
        """Whether a derivative flows through `param`.

        An unsupported one counts: it must be reported.
        """
        return any(
            param in table
            for table in (self.adjoints, self.tangents, self.linear, self.unsupported)
        )

    def bind(self, args, keywords, fill=True):
        """Map a call's argument nodes to parameter names (defaults filled in where `fill`)."""
        if len(args) > len(self.params) and not self.variadic:
            raise RuleError(
                f"{self.name} takes at most {len(self.params)} arguments, got {len(args)}"
            )
        bound = dict(zip(self.params, args))
        if len(args) > len(self.params):
            bound["*"] = list(args[len(self.params) :])
        for kw in keywords:
            if kw.arg not in self.params or kw.arg in bound:
                raise RuleError(f"{self.name} got an unsupported keyword argument {kw.arg!r}")
            bound[kw.arg] = kw.value
        for param in self.params if fill else ():
            if param not in bound:
                if param not in self.defaults:
                    raise RuleError(f"{self.name} is missing its argument {param!r}")
                bound[param] = gast.Constant(self.defaults[param], None)
        return bound

    def adjoint_template(self, param, types, nodes):
        self._check_supported(param)
        if param not in self.adjoints and self.differentiable(param):
            raise RuleError(f"{self.name} has no reverse-mode rule for {param!r}")
        template = self.adjoints.get(param)
        if callable(template):
            template = template(types, nodes)
        return None if template is None else parse_template(template)

    def tangent_template(self, param, types, nodes):
        """The tangent template for `param`: a tree, LINEAR, or None for a zero derivative."""
        self._check_supported(param)
        if param in self.linear:
            return LINEAR
        template = self.tangents.get(param)
        if template is None and self.broadcasts:
            template = self.adjoints.get(param)
            template = template(types, nodes) if callable(template) else template
            return None if template is None else parse_template(template, {"g": "d"})
        if template is None and param in self.adjoints:
            raise RuleError(f"{self.name} has no forward-mode rule for {param!r}")
        if callable(template):
            template = template(types, nodes)
        return None if template is None else parse_template(template)

    def _check_supported(self, param):
        if param in self.unsupported:
            raise RuleError(
                f"the derivative of {self.name} with respect to {param!r} is not supported: "
                f"{self.unsupported[param]}"
            )


LINEAR = "linear"  # tangent_template's answer for a parameter the result is linear in


def register(rule, *objects, paths=()):
    """Register `rule` under its name and under each Python object that denotes it; `paths`
    name objects of modules that s2sjax does not import itself (`"scipy.special.gammaln"`),
    registered once the user's code has imported them (it must, to call them)."""
    _BY_NAME[rule.name] = rule
    for obj in objects:
        _BY_ID[_identity(obj)] = (obj, rule)
    _DEFERRED.extend((path, rule) for path in paths)
    _PATHS.update((path, rule) for path in paths)
    return rule


_DEFERRED = []  # (dotted path, rule) not yet found among the imported modules
_PATHS = {}  # every dotted path registered -> its rule


def by_path():
    """{dotted path: rule} of the objects registered by path (SciPy's)."""
    return dict(_PATHS)


def _register_imported():
    """Register the deferred objects whose modules are imported now; whether any was."""
    found = [(path, rule, _imported(path)) for path, rule in _DEFERRED]
    found = [(path, rule, obj) for path, rule, obj in found if obj is not None]
    for path, rule, obj in found:
        _DEFERRED.remove((path, rule))
        _BY_ID[_identity(obj)] = (obj, rule)
    return bool(found)


def _imported(path):
    """The object at the dotted `path` if the longest module prefix of it is imported, or None."""
    parts = path.split(".")
    for k in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:k]))
        if module is not None:
            # not getattr on the module: SciPy's would import a submodule (scipy.stats, seconds)
            obj = vars(module).get(parts[k])
            for attribute in parts[k + 1 :]:
                obj = getattr(obj, attribute, None)
            return obj
    return None


_REFUSED = {}  # _identity(object) -> (object, why s2sjax refuses it, a hint)


def refuse(obj, why, hint):
    """Register a function s2sjax refuses on purpose, saying why (a better error than "no rule")."""
    _REFUSED[_identity(obj)] = (obj, why, hint)


def refusal(obj):
    """(why, hint) for a function s2sjax refuses on purpose, or None."""
    entry = _REFUSED.get(_identity(obj))
    return entry[1:] if entry is not None and _same(entry[0], obj) else None


def lookup(obj):
    """The rule for a Python object (np.sin, math.sin, abs, scipy.stats.norm.logpdf, ...), or
    None."""
    entry = _BY_ID.get(_identity(obj))
    if entry is None and _DEFERRED and _register_imported():
        entry = _BY_ID.get(_identity(obj))
    return entry[1] if entry is not None and _same(entry[0], obj) else None


def _identity(obj):
    """The key `obj` is registered under: a bound method (`scipy.stats.norm.logpdf`) is a new
    object at every attribute lookup, so it is known by its instance and function."""
    if isinstance(obj, MethodType):
        return id(obj.__self__), id(obj.__func__)
    return id(obj)


def _same(registered, obj):
    if isinstance(obj, MethodType):
        return (
            isinstance(registered, MethodType)
            and registered.__self__ is obj.__self__
            and registered.__func__ is obj.__func__
        )
    return registered is obj


def by_name(name):
    return _BY_NAME.get(name)


def callee(node):
    """The rule of the function that the call `node` calls (`np.sin(x)`: np.sin's), or None."""
    return _BY_NAME.get(dotted_name(node.func) or "") if isinstance(node, gast.Call) else None


def operator_rule(op):
    """The rule of a gast operator node (`gast.Add()`: "+"'s), or None."""
    symbol = OPERATOR_SYMBOLS.get(type(op))
    return None if symbol is None else _BY_NAME[symbol]


def all_rules():
    return list(_BY_NAME.values())


_TEMPLATE_CACHE = {}


def parse_template(text, renames=None):
    key = (text, tuple(sorted((renames or {}).items())))
    if key not in _TEMPLATE_CACHE:
        tree = gast.parse(text, mode="eval").body
        for node in gast.walk(tree):
            if isinstance(node, gast.Name) and node.id in (renames or {}):
                node.id = renames[node.id]
        _TEMPLATE_CACHE[key] = tree
    return _TEMPLATE_CACHE[key]


def instantiate(template, bindings, library):
    """A copy of `template` with names replaced by `bindings` (name -> expression), and bare
    NumPy function names by `library`'s ("math" or "np")."""
    expr = copy.deepcopy(template)
    return _Instantiate(bindings, library == "math").visit(expr)


class _Instantiate(gast.NodeTransformer):
    def __init__(self, bindings, use_math):
        self.bindings = bindings
        self.use_math = use_math

    def visit_Attribute(self, node):
        return node  # rt.helper and np.name stay as written

    def visit_Name(self, node):
        if node.id in self.bindings:
            return copy.deepcopy(self.bindings[node.id])
        rule = _BY_NAME.get(f"np.{node.id}")
        if rule is None:
            return node
        return dotted(rule.math if self.use_math and rule.math else rule.name)


OPERATOR_SYMBOLS = {
    gast.Add: "+",
    gast.Sub: "-",
    gast.Mult: "*",
    gast.Div: "/",
    gast.FloorDiv: "//",
    gast.Mod: "%",
    gast.Pow: "**",
    gast.MatMult: "@",
    gast.BitAnd: "&",
    gast.BitOr: "|",
    gast.Eq: "==",
    gast.NotEq: "!=",
    gast.Lt: "<",
    gast.LtE: "<=",
    gast.Gt: ">",
    gast.GtE: ">=",
    gast.USub: "unary -",
    gast.UAdd: "unary +",
    gast.Not: "not",
}
_OPERATORS = {symbol: node for node, symbol in OPERATOR_SYMBOLS.items()}


def register_operator_function(function, symbol, name):
    """`function` (np.multiply, operator.mul) is the operator `symbol`: calls are written as it."""
    return register(dataclasses.replace(_BY_NAME[symbol], name=name, operator=symbol), function)


def operation(symbol, operands):
    """The expression `a <symbol> b` (or `<symbol> a`) of `operands`."""
    op = _OPERATORS[symbol]()
    if symbol.startswith("unary ") or symbol == "not":
        return gast.UnaryOp(op, operands[0])
    return gast.BinOp(operands[0], op, operands[1])


def rule_of(value):
    """The rule a normalized right-hand side applies, and its arguments by parameter name.

    Returns (None, {}) for copies, subscripts, attributes and tuple displays.
    """
    if isinstance(value, gast.BinOp):
        return _BY_NAME[OPERATOR_SYMBOLS[type(value.op)]], {"a": value.left, "b": value.right}
    if isinstance(value, gast.UnaryOp):
        return _BY_NAME[OPERATOR_SYMBOLS[type(value.op)]], {"a": value.operand}
    if isinstance(value, gast.Compare):
        return _BY_NAME[OPERATOR_SYMBOLS[type(value.ops[0])]], {
            "a": value.left,
            "b": value.comparators[0],
        }
    if isinstance(value, gast.Call):
        if isinstance(value.func, gast.Attribute) and value.func.attr == "astype":
            rule = _BY_NAME["astype"]
            return rule, rule.bind([value.func.value] + value.args, value.keywords)
        rule = _BY_NAME[dotted_name(value.func)]
        return rule, rule.bind(value.args, value.keywords)
    return None, {}


def dotted(name):
    """`"np.sin"` -> the expression node `np.sin`."""
    head, *rest = name.split(".")
    node = gast.Name(head, gast.Load(), None, None)
    for attr in rest:
        node = gast.Attribute(node, attr, gast.Load())
    return node


def dotted_name(node):
    """The dotted name of an expression like `np.sin`, or None."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))
