"""fence: reject, with a location, everything outside the supported subset.

An allow-list: a node type that is not named here is an error at its line,
so the fence cannot drift from what the transforms handle. Names that
resolve could not bind are reported here too, so errors come in source order. It runs on the
resolved tree of every function, the inlined ones included, before
normalization, so the error shows the user's own spelling.
"""

import gast

from .. import habits, rules
from . import procedures

_STATEMENTS = (
    gast.Assign,
    gast.AugAssign,
    gast.If,
    gast.For,
    gast.While,
    gast.Break,
    gast.Continue,
    gast.Return,
    gast.Pass,
    gast.Assert,
    gast.Expr,
)
_EXPRESSIONS = (
    gast.BinOp,
    gast.UnaryOp,
    gast.BoolOp,
    gast.Compare,
    gast.IfExp,
    gast.Call,
    gast.Name,
    gast.Constant,
    gast.Attribute,
    gast.Subscript,
    gast.Tuple,
    gast.List,
    gast.Dict,
    gast.Slice,
)
_DICT_VIEWS = ("items", "keys", "values")  # allowed only as the iterable of a `for`
_OPERATORS = (
    gast.Add,
    gast.Sub,
    gast.Mult,
    gast.Div,
    gast.FloorDiv,
    gast.Mod,
    gast.Pow,
    gast.MatMult,
    gast.BitAnd,
    gast.BitOr,
    gast.USub,
    gast.UAdd,
    gast.Not,
    gast.And,
    gast.Or,
    gast.Eq,
    gast.NotEq,
    gast.Lt,
    gast.LtE,
    gast.Gt,
    gast.GtE,
)
_CONTEXTS = (gast.Load, gast.Store)
ARRAY_ATTRIBUTES = {"shape", "size", "ndim", "T", "dtype"}

_DESCRIPTIONS = {
    gast.With: ("a 'with' statement", "move the context manager outside the transformed function"),
    gast.ClassDef: ("a class definition", "define classes outside the transformed function"),
    gast.FunctionDef: (
        "a nested function definition",
        "define the helper at module level; s2sjax inlines it",
    ),
    gast.Lambda: (
        "a lambda inside a transformed function",
        "define it at module level; s2sjax inlines it",
    ),
    gast.Try: (
        "a 'try' statement",
        "exceptions cannot be differentiated; check inputs before the call",
    ),
    gast.Raise: ("a 'raise' statement", "check inputs before calling the transformed function"),
    gast.Global: ("a 'global' statement", "pass the value as an argument instead"),
    gast.Nonlocal: ("a 'nonlocal' statement", "pass the value as an argument instead"),
    gast.Yield: ("'yield'", "generators cannot be differentiated; return an array"),
    gast.YieldFrom: ("'yield from'", "generators cannot be differentiated; return an array"),
    gast.Import: ("an import", "import at module level"),
    gast.ImportFrom: ("an import", "import at module level"),
    gast.Delete: ("a 'del' statement", None),
    gast.ListComp: (
        "a list comprehension (other than one 'for' over a range of constants or a tuple, "
        "or one 'for' without 'if' given to sum, np.array, np.asarray or np.stack)",
        "write a loop, or use NumPy array operations",
    ),
    gast.GeneratorExp: (
        "a generator expression (other than one 'for' over a range of constants or a tuple, "
        "without 'if')",
        "write a loop, or use NumPy array operations",
    ),
    gast.DictComp: ("a dict comprehension", None),
    gast.SetComp: ("a set comprehension", None),
    gast.Set: ("a set display", None),
    gast.Starred: ("a starred expression", None),
    gast.JoinedStr: ("an f-string", None),
    gast.NamedExpr: ("an assignment expression (':=')", None),
    gast.Await: ("'await'", None),
    gast.Is: ("the operator 'is' (other than 'x is None')", "compare with '=='"),
    gast.IsNot: ("the operator 'is not' (other than 'x is not None')", "compare with '!='"),
    gast.In: ("the operator 'in'", None),
    gast.NotIn: ("the operator 'not in'", None),
}


def fence(resolved):
    """Raise TransformError at the first construct outside the subset; return `resolved`."""
    _Fence(resolved).check_function(resolved.function.tree)
    return resolved


def check_parameters(fdef, location):
    """Raise TransformError at a `*args` or `**kwargs` parameter of `fdef` (a parsed function)."""
    args = fdef.args
    if args.vararg or args.kwarg:
        raise location.error(
            args.vararg or args.kwarg,
            "a '*args' or '**kwargs' parameter is not supported by s2sjax",
            "list the parameters explicitly",
        )


