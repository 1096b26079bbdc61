"""vmap as source: a loop over the mapped axis around the per-example code.

The batched function is a short Python function, written here, that slices
each mapped argument along its axis, calls the per-example function and
stores each result into a preallocated output; the pipeline then inlines the
per-example code into it, so Numba compiles one function (nested vmaps: one
function with nested loops). The first example runs before the loop: its
outputs give the batched outputs' shapes and dtypes.

    def f_vmap(x, y):                           # vmap(f, in_axes=(0, None))
        size = x.shape[0]
        out = f(x[0], y)
        batched = rt.tape(out, size)            # one slot per example
        batched[0] = out
        for example in range(1, size):          # rt.prange with target="parallel"
            batched[example] = f(x[example], y)
        return batched

This module also holds JAX's rules for `in_axes` and `out_axes`: which axis
of each argument (each leaf, for containers) is mapped, and the errors
for specifications that do not fit the arguments or outputs.
"""

from collections import Counter

import gast
import numpy as np

from ..backend.naming import Namer
from ..backend.templates import assign, call, expression, fill_each, source, subscript, tuple_of
from ..pytree import LEAF, TreeDef, node_type, tree_leaves, tree_structure, tree_unflatten

# ---- in_axes and out_axes --------------------------------------------------


def check_spec(spec, what):
    """JAX's check of an in_axes or out_axes specification: ints and None in tuples and lists."""
    if isinstance(spec, (tuple, list, dict)):
        for item in spec.values() if isinstance(spec, dict) else spec:
            check_spec(item, what)
    elif spec is not None and (not isinstance(spec, int) or isinstance(spec, bool)):
        raise TypeError(
            f"vmap {what} must be an int, None, or (nested) container with those types as leaves, "
            f"but got {spec!r}."
        )


def argument_axes(in_axes, args, names, keywords, npositional):
    """Per argument, its mapped axis.

    None, an int >= 0, or for a container a tuple of those per child.

    `args` are bound in signature order, the first `npositional` passed by position;
    `keywords` are the names passed by keyword, mapped on axis 0 as in JAX; arguments
    left to their defaults are not mapped.
    """
    if isinstance(in_axes, (tuple, list)):
        if len(in_axes) != npositional:
            raise ValueError(
                "vmap in_axes must be an int, None, or a tuple of entries corresponding to the "
                "positional arguments passed to the function, "
                f"but got len(in_axes)={len(in_axes)}, len(args)={npositional}"
            )
        specs = list(in_axes)
    else:
        specs = [in_axes] * npositional
    axes = []
    for i, (name, value) in enumerate(zip(names, args)):
        spec = specs[i] if i < npositional else 0 if name in keywords else None
        axes.append(_prefix(spec, value, name))
    return tuple(axes)


def _prefix(spec, value, path):
    """`spec` applied to `value`: an int or None covers every leaf; a container matches a container.

    A container's axes are a tuple, one entry per child (a dict's in key order).
    """
    if isinstance(spec, (tuple, list, dict)):
        if not _same_node(spec, value):
            raise ValueError(
                f"vmap in_axes specification must be a tree prefix of the corresponding value, got "
                f"specification {spec!r} for value {path} of type {_structure(value)}."
            )
        specs = [spec[k] for k in value] if isinstance(spec, dict) else spec
        return tuple(_prefix(s, v, f"{path}[{k!r}]") for s, (k, v) in zip(specs, _children(value)))
    if _is_node(value):
        return tuple(_prefix(spec, v, f"{path}[{k!r}]") for k, v in _children(value))
    if spec is None:
        return None
    rank = np.ndim(value)
    if not -rank <= spec < rank:
        raise ValueError(
            f"vmap was requested to map its argument along axis {spec}, "
            f"which implies that its rank should be at least {max(spec + 1, -spec)}, "
            f"but is only {rank} "
            f"(its shape is {np.shape(value)}): argument {path}"
        )
    return spec % rank


def _same_node(spec, value):
    if isinstance(spec, dict):
        return type(value) is dict and list(spec) == list(value)
    return type(value) in (tuple, list) and len(value) == len(spec)


