"""The seed tutorials' training loops: parameters in containers, updated with tree_map.

Run it with `python examples/seed_training.py`. Each function below returns the numbers
its section prints; `tests/test_examples.py` checks them.
"""

import math

import numpy as np

import s2sjax


def indexed(x):
    return x[0] - 2 * math.cos(x[1]) + 4 * x[2] * x[2]


def gradients_of_containers():
    """The gradient of x[0] - 2cos(x[1]) + 4x[2]² has the argument's type: tuple, list; a dict
    without the keys 0, 1, 2 gets the function's own KeyError."""
    point = (1.0, math.pi / 2, -1.0)
    as_tuple = s2sjax.grad(indexed)(point)
    as_list = s2sjax.grad(indexed)(list(point))
    try:
        s2sjax.grad(indexed)({"a": 1.0, "b": math.pi / 2, "c": -1.0})
    except KeyError as error:
        return as_tuple, as_list, error
    raise AssertionError("a dict without the key 0 must raise KeyError")


# ---- seed 002: SGD for a linear model ---------------------------------------------------


def linear_model(params, x):
    return params[0] * x + params[1]


def linear_loss(params, x, y):
    return np.mean((y - linear_model(params, x)) ** 2)


def linear_regression(steps=200, batch_size=10, lr=0.1, seed=1):
    """SGD on y = 5x + 2 + noise with random mini-batches; params is a tuple (w, b)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-2.0, 2.0, batch_size * 10)
    y = 5 * x + 2 + 0.001 * rng.normal(size=x.shape)
    grad_loss = s2sjax.grad(linear_loss)
    params = (0.0, 1.0)
    for _ in range(steps):
        batch = rng.choice(x.size, batch_size)
        grads = grad_loss(params, x[batch], y[batch])
        params = s2sjax.tree_map(lambda p, g: p - lr * g, params, grads)
    return params


# ---- seed 004: an MLP whose parameters are a list of (w, b) tuples -----------------------

LAYERS = (728, 100, 10)


def init_mlp(sizes, rng):
    return [(rng.normal(0.0, n**-0.5, (n, m)), np.zeros(m)) for n, m in zip(sizes[:-1], sizes[1:])]


def mlp(params, x):
    for w, b in params[:-1]:
        x = np.maximum(x @ w + b, 0.0)  # ReLU
    w, b = params[-1]
    return x @ w + b


def mlp_loss(params, x, y):
    return np.mean((mlp(params, x) - y) ** 2)


def train_mlp(epochs=100, batch=32, lr=0.05, seed=4):
    """value_and_grad(mlp_loss)(params, x, y) on one batch, `epochs` updates; the losses."""
    rng = np.random.default_rng(seed)
    params = init_mlp(LAYERS, rng)
    x, y = rng.uniform(0.0, 1.0, (batch, LAYERS[0])), rng.uniform(0.0, 1.0, (batch, LAYERS[-1]))
    loss_and_grad = s2sjax.value_and_grad(mlp_loss)
    losses = []
    for _ in range(epochs):
        loss, grads = loss_and_grad(params, x, y)
        params = s2sjax.tree_map(lambda p, g: p - lr * g, params, grads)
        losses.append(float(loss))
    return losses, params, x, y


def main():
    as_tuple, as_list, error = gradients_of_containers()
    print("gradient at the tuple (1, π/2, -1):", as_tuple)
    print("gradient at the list  [1, π/2, -1]:", as_list)
    print(f"at a dict with other keys: KeyError: {error}")
    w, b = linear_regression()
    print(f"SGD on y = 5x + 2: params = ({w:.4f}, {b:.4f})")
    losses, *_ = train_mlp()
    print(
        f"MLP {'-'.join(map(str, LAYERS))}: loss {losses[0]:.4f} at epoch 1, "
        f"{losses[-1]:.4f} at epoch {len(losses)}"
    )


if __name__ == "__main__":
    main()