class _Fence:
    def __init__(self, resolved):
        self.resolved = resolved
        self.location = resolved.function.location

    def reject(self, node, what=None, hint=None):
        description, default_hint = _DESCRIPTIONS.get(type(node), (None, None))
        what = what or description or f"the construct {type(node).__name__!r}"
        raise self.location.error(node, f"{what} is not supported by s2sjax", hint or default_hint)

    def check_function(self, fdef):
        check_parameters(fdef, self.location)
        for stmt in fdef.body:
            self.check_statement(stmt)

    def check_statement(self, node):
        if isinstance(node, gast.Raise) and id(node) in self.resolved.problems:
            message, hint = self.resolved.problems[id(node)]
            raise self.location.error(node, message, hint)
        if isinstance(node, gast.Raise):
            return  # resolve kept only a builtin exception with a constant message
        if not isinstance(node, _STATEMENTS):
            self.reject(node)
        if isinstance(node, gast.For):
            self.check_loop(node)
            return
        if isinstance(node, gast.While):
            if node.orelse:
                self.reject(node, "'else' after a loop", "move that code after the loop")
            self.check_expression(node.test)
            for stmt in node.body:
                self.check_statement(stmt)
            return
        if isinstance(node, gast.Expr):
            if _is_docstring(node):
                return
            if _is_print(node):
                for arg in node.value.args:
                    if not _is_string(arg):
                        self.check_expression(arg)
                return
            if isinstance(node.value, gast.Call):  # a procedure, or an in-place method
                procedures.check_call_statement(self, node.value)
                return
            self.reject(
                node, "an expression statement", "assign the value or remove it: it has no effect"
            )
        if isinstance(node, gast.Assert) and _is_string(node.msg):
            node = gast.Assert(node.test, None)
        if isinstance(node, (gast.Assign, gast.AugAssign)):
            for target in node.targets if isinstance(node, gast.Assign) else [node.target]:
                self.check_target(target)
        for child in _children(node):
            if isinstance(child, gast.stmt):
                self.check_statement(child)
            elif isinstance(child, gast.expr):
                self.check_expression(child)

    def check_loop(self, node):
        if node.orelse:
            self.reject(node, "'else' after a loop", "move that code after the loop")
        self.check_target(node.target)
        it = node.iter
        name = rules.dotted_name(it.func) if isinstance(it, gast.Call) else None
        if (
            isinstance(it, gast.Call)
            and isinstance(it.func, gast.Attribute)
            and it.func.attr in _DICT_VIEWS
        ):
            if it.args or it.keywords:
                self.reject(it, f"this call to .{it.func.attr}()")
            self.check_expression(it.func.value)
        elif _loop_only(name) and id(it.func) not in self.resolved.problems:
            if (
                it.keywords
                or not it.args
                or (name in ("range", "rt.prange") and len(it.args) > 3)
                or (name == "enumerate" and len(it.args) != 1)
            ):
                self.reject(it, f"this call to {name}()")
            for arg in it.args:
                inner = (
                    rules.dotted_name(arg.func)
                    if name == "enumerate" and isinstance(arg, gast.Call)
                    else None
                )
                for sub in arg.args if inner == "zip" else [arg]:  # enumerate(zip(...))
                    self.check_expression(sub)
        else:
            self.check_expression(it)
        for stmt in node.body:
            self.check_statement(stmt)

    def check_target(self, node, in_tuple=False):
        if isinstance(node, gast.Name):
            return
        if isinstance(node, gast.Tuple):
            for elt in node.elts:
                self.check_target(elt, in_tuple=True)
            return
        if isinstance(node, gast.Subscript) and not in_tuple:
            if not isinstance(node.value, gast.Name):
                self.reject(
                    node, "an in-place update of an expression", "update a named array: a[i] = v"
                )
            if not _is_key(node.slice):  # a dict's key: normalize says what it thinks of the update
                self.check_index(node.slice)
            return
        if isinstance(node, gast.Subscript):
            self.reject(
                node,
                "an in-place update inside a tuple assignment",
                "assign each element on its own line",
            )
        self.reject(node, f"assigning to {type(node).__name__.lower()!r}")

    def check_index(self, index):
        """The items of an index; `...` is a constant only there (x[..., 0])."""
        for item in index.elts if isinstance(index, gast.Tuple) else [index]:
            if not (isinstance(item, gast.Constant) and item.value is Ellipsis):
                self.check_expression(item)

    def check_expression(self, node):
        if id(node) in self.resolved.problems:
            message, hint = self.resolved.problems[id(node)]
            raise self.location.error(node, message, hint)
        if not isinstance(node, _EXPRESSIONS):
            self.reject(node)
        if (
            isinstance(node, gast.Attribute)
            and node.attr not in ARRAY_ATTRIBUTES
            and not _is_rule_name(node)
            and not self.of_variable(node)
        ):
            self.reject(
                node,
                f"the attribute {node.attr!r}",
                f"supported array attributes: {', '.join(sorted(ARRAY_ATTRIBUTES))}",
            )
        if isinstance(node, gast.Call):
            self.check_call(node)
            return
        if isinstance(node, gast.Dict):
            self.check_dict(node)
            return
        if isinstance(node, gast.Subscript) and _is_key(node.slice):  # params["w"]
            self.check_expression(node.value)
            return
        if isinstance(node, gast.Subscript):
            self.check_expression(node.value)
            self.check_index(node.slice)
            return
        if isinstance(node, gast.Constant) and not isinstance(
            node.value, (int, float, bool, type(None))
        ):
            self.reject(node, f"the constant {node.value!r}")
        for child in _children(node):
            if isinstance(child, (gast.operator, gast.unaryop, gast.boolop, gast.cmpop)):
                if not isinstance(child, _OPERATORS) and not _is_none_test(node, child):
                    self.reject(
                        node,
                        *_DESCRIPTIONS.get(
                            type(child), (f"the operator {type(child).__name__!r}", None)
                        ),
                    )
            elif isinstance(child, gast.expr_context):
                if not isinstance(child, _CONTEXTS):
                    self.reject(node)
            elif isinstance(child, gast.expr):
                self.check_expression(child)

    def check_dict(self, node):
        for key, value in zip(node.keys, node.values):
            if key is None:
                self.reject(value, "'**' in a dict display")
            if not (_is_key(key) or (isinstance(key, gast.Constant) and type(key.value) is int)):
                self.reject(
                    key,
                    "a dict key that is not a string or int constant",
                    "the keys are the container's structure, "
                    "known when the function is transformed",
                )
            self.check_expression(value)

    def of_variable(self, node):
        """Whether `node` reads an attribute of a variable (`p.w`, `layers[0].w`): of an object
        argument, a field; normalize, which knows, refuses the others at their place."""
        root = node.value
        while isinstance(root, (gast.Attribute, gast.Subscript)):
            root = root.value
        return isinstance(root, gast.Name) and root.id in self.resolved.local_names

    def check_summed_loop(self, comp):
        """`sum(e for i in range(n) if c)`: its bounds, element and conditions."""
        for part in [*comp.generators[0].iter.args, comp.elt, *comp.generators[0].ifs]:
            self.check_expression(part)

    def check_filled_loop(self, comp):
        """`np.array([e for v in seq])`: its sequence (a range's bounds) and element."""
        iterable = comp.generators[0].iter
        called = rules.dotted_name(iterable.func) if isinstance(iterable, gast.Call) else None
        in_head = called in ("range", "zip", "enumerate")  # allowed in a loop's head only
        for part in [*(iterable.args if in_head else [iterable]), comp.elt]:
            self.check_expression(part)

    def is_param(self, name):
        """Whether `name` is a parameter of the function: a function given to it may be called
        (normalize checks that it is one)."""
        args = self.resolved.function.tree.args
        return name in {a.id for a in args.args + args.kwonlyargs + args.posonlyargs}

    def check_call(self, node):
        func = node.func
        name = rules.dotted_name(func)
        is_method = isinstance(func, gast.Attribute) and not (name and rules.by_name(name))
        if id(func) in self.resolved.problems:
            self.check_expression(func)
        if is_method:
            if func.attr not in rules.METHODS and func.attr != "get":  # dict.get: normalize
                self.reject(func, f"the method {func.attr!r}", _method_hint(func))
            self.check_expression(func.value)
        elif _loop_only(name):
            self.reject(node, f"{name}() outside the head of a 'for' loop")
        elif not (
            name and (rules.by_name(name) or name in self.resolved.functions or self.is_param(name))
        ):
            self.reject(node, f"calling {name or 'this expression'!r}")
        static = _static_strings(rules.by_name(name or ""), node)
        if is_method and func.attr == "get" and _is_key(node.args[0] if node.args else None):
            static.add(id(node.args[0]))  # d.get("k", default): a key, as in d["k"]
        for arg in node.args:
            if name == "sum" and arg is node.args[0] and is_summed_loop(arg):
                self.check_summed_loop(arg)
            elif arg is node.args[0] and is_filled_loop(node):
                self.check_filled_loop(arg)
            elif id(arg) not in static:
                self.check_expression(arg)
        for kw in node.keywords:
            if kw.arg is None:
                self.reject(kw.value, "'**' in a call")
            if id(kw.value) not in static:
                self.check_expression(kw.value)


