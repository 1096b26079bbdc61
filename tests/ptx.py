"""The PTX tier: every CUDA kernel the tests launch, compiled for real GPUs (sm_80, sm_90).

Numba's CUDA simulator runs a kernel as Python, so it accepts what NVVM rejects (a NumPy
ufunc of a scalar, a CPU-only helper, a Python object). The tier runs in two processes,
since Numba picks the simulator or the real CUDA target once, when first imported:

1. the CUDA tests run in the simulator with `S2SJAX_PTX_LOG=FILE` set; tests/conftest.py
   then calls `record`, which logs each kernel launched (its module's source, its name, the
   Numba types of its arguments) as one JSON line;
2. `python -m tests.ptx FILE` (without the simulator) compiles each logged kernel to PTX
   with `numba.cuda.compile_ptx`, which needs NVVM from the CUDA toolkit but no GPU
   (`pip install -e ".[cuda-ptx]"`), and prints the ones that fail.

tests/test_ptx.py (marker `ptx`) runs both: `python -m pytest tests/test_ptx.py -m ptx -n 0`.
"""

import hashlib
import importlib.util
import inspect
import json
import os
import sys
import tempfile
import types

import numpy as np

COMPUTE_CAPABILITIES = ((8, 0), (9, 0))


# ---- step 1: in the simulator, log each kernel launched ------------------------


def record(log_path):
    """Log every kernel that `s2sjax.kinds.vmap` launches into `log_path`, then launch it."""
    from s2sjax.kinds import vmap

    launch = vmap._launch

    def logged_launch(kernel, size, arguments):
        with open(log_path, "a") as log:
            log.write(json.dumps(_entry(kernel, arguments)) + "\n")
        return launch(kernel, size, arguments)

    vmap._launch = logged_launch


def _entry(kernel, arguments):
    function = kernel.py_func
    return {
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
        "kernel": function.__name__,
        "module": inspect.getsource(sys.modules[function.__module__]),
        "arguments": [_argument_type(a) for a in arguments],
    }


def _argument_type(value):
    """What the device sees: arrays moved there are C-contiguous, scalars keep their dtype."""
    if hasattr(value, "ndim") and value.ndim > 0:
        return ["array", np.dtype(value.dtype).name, value.ndim]
    return ["scalar", np.asarray(value).dtype.name]


# ---- step 2: without the simulator, compile each logged kernel -----------------


def compile_logged(log_path):
    """{(test, kernel, sm_XY): the error} for each logged kernel that does not compile."""
    failures = {}
    for entry in _distinct(log_path):
        signature = tuple(_numba_type(a) for a in entry["arguments"])
        for cc in COMPUTE_CAPABILITIES:
            kernel = _load(entry["module"], cc).__dict__[entry["kernel"]]
            where = (entry["test"], entry["kernel"], "sm_%d%d" % cc)
            try:
                _compile_ptx(kernel.py_func, signature, cc)
            except Exception as exc:  # NVVM's and Numba's typing errors alike
                failures[where] = f"{type(exc).__name__}: {exc}"
    return failures


def _distinct(log_path):
    """The logged entries, one per (module, kernel, argument types)."""
    seen = {}
    with open(log_path) as log:
        for line in log:
            entry = json.loads(line)
            key = (entry["module"], entry["kernel"], json.dumps(entry["arguments"]))
            seen.setdefault(key, entry)
    return list(seen.values())


def _load(source, cc):
    """The generated module, imported from a file of its own (Numba reads the source), once
    per compute capability: a device function keeps the code it compiled for the first."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    name = "s2sjax_ptx_%s_sm%d%d" % (digest, *cc)
    if name in sys.modules:
        return sys.modules[name]
    path = os.path.join(tempfile.mkdtemp(prefix="s2sjax-ptx-"), name + ".py")
    with open(path, "w") as file:
        file.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _numba_type(argument):
    from numba import from_dtype
    from numba.core.types import Array

    if argument[0] == "array":
        return Array(from_dtype(np.dtype(argument[1])), argument[2], "C")
    return from_dtype(np.dtype(argument[1]))


def _compile_ptx(function, signature, cc):
    """`function`'s PTX for `cc`, and for `cc` its device functions' too.

    Numba compiles a device function, when typing its call, for the current device's compute
    capability: here there is none, so the device is one of capability `cc`.
    """
    from numba import cuda
    from numba.cuda import dispatcher

    current = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=cc)
    try:
        return cuda.compile_ptx(function, signature, cc=cc)[0]
    finally:
        dispatcher.get_current_device = current


def main(log_path):
    from numba import config

    if config.ENABLE_CUDASIM:
        sys.exit("the PTX tier compiles for real GPUs: run it without NUMBA_ENABLE_CUDASIM=1")
    kernels = len(_distinct(log_path))
    failures = compile_logged(log_path)
    for (test, kernel, sm), error in sorted(failures.items()):
        print(f"FAILED {sm} {kernel} ({test}): " + "\n    ".join(error.splitlines()[:12]))
    print(
        f"{kernels} kernels x {len(COMPUTE_CAPABILITIES)} GPUs: {len(failures)} failed to compile"
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1])
