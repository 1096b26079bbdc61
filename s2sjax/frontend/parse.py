"""parse: a Python function object -> its gast tree, placed in the user's file.

`parse(fn)` returns a `Function`: the `gast.FunctionDef` (decorators removed,
a lambda turned into `def <lambda>(...): return <body>`), with every node's
line and column those of the user's file, plus what resolving names needs
(globals, closure cells).
"""

import copy
import importlib
import inspect
import io
import tokenize
import linecache
import math
import os
import sys
import textwrap
import types
import weakref
from dataclasses import dataclass

import gast
import numpy as np

from .. import rules
from ..backend import emit as emitter
from ..backend import runtime
from ..errors import Location, TransformError


@dataclass
class Function:
    name: str
    tree: gast.FunctionDef
    pyfunc: object
    location: Location
    # a bound method's first parameter (`self`), dropped: the object, read like a closure value
    bound_self: str = None

    @property
    def globals(self):
        return self.pyfunc.__globals__

    @property
    def closure(self):
        code = self.pyfunc.__code__
        cells = self.pyfunc.__closure__ or ()
        values = {}
        for var, cell in zip(code.co_freevars, cells):
            try:
                values[var] = cell.cell_contents
            except ValueError:  # a cell not yet filled: the name is unbound
                pass
        if self.bound_self is not None:
            values[self.bound_self] = self.pyfunc.__self__
        return values


def parse(fn):
    """Parse `fn`'s source into a `Function` whose nodes carry the user's lines and columns."""
    if is_lifted(fn):
        tree, filename = _LIFTED[fn]
        return Function(fn.__name__, copy.deepcopy(tree), fn, Location(filename, fn.__name__))
    code = getattr(fn, "__code__", None)
    filename = code.co_filename if code else "<unknown>"
    name = getattr(fn, "__name__", repr(fn))
    try:
        lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise TransformError(
            f"cannot read the source of {name!r}: {exc}",
            filename,
            hint="s2sjax transforms functions defined in a file "
            "(a module, script or notebook cell)",
        ) from None
    source = "".join(lines)
    indent = len(source) - len(source.lstrip(" \t"))
    tree = _parse_block(textwrap.dedent(source), name, filename, first_line)
    _shift(tree, first_line - 1, indent)
    if name == "<lambda>":
        fdef = _lambda_def(tree, code, filename)
    else:
        fdef = next((n for n in tree.body if isinstance(n, gast.FunctionDef)), None)
        if fdef is None:
            raise TransformError(f"no function definition found for {name!r}", filename, first_line)
        fdef.decorator_list = []
    bound_self = _drop_self(fdef) if is_method(fn) else None
    return Function(name, fdef, fn, Location(filename, name), bound_self)


def is_method(fn):
    """Whether `fn` is a Python function bound to an object (`model.loss`)."""
    return inspect.ismethod(fn) and inspect.isfunction(fn.__func__)


def _drop_self(fdef):
    """Remove a method's first parameter; return its name."""
    args = fdef.args.posonlyargs or fdef.args.args
    return args.pop(0).id


# a local function lifted out of its enclosing one (frontend/local_functions.py) -> (its tree,
# whose nodes carry the user's lines, and the user's file): errors in it name the user's line
_LIFTED = weakref.WeakKeyDictionary()


def is_lifted(fn):
    """Whether `parse(fn)` reads a tree kept by `lifted_from`, not `fn`'s source."""
    return isinstance(fn, types.FunctionType) and fn in _LIFTED


def lifted_from(fn, tree, filename):
    """Let `parse(fn)` return `tree`, which is in `filename`, instead of `fn`'s own source."""
    _LIFTED[fn] = (copy.deepcopy(tree), filename)


def _parse_block(source, name, filename, first_line):
    try:
        return gast.parse(source)
    except SyntaxError:
        pass
    # A lambda inside a multi-line expression: its first line usually parses alone, or the
    # lambdas written on it do (a formatter's `f(\n    g(lambda x: ...), axis=0\n)`).
    first = source.splitlines()[0].strip().rstrip(",")
    for candidate in (first, f"({first})", f"({', '.join(_lambdas_in(first))},)"):
        try:
            return gast.parse(candidate)
        except SyntaxError:
            continue
    raise TransformError(f"cannot isolate the source of {name!r}", filename, first_line)