def is_summed_loop(node):
    """Whether `node`, given to `sum`, is a comprehension normalize writes as a loop: one `for`
    over a `range` known at run time, its target a name."""
    if not isinstance(node, (gast.ListComp, gast.GeneratorExp)) or len(node.generators) != 1:
        return False
    comp = node.generators[0]
    return (
        isinstance(comp.target, gast.Name)
        and isinstance(comp.iter, gast.Call)
        and rules.dotted_name(comp.iter.func) == "range"
        and not comp.is_async
    )


FILLED = ("np.array", "np.asarray", "np.stack")


def is_filled_loop(call):
    """Whether `call` is `np.array`, `np.asarray` or `np.stack` of a list comprehension that
    normalize writes as a loop filling a new array: one `for` without `if`, over a run-time
    `range`, the rows of an array, or `zip`/`enumerate` of arrays (resolve unrolled those of
    constants)."""
    rule = rules.callee(call)
    if rule is None or rule.name not in FILLED or len(call.args) != 1 or call.keywords:
        return False
    comp = call.args[0]
    if not isinstance(comp, gast.ListComp) or len(comp.generators) != 1:
        return False
    loop = comp.generators[0]
    return _is_names(loop.target) and _is_plain(loop.iter) and not loop.ifs and not loop.is_async


