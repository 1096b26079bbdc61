"""Stand-ins for the two JAX modules that the seed tutorials call and s2sjax leaves to NumPy:
`jax.random` (keys, drawn from NumPy's generator seeded by the key) and `jax.nn.relu` (a plain
function that s2sjax inlines). The literal ports import them in place of `jax.random`, `jax.nn`.
"""

import types

import numpy as np


def _key(seed):
    return int(seed)


def _split(key, num=2):
    return np.random.default_rng(key).integers(2**31, size=num)


def _normal(key, shape=()):
    return np.random.default_rng(key).normal(size=shape)


def relu(x):
    return np.maximum(x, 0.0)


random = types.SimpleNamespace(PRNGKey=_key, key=_key, split=_split, normal=_normal)
nn = types.SimpleNamespace(relu=relu)
