"""Quick start: a gradient, its generated source, and a small model's loss gradient.

Run it with `python examples/quickstart.py`; see the generated code for the
loss with `python -m s2sjax show examples/quickstart.py:loss --grad --argnums 0,1`.
"""

import math

import numpy as np

import s2sjax


def f(x):
    return x * math.sin(x**2)


def loss(W, b, X, y):
    z = np.tanh(X @ W + b)  # b has shape (1, k): broadcast over the rows of X @ W
    return np.mean((z - y) ** 2)


rng = np.random.default_rng(0)
W = rng.normal(size=(4, 3))
b = rng.normal(size=(1, 3))
X = rng.normal(size=(8, 4))
y = rng.normal(size=(8, 3))

if __name__ == "__main__":
    df = s2sjax.grad(f)
    print("df(0.13) =", df(0.13))
    print("closed form:", math.sin(0.13**2) + 2 * 0.13**2 * math.cos(0.13**2))
    print()
    print(s2sjax.source(df))

    gW, gb = s2sjax.grad(loss, argnums=(0, 1))(W, b, X, y)
    value, _ = s2sjax.value_and_grad(loss)(W, b, X, y)
    print(f"loss = {value:.6f}")
    print("dloss/db =", gb)