def _is_plain(iterable):
    """Not `enumerate(x, start)` nor `zip(..., strict=True)`: options the loop does not read."""
    called = rules.dotted_name(iterable.func) if isinstance(iterable, gast.Call) else None
    if called not in ("zip", "enumerate"):
        return True
    return not iterable.keywords and (called == "zip" or len(iterable.args) == 1)


def _is_names(target):
    """A name, or a tuple of names (`for a, b in zip(x, y)`)."""
    if isinstance(target, gast.Tuple):
        return all(isinstance(t, gast.Name) for t in target.elts)
    return isinstance(target, gast.Name)


def _static_strings(rule, call):
    """The ids of the string constants a call gives its rule's static parameters (np.einsum's
    subscripts): fixed when the code is generated, they are no values of the program."""
    if rule is None:
        return set()
    bound = list(zip(rule.params, call.args)) + [(kw.arg, kw.value) for kw in call.keywords]
    return {id(node) for param, node in bound if param in rule.static and _is_string(node)}


def _is_none_test(node, op):
    """Whether `op` is the `is`/`is not` of `x is None`, `x is not None`: decided when the code is
    generated, as every value's kind is known then."""
    return (
        isinstance(op, (gast.Is, gast.IsNot))
        and len(node.ops) == 1
        and any(_is_none(n) for n in (node.left, *node.comparators))
    )


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def _children(node):
    for field in node._fields:
        value = getattr(node, field, None)
        if isinstance(value, list):
            yield from (v for v in value if isinstance(v, gast.AST))
        elif isinstance(value, gast.AST):
            yield value


def _is_print(node):
    """Whether an expression statement is a `print(...)` that resolve kept."""
    call = node.value
    return isinstance(call, gast.Call) and rules.dotted_name(call.func) == "print"


def _is_docstring(node):
    return _is_string(node.value)


def _is_string(node):
    return isinstance(node, gast.Constant) and isinstance(node.value, str)


def _is_key(node):
    return isinstance(node, gast.Constant) and isinstance(node.value, str)


def _is_rule_name(node):
    name = rules.dotted_name(node)
    return name is not None and rules.by_name(name) is not None


def _loop_only(name):
    """Whether `name` is an iterable allowed only in the head of a `for`.

    range, zip, enumerate, rt.prange.
    """
    rule = rules.by_name(name or "")
    return rule is not None and rule.loop_only


def _method_hint(func):
    """What to write instead of the unsupported method call `func`: a JAX habit's hint
    (`x.at[i].set(v)`, `y.block_until_ready()`) or the methods there are."""
    value = func.value
    at = isinstance(value, gast.Subscript) and isinstance(value.value, gast.Attribute)
    habit = habits.method_hint("at" if at and value.value.attr == "at" else func.attr)
    return habit or f"supported array methods: {', '.join(sorted(rules.METHODS))}"
