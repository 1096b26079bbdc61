"""device: the per-example function of a vmap as a CUDA device function.

A device function runs in one GPU thread and cannot allocate. Accepts the
optimized (fused) per-example function and its types; returns it with

- each array output written into a *destination* parameter (`dest_0`, ...),
  the kernel's slot for this example, instead of an array it allocates:
  `g = rt.zeros_like(p)` becomes `g = dest_0; g[:] = 0.0`;
- NumPy functions of scalars spelled with `math` (`np.exp(t)` -> `math.exp(t)`,
  `np.absolute(t)` -> `abs(t)`), which is what CUDA provides;
- each element read or written at an index the function computes (from the data) checked
  against the array's length (`x[rt.checked_index(k, x.shape[0], index_errors)]`): a GPU does
  not stop at an index out of range, it reads or writes other memory. The check flags the
  parameter `index_errors` (before the destinations) and reads element 0 instead; the host then
  finds the example and raises its IndexError (kinds/vmap.py);
- the decorator `@cuda.jit(device=True, debug=False)`;

and raises a TransformError at the user's line for anything else that would
allocate an array (a temporary array expression, `np.zeros`, a runtime helper).
"""

import gast
import numpy as np

from .. import rules
from .mutation import allocates
from .optimize import remove_dead
from .queries import statements
from .zerofill import zero_fill


def device_function(fdef, types, location, origins):
    """`fdef` as a device function; its array outputs become its last parameters, in order."""
    outputs = _returned(fdef)
    kept, filled = [], []
    for out in outputs:
        if types[out.id].ndim is None:
            raise _unknown_rank(fdef, out.id, location, origins)
        if types[out.id].ndim:
            filled.append(_write_to_destination(fdef, out.id, len(filled), location, origins))
        else:
            kept.append(out)
    fdef.args.args += [gast.Name(f"dest_{k}", gast.Param(), None, None) for k in range(len(filled))]
    ret = fdef.body[-1]
    ret.value = None if not kept else kept[0] if len(kept) == 1 else gast.Tuple(kept, gast.Load())
    fdef.body = remove_dead(fdef.body, set())  # the copies that led to the returned arrays
    for k, name in enumerate(filled):
        if name is not None:
            _zero(fdef, name, f"dest_{k}")
    for stmt in statements(fdef.body):
        _check_no_allocation(stmt, types, location, origins)
        _check_no_array_product(stmt, types, location, origins)
    fdef = _ScalarMath(types).visit(fdef)
    _check_computed_indexes(fdef, types)
    for stmt in statements(fdef.body):
        _check_scalar_ufuncs(stmt, types, location, origins)
    # debug=False: Numba's CUDA error model is NumPy's (inf, not ZeroDivisionError) unless debug,
    # which NUMBA_CUDA_DEBUGINFO=1 turns on by default; NumPy's, as on the CPU (backend.jit_options)
    options = [
        gast.keyword("device", gast.Constant(True, None)),
        gast.keyword("debug", gast.Constant(False, None)),
    ]
    fdef.decorator_list = [gast.Call(rules.dotted("cuda.jit"), [], options)]
    return fdef


def _returned(fdef):
    value = fdef.body[-1].value
    return list(value.elts) if isinstance(value, gast.Tuple) else [value]


def _unknown_rank(fdef, output, location, origins):
    """The error for an output whose rank s2sjax cannot tell, at the user's line that makes it."""
    stmt = _users_definition(fdef, output, origins)
    return origins.get(id(stmt), location).error(
        stmt,
        "with target='cuda' the rank of every output must be known before the kernel runs, "
        "and s2sjax cannot tell this one's",
        "give it the same rank on every path, or use target='cpu' or 'parallel', "
        "which find it as they run",
    )


def _users_definition(fdef, output, origins):
    """The statement making `output`, followed back through generated copies to the user's
    (`fdef` itself when none does: a parameter returned)."""
    definitions = _definitions(fdef)
    name = output
    while (
        name in definitions
        and isinstance(definitions[name].value, gast.Name)
        and id(definitions[name]) not in origins
    ):
        name = definitions[name].value.id
    return definitions.get(name, fdef)


def _definitions(fdef):
    """{name: the statement assigning it} of the top-level assignments of `fdef`."""
    return {
        s.targets[0].id: s
        for s in fdef.body
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
    }


def _zero(fdef, name, destination):
    """Zero the array `name` (a view of `destination`) where it is made; an array nothing writes (a
    derivative that is zero: its view was dead code) is zeroed first thing."""
    view = next(
        (
            s
            for s in fdef.body
            if isinstance(s, gast.Assign) and getattr(s.targets[0], "id", None) == name
        ),
        None,
    )
    if view is None:
        fdef.body[0:0] = zero_fill(destination, [])
        return
    position = fdef.body.index(view) + 1
    fdef.body[position:position] = zero_fill(name, fdef.body[position:])


