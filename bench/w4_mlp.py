"""W4: value_and_grad of seed 004's MLP (728-100-10, ReLU, mean squared error) on a batch of 32.

The parameters are four arrays (w1, b1, w2, b2); a second s2sjax row takes them as seed 004 does,
a list of (w, b) tuples, which costs the flattening and rebuilding of the containers. Baseline: a
hand-written Numba backward pass (the same matrix products, one function). Peers: JAX
(`jax.jit(jax.value_and_grad)`, float64, arrays on the device) and autograd.

W4-python: the same value_and_grad with target="python" (the generated source run by Python,
no Numba) against the hand-written backward pass run by Python (`py_func`: plain NumPy).
"""

import numba
import numpy as np

import s2sjax
from bench.report import Target, WorkloadResult, than_jax
from bench.timing import check_then_measure

SIZES, BATCH = (728, 100, 10), 32
REPEATS = 51
ARGNUMS = (0, 1, 2, 3)


def mlp_loss(w1, b1, w2, b2, x, y):
    h = np.maximum(x @ w1 + b1, 0.0)
    out = h @ w2 + b2
    return np.mean((out - y) ** 2)


@numba.njit
def value_and_grad_by_hand(w1, b1, w2, b2, x, y):
    z = x @ w1 + b1
    h = np.maximum(z, 0.0)
    d = h @ w2 + b2 - y
    g_out = 2.0 / d.size * d
    g_z = (g_out @ w2.T) * (z > 0.0)
    grads = (
        np.ascontiguousarray(x.T) @ g_z,
        g_z.sum(axis=0),
        np.ascontiguousarray(h.T) @ g_out,
        g_out.sum(axis=0),
    )
    return np.mean(d**2), grads


def make_inputs():
    rng = np.random.default_rng(4)
    n_in, n_hidden, n_out = SIZES
    w1, b1 = rng.normal(0, n_in**-0.5, (n_in, n_hidden)), rng.normal(0, 0.1, n_hidden)
    w2, b2 = rng.normal(0, n_hidden**-0.5, (n_hidden, n_out)), rng.normal(0, 0.1, n_out)
    x, y = rng.uniform(0, 1, (BATCH, n_in)), rng.uniform(0, 1, (BATCH, n_out))
    return w1, b1, w2, b2, x, y


def mlp_loss_of_layers(params, x, y):
    """The same loss with the parameters as a list of (w, b) tuples, as seed 004 writes it."""
    (w1, b1), (w2, b2) = params
    return mlp_loss(w1, b1, w2, b2, x, y)


def flat(value_and_grads):
    value, grads = value_and_grads
    return np.concatenate([[value]] + [np.ravel(g) for g in s2sjax.tree_leaves(grads)])


def run(jax, autograd):
    args = make_inputs()
    expected = flat(value_and_grad_by_hand(*args))
    ours = s2sjax.value_and_grad(mlp_loss, argnums=ARGNUMS)
    entries = [
        ("s2sjax.value_and_grad", ours, args),
        ("numba.njit backward pass, by hand", value_and_grad_by_hand, args),
        (
            "s2sjax.value_and_grad, params a list of (w, b) tuples",
            s2sjax.value_and_grad(mlp_loss_of_layers),
            ([(args[0], args[1]), (args[2], args[3])],) + args[4:],
        ),
    ]
    if jax is not None:
        jnp = jax.numpy
        jax_loss = lambda w1, b1, w2, b2, x, y: jnp.mean(
            (jnp.maximum(x @ w1 + b1, 0.0) @ w2 + b2 - y) ** 2
        )  # noqa: E731
        compiled = jax.jit(jax.value_and_grad(jax_loss, argnums=ARGNUMS))
        entries.append(
            (
                "jax.jit(jax.value_and_grad)",
                lambda *a: jax.block_until_ready(compiled(*a)),
                tuple(jnp.asarray(a) for a in args),
            )
        )
    if autograd is not None:
        anp = autograd.numpy
        autograd_loss = lambda w1, b1, w2, b2, x, y: anp.mean(
            (anp.maximum(x @ w1 + b1, 0.0) @ w2 + b2 - y) ** 2
        )  # noqa: E731
        entries.append(
            ("autograd.value_and_grad", autograd.value_and_grad(autograd_loss, ARGNUMS), args)
        )
    timings = check_then_measure(entries, expected, repeats=REPEATS, flatten=flat, rtol=1e-9)
    target = than_jax(0.8, timings, Target("ratio", 1.0, "≤ 1× baseline (JAX not installed)"))
    return [
        WorkloadResult(
            name="W4",
            title="value_and_grad of the 728-100-10 MLP, batch 32",
            target=target,
            s2sjax=timings[0],
            baseline=timings[1],
            peers=timings[2:],
        ),
        python_target(args, expected),
    ]


def python_target(args, expected):
    """W4-python, timed apart from W4: interleaved with W4's entries, W4's s2sjax row read 170 ms
    instead of ~0.2 ms on the shared two-core machine (BLAS thread pools of NumPy and of Numba's
    SciPy competing, it seems)."""
    entries = [
        (
            's2sjax.value_and_grad, target="python"',
            s2sjax.value_and_grad(mlp_loss, argnums=ARGNUMS, target="python"),
            args,
        ),
        ("NumPy backward pass, by hand", value_and_grad_by_hand.py_func, args),
    ]
    ours, by_hand = check_then_measure(entries, expected, repeats=REPEATS, flatten=flat, rtol=1e-9)
    return WorkloadResult(
        name="W4-python",
        title='value_and_grad of the MLP, target="python", vs NumPy by hand',
        target=Target("ratio", 1.2),
        s2sjax=ours,
        baseline=by_hand,
    )
