"""Runtime helpers that generated code calls as `rt.name(...)`.

Each helper is a plain NumPy function, which is what `target="python"` runs,
followed by its Numba `overload`, which picks an implementation from the
argument types (scalar or array, axis None or an integer): what compiled code
runs. Where one body serves both, it is a `register_jitable` function. Adjoint
helpers return new arrays, never views of their inputs.
"""

import importlib
import math

import numpy as np
import numba
from numba import types
from numba.cpython.unsafe.tuple import tuple_setitem
from numba.extending import overload, register_jitable
from numba.np.unsafe.ndarray import to_fixed_tuple


# ---- pieces the implementations share ---------------------------------------


def _float_dtype(x):
    """`x`'s dtype if it is a float type, else float64 (a Python float is float64)."""
    dtype = np.asarray(x).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _is_array(t):
    return isinstance(t, types.Array)


def _is_none(t):
    return t is None or isinstance(t, (types.NoneType, types.Omitted))


@register_jitable
def _split(shape, axis):
    """(pre, n, post): `shape` seen as three dimensions around `axis`."""
    if axis < 0:
        axis += len(shape)
    pre, post = 1, 1
    for d in range(len(shape)):
        if d < axis:
            pre *= shape[d]
        elif d > axis:
            post *= shape[d]
    return pre, shape[axis], post


def _grid(a, axis):
    """(pre, n, post): `a` seen as three dimensions around `axis` (n is all of `a` for None)."""


@overload(_grid)
def _grid_impl(a, axis):
    if _is_none(axis):
        return lambda a, axis: (1, a.size, 1)
    return lambda a, axis: _split(a.shape, axis)


def _as_grid(x, pre, post):
    """A reduction's result (or its adjoint) as a (pre, post) array."""


@overload(_as_grid)
def _as_grid_impl(x, pre, post):
    if _is_array(x):
        return lambda x, pre, post: np.ascontiguousarray(x).reshape((pre, post))
    return lambda x, pre, post: np.full((pre, post), x)


# ---- adjoints and tapes (reverse mode) ---------------------------------------


def zeros_like(x):
    """A zero adjoint shaped like `x` (0.0 for a scalar)."""
    if np.ndim(x) == 0:
        return 0.0
    return np.zeros(np.shape(x), dtype=_float_dtype(x))


@overload(zeros_like)
def _zeros_like(x):
    if _is_array(x) and isinstance(x.dtype, types.Float):
        return lambda x: np.zeros_like(x)
    if _is_array(x):
        return lambda x: np.zeros(x.shape)
    return lambda x: 0.0


