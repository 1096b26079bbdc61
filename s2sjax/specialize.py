"""wrap: the generated code for one abstract signature, compiled, with its calling convention.

A `Specialization` generates the code a `Transformed` needs for arguments
like the ones it was given, compiles it, and calls it. Generated functions
take the user's arguments, then *hidden* ones (arrays captured from globals
and closures, read again at every call), with a JVP's tangents or a VJP's
cotangents between the two.

What gets generated, by kind, for a user's function `f`:

- grad, value_and_grad: the reverse transform of `f`;
- jvp: the forward transform; vjp: the reverse transform seeded with
  cotangents, plus `f` itself (kind primal) for the output;
- jacfwd: a basis loop around the JVP; jacrev: a basis loop around the VJP
  (wrappers.py), inlined into one function.

When `f` is itself a transformed function, its generated code is what gets
transformed, always in forward mode: grad and jacrev of it are jacfwd's loop.
"""
import copy
import functools
import inspect
import os
import re
from dataclasses import replace

import numpy as np

from . import batching, extend, pipeline, wrappers
from .backend import compile as backend
from .backend.naming import GENERATED_MODULE_PREFIX, user_line_above
from .errors import TransformError, check_not_complex, real_input_error
from .abstract import Type, of_value
from .frontend.parse import function_from_source
from .pytree import tree_leaves, tree_structure, tree_unflatten
from .transforms.common import generated_name
from .transforms.reverse import NonScalarOutput

GRADIENTS = ("grad", "value_and_grad")
COMPOSABLE = GRADIENTS + ("jacfwd", "jacrev", "primal", "vmap")  # kinds whose code is a plain function of the arguments


