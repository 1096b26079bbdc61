"""Procedures called as statements: user functions that update their array arguments in place
(`step(u, tmp)`, `physics(points, dt)`), and the in-place methods `x.fill(v)`,
`np.copyto(dst, src)`.

Each program is checked against its own Python run, its gradient against finite differences,
and its vmap against a loop.
"""

import numpy as np
import pytest

import s2sjax
from s2sjax import TransformError

from .conftest import seeded_rng
from .fd import check_grad
from .util import define

# On the cpu target, code Numba cannot compile is a failure here, not a fallback.
pytestmark = pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")
RNG = seeded_rng("procedures")

PROGRAMS = """
def diffusion_step(u, tmp, k):
    n = u.shape[0]
    for i in range(1, n - 1):
        tmp[i] = u[i] + k * (u[i - 1] - 2.0 * u[i] + u[i + 1])
    u[1 : n - 1] = tmp[1 : n - 1]


def diffusion(u0, k):
    u = u0.copy()
    tmp = np.zeros_like(u0)
    for _ in range(3):
        diffusion_step(u, tmp, k)
    return np.sum(u * u)


def physics(points, velocities, dt):
    points += dt * velocities
    velocities *= 0.9


def particles(x, v):
    points = x.copy()
    velocities = v.copy()
    for _ in range(2):
        physics(points, velocities, 0.1)
    return np.sum(np.sin(points))


def clip_to(u, bound):
    if bound <= 0.0:
        return
    for i in range(u.shape[0]):
        if u[i] > bound:
            u[i] = bound


def clipped(x):
    u = x.copy()
    clip_to(u, 0.5)
    clip_to(u, -1.0)
    return np.sum(u * x)


def normalize_and_norm(u):
    total = np.sum(u * u)
    u *= 1.0 / np.sqrt(total)
    return total


def normalized(x):
    u = x.copy()
    total = normalize_and_norm(u)
    w = np.empty_like(x)
    np.copyto(w, u)
    return np.sum(w * np.arange(1.0, 4.0)) + total


def reset_then_add(x):
    acc = np.ones_like(x)
    acc.fill(2.0)
    acc[0] = x[0] * x[1]
    return np.sum(acc * x)
"""
MODULE = {
    name: define(PROGRAMS, name)
    for name in ("diffusion", "particles", "clipped", "normalized", "reset_then_add")
}
ARGS = {
    "diffusion": lambda: (RNG.normal(size=6), 0.2),
    "particles": lambda: (RNG.normal(size=4), RNG.normal(size=4)),
    "clipped": lambda: (np.array([0.1, 0.9, -0.3, 0.2]),),
    "normalized": lambda: (RNG.normal(size=3),),
    "reset_then_add": lambda: (RNG.normal(size=3),),
}


@pytest.mark.parametrize("target", ["python", "cpu"])
@pytest.mark.parametrize("name", sorted(MODULE))
def test_gradient_matches_finite_differences(name, target):
    fun, args = MODULE[name], ARGS[name]()
    value, grads = s2sjax.value_and_grad(fun, argnums=0, target=target)(*args)
    np.testing.assert_allclose(value, fun(*args), rtol=1e-12)
    check_grad(fun, args, (0,), (grads,), rtol=1e-6, atol=1e-8, name=name)


def test_parallel_diffusion():
    args = ARGS["diffusion"]()
    grads = s2sjax.grad(MODULE["diffusion"], target="parallel")(*args)
    check_grad(MODULE["diffusion"], args, (0,), (grads,), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_vmap_matches_a_loop(target):
    xs, vs = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    got = s2sjax.vmap(MODULE["particles"], target=target)(xs, vs)
    np.testing.assert_allclose(got, [MODULE["particles"](x, v) for x, v in zip(xs, vs)])


def test_jvp_through_a_procedure():
    x, t = RNG.normal(size=3), RNG.normal(size=3)
    _, tangent = s2sjax.jvp(MODULE["normalized"], (x,), (t,))
    h = 1e-6
    fd = (MODULE["normalized"](x + h * t) - MODULE["normalized"](x - h * t)) / (2 * h)
    np.testing.assert_allclose(tangent, fd, rtol=1e-6)


REFUSED = define(
    """
G = np.ones(3)


def bump(u):
    u += 1.0


def bump_global(x):
    bump(G)
    return np.sum(G * x)


def rebind_and_bump(u):
    u += 1.0
    u = u * 2.0
    u += 1.0


def confusing(x):
    u = x.copy()
    rebind_and_bump(u)
    return np.sum(u)


def set_first(u):
    u[0] = 0.0


def on_argument(x):
    set_first(x)
    return np.sum(x)


def sorts(x):
    u = x.copy()
    u.sort()
    return np.sum(u)
""",
    "bump_global",
)


@pytest.mark.parametrize(
    "name, message",
    [
        ("bump_global", "global array"),
        ("confusing", "both assigns its parameter 'u'"),
        ("on_argument", "in-place update of 'x', an argument (in set_first() called at"),
        ("sorts", "'.sort(...)', which changes an array in place"),
    ],
)
def test_refused_with_a_located_error(name, message):
    fun = getattr(__import__(REFUSED.__module__), name)
    with pytest.raises(TransformError, match=message.replace("(", r"\(").replace(")", r"\)")):
        s2sjax.grad(fun, target="python")(np.array([0.3, 0.4, 0.5]))
