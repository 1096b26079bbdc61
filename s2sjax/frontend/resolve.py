"""resolve: bind every free name of a function to what it refers to at call time.

`resolve(function, namer)` rewrites the function's tree in place and returns
a `Resolved`:

- NumPy, `math` and builtin callables (and dtypes) become their canonical
  spelling from the rule registry, found by object identity, so
  `import numpy as onp; onp.sin(x)` reads `np.sin(x)`;
- numbers from globals and closures become literals;
- arrays from globals and closures become hidden parameters (`captured`),
  read again at every call;
- other Python functions are kept by name in `functions`, to be inlined;
- `s2sjax.jvp(g, primals, tangents)` becomes a call of g's JVP (see jvpcalls).

Anything else a name can refer to is recorded in `problems` (node id ->
message, hint), for the fence to report in source order with the rest.
"""

import ast
import builtins
import copy
import functools
import inspect
import os
import string
import sys
import types as pytypes
from dataclasses import dataclass, field

import gast
import numpy as np

from .. import rules
from ..abstract import classes_it_may_be
from ..backend import emit as emitter
from ..kinds.base import Kind
from ..pytree import Record, class_record
from . import inner, local_functions
from .parse import function_from_source, lifted_from


@dataclass
class Captured:
    """A value from the user's globals or closure that generated code receives as a parameter."""

    name: str  # the parameter's name in generated code
    read: object  # () -> the current value


@dataclass
class Assumption:
    """A value generated code was written for: a number written in as a literal, a function inlined.

    The code is stale once `read()` gives something else (another number, another function).
    """

    read: object  # () -> the current value
    value: object

    def holds(self):
        try:
            current = self.read()
        except (KeyError, AttributeError, ValueError):  # deleted, or an empty closure cell
            return False
        return current is self.value or (
            type(current) is type(self.value) and current == self.value
        )


@dataclass
class Resolved:
    function: object  # frontend.parse.Function
    local_names: set
    functions: dict = field(default_factory=dict)  # name -> Python function to inline
    captured: list = field(default_factory=list)
    problems: dict = field(default_factory=dict)  # id(node) -> (message, hint)
    assumptions: list = field(
        default_factory=list
    )  # Assumption: what the generated code was written for


def resolve(function, namer, jvp_calls, given_functions=None):
    """Resolve `function`; `jvp_calls` (jvpcalls.JvpCalls) collects its calls of s2sjax.jvp.

    `given_functions`: {parameter: the Python function a call site gives it} of a helper being
    inlined (`gram(rbf, xs)`): a lambda it vmaps reads such a parameter as that function.
    """
    lifted = local_functions.lift(function, namer)
    local_names = _local_names(function.tree)
    resolved = Resolved(function, local_names)
    given = _never_reassigned(given_functions or {}, function.tree)
    _Resolver(resolved, namer, jvp_calls, lifted, given).visit(function.tree)
    return resolved


def _never_reassigned(functions, fdef):
    """The entries of `functions` whose parameter the function body never assigns."""
    stored = {
        n.id
        for n in gast.walk(fdef)
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))
    }
    return {p: f for p, f in functions.items() if p not in stored}


def _local_names(fdef):
    args = fdef.args
    names = {a.id for a in args.args + args.kwonlyargs + args.posonlyargs}
    for node in gast.walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            names.add(node.id)
    return names


_MISSING = object()
_WHOLE = "transform the whole computation instead, e.g. vmap(grad(f)) outside"