def _write_to_destination(fdef, output, k, location, origins):
    """Replace the allocation of the array `output` (followed through copies) by `dest_k`.

    Returns the name of the array when it must start at zero.
    """
    definitions = _definitions(fdef)
    name = output
    while name in definitions and isinstance(definitions[name].value, gast.Name):
        name = definitions[name].value.id
    allocation = definitions.get(name)
    rule = rules.callee(allocation.value) if allocation is not None else None
    if rule is None or rule.allocates not in (
        "zeros",
        "unfilled",
    ):  # a destination starts as zeros or as garbage
        stmt = _users_definition(fdef, output, origins)
        raise origins.get(id(stmt), location).error(
            stmt,
            "with target='cuda' an array output must be an array the function creates "
            "(np.zeros, np.empty, np.zeros_like, ...) and fills",
            "return scalars, or fill a new array element by element",
        )
    destination = f"dest_{k}"
    position = fdef.body.index(allocation)
    view = gast.Assign(
        [gast.Name(name, gast.Store(), None, None)], gast.Name(destination, gast.Load(), None, None)
    )
    fdef.body[position] = gast.copy_location(view, allocation)
    return (
        None if rule.allocates == "unfilled" else name
    )  # the array to zero (unfilled: each element is written)


def _check_no_allocation(stmt, types, location, origins):
    if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
        return
    target = types.get(stmt.targets[0].id)
    value = stmt.value
    makes_array = (
        target is not None and target.ndim and not isinstance(value, (gast.Name, gast.Subscript))
    )
    if makes_array or allocates(value):
        called = rules.dotted_name(value.func) if allocates(value) else None
        # s2sjax's own helpers (rt.tape of np.array([... for ...])) are no code of the user's
        what = (
            f"{called}(...)" if called and not called.startswith("rt.") else "this array expression"
        )
        place = origins.get(id(stmt), location)
        raise place.error(
            stmt,
            f"{what} allocates an array, which a CUDA kernel cannot do",
            "write the computation as scalar loops (elementwise chains and sums are fused "
            "into loops for you), or use target='cpu' or 'parallel'",
        )


def _check_no_array_product(stmt, types, location, origins):
    """`a @ b` of two vectors is a scalar, but CUDA has no matrix product to compute it with."""
    for node in gast.walk(stmt):
        rule = rules.callee(node)
        if isinstance(node, gast.BinOp) and isinstance(node.op, gast.MatMult):
            operands = [node.left, node.right]
        elif rule is not None and rule.product:
            operands = node.args
        else:
            continue
        if any(
            isinstance(o, gast.Name) and getattr(types.get(o.id), "ndim", 0) != 0 for o in operands
        ):
            place = origins.get(id(stmt), location)
            raise place.error(
                stmt,
                "a CUDA kernel cannot compute a matrix or vector product ('@', np.dot, np.matmul)",
                "write it as a sum of products (np.sum(a * b) is fused into a "
                "loop), or use target='cpu' or 'parallel'",
            )


# The NumPy ufuncs Numba's CUDA target computes on scalars (numba-cuda 0.30's ufunc_db): the
# simulator runs any, NVVM only these (the PTX tier, tests/test_ptx.py, finds the others).
CUDA_SCALAR_UFUNCS = frozenset(
    "arccos arccosh arcsin arcsinh arctan arctan2 arctanh bitwise_and bitwise_or bitwise_xor "
    "conjugate cos cosh deg2rad degrees divide equal fmax fmin greater greater_equal hypot "
    "invert isnan left_shift less less_equal log log10 log2 logical_and logical_not logical_or "
    "logical_xor maximum minimum not_equal rad2deg radians right_shift sin sinh tan tanh".split()
)


def _check_scalar_ufuncs(stmt, types, location, origins):
    """A NumPy ufunc of scalars left without a `math` or CUDA spelling, which NVVM lacks."""
    scalar = _ScalarMath(types)._scalar
    for node in gast.walk(stmt):
        rule = rules.callee(node)
        if rule is None or not rule.name.startswith("np."):
            continue
        ufunc = getattr(np, rule.name[3:], None)
        if (
            isinstance(ufunc, np.ufunc)
            and ufunc.__name__ not in CUDA_SCALAR_UFUNCS
            and all(scalar(a) for a in node.args)
        ):
            raise origins.get(id(stmt), location).error(
                stmt,
                f"{rule.name} of a number is a NumPy function a CUDA kernel cannot compute "
                "(Numba's CUDA target has no implementation of it)",
                "use target='cpu' or 'parallel'",
            )


