"""Vectorized array programs: npbench kernels and SciPy's Rosenbrock function."""

import numpy as np

from bench.programs import Program

RNG = np.random.default_rng
NPBENCH = "spcl/npbench, npbench/benchmarks"

# --- softmax and cross-entropy: npbench/benchmarks/deep_learning/softmax/softmax_numpy.py ---


def softmax(x):
    tmp_max = np.max(x, axis=-1, keepdims=True)
    tmp_out = np.exp(x - tmp_max)
    tmp_sum = np.sum(tmp_out, axis=-1, keepdims=True)
    return tmp_out / tmp_sum


def softmax_cross_entropy(x, targets):
    """npbench's softmax at size S (16 x 16 x 128 x 128), scored by cross-entropy."""
    return -np.sum(targets * np.log(softmax(x))) / x.shape[0]


def attention_scores(shape):
    rng = RNG(4)
    x = rng.normal(size=shape)
    targets = np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    return x, targets


# --- arc distance: npbench/benchmarks/pythran/arc_distance/arc_distance_numpy.py -----------


def arc_distance_matrix(theta_1, phi_1, theta_2, phi_2):
    temp = (
        np.sin((theta_2 - theta_1) / 2) ** 2
        + np.cos(theta_1) * np.cos(theta_2) * np.sin((phi_2 - phi_1) / 2) ** 2
    )
    return 2 * (np.arctan2(np.sqrt(temp), np.sqrt(1 - temp)))


def arc_distance(theta_1, phi_1, theta_2, phi_2):
    """npbench's pythran arc distance, N = 100000; the sum of the distances."""
    return np.sum(arc_distance_matrix(theta_1, phi_1, theta_2, phi_2))


def angles(n):
    return tuple(RNG(5 + k).uniform(0.1, 1.4, n) for k in range(4))


# --- horizontal diffusion: npbench/benchmarks/weather_stencils/hdiff/hdiff_numpy.py --------


def hdiff_kernel(in_field, out_field, coeff):
    I, J, K = out_field.shape[0], out_field.shape[1], out_field.shape[2]
    lap_field = 4.0 * in_field[1 : I + 3, 1 : J + 3, :] - (
        in_field[2 : I + 4, 1 : J + 3, :]
        + in_field[0 : I + 2, 1 : J + 3, :]
        + in_field[1 : I + 3, 2 : J + 4, :]
        + in_field[1 : I + 3, 0 : J + 2, :]
    )
    res = lap_field[1:, 1 : J + 1, :] - lap_field[:-1, 1 : J + 1, :]
    flx_field = np.where(
        (res * (in_field[2 : I + 3, 2 : J + 2, :] - in_field[1 : I + 2, 2 : J + 2, :])) > 0,
        0,
        res,
    )
    res = lap_field[1 : I + 1, 1:, :] - lap_field[1 : I + 1, :-1, :]
    fly_field = np.where(
        (res * (in_field[2 : I + 2, 2 : J + 3, :] - in_field[2 : I + 2, 1 : J + 2, :])) > 0,
        0,
        res,
    )
    out = in_field[2 : I + 2, 2 : J + 2, :] - coeff[:, :, :] * (
        flx_field[1:, :, :] - flx_field[:-1, :, :] + fly_field[:, 1:, :] - fly_field[:, :-1, :]
    )
    return out


def hdiff(in_field, coeff):
    """npbench's hdiff at size S (64 x 64 x 60); sum(out²). npbench writes the result into
    `out_field[:, :, :]`; here it is returned, so JAX and autograd run the same code."""
    out_field = np.empty(coeff.shape)
    return np.sum(hdiff_kernel(in_field, out_field, coeff) ** 2)


def fields(i, j, k):
    rng = RNG(6)
    return rng.uniform(0, 1, (i + 4, j + 4, k)), rng.uniform(0, 1, (i, j, k))


# --- Rosenbrock: scipy/scipy, scipy/optimize/_optimize.py (rosen) --------------------------


def rosen(x):
    """SciPy's N-dimensional Rosenbrock function, n = 10**6."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2.0) ** 2.0 + (1 - x[:-1]) ** 2.0)


PROGRAMS = [
    Program(
        "softmax cross-entropy",
        f"{NPBENCH}/deep_learning/softmax/softmax_numpy.py",
        softmax_cross_entropy,
        lambda tiny: attention_scores((2, 2, 3, 4) if tiny else (16, 16, 128, 128)),
    ),
    Program(
        "arc distance",
        f"{NPBENCH}/pythran/arc_distance/arc_distance_numpy.py",
        arc_distance,
        lambda tiny: angles(5 if tiny else 100_000),
        argnums=(0, 1, 2, 3),
    ),
    Program(
        "horizontal diffusion (3-D stencil)",
        f"{NPBENCH}/weather_stencils/hdiff/hdiff_numpy.py",
        hdiff,
        lambda tiny: fields(*((3, 3, 2) if tiny else (64, 64, 60))),
        argnums=(0, 1),
    ),
    Program(
        "Rosenbrock",
        "scipy/scipy, scipy/optimize/_optimize.py (rosen)",
        rosen,
        lambda tiny: (RNG(7).uniform(-1, 1, 6 if tiny else 1_000_000),),
    ),
]