class Specialization:
    def __init__(self, transformed, args, axes=None, static=()):
        self.transformed = transformed
        self.as_python = {}  # attribute -> its compiled function's Python twin, to locate errors
        self.serial = {}  # attribute -> a builder of its code compiled without parallel=True (target parallel)
        self.axes = axes  # vmap: per argument, its mapped axis (batching.argument_axes)
        self.static = static  # jit: the positions of static arguments, compiled in as constants
        kind = transformed.kind
        check_not_complex(args, kind)
        self.argnums = _argnums(transformed, args)
        if transformed.argnums is not None:  # jvp and vjp pick the float arguments themselves
            for i in self.argnums:
                _check_differentiable(args[i], kind)
        examples = args if axes is None else batching.example(args, axes, 0)  # what an inner function sees
        code, self.hidden, self.assumptions, self.boundscheck, self.inner = _code_function(
            _unfused(transformed.fun), examples, kind)
        hidden_values = tuple(read() for read in self.hidden)
        self.arg_types = tuple(of_value(a) for a in args) + tuple(of_value(v) for v in hidden_values)
        self.spec = pipeline.Spec(self.arg_types, self.argnums, transformed.has_aux, transformed.target, kind,
                                  isinstance(transformed.argnums, int))
        self.generated_code = pipeline.is_generated(code)
        self.output_tree = None  # the user's lists and dicts in the result (pipeline.Generated.output_tree)
        self.code_tree = None  # the nested tuples an inlined wrapper returns (a Jacobian's, per output)
        generated = self._generate(code, args)
        self.captured = generated.captured
        imports = "from numba import cuda\n" if transformed.target == "cuda" else ""
        self.description = _describe(transformed, self.spec, axes)
        self.function_source, self.function_name = generated.source, generated.name
        self.source = backend.module_source(generated.source, self.description, imports)
        if transformed.target == "cuda":  # launched by _run_kernel
            self.kernel = getattr(backend.load_module(self.source, _stem(generated.name)), generated.name)
        else:
            self.code_function = self._load(self.source, generated.name, "call")
        self.convert = [_converter(args[i]) for i in self.argnums] if kind in GRADIENTS else []
        # 0-d arrays are scalars to the generated code (and to Numba's math functions)
        self.zero_d = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.ndim == 0]
        # The common case: the user's arguments go straight to the generated code (`self.call`).
        self.plain = transformed.target != "cuda" and not (
            self.zero_d or self.static or self.hidden or self.captured or any(self.convert) or self.output_tree
            or self.inner or self.code_tree or self.assumptions)
        if transformed.target == "cuda":
            self.run = self._run_kernel
        elif self.plain:
            self.run = self._run_plain

    # ---- generating ------------------------------------------------------

    def _pipeline(self, code, spec):
        """pipeline.generate, keeping what the code assumes (the numbers written in, the functions inlined)."""
        try:
            generated = pipeline.generate(code, spec)
        except TransformError as exc:  # in code s2sjax generated (a hessian's jacrev): name the user's line
            relocated = _in_users_code(exc, self.transformed)
            if relocated is None:
                raise
            raise relocated from None
        self.assumptions = self.assumptions + generated.assumptions
        self.boundscheck = self.boundscheck or generated.boundscheck
        return generated

    def holds(self):
        """Whether the globals and closure values the code was written for are still the same."""
        return all(a.holds() for a in self.assumptions)

    def _generate(self, code, args):
        kind, from_generated = self.transformed.kind, self.generated_code
        try:
            if kind == "vjp" and from_generated:
                raise TypeError("vjp of a transformed function is not supported; use jacfwd or jvp")
            if kind == "vjp":
                self._load_primal(code)
            if kind in ("jvp", "vjp") or (kind == "primal" and not self.static) or (kind in GRADIENTS and not from_generated):
                generated = self._pipeline(code, self.spec)
                self.output_tree = generated.output_tree
                return generated
            if kind == "vmap" and self.transformed.target == "cuda":
                return self._vmap_kernel(code)
            if kind == "vmap":
                return self._vmap(code)
            if kind == "primal" and self.static:
                return self._with_static(code, args)
            if kind == "jacrev" and not from_generated:
                return self._jacrev(code)
            return self._jacfwd(code)  # jacfwd, and grad or jacrev of generated code
        except NonScalarOutput:
            output = _call_python(self.transformed.fun, args)
            output = output[0] if self.transformed.has_aux and isinstance(output, tuple) else output
            shown = f"had shape: {np.shape(output)}" if not isinstance(output, tuple) else f"was a tuple of {len(output)}"
            raise TypeError(f"Gradient only defined for scalar-output functions. Output {shown}.") from None

    def _load_primal(self, code):
        generated = self._pipeline(code, replace(self.spec, kind="primal"))
        module_source = backend.module_source(generated.source, f"{self.transformed.__name__} itself")
        self._load(module_source, generated.name, "primal_call")

    def _jacfwd(self, code):
        """A loop of JVPs over basis vectors (also grad and jacrev of generated code)."""
        kind = self.transformed.kind
        if kind in GRADIENTS and self.transformed.has_aux:
            raise TypeError(f"{kind} with has_aux=True of a transformed function is not supported")
        jvp = self._pipeline(code, replace(self.spec, kind="jvp", target="python"))
        if kind in GRADIENTS:
            _check_single_output(jvp, kind)
            if jvp.output_types[0].ndim != 0:
                raise NonScalarOutput(jvp.output_types[0])
        else:  # jacfwd takes tuples of outputs (hessian of containers); jacrev one output
            self.output_tree = _jacobian_tree(jvp, kind)
        result = "value_and_jacobian" if kind == "value_and_grad" else "jacobian"
        wrapper = wrappers.jacfwd_source(generated_name(code.__name__, kind), self.param_names(code), [c.name for c in jvp.captured],
                                         self.wrt(code), jvp.name, result, self.spec.single, len(jvp.output_types),
                                         structured=self.output_tree is not None)
        return self._inline(wrapper, [jvp], jvp.captured)

    def _jacrev(self, code):
        """A loop of VJPs over basis cotangents."""
        spec = replace(self.spec, target="python")
        primal = self._pipeline(code, replace(spec, kind="primal"))
        self.output_tree = _jacobian_tree(primal, "jacrev")
        vjp = self._pipeline(code, replace(spec, kind="vjp"))
        wrapper = wrappers.jacrev_source(generated_name(code.__name__, "jacrev"), self.param_names(code), [c.name for c in vjp.captured],
                                         self.wrt(code), vjp.name, primal.name, self.spec.single,
                                         structured=self.output_tree is not None)
        return self._inline(wrapper, [primal, vjp], vjp.captured)

    def _vmap(self, code):
        """A loop over the examples around the per-example code, which is inlined into it."""
        batched = self.transformed
        axes, example_types = self._examples()
        example = self._pipeline(code, pipeline.Spec(example_types, target="python", kind="primal"))
        returned = batching.returned_tree(example.output_types, example.returns_tuple)
        out_axes = self._out_axes(example, returned)
        if None in out_axes:
            self._check_unmapped(code, axes, out_axes, example, returned)
        wrapper = batching.vmap_source(generated_name(code.__name__, "vmap"), self.param_names(code),
                                       [c.name for c in example.captured], axes, example.name, out_axes,
                                       returned, batched.axis_size, batched.target == "parallel",
                                       [k for k, rank in enumerate(self._ranks(example)) if rank is None])
        return self._inline(wrapper, [example], example.captured)

    def _out_axes(self, example, returned):
        """Per leaf of what the per-example code returns, its axis in the batched output (or None).

        The user's out_axes follow the structure the user gets: the lists and dicts of the
        function's result, and a transformed function's own rebuilding of its results (a
        gradient in its argument's structure).
        """
        self.output_tree = example.output_tree
        regroup = self.transformed.regroup
        per_leaf = batching.leaf_out_axes(self.transformed.out_axes, returned, lambda out: regroup(self.rebuilt(out)))
        return batching.output_axes(per_leaf, self._ranks(example))

    @staticmethod
    def _ranks(example):
        return [t.ndim for t in batching.leaf_types(example.output_types)]

    @staticmethod
    def _check_unmapped(code, axes, out_axes, example, returned):
        """JAX's error for an output that depends on a mapped argument but has out_axes None."""
        mapped = [i for i, a in enumerate(axes) if a is not None]
        outputs = returned.children if example.returns_tuple else (returned,)
        depends = [d for d, tree in zip(pipeline.mapped_outputs(code, mapped), outputs) for _ in range(tree.num_leaves)]
        if any(axis is None and d for axis, d in zip(out_axes, depends)):
            raise ValueError("vmap has mapped output but out_axes is None")

    def _examples(self):
        """Per parameter of the code function (hidden ones unmapped), its axis and one example's type."""
        axes = self.axes + (None,) * len(self.hidden)
        return axes, tuple(_example_type(t, a) for t, a in zip(self.arg_types, axes))

    def _vmap_kernel(self, code):
        """A CUDA kernel, one thread per example, around the per-example code as a device function."""
        axes, example_types = self._examples()
        python = self._pipeline(code, pipeline.Spec(example_types, target="python", kind="primal"))
        self.returned = batching.returned_tree(python.output_types, python.returns_tuple)
        self.out_axes = self._out_axes(python, self.returned)
        if None in self.out_axes:
            raise ValueError("vmap with target='cuda' needs out_axes that are numbers")
        if self.returned.num_leaves != len(python.output_types):  # tuples in tuples: a device function returns leaves
            code = _with_flat_outputs(code, self.param_names(code), self.returned)
            python = self._pipeline(code, pipeline.Spec(example_types, target="python", kind="primal"))
        device = self._pipeline(code, pipeline.Spec(example_types, target="cuda", kind="primal"))
        name = generated_name(code.__name__, "kernel")
        kernel = batching.kernel_source(name, self.param_names(code), [c.name for c in device.captured], axes,
                                        device.name, [t.ndim for t in device.output_types])
        self._load(backend.module_source(python.source, "one example, run to size the outputs"),
                   python.name, "example_call", target="python")
        return pipeline.Generated(name, device.source + "\n\n" + kernel, device.captured, device.output_types,
                                  device.returns_tuple)

    def _run_kernel(self, args):
        """Size the outputs with example 0 on the host, move the arrays once, launch, copy back."""
        from numba import cuda

        arguments = self.arguments(args)
        axes = self.axes + (None,) * (len(arguments) - len(self.axes))
        size = batching.axis_size(arguments, axes, [str(i) for i in range(len(arguments))], (),
                                  self.transformed.axis_size)
        outputs = tree_leaves(self.example_call(*batching.example(arguments, axes, 0)))
        on_device = [cuda.to_device(np.ascontiguousarray(a)) if isinstance(a, np.ndarray) else a for a in arguments]
        batched = [cuda.device_array((size,) + np.shape(o), dtype=np.asarray(o).dtype) for o in outputs]
        threads = 128
        self.kernel[(size + threads - 1) // threads, threads](*on_device, *batched)
        results = [np.moveaxis(b.copy_to_host(), 0, axis) if axis else b.copy_to_host()
                   for b, axis in zip(batched, self.out_axes)]
        return self.finished(tree_unflatten(self.returned, results))

    def _with_static(self, code, args):
        """The function with its static arguments written in as constants (jit's static_argnums)."""
        function = self._pipeline(code, replace(self.spec, target="python"))
        self.output_tree = function.output_tree
        params = self.param_names(code)
        kept = [p for i, p in enumerate(params) if i not in self.static]
        constants = {params[i]: _constant_source(args[i], params[i]) for i in self.static}
        extra = [c.name for c in function.captured]
        call = ", ".join([constants.get(p, p) for p in params] + extra)
        wrapper = (f"def {generated_name(code.__name__, 'jit')}({', '.join(kept + extra)}):\n"
                   f"    return {function.name}({call})\n")
        self.arg_types = tuple(t for i, t in enumerate(self.arg_types) if i not in self.static)
        return self._inline(wrapper, [function], function.captured)

    def _inline(self, wrapper_source, generated, captured):
        """Load the wrapper beside the functions it calls, then inline them all into one function."""
        sources = "\n\n".join(g.source for g in generated) + "\n\n" + wrapper_source
        module = backend.load_module(backend.module_source(sources, "a Jacobian's parts, before inlining"), "parts")
        wrapper = getattr(module, wrapper_source.split("(")[0][len("def "):])
        self.hidden = self.hidden + [c.read for c in captured]
        types = self.arg_types + tuple(of_value(c.read()) for c in captured)
        inlined = self._pipeline(wrapper, pipeline.Spec(types, target=self.transformed.target, kind="primal"))
        self.code_tree = inlined.output_tree
        return inlined

    def param_names(self, code):
        return list(inspect.signature(code).parameters)

    def wrt(self, code):
        names = self.param_names(code)
        return [wrappers.Argument(names[i], self.arg_types[i].ndim == 0) for i in self.argnums]

    def _load(self, module_source, name, attribute, target=None):
        """Load a generated module; `self.<attribute>` runs its function `name`, which is returned.

        For a compiled target, the first call compiles it (or, failing that, falls back to
        Python) and puts the result in `self.<attribute>`, so later calls go straight to it.
        """
        compiled = (target or self.transformed.target) != "python"
        options = backend.jit_options(self.transformed.target == "parallel", self.boundscheck) if compiled else None
        module = backend.load_module(module_source, _stem(name), options)
        pyfunc = getattr(module, name)
        if not compiled:
            setattr(self, attribute, backend.noting_user_lines(pyfunc))
            return pyfunc
        self.as_python[attribute] = backend.noting_user_lines(pyfunc)
        cache = not extend.calls_custom_rules(module_source)
        jitted = backend.jitted(module, name, options, cache=cache)
        if options["parallel"]:
            self.serial[attribute] = functools.partial(_serial, module_source, name, self.boundscheck, cache)
        first = backend.FirstCall(jitted, backend.noting_user_lines(pyfunc), origin_of(self.transformed))

        def first_call(*args):
            result, compiled = first(*args)
            setattr(self, attribute, compiled)
            return result

        setattr(self, attribute, first_call)
        return pyfunc

    # ---- calling ---------------------------------------------------------

    def arguments(self, args, middle=()):
        """The generated function's arguments: the user's, hidden ones, then captured ones."""
        if self.zero_d:
            args = tuple(a[()] if i in self.zero_d else a for i, a in enumerate(args))
        if self.static:
            args = tuple(a for i, a in enumerate(args) if i not in self.static)
        return (tuple(args) + tuple(read() for read in self.hidden) + tuple(middle)
                + tuple(c.read() for c in self.captured))

    def _run_plain(self, args):
        return self.invoke("call", args)

    def invoke(self, attribute, arguments):
        """`self.<attribute>(*arguments)`, whose compiled errors name the user's line."""
        try:
            return getattr(self, attribute)(*arguments)
        except Exception as exc:
            if attribute in self.serial and backend.parallel_broadcast_failure(exc):
                return self.invoke_serially(attribute, arguments)
            self.raise_located(exc, attribute, arguments)
            raise

    def invoke_serially(self, attribute, arguments):
        """Numba's parallel mode cannot broadcast an axis of size 1 against a longer one (it asserts
        that the sizes are equal): from now on, run this code compiled without it, as target 'cpu'."""
        setattr(self, attribute, self.serial.pop(attribute)())
        return self.invoke(attribute, arguments)

    def raise_located(self, exc, attribute, arguments):
        """Compiled code's errors carry no line: run the same call as Python (briefly), and if it
        fails the same way, raise its error instead, which names the user's line (and NumPy's words)."""
        twin = self.as_python.get(attribute)
        if twin is None:
            return
        try:
            backend.run_briefly(twin, arguments)
        except type(exc) as located:
            raise located from exc
        except Exception:
            return

    def rebuilt(self, result):
        """`result` with the user's lists and dicts put back together around their leaves
        (by the vmapped function's own rebuilding, for a vmap of a transformed function)."""
        if self.inner is not None:
            return self.inner.rebuilt(self.batched_tuples(result))
        if self.code_tree is not None:  # the code returns the leaves of its nested tuples
            result = tree_unflatten(self.code_tree, result)
        tree = self.output_tree
        if tree is None:
            return result
        if self.transformed.kind == "grad":  # has_aux: aux's leaves
            return result[0], tree_unflatten(tree.children[1], result[1])
        if self.transformed.kind == "value_and_grad":
            (value, aux), grads = result
            return (value, tree_unflatten(tree.children[1], aux)), grads
        return tree_unflatten(tree, result)

    def batched_tuples(self, result):
        """A vmap's `result` in the nested tuples its batch loop returns (its code returns their leaves)."""
        return result if self.output_tree is None else tree_unflatten(self.output_tree, result)

    @property
    def restructures(self):
        """Whether the user gets the code's results in other structures than the flat tuple (or the
        one value) it returns: lists, dicts, nested tuples."""
        own = any(tree is not None and not _flat_tuple(tree) for tree in (self.output_tree, self.code_tree))
        return own or (self.inner is not None and self.inner.restructures)

    @property
    def rebuilds(self):
        """Whether `finished` changes the code's results at all."""
        return (self.output_tree is not None or self.code_tree is not None or any(self.convert)
                or (self.inner is not None and self.inner.rebuilds))

    def run(self, args):
        return self.finished(self.invoke("call", self.arguments(args)))

    def finished(self, result):
        """The generated code's `result` as the user gets it: rebuilt into their lists and dicts,
        gradients given their arguments' dtypes (as the vmapped function finishes it, for a vmap)."""
        if self.inner is not None:
            return self.inner.finished(self.batched_tuples(result))
        result = self.rebuilt(result)
        if not any(self.convert):
            return result
        kind, has_aux = self.transformed.kind, self.transformed.has_aux
        if kind == "grad":
            return (self.converted(result[0]), result[1]) if has_aux else self.converted(result)
        return result[0], self.converted(result[1])

    def converted(self, grads):
        if len(self.convert) == 1 and self.spec.single:
            return _apply(self.convert[0], grads)
        return tuple(_apply(c, g) for c, g in zip(self.convert, grads))

    def run_jvp(self, primals, tangents):
        check_not_complex(tangents, "jvp", "tangents")
        tangents = [_as_tangent(t, primals[i]) for t, i in zip(tangents, self.argnums)]
        out, tangent_out = self.invoke("call", self.arguments(primals, tangents))
        if self.output_tree is None:
            return out, tangent_out
        if self.output_tree.num_leaves == 1:  # the generated JVP returns one output bare
            out, tangent_out = (out,), (tangent_out,)
        return tree_unflatten(self.output_tree, out), tree_unflatten(self.output_tree, tangent_out)

    def primal(self, primals):
        return self.rebuilt(self.invoke("primal_call", self.arguments(primals)))

    def pullback(self, primals, value, cotangent):
        if self.output_tree is not None and not self.transformed.has_aux:
            if tree_structure(cotangent) != self.output_tree:
                raise TypeError(f"the cotangent must have the output's structure {self.output_tree}, "
                                f"got {tree_structure(cotangent)}")
            value, cotangent = tuple(tree_leaves(value)), tuple(tree_leaves(cotangent))
        cotangents = _check_cotangent(cotangent, value)
        grads = self.invoke("call", self.arguments(primals, cotangents))
        by_argument = dict(zip(self.argnums, grads))
        return tuple(_apply(_converter(p), by_argument[i]) if i in by_argument else np.zeros(np.shape(p))
                     for i, p in enumerate(primals))


def _with_flat_outputs(code, params, returned):
    """`code` returning the leaves of its results (of structure `returned`) as one flat tuple."""
    name = f"{code.__name__}_leaves"
    source = batching.leaves_source(name, params, "per_example", returned)
    namespace = {"__name__": code.__module__, "per_example": code}  # generated code stays generated code
    return function_from_source(source, name, f"<s2sjax: the leaves of what {code.__qualname__} returns>", namespace)


def _constant_source(value, name):
    """`value` as source, for a static argument."""
    if isinstance(value, tuple):
        return f"({''.join(_constant_source(v, name) + ', ' for v in value)})"
    if value is None or isinstance(value, (bool, np.bool_)):
        return repr(None if value is None else bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return repr(value) if np.isfinite(value) else "math.nan" if np.isnan(value) else f"{'-' if value < 0 else ''}math.inf"
    raise TypeError(f"the static argument {name!r} is a {type(value).__name__}; s2sjax compiles in numbers, "
                    "bools, None and tuples of those")


def _example_type(typ, axis):
    """The type of one example of an argument of type `typ` mapped along `axis`."""
    return typ if axis is None else Type(typ.kind, typ.ndim - 1)


def _unfused(fun):
    """A transformed `fun` (all the way in) generating plain NumPy code, for an outer transformation.

    Compiled code is optimized for running, not for transforming again: fused loops would be
    fused again (on CUDA its own way: CPU fusion leaves NumPy fallbacks a kernel cannot run), and
    outputs written into views of a batched output alias what forward mode assumes is separate.
    The outer transformation optimizes the code it generates, once.
    """
    from .api import Transformed

    if not isinstance(fun, Transformed) or fun.target == "python":
        return fun
    twin = copy.copy(fun)
    twin.fun, twin.target = _unfused(fun.fun), "python"
    twin.forget_specializations()
    return twin


def _code_function(fun, args, kind):
    """(the function to transform, the read functions of its hidden arguments, what its code
    assumes, whether it indexes the user's arrays by element, and for a vmap the Specialization
    of `fun` that finishes its code's results: None when they are the user's as they are)."""
    from .api import Transformed

    if not isinstance(fun, Transformed):
        return fun, [], [], False, None
    if fun.kind not in COMPOSABLE:
        raise TypeError(f"a {fun.kind} cannot be transformed again; transform the function it differentiates")
    inner = fun.specialization(args)
    if inner.restructures and kind != "vmap":  # a vmap batches each leaf; other transformations take arrays
        raise TypeError(f"a {fun.kind} of a function returning nested tuples, a list or a dict cannot be transformed "
                        "again; return a flat tuple")
    finishing = inner if kind == "vmap" and inner.rebuilds else None
    hidden = inner.hidden + [c.read for c in inner.captured]
    return inner.code_function, hidden, inner.assumptions, inner.boundscheck, finishing


def _argnums(transformed, args):
    if transformed.argnums is None:  # jvp and vjp: every float argument
        return tuple(i for i, a in enumerate(args) if of_value(a).differentiable)
    return _normalize_argnums(transformed.argnums, len(args))


def _normalize_argnums(argnums, nargs):
    items = argnums if isinstance(argnums, tuple) else (argnums,)
    for i in items:
        if not -nargs <= i < nargs:
            raise TypeError(
                f"differentiating with respect to argnums={argnums!r} requires at least "
                f"{max(i + 1, -i)} positional arguments to be passed by the caller, but got only {nargs} "
                f"positional arguments."
            )
    return tuple(i % nargs for i in items)


def _check_differentiable(arg, kind):
    if not of_value(arg).differentiable:
        raise real_input_error(kind, arg)


def _check_single_output(generated, kind):
    if len(generated.output_types) != 1 or generated.output_tree is not None:
        tree = generated.output_tree
        shown = "a tuple" if tree is None or _only_tuples(tree) else "a list or a dict"
        raise TypeError(f"{kind} of a function returning {shown} is not supported; return one array")


def _jacobian_tree(generated, kind):
    """The structure of a Jacobian's result: that of the outputs of `generated`, which may be
    tuples (for jacrev, of one output), not lists or dicts. None: one output, or a flat tuple."""
    tree = generated.output_tree
    if tree is None and (kind == "jacfwd" or len(generated.output_types) == 1):
        return None
    if tree is None or not _only_tuples(tree) or (kind == "jacrev" and tree.num_leaves != 1):
        _check_single_output(generated, kind)
    return tree


def _only_tuples(tree):
    return tree.kind == "leaf" or (tree.kind == "tuple" and all(map(_only_tuples, tree.children)))


def _flat_tuple(tree):
    return tree.kind == "tuple" and all(c.kind == "leaf" for c in tree.children)


def _check_cotangent(cotangent, value):
    """The cotangents, one per output, each shaped like its output (JAX's check)."""
    outputs = value if isinstance(value, tuple) else (value,)
    cotangents = cotangent if isinstance(value, tuple) else (cotangent,)
    if isinstance(value, tuple) and (not isinstance(cotangent, tuple) or len(cotangent) != len(value)):
        raise TypeError(f"the cotangent must have the output's structure: a tuple of {len(value)}")
    check_not_complex(cotangents, "vjp", "cotangents")
    for out, ct in zip(outputs, cotangents):
        if np.shape(out) != np.shape(ct):
            raise ValueError(f"Shape of cotangent input to vjp pullback function {np.shape(ct)} must be the same "
                             f"as the shape of corresponding primal input {np.shape(out)}.")
    return tuple(ct[()] if isinstance(ct, np.ndarray) and ct.ndim == 0 else ct for ct in cotangents)


def _as_tangent(tangent, primal):
    if type(tangent) is float and type(primal) is float:
        return tangent
    if np.ndim(primal) == 0:
        return float(tangent)
    tangent = np.asarray(tangent)
    return tangent if tangent.dtype.kind == "f" else tangent.astype(np.float64)


def _converter(arg):
    """How to give a gradient the argument's own type (None: it already has it)."""
    if isinstance(arg, np.ndarray):
        dtype = arg.dtype
        if arg.ndim == 0:
            return lambda g: np.asarray(g, dtype=dtype)
        return None if dtype == np.float64 else (lambda g: g.astype(dtype, copy=False))
    if isinstance(arg, np.floating) and not isinstance(arg, np.float64):
        return type(arg)
    return None


def _apply(convert, value):
    return value if convert is None else convert(value)


def _call_python(fun, args):
    from .api import Transformed

    return fun(*args) if not isinstance(fun, Transformed) else fun.fun(*args)


def _describe(transformed, spec, axes):
    types = ", ".join(_type_text(t) for t in spec.arg_types)
    name = transformed.__qualname__
    if transformed.kind == "vmap":
        return f"vmap of {name} over axes {axes} on {transformed.target} for ({types})"
    if transformed.kind == "primal":
        return f"jit of {name} for ({types})"
    return f"{transformed.kind} of {name} w.r.t. argnums {spec.argnums} for ({types})"


def _type_text(t):
    if t.kind == "tuple":
        return "tuple"
    return t.kind if t.ndim == 0 else f"{t.kind}[{t.ndim}d]"


def _serial(module_source, name, boundscheck, cache):
    """The generated function `name` compiled as target 'cpu' compiles it."""
    options = backend.jit_options(False, boundscheck)
    module = backend.load_module(module_source, _stem(name), options)
    return backend.jitted(module, name, options, cache=cache)


def _stem(name):
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def _in_users_code(exc, transformed):
    """`exc`, raised in generated code, at the user's line that code comes from (None if not known)."""
    if not os.path.basename(exc.filename or "").startswith(GENERATED_MODULE_PREFIX) or not exc.lineno:
        return None
    where = re.match(r"(\S+):(\d+): ", user_line_above(exc.filename, exc.lineno))
    users = getattr(_user_function(transformed), "__code__", None)
    if where is None or users is None or os.path.basename(users.co_filename) != where.group(1):
        return None
    return TransformError(exc.message, users.co_filename, int(where.group(2)), None, exc.hint)


def _user_function(transformed):
    fun = transformed.fun
    while not inspect.isfunction(fun) and hasattr(fun, "fun") or hasattr(fun, "s2sjax_adapts"):
        fun = getattr(fun, "s2sjax_adapts", None) or fun.fun
    return fun


def origin_of(transformed):
    fun = _user_function(transformed)
    code = getattr(fun, "__code__", None)
    if code is None:
        return getattr(fun, "__qualname__", repr(fun))
    return f"{fun.__qualname__} ({code.co_filename}:{code.co_firstlineno})"
