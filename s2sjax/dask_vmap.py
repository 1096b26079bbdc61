"""vmap over Dask arrays: lazy Dask arrays out, one task per block of the mapped axis.

A vmap whose arguments include Dask arrays does not compute: it returns its
outputs (in their structure) as Dask arrays. Each block of the mapped axis is
one task that runs the vmap itself, compiled, on the blocks of the mapped
arguments, so a worker holds a few blocks at a time. The mapped arguments are
rechunked to share the first one's chunks along their mapped axes and to have
one chunk along every other axis; the unmapped ones enter the graph once, as
one key that every task reads. The outputs' structures, shapes and dtypes
come from one example of ones run here, as for a vmap over an axis of size 0.

    per_example = vmap(grad(loss), in_axes=(None, 0, 0))(w, X, y)  # X, y: Dask
    per_example.mean(axis=0).compute()

Dask is imported only when an argument is a Dask array: the core package does
not need it. Workers in other processes get the transformation pickled by
value (by_value.py).
"""

import operator
import uuid

import numpy as np

from .errors import TransformError
from .kinds import batching
from .pytree import tree_flatten, tree_unflatten


def is_dask(value):
    """Whether `value` is a Dask collection, told without importing Dask."""
    return type(value).__module__.startswith("dask")


def has_dask(args, kwargs):
    """Whether a Dask array is among `args` and `kwargs`, or the leaves of their containers."""
    return any(map(is_dask, tree_flatten((args, kwargs))[0]))


def vmap_over_dask(transformed, args, kwargs):
    """`transformed` (a vmap) called with `args` and `kwargs`, some of them Dask arrays."""
    import dask.array as da

    kind = transformed.kind
    _, axes, size = kind._checked(transformed, args, kwargs)
    keyword_axes = batching.argument_axes(0, tuple(kwargs.values()), tuple(kwargs), kwargs, 0)
    spec = (axes[: len(args)], keyword_axes)
    leaves = list(_leaves_with_axes((args, kwargs), spec))
    chunks = _mapped_chunks(leaves)
    outputs = _outputs_of_one_example(transformed, (args, kwargs), spec)
    out_leaves, out_tree = tree_flatten(outputs)
    out_axes = _output_axes(outputs, kind.out_axes)
    if size == 0:
        emptied = batching.emptied(outputs, kind.out_axes)
        return tree_unflatten(out_tree, [da.from_array(leaf) for leaf in tree_flatten(emptied)[0]])
    inputs = [_as_block_input(da, value, axis, chunks) for value, axis in leaves]
    run = _Run(transformed, (args, kwargs), [constant for _, constant in inputs])
    graph, name = _blocks_graph(run, [array for array, _ in inputs], leaves, len(chunks))
    return tree_unflatten(
        out_tree,
        [
            _output(da, graph, name, j, np.asarray(leaf), axis, chunks)
            for j, (leaf, axis) in enumerate(zip(out_leaves, out_axes))
        ],
    )


def _leaves_with_axes(value, spec):
    """(leaf, its mapped axis or None) for each leaf of `value`, `spec` its axes as
    batching.argument_axes gives them (a tuple per container)."""
    if isinstance(spec, tuple):
        for (_, child), child_spec in zip(batching._children(value), spec):
            yield from _leaves_with_axes(child, child_spec)
    elif value is not None:
        yield value, spec


def _with_leaves(value, spec, leaves):
    """`value` with its leaves (those of `_leaves_with_axes`) taken in turn from `leaves`."""
    if isinstance(spec, tuple):
        children = [
            _with_leaves(child, s, leaves) for (_, child), s in zip(batching._children(value), spec)
        ]
        return batching._rebuilt(value, children)
    return None if value is None else next(leaves)


def _mapped_chunks(leaves):
    """The chunks of the mapped axis: the first mapped Dask array's."""
    for value, axis in leaves:
        if axis is not None and is_dask(value):
            chunks = value.chunks[axis]
            if any(np.isnan(c) for c in chunks):
                raise ValueError(
                    "vmap over a Dask array whose chunk sizes are unknown along the mapped axis: "
                    "call its compute_chunk_sizes() first"
                )
            return chunks
    raise ValueError(
        "vmap over Dask arrays maps at least one Dask array: pass a Dask array with in_axes "
        "not None (a Dask array passed unmapped is read whole by every block)"
    )


def _outputs_of_one_example(transformed, arguments, spec):
    """The outputs of `transformed` for one example of ones (`_one_example`)."""
    args, kwargs = _one_example(arguments, spec)
    try:
        with np.errstate(all="ignore"):
            return transformed(*args, **kwargs)
    except TransformError:
        raise  # refused whatever the values: as the in-memory vmap refuses it
    except Exception as exc:
        raise ValueError(
            f"vmap of {transformed.__name__} over Dask arrays: s2sjax sizes the (lazy) outputs "
            f"by running one example of ones, which raised {type(exc).__name__}: {exc}"
        ) from exc


