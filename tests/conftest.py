"""Shared test configuration.

Compiled code is cached on disk in ``<repo>/.s2sjax_cache`` (git-ignored), so a
second run of the suite loads Numba machine code instead of compiling again.
This runs before any test module imports s2sjax; an ``S2SJAX_CACHE_DIR``
already set in the environment wins.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("S2SJAX_CACHE_DIR", str(REPO_ROOT / ".s2sjax_cache"))
# target="cuda" runs in Numba's CUDA simulator unless S2SJAX_TEST_GPU=1 asks for the real device
# (Numba reads the variable when it is first imported, which is after this).
if os.environ.get("S2SJAX_TEST_GPU") != "1":
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
# The PTX tier (tests/ptx.py) logs every kernel the tests launch, to compile it for real GPUs.
if os.environ.get("S2SJAX_PTX_LOG"):
    from tests import ptx

    ptx.record(os.environ["S2SJAX_PTX_LOG"])


def seeded_rng(key: str | int = 0) -> np.random.Generator:
    """``np.random.default_rng`` seeded by an int, or by a string (e.g. a case
    name) through CRC-32, so every test draws the same numbers whatever order
    the tests run in."""
    seed = zlib.crc32(key.encode()) if isinstance(key, str) else int(key)
    return np.random.default_rng(seed)


@pytest.fixture(scope="session")
def rng_factory():
    """A factory of fresh seeded generators: ``rng_factory("case name")``."""
    return seeded_rng
