"""Seed 001's first JAX tutorial, ported literally: only the import lines and the `jax.`/`jnp.`
prefixes changed. Cells that show JAX-only behaviour are left out, each with a comment saying
why.

Run it with `python examples/seed_001_literal.py`; `tests/test_seed_literal.py` checks its
numbers against the closed forms the tutorial states.
"""

import s2sjax
import numpy as np


# fmt: off
# We will create two arrays, one with numpy and other with jax
# to check the common things and the differences

array_numpy = np.arange(10, dtype=np.int32)
array_jax = np.arange(10, dtype=np.int32)

print("Array created using numpy: ", array_numpy)
print("Array created using JAX: ", array_jax)

# What types of array are these?
print(f"array_numpy is of type : {type(array_numpy)}")
print(f"array_jax is of type : {type(array_jax)}")

# Find the max element. Similarly you can find `min` as well
print(f"Maximum element in ndarray: {array_numpy.max()}")
print(f"Maximum element in DeviceArray: {array_jax.max()}")

# Reshaping
print("Original shape of ndarray: ", array_numpy.shape)
print("Original shape of DeviceArray: ", array_jax.shape)

array_numpy = array_numpy.reshape(-1, 1)
array_jax = array_jax.reshape(-1, 1)

print("\nNew shape of ndarray: ", array_numpy.shape)
print("New shape of DeviceArray: ", array_jax.shape)

# Absoulte pairwise difference
print("Absoulte pairwise difference in ndarray")
print(np.abs(array_numpy - array_numpy.T))

print("\nAbsoulte pairwise difference in DeviceArray")
print(np.abs(array_jax - array_jax.T))

# Are they equal?
print("\nAre all the values same?", end=" ")
# left out: jnp.alltrue, which NumPy 2 removed (np.all is its name now)
print(np.all(np.abs(array_numpy - array_numpy.T) == np.abs(array_jax - array_jax.T)))

# Matrix multiplication
print("Matrix multiplication of ndarray")
print(np.dot(array_numpy, array_numpy.T))

print("\nMatrix multiplication of DeviceArray")
print(np.dot(array_jax, array_jax.T))

# left out: the cells on immutability (`array2[4] = 10`, `.at[4].set(10)`, jax.ops.index_add),
# asynchronous dispatch (`block_until_ready` on 8000 x 8000 products) and JAX's dtype promotion
# (`jnp.int8(32) + 4`, jax.random.randint): JAX-only behaviour, NumPy's differs by design

def squared(x):
    return x**2

x = 4.0
y = squared(x)

dydx = s2sjax.grad(squared)
print("First order gradients of y wrt x: ", dydx(x))
print("Second order gradients of y wrt x: ", s2sjax.grad(dydx)(x))
# fmt: on
