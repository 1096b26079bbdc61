"""Runtime helpers that generated code calls as `rt.name(...)`.

Each helper is a plain NumPy function, which is what `target="python"` runs,
followed by its Numba `overload`, which picks an implementation from the
argument types (scalar or array, axis None or an integer): what compiled code
runs. Where one body serves both, it is a `register_jitable` function. Adjoint
helpers return new arrays, never views of their inputs.
"""

import math

import numpy as np
import numba
from numba import types
from numba.extending import overload, register_jitable


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
    """The adjoint of `np.prod(a, axis)`: `g` times the product of the *other* entries (zeros safe)."""
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
    others = before * after
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
    return np.reshape(np.ascontiguousarray(g), np.shape(a))


@overload(reshape_like)
def _reshape_like(g, a):
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


# left where no return in the loop survives (a constant flag pruned it): never read
@register_jitable
def unset():
    """What `.ret` holds before a loop that may return; lower replaces it by a value of its type."""
    return None


def scatter_add(index, values, like):
    """Zeros shaped like `like` with `values` added at `index`, an array of indices (a repeated
    index accumulates) or a mask shaped like `like`: the adjoint of `like[index]`."""
    out = np.zeros(np.shape(like), dtype=_float_dtype(like))
    np.add.at(out, index, values)
    return out


@overload(scatter_add)
def _scatter_add(index, values, like):
    if isinstance(index.dtype, types.Boolean):
        return _scatter_add_masked
    if like.ndim == 1:
        return _scatter_add_elements
    return _scatter_add_rows


def _scatter_add_masked(index, values, like):
    out = np.zeros(like.shape, dtype=like.dtype)
    flat, mask = out.reshape(out.size), index.ravel()
    taken = 0
    for i in range(mask.size):
        if mask[i]:
            flat[i] += values[taken]
            taken += 1
    return out


def _scatter_add_elements(index, values, like):
    out = np.zeros(like.shape, dtype=like.dtype)
    indices, flat_values = index.ravel(), np.ascontiguousarray(values).ravel()
    for k in range(indices.size):
        out[indices[k]] += flat_values[k]
    return out


def _scatter_add_rows(index, values, like):
    out = np.zeros(like.shape, dtype=like.dtype)
    indices = index.ravel()
    rows = np.ascontiguousarray(values).reshape((indices.size,) + like.shape[1:])
    for k in range(indices.size):
        out[indices[k]] += rows[k]
    return out


def empty_float(length, arrays):
    """A new float array of `length` in the widest float dtype of `arrays` (a fused loop's result:
    NumPy would compute it in that dtype, so float32 inputs give float32)."""
    return np.empty(length, dtype=np.result_type(*(a.dtype for a in arrays)))


@overload(empty_float)
def _empty_float(length, arrays):
    dtype = np.result_type(*(np.dtype(t.dtype.name) for t in arrays))
    return lambda length, arrays: np.empty(length, dtype=dtype)


def stacked_shape(lengths, leaf):
    """The shape of `np.array` of nested lists of `lengths` whose elements are shaped like `leaf`."""
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
def broadcast_length(lengths):
    """The length NumPy broadcasts arrays of `lengths` to (a fused loop's), or NumPy's error."""
    common = 1
    for n in lengths:
        if n != 1 and common != 1 and n != common:
            raise ValueError("operands could not be broadcast together")
        if n != 1:
            common = n
    return common


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


@register_jitable
def to_triangle(x, UPLO):
    """The adjoint of `from_triangle`: `x + x^T` on the triangle read, `x`'s own diagonal."""
    both = x + x.T
    out = np.tril(both) if UPLO == "L" else np.triu(both)
    for i in range(min(x.shape[0], x.shape[1])):
        out[i, i] = x[i, i]
    return out


@register_jitable
def tril_halved(x):
    """The lower triangle of `x`, its diagonal halved."""
    out = np.tril(x)
    for i in range(min(x.shape[0], x.shape[1])):
        out[i, i] *= 0.5
    return out


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
