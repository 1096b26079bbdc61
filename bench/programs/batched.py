"""JAX's examples (jax-ml/jax, examples/): vmap inside the differentiated function, and
per-example gradients. `vmap` is s2sjax's here and JAX's when JAX runs the same code; autograd
has no vmap."""

import numpy as np

import s2sjax
from bench.programs import Program

RNG = np.random.default_rng
JAX_EXAMPLES = "jax-ml/jax, examples"
vmap = s2sjax.vmap

# --- examples/kernel_lsq.py --------------------------------------------------------------


def rbf_kernel(x, y):
    return np.exp(-np.sum((x - y) ** 2))


def gram(kernel, xs):
    return vmap(lambda x: vmap(lambda y: kernel(x, y))(xs))(xs)


def kernel_lsq(v, xs, ys):
    """kernel_lsq.py's regularized least squares objective in the coefficients v, its Gram
    matrix built by a nested vmap of lambdas: 200 points in 3 dimensions."""
    gram_mat = gram(rbf_kernel, xs)
    risk = 0.5 * np.sum((np.dot(gram_mat, v) - ys) ** 2.0)
    reg = 0.01 * np.sum(v**2.0)
    return risk + reg


def kernel_data(n, dims):
    rng = RNG(13)
    xs = rng.normal(size=(n, dims))
    return 0.1 * rng.normal(size=n), xs, np.sin(xs[:, 0])


# --- examples/differentially_private_sgd.py ----------------------------------------------


def logsumexp_1d(x):
    top = np.max(x)
    return top + np.log(np.sum(np.exp(x - top)))


def example_loss(params, x, y):
    """The loss of one example: differentially_private_sgd.py takes its gradient per example
    (vmap of grad) before clipping. Here a 64-32-10 tanh net with parameters in a tuple, a
    batch of 256."""
    w1, b1, w2, b2 = params
    logits = np.dot(np.tanh(np.dot(x, w1) + b1), w2) + b2
    return -np.sum(y * (logits - logsumexp_1d(logits)))


def private_batch(batch):
    rng = RNG(14)
    params = (
        0.3 * rng.normal(size=(64, 32)),
        0.1 * rng.normal(size=32),
        0.3 * rng.normal(size=(32, 10)),
        0.1 * rng.normal(size=10),
    )
    return params, rng.normal(size=(batch, 64)), np.eye(10)[rng.integers(0, 10, batch)]


NO_VMAP = "autograd has no vmap"
PROGRAMS = [
    Program(
        "kernel least squares, nested vmap",
        f"{JAX_EXAMPLES}/kernel_lsq.py",
        kernel_lsq,
        lambda tiny: kernel_data(4 if tiny else 200, 3),
        autograd=NO_VMAP,
    ),
    Program(
        "per-example gradients (DP-SGD)",
        f"{JAX_EXAMPLES}/differentially_private_sgd.py",
        example_loss,
        lambda tiny: private_batch(3 if tiny else 256),
        autograd="a Python loop over examples would time the loop, not autograd",
        per_example=True,
    ),
]
