"""The functions of the documentation's gallery (docs/gallery.md, written by docs/generate.py).

Each is differentiated or batched there, and the generated code is shown as s2sjax writes it.
"""

import math

import numpy as np

import s2sjax


def damped(x, k, steps):
    """An explicit Euler integration: a loop whose gradient needs a tape."""
    for _ in range(steps):
        x = x + 0.01 * (-k * x + math.sin(x))
    return x


def first_above(xs, level):
    """A loop that stops early: a `while` with `break` under reverse mode."""
    total = 0.0
    i = 0
    while i < xs.shape[0]:
        if xs[i] > level:
            break
        total = total + xs[i] * xs[i]
        i += 1
    return total


def mlp_loss(params, x, y):
    """A list of (w, b) layers: the container is unrolled, the leaves are the arguments."""
    for w, b in params[:-1]:
        x = np.maximum(x @ w + b, 0.0)
    w, b = params[-1]
    return np.mean((x @ w + b - y) ** 2)


def l1(x, y):
    return np.sum(np.abs(x - y))


def logsumexp(x):
    top = np.max(x)
    return top + np.log(np.sum(np.exp(x - top)))


s2sjax.extend.defvjp(logsumexp, lambda g, out, x: g * np.exp(x - out))


def log_likelihood(x, w):
    """Calls a function with a custom rule: generated code calls it and its rule."""
    return logsumexp(x * w) - np.sum(x * w) / x.shape[0]


def softplus_sum(x):
    """Elementwise chains over one array: fused into one loop on the compiled targets."""
    return np.sum(np.log1p(np.exp(x)) * x)
