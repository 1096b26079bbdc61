"""vmap: a loop over the examples around the per-example code, inlined into it.

The per-example code is the user's function (or a transformed function's
generated code) specialized for one example; the batch loop (batching.py)
slices each mapped argument, calls it, and writes each output into the
batched one. On target cuda the loop is a kernel, one thread per example,
around the per-example code compiled as a device function.
"""

import hashlib
import inspect
import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..abstract import Type
from ..pytree import tree_leaves, tree_unflatten
from ..mode import Mode
from .base import Kind, code_to_transform, kind_of, same, signature_key, unfused
from ..lazy import lazy_module

# modules loaded on first use (s2sjax/lazy.py): `import s2sjax` leaves them for code generation
containers = lazy_module("s2sjax.containers")
dask_vmap = lazy_module("s2sjax.dask_vmap")
pipeline = lazy_module("s2sjax.pipeline")
batching = lazy_module("s2sjax.kinds.batching")
backend = lazy_module("s2sjax.backend.compile")
runtime = lazy_module("s2sjax.backend.runtime")
naming = lazy_module("s2sjax.backend.naming")
parse = lazy_module("s2sjax.frontend.parse")
rules = lazy_module("s2sjax.rules")
common = lazy_module("s2sjax.transforms.common")
kernel = lazy_module("s2sjax.passes.kernel")