def _lambdas_in(line):
    """The text of each lambda on `line`: from `lambda` to the comma or bracket closing it."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    found = []
    for k, token in enumerate(tokens):
        if token.string != "lambda":
            continue
        depth, in_body = 0, False  # a comma before the lambda's colon separates its parameters
        for end in tokens[k:]:
            if end.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                break
            if end.type != tokenize.OP:
                continue
            if end.string in "([{":
                depth += 1
            elif end.string in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and end.string == ":":
                in_body = True
            elif depth == 0 and end.string == "," and in_body:
                break
        found.append(line[token.start[1] : end.start[1]])
    return found


def _shift(tree, line_offset, col_offset):
    for node in gast.walk(tree):
        if hasattr(node, "lineno") and node.lineno is not None:
            node.lineno += line_offset
            if getattr(node, "end_lineno", None) is not None:
                node.end_lineno += line_offset
        if getattr(node, "col_offset", None) is not None:
            node.col_offset += col_offset


def _lambda_def(tree, code, filename):
    params = list(code.co_varnames[: code.co_argcount])
    for node in gast.walk(tree):
        if isinstance(node, gast.Lambda) and [a.id for a in node.args.args] == params:
            ret = gast.Return(node.body)
            gast.copy_location(ret, node.body)
            fdef = gast.FunctionDef(
                name="<lambda>",
                args=node.args,
                body=[ret],
                decorator_list=[],
                returns=None,
                type_comment=None,
                type_params=[],
            )
            gast.copy_location(fdef, node)
            return fdef
    raise TransformError(
        "cannot find this lambda in its source line", filename, code.co_firstlineno
    )


def function_for_rule(obj):
    """A Python function calling `obj` when `obj` is a rule with no source (np.exp), else None.

    Its source is registered with linecache, so the pipeline reads it like any other.
    """
    rule = rules.lookup(obj) if callable(obj) else None
    if rule is None:
        return None
    params = [p for p in rule.params if p not in rule.defaults]
    # np.sin -> np_sin; a builtin (abs) gets a prefix: `def abs(x): return abs(x)` would call itself
    name = rule.name.replace(".", "_") if "." in rule.name else f"builtin_{rule.name}"
    source = f"def {name}({', '.join(params)}):\n    return {rule.name}({', '.join(params)})\n"
    return function_from_source(source, name, f"<s2sjax: {rule.name}>", _namespace_of(rule.name))


def function_for_rule_call(obj, args):
    """A Python function of `len(args)` parameters calling the rule `obj` with those `args` that
    decide shapes (ints, strings, tuples and lists of ints: a split's sections, einsum's
    sublists) written in as constants, as JAX's static arguments are; None when there are none
    and the call fits `function_for_rule`'s parameters.

    A new value of such an argument is a new function: the caller keys it by `static_key`.
    """
    rule = rules.lookup(obj) if callable(obj) else None
    static = [i for i, a in enumerate(args) if is_static_constant(a)]
    required = [p for p in rule.params if p not in rule.defaults] if rule else []
    if rule is None or (not static and len(args) == len(required)):
        return None
    params = [f"x{i}" for i in range(len(args))]
    arguments = [repr(a) if i in static else p for i, (p, a) in enumerate(zip(params, args))]
    name = rule.name.replace(".", "_") if "." in rule.name else f"builtin_{rule.name}"
    source = f"def {name}({', '.join(params)}):\n    return {rule.name}({', '.join(arguments)})\n"
    filename = f"<s2sjax: {rule.name}({', '.join(arguments)})>"  # one per value: linecache's key
    return function_from_source(source, name, filename, _namespace_of(rule.name))


def is_static_constant(value):
    """Whether `value` is an int, a bool, None, a string, or a tuple or list of ints (Ellipsis
    among them, and such tuples again): what decides a shape, written in as a constant."""
    if isinstance(value, (tuple, list)):
        return all(_static_element(v) for v in value)
    return value is None or type(value) in (int, bool, str)


def _static_element(value):
    if isinstance(value, (tuple, list)):
        return all(_static_element(v) for v in value)
    return type(value) in (int, bool) or value is Ellipsis


def static_key(args):
    """The static constants of `args` by position, with their types: what the code is written
    for."""
    return tuple(
        (i, type(a).__name__, repr(a)) for i, a in enumerate(args) if is_static_constant(a)
    )


_SPELLED_MODULES = {"np": np, "math": math, "rt": runtime}


def _namespace_of(rule_name):
    """The globals in which `rule_name` (np.sin, operator.mul, abs) names its function: the
    spellings generated code uses, and the module a rule's name starts with (operator)."""
    root = rule_name.split(".")[0]
    if "." not in rule_name or root in _SPELLED_MODULES:
        return dict(_SPELLED_MODULES)
    return {**_SPELLED_MODULES, root: importlib.import_module(root)}


