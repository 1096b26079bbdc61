"""The generated code for one abstract signature, compiled, with its calling convention.

A `Specialization` asks its transformation's kind (kinds/) for the code a
`Transformed` needs for arguments like the ones it was given, compiles it, and
calls it. Generated functions take the user's arguments, then *hidden* ones
(arrays captured from globals and closures, read again at every call), with a
JVP's tangents or a VJP's cotangents between the two. What all kinds share is
here: the pipeline run that keeps what the code assumes, loading and
compiling, the call that names the user's line when compiled code fails, and
the results rebuilt into the user's structures.

When the function is itself a transformed one, its generated code is what gets
transformed (always in forward mode, kinds/jacobian.py).
"""

import inspect

import numpy as np

from . import disk_cache, pipeline
from .kinds import batching
from .backend import compile as backend
from .errors import TransformError, check_not_complex
from .kinds.base import code_to_transform, type_text
from .loading import load_generated
from .located import in_users_code, raise_as_python
from .abstract import of_value
from .mode import Mode
from .pytree import tree_unflatten


class Specialization:
    def __init__(self, transformed, args, axes=None):
        self.transformed = transformed
        self.kind = kind = transformed.kind
        self.as_python = {}  # attribute -> its compiled function's Python twin, to locate errors
        self.dispatchers = {}  # attribute -> its Numba dispatcher (compiled targets)
        # attribute -> a builder of its code compiled without parallel=True (target parallel)
        self.serial = {}
        self.axes = axes  # vmap: per argument, its mapped axis (batching.argument_axes)
        self.static = kind.static_positions(len(args))  # jit: arguments compiled in as constants
        check_not_complex(args, kind.name)
        self.argnums = kind.argnums_for(args)
        # what an inner function sees
        examples = args if axes is None else batching.example(args, axes, 0)
        code, self.hidden, self.assumptions, self.boundscheck, self.inner = code_to_transform(
            transformed.fun, examples, kind
        )
        hidden_values = tuple(read() for read in self.hidden)
        self.arg_types = tuple(of_value(a) for a in args) + tuple(
            of_value(v) for v in hidden_values
        )
        self.spec = pipeline.Spec(
            self.arg_types,
            self.argnums,
            kind.has_aux,
            transformed.target,
            kind.mode,
            kind.single,
            tuple(map(type, examples)),
            tuple((i, a) for i, a in enumerate(examples) if type(a) is bool),
        )
        self.generated_code = pipeline.is_generated(code)
        # the user's lists and dicts in the result (pipeline.Generated.output_tree)
        self.output_tree = None
        # the nested tuples an inlined wrapper returns (a Jacobian's, per output)
        self.code_tree = None
        generated = kind.generate(self, code, args)
        self.captured = generated.captured
        imports = "from numba import cuda\n" if transformed.target == "cuda" else ""
        types = ", ".join(type_text(t) for t in self.spec.arg_types)
        self.description = kind.header(
            transformed.__qualname__, types, self.spec.argnums, axes, transformed.target
        )
        self.function_source, self.function_name = generated.source, generated.name
        self.source = backend.module_source(generated.source, self.description, imports)
        self.convert = kind.converters(args, self.argnums)
        # 0-d arrays are scalars to the generated code (and to Numba's math functions)
        self.zero_d = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.ndim == 0]
        # The common case: the user's arguments go straight to the generated code (`self.call`).
        # On target python, `arguments` makes Python floats NumPy's (inf/nan, not ZeroDivisionError)
        self.plain = transformed.target not in ("cuda", "python") and not (
            self.zero_d
            or self.static
            or self.hidden
            or self.captured
            or any(self.convert)
            or self.output_tree
            or self.inner
            or self.code_tree
            or self.assumptions
        )
        if self.plain:
            self.run = self._run_plain
        kind.load(self, self.source, generated)

    # ---- generating ------------------------------------------------------

    def generate(self, code, spec):
        """pipeline.generate (from the disk cache when it can), keeping what the code assumes.

        That is, the numbers written in and the functions inlined.
        """
        try:
            generated = disk_cache.generate(code, spec)
        except TransformError as exc:  # in code s2sjax generated (a hessian's jacrev)
            relocated = in_users_code(exc, self.transformed)
            if relocated is None:
                raise
            raise relocated from None
        self.assumptions = self.assumptions + generated.assumptions
        self.boundscheck = self.boundscheck or generated.boundscheck
        return generated

    def holds(self):
        """Whether the globals and closure values the code was written for are still the same."""
        return all(a.holds() for a in self.assumptions)

    def inline(self, wrapper_source, generated, captured):
        """Load the wrapper beside the functions it calls, then inline them all into one."""
        sources = "\n\n".join(g.source for g in generated) + "\n\n" + wrapper_source
        module = backend.load_module(
            backend.module_source(sources, "a Jacobian's parts, before inlining"), "parts"
        )
        wrapper = getattr(module, wrapper_source.split("(")[0][len("def ") :])
        self.hidden = self.hidden + [c.read for c in captured]
        types = self.arg_types + tuple(of_value(c.read()) for c in captured)
        inlined = self.generate(
            wrapper, pipeline.Spec(types, target=self.transformed.target, mode=Mode.PRIMAL)
        )
        self.code_tree = inlined.output_tree
        return inlined

    def param_names(self, code):
        return list(inspect.signature(code).parameters)

    def load(self, module_source, name, attribute, target=None):
        """Load a generated module; `self.<attribute>` runs its function `name` (returned)."""
        return load_generated(self, module_source, name, attribute, target)

    # ---- calling ---------------------------------------------------------

    def arguments(self, args, middle=()):
        """The generated function's arguments: the user's, hidden ones, then captured ones."""
        if self.zero_d:
            args = tuple(a[()] if i in self.zero_d else a for i, a in enumerate(args))
        if self.static:
            args = tuple(a for i, a in enumerate(args) if i not in self.static)
        arguments = (
            tuple(args)
            + tuple(read() for read in self.hidden)
            + tuple(middle)
            + tuple(c.read() for c in self.captured)
        )
        if self.transformed.target == "python":
            return tuple(np.float64(a) if type(a) is float else a for a in arguments)
        return arguments

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
        """Run this code compiled without parallel mode, as target 'cpu', from now on.

        Numba's parallel mode cannot broadcast an axis of size 1 against a longer one (it
        asserts that the sizes are equal).
        """
        setattr(self, attribute, self.serial.pop(attribute)())
        return self.invoke(attribute, arguments)

    def raise_located(self, exc, attribute, arguments):
        """Compiled code's errors carry no line: raise the Python twin's, if it fails alike."""
        twin = self.as_python.get(attribute)
        if twin is not None:
            raise_as_python(exc, twin, arguments)

    def rebuilt(self, result):
        """`result` with the user's lists and dicts put back together around their leaves
        (by the vmapped function's own rebuilding, for a vmap of a transformed function)."""
        if self.inner is not None:
            return self.inner.rebuilt(self.batched_tuples(result))
        if self.code_tree is not None:  # the code returns the leaves of its nested tuples
            result = tree_unflatten(self.code_tree, result)
        if self.output_tree is None:
            return result
        return self.kind.unflatten(self.output_tree, result)

    def batched_tuples(self, result):
        """A vmap's `result` in the nested tuples its batch loop returns.

        Its code returns their leaves.
        """
        return result if self.output_tree is None else tree_unflatten(self.output_tree, result)

    @property
    def restructures(self):
        """Whether the user gets the code's results in other structures than the flat tuple (or the
        one value) it returns: lists, dicts, nested tuples."""
        own = any(
            tree is not None and not _flat_tuple(tree)
            for tree in (self.output_tree, self.code_tree)
        )
        return own or (self.inner is not None and self.inner.restructures)

    @property
    def rebuilds(self):
        """Whether `finished` changes the code's results at all."""
        return (
            self.output_tree is not None
            or self.code_tree is not None
            or any(self.convert)
            or (self.inner is not None and self.inner.rebuilds)
        )

    def run(self, args):
        return self.finished(self.invoke("call", self.arguments(args)))

    def finished(self, result):
        """The generated code's `result` as the user gets it.

        Rebuilt into their lists and dicts, gradients given their arguments' dtypes (as the
        vmapped function finishes it, for a vmap).
        """
        if self.inner is not None:
            return self.inner.finished(self.batched_tuples(result))
        return self.kind.finished(self, self.rebuilt(result))


def _flat_tuple(tree):
    return tree.kind == "tuple" and all(c.kind == "leaf" for c in tree.children)