@dataclass(frozen=True)
class Vmap(Kind):
    in_axes: object = 0
    out_axes: object = 0
    axis_size: int = None
    # how the mapped function's results are put into the user's structures, which out_axes
    # follow: a gradient of a leaf of a container regrouped in the container (see `of_leaves`)
    regroup: object = field(default=same, compare=False)

    name = "vmap"
    composable = True
    batches = True

    def __post_init__(self):
        batching.check_spec(self.in_axes, "in_axes")
        batching.check_spec(self.out_axes, "out_axes")
        size = self.axis_size
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise TypeError(f"vmap axis_size must be a non-negative int or None, got {size!r}")
        for option in ("in_axes", "out_axes"):
            if isinstance(getattr(self, option), list):
                object.__setattr__(self, option, tuple(getattr(self, option)))

    def check_target(self, target):
        pass  # every target, cuda included

    def pullback_refusal(self):
        return (
            "vmap of a vjp's pullback is not supported; "
            "batch the vector-Jacobian products as gradients instead: "
            "vmap(grad(lambda x, ct: np.sum(f(x) * ct)), in_axes=(None, 0))(x, cts)"
        )

    # ---- the Transformed -------------------------------------------------

    def call(self, transformed, args, kwargs):
        # Fast path: arguments like earlier ones. The generated code checks the sizes itself;
        # on its ValueError, the checks below say which arguments disagree, in JAX's words.
        key = None if kwargs else signature_key(args)
        entry = transformed.by_signature.get(key)
        if entry is not None:
            try:
                return entry.run(args)
            except ValueError:
                bound, axes, size = self._checked(transformed, args, kwargs)
                if size:
                    raise
                return self._over_nothing(transformed, bound, axes)
        if dask_vmap.has_dask(args, kwargs):
            return dask_vmap.vmap_over_dask(transformed, args, kwargs)
        bound, axes, size = self._checked(transformed, args, kwargs)
        if size == 0:
            return self._over_nothing(transformed, bound, axes)
        if containers.has_containers(bound):
            flat, flattening, rebuild = transformed.flat(bound, axes)
            return rebuild(flat(*flattening.checked_leaves(bound, self.name)))
        entry = transformed.specialization(bound, axes)
        if (
            key is not None
            and len(args) == transformed.nparams
            and transformed.target != "cuda"
            and not (entry.assumptions)
            and all(type(a) in (np.ndarray, float, int) for a in args)
        ):
            transformed.by_signature[key] = entry
        return entry.run(bound)

    def _checked(self, transformed, args, kwargs):
        """(the arguments bound, their mapped axes, the size).

        Raises JAX's error for axes and sizes that do not fit.
        """
        if not args and not kwargs and self.axis_size is None:
            raise ValueError(
                "vmap wrapped function must be passed at least one argument containing an array, "
                "got empty *args=() and **kwargs={}"
            )
        names = transformed.param_names
        bound = (
            args
            if not kwargs and len(args) == transformed.nparams
            else transformed.bind(args, kwargs)
        )
        axes = batching.argument_axes(self.in_axes, bound, names, kwargs.keys(), len(args))
        size = batching.axis_size(bound, axes, names, kwargs.keys(), self.axis_size)
        return bound, axes, size

    def _over_nothing(self, transformed, bound, axes):
        """A vmap over an axis of size 0: empty outputs, as JAX gives. JAX knows their shapes
        without running the function; s2sjax runs it on one stand-in example, of ones."""
        one = (
            transformed
            if self.axis_size is None
            else transformed.with_kind(replace(self, axis_size=1))
        )
        try:
            with np.errstate(all="ignore"):
                outputs = one(*(batching.stand_in(value, spec) for value, spec in zip(bound, axes)))
        except Exception as exc:
            raise ValueError(
                f"vmap of {transformed.__name__} over an axis of size 0: "
                "s2sjax sizes the (empty) outputs by running one example of ones, "
                f"which raised {type(exc).__name__}: {exc}"
            ) from exc
        return batching.emptied(outputs, self.out_axes)

    def flattening_for(self, transformed, flattening):
        if flattening.axes is None:  # an outer transformation's arguments: this vmap's own axes
            axes = batching.structure_axes(
                self.in_axes, flattening.treedefs, transformed.param_names
            )
            flattening = flattening.with_axes(axes)
        return flattening

    def of_leaves(self, flattening, rebuild_inner):
        return Vmap(flattening.leaf_axes, self.out_axes, self.axis_size, rebuild_inner)

    def axes_for(self, transformed, args, axes):
        if axes is None:  # called by an outer transformation: every argument passed by position
            axes = batching.argument_axes(
                self.in_axes, args, transformed.param_names, (), len(args)
            )
        return axes

    def check_examples(self, transformed, args):
        if not args and transformed.latest() is None:
            names = ", ".join(transformed.param_names)
            raise TypeError(
                f"source() of a vmapped function needs example arguments: source(f, {names})"
            )

    def inlinable(self, transformed):
        """The batched function as Python source calling `fun`.

        For a transformed function that calls it.

        Written before any argument is seen, so only what needs no types is supported: a plain
        Python function (or a vmap of one), in_axes that are numbers >= 0 or None, one per
        parameter, out_axes that are numbers or None, one per output or one for all.
        """
        if transformed.inlined is None:
            transformed.inlined = self._inlined(transformed)
        return transformed.inlined

    def _inlined(self, transformed):
        """The batch loop as a Python function calling `transformed.fun`, source in linecache."""
        fun, names = transformed.fun, transformed.param_names
        per_example = fun.inlinable() if isinstance(kind_of(fun), Vmap) else fun
        if not inspect.isfunction(per_example):
            what = f"a {kind_of(fun).name}" if kind_of(fun) else f"a {type(fun).__name__}"
            raise TypeError(
                "a vmap inside a transformed function maps a Python function (or a vmap of one), "
                f"not {what}; transform the whole computation instead, e.g. vmap(grad(f)) outside"
            )
        in_axes = self.in_axes if isinstance(self.in_axes, tuple) else (self.in_axes,) * len(names)
        if len(in_axes) != len(names) or not all(
            a is None or (isinstance(a, int) and a >= 0) for a in in_axes
        ):
            raise TypeError(
                "a vmap inside a transformed function needs in_axes of numbers >= 0 or None, "
                f"one per parameter of {fun.__name__}{inspect.signature(fun)}, "
                f"got {self.in_axes!r} (it is written before the ranks are known: "
                "count axes from the front, and map containers as a whole)"
            )
        returned = pipeline.returned_structure(per_example)
        out_axes = batching.leaf_out_axes(self.out_axes, returned, same)
        if None in out_axes:
            mapped = [i for i, a in enumerate(in_axes) if a is not None]
            if any(
                a is None and d
                for a, d in zip(out_axes, pipeline.mapped_outputs(per_example, mapped))
            ):
                raise ValueError("vmap has mapped output but out_axes is None")
        name = f"{fun.__name__.replace('<lambda>', 'lambda')}_vmap"
        source = batching.vmap_source(
            name, names, [], in_axes, "per_example", out_axes, returned, self.axis_size
        )
        digest = hashlib.sha256(source.encode()).hexdigest()[
            :8
        ]  # the same name for the same source, in every process
        namespace = {
            "__name__": f"{naming.GENERATED_MODULE_PREFIX}inlined_vmap",
            "math": math,
            "np": np,
            "rt": runtime,
            "per_example": per_example,
        }
        return parse.function_from_source(
            source, name, f"<s2sjax: vmap of {fun.__qualname__} {digest}>", namespace
        )

    # ---- the Specialization ----------------------------------------------

    def generate(self, specialization, code, args):
        if specialization.transformed.target == "cuda":
            with rules.reduce2.refusing_draws(
                "on target='cuda': a CUDA kernel has no NumPy generator"
            ):
                return _kernel(specialization, code, args)
        return _batch_loop(specialization, code)

    def load(self, specialization, module_source, generated):
        if specialization.transformed.target != "cuda":
            return super().load(specialization, module_source, generated)
        module = backend.load_module(module_source, backend.module_stem(generated.name))
        specialization.kernel = getattr(module, generated.name)
        parameters = inspect.signature(specialization.kernel.py_func).parameters
        specialization.checks_indexes = kernel.INDEX_ERRORS in parameters
        specialization.run = lambda args: _run_kernel(specialization, args)

    def header(self, name, types, argnums, axes, target):
        return f"vmap of {name} over axes {axes} on {target} for ({types})"