def function_from_source(source, name, filename, namespace):
    """The function `name` that `source` defines, run in `namespace`, its source kept in linecache
    under `filename` so that parse (inspect), tracebacks and pdb can read it."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def compiled_with_cells(fdef, cells, filename, namespace):
    """The code of the function `fdef` (gast) defines, with the closure that reads its free names
    from `cells` (name -> cell), and the enclosing function it was compiled in (whose locals are
    those names; calling it evaluates the function's defaults in `namespace`)."""
    free = sorted(cells)
    body = emitter.emit(fdef).strip("\n")
    source = (
        f"def s2sjax_enclosing({', '.join(free)}):\n"
        + "".join(f"    {line}\n" for line in body.splitlines())
        + f"    return {fdef.name}\n"
    )
    enclosing = function_from_source(source, "s2sjax_enclosing", filename, namespace)
    code = next(
        c
        for c in enclosing.__code__.co_consts
        if isinstance(c, types.CodeType) and c.co_name == fdef.name
    )
    return code, tuple(cells[v] for v in code.co_freevars), enclosing


def check_readable(fun):
    """Raise a TransformError, at the user's line that gave `fun` to s2sjax, unless `fun` is a
    Python function whose source s2sjax can read (not a NumPy function without a rule, a
    builtin, a Numba-compiled function, a method, a callable object)."""
    if inspect.isfunction(fun) or is_method(fun):
        return
    spelled = _spelled(fun)
    if _numpy_or_math(fun):
        message, hint = (
            f"{spelled} has no derivative rule in s2sjax",
            "call it from a function of yours written with the NumPy and math functions s2sjax "
            "knows, or give it a rule with s2sjax.extend.defvjp",
        )
    elif hasattr(fun, "py_func"):
        message, hint = (
            f"{spelled} is compiled by Numba: s2sjax cannot transform it",
            f"transform its Python function, {spelled}.py_func, or give it a rule with "
            "s2sjax.extend.defvjp",
        )
    elif inspect.ismethod(fun):
        message, hint = (
            f"{spelled!r} is a method bound to something that is not a Python function",
            f"write a function that takes what {fun.__name__} reads from "
            f"{type(fun.__self__).__name__} as arguments (a dict of arrays is fine), and "
            "transform that",
        )
    else:
        message, hint = (
            f"cannot read the source of {spelled!r}: it is a {type(fun).__name__}, not a "
            "Python function",
            "s2sjax transforms functions defined in a file (a module, script or notebook cell)",
        )
    filename, lineno = _user_line()
    raise TransformError(message, filename, lineno, hint=hint)


def _numpy_or_math(fun):
    owner = getattr(fun, "__self__", None)  # np.add.reduce is a method of the ufunc np.add
    module = getattr(fun, "__module__", None) or getattr(type(owner), "__module__", None) or ""
    return isinstance(fun, np.ufunc) or module.split(".")[0] in ("numpy", "math")


def _spelled(fun):
    """`fun` as the user would write it.

    np.kron, np.linalg.norm, np.add.reduce, math.gamma, repr.
    """
    owner = getattr(fun, "__self__", None)
    if isinstance(owner, np.ufunc):
        return f"{_spelled(owner)}.{fun.__name__}"
    module = getattr(fun, "__module__", None) or ""
    name = getattr(fun, "__qualname__", None) or getattr(fun, "__name__", None)
    if name is None:
        return repr(fun)
    # not SciPy's
    if module == "numpy" or isinstance(fun, np.ufunc) and getattr(np, name, None) is fun:
        return f"np.{name}"
    if module.startswith("numpy."):
        return f"np.{module[len('numpy.') :]}.{name}"
    return f"math.{name}" if module == "math" else name


def _user_line():
    """(file, line) of the innermost frame outside s2sjax: where the user called it."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        package + os.sep
    ):
        frame = frame.f_back
    return (frame.f_code.co_filename, frame.f_lineno) if frame is not None else ("<unknown>", None)