class _Resolver(gast.NodeTransformer):
    def __init__(self, resolved, namer, jvp_calls, lifted, given_functions):
        self.resolved = resolved
        self.given_functions = given_functions
        self.namer = namer
        self.jvp_calls = jvp_calls
        self.function = resolved.function
        self.scope = {**self.function.globals, **self.function.closure, **lifted}

    def visit_FunctionDef(self, node):
        node.body = [self.visit(stmt) for stmt in node.body]
        return node

    def visit_ListComp(self, node):
        """`[e for i in range(3)]`, `(e for v in (a, b))`, `[e for i in range(4) if i != 2]`: the
        list display of its elements where it iterates a range of constants or a display, with
        conditions on the loop variable decided now; else the fence refuses it."""
        node = self.generic_visit(node)
        if len(node.generators) != 1:
            return node
        comp = node.generators[0]
        items = _static_iteration(comp.iter)
        if items is None or comp.is_async or not isinstance(comp.target, gast.Name):
            return node
        kept = []
        for item in items:
            conditions = [
                _Substitute(comp.target.id, item).visit(copy.deepcopy(c)) for c in comp.ifs
            ]
            decided = [_constant_value(c) for c in conditions]
            if any(d is _MISSING for d in decided):
                return node  # a condition known only at run time: the fence refuses it
            if all(decided):
                kept.append(item)
        elts = [_Substitute(comp.target.id, item).visit(copy.deepcopy(node.elt)) for item in kept]
        return gast.copy_location(gast.List(elts, gast.Load()), node)

    visit_GeneratorExp = visit_ListComp

    def visit_Assert(self, node):
        node.test = self.visit(node.test)
        if isinstance(node.msg, gast.JoinedStr):
            node.msg = _message_text(node.msg)
        return node

    def visit_Expr(self, node):
        """`print(...)`: kept (Python's print, Numba's when compiled), its f-strings as written;
        other expression statements are left to the fence."""
        call = node.value
        if not (isinstance(call, gast.Call) and self._value_of(call.func) is print):
            return self.generic_visit(node)
        if call.keywords:
            return self._problem(node, "print() with keywords is not supported by s2sjax")
        args = [
            _message_text(a) if isinstance(a, gast.JoinedStr) else self.visit(a) for a in call.args
        ]
        call = gast.Call(gast.Name("print", gast.Load(), None, None), args, [])
        return gast.copy_location(gast.Expr(gast.copy_location(call, node)), node)

    def visit_Raise(self, node):
        """`raise ValueError(f"...")` of a builtin exception: kept, its message as written (an
        f-string's fields unformatted, as compiled code cannot format them)."""
        call = node.exc if isinstance(node.exc, gast.Call) else gast.Call(node.exc, [], [])
        cls = self._value_of(call.func)
        message = call.args[0] if len(call.args) == 1 else None
        if isinstance(message, gast.JoinedStr):
            message = _message_text(message)
        if not (
            isinstance(cls, type)
            and issubclass(cls, Exception)
            and getattr(builtins, cls.__name__, None) is cls
            and (not call.args or _is_text(message))
            and not call.keywords
            and node.cause is None
        ):
            return self._problem(
                node,
                "a 'raise' other than of a builtin exception with a message written in the code "
                "is not supported by s2sjax",
                "raise ValueError('...') or ValueError(f'...'), or check inputs before the call",
            )
        exc = gast.Call(
            gast.Name(cls.__name__, gast.Load(), None, None), [message] if message else [], []
        )
        return gast.copy_location(gast.Raise(gast.copy_location(exc, node), None), node)

    def visit_Compare(self, node):
        """`mode == "fast"` on strings known now (a global, a method's `self.mode`): decided.
        `type(x) is C` is a class test (ClassTest)."""
        left = node.left
        if (
            isinstance(left, gast.Call)
            and self._value_of(left.func) is type
            and len(left.args) == 1
            and len(node.ops) == 1
            and isinstance(node.ops[0], (gast.Is, gast.IsNot, gast.Eq, gast.NotEq))
        ):
            negated = isinstance(node.ops[0], (gast.IsNot, gast.NotEq))
            test = functools.partial(ClassTest, exact=True, negated=negated)
            return self._class_test(node, left.args[0], node.comparators[0], test)
        node = self.generic_visit(node)
        operands = [node.left, *node.comparators]
        if not all(isinstance(o, gast.Constant) and isinstance(o.value, str) for o in operands):
            return node
        if not all(isinstance(op, (gast.Eq, gast.NotEq)) for op in node.ops):
            return node
        pairs = zip(operands, operands[1:], node.ops)
        value = all((a.value == b.value) == isinstance(op, gast.Eq) for a, b, op in pairs)
        return gast.copy_location(gast.Constant(value, None), node)

    def visit_Name(self, node):
        if not isinstance(node.ctx, gast.Load) or node.id in self.resolved.local_names:
            return node
        value = self._lookup(node.id, node)
        return node if value is _MISSING else self._classify(value, node, node.id)

    def visit_Attribute(self, node):
        chain = rules.dotted_name(node)
        root = chain.split(".")[0] if chain else None
        if root is None or root in self.resolved.local_names:
            return self.generic_visit(node)
        value = self._lookup(root, node)
        for attr in chain.split(".")[1:]:
            if value is _MISSING:
                return node
            value = getattr(value, attr, _MISSING)
            if value is _MISSING:
                return self._problem(node, f"{chain!r}: {attr!r} is not an attribute of {root!r}")
        return self._classify(value, node, chain)

    def visit_Subscript(self, node):
        if self._vjp_part(node) == 0:  # the value: g(x, y)
            maker = node.value
            return self.visit(
                gast.copy_location(gast.Call(maker.args[0], maker.args[1:], []), node)
            )
        concatenator = self._value_of(node.value)
        if concatenator is np.r_:
            return self._index_concatenation(node, "np.r_", self._r_piece, "np.concatenate")
        if concatenator is np.c_:
            return self._index_concatenation(node, "np.c_", self._c_piece, "np.column_stack")
        return self.generic_visit(node)

    def _index_concatenation(self, node, spelled, piece, join):
        """`np.r_[a, b, 1:3]` -> `np.concatenate((np.atleast_1d(a), np.atleast_1d(b),
        np.arange(1, 3)))`; `np.c_[a, b]` -> `np.column_stack((a, b))` (the same for pieces of
        rank 1 and 2; column_stack refuses others)."""
        items = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        pieces = []
        for item in items:
            if isinstance(item, gast.Constant) and isinstance(item.value, str):
                return self._problem(
                    node, f"{spelled}[...] with a string directive is not supported"
                )
            pieces.append(piece(item, node, spelled))
            if pieces[-1] is None:
                return node
        tuple_node = gast.copy_location(gast.Tuple(pieces, gast.Load()), node)
        return gast.copy_location(gast.Call(rules.dotted(join), [tuple_node], []), node)

    def _r_piece(self, item, node, spelled):
        """One piece of `np.r_[...]`: a slice as its np.arange, anything else at least 1-d."""
        if not isinstance(item, gast.Slice):
            return self._call("np.atleast_1d", [self.visit(item)], node)
        step = item.step
        if isinstance(step, gast.Constant) and isinstance(step.value, complex):
            self._problem(node, f"{spelled}[...] with a complex step (a linspace) is not supported")
            return None
        bounds = [item.lower or gast.Constant(0, None), item.upper, step or gast.Constant(1, None)]
        if item.upper is None:
            self._problem(node, f"a slice in {spelled}[...] needs its end")
            return None
        return self._call("np.arange", [self.visit(b) for b in bounds], node)

    def _c_piece(self, item, node, spelled):
        if isinstance(item, gast.Slice):
            self._problem(node, f"a slice in {spelled}[...] is not supported")
            return None
        return self.visit(item)

    @staticmethod
    def _call(function, args, node):
        return gast.copy_location(gast.Call(rules.dotted(function), args, []), node)

    def visit_Call(self, node):
        if self._value_of(node.func) is isinstance and len(node.args) == 2 and not node.keywords:
            return self._class_test(node, node.args[0], node.args[1], ClassTest)
        if self._value_of(node.func) is dict:
            return self.visit(self._dict_display(node))
        _dtypes_named(node)
        if self._refers_to_jvp(node.func):
            return self._jvp_call(node)
        if self._vjp_part(node.func) == 1:
            return self._pullback_call(node)
        if self._is_vmap(node.func):
            return self._vmap_call(node)
        if isinstance(node.func, gast.Call) and self._transformation(node.func.func) not in (
            None,
            "jvp",
        ):
            return self._written_transformation_call(node)
        called = self._value_of(node.func)
        if isinstance(getattr(called, "kind", None), Kind) and called.inlinable is None:
            return self._transformed_call(called, node)
        node = self.generic_visit(node)
        if rules.dotted_name(node.func) == "np.einsum" and not _is_string(node.args[:1]):
            return self._einsum_of_sublists(node)
        return node

    def _written_transformation_call(self, node):
        """`grad(g, argnums=1)(x, y)` written inside the function: `g` defined outside it, or a
        lambda there (the caller's variables it reads passed after the arguments)."""
        maker = node.func
        name = self._transformation(maker.func)
        if name not in inner.WRITTEN:
            return self._unsupported_transformation(node, name)
        try:
            options = {
                kw.arg: ast.literal_eval(emitter.emit(gast.Expr(kw.value)).strip())
                for kw in maker.keywords
            }
            options.update(zip(("argnums", "has_aux"), (_literal(a) for a in maker.args[1:])))
        except (ValueError, SyntaxError, TypeError):
            return self._problem(
                node,
                f"the options of s2sjax.{name} inside a transformed function must be written as "
                "constants",
                f"write s2sjax.{name}(g, argnums=0)(x)",
            )
        if not maker.args or "target" in options:
            return self._problem(
                node,
                f"s2sjax.{name} inside a transformed function takes the function first, by "
                "position, and no target (the outer transformation's applies)",
                f"write s2sjax.{name}(g)(x)",
            )
        fun, outer = self._transformed_function(maker.args[0], node, name)
        if fun is None:
            return node
        try:
            transformed = self._value_of(maker.func)(fun, **options, target="python")
        except (TypeError, ValueError) as exc:
            return self._problem(node, str(exc))
        return self._transformed_call(transformed, node, outer)

    def _transformed_function(self, node, call, name):
        """(the function `node` gives a transformation written inside the function, the caller's
        variables it reads), or (None, None) with the problem recorded."""
        if not isinstance(node, gast.Lambda):
            fun = self._function(node, call, f"s2sjax.{name}")
            if fun is not None:
                self._assume(fun, rules.dotted_name(node))
            return fun, []
        lam = node
        if lam.args.vararg or lam.args.kwarg or lam.args.kwonlyargs or lam.args.defaults:
            self._problem(
                call,
                f"a lambda given to s2sjax.{name} inside a transformed function takes plain "
                "positional parameters",
            )
            return None, None
        params = [a.id for a in lam.args.args]
        read = {
            n.id
            for n in gast.walk(lam.body)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
        }
        outer = sorted(n for n in read - set(params) if n in self.resolved.local_names)
        return self._lifted(lam, params + outer), outer

    def _transformed_call(self, transformed, node, outer=()):
        """`df(x)`, `df` a gradient or a Jacobian (a Transformed): a call of its generated code.

        Opaque in pass 1 (type inference generates the code for the arguments' types), inlined
        in pass 2, its hidden arguments (arrays it captured) captured again here.
        """
        refused = inner.refusal(transformed)
        if refused is not None:
            return self._problem(node, *refused)
        if node.keywords or any(isinstance(a, gast.Starred) for a in node.args):
            return self._problem(
                node,
                f"a {transformed.kind.name} called inside a transformed function takes its "
                "arguments by position",
                "write df(x, y)",
            )
        call = self.jvp_calls.meet(
            transformed.fun, self.function.location, node, (), transformed=transformed
        )
        args = [self.visit(a) for a in node.args]
        args += [gast.copy_location(gast.Name(n, gast.Load(), None, None), node) for n in outer]
        fun_name = getattr(transformed, "__name__", "f").replace("<lambda>", "lambda")
        return self._inner_call(call, node, args, f"{fun_name}_{transformed.kind.name}")

    def _vjp_part(self, node):
        """0 or 1 for `s2sjax.vjp(g, x)[0]` (the value) or `[1]` (the pullback), else None."""
        if not (
            isinstance(node, gast.Subscript)
            and isinstance(node.value, gast.Call)
            and self._transformation(node.value.func) == "vjp"
            and isinstance(node.slice, gast.Constant)
        ):
            return None
        return node.slice.value if node.slice.value in (0, 1) else None

    def _pullback_call(self, node):
        """`s2sjax.vjp(g, x, y)[1](ct)`: the gradient of `<g(x, y), ct>` over x and y, inlined
        like a gradient called inside (pullbacks.py)."""
        maker = node.func.value
        arguments = maker.args[1:] + node.args
        if (
            maker.keywords
            or node.keywords
            or len(node.args) != 1
            or len(maker.args) < 2
            or any(isinstance(a, gast.Starred) for a in arguments)
        ):
            return self._problem(
                node,
                "the pullback of s2sjax.vjp inside a transformed function is called with one "
                "cotangent, and vjp takes the function and its primals by position, without "
                "has_aux",
                "write s2sjax.vjp(g, x, y)[1](ct)",
            )
        fun, outer = self._transformed_function(maker.args[0], node, "vjp")
        if fun is None:
            return node
        call = self.jvp_calls.meet(fun, self.function.location, node, ())
        call.pulled = len(outer)
        # s2sjax.grad, from the module that defines the vjp called (the api imports this one)
        call.grad = sys.modules[self._value_of(maker.func).__module__].grad
        primals = [self.visit(a) for a in maker.args[1:]]
        outer = [gast.copy_location(gast.Name(n, gast.Load(), None, None), node) for n in outer]
        cotangent = [self.visit(node.args[0])]
        if call.function is not None:  # pass 2: the gradient takes leaves (jvpcalls._pulled)
            primals = _leaves_of(primals, call.leaf_paths[:-1])
            cotangent = _leaves_of(cotangent, call.leaf_paths[-1:])
        args = primals + outer + cotangent
        return self._inner_call(call, node, args, f"{fun.__name__}_pullback")

    def _inner_call(self, call, node, args, spelled):
        """A call of a transformation's generated code: opaque in pass 1, inlined in pass 2."""
        name = self.namer.fresh(spelled.replace("<lambda>", "lambda"))
        if call.function is None:
            self.jvp_calls.by_name[name] = call
            self.resolved.functions[name] = call
        else:
            code = call.generated
            args += self._capture_all(Captured(f"{name}_hidden", read) for read in code.hidden)
            self.resolved.functions[name] = call.function
            self.resolved.assumptions += code.assumptions
        return gast.copy_location(
            gast.Call(gast.Name(name, gast.Load(), None, None), args, []), node
        )

    def _dict_display(self, call):
        """`dict(a=x)`, `dict([("a", x)], b=y)`, `dict({"a": x})`: the dict display; `dict(d)` of
        a variable is `d` (a dict is structure, never updated in place, so a copy is the same)."""
        first = call.args[0] if call.args else gast.Dict([], [])
        if len(call.args) > 1 or any(k.arg is None for k in call.keywords):
            return self._problem(call, "dict() takes one mapping or list of pairs, and keywords")
        if isinstance(first, gast.Name) and not call.keywords:
            return first
        if isinstance(first, (gast.List, gast.Tuple)) and all(
            isinstance(p, (gast.List, gast.Tuple)) and len(p.elts) == 2 for p in first.elts
        ):
            first = gast.Dict([p.elts[0] for p in first.elts], [p.elts[1] for p in first.elts])
        if not isinstance(first, gast.Dict):
            return self._problem(
                call,
                "dict() takes a dict display, a list of (key, value) pairs written in the code, "
                "a variable holding a dict, or keywords",
            )
        keys = first.keys + [gast.Constant(k.arg, None) for k in call.keywords]
        values = first.values + [k.value for k in call.keywords]
        return gast.copy_location(gast.Dict(keys, values), call)

    def _class_test(self, node, value, classes, make):
        """A call of a ClassTest marker on `value`, for the classes `classes` names."""
        spelled = classes.elts if isinstance(classes, gast.Tuple) else [classes]
        found = tuple(self._value_of(c) for c in spelled)
        if not all(isinstance(c, type) for c in found):
            return self._problem(
                node, "the classes of isinstance() or type() must be classes named in the code"
            )
        key = self.namer.fresh("class_test")
        self.resolved.functions[key] = make(found)
        call = gast.Call(gast.Name(key, gast.Load(), None, None), [self.visit(value)], [])
        return gast.copy_location(call, node)

    def _einsum_of_sublists(self, call):
        """`np.einsum(A, [0, 1], B, [1, 2], [0, 2])` -> `np.einsum('ab,bc->ac', A, B)`."""
        # an odd count: the last sublist is the output's
        operands = call.args[: len(call.args) // 2 * 2 : 2]
        sublists = call.args[1::2] + call.args[len(operands) * 2 :]
        try:
            terms = [_einsum_term(s) for s in sublists]
        except ValueError as exc:
            return self._problem(
                call,
                f"np.einsum's sublists must be tuples or lists of ints written in the code or held "
                f"in a global or closure ({exc})",
            )
        subscripts = ",".join(terms[: len(operands)])
        if len(terms) > len(operands):
            subscripts += "->" + terms[-1]
        call.args = [gast.Constant(subscripts, None)] + operands
        return call

    def _unsupported_transformation(self, node, name):
        """The problem of an s2sjax transformation used inside a transformed function other than as
        s2sjax.vmap(g, ...)(x) or s2sjax.jvp(g, primals, tangents)."""
        if name == "vmap":
            return self._problem(
                node,
                "s2sjax.vmap inside a transformed function must be called where it is written",
                "write s2sjax.vmap(g, in_axes=...)(x)",
            )
        if name == "jvp":
            return self._problem(
                node,
                "s2sjax.jvp inside a transformed function must be called where it is written",
                "write s2sjax.jvp(g, (x, y), (vx, vy))",
            )
        if name == "vjp":
            return self._problem(
                node,
                "s2sjax.vjp inside a transformed function must be indexed where it is written: "
                "its value [0], or its pullback [1] called there",
                "write s2sjax.vjp(g, x, y)[1](ct) (and g(x, y) for the value)",
            )
        return self._problem(
            node,
            f"s2sjax.{name} inside a transformed function is not supported (vmap, jvp, grad, "
            "value_and_grad, jacfwd, jacrev and hessian are)",
            _WHOLE,
        )

    def _transformation(self, func):
        """The name of the s2sjax transformation that `func` refers to, or None."""
        return _transformation_named(self._value_of(func))

    def _refers_to_jvp(self, func):
        return _transformation_named(self._value_of(func)) == "jvp"

    def _is_vmap(self, func):
        """Whether `func` is a call `s2sjax.vmap(...)`: calling it is a vmap written in place."""
        return isinstance(func, gast.Call) and self._transformation(func.func) == "vmap"

    def _vmap_call(self, node):
        """`vmap(g, in_axes=(None, 0))(x, ys)`, written inside the function.

        Its batch loop is inlined like that of any vmapped function. `g` is a function defined
        outside, a lambda written there (lifted out, the caller's variables it reads becoming
        parameters mapped along no axis), or such a vmap again.
        """
        if node.keywords:
            return self._problem(
                node,
                "a vmap inside a transformed function takes its arguments by position",
                "write vmap(g, in_axes=...)(x, y)",
            )
        batched, outer = self._vmap_of(node.func)
        if batched is None:
            return node
        try:
            inlinable = batched.inlinable()
        except (TypeError, ValueError) as exc:
            return self._problem(node, str(exc))
        key = self.namer.fresh(inlinable.__name__)
        self.resolved.functions[key] = inlinable
        args = [self.visit(a) for a in node.args]
        args += [
            self.visit(gast.copy_location(gast.Name(n, gast.Load(), None, None), node))
            for n in outer
        ]
        return gast.copy_location(
            gast.Call(gast.Name(key, gast.Load(), None, None), args, []), node
        )

    def _vmap_of(self, vmap_call):
        """(the vmapped function `vmap_call` makes, the caller's variables passed to it after the
        arguments), or (None, None) with the problem recorded."""
        try:
            options = {
                name: ast.literal_eval(emitter.emit(gast.Expr(value)).strip())
                for name, value in _vmap_options(vmap_call)
            }
        except (ValueError, SyntaxError, TypeError):
            self._problem(
                vmap_call,
                "the options of a vmap inside a transformed function must be written as constants",
                "write vmap(g, in_axes=(0, None), out_axes=0)",
            )
            return None, None
        if not vmap_call.args or "fun" in options:
            self._problem(
                vmap_call,
                "a vmap inside a transformed function takes the function first, by position",
                "write vmap(g, in_axes=...)(x)",
            )
            return None, None
        fun, params, outer = self._vmapped(vmap_call.args[0], vmap_call)
        if fun is None:
            return None, None
        in_axes = options.pop("in_axes", 0)
        if outer:  # the caller's variables: mapped along no axis
            if isinstance(in_axes, (tuple, list)) and len(in_axes) != len(params):
                self._problem(
                    vmap_call,
                    f"vmap in_axes has {len(in_axes)} entries for a function of {len(params)} "
                    f"parameters ({', '.join(params)})",
                )
                return None, None
            in_axes = (
                tuple(in_axes) if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(params)
            )
            in_axes += (None,) * len(outer)
        try:
            vmap = self._value_of(vmap_call.func)
            return vmap(fun, in_axes=in_axes, **options), outer
        except (TypeError, ValueError) as exc:
            self._problem(vmap_call, str(exc))
            return None, None

    def _vmapped(self, node, vmap_call):
        """(the function `node` gives vmap, its parameters, the caller's variables it reads), or
        Nones with the problem recorded."""
        if isinstance(node, gast.Lambda):
            lam = node
            params = [a.id for a in lam.args.args]
            if lam.args.vararg or lam.args.kwarg or lam.args.kwonlyargs or lam.args.defaults:
                self._problem(
                    vmap_call,
                    "a vmapped lambda inside a transformed function takes plain positional "
                    "parameters",
                )
                return None, None, None
            read = {
                n.id
                for n in gast.walk(lam.body)
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
            }
            functions = self._closure_functions(read - set(params))
            outer = sorted(
                n
                for n in read - set(params) - set(functions)
                if n in self.resolved.local_names or n in self.function.closure
            )
            return self._lifted(lam, params + outer, functions), params, outer
        if self._is_vmap(node):
            inner, outer = self._vmap_of(node)
            return (
                (None, None, None)
                if inner is None
                else (inner, inner.param_names[: len(inner.param_names) - len(outer)], outer)
            )
        if isinstance(node, gast.Call) and self._transformation(node.func):
            self._problem(
                vmap_call,
                f"a vmap inside a transformed function maps a Python function (or a vmap of one), "
                f"not a {self._transformation(node.func)}",
                _WHOLE,
            )
            return None, None, None
        chain = rules.dotted_name(node)
        value = self._value_of(node) if chain else _MISSING
        if value is _MISSING or not callable(value):
            self._problem(
                vmap_call,
                "the function a vmap maps inside a transformed function must be defined outside "
                "it, or be a lambda written in the call",
                "define it at module level, or write vmap(lambda y: g(x, y))(ys)",
            )
            return None, None, None
        self._assume(value, chain)
        return value, None, []

    def _closure_functions(self, names):
        """{name: function} of the `names` that the enclosing function's closure binds to
        functions (`func` in `vmap(lambda y: func(x, y))`, `func` a parameter of the function
        enclosing it), or that are parameters a call site gives functions: a lambda lifted out
        reads them as globals, as constants of its code."""
        found = {n: f for n, f in self.given_functions.items() if n in names}
        for name in names - self.resolved.local_names:
            value = self.function.closure.get(name, _MISSING)
            if callable(value) and not isinstance(value, type):
                self._assume(value, name)
                found[name] = value
        return found

    def _lifted(self, lam, params, functions=None):
        """The lambda as a module-level function of `params`, its source kept in linecache;
        `functions`: closure values it reads as globals."""
        where = f"{os.path.basename(self.function.location.filename)}:{getattr(lam, 'lineno', '?')}"
        body = emitter.emit(gast.Expr(lam.body)).strip()
        name = f"lambda_at_line_{getattr(lam, 'lineno', 0)}"
        source = f"def {name}({', '.join(params)}):\n    return {body}\n"
        filename = f"<s2sjax: the lambda at {where}, lifted out of {self.function.tree.name}>"
        namespace = {**self.function.globals, **(functions or {})}
        lifted = function_from_source(source, name, filename, namespace)
        lifted_from(lifted, _at_lambda(source, lam), self.function.location.filename)
        return lifted

    def _value_of(self, node):
        """What a dotted name outside the function refers to, or _MISSING (nothing recorded)."""
        chain = rules.dotted_name(node)
        root, *attrs = chain.split(".") if chain else [None]
        if root is None or root in self.resolved.local_names:
            return _MISSING
        value = self.scope.get(root, getattr(builtins, root, _MISSING))
        for attr in attrs:
            value = getattr(value, attr, _MISSING)
        return value

    def _jvp_call(self, node):
        """`s2sjax.jvp(g, (x, y), (vx, vy))` -> a call of g's JVP.

        Opaque in pass 1, inlined in pass 2.
        """
        if node.keywords or len(node.args) != 3:
            return self._problem(
                node,
                "s2sjax.jvp in a transformed function takes (fun, primals, tangents), by position",
            )
        fun_node, primals, tangents = node.args
        if not all(isinstance(n, (gast.Tuple, gast.List)) for n in (primals, tangents)):
            return self._problem(
                node,
                "s2sjax.jvp in a transformed function needs its primals and tangents "
                "written as tuples",
                "write jvp(f, (x, y), (vx, vy))",
            )
        if len(primals.elts) != len(tangents.elts):
            return self._problem(
                node,
                "jvp called with different primal and tangent tuple lengths: "
                f"{len(primals.elts)} primals and {len(tangents.elts)} tangents.",
            )
        fun = self._function(fun_node, node)
        defaults = None if fun is None else self._defaults(fun, len(primals.elts), node)
        if defaults is None:
            return node
        call = self.jvp_calls.meet(fun, self.function.location, node, defaults)
        args = [self.visit(e) for e in primals.elts + tangents.elts]
        name = self.namer.fresh(f"{fun.__name__.replace('<lambda>', 'lambda')}_jvp")
        if call.function is None:
            self.jvp_calls.by_name[name] = call
            self.resolved.functions[name] = call
        else:
            primals, tangents = args[: len(primals.elts)], args[len(primals.elts) :]
            if call.leaf_paths is None:
                primals += [gast.Constant(d, None) for d in defaults]
            else:  # tuples among the primals: the JVP takes their leaves
                primals, tangents = (
                    _leaves_of(primals, call.leaf_paths),
                    _leaves_of(tangents, call.leaf_paths),
                )
            args = (
                primals
                + [tangents[i] for i in call.argnums]
                + self._capture_all(call.generated.captured)
            )
            self.resolved.functions[name] = call.function
        return gast.copy_location(
            gast.Call(gast.Name(name, gast.Load(), None, None), args, []), node
        )

    def _function(self, node, call, spelled="s2sjax.jvp"):
        """The plain Python function `node` names, or None (with a problem recorded at the call)."""
        chain = rules.dotted_name(node)
        if chain is None or chain.split(".")[0] in self.resolved.local_names:
            self._problem(
                call,
                f"the function given to {spelled} in a transformed function must be defined "
                "outside it (or be a lambda written there)",
                "define it at module level (a def or a lambda)",
            )
            return None
        value = self._value_of(node)
        if not inspect.isfunction(value):
            self._problem(
                call,
                f"{chain!r} is not a plain Python function; {spelled} in a transformed function "
                "differentiates one",
            )
            return None
        return value

    def _defaults(self, fun, count, node):
        """The default values of `fun`'s parameters after the first `count`.

        None when they cannot be had (a problem recorded).
        """
        params = list(inspect.signature(fun).parameters.values())
        if count > len(params):
            self._problem(
                node,
                f"s2sjax.jvp gives {fun.__name__}() {count} primals; "
                f"it takes {len(params)} arguments",
            )
            return None
        rest = params[count:]
        if any(p.default is inspect.Parameter.empty for p in rest):
            self._problem(
                node, f"s2sjax.jvp gives {fun.__name__}() {count} primals; it needs {len(params)}"
            )
            return None
        if not all(isinstance(p.default, (bool, int, float)) for p in rest):
            self._problem(
                node,
                f"{fun.__name__}() has a default that is not a number",
                "give s2sjax.jvp a primal for every parameter",
            )
            return None
        return tuple(p.default for p in rest)

    def _capture_all(self, captured):
        """Captured values of generated code, captured again by this function.

        Returns their names, to pass on.
        """
        names = []
        for c in captured:
            name = self.namer.fresh(c.name)
            self.resolved.captured.append(Captured(name, c.read))
            names.append(gast.Name(name, gast.Load(), None, None))
        return names

    def _lookup(self, name, node):
        value = self.scope.get(name, _MISSING)
        if value is _MISSING:
            value = getattr(builtins, name, _MISSING)
        if value is _MISSING:
            self._problem(node, f"name {name!r} is not defined")
        return value

    def _problem(self, node, message, hint=None):
        self.resolved.problems[id(node)] = (message, hint)
        return node

    def _classify(self, value, node, spelled):
        transformation = _transformation_named(value)
        if transformation is not None:
            return self._unsupported_transformation(node, transformation)
        rule = rules.lookup(value) if _hashable_callable(value) else None
        if rule is not None:
            return gast.copy_location(rules.dotted(rule.name), node)
        if (
            isinstance(value, (bool, int, float, np.number, str))
            or value is None
            or value is Ellipsis
        ):
            self._assume(value, spelled)
            return gast.copy_location(gast.Constant(_python_number(value), None), node)
        if isinstance(value, np.ndarray):
            if spelled.split(".")[0] == self.function.bound_self:
                return self._problem(
                    node,
                    f"{spelled!r} is an array held by the object: s2sjax reads only numbers, "
                    "strings and bools from a method's self",
                    "pass the array as an argument of the method",
                )
            return self._capture(value, node, spelled)
        if class_record(value) is not None:  # P(w, b): a namedtuple or dataclass built in code
            self._assume(value, spelled)
            value = class_record(value)
        if isinstance(value, Record):  # an object argument, rebuilt by the adapter
            key = self.namer.fresh(f"record_{value.spelled}")
            self.resolved.functions[key] = value
            return gast.copy_location(gast.Name(key, gast.Load(), None, None), node)
        if isinstance(value, (tuple, list)) and _is_constant_display(value):
            return self._display(value, node, spelled)
        if callable(getattr(value, "inlinable", None)) or _inlinable(value):
            self._assume(value, spelled)
        if callable(getattr(value, "inlinable", None)):  # a vmapped function: inline its batch loop
            try:
                value = value.inlinable()
            except TypeError as exc:
                return self._problem(node, str(exc))
        if _inlinable(value):
            key = self.namer.fresh(value.__name__.replace("<lambda>", "lambda_"))
            self.resolved.functions[key] = value
            return gast.copy_location(gast.Name(key, gast.Load(), None, None), node)
        if isinstance(value, pytypes.ModuleType):
            return self._problem(node, f"module {spelled!r} cannot be used as a value")
        refused = rules.refusal(value) if _hashable_callable(value) else None
        if refused is not None:
            return self._problem(node, f"{spelled!r} is not supported: {refused[0]}", refused[1])
        if callable(value):
            return self._problem(
                node,
                f"{spelled!r} has no Python source and no derivative rule",
                "use a NumPy or math function s2sjax knows",
            )
        return self._problem(
            node,
            f"{spelled!r} is a {type(value).__name__}, "
            "which s2sjax cannot use in a transformed function",
        )

    def _display(self, value, node, spelled):
        """A tuple or list of numbers and arrays from a global or closure, as a display written in
        the code: its numbers as literals, its arrays captured; the code holds while its
        structure and numbers do."""
        reader = self._reader(spelled)
        self.resolved.assumptions.append(Assumption(lambda: _skeleton(reader()), _skeleton(value)))
        return self._display_of(value, node, spelled, lambda: reader)

    def _display_of(self, value, node, spelled, read):
        """The display of `value` (`read()()` reads it anew), at `node`."""
        if isinstance(value, np.ndarray):
            name = self.namer.fresh(spelled.replace(".", "_"))
            self.resolved.captured.append(Captured(name, read()))
            return gast.copy_location(gast.Name(name, gast.Load(), None, None), node)
        if not isinstance(value, (tuple, list)):
            return gast.copy_location(gast.Constant(_python_number(value), None), node)
        elements = [
            self._display_of(v, node, spelled, lambda k=k: _item_reader(read(), k))
            for k, v in enumerate(value)
        ]
        display = gast.Tuple if isinstance(value, tuple) else gast.List
        return gast.copy_location(display(elements, gast.Load()), node)

    def _capture(self, value, node, spelled):
        name = self.namer.fresh(spelled.replace(".", "_"))
        self.resolved.captured.append(Captured(name, self._reader(spelled)))
        return gast.copy_location(gast.Name(name, gast.Load(), None, None), node)

    def _assume(self, value, spelled):
        """Record that the code is written for `value` of the global or closure `spelled`."""
        root = spelled.split(".")[0]
        if root in self.function.closure or root in self.function.globals:  # not a builtin
            self.resolved.assumptions.append(Assumption(self._reader(spelled), value))

    def _reader(self, spelled):
        """() -> the current value of the global or closure variable `spelled` (`a.b` too)."""
        root, *attrs = spelled.split(".")
        if root == self.function.bound_self:
            read_root = lambda f=self.function.pyfunc: f.__self__  # noqa: E731
        elif root in self.function.closure:
            cell = self.function.pyfunc.__closure__[
                self.function.pyfunc.__code__.co_freevars.index(root)
            ]
            read_root = lambda c=cell: c.cell_contents  # noqa: E731
        else:
            read_root = lambda g=self.function.globals, k=root: g[k]  # noqa: E731
        return lambda: functools.reduce(
            getattr, attrs, read_root()
        )  # the current value, every call


@dataclass(frozen=True)
class ClassTest:
    """`isinstance(x, classes)` or, `exact`, `type(x) is C` (`negated`: `is not`, `!=`), which
    normalize decides when the class of `x` is known."""

    classes: tuple
    exact: bool = False
    negated: bool = False

    @property
    def spelled(self):
        return "type(x) is C" if self.exact else "isinstance(x, C)"

    def holds(self, cls):
        """Whether the test holds of a value of class `cls`; None when that depends on which of
        the classes it may be (a float of either width) it has."""
        answers = {self._holds(c) for c in classes_it_may_be(cls)}
        return answers.pop() if len(answers) == 1 else None

    def _holds(self, cls):
        found = cls in self.classes if self.exact else issubclass(cls, self.classes)
        return found != self.negated


_FOLDABLE = (
    gast.Constant,
    gast.Compare,
    gast.BoolOp,
    gast.BinOp,
    gast.UnaryOp,
    gast.expr_context,
    gast.operator,
    gast.unaryop,
    gast.boolop,
    gast.cmpop,
)


def _constant_value(node):
    """The value of an expression of number constants (a comprehension's condition once its loop
    variable is a number), or _MISSING."""
    if not all(isinstance(n, _FOLDABLE) for n in gast.walk(node)):
        return _MISSING
    expression = ast.fix_missing_locations(ast.Expression(gast.gast_to_ast(node)))
    try:
        return eval(compile(expression, "<condition>", "eval"), {"__builtins__": {}})
    except Exception:  # Python's own error at run time: the fence refuses the comprehension
        return _MISSING


def _is_text(node):
    return isinstance(node, gast.Constant) and isinstance(node.value, str)


def _message_text(joined):
    """An f-string's text, its fields written as in the source: `f"bad {n}"` -> "bad {n}"."""
    parts = []
    for value in joined.values:
        if isinstance(value, gast.Constant):
            parts.append(str(value.value))
        else:
            parts.append("{" + emitter.emit(value.value).strip() + "}")
    return gast.copy_location(gast.Constant("".join(parts), None), joined)


def _dtypes_named(call):
    """`x.astype("float64")`, `dtype="float32"`: a dtype given as a string is its NumPy name
    (`np.float64`), where s2sjax has it."""
    given = [k for k in call.keywords if k.arg == "dtype"]
    if isinstance(call.func, gast.Attribute) and call.func.attr == "astype" and call.args:
        given.append(call)  # its first argument, below
    for holder in given:
        value = holder.args[0] if holder is call else holder.value
        if not (isinstance(value, gast.Constant) and isinstance(value.value, str)):
            continue
        try:
            spelled = "np." + (
                "bool_" if np.dtype(value.value) == bool else np.dtype(value.value).name
            )
        except TypeError:
            continue  # not a dtype: the fence refuses the string
        if rules.by_name(spelled) is not None:
            named = gast.copy_location(rules.dotted(spelled), value)
            if holder is call:
                call.args[0] = named
            else:
                holder.value = named


def _inlinable(value):
    """Whether `value` is a function the front end inlines: a plain one, or a method bound to an
    object whose attributes it reads as constants (`self.helper`)."""
    return inspect.isfunction(value) or (
        inspect.ismethod(value) and inspect.isfunction(value.__func__)
    )


def _static_iteration(it):
    """The element nodes that iterating `it` gives, where known now (a range of int constants,
    a list or tuple display), or None."""
    if isinstance(it, (gast.List, gast.Tuple)):
        return it.elts
    if not (isinstance(it, gast.Call) and rules.dotted_name(it.func) == "range") or it.keywords:
        return None
    bounds = [a.value if isinstance(a, gast.Constant) else None for a in it.args]
    if not bounds or any(type(b) is not int for b in bounds):
        return None
    return [gast.Constant(i, None) for i in range(*bounds)]


class _Substitute(gast.NodeTransformer):
    """Replaces the loads of one name by copies of a node (a comprehension's element for its
    loop variable)."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def visit_Name(self, node):
        if node.id == self.name and isinstance(node.ctx, gast.Load):
            return gast.copy_location(copy.deepcopy(self.value), node)
        return node


def _literal(node):
    return ast.literal_eval(emitter.emit(gast.Expr(node)).strip())


def _transformation_named(value):
    """The name of the s2sjax transformation `value` is (api.py marks them), or None."""
    return getattr(value, "s2sjax_transformation", None) if callable(value) else None


def _leaves_of(nodes, leaf_paths):
    """`p[0], p[1][0], ...`: the leaves of the tuples `nodes`, at their `leaf_paths`."""
    leaves = []
    for node, paths in zip(nodes, leaf_paths):
        for path in paths:
            leaf = node
            for i in path:
                leaf = gast.copy_location(
                    gast.Subscript(copy.deepcopy(leaf), gast.Constant(i, None), gast.Load()), node
                )
            leaves.append(leaf)
    return leaves


def _vmap_options(call):
    """(name, node) of each option of a `vmap(fun, ...)` call, positional ones named."""
    named = list(zip(("in_axes", "out_axes", "axis_size"), call.args[1:]))
    return named + [(kw.arg, kw.value) for kw in call.keywords]


def _hashable_callable(value):
    return callable(value) or isinstance(value, type)


def _is_constant_display(value):
    """Whether `value` is a (nested) tuple or list of numbers, bools, None, ... and arrays."""
    if isinstance(value, (tuple, list)):
        return all(_is_constant_display(v) for v in value)
    return (
        value is None
        or value is Ellipsis
        or isinstance(value, (bool, int, float, np.number, np.ndarray))
    )


def _is_string(nodes):
    return bool(nodes) and isinstance(nodes[0], gast.Constant) and isinstance(nodes[0].value, str)


def _einsum_term(sublist):
    """The subscripts of one einsum sublist display: ints 0-51 as NumPy's letters, `...`."""
    if not isinstance(sublist, (gast.Tuple, gast.List)):
        raise ValueError("one is not a display")
    term = ""
    for element in sublist.elts:
        value = element.value if isinstance(element, gast.Constant) else None
        if value is Ellipsis:
            term += "..."
        elif type(value) is int and 0 <= value < 2 * len(string.ascii_lowercase):
            term += string.ascii_letters[value]
        else:
            raise ValueError("an element is not an int from 0 to 51 or Ellipsis")
    return term


def _skeleton(value):
    """`value` with its arrays as their dtype and rank: what code written for it assumes."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype, value.ndim)
    if isinstance(value, (tuple, list)):
        return type(value), tuple(_skeleton(v) for v in value)
    return type(value), value


def _item_reader(read, k):
    """() -> the current element `k` of what `read()` gives."""
    return lambda: read()[k]


def _python_number(value):
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _at_lambda(source, lam):
    """The tree of a lifted lambda's `source`, its body the lambda's own nodes and every other
    node at the lambda: errors in it name the user's line, not the lifted source's."""
    fdef = gast.parse(source).body[0]
    body = copy.deepcopy(lam.body)
    fdef.body[0].value = body
    inside = {id(n) for n in gast.walk(body)}
    for node in gast.walk(fdef):
        if id(node) not in inside and hasattr(node, "lineno"):
            gast.copy_location(node, lam)
    return fdef