def unbroadcast(g, x):
    """Sum `g` over the dimensions along which `x` was broadcast to `g`'s shape."""
    if np.ndim(x) == 0:
        return np.sum(g)
    g = np.asarray(g)
    lead = g.ndim - np.ndim(x)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(d for d, n in enumerate(np.shape(x)) if n == 1 and g.shape[d] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return np.broadcast_to(g, np.shape(x)).copy() if g.shape != np.shape(x) else g


@overload(unbroadcast)
def _unbroadcast(g, x):
    if not _is_array(x):
        if _is_array(g):
            return lambda g, x: np.sum(g)
        return lambda g, x: g
    if not _is_array(g):
        return lambda g, x: np.full(x.shape, g)
    # Two implementations, not one closing over g.ndim - x.ndim: see _reduce_axis.
    return _unbroadcast_same_rank if g.ndim == x.ndim else _unbroadcast_to_lower_rank


def _unbroadcast_same_rank(g, x):
    if g.shape == x.shape:
        return np.ascontiguousarray(g).copy()
    return _sum_into(g, x)


def _unbroadcast_to_lower_rank(g, x):
    return _sum_into(g, x)


@register_jitable
def _sum_into(g, x):
    """g summed into an array of x's shape: over g's leading dimensions and x's size-1 ones."""
    lead = g.ndim - x.ndim
    out = np.zeros(x.shape, dtype=g.dtype)
    flat_out = out.reshape(out.size)
    flat_g = np.ascontiguousarray(g).reshape(g.size)
    for k in range(g.size):
        rest, offset, stride = k, 0, 1
        for d in range(g.ndim - 1, -1, -1):
            i = rest % g.shape[d]
            rest //= g.shape[d]
            if d >= lead:
                n = x.shape[d - lead]
                if n != 1:
                    offset += i * stride
                stride *= n
        flat_out[offset] += flat_g[k]
    return out


def sum_adjoint(g, a, axis):
    """The adjoint of `np.sum(a, axis)`: `g` spread back over the reduced axis."""
    if np.ndim(a) == 0:
        return g
    if axis is None:
        return np.full(np.shape(a), g, dtype=_float_dtype(g))
    return np.broadcast_to(np.expand_dims(g, axis), np.shape(a)).copy()


@overload(sum_adjoint)
def _sum_adjoint(g, a, axis):
    if not _is_array(a):  # a reduction of a scalar is the scalar
        return lambda g, a, axis: g
    if _is_none(axis):
        return lambda g, a, axis: np.full(a.shape, g)

    def impl(g, a, axis):
        pre, n, post = _split(a.shape, axis)
        g2 = np.ascontiguousarray(g).reshape((pre, post))
        out = np.empty((pre, n, post), dtype=g2.dtype)
        for i in range(pre):
            for j in range(n):
                out[i, j, :] = g2[i, :]
        return out.reshape(a.shape)

    return impl


def mean_adjoint(g, a, axis):
    if np.ndim(a) == 0:
        return g
    count = np.size(a) if axis is None else np.shape(a)[axis]
    return sum_adjoint(g, a, axis) / count


@overload(mean_adjoint)
def _mean_adjoint(g, a, axis):
    if not _is_array(a):  # a reduction of a scalar is the scalar
        return lambda g, a, axis: g
    if _is_none(axis):
        return lambda g, a, axis: np.full(a.shape, g / a.size)

    def impl(g, a, axis):
        return sum_adjoint(g, a, axis) / _split(a.shape, axis)[1]

    return impl


def prod_adjoint(g, a, axis):
    """The adjoint of `np.prod(a, axis)`: `g` times the product of the *other* entries.

    Safe with zeros.
    """
    if np.ndim(a) == 0:
        return g
    a = np.asarray(a, dtype=float)
    moved = np.moveaxis(a.reshape(-1) if axis is None else a, -1 if axis is None else axis, -1)
    before = np.concatenate(
        [np.ones(moved.shape[:-1] + (1,)), np.cumprod(moved, axis=-1)[..., :-1]], axis=-1
    )
    after = np.concatenate(
        [
            np.cumprod(moved[..., ::-1], axis=-1)[..., :-1][..., ::-1],
            np.ones(moved.shape[:-1] + (1,)),
        ],
        axis=-1,
    )
    others = (before * after)[..., : moved.shape[-1]]  # none for an empty axis
    if axis is None:
        return (g * others).reshape(a.shape)
    return np.moveaxis(np.expand_dims(g, -1) * others, -1, axis)


@overload(prod_adjoint)
def _prod_adjoint(g, a, axis):
    if not _is_array(a):  # a reduction of a scalar is the scalar
        return lambda g, a, axis: g

    def impl(g, a, axis):
        pre, n, post = _grid(a, axis)
        a3 = np.ascontiguousarray(a).reshape((pre, n, post))
        g2 = _as_grid(g, pre, post)
        out = np.empty((pre, n, post))
        for i in range(pre):
            for k in range(post):
                before = 1.0
                for j in range(n):
                    out[i, j, k] = before
                    before *= a3[i, j, k]
                after = 1.0
                for j in range(n - 1, -1, -1):
                    out[i, j, k] *= after * g2[i, k]
                    after *= a3[i, j, k]
        return out.reshape(a.shape)

    return impl


def extreme_adjoint(g, a, out, axis):
    """The adjoint of `np.max`/`np.min`: shared equally among the entries equal to the extreme."""
    if np.ndim(a) == 0:
        return g
    if axis is None:
        mask = np.asarray(a == out, dtype=float)
        return g * mask / mask.sum()
    mask = np.asarray(a == np.expand_dims(out, axis), dtype=float)
    g = np.broadcast_to(g, np.shape(out))  # a scalar g: the same seed for every reduced slice
    return np.expand_dims(g, axis) * mask / mask.sum(axis=axis, keepdims=True)


@overload(extreme_adjoint)
def _extreme_adjoint(g, a, out, axis):
    if not _is_array(a):  # a reduction of a scalar is the scalar
        return lambda g, a, out, axis: g

    def impl(g, a, out, axis):
        pre, n, post = _grid(a, axis)
        a3 = np.ascontiguousarray(a).reshape((pre, n, post))
        o2 = _as_grid(out, pre, post)
        g2 = _as_grid(g, pre, post)
        result = np.zeros((pre, n, post))
        for i in range(pre):
            for k in range(post):
                count = 0
                for j in range(n):
                    if a3[i, j, k] == o2[i, k]:
                        count += 1
                for j in range(n):
                    if a3[i, j, k] == o2[i, k]:
                        result[i, j, k] = g2[i, k] / count
        return result.reshape(a.shape)

    return impl


def reshape_like(g, a):
    if np.ndim(a) == 0:  # a scalar's adjoint is a scalar, not a 0-d array
        return np.ravel(g)[0]
    return np.reshape(np.ascontiguousarray(g), np.shape(a))


@overload(reshape_like)
def _reshape_like(g, a):
    if not _is_array(a):
        if not _is_array(g):  # a number: itself, which a CUDA device function can return
            return lambda g, a: g
        return lambda g, a: np.ravel(np.asarray(g))[0]
    return lambda g, a: np.ascontiguousarray(g).reshape(a.shape)


def max_weight(a, b):
    """1 where `a` is the larger, 1/2 at ties, 0 elsewhere: how max(a, b) shares its adjoint."""
    return (a > b) + 0.5 * (a == b)


@overload(max_weight)
def _max_weight(a, b):
    if _is_array(a) or _is_array(b):
        return lambda a, b: (a > b) * 1.0 + (a == b) * 0.5
    return lambda a, b: 1.0 if a > b else (0.5 if a == b else 0.0)


def trip_count(start, stop, step):
    """How many times `for i in range(start, stop, step)` runs its body."""
    return len(range(start, stop, step))


@overload(trip_count)
def _trip_count(start, stop, step):
    def impl(start, stop, step):
        if step > 0:
            return max(0, (stop - start + step - 1) // step)
        return max(0, (start - stop - step - 1) // -step)

    return impl


def tape(value, trips):
    """An array with one slot per iteration for a loop-carried `value` (a scalar or an array)."""
    value = np.asarray(value)
    dtype = value.dtype if value.dtype.kind in "fb" else np.dtype(np.int64)
    return np.empty((trips,) + value.shape, dtype=dtype)


@overload(tape)
def _tape(value, trips):
    if _is_array(value):
        return lambda value, trips: np.empty((trips,) + value.shape, dtype=value.dtype)
    if isinstance(value, types.Boolean):
        return lambda value, trips: np.empty(trips, dtype=np.bool_)
    if isinstance(value, types.Integer):
        return lambda value, trips: np.empty(trips, dtype=np.int64)
    scalar = numba.np.numpy_support.as_dtype(value).type  # a float32 value keeps float32 slots
    return lambda value, trips: np.empty(trips, dtype=scalar)


@register_jitable  # the same code serves Python and Numba
def grow(tape, used):
    """`tape`, or a copy twice as long when its `used` slots fill it (a `while` loop's tape)."""
    if used < tape.shape[0]:
        return tape
    bigger = np.empty((2 * tape.shape[0],) + tape.shape[1:], dtype=tape.dtype)
    bigger[:used] = tape[:used]
    return bigger


# ---- tapes family (issue 23): a tape recorded once across a loop nest ----


@register_jitable  # the same code serves Python and Numba
def reserve(tape, size):
    """`tape`, or a copy with room for `size` slots (at least twice as long) when it is shorter:
    before a counted loop recording into a tape shared by the iterations of the loops around it."""
    if size <= tape.shape[0]:
        return tape
    bigger = np.empty((max(size, 2 * tape.shape[0]),) + tape.shape[1:], dtype=tape.dtype)
    bigger[: tape.shape[0]] = tape
    return bigger


# ---- end of the tapes family ----


# left where no return in the loop survives (a constant flag pruned it): never read
@register_jitable
def unset():
    """What `.ret` holds before a loop that may return; lower replaces it by a value of its type."""
    return None


def empty_float(length, arrays):
    """A new float array of `length` in the widest float dtype of `arrays` (a fused loop's result:
    NumPy would compute it in that dtype, so float32 inputs give float32)."""
    return np.empty(length, dtype=np.result_type(*(a.dtype for a in arrays)))


@overload(empty_float)
def _empty_float(length, arrays):
    dtype = np.result_type(*(np.dtype(t.dtype.name) for t in arrays))
    return lambda length, arrays: np.empty(length, dtype=dtype)


def float_cast(x, arrays):
    """`x` in the widest float dtype of `arrays` (what a fused loop computing it allocates; a
    fused sum, which adds in float64, is NumPy's float32 sum of float32 arrays)."""
    dtype = np.result_type(*(a.dtype for a in arrays))
    return dtype.type(x) if np.ndim(x) == 0 else x.astype(dtype, copy=False)


@overload(float_cast)
def _float_cast(x, arrays):
    dtype = np.result_type(*(np.dtype(t.dtype.name) for t in arrays))
    if isinstance(x, types.Float):
        scalar = dtype.type
        return lambda x, arrays: scalar(x)
    return lambda x, arrays: x.astype(dtype)


def stacked_shape(lengths, leaf):
    """The shape of `np.array` of nested lists of `lengths` of elements shaped like `leaf`."""
    return tuple(lengths) + np.shape(leaf)


@overload(stacked_shape)
def _stacked_shape(lengths, leaf):
    if _is_array(leaf):
        return lambda lengths, leaf: lengths + leaf.shape
    return lambda lengths, leaf: lengths


def matmul(a, b):
    """`a @ b` for adjoints, whose dtypes may differ (a float64 adjoint of a float32 array)."""
    return np.matmul(a, b)


@overload(matmul)
def _matmul(a, b):
    if _is_array(a) and _is_array(b) and a.dtype != b.dtype:
        return lambda a, b: a.astype(np.float64) @ b.astype(np.float64)
    return lambda a, b: a @ b


def log_or_zero(x):
    """log(x), with 0 where x == 0: `d(x ** p)/dp` is 0 there, not NaN."""
    if np.ndim(x) == 0:
        return np.log(x) if x != 0 else 0.0
    return np.log(np.where(x == 0, 1.0, x))


@overload(log_or_zero)
def _log_or_zero(x):
    if _is_array(x):
        return lambda x: np.log(np.where(x == 0, 1.0, x))
    return lambda x: np.log(x) if x != 0 else 0.0


def pow_base_adjoint(g, x, p):
    """g * d(x ** p)/dx, which is 0 where p == 0 (even at x == 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * np.where(p == 0, 0.0, p * np.power(x, p - 1.0))


@overload(pow_base_adjoint)
def _pow_base_adjoint(g, x, p):
    if _is_array(x) or _is_array(p):
        return lambda g, x, p: g * np.where(p == 0, 0.0, p * np.power(x, p - 1.0))
    return lambda g, x, p: g * (0.0 if p == 0 else p * x ** (p - 1.0))


# ---- derivatives of the helpers above, for derivatives of generated code (second order)


def reciprocal_or_zero(x):
    """1 / x, with 0 where x == 0: the derivative of log_or_zero."""
    if np.ndim(x) == 0:
        return 1.0 / x if x != 0 else 0.0
    return np.where(x == 0, 0.0, 1.0 / np.where(x == 0, 1.0, x))


@overload(reciprocal_or_zero)
def _reciprocal_or_zero(x):
    if _is_array(x):
        return lambda x: np.where(x == 0, 0.0, 1.0 / np.where(x == 0, 1.0, x))
    return lambda x: 1.0 / x if x != 0 else 0.0


def pow_base_second(g, x, p):
    """g * d(pow_base_adjoint(1, x, p))/dx = g * p (p - 1) x ** (p - 2), 0 where p is 0 or 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * np.where((p == 0) | (p == 1), 0.0, p * (p - 1.0) * np.power(x, p - 2.0))


@overload(pow_base_second)
def _pow_base_second(g, x, p):
    if _is_array(x) or _is_array(p):
        return lambda g, x, p: (
            g * np.where((p == 0) | (p == 1), 0.0, p * (p - 1.0) * np.power(x, p - 2.0))
        )
    return lambda g, x, p: g * (0.0 if p == 0 or p == 1 else p * (p - 1.0) * x ** (p - 2.0))


def pow_base_dp(g, x, p):
    """g * d(pow_base_adjoint(1, x, p))/dp = g * x ** (p - 1) (1 + p log x), 0 where p == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * np.where(p == 0, 0.0, np.power(x, p - 1.0) * (1.0 + p * log_or_zero(x)))


@overload(pow_base_dp)
def _pow_base_dp(g, x, p):
    if _is_array(x) or _is_array(p):
        return lambda g, x, p: (
            g * np.where(p == 0, 0.0, np.power(x, p - 1.0) * (1.0 + p * log_or_zero(x)))
        )
    return lambda g, x, p: g * (0.0 if p == 0 else x ** (p - 1.0) * (1.0 + p * log_or_zero(x)))


def sum_along(x, axis):
    """np.sum(x, axis) for axis None or an int; a scalar is its own sum."""
    if np.ndim(x) == 0:
        return x
    return np.sum(x, axis=axis)


@overload(sum_along)
def _sum_along(x, axis):
    if not _is_array(x):
        return lambda x, axis: x
    if _is_none(axis) or x.ndim == 1:
        return lambda x, axis: np.sum(x)

    def impl(x, axis):
        pre, n, post = _split(x.shape, axis)
        x3 = np.ascontiguousarray(x).reshape((pre, n, post))
        out = np.zeros((pre, post), dtype=x.dtype)
        for i in range(pre):
            for j in range(n):
                out[i, :] += x3[i, j, :]
        return out.reshape(_without_axis(x.shape, axis))

    return impl


def _without_axis(shape, axis):
    """`shape` with dimension `axis` removed."""


@overload(_without_axis)
def _without_axis_impl(shape, axis):
    ndim = len(shape)
    return _WITHOUT_AXIS[ndim] if ndim in _WITHOUT_AXIS else None


def _drop_axis_2(shape, axis):
    return (shape[1 - axis % 2],)


def _drop_axis_3(shape, axis):
    a = axis % 3
    return (shape[1 if a == 0 else 0], shape[1 if a == 2 else 2])


_WITHOUT_AXIS = {2: _drop_axis_2, 3: _drop_axis_3}


def broadcast_to(v, like):
    """A new array of `like`'s shape holding `v` broadcast (a tangent of a broadcast operand)."""
    return np.broadcast_to(v, np.shape(like)).astype(_float_dtype(v), copy=True)


@overload(broadcast_to)
def _broadcast_to(v, like):
    if _is_array(v):
        return lambda v, like: np.broadcast_to(v, like.shape).astype(np.float64)
    return lambda v, like: np.full(like.shape, v)


# ---- Jacobians (s2sjax/kinds/jacobian.py): basis loops stack columns or rows, then take JAX's
# layout


def size(x):
    """The number of elements of `x` (1 for a scalar)."""
    return int(np.size(x))


@overload(size)
def _size(x):
    if _is_array(x):
        return lambda x: x.size
    return lambda x: 1


def unflatten_like(c, out):
    """The flat vector `c` shaped like `out` (its one element for a scalar `out`)."""
    return c[0] if np.ndim(out) == 0 else np.reshape(c, np.shape(out))


@overload(unflatten_like)
def _unflatten_like(c, out):
    if _is_array(out):
        return lambda c, out: c.reshape(out.shape)
    return lambda c, out: c[0]


def columns_to_jacobian(columns, x):
    """Columns stacked first, `(x.size,) + out.shape`, to the Jacobian `out.shape + x.shape`."""
    return np.ascontiguousarray(np.moveaxis(columns, 0, -1)).reshape(
        columns.shape[1:] + np.shape(x)
    )


_COLUMNS_TO_JACOBIAN = """\
def {name}(columns, x):
    moved = np.ascontiguousarray(np.transpose(columns, ({axes},)))
    return moved.reshape(columns.shape[1:] + x.shape)
"""

_COLUMNS_IMPLS = {}


@overload(columns_to_jacobian)
def _columns_to_jacobian(columns, x):
    rank = columns.ndim
    if rank == 1:
        return lambda columns, x: columns.copy().reshape(x.shape)
    if rank not in _COLUMNS_IMPLS:  # its own named function per rank (see _reduce_axis)
        name = f"columns_to_jacobian_rank{rank}"
        axes = ", ".join(str(d) for d in list(range(1, rank)) + [0])
        namespace = {"np": np, "__name__": __name__}
        exec(
            compile(
                _COLUMNS_TO_JACOBIAN.format(name=name, axes=axes),
                f"<s2sjax.runtime {name}>",
                "exec",
            ),
            namespace,
        )
        _COLUMNS_IMPLS[rank] = namespace[name]
    return _COLUMNS_IMPLS[rank]


def rows_to_jacobian(rows, out):
    """Rows stacked first, `(out.size,) + x.shape`, to the Jacobian `out.shape + x.shape`."""
    if np.ndim(out) == 0:
        return rows[0]
    return np.ascontiguousarray(rows).reshape(np.shape(out) + rows.shape[1:])


@overload(rows_to_jacobian)
def _rows_to_jacobian(rows, out):
    if not _is_array(out):
        return _first_row
    return _rows_reshaped


def _first_row(rows, out):
    return rows[0]


def _rows_reshaped(rows, out):
    return np.ascontiguousarray(rows).reshape(out.shape + rows.shape[1:])


# ---- batching (s2sjax/kinds/batching.py): the loop over examples and the batched outputs' layout

prange = numba.prange  # the batch loop with target="parallel"; `range` outside Numba


@register_jitable
def common_size(sizes):
    """The one size of a vmap's mapped axes, or JAX's error when they differ (or are empty)."""
    if sizes[0] == 0:
        raise ValueError(
            "vmap over an axis of size 0: s2sjax takes the outputs' shapes from the first example"
        )
    for n in sizes:
        if n != sizes[0]:
            raise ValueError("vmap got inconsistent sizes for array axes to be mapped")
    return sizes[0]


def move_batch_axis(batched, axis):
    """`batched`, examples along axis 0, with that axis moved to `axis` (vmap's out_axes).

    `axis` is checked here when the output's rank was not known before the code ran.
    """
    if not -batched.ndim <= axis < batched.ndim:
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {batched.ndim}")
    return np.ascontiguousarray(np.moveaxis(batched, 0, axis))


@overload(move_batch_axis)
def _move_batch_axis(batched, axis):
    if not isinstance(axis, types.IntegerLiteral):  # the axis is a number in the generated source
        return None
    k = axis.literal_value
    if not -batched.ndim <= k < batched.ndim:
        message = f"axis {k} is out of bounds for array of dimension {batched.ndim}"

        def out_of_bounds(batched, axis):
            raise ValueError(message)

        return out_of_bounds
    k %= batched.ndim
    order = tuple(range(1, k + 1)) + (0,) + tuple(range(k + 1, batched.ndim))
    return lambda batched, axis: np.ascontiguousarray(np.transpose(batched, order))


def move_axis_to_front(a, axis):
    """`a` with its axis `axis` moved to the front: `move_batch_axis` undone (its adjoint)."""
    return np.ascontiguousarray(np.moveaxis(a, axis, 0))


@overload(move_axis_to_front)
def _move_axis_to_front(a, axis):
    if not isinstance(axis, types.IntegerLiteral):  # the axis is a number in the generated source
        return None
    k = axis.literal_value % a.ndim
    order = (k,) + tuple(range(k)) + tuple(range(k + 1, a.ndim))
    return lambda a, axis: np.ascontiguousarray(np.transpose(a, order))


def same_shape(value, first):
    """`value`, an example's output, checked to have the shape of the first example's `first`
    (when its rank was not known before the code ran, examples may differ)."""
    if np.shape(value) != np.shape(first):
        raise ValueError(
            f"vmap: an example's output has shape {np.shape(value)}, the first example's had shape "
            f"{np.shape(first)}; every example must give outputs of the same shape"
        )
    return value


@overload(same_shape)
def _same_shape(value, first):
    if _is_array(value) and _is_array(first) and value.ndim == first.ndim:

        def check(value, first):
            if value.shape != first.shape:
                raise ValueError(
                    "vmap: an example's output has a shape other than the first example's; every "
                    "example must give outputs of the same shape"
                )
            return value

        return check
    if not _is_array(value) and not _is_array(first):
        return lambda value, first: value
    # ranks that differ: Numba cannot type the batched output, the Python fallback says why
    return None


# ---- NumPy, math and builtin functions Numba lacks in some forms -------------
# These extend Numba's own support, so generated code can keep the user's
# spelling (np.clip on scalars, np.mean with an axis, abs of an array, ...).


@overload(abs)
def _abs_array(x):
    if _is_array(x):
        return lambda x: np.abs(x)


@overload(float)
def _float_of_bool(x):
    if isinstance(x, types.Boolean):
        return lambda x: 1.0 if x else 0.0


@overload(math.cbrt)
def _math_cbrt(x):
    return lambda x: np.cbrt(x)


@overload(math.exp2)
def _math_exp2(x):
    return lambda x: 2.0**x


@overload(np.dot)
def _dot_scalar(a, b):
    if not (_is_array(a) and _is_array(b)):
        return lambda a, b: a * b


@overload(np.clip)
def _clip_scalar(a, a_min, a_max):
    if not any(_is_array(t) for t in (a, a_min, a_max)):
        return lambda a, a_min, a_max: min(max(a, a_min), a_max)


_REDUCE_AXIS = """\
def {name}(a, axis):
    pre, n, post = split(a.shape, {k})
    a3 = np.ascontiguousarray(a).reshape((pre, n, post))
    out = np.empty((pre, post), dtype={dtype})
    for i in range(pre):
        for j in range(post):
            out[i, j] = np.{reduction}(a3[i, :, j])
    return out.reshape(({shape},))
"""
_REDUCE_AXIS_IMPLS = {}


def _reduce_axis(reduction, ndim, k):
    """`np.<reduction>(a, axis=k)` for a constant axis `k`, by reducing (pre, n, post) views.

    Written out per reduction, rank and axis, each with a name and file of its own:
    Numba needs the result shape as a literal tuple, and it can mix up functions
    that differ only in their constants or closures when some come from its disk
    cache (numba/numba#5128), which once made np.prod compute np.max here.
    """
    key = (reduction, ndim, k)
    if key not in _REDUCE_AXIS_IMPLS:
        name = f"{reduction}_of_rank{ndim}_along_axis{k}"
        shape = ", ".join(f"a.shape[{d}]" for d in range(ndim) if d != k)
        dtype = "np.float64" if reduction == "mean" else "a.dtype"
        source = _REDUCE_AXIS.format(name=name, k=k, dtype=dtype, reduction=reduction, shape=shape)
        namespace = {"np": np, "split": _split, "__name__": __name__}
        exec(compile(source, f"<s2sjax.runtime {name}>", "exec"), namespace)
        _REDUCE_AXIS_IMPLS[key] = namespace[name]
    return _REDUCE_AXIS_IMPLS[key]


def _axis_overload(np_func):
    def typer(a, axis):
        if _is_array(a) and isinstance(axis, types.IntegerLiteral):
            return _reduce_axis(np_func.__name__, a.ndim, axis.literal_value % a.ndim)

    overload(np_func)(typer)


for _func in (np.mean, np.max, np.min, np.prod):
    _axis_overload(_func)


# ---- products (s2sjax/rules/products.py): np.cross with axes --------------------------------
# Numba's np.cross takes no axes: this overload moves each operand's vector axis last with a
# transpose, computes the three components, and moves the result's vector axis to `axisc`.

_CROSS = """\
def {name}(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    ka, kb, kc = {axes}
    at = np.transpose(a, ({to_last_a},))
    bt = np.transpose(b, ({to_last_b},))
    if at.shape[-1] != 3 or bt.shape[-1] != 3:
        raise ValueError("s2sjax computes np.cross of 3-vectors only")
    x = at[..., 1] * bt[..., 2] - at[..., 2] * bt[..., 1]
    y = at[..., 2] * bt[..., 0] - at[..., 0] * bt[..., 2]
    z = at[..., 0] * bt[..., 1] - at[..., 1] * bt[..., 0]
    out = np.empty(x.shape + (3,), dtype=x.dtype)
    out[..., 0] = x
    out[..., 1] = y
    out[..., 2] = z
    return np.ascontiguousarray(np.transpose(out, ({from_last_c},)))
"""

_CROSS_VECTORS = """\
def {name}(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if a.shape[0] != 3 or b.shape[0] != 3:
        raise ValueError("s2sjax computes np.cross of 3-vectors only")
    x = a[1] * b[2] - a[2] * b[1]
    y = a[2] * b[0] - a[0] * b[2]
    z = a[0] * b[1] - a[1] * b[0]
    return np.array([x, y, z])
"""

_CROSS_IMPLS = {}


@register_jitable
def _axis_to_last(d, k):
    """Entry `d` of the permutation that moves axis `k` last: the axes before it, then after it."""
    return d + 1 if d >= k else d


@register_jitable
def _last_to_axis(d, k, ndim):
    """Entry `d` of the permutation that moves the last axis to `k`."""
    if d == k:
        return ndim - 1
    return d - 1 if d > k else d


def _cross_impl(rank_a, rank_b, axis_given):
    """np.cross with axes for operands of ranks `rank_a` and `rank_b`, named per ranks
    (see _reduce_axis)."""
    key = (rank_a, rank_b, axis_given)
    if key not in _CROSS_IMPLS:
        name = f"cross_of_ranks{rank_a}_{rank_b}" + ("_one_axis" if axis_given else "")
        rank_c = max(rank_a, rank_b)
        axes = "axis, axis, axis" if axis_given else "axisa, axisb, axisc"
        source = (_CROSS_VECTORS if rank_c == 1 else _CROSS).format(
            name=name,
            axes=f"({axes})",
            to_last_a=_permutation("_axis_to_last({d}, ka % {n})", rank_a, last="ka % {n}"),
            to_last_b=_permutation("_axis_to_last({d}, kb % {n})", rank_b, last="kb % {n}"),
            from_last_c=_permutation("_last_to_axis({d}, kc % {n}, {n})", rank_c),
        )
        namespace = {
            "np": np,
            "_axis_to_last": _axis_to_last,
            "_last_to_axis": _last_to_axis,
            "__name__": __name__,
        }
        exec(compile(source, f"<s2sjax.runtime {name}>", "exec"), namespace)
        _CROSS_IMPLS[key] = namespace[name]
    return _CROSS_IMPLS[key]


def _permutation(entry, ndim, last=None):
    """The source of a permutation tuple's entries: `entry` for each axis (`last` for the last)."""
    entries = [entry.format(d=d, n=ndim) for d in range(ndim)]
    if last is not None:
        entries[-1] = last.format(n=ndim)
    return ", ".join(entries)


@overload(np.cross)
def _cross_with_axes(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if _is_array(a) and _is_array(b):
        return _cross_impl(a.ndim, b.ndim, not _is_none(axis))


# ---- products: the adjoints of np.kron (of ranks 0 to 2, as Numba's np.kron) -----------------
# Seen as matrices A (m, n) and B (p, q), kron(A, B)[i*p + k, j*q + l] = A[i, j] B[k, l].


def _as_matrix(x):
    """`x` (rank 0, 1 or 2) as a matrix, with leading dimensions of 1 as np.kron pads it."""


@overload(_as_matrix)
def _as_matrix_impl(x):
    if not _is_array(x):
        return lambda x: np.full((1, 1), x)
    if x.ndim == 1:
        return lambda x: np.ascontiguousarray(x).reshape((1, x.size))
    return lambda x: np.ascontiguousarray(x)


@register_jitable
def _kron_contract(g, a, b, first):
    """Σ over the other operand's indices of g[i*p + k, j*q + l] times the other operand's entry."""
    (m, n), (p, q) = a.shape, b.shape
    out = np.zeros((m, n) if first else (p, q))
    for i in range(m):
        for j in range(n):
            for k in range(p):
                for l in range(q):  # noqa: E741
                    gv = g[i * p + k, j * q + l]
                    if first:
                        out[i, j] += gv * b[k, l]
                    else:
                        out[k, l] += gv * a[i, j]
    return out


def kron_adjoint_a(g, a, b):
    """The adjoint of `a` in `np.kron(a, b)`, shaped like `a`."""
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    g4 = np.reshape(g, (a2.shape[0], b2.shape[0], a2.shape[1], b2.shape[1]))
    return np.reshape(np.einsum("ikjl,kl->ij", g4, b2), np.shape(a))


def kron_adjoint_b(g, a, b):
    """The adjoint of `b` in `np.kron(a, b)`, shaped like `b`."""
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    g4 = np.reshape(g, (a2.shape[0], b2.shape[0], a2.shape[1], b2.shape[1]))
    return np.reshape(np.einsum("ikjl,ij->kl", g4, a2), np.shape(b))


def _kron_adjoint(first):
    def typer(g, a, b):
        shaped = a if first else b
        if not _is_array(shaped):
            return lambda g, a, b: _kron_contract(
                _as_matrix(g), _as_matrix(a), _as_matrix(b), first
            )[0, 0]
        return lambda g, a, b: _kron_contract(
            _as_matrix(g), _as_matrix(a), _as_matrix(b), first
        ).reshape((a if first else b).shape)

    return typer


# ---- shape and order (s2sjax/rules/ordering.py): adjoints, and the forms of np.rollaxis,
# np.repeat, np.flip, np.roll and np.atleast_<k>d that Numba lacks


@register_jitable
def flatten(a):
    """`a.flatten()`: a new 1-D array (np.ravel may return a view)."""
    return np.ravel(a).copy()


@register_jitable
def diagonal_adjoint(g, v, k):
    """The adjoint of `np.diag(v, k)` of a matrix `v`: `g` on that diagonal, zeros elsewhere."""
    out = np.zeros(v.shape, dtype=g.dtype)
    for i in range(g.size):
        if k >= 0:
            out[i, i + k] = g[i]
        else:
            out[i - k, i] = g[i]
    return out


def repeat_adjoint(g, a, repeats, axis):
    """The adjoint of `np.repeat(a, repeats, axis)`: each entry's copies summed."""
    if np.ndim(a) == 0:
        return np.sum(g)
    pre, n, post = (1, np.size(a), 1) if axis is None else _split(np.shape(a), axis)
    g4 = np.reshape(np.ascontiguousarray(g), (pre, n, repeats, post))
    return g4.sum(axis=2).reshape(np.shape(a))


@overload(repeat_adjoint)
def _repeat_adjoint(g, a, repeats, axis):
    if not _is_array(a):
        return lambda g, a, repeats, axis: np.sum(g)

    def impl(g, a, repeats, axis):
        pre, n, post = _grid(a, axis)
        g4 = np.ascontiguousarray(g).reshape((pre, n, repeats, post))
        out = np.zeros((pre, n, post), dtype=g4.dtype)
        for i in range(pre):
            for j in range(n):
                for r in range(repeats):
                    out[i, j, :] += g4[i, j, r, :]
        return out.reshape(a.shape)

    return impl


@overload(np.repeat)
def _repeat_along(a, repeats, axis=None):
    """np.repeat with an axis (Numba has the flattening form only)."""
    if isinstance(axis, types.NoneType):  # written out by the user
        return lambda a, repeats, axis=None: np.repeat(a, repeats)
    if not _is_array(a) or _is_none(axis):
        return None

    def impl(a, repeats, axis=None):
        pre, n, post = _split(a.shape, axis)
        a3 = np.ascontiguousarray(a).reshape((pre, n, post))
        out = np.empty((pre, n, repeats, post), dtype=a.dtype)
        for i in range(pre):
            for j in range(n):
                for r in range(repeats):
                    out[i, j, r, :] = a3[i, j, :]
        return out.reshape(tuple_setitem(a.shape, axis % a.ndim, n * repeats))

    return impl


@overload(np.rollaxis)
def _rollaxis(a, axis, start=0):
    def impl(a, axis, start=0):
        axis = axis % a.ndim
        if start < 0:
            start += a.ndim
        return np.moveaxis(a, axis, start - 1 if start > axis else start)

    return impl


@overload(np.flip)
def _flip_along(m, axis=None):
    """np.flip with an axis (Numba flips every axis only)."""
    if isinstance(axis, types.NoneType):  # as the adjoint writes it
        return lambda m, axis=None: np.flip(m)
    if not _is_array(m) or _is_none(axis):
        return None
    return lambda m, axis=None: np.swapaxes(np.swapaxes(m, 0, axis)[::-1], 0, axis)


@overload(np.roll)
def _roll_along(a, shift, axis=None):
    """np.roll with an axis (Numba rolls the flattened array only)."""
    if isinstance(axis, types.NoneType):  # as the adjoint writes it
        return lambda a, shift, axis=None: np.roll(a, shift)
    if not _is_array(a) or _is_none(axis):
        return None

    def impl(a, shift, axis=None):
        moved = np.ascontiguousarray(np.moveaxis(a, axis, -1))
        n = moved.shape[-1]
        rows = moved.reshape((moved.size // max(n, 1), n))
        out = np.empty_like(rows)
        for i in range(rows.shape[0]):
            for j in range(n):
                out[i, (j + shift) % n] = rows[i, j]
        return np.ascontiguousarray(np.moveaxis(out.reshape(moved.shape), -1, axis))

    return impl


def _one_element_1d(a):
    return np.full((1,), a)


def _one_element_2d(a):
    return np.full((1, 1), a)


def _one_element_3d(a):
    return np.full((1, 1, 1), a)


def _at_least_of_scalar(one_element):
    """np.atleast_<k>d of a number (Numba takes arrays only): an array of one element."""

    def typer(a):
        if isinstance(a, (types.Number, types.Boolean)):
            return one_element

    return typer


overload(kron_adjoint_a)(_kron_adjoint(True))
overload(kron_adjoint_b)(_kron_adjoint(False))


# ---- products: np.einsum, written out as loops per subscripts (Numba has no einsum) ----------


def einsum_spec(subscripts, count):
    """(the index letters of each of `count` operands, the output's) of einsum's `subscripts`,
    the output spelled out where implicit; ValueError for what s2sjax does not write out."""
    if "." in subscripts:
        raise ValueError("np.einsum with '...' is not supported")
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    letters = inputs.split(",")
    if len(letters) != count or not all(s.isalpha() for s in letters + [output] if s):
        raise ValueError(f"np.einsum subscripts {subscripts!r} do not fit {count} operands")
    if not arrow:
        joined = "".join(letters)
        output = "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    if len(set(output)) != len(output) or not set(output) <= set("".join(letters)):
        raise ValueError(f"np.einsum output {output!r} must name distinct input indices")
    return letters, output


_EINSUM_IMPLS = {}


def _einsum_source(name, letters, output):
    """A loop nest over every index: out[output] += product of the operands' entries."""
    names = [f"x{k}" for k in range(len(letters))]
    size = {}  # index letter -> where its length is read
    lines = [f"def {name}(subscripts, *operands):"]
    lines += [f"    {x} = operands[{k}]" for k, x in enumerate(names)]
    checks = []
    for x, subs in zip(names, letters):
        for d, c in enumerate(subs):
            if c in size:
                checks.append(f"{x}.shape[{d}] != {size[c]}")
            else:
                size[c] = f"{x}.shape[{d}]"
    if checks:
        lines.append(f"    if {' or '.join(checks)}:")
        lines.append('        raise ValueError("np.einsum: operands do not match the subscripts")')
    shape = "".join(f"{size[c]}, " for c in output)
    lines.append(f"    out = np.zeros(({shape}))" if output else "    out = 0.0")
    indent = "    "
    for c in size:
        lines.append(f"{indent}for {c} in range({size[c]}):")
        indent += "    "
    entries = [f"{x}[{', '.join(subs)}]" if subs else x for x, subs in zip(names, letters)]
    target = f"out[{', '.join(output)}]" if output else "out"
    lines.append(f"{indent}{target} += {' * '.join(entries)}")
    lines.append("    return out")
    return "\n".join(lines) + "\n"


@overload(np.einsum, prefer_literal=True)
def _einsum(subscripts, *operands):
    if not isinstance(subscripts, types.StringLiteral):
        return None
    letters, output = einsum_spec(subscripts.literal_value, len(operands))
    key = (",".join(letters), output)
    if key not in _EINSUM_IMPLS:  # its own named function per subscripts (see _reduce_axis)
        name = f"einsum_{'_'.join(s or 'scalar' for s in letters)}_to_{output or 'scalar'}"
        namespace = {"np": np, "__name__": __name__}
        source = _einsum_source(name, letters, output)
        exec(compile(source, f"<s2sjax.runtime {name}>", "exec"), namespace)
        _EINSUM_IMPLS[key] = namespace[name]
    return _EINSUM_IMPLS[key]


# ---- ufuncs family: SciPy's special functions, sinc's derivatives, fmax's weight ------
# Numba compiles no SciPy: each function is a scalar `register_jitable` body, mapped over an
# array by a loop written out per function (`_map_float`), while target="python" calls SciPy.


def _scipy(submodule):
    """scipy.<submodule>, imported on first use: only target="python" runs SciPy itself, and a
    program calling it has imported it already (`import s2sjax` imports no SciPy submodule)."""
    return importlib.import_module(f"scipy.{submodule}")


_MAP_FLOAT = """\
def {name}({lead}x):
    flat = np.ascontiguousarray(x).reshape(x.size)
    out = np.empty(x.size, dtype={dtype})
    for i in range(x.size):
        out[i] = {scalar}({lead}flat[i])
    return out.reshape(x.shape)
"""


def _map_float(scalar, x, lead=""):
    """A function applying the jitable `scalar` to each element of arrays typed like `x`.

    Its source names `scalar` (numba/numba#5128: see `_reduce_axis`); `lead` lists parameters
    before the array, passed on to `scalar` before the element ("n, ").
    """
    name = f"{scalar.__name__.strip('_')}_of_each_{x.dtype}"
    dtype = "x.dtype" if isinstance(x.dtype, types.Float) else "np.float64"
    source = _MAP_FLOAT.format(name=name, dtype=dtype, scalar=scalar.__name__, lead=lead)
    namespace = {"np": np, scalar.__name__: scalar, "__name__": __name__}
    exec(compile(source, f"<s2sjax.runtime {name}>", "exec"), namespace)
    return namespace[name]


def _scalar_overload(function, scalar):
    """Compile `function` (x) as `scalar` of a number and elementwise on an array, as x's float."""

    def typer(x):
        if _is_array(x):
            return _map_float(scalar, x)
        if isinstance(x, types.Float) and x.bitwidth == 32:
            return lambda x: np.float32(scalar(x))
        if isinstance(x, (types.Float, types.Integer, types.Boolean)):
            return lambda x: scalar(x)

    overload(function)(typer)


def _in_dtype_of(value, x):
    """`value` as an array or NumPy scalar of `x`'s float type (SciPy's results are float64)."""
    return np.asarray(value, dtype=_float_dtype(x))[()]


@register_jitable
def _gammaln(x):
    return math.lgamma(x)


@register_jitable
def _erf(x):
    return math.erf(x)


@register_jitable
def _erfc(x):
    return math.erfc(x)


@register_jitable
def _expit(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@register_jitable
def _logit(p):
    return math.log(p / (1.0 - p))


# Bernoulli numbers B_2k / (2k)!, k = 1..10, for the asymptotic series of the polygammas
_BERNOULLI_OVER_FACTORIAL = np.array(
    [1.0 / 12, -1.0 / 720, 1.0 / 30240, -1.0 / 1209600, 1.0 / 47900160]
    + [-691.0 / 1307674368000, 1.0 / 74724249600, -3617.0 / 10670622842880000]
    + [43867.0 / 5109094217170944000, -174611.0 / 802857662698291200000]
)
_ASYMPTOTIC_FROM = 20.0  # shift x up to here, then the series is exact to double precision


@register_jitable
def _digamma(x):
    if x <= 0.0 and x == math.floor(x):
        return -math.inf if x == 0.0 else math.nan  # SciPy's values at the poles
    shift = 0.0
    if x < 0.0:  # reflection: psi(x) = psi(1 - x) - pi / tan(pi x)
        shift = math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    while x < _ASYMPTOTIC_FROM:
        shift += 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series, power = 0.0, inv2
    for k in range(_BERNOULLI_OVER_FACTORIAL.size):
        # d/dx of the log-gamma series term B_2k / (2k (2k-1) x^(2k-1)) is -B_2k / (2k x^2k)
        series += _BERNOULLI_OVER_FACTORIAL[k] * math.gamma(2.0 * k + 2.0) * power
        power *= inv2
    return math.log(x) - 0.5 / x - series - shift


@register_jitable
def _polygamma(n, x):
    """The n-th derivative of digamma, n >= 0: by the recurrence up to large x, then the asymptotic
    series (-1)^(n+1) [(n-1)!/x^n + n!/(2 x^(n+1)) + sum B_2k (2k+n-1)!/((2k)! x^(2k+n))]."""
    if n == 0:
        return _digamma(x)
    if n < 0:
        return math.nan
    sign = 1.0 if n % 2 == 1 else -1.0
    if x <= 0.0 and x == math.floor(x):
        return sign * math.inf  # SciPy's value at the poles
    n_factorial = math.gamma(n + 1.0)
    shift = 0.0
    while x < _ASYMPTOTIC_FROM + n:
        shift += sign * n_factorial / x ** (n + 1)
        x += 1.0
    inv = 1.0 / x
    total = math.gamma(n) * inv**n + 0.5 * n_factorial * inv ** (n + 1)
    power = inv ** (n + 2)
    for k in range(_BERNOULLI_OVER_FACTORIAL.size):
        total += _BERNOULLI_OVER_FACTORIAL[k] * math.gamma(2.0 * k + 2.0 + n) * power
        power *= inv * inv
    return sign * total + shift


def gammaln(x):
    """log |Gamma(x)| (scipy.special.gammaln)."""
    return _in_dtype_of(_scipy("special").gammaln(x), x)


def erf(x):
    """scipy.special.erf, which math.erf is on numbers."""
    return _in_dtype_of(_scipy("special").erf(x), x)


def erfc(x):
    """1 - erf(x) (scipy.special.erfc)."""
    return _in_dtype_of(_scipy("special").erfc(x), x)


def expit(x):
    """The logistic sigmoid 1 / (1 + exp(-x)) (scipy.special.expit)."""
    return _in_dtype_of(_scipy("special").expit(x), x)


def logit(p):
    """log(p / (1 - p)), the inverse of expit (scipy.special.logit)."""
    return _in_dtype_of(_scipy("special").logit(p), p)


def digamma(x):
    """d/dx log Gamma(x) (scipy.special.digamma, also named psi)."""
    return _in_dtype_of(_scipy("special").digamma(x), x)


for _function, _scalar in (
    (gammaln, _gammaln),
    (erf, _erf),
    (erfc, _erfc),
    (expit, _expit),
    (logit, _logit),
    (digamma, _digamma),
):
    _scalar_overload(_function, _scalar)


def polygamma(n, x):
    """The n-th derivative of digamma at x, for an integer n >= 0 (scipy.special.polygamma)."""
    return _in_dtype_of(_scipy("special").polygamma(n, x), x)


@overload(polygamma)
def _polygamma_overload(n, x):
    if not isinstance(n, types.Integer):
        return None  # an array of orders: Numba cannot type it, the fallback warning says so
    if _is_array(x):
        return _map_float(_polygamma, x, lead="n, ")
    return lambda n, x: _polygamma(n, x)


@register_jitable
def _sinc_slope(x):
    """d sinc(x)/dx, sinc(x) = sin(pi x) / (pi x): a series near 0, where the quotient cancels."""
    t = (math.pi * x) ** 2
    if t < 0.1:  # sum_k (-1)^k 2k t^(k-1) / (2k+1)!, k = 1..6
        s = -1.0 / 3 + t * (1.0 / 30 + t * (-1.0 / 840 + t * (1.0 / 45360 + t * (-1.0 / 3991680))))
        return math.pi**2 * x * (s + t**5 * 12.0 / 6227020800.0)
    return (math.cos(math.pi * x) - math.sin(math.pi * x) / (math.pi * x)) / x


@register_jitable
def _sinc_curvature(x):
    """d^2 sinc(x)/dx^2 = -pi^2 sinc(x) - 2 sinc'(x) / x, by its series near 0."""
    t = (math.pi * x) ** 2
    if t < 0.1:  # sum_k (-1)^k 2k (2k-1) t^(k-1) / (2k+1)!, k = 1..6
        s = -1.0 / 3 + t * (1.0 / 10 + t * (-1.0 / 168 + t * (1.0 / 6480 + t * (-1.0 / 443520))))
        return math.pi**2 * (s + t**5 * 132.0 / 6227020800.0)
    return -math.pi * math.sin(math.pi * x) / x - 2.0 * _sinc_slope(x) / x


def sinc_slope(x):
    """d np.sinc(x) / dx."""
    return _in_dtype_of(np.vectorize(_sinc_slope, otypes=[float])(x), x)


def _sinc_curvature_at(x):
    """d^2 np.sinc(x) / dx^2."""
    return _in_dtype_of(np.vectorize(_sinc_curvature, otypes=[float])(x), x)


_scalar_overload(sinc_slope, _sinc_slope)
_scalar_overload(_sinc_curvature_at, _sinc_curvature)


@register_jitable
def sinc_curvature(v, x):
    """`v` times d^2 np.sinc(x) / dx^2: linear in `v`, the adjoint or tangent it carries."""
    return v * _sinc_curvature_at(x)


def fmax_weight(a, b):
    """1 where np.fmax(a, b) is `a` (a > b, or b NaN), 1/2 at ties, 0 elsewhere."""
    return (a > b) + 0.5 * (a == b) + (b != b) * (a == a)


@overload(fmax_weight)
def _fmax_weight(a, b):
    if _is_array(a) or _is_array(b):
        return lambda a, b: (a > b) * 1.0 + (a == b) * 0.5 + (b != b) * (a == a) * 1.0
    return lambda a, b: 1.0 if a > b or (b != b and a == a) else (0.5 if a == b else 0.0)


def xlogy(x, y):
    """x * log(y), 0 where x == 0 (scipy.special.xlogy)."""
    dtype = np.result_type(_float_dtype(x), _float_dtype(y))
    return np.asarray(_scipy("special").xlogy(x, y), dtype=dtype)[()]


@overload(xlogy)
def _xlogy(x, y):
    if _is_array(x) or _is_array(y):
        # y is replaced by 1 where x == 0, by arithmetic: Numba's np.where does not broadcast
        return lambda x, y: x * np.log(y + (x == 0) * (1.0 - y))
    return lambda x, y: 0.0 if x == 0 else x * math.log(y)


overload(np.atleast_1d)(_at_least_of_scalar(_one_element_1d))
overload(np.atleast_2d)(_at_least_of_scalar(_one_element_2d))
overload(np.atleast_3d)(_at_least_of_scalar(_one_element_3d))


@overload(np.expand_dims)
def _expand_dims_of_scalar(a, axis):
    """np.expand_dims of a number (Numba takes arrays only): an array of one element."""
    if isinstance(a, (types.Number, types.Boolean)):
        return lambda a, axis: np.full((1,), a)


@register_jitable
def _tile_into(out, a):
    """Fill `out` with copies of `a` (the same rank) laid end to end along every axis."""
    flat_out = out.reshape(out.size)
    flat_a = np.ascontiguousarray(a).reshape(a.size)
    for k in range(out.size):
        rest, offset, stride = k, 0, 1
        for d in range(out.ndim - 1, -1, -1):
            i = rest % out.shape[d]
            rest //= out.shape[d]
            offset += (i % a.shape[d]) * stride
            stride *= a.shape[d]
        flat_out[k] = flat_a[offset]
    return out


@register_jitable
def tile_adjoint(g, a):
    """The adjoint of `np.tile(a, reps)`: the copies of each entry in `g` summed (a may have
    fewer axes than `g`: its leading ones were 1)."""
    lead = g.ndim - a.ndim
    out = np.zeros(a.size, dtype=g.dtype)
    flat_g = np.ascontiguousarray(g).reshape(g.size)
    for k in range(g.size):
        rest, offset, stride = k, 0, 1
        for d in range(g.ndim - 1, lead - 1, -1):
            i = rest % g.shape[d]
            rest //= g.shape[d]
            offset += (i % a.shape[d - lead]) * stride
            stride *= a.shape[d - lead]
        out[offset] += flat_g[k]
    return out.reshape(a.shape)


_TILE = """\
def {name}(A, reps):
    r = ({reps},)
    a = np.ascontiguousarray(A).reshape(({shape},))
    out = np.empty(({tiled},), dtype=a.dtype)
    return tile_into(out, a)
"""
_TILE_IMPLS = {}


@overload(np.tile)
def _tile(A, reps):
    """np.tile, written out per rank of `A` and length of `reps` (Numba lacks it; the result's
    shape must be a literal tuple), each with a name of its own (see _reduce_axis)."""
    ndim = A.ndim if _is_array(A) else 0
    count = len(reps) if isinstance(reps, types.BaseTuple) else 1
    rank = max(ndim, count, 1)
    key = (ndim, count)
    if key not in _TILE_IMPLS:
        name = f"tile_rank{ndim}_by{count}"
        tupled = isinstance(reps, types.BaseTuple)
        given = [f"reps[{d}]" for d in range(count)] if tupled else ["reps"]
        padded_reps = ["1"] * (rank - count) + given
        padded_shape = ["1"] * (rank - ndim) + [f"A.shape[{d}]" for d in range(ndim)]
        source = _TILE.format(
            name=name,
            reps=", ".join(padded_reps),
            shape=", ".join(padded_shape),
            tiled=", ".join(f"a.shape[{d}] * r[{d}]" for d in range(rank)),
        )
        namespace = {"np": np, "tile_into": _tile_into, "__name__": __name__}
        exec(compile(source, f"<s2sjax.runtime {name}>", "exec"), namespace)
        _TILE_IMPLS[key] = namespace[name]
    return _TILE_IMPLS[key]


def _pad_pairs(pad_width, ndim):
    """np.pad's pad_width in every form NumPy reads (n, (n,), (before, after), ((before, after),),
    one pair per axis) as an (ndim, 2) array."""
    return np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))


@overload(_pad_pairs)
def _pad_pairs_impl(pad_width, ndim):
    if isinstance(pad_width, types.Integer):
        return lambda pad_width, ndim: np.full((ndim, 2), pad_width)
    first = pad_width.types[0] if isinstance(pad_width, types.BaseTuple) else None
    if isinstance(first, types.Integer):  # (n,) or (before, after) for every axis
        return lambda pad_width, ndim: _pairs_of_rows((pad_width,), ndim)
    return lambda pad_width, ndim: _pairs_of_rows(pad_width, ndim)


@register_jitable
def _pairs_of_rows(rows, ndim):
    pairs = np.empty((ndim, 2), dtype=np.int64)
    for d in range(ndim):
        row = rows[d if len(rows) > 1 else 0]
        pairs[d, 0] = row[0]
        pairs[d, 1] = row[len(row) - 1]
    return pairs


@register_jitable
def _padded_offsets(shape, padded, pairs):
    """For each entry of an array of `shape`, in order, its flat index in the padded array."""
    size = 1
    for n in shape:
        size *= n
    offsets = np.empty(size, dtype=np.int64)
    for k in range(size):
        rest, offset, stride = k, 0, 1
        for d in range(len(shape) - 1, -1, -1):
            i = rest % shape[d]
            rest //= shape[d]
            offset += (i + pairs[d, 0]) * stride
            stride *= padded[d]
        offsets[k] = offset
    return offsets


@overload(np.pad)
def _pad_constant(array, pad_width, mode="constant"):
    """np.pad with zeros (Numba lacks np.pad); rules/ordering.py allows no other mode."""
    if not _is_array(array):
        return None

    def impl(array, pad_width, mode="constant"):
        pairs = _pad_pairs(pad_width, array.ndim)
        shape = array.shape
        for d in range(array.ndim):
            shape = tuple_setitem(shape, d, array.shape[d] + pairs[d, 0] + pairs[d, 1])
        out = np.zeros(shape, dtype=array.dtype)
        flat_out, flat_a = out.reshape(out.size), np.ascontiguousarray(array).reshape(array.size)
        offsets = _padded_offsets(array.shape, shape, pairs)
        for k in range(array.size):
            flat_out[offsets[k]] = flat_a[k]
        return out

    return impl


def unpad(g, a, pad_width):
    """The adjoint of `np.pad(a, pad_width)`: the part of `g` where `a` was put."""
    pairs = _pad_pairs(pad_width, np.ndim(a))
    return g[tuple(slice(b, b + n) for b, n in zip(pairs[:, 0], np.shape(a)))].copy()


@overload(unpad)
def _unpad(g, a, pad_width):
    def impl(g, a, pad_width):
        pairs = _pad_pairs(pad_width, a.ndim)
        offsets = _padded_offsets(a.shape, g.shape, pairs)
        flat_g = np.ascontiguousarray(g).reshape(g.size)
        out = np.empty(a.size, dtype=g.dtype)
        for k in range(a.size):
            out[k] = flat_g[offsets[k]]
        return out.reshape(a.shape)

    return impl


@register_jitable
def _matching(a, ordered):
    """Per row along the last axis, the indices `p` with `ordered == a[p]`: how np.sort or
    np.partition ordered `a` (found from the values, whatever the algorithm)."""
    n = a.shape[-1]
    a2 = np.ascontiguousarray(a).reshape((a.size // max(n, 1), n))
    o2 = np.ascontiguousarray(ordered).reshape(a2.shape)
    p = np.empty(a2.shape, dtype=np.int64)
    for i in range(a2.shape[0]):
        from_a = np.argsort(a2[i], kind="mergesort")
        from_out = np.argsort(o2[i], kind="mergesort")
        for j in range(n):
            p[i, from_out[j]] = from_a[j]
    return p


@register_jitable
def gather_matching(v, a, ordered):
    """The tangent of `ordered = np.sort(a)` (or np.partition): `v` taken in that order."""
    p = _matching(a, ordered)
    v2 = np.ascontiguousarray(v).reshape(p.shape)
    result = np.empty(p.shape, dtype=v2.dtype)
    for i in range(p.shape[0]):
        for j in range(p.shape[1]):
            result[i, j] = v2[i, p[i, j]]
    return result.reshape(a.shape)


@register_jitable
def scatter_matching(v, a, ordered):
    """The adjoint of `ordered = np.sort(a)` (or np.partition): `v` put back where it came from."""
    p = _matching(a, ordered)
    v2 = np.ascontiguousarray(v).reshape(p.shape)
    result = np.empty(p.shape, dtype=v2.dtype)
    for i in range(p.shape[0]):
        for j in range(p.shape[1]):
            result[i, p[i, j]] = v2[i, j]
    return result.reshape(a.shape)


# ---- stacking: joining and splitting arrays (passes/stacking.py) -------------


@register_jitable
def section_start(length, count, k, equal):
    """Where the `k`-th of `count` sections of an axis of `length` starts, as np.array_split
    divides it (the first `length % count` sections one longer); np.split (`equal`) must divide
    the axis evenly."""
    if equal and length % count:
        raise ValueError("array split does not result in an equal division")
    return k * (length // count) + min(k, length % count)


def empty_joined(shape, pieces):
    """A new array of `shape` for the join of `pieces`, in the dtype NumPy gives it: the arrays'
    (a number beside them takes theirs), or the numbers' where there is no array."""
    arrays = [p for p in pieces if np.ndim(p)] or pieces
    return np.empty(shape, dtype=np.result_type(*arrays))


@overload(empty_joined)
def _empty_joined(shape, pieces):
    arrays = [t for t in pieces if _is_array(t)] or list(pieces)
    dtype = np.result_type(*(np.dtype(getattr(t, "dtype", t).name) for t in arrays))
    return lambda shape, pieces: np.empty(shape, dtype=dtype)


JOIN_MISMATCH = (
    "all the input array dimensions except for the concatenation axis must match exactly"
)


def joined_length(shape, others, axis, slot):
    """The length a piece of `shape` takes along a join's `axis` (1 where it takes one position,
    `slot`), once its other dimensions are checked to be `others`, NumPy's error otherwise."""
    own = tuple(shape) if slot else tuple(shape[:axis]) + tuple(shape[axis + 1 :])
    if own != tuple(others):
        raise ValueError(f"{JOIN_MISMATCH}, but a piece of shape {tuple(shape)} does not fit")
    return 1 if slot else shape[axis]


@overload(joined_length)
def _joined_length(shape, others, axis, slot):
    def impl(shape, others, axis, slot):
        for d in range(len(others)):
            if shape[d if slot or d < axis else d + 1] != others[d]:
                raise ValueError(JOIN_MISMATCH)
        return 1 if slot else shape[axis]

    return impl


# ---- small: np.squeeze with an axis (rules/small.py) ----
SQUEEZE_MISMATCH = "cannot select an axis to squeeze out which has size not equal to one"


def squeeze(a, axis):
    """np.squeeze(a, axis) of a tuple of axes >= 0; a number where no dimension is left."""
    if any(np.shape(a)[d] != 1 for d in axis):
        raise ValueError(SQUEEZE_MISMATCH)
    return np.ravel(a)[0] if len(axis) == np.ndim(a) else np.squeeze(a, axis)


@overload(squeeze)
def _squeeze(a, axis):
    rank = a.ndim - len(axis)

    def impl(a, axis):
        kept = np.ones(a.ndim, np.bool_)
        for d in axis:
            if a.shape[d] != 1:
                raise ValueError(SQUEEZE_MISMATCH)
            kept[d] = False
        shape = np.empty(rank, np.intp)
        j = 0
        for d in range(a.ndim):
            if kept[d]:
                shape[j] = a.shape[d]
                j += 1
        return np.ascontiguousarray(a).reshape(to_fixed_tuple(shape, rank))

    def to_number(a, axis):
        if a.size != 1:
            raise ValueError(SQUEEZE_MISMATCH)
        return a.flat[0]  # not ravel, which Numba's CUDA target cannot compile

    return impl if rank else to_number


# ---- indexing: gathers and updates at arrays of indices, masks and mixed indices ----
# `like[index]` read the elements at `index_positions(like)[index]`: the adjoints work on those
# flat positions, so every index NumPy (and Numba) accepts has one adjoint.


@register_jitable
def index_positions(like):
    """Each element's position in `like` read flat (C order), in `like`'s shape."""
    return np.arange(like.size).reshape(like.shape)


def scatter_add(positions, values, like):
    """Zeros shaped like `like` with `values` added at the flat `positions` (a repeated position
    accumulates): the adjoint of a gather that read those positions."""
    out = np.zeros(np.shape(like), dtype=_float_dtype(like))
    np.add.at(out.reshape(-1), np.ravel(positions), np.ravel(values))
    return out


@overload(scatter_add)
def _scatter_add(positions, values, like):
    def impl(positions, values, like):
        out = np.zeros(like.shape, dtype=like.dtype)
        flat, where = out.reshape(out.size), positions.ravel()
        taken = np.ascontiguousarray(values).reshape(where.size)
        for k in range(where.size):
            flat[where[k]] += taken[k]
        return out

    return impl


def index_last_writes(positions, adjoint):
    """`adjoint` read at the flat `positions`, zero where a later position repeats it: what
    `a[index] = v` hands to v's adjoint (with an index twice, the last value stored stays)."""
    where = np.ravel(positions)
    out = np.zeros(where.size, dtype=_float_dtype(adjoint))
    _, first_from_end = np.unique(where[::-1], return_index=True)
    last = where.size - 1 - first_from_end
    out[last] = np.ravel(adjoint)[where[last]]
    return out.reshape(np.shape(positions))


@overload(index_last_writes)
def _index_last_writes(positions, adjoint):
    def impl(positions, adjoint):
        where, flat = positions.ravel(), np.ascontiguousarray(adjoint).ravel()
        out = np.zeros(where.size, dtype=adjoint.dtype)
        seen = np.zeros(flat.size, dtype=np.bool_)
        for k in range(where.size - 1, -1, -1):
            if not seen[where[k]]:
                seen[where[k]] = True
                out[k] = flat[where[k]]
        return out.reshape(positions.shape)

    return impl


# ---- reductions: keepdims and var's ddof --------------------------------------


def keep_dims(r, a, axis):
    """`r`, a reduction of `a` along `axis` (None, an int or a tuple), with the reduced axes
    kept as size 1 (NumPy's keepdims=True)."""
    if np.ndim(a) == 0:
        return r
    return np.array(r).reshape(_kept_shape(np.shape(a), axis))


def _kept_shape(shape, axis):
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis) % len(shape)
    return tuple(1 if d in axes else n for d, n in enumerate(shape))


@overload(keep_dims)
def _keep_dims(r, a, axis):
    if not _is_array(a):
        return lambda r, a, axis: r
    return _keep_dims_impl(a.ndim)


_KEEP_DIMS = """\
def keep_dims_of_rank{ndim}(r, a, axis):
    return reshaped_copy(r, ({shape},))
"""
_KEEP_DIMS_IMPLS = {}


def _keep_dims_impl(ndim):
    """keep_dims for an `a` of rank `ndim`: Numba needs the shape as a tuple of that length."""
    if ndim not in _KEEP_DIMS_IMPLS:
        name = f"keep_dims_of_rank{ndim}"
        shape = ", ".join(
            f"1 if is_reduced(axis, {d}, {ndim}) else a.shape[{d}]" for d in range(ndim)
        )
        source = _KEEP_DIMS.format(ndim=ndim, shape=shape)
        namespace = {"reshaped_copy": _reshaped_copy, "is_reduced": _is_reduced}
        exec(compile(source, f"<s2sjax.runtime {name}>", "exec"), namespace)
        _KEEP_DIMS_IMPLS[ndim] = namespace[name]
    return _KEEP_DIMS_IMPLS[ndim]


def _is_reduced(axis, d, ndim):
    """Whether dimension `d` of a rank-`ndim` array is among `axis` (None: all of them)."""


@overload(_is_reduced)
def _is_reduced_impl(axis, d, ndim):
    if _is_none(axis):
        return lambda axis, d, ndim: True
    if isinstance(axis, types.Integer):
        return lambda axis, d, ndim: axis % ndim == d

    def impl(axis, d, ndim):
        for k in axis:
            if k % ndim == d:
                return True
        return False

    return impl


def _reshaped_copy(r, shape):
    """A new array of `shape` holding `r` (an array of as many elements, or a scalar)."""


@overload(_reshaped_copy)
def _reshaped_copy_impl(r, shape):
    if _is_array(r):
        return lambda r, shape: np.ascontiguousarray(r).copy().reshape(shape)
    return lambda r, shape: np.full(shape, r)


@register_jitable  # the same code serves Python and Numba
def root_of_variance(v):
    """np.std from np.var: a square root whose derivative is 0 where the variance is (see its
    rule)."""
    return np.sqrt(v)


def ddof_scale(a, axis, ddof):
    """n / (n - ddof), n the number of entries of `a` that each result of a reduction along
    `axis` counts: np.var's ddof correction of the mean of squares."""
    count = np.size(a) if axis is None else np.prod([np.shape(a)[k] for k in np.atleast_1d(axis)])
    return count / (count - ddof)


@overload(ddof_scale)
def _ddof_scale(a, axis, ddof):
    def impl(a, axis, ddof):
        count = _reduced_count(a, axis)
        return count / (count - ddof)

    return impl


def _reduced_count(a, axis):
    """How many entries of `a` a reduction along `axis` counts."""


@overload(_reduced_count)
def _reduced_count_impl(a, axis):
    if not _is_array(a):
        return lambda a, axis: 1
    if _is_none(axis):
        return lambda a, axis: a.size

    def impl(a, axis):
        count = 1
        for d in range(a.ndim):
            if _is_reduced(axis, d, a.ndim):
                count *= a.shape[d]
        return count

    return impl


# ---- along an axis: np.trace's mask, np.cumsum --------------------------------


def diagonal_mask(a, offset):
    """1.0 where an entry of `a` lies on diagonal `offset` of its first two axes, else 0.0."""
    n, m = np.shape(a)[:2]
    mask = np.eye(n, m, k=offset, dtype=_float_dtype(a))
    mask = mask.reshape((n, m) + (1,) * (np.ndim(a) - 2))
    return np.broadcast_to(mask, np.shape(a)).copy()


@overload(diagonal_mask)
def _diagonal_mask(a, offset):
    def impl(a, offset):
        n, m = a.shape[0], a.shape[1]
        mask = np.zeros(a.shape)
        grid = mask.reshape((n, m, a.size // max(n * m, 1)))
        for i in range(max(0, -offset), min(n, m - offset)):
            grid[i, i + offset, :] = 1.0
        return mask

    return impl


def cumsum_adjoint(g, a, axis):
    """The adjoint of `np.cumsum(a, axis)`: `g` summed from the end, shaped like `a`."""
    g = np.asarray(g)
    if axis is None:
        return np.cumsum(g[::-1])[::-1].reshape(np.shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


@overload(cumsum_adjoint)
def _cumsum_adjoint(g, a, axis):
    def impl(g, a, axis):
        pre, n, post = _grid(a, axis)
        g3 = np.ascontiguousarray(g).reshape((pre, n, post))
        out = np.empty((pre, n, post), dtype=g3.dtype)
        for i in range(pre):
            running = np.zeros(post, dtype=g3.dtype)
            for j in range(n - 1, -1, -1):
                running += g3[i, j, :]
                out[i, j, :] = running
        return out.reshape(np.shape(a))

    return impl


def _cumsum_axis(a, axis):
    """np.cumsum(a, axis) for an int `axis`, which Numba lacks."""
    pre, n, post = _split(a.shape, axis)
    a3 = np.ascontiguousarray(a).reshape((pre, n, post))
    out = np.empty((pre, n, post), dtype=a3.dtype)
    for i in range(pre):
        running = np.zeros(post, dtype=a3.dtype)
        for j in range(n):
            running += a3[i, j, :]
            out[i, j, :] = running
    return out.reshape(a.shape)


@overload(np.cumsum)
def _cumsum_with_axis(a, axis):
    if _is_array(a) and _is_none(axis):
        return lambda a, axis: np.cumsum(a)
    if _is_array(a) and isinstance(axis, types.Integer):
        return _cumsum_axis


def diff_once(a, axis):
    """np.diff(a, axis=axis) (n=1)."""
    return np.diff(a, axis=axis)


@overload(diff_once)
def _diff_once(a, axis):
    shorter = _shorter_shape(a.ndim)

    def impl(a, axis):
        pre, n, post = _split(a.shape, axis)
        a3 = np.ascontiguousarray(a).reshape((pre, n, post))
        out = a3[:, 1:, :] - a3[:, :-1, :]
        return out.reshape(shorter(a.shape, axis))

    return impl


def diff_once_adjoint(g, a, axis):
    """The adjoint of `diff_once(a, axis)`: each difference's `g` added to its later entry and
    taken from its earlier one."""
    out = np.zeros(np.shape(a), dtype=_float_dtype(g))
    later, earlier = [slice(None)] * np.ndim(a), [slice(None)] * np.ndim(a)
    later[axis], earlier[axis] = slice(1, None), slice(None, -1)
    out[tuple(later)] += g
    out[tuple(earlier)] -= g
    return out


@overload(diff_once_adjoint)
def _diff_once_adjoint(g, a, axis):
    def impl(g, a, axis):
        pre, n, post = _split(a.shape, axis)
        g3 = np.ascontiguousarray(g).reshape((pre, n - 1, post))
        out = np.zeros((pre, n, post), dtype=g3.dtype)
        out[:, 1:, :] += g3
        out[:, :-1, :] -= g3
        return out.reshape(a.shape)

    return impl


_SHORTER = """\
def shorter_shape_of_rank{ndim}(shape, axis):
    return ({shape},)
"""
_SHORTER_IMPLS = {}


def _shorter_shape(ndim):
    """(shape, axis) -> `shape` one shorter along `axis`, as a tuple of `ndim` (for Numba)."""
    if ndim not in _SHORTER_IMPLS:
        name = f"shorter_shape_of_rank{ndim}"
        shape = ", ".join(
            f"shape[{d}] - 1 if is_reduced(axis, {d}, {ndim}) else shape[{d}]" for d in range(ndim)
        )
        namespace = {"is_reduced": _is_reduced}
        source = _SHORTER.format(ndim=ndim, shape=shape)
        exec(compile(source, f"<s2sjax.runtime {name}>", "exec"), namespace)
        _SHORTER_IMPLS[ndim] = register_jitable(namespace[name])
    return _SHORTER_IMPLS[ndim]


def gradient_along(a, axis):
    """np.gradient(a, axis=axis) with unit spacing (axis None: `a` has one axis)."""
    return np.gradient(a, axis=axis)


@overload(gradient_along)
def _gradient_along(a, axis):
    def impl(a, axis):
        pre, n, post = _grid(a, axis)
        a3 = np.ascontiguousarray(a).reshape((pre, n, post))
        out = np.empty((pre, n, post))
        out[:, 0, :] = a3[:, 1, :] - a3[:, 0, :]
        out[:, n - 1, :] = a3[:, n - 1, :] - a3[:, n - 2, :]
        out[:, 1 : n - 1, :] = (a3[:, 2:, :] - a3[:, : n - 2, :]) / 2.0
        return out.reshape(a.shape)

    return impl


@register_jitable  # the same code serves Python and Numba
def _gradient_adjoint_grid(g3):
    """The adjoint of a (pre, n, post) np.gradient along its middle axis."""
    n = g3.shape[1]
    out = np.zeros(g3.shape)
    out[:, 1, :] += g3[:, 0, :]
    out[:, 0, :] -= g3[:, 0, :]
    out[:, n - 1, :] += g3[:, n - 1, :]
    out[:, n - 2, :] -= g3[:, n - 1, :]
    out[:, 2:, :] += g3[:, 1 : n - 1, :] / 2.0
    out[:, : n - 2, :] -= g3[:, 1 : n - 1, :] / 2.0
    return out


def gradient_adjoint(g, a, axis):
    """The adjoint of `gradient_along(a, axis)`."""
    pre, n, post = _split(np.shape(a), 0 if axis is None else axis)
    g3 = np.ascontiguousarray(g, dtype=float).reshape((pre, n, post))
    return _gradient_adjoint_grid(g3).reshape(np.shape(a))


@overload(gradient_adjoint)
def _gradient_adjoint(g, a, axis):
    def impl(g, a, axis):
        pre, n, post = _grid(a, axis)
        g3 = np.ascontiguousarray(g).reshape((pre, n, post)) * 1.0
        return _gradient_adjoint_grid(g3).reshape(a.shape)

    return impl


# ---- np.linalg (s2sjax/rules/decompositions.py): the parts of tuple results, the triangle
# that eigh and cholesky read, and the derivatives of eigh, svd and pinv (one matrix each).
# A seed `g` or `d` may be float64 where the matrix is float32: it takes the matrix's dtype.


@register_jitable
def det_sign(a):
    """np.linalg.slogdet(a)[0]."""
    return np.linalg.slogdet(a)[0]


@register_jitable
def log_abs_det(a):
    """np.linalg.slogdet(a)[1]: log |det a|."""
    return np.linalg.slogdet(a)[1]


@register_jitable
def from_triangle(a, UPLO):
    """The symmetric matrix that `a`'s lower (UPLO "L") or upper triangle stands for."""
    lower = np.tril(a) if UPLO == "L" else np.ascontiguousarray(np.triu(a).T)
    return lower + np.tril(lower, -1).T


def to_triangle(x, UPLO):
    """The adjoint of `from_triangle`: `x + x^T` on the triangle read, `x`'s own diagonal."""
    both = x + x.T
    out = np.tril(both) if UPLO == "L" else np.triu(both)
    out[np.diag_indices_from(out)] = np.diagonal(x)
    return out


@overload(to_triangle)
def _to_triangle(x, UPLO):
    def impl(x, UPLO):  # one pass: Numba's tril and x + x.T each make temporaries
        n = x.shape[0]
        if x.shape[1] != n:
            raise ValueError("to_triangle: x must be square")
        out = np.zeros((n, n), x.dtype)
        lower = UPLO == "L"
        for i in range(n):
            out[i, i] = x[i, i]
            for j in range(i):
                if lower:
                    out[i, j] = x[i, j] + x[j, i]
                else:
                    out[j, i] = x[i, j] + x[j, i]
        return out

    return impl


def tril_halved(x):
    """The lower triangle of `x`, its diagonal halved."""
    out = np.tril(x)
    out[np.diag_indices(min(x.shape))] *= 0.5
    return out


@overload(tril_halved)
def _tril_halved(x):
    def impl(x):  # one pass, without Numba's tril mask
        rows, columns = x.shape
        out = np.zeros((rows, columns), x.dtype)
        for i in range(rows):
            for j in range(min(i, columns)):
                out[i, j] = x[i, j]
            if i < columns:
                out[i, i] = 0.5 * x[i, i]
        return out

    return impl


@register_jitable
def _inverse_gaps(w):
    """F[i, j] = 1 / (w[j] - w[i]), 0 on the diagonal."""
    n = w.shape[0]
    f = np.zeros((n, n), dtype=w.dtype)
    for i in range(n):
        for j in range(n):
            if i != j:
                f[i, j] = 1.0 / (w[j] - w[i])
    return f


@register_jitable
def eigh_values(a, UPLO):
    return np.linalg.eigh(from_triangle(a, UPLO))[0]


@register_jitable
def eigh_vectors(a, UPLO):
    return np.linalg.eigh(from_triangle(a, UPLO))[1]


@register_jitable
def eigh_values_adjoint(g, a, UPLO):
    v = eigh_vectors(a, UPLO)
    return to_triangle((v * g.astype(a.dtype)) @ v.T, UPLO)


@register_jitable
def eigh_vectors_adjoint(g, a, UPLO):
    w, v = np.linalg.eigh(from_triangle(a, UPLO))
    inner = _inverse_gaps(w) * (v.T @ g.astype(a.dtype))
    return to_triangle(v @ inner @ v.T, UPLO)


@register_jitable
def eigh_values_tangent(d, a, UPLO):
    v = eigh_vectors(a, UPLO)
    return np.sum(v * (from_triangle(d.astype(a.dtype), UPLO) @ v), axis=0)


@register_jitable
def eigh_vectors_tangent(d, a, UPLO):
    w, v = np.linalg.eigh(from_triangle(a, UPLO))
    return v @ (_inverse_gaps(w) * (v.T @ from_triangle(d.astype(a.dtype), UPLO) @ v))


@register_jitable
def _check_reduced(full_matrices, a):
    if full_matrices and a.shape[0] != a.shape[1]:
        raise ValueError(
            "np.linalg.svd with full_matrices=True: the extra singular vectors of a matrix "
            "that is not square are not unique, so have no derivative; pass full_matrices=False"
        )


@register_jitable
def svd_u(a, full_matrices):
    _check_reduced(full_matrices, a)
    return np.linalg.svd(a, full_matrices=False)[0]


@register_jitable
def svd_s(a):
    return np.linalg.svd(a, full_matrices=False)[1]


@register_jitable
def svd_vh(a, full_matrices):
    _check_reduced(full_matrices, a)
    return np.linalg.svd(a, full_matrices=False)[2]


@register_jitable
def svd_u_adjoint(g, a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    g = g.astype(a.dtype)
    utg = u.T @ g
    inner = (_inverse_gaps(s * s) * (utg - utg.T)) * s.reshape((1, s.size))
    beyond = (g - u @ utg) / s.reshape((1, s.size))  # the part of g outside u's columns
    return (u @ inner + beyond) @ vh


@register_jitable
def svd_s_adjoint(g, a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (u * g.astype(a.dtype)) @ vh


@register_jitable
def svd_vh_adjoint(g, a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    g = g.astype(a.dtype)
    vhg = g @ vh.T  # (v^T g_v)^T, g_v = g^T
    inner = s.reshape((s.size, 1)) * (_inverse_gaps(s * s) * (vhg.T - vhg))
    beyond = (g - vhg @ vh) / s.reshape((s.size, 1))  # the part of g outside vh's rows
    return u @ (inner @ vh + beyond)


@register_jitable
def _svd_tangents(d, a):
    """(du, ds, dvh) of the reduced SVD along `d`."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    d = d.astype(a.dtype)
    v = np.ascontiguousarray(vh.T)
    dav = d @ v
    p = u.T @ dav
    f = _inverse_gaps(s * s)
    row, column = s.reshape((1, s.size)), s.reshape((s.size, 1))
    du = u @ (f * (p * row + (p * row).T)) + (dav - u @ p) / row
    datu = d.T @ u
    dv = v @ (f * (column * p + (column * p).T)) + (datu - v @ p.T) / row
    return du, np.diag(p).copy(), np.ascontiguousarray(dv.T)


@register_jitable
def svd_u_tangent(d, a):
    return _svd_tangents(d, a)[0]


@register_jitable
def svd_s_tangent(d, a):
    return _svd_tangents(d, a)[1]


@register_jitable
def svd_vh_tangent(d, a):
    return _svd_tangents(d, a)[2]


@register_jitable
def pinv_adjoint(g, a, p):
    """The adjoint of p = pinv(a) (constant rank): -p^T g p^T + (I - a p) g^T p p^T
    + p^T p g^T (I - p a)."""
    gt = np.ascontiguousarray(g.astype(a.dtype).T)
    pt = np.ascontiguousarray(p.T)
    outside_columns = gt - a @ (p @ gt)  # (I - a p) g^T
    outside_rows = gt - (gt @ p) @ a  # g^T (I - p a)
    return -(pt @ gt.T @ pt) + outside_columns @ (p @ pt) + (pt @ p) @ outside_rows


@register_jitable
def pinv_tangent(d, a, p):
    """dp = -p d p + p p^T d^T (I - a p) + (I - p a) d^T p^T p."""
    d = d.astype(a.dtype)
    dt = np.ascontiguousarray(d.T)
    pt = np.ascontiguousarray(p.T)
    return -(p @ d @ p) + (p @ pt) @ (dt - (dt @ a) @ p) + (dt - p @ (a @ dt)) @ (pt @ p)


@register_jitable
def norm_vector(x):
    """`x`, which np.linalg.norm with a number for ord and no axis takes as a vector."""
    return x


def solve(a, b):
    """np.linalg.solve for derivatives, whose dtypes may differ (a float64 seed, a float32 a)."""
    return np.linalg.solve(a, b)


@overload(solve)
def _solve(a, b):
    if a.dtype != b.dtype:
        return lambda a, b: np.linalg.solve(a.astype(np.float64), b.astype(np.float64))
    return lambda a, b: np.linalg.solve(a, b)


# ---- np.linalg.qr (reduced) and lstsq (s2sjax/rules/decompositions.py): a = q r, m >= n for
# the derivatives (the standard ones: Walter and Lehmann; Seeger et al., arXiv:1710.08717)


@register_jitable
def qr_q(a):
    return np.linalg.qr(a)[0]


@register_jitable
def qr_r(a):
    return np.linalg.qr(a)[1]


@register_jitable
def _qr_tall(a):
    if a.shape[0] < a.shape[1]:
        raise ValueError(
            "the derivative of np.linalg.qr of a matrix with fewer rows than columns is not "
            "supported (its q depends on the extra columns in no differentiable way s2sjax knows)"
        )
    q, r = np.linalg.qr(a)
    return np.ascontiguousarray(q), np.ascontiguousarray(r)


@register_jitable
def _copy_lower_to_upper(m):
    """The symmetric matrix of `m`'s lower triangle."""
    return np.tril(m) + np.ascontiguousarray(np.tril(m, -1).T)


@register_jitable
def _times_r_inverse_transposed(x, r):
    """x r^-T."""
    return np.ascontiguousarray(np.linalg.solve(r, np.ascontiguousarray(x.T)).T)


@register_jitable
def qr_q_adjoint(g, a):
    q, r = _qr_tall(a)
    g = g.astype(a.dtype)
    return _times_r_inverse_transposed(
        g - q @ _copy_lower_to_upper(np.ascontiguousarray(g.T) @ q), r
    )


@register_jitable
def qr_r_adjoint(g, a):
    q, r = _qr_tall(a)
    gt = np.ascontiguousarray(g.astype(a.dtype).T)
    return _times_r_inverse_transposed(q @ _copy_lower_to_upper(r @ gt), r)


@register_jitable
def _qr_tangents(d, a):
    """(dq, dr) along `d`: c = q^T d r^-1, omega its lower part made skew."""
    q, r = _qr_tall(a)
    d = d.astype(a.dtype)
    d_r = np.ascontiguousarray(np.linalg.solve(r.T, np.ascontiguousarray(d.T)).T)  # d r^-1
    c = q.T @ d_r
    below = np.tril(c, -1)
    omega = below - below.T
    return q @ omega + d_r - q @ (q.T @ d_r), (c - omega) @ r


@register_jitable
def qr_q_tangent(d, a):
    return _qr_tangents(d, a)[0]


@register_jitable
def qr_r_tangent(d, a):
    return _qr_tangents(d, a)[1]


# ---- np.linalg on stacks of matrices (passes/linalg_stacks.py): the broadcast stack's positions


@register_jitable
def broadcast_dimension(p, q):
    """The broadcast of two leading dimensions of stacks of matrices, NumPy's error if none."""
    if p != q and p != 1 and q != 1:
        raise ValueError("operands could not be broadcast together (their stacks of matrices)")
    return max(p, q)


@register_jitable
def stack_position(k, lead, own):
    """Where the k-th matrix of a broadcast stack with leading dimensions `lead` lies in an
    operand whose own (right-aligned, raveled) leading dimensions are `own`."""
    position, stride, skip = 0, 1, len(lead) - len(own)
    for axis in range(len(lead) - 1, -1, -1):
        place = k % lead[axis]
        k //= lead[axis]
        if axis >= skip:
            size = own[axis - skip]
            position += (place if size != 1 else 0) * stride
            stride *= size
    return position


# ---- linalg speed: triangular solves with cholesky's factor (its derivatives) ----------------
# Numba has no solve_triangular. Compiled code solves by blocks of rows: each block first takes
# the product of the rows solved before it (a BLAS matrix product, most of the work), then
# substitutes through its own diagonal block by loops. Only the lower triangle of `factor` is read.


_TRIANGULAR_BLOCK = 64  # rows per block: the loops' share of the work is about 64 / n
_SUBSTITUTION_COLUMNS = 64  # a block's rows times these columns: 32 KiB of float64


def solve_lower(factor, b):
    """x with tril(factor) x = b, for b a vector or a matrix."""
    return _scipy("linalg").solve_triangular(factor, b, lower=True, check_finite=False)


def solve_lower_transposed(factor, b):
    """x with tril(factor)^T x = b, for b a vector or a matrix."""
    return _scipy("linalg").solve_triangular(factor, b, lower=True, trans="T", check_finite=False)


@register_jitable
def _subtract_row(x, i, scale, j, columns):
    """x[i, columns] -= scale * x[j, columns], by a loop on row views (which LLVM vectorizes): a
    slice expression would allocate its product."""
    target, source = x[i, columns], x[j, columns]
    for column in range(target.shape[0]):
        target[column] -= scale * source[column]


@register_jitable
def _divide_row(x, i, divisor, columns):
    target = x[i, columns]
    for column in range(target.shape[0]):
        target[column] /= divisor


@register_jitable
def _substitute_lower(factor, x, start, stop):
    """Rows start:stop of x, already less the rows above, through factor's diagonal block there;
    by chunks of columns that stay in the L1 cache."""
    for first in range(0, x.shape[1], _SUBSTITUTION_COLUMNS):
        columns = slice(first, min(first + _SUBSTITUTION_COLUMNS, x.shape[1]))
        for i in range(start, stop):
            for j in range(start, i):
                _subtract_row(x, i, factor[i, j], j, columns)
            _divide_row(x, i, factor[i, i], columns)


@register_jitable
def _substitute_lower_transposed(factor, x, start, stop):
    """As `_substitute_lower` with factor^T, upper triangular: the rows from the last up."""
    for first in range(0, x.shape[1], _SUBSTITUTION_COLUMNS):
        columns = slice(first, min(first + _SUBSTITUTION_COLUMNS, x.shape[1]))
        for i in range(stop - 1, start - 1, -1):
            for j in range(i + 1, stop):
                _subtract_row(x, i, factor[j, i], j, columns)
            _divide_row(x, i, factor[i, i], columns)


@register_jitable
def _solve_lower_in_place(factor, x, transposed):
    """x := tril(factor)^-1 x, or tril(factor)^-T x, for a C-contiguous matrix x."""
    n = factor.shape[0]
    blocks = (n + _TRIANGULAR_BLOCK - 1) // _TRIANGULAR_BLOCK
    for k in range(blocks):
        if transposed:  # from the last block up: the rows below are solved
            start = (blocks - 1 - k) * _TRIANGULAR_BLOCK
            stop = min(start + _TRIANGULAR_BLOCK, n)
            if stop < n:
                x[start:stop] -= np.ascontiguousarray(factor[stop:, start:stop].T) @ x[stop:]
            _substitute_lower_transposed(factor, x, start, stop)
        else:
            start = k * _TRIANGULAR_BLOCK
            stop = min(start + _TRIANGULAR_BLOCK, n)
            if start > 0:
                x[start:stop] -= np.ascontiguousarray(factor[start:stop, :start]) @ x[:start]
            _substitute_lower(factor, x, start, stop)


def _triangular_solver(public, transposed):
    """Compiled `public(factor, b)`: a copy of b solved in place, float64 where dtypes differ."""

    def typed(factor, b):
        if factor.dtype != b.dtype:
            return lambda factor, b: public(factor.astype(np.float64), b.astype(np.float64))
        if b.ndim == 1:

            def vector(factor, b):
                x = np.empty((b.shape[0], 1), b.dtype)
                x[:, 0] = b
                _solve_lower_in_place(factor, x, transposed)
                return x[:, 0].copy()

            return vector

        def matrix(factor, b):
            x = np.empty(b.shape, b.dtype)
            x[:] = b
            _solve_lower_in_place(factor, x, transposed)
            return x

        return matrix

    return typed


overload(solve_lower)(_triangular_solver(solve_lower, False))
overload(solve_lower_transposed)(_triangular_solver(solve_lower_transposed, True))


# ---- stats family: scipy.stats.norm's logpdf, pdf, cdf and logcdf, with loc and scale -------
# One body serves target="python" and compiled code: arithmetic that broadcasts x, loc and scale as
# NumPy does, and erfc and log_ndtr of the standardized value, elementwise.

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
_LOG_NDTR_SERIES_BELOW = -30.0  # below, erfc(-z / sqrt 2) underflows soon: asymptotic series


@register_jitable
def _log_ndtr(z):
    """log Phi(z), the standard normal's log cdf, without underflow (scipy.special.log_ndtr)."""
    if z > 0.0:  # Phi(z) = 1 - Phi(-z): log1p keeps the small Phi(-z) exactly
        return math.log1p(-0.5 * math.erfc(z * _SQRT_HALF))
    if z > _LOG_NDTR_SERIES_BELOW:
        return math.log(0.5 * math.erfc(-z * _SQRT_HALF))
    # Phi(z) = phi(z) / -z * sum_k (-1)^k (2k-1)!! / z^2k, exact to double precision by k = 7
    inv2 = 1.0 / (z * z)
    series, term = 1.0, 1.0
    for k in range(1, 8):
        term *= -(2.0 * k - 1.0) * inv2
        series += term
    return -0.5 * z * z - _LOG_SQRT_2PI - math.log(-z) + math.log(series)


def standard_log_cdf(z):
    """log Phi(z) of each element (scipy.special.log_ndtr)."""
    return _in_dtype_of(_scipy("special").log_ndtr(z), z)


_scalar_overload(standard_log_cdf, _log_ndtr)


def _float64(x):
    """`x` in float64, what scipy.stats computes in whatever the arguments' type."""
    return np.asarray(x, dtype=np.float64)[()]


@overload(_float64)
def _float64_impl(x):
    if _is_array(x):
        return lambda x: x.astype(np.float64)
    return lambda x: float(x)


@register_jitable
def norm_logpdf(x, loc=0.0, scale=1.0):
    """scipy.stats.norm.logpdf(x, loc, scale)."""
    z = (_float64(x) - loc) / scale
    return -0.5 * z * z - np.log(scale) - _LOG_SQRT_2PI


@register_jitable
def norm_pdf(x, loc=0.0, scale=1.0):
    """scipy.stats.norm.pdf(x, loc, scale)."""
    return np.exp(norm_logpdf(x, loc, scale))


@register_jitable
def norm_cdf(x, loc=0.0, scale=1.0):
    """scipy.stats.norm.cdf(x, loc, scale)."""
    return 0.5 * erfc((loc - _float64(x)) / scale * _SQRT_HALF)


@register_jitable
def norm_logcdf(x, loc=0.0, scale=1.0):
    """scipy.stats.norm.logcdf(x, loc, scale)."""
    return standard_log_cdf((_float64(x) - loc) / scale)


# ---- reduce2 family (s2sjax/rules/reduce2.py): np.take_along_axis's positions; np.cumprod along
# an axis, its derivatives


@register_jitable  # the same code serves Python and Numba
def along_axis_positions(arr, indices, axis):
    """The flat positions in `arr` that np.take_along_axis(arr, indices, axis) reads."""
    return np.take_along_axis(index_positions(arr), indices, axis)


# np.cumprod's helpers work on `a` seen as (pre, n, post) around the axis. The derivatives run
# the product's recurrence y[j] = y[j - 1] a[j] forwards (tangent) or backwards (adjoint), never
# dividing by a: right where `a` has zeros.


def _cumulative_grid(x, a, axis):
    """`x` (shaped like `a`, or like np.cumprod(a, axis)) as `a`'s (pre, n, post) grid."""
    pre, n, post = (1, np.size(a), 1) if axis is None else _split(np.shape(a), axis)
    return np.ascontiguousarray(x).reshape((pre, n, post))


@register_jitable
def _cumprod_grid(a3):
    out = np.empty(a3.shape, dtype=a3.dtype)
    for i in range(a3.shape[0]):
        running = np.ones(a3.shape[2], dtype=a3.dtype)
        for j in range(a3.shape[1]):
            running = running * a3[i, j, :]
            out[i, j, :] = running
    return out


@register_jitable
def _cumprod_tangent_grid(d3, a3):
    """ydot[j] = ydot[j - 1] a[j] + y[j - 1] d[j]."""
    out = np.empty(a3.shape, dtype=d3.dtype)
    for i in range(a3.shape[0]):
        before = np.ones(a3.shape[2], dtype=d3.dtype)  # y[j - 1]
        running = np.zeros(a3.shape[2], dtype=d3.dtype)
        for j in range(a3.shape[1]):
            running = running * a3[i, j, :] + before * d3[i, j, :]
            before = before * a3[i, j, :]
            out[i, j, :] = running
    return out


@register_jitable
def _cumprod_adjoint_grid(g3, a3):
    """abar[j] = ybar[j] y[j - 1], with ybar[j] = g[j] + ybar[j + 1] a[j + 1]."""
    pre, n, post = a3.shape
    out = np.empty(a3.shape, dtype=g3.dtype)
    for i in range(pre):
        before = np.ones(post, dtype=g3.dtype)
        for j in range(n):  # the exclusive products y[j - 1] first
            out[i, j, :] = before
            before = before * a3[i, j, :]
        carried = np.zeros(post, dtype=g3.dtype)
        for j in range(n - 1, -1, -1):  # carried: ybar[j + 1] a[j + 1]
            carried = carried + g3[i, j, :]
            out[i, j, :] = out[i, j, :] * carried
            carried = carried * a3[i, j, :]
    return out


def cumprod_tangent(d, a, axis):
    """The tangent of `np.cumprod(a, axis)` along `d` (shaped like `a`)."""
    grid = _cumprod_tangent_grid(_cumulative_grid(d, a, axis) * 1.0, _cumulative_grid(a, a, axis))
    return grid.reshape(-1) if axis is None else grid.reshape(np.shape(a))


@overload(cumprod_tangent)
def _cumprod_tangent(d, a, axis):
    def impl(d, a, axis):
        pre, n, post = _grid(a, axis)
        d3 = np.ascontiguousarray(d).reshape((pre, n, post)) * 1.0
        grid = _cumprod_tangent_grid(d3, np.ascontiguousarray(a).reshape((pre, n, post)))
        return grid.reshape(_cumulative_shape(a, axis))

    return impl


def cumprod_adjoint(g, a, axis):
    """The adjoint of `np.cumprod(a, axis)`, shaped like `a`."""
    g3 = _cumulative_grid(g, a, axis) * 1.0
    return _cumprod_adjoint_grid(g3, _cumulative_grid(a, a, axis)).reshape(np.shape(a))


@overload(cumprod_adjoint)
def _cumprod_adjoint(g, a, axis):
    def impl(g, a, axis):
        pre, n, post = _grid(a, axis)
        g3 = np.ascontiguousarray(g).reshape((pre, n, post)) * 1.0
        grid = _cumprod_adjoint_grid(g3, np.ascontiguousarray(a).reshape((pre, n, post)))
        return grid.reshape(a.shape)

    return impl


def _cumulative_shape(a, axis):
    """The shape of np.cumprod(a, axis): `a`'s, or flat for axis None."""


@overload(_cumulative_shape)
def _cumulative_shape_impl(a, axis):
    if _is_none(axis):
        return lambda a, axis: (a.size,)
    return lambda a, axis: a.shape


@overload(np.cumprod)
def _cumprod_with_axis(a, axis):
    if _is_array(a) and _is_none(axis):
        return lambda a, axis: np.cumprod(a)
    if _is_array(a) and isinstance(axis, types.Integer):

        def impl(a, axis):
            pre, n, post = _split(a.shape, axis)
            return _cumprod_grid(np.ascontiguousarray(a).reshape((pre, n, post))).reshape(a.shape)

        return impl


# np.quantile (and median, percentile), method "linear": the two sorted neighbours of the quantile
# q along `axis` are gathered at flat positions, then weighted (1 - t, t). Both are constants: the
# derivative flows through the gather to the two neighbours. Shapes are `s`'s with 2 along `axis`.


@register_jitable
def _quantile_place(n, q):
    """(lower, upper, t): the neighbours' indices among `n` sorted values, and the weight of
    the upper one."""
    position = q * (n - 1)
    lower = min(max(int(np.floor(position)), 0), n - 1)
    return lower, min(lower + 1, n - 1), position - lower


@register_jitable
def _quantile_grid(s, q, axis):
    """(the neighbours' flat positions in `s`, their weights), each of shape (pre, 2, post)."""
    pre, n, post = _split(s.shape, axis)
    lower, upper, t = _quantile_place(n, q)
    flat = index_positions(s).reshape((pre, n, post))
    positions = np.empty((pre, 2, post), dtype=np.int64)
    positions[:, 0, :] = flat[:, lower, :]
    positions[:, 1, :] = flat[:, upper, :]
    weights = np.empty((pre, 2, post), dtype=s.dtype)
    weights[:, 0, :] = 1.0 - t
    weights[:, 1, :] = t
    return positions, weights


def _pair_shape(shape, axis):
    return tuple(2 if d == axis % len(shape) else n for d, n in enumerate(shape))


@overload(_pair_shape)
def _pair_shape_impl(shape, axis):
    return lambda shape, axis: tuple_setitem(shape, axis % len(shape), 2)


def quantile_neighbours(s, q, axis):
    """The flat positions in `s` (sorted along `axis`) of the two neighbours of quantile `q`."""
    return _quantile_grid(s, q, axis)[0].reshape(_pair_shape(np.shape(s), axis))


@overload(quantile_neighbours)
def _quantile_neighbours(s, q, axis):
    return lambda s, q, axis: _quantile_grid(s, q, axis)[0].reshape(_pair_shape(s.shape, axis))


def quantile_weights(s, q, axis):
    """The weights of the two neighbours of quantile `q` (linear interpolation)."""
    return _quantile_grid(s, q, axis)[1].reshape(_pair_shape(np.shape(s), axis))


@overload(quantile_weights)
def _quantile_weights(s, q, axis):
    return lambda s, q, axis: _quantile_grid(s, q, axis)[1].reshape(_pair_shape(s.shape, axis))


# ---- forms: matrix products whose operands both have leading (batch) axes ----


def batch_matmul(a, b):
    """`a @ b` of two stacks of matrices, their batch axes broadcast (size 1 and missing ones)."""
    return np.matmul(a, b)


@overload(batch_matmul)
def _batch_matmul(a, b):
    if a.dtype != b.dtype:
        return lambda a, b: _batch_matmul_same(a.astype(np.float64), b.astype(np.float64))
    return _batch_matmul_same


@register_jitable
def _batch_matmul_same(a, b):
    shape_a, shape_b = _batch_shape(a, b), _batch_shape(b, a)
    stack_a, stack_b = _matrices(a, shape_a), _matrices(b, shape_b)
    rows, inner, cols = a.shape[a.ndim - 2], a.shape[a.ndim - 1], b.shape[b.ndim - 1]
    out = np.empty((stack_a.shape[0], rows, cols), dtype=stack_a.dtype)
    if inner != b.shape[b.ndim - 2]:
        raise ValueError("matmul: the inner dimensions of the matrices differ")
    for k in range(stack_a.shape[0]):
        out[k] = np.dot(stack_a[k], stack_b[k])
    return out.reshape(tuple_setitem(shape_a, len(shape_a) - 1, cols))


@register_jitable
def _matrices(x, shape):
    """`x` broadcast to `shape`, as a C-contiguous stack of its matrices."""
    full = np.ascontiguousarray(np.broadcast_to(x, shape))
    count = full.size // max(shape[len(shape) - 2] * shape[len(shape) - 1], 1)
    return full.reshape((count, shape[len(shape) - 2], shape[len(shape) - 1]))


@register_jitable
def _batch_shape(x, other):
    """The shape of `x` with the batch axes of `x` and `other` broadcast, of their larger rank."""
    shape = x.shape if x.ndim >= other.ndim else other.shape
    n = len(shape)
    for d in range(n - 2):
        i, j = d - (n - x.ndim), d - (n - other.ndim)
        size_x = x.shape[i] if i >= 0 else 1
        size_other = other.shape[j] if j >= 0 else 1
        if size_x != size_other and size_x != 1 and size_other != 1:
            raise ValueError("matmul: the batch axes of the operands do not broadcast")
        shape = tuple_setitem(shape, d, size_other if size_x == 1 else size_x)
    shape = tuple_setitem(shape, n - 2, x.shape[x.ndim - 2])
    return tuple_setitem(shape, n - 1, x.shape[x.ndim - 1])


# ---- lstsq family: np.gradient's spacing (s2sjax/rules/along_axis.py), np.linalg.lstsq


@register_jitable
def scalar_spacing(h):
    """np.gradient's spacing: one number, the spacing along every axis."""
    return h


# np.linalg.lstsq (s2sjax/rules/lstsq.py): its parts, and the Gram matrix its derivatives
# solve with (they assume full column rank). NumPy's rcond=None is eps * max(m, n); Numba's
# lstsq takes a number, and one dtype for a and b (a seed may be float64 where a is float32).


def lstsq_solution(a, b, rcond):
    """np.linalg.lstsq(a, b, rcond)[0]."""
    return np.linalg.lstsq(a, b, rcond=rcond)[0]


def lstsq_residuals(a, b, rcond):
    """np.linalg.lstsq(a, b, rcond)[1]."""
    return np.linalg.lstsq(a, b, rcond=rcond)[1]


def lstsq_rank(a, rcond):
    """np.linalg.lstsq(a, ..., rcond)[2]: the rank of a."""
    return np.linalg.lstsq(a, np.zeros(a.shape[0], a.dtype), rcond=rcond)[2]  # NumPy's int32


def _lstsq_compiled(part, a, b, rcond):
    """The compiled np.linalg.lstsq(a, b, rcond)[part], a and b cast to one dtype."""
    dtype = a.dtype if b is None or a.dtype == b.dtype else types.float64
    scalar = numba.np.numpy_support.as_dtype(dtype).type
    eps = float(np.finfo(scalar).eps)
    given = not _is_none(rcond)

    def impl(a, b, rcond):
        cutoff = rcond if given else eps * max(a.shape[0], a.shape[1])
        return np.linalg.lstsq(a.astype(scalar), b.astype(scalar), rcond=cutoff)[part]

    return impl


@overload(lstsq_solution)
def _lstsq_solution(a, b, rcond):
    return _lstsq_compiled(0, a, b, rcond)


@overload(lstsq_residuals)
def _lstsq_residuals(a, b, rcond):
    return _lstsq_compiled(1, a, b, rcond)


@overload(lstsq_rank)
def _lstsq_rank(a, rcond):
    rank = numba.njit(_lstsq_compiled(2, a, None, rcond))
    return lambda a, rcond: rank(a, np.zeros(a.shape[0], a.dtype), rcond)


@register_jitable
def lstsq_gram(a):
    """a^T a, for the derivatives of lstsq's solution: they assume full column rank."""
    if a.shape[0] < a.shape[1]:
        raise ValueError(
            "the derivative of np.linalg.lstsq with a matrix of fewer rows than columns is not "
            "supported: s2sjax's assumes full column rank"
        )
    return np.ascontiguousarray(a.T) @ a


# ---- ptx: NumPy functions of scalars that a CUDA device function has no spelling for ---------


@register_jitable
def sign_of_scalar(x):
    """np.sign of one number, in the number's type: Numba's CUDA target has no np.sign."""
    if x > 0:
        return x**0
    if x < 0:
        return -(x**0)
    return x - x  # 0 (NumPy's is +0.0 for -0.0 too), or nan


@register_jitable
def cbrt_of_scalar(x):
    """np.cbrt (math.cbrt) of one number: Numba's CUDA target has neither. A power, then one
    Newton step (written so that it cannot overflow) to the correctly rounded root."""
    y = math.copysign(abs(x) ** (1.0 / 3.0), x)
    if y == 0.0 or not math.isfinite(y):
        return y
    return y - (y - x / (y * y)) / 3.0


_ROUNDING = 2.0**52  # adding it to a non-negative float below it leaves no fraction: the FPU rounds


@register_jitable
def rint_of_scalar(x):
    """np.rint (np.round) of one number, half to even: Numba's CUDA target has neither."""
    if not abs(x) < _ROUNDING:  # an integer already, or inf or nan
        return x
    size = float(abs(x))  # a float32 in float64, where 2**52 leaves it no fraction
    return math.copysign((size + _ROUNDING) - _ROUNDING, x)


@register_jitable
def trunc_of_scalar(x):
    """np.trunc of one number (towards 0), for Numba's CUDA target, which has no np.trunc."""
    if not abs(x) < _ROUNDING:
        return x
    size = float(abs(x))
    whole = (size + _ROUNDING) - _ROUNDING  # rounded to the nearest: one too many half the time
    return math.copysign(whole - 1.0 if whole > size else whole, x)


def nan_to_num_of_scalar(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """np.nan_to_num of one float, for Numba's CUDA target, which has no np.isinf."""
    if math.isnan(x):
        return nan
    if math.isinf(x):
        largest = float(np.finfo(np.asarray(x).dtype).max)
        return given_or(posinf, largest) if x > 0 else given_or(neginf, -largest)
    return x


@overload(nan_to_num_of_scalar)
def _nan_to_num_of_scalar(x, copy=True, nan=0.0, posinf=None, neginf=None):
    largest = float(np.finfo(np.float32 if x == types.float32 else np.float64).max)

    def impl(x, copy=True, nan=0.0, posinf=None, neginf=None):
        if math.isnan(x):
            return nan
        if math.isinf(x):
            return given_or(posinf, largest) if x > 0 else given_or(neginf, -largest)
        return x

    return impl


def given_or(value, default):
    """`value`, or `default` where it is None (chosen when Numba types the call)."""
    return default if value is None else value


@overload(given_or)
def _given_or(value, default):
    if _is_none(value):
        return lambda value, default: default
    return lambda value, default: value


@register_jitable
def norm_pdf_of_scalar(x, loc=0.0, scale=1.0):
    """scipy.stats.norm.pdf of numbers, for Numba's CUDA target, which has no scalar np.exp."""
    return math.exp(norm_logpdf(x, loc, scale))


@register_jitable
def square_of_scalar(x):
    """np.square of one number, for Numba's CUDA target, which has no np.square."""
    return x * x


@register_jitable
def largest_of_all(a, sign):
    """np.max(a) (sign 1) or np.min(a) (sign -1) of an array of any rank, for Numba's CUDA
    target, which reduces none; nan wins, as in NumPy. The host sizes an empty one first."""
    extreme = a.flat[0]
    for k in range(a.size):
        value = a.flat[k]
        if value != value:
            return value
        if sign * value > sign * extreme:
            extreme = value
    return extreme


@register_jitable
def checked_index(index, length, errors):
    """`index` where it is in range for `length` (negative too); else element 0, with the kernel's
    flag `errors[0]` set, on which the host raises the example's IndexError (kinds/vmap.py)."""
    if -length <= index < length:
        return index
    errors[0] = 1
    return 0