def _per_example_code(specialization, code, target="python", example_types=None):
    """(the mapped axes, the code for one example: plain NumPy, or a CUDA device function).

    `example_types`: one example's argument types, where not the specialization's examples'.
    """
    s = specialization
    axes, types = _examples(s)
    spec = pipeline.Spec(
        example_types or types,
        target=target,
        mode=Mode.PRIMAL,
        classes=s.spec.classes,
        switches=s.spec.switches,
    )
    return axes, s.generate(code, spec)


def _batch_loop(specialization, code):
    """A loop over the examples around the per-example code, which is inlined into it."""
    s, kind = specialization, specialization.kind
    axes, example = _per_example_code(s, code)
    if example.ragged:
        raise example.ragged
    returned = batching.returned_tree(example.output_types, example.returns_tuple)
    out_axes = _out_axes(s, example, returned)
    if None in out_axes:
        _check_unmapped(code, axes, out_axes, example, returned)
    wrapper = batching.vmap_source(
        common.generated_name(code.__name__, "vmap"),
        s.param_names(code),
        [c.name for c in example.captured],
        axes,
        example.name,
        out_axes,
        returned,
        kind.axis_size,
        s.transformed.target == "parallel",
        [k for k, rank in enumerate(_ranks(example)) if rank is None],
    )
    return s.inline(wrapper, [example], example.captured)


def _out_axes(specialization, example, returned):
    """Per leaf of what the per-example code returns, its axis in the batched output (or None).

    The user's out_axes follow the structure the user gets: the lists and dicts of the
    function's result, and a transformed function's own rebuilding of its results (a
    gradient in its argument's structure).
    """
    s = specialization
    s.output_tree = example.output_tree
    regroup = s.kind.regroup
    per_leaf = batching.leaf_out_axes(
        s.kind.out_axes, returned, lambda out: regroup(s.rebuilt(out))
    )
    return batching.output_axes(per_leaf, _ranks(example))


def _ranks(example):
    return [t.ndim for t in batching.leaf_types(example.output_types)]


def _check_unmapped(code, axes, out_axes, example, returned):
    """JAX's error for an output that depends on a mapped argument but has out_axes None."""
    mapped = [i for i, a in enumerate(axes) if a is not None]
    outputs = returned.children if example.returns_tuple else (returned,)
    depends = [
        d
        for d, tree in zip(pipeline.mapped_outputs(code, mapped), outputs)
        for _ in range(tree.num_leaves)
    ]
    if any(axis is None and d for axis, d in zip(out_axes, depends)):
        raise ValueError("vmap has mapped output but out_axes is None")


def _examples(specialization):
    """Per parameter of the code function, its axis and one example's type.

    Hidden parameters are unmapped.
    """
    s = specialization
    axes = s.axes + (None,) * len(s.hidden)
    return axes, tuple(
        t if a is None else Type(t.kind, t.ndim - 1) for t, a in zip(s.arg_types, axes)
    )