def _is_node(value):
    """Whether `value` is a container or an object that is a tree node (pytree.node_type)."""
    return type(value) in (tuple, list, dict) or node_type(value) is not None


def _children(value):
    if type(value) is dict:
        return value.items()
    node = node_type(value)
    return enumerate(value if node is None else node.flatten(value)[0])


def _structure(value):
    if type(value) in (tuple, list, dict):
        return f"{type(value).__name__} of {len(value)}"
    return type(value).__name__


def structure_axes(in_axes, treedefs, names):
    """`argument_axes` from the arguments' structures alone.

    For a vmap inside another transformation.
    """
    specs = list(in_axes) if isinstance(in_axes, (tuple, list)) else [in_axes] * len(treedefs)
    if len(specs) != len(treedefs):
        raise ValueError(
            f"vmap in_axes has {len(specs)} entries for a function of {len(treedefs)} arguments"
        )
    return tuple(_structure_prefix(s, t, n) for s, t, n in zip(specs, treedefs, names))


def _structure_prefix(spec, treedef, path):
    if treedef.kind != "leaf":
        steps = treedef.keys if treedef.kind == "dict" else range(len(treedef.children))
        if isinstance(spec, dict):
            spec = [spec[k] for k in steps]
        specs = spec if isinstance(spec, (tuple, list)) else [spec] * len(steps)
        return tuple(
            _structure_prefix(s, c, f"{path}[{k!r}]")
            for s, c, k in zip(specs, treedef.children, steps)
        )
    if spec is not None and (isinstance(spec, (tuple, list, dict)) or spec < 0):
        raise ValueError(
            f"vmap in_axes {spec!r} for {path}: a vmap inside another transformation, called with "
            "containers, needs in_axes that are numbers >= 0 or None"
        )
    return spec


def axis_size(args, axes, names, keywords, size=None):
    """The size of the mapped axis, checked to agree across arguments (JAX's error when not)."""
    found = []  # (size, how to describe it): described only for the error, which is rare
    for name, value, spec in zip(names, args, axes):
        _mapped_leaves(value, spec, (name, keywords), found)
    if size is not None:
        found.append((size, f"axis_size={size}"))
    if not found:
        raise ValueError("vmap must have at least one non-None value in in_axes")
    sizes = Counter(s for s, _ in found)
    if len(sizes) == 1:
        return found[0][0]
    found = [(s, d if isinstance(d, str) else _describe_leaf(*d)) for s, d in found]
    lines = []
    for k, (s, count) in enumerate(sizes.most_common()):
        examples = [d for t, d in found if t == s]
        if count == 1:
            lines.append(f"  * one axis had size {s}: {examples[0]}")
        else:
            lead = "most" if k == 0 else "some"
            lines.append(f"  * {lead} axes ({count} of them) had size {s}, e.g. {examples[0]}")
    raise ValueError(
        "vmap got inconsistent sizes for array axes to be mapped:\n" + ";\n".join(lines)
    )


def _mapped_leaves(value, spec, where, found, path=""):
    if isinstance(spec, tuple):
        for (k, v), s in zip(_children(value), spec):
            _mapped_leaves(v, s, where, found, f"{path}[{k!r}]")
    elif spec is not None:
        found.append((np.shape(value)[spec], (value, spec, where, path)))


def _describe_leaf(value, spec, where, path):
    name, keywords = where
    shape = np.shape(value)
    argument = f"kwargs[{name!r}]" if name in keywords else f"argument {name}"
    return f"axis {spec} of {argument}{path} of type {_dtype(value)}[{','.join(map(str, shape))}]"


def _dtype(value):
    """`value`'s dtype, not computing a Dask array to find it."""
    return value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype


def example(args, axes, index):
    """The arguments of example `index`: each mapped argument indexed along its axis."""
    return tuple(_take(a, spec, index) for a, spec in zip(args, axes))


def _take(value, spec, index):
    return value if spec is None else np.take(value, index, axis=spec)


def stand_in(value, spec):
    """`value` with each mapped axis (of size 0) given one element, a one: an example by which
    a vmap over nothing sizes its outputs."""
    if isinstance(spec, tuple):
        return _rebuilt(value, [stand_in(v, s) for (_, v), s in zip(_children(value), spec)])
    if spec is None:
        return value
    shape = list(np.shape(value))
    shape[spec] = 1
    return np.ones(shape, dtype=np.asarray(value).dtype)


