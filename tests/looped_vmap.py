"""`vmap` as a Python loop and np.stack: an oracle that shares no code with s2sjax's batching.

Imported as `s2sjax` by a copy of test code that calls `s2sjax.vmap` (see tests/test_vmap.py).
"""
import numpy as np


def vmap(fun, in_axes=0, out_axes=0):
    def batched(*args):
        axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
        size = next(np.shape(a)[k] for a, k in zip(args, axes) if k is not None)
        outputs = [fun(*(a if k is None else np.take(a, i, axis=k) for a, k in zip(args, axes))) for i in range(size)]
        if isinstance(outputs[0], tuple):
            specs = out_axes if isinstance(out_axes, tuple) else (out_axes,) * len(outputs[0])
            return tuple(np.moveaxis(np.stack(o), 0, k) for o, k in zip(zip(*outputs), specs))
        return np.moveaxis(np.stack(outputs), 0, out_axes)
    return batched