def _one_example(value, spec):
    """`value` with each mapped axis cut to one element of ones, and each unmapped Dask array
    replaced by ones: the example by which the outputs' structure, shapes and dtypes are known."""
    leaves = _leaves_with_axes(value, spec)
    stand_ins = (_stand_in(leaf, axis) for leaf, axis in leaves)
    return _with_leaves(value, spec, stand_ins)


def _stand_in(value, axis):
    if axis is None and not is_dask(value):
        return value
    shape = list(np.shape(value))
    if axis is not None:
        shape[axis] = 1
    return np.ones(shape, dtype=value.dtype if is_dask(value) else np.asarray(value).dtype)


def _output_axes(outputs, out_axes):
    """The batch axis of each leaf of the outputs of one example (None: not batched)."""
    found = []

    def note(leaf, axis):
        if leaf is not None:  # not a leaf, as in tree_flatten
            found.append(None if axis is None else axis % np.ndim(leaf))
        return leaf

    batching.along_out_axes(outputs, out_axes, note)
    return found


def _as_block_input(da, value, axis, chunks):
    """(a Dask array whose block i is block i's input, or None; or None and the value itself,
    for an unmapped value that is not a Dask array)."""
    if axis is None:
        return (value.rechunk(-1), None) if is_dask(value) else (None, value)
    if not is_dask(value):
        value = da.from_array(np.asarray(value), chunks=-1)
    return value.rechunk({k: chunks if k == axis else -1 for k in range(value.ndim)}), None


def _blocks_graph(run, arrays, leaves, nblocks):
    """(the HighLevelGraph of the blocks' tasks, its layer's name): task i returns the leaves
    of the outputs of block i."""
    from dask.highlevelgraph import HighLevelGraph

    name = f"s2sjax-vmap-{uuid.uuid4().hex}"
    layer = {(name, "run"): run}  # the function and the unmapped values: once in the graph
    keys = [
        _block_keys(array) if axis is not None else _block_keys(array) * nblocks
        for array, (_, axis) in zip(arrays, leaves)
        if array is not None
    ]
    for i in range(nblocks):
        layer[(name, i)] = (_run_block, (name, "run"), *[k[i] for k in keys])
    inputs = [array for array in arrays if array is not None]
    return HighLevelGraph.from_collections(name, layer, dependencies=inputs), name


class _Run:
    """What each block's task runs: the vmap of the arguments, the blocks of the Dask arrays
    among their leaves and the other leaves (`constants`, None where a block goes) as given."""

    def __init__(self, transformed, arguments, constants):
        self.transformed = transformed
        self.structure = _structure_spec(arguments)
        # the arguments' containers, their leaves travelling as `constants` only
        self.arguments = _with_leaves(arguments, self.structure, iter([0] * len(constants)))
        self.constants = constants

    def __call__(self, blocks):
        blocks = iter(blocks)
        leaves = [next(blocks) if c is None else c for c in self.constants]
        args, kwargs = _with_leaves(self.arguments, self.structure, iter(leaves))
        return tuple(tree_flatten(self.transformed(*args, **kwargs))[0])


def _structure_spec(value):
    """`value`'s containers as `_leaves_with_axes` walks them, with 0 for each leaf."""
    if batching._is_node(value):
        return tuple(_structure_spec(child) for _, child in batching._children(value))
    return 0


def _run_block(run, *blocks):
    return run(blocks)


def _block_keys(array):
    """The keys of `array`'s blocks along its one chunked axis, in order."""
    return list(_flattened(array.__dask_keys__()))


def _flattened(keys):
    for key in keys:
        if isinstance(key, list):
            yield from _flattened(key)
        else:
            yield key


def _output(da, graph, name, j, leaf, axis, chunks):
    """Output leaf `j` as a Dask array, from the tasks of layer `name`."""
    out = f"{name}-out{j}"
    if axis is None:  # the same for every block: the first block's
        layer = {(out,) + (0,) * leaf.ndim: (operator.getitem, (name, 0), j)}
        full = tuple((n,) for n in leaf.shape)
    else:
        layer = {
            (out,) + tuple(i if k == axis else 0 for k in range(leaf.ndim)): (
                operator.getitem,
                (name, i),
                j,
            )
            for i in range(len(chunks))
        }
        full = tuple(chunks if k == axis else (n,) for k, n in enumerate(leaf.shape))
    from dask.highlevelgraph import HighLevelGraph

    layers = dict(graph.layers, **{out: layer})
    dependencies = dict(graph.dependencies, **{out: {name}})
    return da.Array(HighLevelGraph(layers, dependencies), out, full, dtype=leaf.dtype)