def emptied(value, out_axes):
    """The outputs `value` of a vmap over one example, with that example taken out again."""
    return along_out_axes(
        value, out_axes, lambda v, a: v if a is None else np.take(v, np.arange(0), axis=a)
    )


def along_out_axes(value, out_axes, leaf):
    """The outputs `value` of a vmap with `leaf(v, its out axis)` in place of each leaf v."""
    if _is_node(value):
        if isinstance(out_axes, dict):
            specs = [out_axes[k] for k in value]
        else:
            specs = out_axes if isinstance(out_axes, (tuple, list)) else [out_axes] * len(value)
        children = [along_out_axes(v, s, leaf) for (_, v), s in zip(_children(value), specs)]
        return _rebuilt(value, children)
    return leaf(value, out_axes)


def _rebuilt(value, children):
    """A container of `value`'s type and keys holding `children` (an object's aux data)."""
    node = node_type(value)
    if node is not None:
        return node.unflatten(node.flatten(value)[1], children)
    return dict(zip(value, children)) if type(value) is dict else type(value)(children)


def returned_tree(output_types, returns_tuple):
    """The structure of what per-example code returns: its outputs (a tuple of them, or the one),
    each output that is a tuple of values (a gradient for each leaf of a container) a node.

    >>> from s2sjax.abstract import Type
    >>> returned_tree((Type("float"), Type("tuple", 0, (Type("float", 1), Type("float")))), True)
    (*, (*, *))
    """
    trees = tuple(_type_tree(t) for t in output_types)
    return TreeDef("tuple", trees) if returns_tuple else trees[0]


def _type_tree(typ):
    return TreeDef("tuple", tuple(map(_type_tree, typ.elts))) if typ.kind == "tuple" else LEAF


def leaf_types(output_types):
    """The types of the leaves of `returned_tree`, in order."""
    return [
        leaf for t in output_types for leaf in (leaf_types(t.elts) if t.kind == "tuple" else [t])
    ]


def leaf_out_axes(out_axes, returned, restructure):
    """`out_axes`, a prefix of the user's output structure, as one entry per leaf of `returned`.

    `restructure` puts what the per-example code returns (of structure `returned`) into the
    user's structures (lists, dicts, a gradient in its argument's structure); it is applied to
    the leaves' numbers to see which leaf each entry of `out_axes` covers.

    >>> from s2sjax.abstract import FLOAT, Type
    >>> leaf_out_axes(
    ...     (0, {"w": 1, "b": None}),
    ...     returned_tree([FLOAT, Type("tuple", 0, (FLOAT, FLOAT))], True),
    ...     lambda out: (out[0], dict(zip("wb", out[1]))),
    ... )
    [0, 1, None]
    """
    axes = [out_axes] * returned.num_leaves
    if not isinstance(out_axes, (tuple, list, dict)):
        return axes
    numbered = restructure(tree_unflatten(returned, range(returned.num_leaves)))

    def walk(spec, node):
        if not isinstance(spec, (tuple, list, dict)):
            for leaf in tree_leaves(node):
                axes[leaf] = spec
            return
        if not _same_node(spec, node):
            raise ValueError(
                "vmap out_axes specification must be a tree prefix of the corresponding value, "
                f"got specification {out_axes!r} "
                f"for an output of structure {tree_structure(numbered)}."
            )
        for sub, (_, child) in zip(
            [spec[k] for k in node] if isinstance(spec, dict) else spec, _children(node)
        ):
            walk(sub, child)

    walk(out_axes, numbered)
    return axes


def output_axes(specs, ranks):
    """Per output leaf (of `ranks`, the per-example ranks), its axis in the batched output, or None.

    A rank may be unknown (None) before the code runs: 0 and None need no rank, and any other
    axis is left as given, for `rt.move_batch_axis` to check against the rank the output has.
    """
    axes = []
    for spec, rank in zip(specs, ranks):
        if spec is None or spec == 0 or rank is None:
            axes.append(spec)
            continue
        if not -(rank + 1) <= spec <= rank:
            raise ValueError(f"axis {spec} is out of bounds for array of dimension {rank + 1}")
        axes.append(spec % (rank + 1))
    return axes


