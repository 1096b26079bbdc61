"""templates: code that writes code, written as the code it writes.

A template is a Python function whose body is the code to write and whose
parameters are its placeholders (as Tangent's templates are). `fill` parses
the function's source once, then returns a copy of its body with each
placeholder replaced by its value:

- a string: that name, or dotted name (`rt.prange`);
- a number, bool or None: that constant;
- a gast expression: a copy of it, in the place's context (a tuple of names as
  the target of an assignment is stored to);
- a list, where the placeholder is starred (`f(*args)`, `(*items,)`, a defined
  function's `*params`): its items, each as above, in its place;
- a list of statements, where the placeholder stands alone as a statement
  (an expression there is the expression statement): those statements, not
  copies, each used once.

A placeholder that names a defined function (`def name(...)`) gives it its
name; every other name (`np`, `rt`, `cuda`: the generated module's) stays as
written. To repeat a block per item, fill its template once per item and pass
the statements on as a list.

>>> def counted(name, params, n, body, total):
...     def name(*params):
...         total = 0.0
...         for k in range(n):
...             body
...         return total
>>> def add(total, term):
...     total = total + term
>>> print(source(counted, name="f", params=["x", "y"], n="size", total="s",
...              body=fill(add, total="s", term="x") + fill(add, total="s", term=2.0)), end="")
def f(x, y):
    s = 0.0
    for k in range(size):
        s = s + x
        s = s + 2.0
    return s
"""

import copy
import inspect
import textwrap

import gast

from .emit import emit

_DEFINITIONS = {}  # template function -> its parsed definition, parsed once


def fill(template, **values):
    """The statements of `template`'s body with its placeholders replaced by `values`.

    What is filled in is not filled in again: a parameter named like a placeholder stays.

    >>> def named(name, params, n):
    ...     def name(*params):
    ...         return n
    >>> print(source(named, name="f", params=["n"], n="size"), end="")
    def f(n):
        return size
    """
    definition = _definition(template)
    placeholders = [arg.id for arg in definition.args.args]
    if sorted(values) != sorted(placeholders):
        raise TypeError(
            f"template {template.__name__} fills {placeholders}, given {sorted(values)}"
        )
    return _Fill(values).visit(gast.Module(copy.deepcopy(definition.body), [])).body


def expression(template, **values):
    """The expression that `template`, a body of one `return`, returns, filled in."""
    (returned,) = fill(template, **values)
    return returned.value


def source(template, **values):
    """`fill`'s statements as source text, a line for each as in the template."""
    return emit(gast.Module(fill(template, **values), []), wrap=False)


def fill_each(template, rows):
    """`template` filled once per row of values (a dict), the statements one after another."""
    return [stmt for values in rows for stmt in fill(template, **values)]


def call(function, arguments):
    """The expression `function(arguments...)`."""
    return expression(_call, function=function, arguments=arguments)


def assign(target, value):
    """The statement `target = value`, as a list of one."""
    return fill(_assign, target=target, value=value)


def subscript(value, index):
    """The expression `value[index]`."""
    return expression(_subscript, value=value, index=index)


def tuple_of(items):
    """The tuple display `(items...,)`."""
    return expression(_tuple, items=items)


def parsed(text):
    """The expression that source `text` spells: a value written as a constant (by `repr`)."""
    return gast.parse(text).body[0].value


def _call(function, arguments):
    return function(*arguments)


def _assign(target, value):
    target = value


def _subscript(value, index):
    return value[index]


def _tuple(items):
    return (*items,)


def _definition(template):
    if template not in _DEFINITIONS:
        definition = gast.parse(textwrap.dedent(inspect.getsource(template))).body[0]
        if isinstance(definition.body[0], gast.Expr) and isinstance(
            definition.body[0].value, gast.Constant
        ):
            definition.body = definition.body[1:]  # the docstring is not code to write
        _DEFINITIONS[template] = _Written().visit(definition)
    return _DEFINITIONS[template]


class _Written(gast.NodeTransformer):
    """A template's code as s2sjax writes code: no line of the template's file (the code filled
    in is s2sjax's own), and `-1` the constant -1."""

    def visit(self, node):
        for attribute in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if hasattr(node, attribute):
                delattr(node, attribute)
        return super().visit(node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.Constant):
            return gast.Constant(-node.operand.value, None)
        return node


class _Fill(gast.NodeTransformer):
    def __init__(self, values):
        self.values = values

    def visit_Expr(self, node):
        if self._placeholder(node.value) and isinstance(self.values[node.value.id], list):
            return self.values[
                node.value.id
            ]  # the statements themselves: their ids may key what is known of them
        return self.generic_visit(node)

    def visit_Starred(self, node):
        if self._placeholder(node.value):
            return [_expression(v, node.ctx) for v in self.values[node.value.id]]
        return self.generic_visit(node)

    def visit_Name(self, node):
        return _expression(self.values[node.id], node.ctx) if self._placeholder(node) else node

    def visit_FunctionDef(self, node):
        node.name = self.values.get(node.name, node.name)
        vararg, node.args.vararg = node.args.vararg, None
        self.generic_visit(node)  # before the parameters filled in, which are names to keep
        if vararg is not None and vararg.id in self.values:
            node.args.args += [
                gast.Name(p, gast.Param(), None, None) for p in self.values[vararg.id]
            ]
        else:
            node.args.vararg = vararg
        return node

    def _placeholder(self, node):
        return isinstance(node, gast.Name) and node.id in self.values


def _expression(value, ctx):
    """`value` as an expression node in context `ctx`."""
    if isinstance(value, str):
        head, *attributes = value.split(".")
        node = gast.Name(head, gast.Load(), None, None)
        for attribute in attributes:
            node = gast.Attribute(node, attribute, gast.Load())
    elif value is None or isinstance(value, (bool, int, float)):
        return gast.Constant(value, None)
    # an expression, or a slice
    elif isinstance(value, gast.AST) and not isinstance(value, gast.stmt):
        node = copy.deepcopy(value)
    else:
        raise TypeError(f"a placeholder takes a name, a constant or an expression, not {value!r}")
    return _in_context(node, ctx)


def _in_context(node, ctx):
    """`node`, and the items of a tuple or list it is, loaded or stored as `ctx` says."""
    if isinstance(
        node, (gast.Name, gast.Attribute, gast.Subscript, gast.Starred, gast.Tuple, gast.List)
    ):
        node.ctx = copy.copy(ctx)
    for item in getattr(node, "elts", ()):
        _in_context(item, ctx)
    if isinstance(node, gast.Starred):
        _in_context(node.value, ctx)
    return node
