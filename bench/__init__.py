"""Benchmarks for s2sjax against hand-written Numba code (and JAX/autograd when
installed). Run from the repository root with ``python -m bench``; see
bench/README.md."""