# ---- the batched function, as source ----------------------------------------


def vmap_source(
    name,
    params,
    extra,
    axes,
    example_name,
    out_axes,
    returned,
    size=None,
    parallel=False,
    checked=(),
):
    """`name(params, extra)`: `example_name` run once per example along the mapped axes.

    `axes` has one entry per parameter (see `argument_axes`); `returned` is the structure of what
    `example_name` returns (see `returned_tree`), and `out_axes` has one entry per leaf of it;
    `size` is the axis size when no argument is mapped. The leaves numbered in `checked` (those
    whose rank is not known before the code runs) are checked to have the first example's shape.
    """
    namer = Namer(params + extra)
    n, example = namer.fresh("size"), namer.fresh("example")
    count = returned.num_leaves
    outs, each, batched = (
        [namer.fresh(f"{stem}_{k}" if returned.kind != "leaf" else stem) for k in range(count)]
        for stem in ("out", "each", "batched")
    )
    mapped = [k for k, axis in enumerate(out_axes) if axis is not None]
    stored = [
        expression(_same_shape, each=each[k], out=outs[k]) if k in checked else each[k]
        for k in range(count)
    ]
    return source(
        _batch_loop,
        name=name,
        parameters=params + extra,
        size=n,
        counted=_size(params, axes, size),
        outs=_tree(returned, iter(outs)),
        function=example_name,
        firsts=_examples(params, axes, 0) + extra,
        tapes=fill_each(_first_slot, (dict(batch=batched[k], out=outs[k], size=n) for k in mapped)),
        example=example,
        loop="rt.prange" if parallel else "range",
        each=_tree(returned, iter(each)),
        examples=_examples(params, axes, example) + extra,
        stores=fill_each(
            _slot, (dict(batch=batched[k], example=example, value=stored[k]) for k in mapped)
        ),
        results=_tree(returned, map(_result, outs, batched, out_axes)),
    )


def _batch_loop(
    name,
    parameters,
    size,
    counted,
    outs,
    function,
    firsts,
    tapes,
    example,
    loop,
    each,
    examples,
    stores,
    results,
):
    def name(*parameters):
        size = counted
        outs = function(*firsts)
        tapes
        for example in loop(1, size):
            each = function(*examples)
            stores
        return results


def _first_slot(batch, out, size):
    batch = rt.tape(out, size)  # one slot per example
    batch[0] = out


def _slot(batch, example, value):
    batch[example] = value


def _same_shape(each, out):
    return rt.same_shape(each, out)


def _result(out, batch, axis):
    """A batched output: the first example's where unmapped, else its slots, moved to `axis`."""
    if axis is None:
        return out
    return batch if axis == 0 else expression(_move_batch_axis, batch=batch, axis=axis)


def _move_batch_axis(batch, axis):
    return rt.move_batch_axis(batch, axis)


def leaves_source(name, params, example_name, returned):
    """`name(params)`: what `example_name` returns, its leaves as one flat tuple (for a CUDA
    device function, which returns its scalars and writes its arrays into the kernel's slots)."""
    namer = Namer(params)
    leaves = [namer.fresh(f"out_{k}") for k in range(returned.num_leaves)]
    return source(
        _leaves,
        name=name,
        params=params,
        outs=_tree(returned, iter(leaves)),
        function=example_name,
        leaves=leaves,
    )


def _leaves(name, params, outs, function, leaves):
    def name(*params):
        outs = function(*params)
        return (*leaves,)


def _tree(treedef, leaves):
    """An expression of structure `treedef` holding `leaves` (an iterator): a display to build it,
    or a target to unpack it."""
    if treedef.kind == "leaf":
        return next(leaves)
    if treedef.kind in (
        "dict",
        "none",
    ):  # no target unpacks them (the source once written failed to compile)
        raise TypeError(
            "a vmap inside a transformed function maps a function returning arrays, "
            f"or tuples of them, not one returning {treedef}"
        )
    items = [_tree(child, leaves) for child in treedef.children]
    return expression(_list, items=items) if treedef.kind == "list" else tuple_of(items)


