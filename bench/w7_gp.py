"""W7: value_and_grad of a Gaussian process's negative log marginal likelihood, n = 500.

A workload of linear algebra and einsum, as other projects' GP examples write it: a squared-
exponential kernel from pairwise distances (einsum for the squared norms), its Cholesky factor
for the log determinant, a solve for the data fit. Differentiated in the three log
hyperparameters. Peers: JAX (`jax.jit(jax.value_and_grad)`, float64) and autograd; the baseline
is NumPy's own evaluation of the value and the gradient written out by hand.
"""

import numpy as np

import s2sjax
from bench.report import Target, WorkloadResult, than_jax
from bench.timing import check_then_measure

N, DIMS = 500, 3
REPEATS = 21


def gp_nll(log_params, x, y):
    lengthscale, variance, noise = (
        np.exp(log_params[0]),
        np.exp(log_params[1]),
        np.exp(log_params[2]),
    )
    norms = np.einsum("ij,ij->i", x, x)
    distances = norms[:, None] + norms[None, :] - 2.0 * (x @ x.T)
    kernel = variance * np.exp(-0.5 * distances / lengthscale**2) + noise * np.eye(x.shape[0])
    factor = np.linalg.cholesky(kernel)
    alpha = np.linalg.solve(kernel, y)
    return 0.5 * (y @ alpha) + np.sum(np.log(np.diag(factor))) + 0.5 * y.size * np.log(2 * np.pi)


def value_and_grad_by_hand(log_params, x, y):
    """NumPy: the value, and d/dθ = 0.5 tr((K⁻¹ - α αᵀ) dK/dθ) for each log hyperparameter."""
    lengthscale, variance, noise = np.exp(log_params)
    norms = np.einsum("ij,ij->i", x, x)
    distances = norms[:, None] + norms[None, :] - 2.0 * (x @ x.T)
    shape = np.exp(-0.5 * distances / lengthscale**2)
    kernel = variance * shape + noise * np.eye(len(x))
    factor = np.linalg.cholesky(kernel)
    inverse = np.linalg.inv(kernel)
    alpha = inverse @ y
    value = 0.5 * (y @ alpha) + np.sum(np.log(np.diag(factor))) + 0.5 * y.size * np.log(2 * np.pi)
    inner = inverse - np.outer(alpha, alpha)
    derivatives = (
        variance * shape * distances / lengthscale**2,  # dK/d log lengthscale
        variance * shape,  # dK/d log variance
        noise * np.eye(len(x)),  # dK/d log noise
    )
    return value, np.array([0.5 * np.sum(inner * d) for d in derivatives])


def make_inputs():
    rng = np.random.default_rng(7)
    x = rng.uniform(-2, 2, (N, DIMS))
    y = np.sin(x @ np.array([1.0, -0.5, 0.3])) + 0.1 * rng.normal(size=N)
    return np.log(np.array([0.8, 1.2, 0.05])), x, y


def flat(value_and_grads):
    value, grads = value_and_grads
    return np.concatenate([[value], np.ravel(grads)])


def run(jax, autograd):
    args = make_inputs()
    expected = flat(value_and_grad_by_hand(*args))
    entries = [
        ("s2sjax.value_and_grad", s2sjax.value_and_grad(gp_nll), args),
        ("NumPy, gradient by hand", value_and_grad_by_hand, args),
    ]
    if jax is not None:
        jnp = jax.numpy

        def jax_nll(log_params, x, y):
            lengthscale, variance, noise = jnp.exp(log_params)
            norms = jnp.einsum("ij,ij->i", x, x)
            distances = norms[:, None] + norms[None, :] - 2.0 * (x @ x.T)
            kernel = variance * jnp.exp(-0.5 * distances / lengthscale**2)
            kernel = kernel + noise * jnp.eye(x.shape[0])
            factor = jnp.linalg.cholesky(kernel)
            alpha = jnp.linalg.solve(kernel, y)
            log_det = jnp.sum(jnp.log(jnp.diag(factor)))
            return 0.5 * (y @ alpha) + log_det + 0.5 * y.size * jnp.log(2 * jnp.pi)

        compiled = jax.jit(jax.value_and_grad(jax_nll))
        entries.append(
            (
                "jax.jit(jax.value_and_grad)",
                lambda *a: jax.block_until_ready(compiled(*a)),
                tuple(jnp.asarray(a) for a in args),
            )
        )
    if autograd is not None:
        anp = autograd.numpy

        def autograd_nll(log_params, x, y):
            lengthscale, variance, noise = (
                anp.exp(log_params[0]),
                anp.exp(log_params[1]),
                anp.exp(log_params[2]),
            )
            norms = anp.einsum("ij,ij->i", x, x)
            distances = norms[:, None] + norms[None, :] - 2.0 * anp.dot(x, x.T)
            kernel = variance * anp.exp(-0.5 * distances / lengthscale**2)
            kernel = kernel + noise * anp.eye(x.shape[0])
            factor = anp.linalg.cholesky(kernel)
            alpha = anp.linalg.solve(kernel, y)
            log_det = anp.sum(anp.log(anp.diag(factor)))
            return 0.5 * anp.dot(y, alpha) + log_det + 0.5 * y.size * anp.log(2 * anp.pi)

        entries.append(("autograd.value_and_grad", autograd.value_and_grad(autograd_nll), args))
    timings = check_then_measure(entries, expected, repeats=REPEATS, flatten=flat, rtol=1e-7)
    target = than_jax(1.2, timings, Target("ratio", 1.0, "≤ 1× baseline (JAX not installed)"))
    return WorkloadResult(
        name="W7",
        title="value_and_grad of a Gaussian process's negative log likelihood, n = 500",
        target=target,
        s2sjax=timings[0],
        baseline=timings[1],
        peers=timings[2:],
    )
