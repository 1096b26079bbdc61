"""`vmap` as a Python loop and np.stack: an oracle that shares no code with s2sjax's batching.

Imported as `s2sjax` by a copy of test code that calls `s2sjax.vmap` (see tests/test_vmap.py).
"""

import numpy as np


def vmap(fun, in_axes=0, out_axes=0):
    def batched(*args):
        axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
        size = next(np.shape(a)[k] for a, k in zip(args, axes) if k is not None)
        outputs = [
            fun(*(a if k is None else np.take(a, i, axis=k) for a, k in zip(args, axes)))
            for i in range(size)
        ]
        return _stacked(outputs, out_axes)

    return batched


def _stacked(outputs, out_axes):
    """The examples' outputs stacked leaf by leaf (tuples nested in them too) along `out_axes`."""
    if isinstance(outputs[0], tuple):
        specs = out_axes if isinstance(out_axes, tuple) else (out_axes,) * len(outputs[0])
        return tuple(_stacked(list(o), k) for o, k in zip(zip(*outputs), specs))
    return np.moveaxis(np.stack(outputs), 0, out_axes)