def _kernel(specialization, code, args):
    """A CUDA kernel, one thread per example, around the per-example code as a device function."""
    s = specialization
    axes, python = _per_example_code(s, code)
    if python.ragged:
        raise python.ragged
    s.returned = batching.returned_tree(python.output_types, python.returns_tuple)
    s.out_axes = _out_axes(s, python, s.returned)
    if None in s.out_axes:
        raise ValueError("vmap with target='cuda' needs out_axes that are numbers")
    s.grid = _grid(s, args)
    if s.grid is not None:
        return _grid_kernel(s, code)
    # tuples in tuples: a device function returns leaves
    if s.returned.num_leaves != len(python.output_types):
        code = _with_flat_outputs(code, s.param_names(code), s.returned)
        _, python = _per_example_code(s, code)
    if python.ragged:
        raise python.ragged
    _, device = _per_example_code(s, code, "cuda")
    name = common.generated_name(code.__name__, "kernel")
    kernel = batching.kernel_source(
        name,
        s.param_names(code),
        _passed_through(device),
        axes,
        device.name,
        [t.ndim for t in device.output_types],
    )
    return _kernel_module(s, python, device, name, kernel, "one example")


def _run_kernel(specialization, args):
    """Size the outputs with example 0 on the host, move the arrays once, launch, copy back.

    Example 0, run on the host, raises any error that depends on shapes alone (a size mismatch)
    before the launch: a real GPU ignores an exception in a kernel.
    """
    from numba import cuda  # only on target cuda: importing it costs time every other run would pay

    s = specialization
    arguments = s.arguments(args)
    axes = s.axes + (None,) * (len(arguments) - len(s.axes))
    names = [str(i) for i in range(len(arguments))]
    sizes = (batching.axis_size(arguments, axes, names, (), s.kind.axis_size),)
    example = batching.example(arguments, axes, 0)
    if s.grid is not None:  # and the inner vmap's size, from the outer example 0
        sizes += (_inner_size(example, s.grid.axes, names),)
        example = batching.example(example, s.grid.axes, 0)
    outputs = tree_leaves(s.example_call(*example))
    on_device = [
        cuda.to_device(np.ascontiguousarray(a)) if isinstance(a, np.ndarray) else a
        for a in arguments
    ]
    batched = [cuda.device_array(sizes + np.shape(o), dtype=np.asarray(o).dtype) for o in outputs]
    flag = [cuda.to_device(np.zeros(1, np.int64))] if s.checks_indexes else []
    _launch(s.kernel, sizes, on_device + flag + batched)
    if flag and flag[0].copy_to_host()[0]:
        _raise_index_error(s, arguments, axes, sizes)
    inner_axes = [0] * len(batched) if s.grid is None else s.grid.out_axes
    results = [
        _batch_axes_moved(b.copy_to_host(), axis, inner, len(sizes))
        for b, axis, inner in zip(batched, s.out_axes, inner_axes)
    ]
    return s.finished(tree_unflatten(s.returned, results))


def _passed_through(device):
    """What the kernel passes to the device function beside the examples: the values it captures,
    and the flag of an index out of range where it checks indexes (passes/kernel.py)."""
    checks = "rt.checked_index(" in device.source
    return [c.name for c in device.captured] + ([kernel.INDEX_ERRORS] if checks else [])


def _raise_index_error(specialization, arguments, axes, sizes):
    """The IndexError of the first example (or pair) whose index was out of range on the device,
    raised by running the examples on the host, in Python, which names the user's line."""
    s = specialization
    for k in range(sizes[0]):
        example = batching.example(arguments, axes, k)
        pairs = (
            [example]
            if s.grid is None
            else (batching.example(example, s.grid.axes, j) for j in range(sizes[1]))
        )
        for pair in pairs:
            try:
                with np.errstate(all="ignore"):
                    s.example_call(*pair)
            except IndexError as exc:
                exc.add_note(f"(in the CUDA kernel, example {k}, found again on the host)")
                raise
    raise IndexError("an index was out of range in the CUDA kernel")


def _inner_size(example, axes, names):
    size = batching.axis_size(example, axes, names, ())
    if size == 0:  # as rt.common_size says in an inner vmap's loop
        raise ValueError(
            "vmap over an axis of size 0: s2sjax takes the outputs' shapes from the first example"
        )
    return size


