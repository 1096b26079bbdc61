"""The PTX tier (marker `ptx`, deselected by default): every kernel the CUDA tests launch in the
simulator compiles for real GPUs, sm_80 and sm_90, without a GPU (tests/ptx.py says how).

    pip install -e ".[test,cuda-ptx]" && python -m pytest tests/test_ptx.py -m ptx -n 0
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ptx

REPO_ROOT = Path(__file__).resolve().parent.parent
# the tests that launch CUDA kernels, and the selection (-k) of those that do
CUDA_TESTS = ["tests/test_cuda.py", "tests/test_vmap_transformations.py", "tests/test_sweep.py"]


def _run(command, **env):
    return subprocess.run(
        [sys.executable, *command],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


def _compile(log):
    """`python -m tests.ptx log` without the simulator."""
    return _run(["-m", "tests.ptx", str(log)], NUMBA_ENABLE_CUDASIM="0")


def test_every_kernel_the_cuda_tests_launch_compiles_for_sm80_and_sm90(tmp_path):
    log = tmp_path / "kernels.jsonl"
    tests = _run(
        ["-m", "pytest", *CUDA_TESTS, "-k", "cuda", "-n", "0", "-q", "-p", "no:cacheprovider"],
        NUMBA_ENABLE_CUDASIM="1",
        S2SJAX_PTX_LOG=str(log),
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert len(log.read_text().splitlines()) >= 20  # the simulator launched them
    compiled = _compile(log)
    assert compiled.returncode == 0, compiled.stdout[-5000:] + compiled.stderr[-3000:]
    assert " 0 failed to compile" in compiled.stdout


BAD_KERNEL = """\
import numpy as np
from numba import cuda


@cuda.jit(debug=False)
def exp_kernel(x, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = np.exp(x[i])  # the simulator runs it; Numba's CUDA target has no scalar np.exp
"""


def test_the_tier_fails_on_a_kernel_only_the_simulator_runs(tmp_path):
    log = tmp_path / "kernels.jsonl"
    entry = {
        "test": "by hand",
        "kernel": "exp_kernel",
        "module": BAD_KERNEL,
        "arguments": [["array", "float64", 1], ["array", "float64", 1]],
    }
    log.write_text(json.dumps(entry) + "\n")
    compiled = _compile(log)
    assert compiled.returncode == 1
    assert "FAILED sm_80 exp_kernel (by hand)" in compiled.stdout
    assert "FAILED sm_90 exp_kernel (by hand)" in compiled.stdout
