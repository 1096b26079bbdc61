"""Seed 004's JAX overview, ported literally: only the import lines and the `jax.`/`jnp.`
prefixes changed (`jax.random` and `jax.nn` come from examples/jax_stand_ins.py, NumPy's
generator behind JAX's keys). Cells that show JAX-only behaviour are left out, each with a
comment saying why.

Run it with `python examples/seed_004_literal.py`; `tests/test_seed_literal.py` checks its
numbers against the closed forms the tutorial states and finite differences.
"""

from __future__ import annotations  # the tutorial's `key: jnp.random.key` is never evaluated

import numpy as np
from typing import List, Tuple

import s2sjax
from jax_stand_ins import nn, random


# fmt: off
# left out: the first block's `arr + brr` (shapes (3,) and (10,): an error in JAX as in NumPy),
# arr.devices(), jax.device_get/device_put (device placement), `arr.at[:-1].set(...)`
# (JAX's immutable arrays) and jax.lax.dot: JAX-only

def my_function(x):
  return x**2 + 2*x
grad_fn = s2sjax.grad(my_function)  # Get the gradient function
x = 3.0
gradient = grad_fn(x)  # Calculate the gradient at x = 3

print(f"Gradient of my_function at x = {x}: {gradient}")  # Output: 8.0

@s2sjax.jit
def my_function(x):
  return x**2 + 2*x


@s2sjax.jit
def my_function(x, constant):
  return x + constant

x_array = np.arange(4).reshape(2, 2)

# Apply my_function with 'constant' as a static argument
results = my_function(x_array, 5)

print(results)  # Output: [[ 5  6] [ 7  8]]

def my_function(x):
  global counter  # Accessing a global variable
  counter += 1
  return x**2 + 2*x

counter = 0

def my_function(x):
  return x**2 + 2*x

x_array = np.array([1, 2, 3])

# Apply my_function to each element of x_array
results = s2sjax.vmap(my_function)(x_array)

print(results)  # Output: [3, 8, 15]


# Applying vectorization over paricular axis
def my_function(x, y):
  return x * y

x_array = np.arange(4).reshape(2, 2)
y_array = np.arange(4, 8).reshape(2, 2)

# Apply my_function along the first axis (axis=0) of both arrays
results = s2sjax.vmap(my_function, in_axes=(0, 0))(x_array, y_array)

print(results)  # Output: [[ 0  4] [12 20]]

try:
    @s2sjax.pmap
    def my_function(x):
      return x**2 + 2*x
except AttributeError as error:  # s2sjax has no pmap: its hint names vmap(target="parallel")
    print("AttributeError:", error)

np.random.seed(0) # set seed globally
print("individually:", np.stack([np.random.uniform() for _ in range(3)]))
# individually: [0.5488135  0.71518937 0.60276338]


np.random.seed(0) # reset seed globally again
print("all at once: ", np.random.uniform(size=3))
# all at once:  [0.5488135  0.71518937 0.60276338]

# left out: the cells on JAX's keys (random.key, random.split), whose point is how JAX's
# generator differs from NumPy's

def get_params(f_in: int, f_out: int, key:np.random.key) -> Tuple[np.ndarray, np.ndarray]:
    subkeys = random.split(key, 2)
    weights = random.normal(subkeys[0], (f_in, f_out))
    bias = random.normal(subkeys[1], (1, f_out))
    return weights, bias

def layer(params: Tuple[np.ndarray, np.ndarray], x: np.ndarray) -> np.ndarray:
    w, b = params
    return nn.relu(np.dot(x, w) + b)

def forward_pass(params: List[Tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    for layer_params in params:
        x = layer(layer_params, x)
    return x

def loss_fn(params: List[Tuple[np.ndarray, np.ndarray]], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    preds = forward_pass(params, x)
    return np.mean(np.square(preds - y))

def build_model(layer_sizes: List[int], seed: int = 42) -> List[Tuple[np.ndarray, np.ndarray]]:
    key = random.PRNGKey(seed)
    keys = random.split(key, num=len(layer_sizes) - 1)
    params = [get_params(f_in, f_out, key) for f_in, f_out, key in zip(layer_sizes[:-1], layer_sizes[1:], keys)]
    return params

# Example layer sizes and dummy data
layer_sizes = [728, 100, 10]
model = build_model(layer_sizes)

x = random.normal(random.PRNGKey(0), (32, 728))
y = random.normal(random.PRNGKey(1), (32, 10))

# Training loop
lr = 1e-3
for epoch in range(100):
    loss, grads = s2sjax.value_and_grad(loss_fn)(model, x, y)

    # Update parameters
    model = [(w - lr * dw, b - lr * db) for (w, b), (dw, db) in zip(model, grads)]

    print(f"Epoch {epoch + 1}: Loss = {loss}")
# fmt: on