def _list(items):
    return [*items]


def _size(params, axes, size):
    """The mapped axes' one size, or `size` when none is mapped.

    The sizes are checked here too: the caller checks only the outermost vmap's.
    """
    sizes = [
        expression(_axis_size, x=param, axis=spec)
        for param, spec in zip(params, axes)
        if spec is not None
    ]
    return expression(_common_size, sizes=sizes) if sizes else size


def _axis_size(x, axis):
    return x.shape[axis]


def _common_size(sizes):
    return rt.common_size((*sizes,))


_WHOLE = gast.Slice(None, None, None)  # `:`, all of an axis


def _examples(params, axes, index):
    """Each parameter's example `index`: `x[:, index]` for one mapped along axis 1."""
    return [
        param
        if spec is None
        else subscript(param, index if spec == 0 else tuple_of([_WHOLE] * spec + [index]))
        for param, spec in zip(params, axes)
    ]


# ---- the CUDA kernel ----------------------------------------------------------


def kernel_source(name, params, extra, axes, device_name, out_ranks):
    """`name(params, extra, batched_0, ...)`: a CUDA kernel, one thread per example.

    The thread for example `k` calls the device function on the examples' slices and stores
    its scalar outputs into `batched_j[k]`; array outputs are the device function's last
    arguments, which it fills in place.
    """
    namer = Namer(params + extra)
    example = namer.fresh("example")
    batched = [namer.fresh(f"batched_{k}") for k in range(len(out_ranks))]
    examples = _examples(params, axes, example)
    launch = _device_call(device_name, examples, extra, batched, out_ranks, example)
    return source(
        _kernel,
        name=name,
        parameters=params + extra + batched,
        example=example,
        batched=batched[0],
        launch=launch,
    )


def _device_call(device_name, examples, extra, batched, out_ranks, slot):
    """The device function called on `examples`: its array outputs are `batched_j[slot]`, its
    scalar ones stored there."""
    scalars = [subscript(b, slot) for b, r in zip(batched, out_ranks) if r == 0]
    arrays = [subscript(b, slot) for b, r in zip(batched, out_ranks) if r > 0]
    launch = call(device_name, examples + extra + arrays)
    if scalars:
        launch = assign(scalars[0] if len(scalars) == 1 else tuple_of(scalars), launch)
    return launch


def _kernel(name, parameters, example, batched, launch):
    @cuda.jit(debug=False)  # NumPy's error model, as device functions have (passes/kernel.py)
    def name(*parameters):
        example = cuda.grid(1)
        if example < batched.shape[0]:
            launch  # the device function's call, its scalar outputs stored


def grid_kernel_source(name, params, extra, axes, inner_axes, device_name, out_ranks):
    """`name(params, extra, batched_0, ...)`: a CUDA kernel for a vmap of a vmap, one thread per
    (outer, inner) pair of examples on a 2-D grid.

    The grid's x runs over the inner examples, whose outputs lie side by side in memory; its y,
    limited to 65535 blocks, strides over the outer ones. `axes` map the parameters to one outer
    example, `inner_axes` that example's parameters to one pair's.
    """
    namer = Namer(params + extra)
    pair, first, example = namer.fresh("pair"), namer.fresh("first"), namer.fresh("example")
    batched = [namer.fresh(f"batched_{k}") for k in range(len(out_ranks))]
    slot = tuple_of([example, pair])
    examples = _examples(_examples(params, axes, example), inner_axes, pair)
    launch = _device_call(device_name, examples, extra, batched, out_ranks, slot)
    return source(
        _grid_kernel,
        name=name,
        parameters=params + extra + batched,
        pair=pair,
        first=first,
        example=example,
        batched=batched[0],
        launch=launch,
    )


def _grid_kernel(name, parameters, pair, first, example, batched, launch):
    @cuda.jit(debug=False)  # NumPy's error model, as device functions have (passes/kernel.py)
    def name(*parameters):
        pair, first = cuda.grid(2)
        if pair < batched.shape[1]:
            for example in range(first, batched.shape[0], cuda.gridsize(2)[1]):
                launch  # the device function's call, its scalar outputs stored