# A reduction of one number is that number; Numba's CUDA target reduces only arrays, and of them
# not np.max or np.min (a runtime helper's loop; sign 1 for max, -1 for min).
REDUCTIONS_OF_ALL = frozenset(("np.sum", "np.mean", "np.prod", "np.max", "np.min"))
EXTREMES = {"np.max": 1, "np.min": -1}


class _ScalarMath(gast.NodeTransformer):
    """`np.f(scalars)` -> `math.f(scalars)` (or a builtin, or a helper); `np.max(number)` ->
    `number`, `np.max(array)` -> `rt.largest_of_all(array, 1)`.

    CUDA has math, not NumPy, for scalars.
    """

    def __init__(self, types):
        self.types = types

    def visit_Call(self, node):
        self.generic_visit(node)
        rule = rules.callee(node)
        if rule is not None and rule.name in REDUCTIONS_OF_ALL and self._of_one(node):
            if self._scalar(node.args[0]):
                return node.args[0]
            if rule.name in EXTREMES:
                return gast.Call(
                    rules.dotted("rt.largest_of_all"),
                    [node.args[0], gast.Constant(EXTREMES[rule.name], None)],
                    [],
                )
        spelling = None if rule is None else rule.cuda or rule.math
        if spelling and all(self._scalar(a) for a in node.args):
            node.func = rules.dotted(spelling)
        return node

    @staticmethod
    def _of_one(node):
        return len(node.args) == 1 and not node.keywords

    def _scalar(self, node):
        if isinstance(node, gast.Constant):
            return True
        if isinstance(node, gast.Subscript):  # an element, in a fused loop (`x[i % len]` too)
            array = self.types.get(getattr(node.value, "id", None))
            index = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
            return (
                array is not None
                and array.ndim == len(index)
                and not any(isinstance(i, gast.Slice) or not self._scalar_index(i) for i in index)
            )
        if isinstance(node, gast.Name):  # names fusion made (`t1_i`) are scalars, and have no type
            t = self.types.get(node.id)
            return t is None or t.ndim == 0
        return False

    def _scalar_index(self, node):
        """An index that picks one element: a number, or arithmetic on numbers (`i % n`)."""
        if isinstance(node, gast.BinOp):
            return self._scalar_index(node.left) and self._scalar_index(node.right)
        if isinstance(node, gast.Attribute):  # `x.shape[0]`'s `x.shape`
            return False
        if isinstance(node, gast.Subscript):  # `x.shape[0]`
            return isinstance(node.value, gast.Attribute) and node.value.attr == "shape"
        return self._scalar(node)


# the device function's and the kernel's flag of an index out of range
INDEX_ERRORS = "index_errors"


def _check_computed_indexes(fdef, types):
    """Check each index that is a number the function computes or is given, not a loop's
    counter (the loops s2sjax writes run over the arrays' own lengths; a shape error is raised on
    the host by example 0)."""
    counters = {
        node.target.id
        for node in gast.walk(fdef)
        if isinstance(node, gast.For) and isinstance(node.target, gast.Name)
    }
    checks = _IndexChecks(types, counters)
    checks.visit(fdef)
    if checks.found:
        first_destination = next(
            (k for k, a in enumerate(fdef.args.args) if a.id.startswith("dest_")),
            len(fdef.args.args),
        )
        flag = gast.Name(INDEX_ERRORS, gast.Param(), None, None)
        fdef.args.args.insert(first_destination, flag)


class _IndexChecks(gast.NodeTransformer):
    """`x[k]` -> `x[rt.checked_index(k, x.shape[0], index_errors)]` for a number `k`."""

    def __init__(self, types, counters):
        self.types, self.counters, self.found = types, counters, False

    def visit_Subscript(self, node):
        self.generic_visit(node)
        array = self.types.get(getattr(node.value, "id", None))
        if array is None or not array.ndim:
            return node
        index = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        checked = [self._checked(node.value.id, d, i) for d, i in enumerate(index)]
        node.slice = gast.Tuple(checked, gast.Load()) if len(checked) > 1 else checked[0]
        return node

    def _checked(self, array, dimension, index):
        number = self.types.get(getattr(index, "id", None))
        if number is None or number.ndim != 0 or number.kind != "int" or index.id in self.counters:
            return index
        self.found = True
        length = gast.Subscript(
            gast.Attribute(gast.Name(array, gast.Load(), None, None), "shape", gast.Load()),
            gast.Constant(dimension, None),
            gast.Load(),
        )
        flag = gast.Name(INDEX_ERRORS, gast.Load(), None, None)
        return gast.Call(rules.dotted("rt.checked_index"), [index, length, flag], [])