def _batch_axes_moved(batched, axis, inner_axis, grid_rank):
    """A kernel's output, examples along axis 0 (and inner examples along 1), moved to the
    out_axes: the inner vmap's within one outer example, then the outer vmap's."""
    if grid_rank == 2:
        batched = np.moveaxis(batched, 1, 1 + inner_axis)
    return np.moveaxis(batched, 0, axis) if axis else batched


def _launch(kernel, sizes, arguments):
    """Run `kernel` on `arguments` (on the device): one thread per example, or on a 2-D grid one
    per (outer, inner) pair, x over the inner examples, y (at most 65535 blocks) over the outer."""
    if len(sizes) == 1:
        threads = 128
        kernel[(sizes[0] + threads - 1) // threads, threads](*arguments)
        return
    outer, inner = sizes
    threads = (32, 4)
    blocks = ((inner + 31) // 32, min((outer + 3) // 4, 65535))
    kernel[blocks, threads](*arguments)


@dataclass(frozen=True)
class _Grid:
    """A vmap of a vmap as one 2-D grid: per parameter of one outer example, its axis in the
    inner vmap (or None); per output leaf, the inner vmap's out_axes."""

    axes: tuple
    out_axes: list


def _grid(specialization, args):
    """The 2-D grid of a vmap whose function is a plain vmap (no container to rebuild, no hidden
    argument, mapped outputs only), or None: then one thread runs an outer example's loop."""
    s = specialization
    fun = unfused(s.transformed.fun)
    kind = kind_of(fun)
    if not isinstance(kind, Vmap) or kind.axis_size is not None or s.hidden or s.inner:
        return None
    inner = fun.specialization(batching.example(args, s.axes, 0))
    if inner.hidden or inner.inner or len(inner.axes) != len(s.axes):
        return None
    pair = batching.example(batching.example(args, s.axes, 0), inner.axes, 0)
    code, hidden, _, _, finishing = code_to_transform(inner.transformed.fun, pair, inner.kind)
    if hidden or finishing:
        return None
    s.pair_code, s.pair_types = code, _pair_types(s, inner.axes)
    _, python = _per_example_code(s, code, "python", s.pair_types)
    returned = batching.returned_tree(python.output_types, python.returns_tuple)
    if python.ragged or returned != s.returned:
        return None
    out_axes = _out_axes(inner, python, returned)
    return None if None in out_axes else _Grid(inner.axes, out_axes)


def _pair_types(specialization, inner_axes):
    _, types = _examples(specialization)
    return tuple(t if a is None else Type(t.kind, t.ndim - 1) for t, a in zip(types, inner_axes))


def _grid_kernel(specialization, code):
    """A CUDA kernel on a 2-D grid, one thread per pair, around the code for one pair."""
    s = specialization
    _, python = _per_example_code(s, s.pair_code, "python", s.pair_types)
    _, device = _per_example_code(s, s.pair_code, "cuda", s.pair_types)
    name = common.generated_name(code.__name__, "kernel")
    kernel = batching.grid_kernel_source(
        name,
        s.param_names(code),
        _passed_through(device),
        s.axes,
        s.grid.axes,
        device.name,
        [t.ndim for t in device.output_types],
    )
    return _kernel_module(s, python, device, name, kernel, "one pair of examples")


def _kernel_module(specialization, python, device, name, kernel, what):
    """The device function and its `kernel`, after loading the Python code that runs `what` on
    the host to size the outputs."""
    specialization.load(
        backend.module_source(python.source, f"{what}, run to size the outputs"),
        python.name,
        "example_call",
        target="python",
    )
    return pipeline.Generated(
        name,
        device.source + "\n\n" + kernel,
        device.captured,
        device.output_types,
        device.returns_tuple,
    )


def _with_flat_outputs(code, params, returned):
    """`code` returning the leaves of its results (of structure `returned`) as one flat tuple."""
    name = f"{code.__name__}_leaves"
    source = batching.leaves_source(name, params, "per_example", returned)
    namespace = {
        "__name__": code.__module__,
        "per_example": code,
    }  # generated code stays generated code
    return parse.function_from_source(
        source, name, f"<s2sjax: the leaves of what {code.__qualname__} returns>", namespace
    )
