"""Transformed functions called from the user's own `@numba.njit` code.

```python
dU = s2sjax.grad(potential)

@numba.njit
def md_step(x, v, dt):
    for _ in range(1000):
        v -= dt * dU(x)  # a compiled call into the generated gradient
        x += dt * v
    return x, v
```

To Numba, a `Transformed` (a global or a closure variable of the njit
function) is a function overloaded by its argument types: for each Numba
signature, s2sjax generates the code for arguments of those types, as a call
from Python would, and the call goes straight to its compiled dispatcher. Only
code that takes the user's arguments as they are and returns its results as
they are can be called so; the others (a float32
gradient converted back, globals read at each call, lists and dicts) are
refused where Numba types the call, saying why.
"""

import numpy as np
from numba.core import errors, types
from numba.core.registry import cpu_target
from numba.extending import overload, typeof_impl

from .transformed import Transformed

_STUBS = {}  # id(transformed) -> (transformed, the stub Numba overloads for it)


@typeof_impl.register(Transformed)
def _typeof_transformed(transformed, context):
    stub = _stub(transformed)
    typing_context = cpu_target.typing_context
    typing_context.refresh()  # sees the overload of a stub made since its last refresh
    return typing_context.resolve_value_type(stub)


def _stub(transformed):
    """A Python function with `transformed`'s parameters, overloaded for Numba by its code."""
    if id(transformed) not in _STUBS:
        params = ", ".join(transformed.param_names)
        namespace = {
            "implementation": lambda *numba_types: _implementation(transformed, numba_types)
        }
        # Numba wants the stub, the typing function and the implementation to have one signature
        source = (
            f"def stub({params}):\n    raise NotImplementedError\n\n"
            f"def typing({params}):\n    return implementation({params})\n"
        )
        where = f"<s2sjax: {transformed!r} called from Numba>"
        exec(compile(source, where, "exec"), namespace)  # noqa: S102
        stub = namespace["stub"]
        stub.__qualname__ = stub.__name__ = f"{transformed.__name__}_from_numba"
        overload(stub, prefer_literal=False)(namespace["typing"])
        _STUBS[id(transformed)] = (transformed, stub)
    return _STUBS[id(transformed)][1]


def _implementation(transformed, numba_types):
    """A function calling the compiled code generated for arguments of `numba_types`."""
    if transformed.target == "cuda":
        raise errors.TypingError(
            f"{transformed!r} cannot be called from @numba.njit code: its target is cuda"
        )
    examples = tuple(_example(t, transformed) for t in numba_types)
    entry = transformed.specialization(examples)
    dispatcher = entry.dispatchers.get("call")
    why_not = "is not compiled (target python)" if dispatcher is None else _why_not_direct(entry)
    if why_not:
        raise errors.TypingError(
            f"{transformed!r} for ({', '.join(map(str, numba_types))}) cannot be called from "
            f"@numba.njit code: its generated code {why_not}"
        )
    params = ", ".join(transformed.param_names)
    namespace = {"compiled": dispatcher}
    exec(f"def call({params}):\n    return compiled({params})\n", namespace)  # noqa: S102
    return namespace["call"]


def _example(numba_type, transformed):
    """A Python value of `numba_type`, which picks the generated code as the value would."""
    if isinstance(numba_type, types.Array):
        return np.ones((2,) * numba_type.ndim, dtype=numba_type.dtype.name)
    if isinstance(numba_type, types.BaseTuple):
        return tuple(_example(t, transformed) for t in numba_type)
    if isinstance(numba_type, types.Boolean):
        return True
    if isinstance(numba_type, types.Integer):
        return 1
    if isinstance(numba_type, types.Float):
        return 1.0 if numba_type.bitwidth == 64 else np.float32(1.0)
    raise errors.TypingError(
        f"{transformed!r} cannot be called from @numba.njit code with an argument of type "
        f"{numba_type}: pass floats, ints, bools, arrays or tuples of them"
    )


def _why_not_direct(entry):
    """Why the code is not called with the user's arguments as they are and its results given
    as they are (None: it is). What the code assumes of globals is not checked again: the njit
    caller keeps the code it compiled, as Numba keeps the globals it read."""
    if entry.hidden or entry.captured:
        return "reads arrays from globals or closures at each call; pass them as arguments"
    if any(entry.convert):
        return "converts its results to the arguments' dtypes (float32); pass float64"
    if entry.output_tree or entry.code_tree or entry.inner:
        return "returns lists or dicts, or rebuilds its results; return arrays or tuples"
    if entry.zero_d or entry.static:
        return "takes 0-d arrays or static arguments; pass floats, arrays of rank >= 1"
    return None
