"""Optional peer libraries. A missing peer is reported and skipped, never fatal."""


def import_jax():
    try:
        import jax
    except ImportError:
        return None
    # float64 everywhere, like NumPy, Numba and s2sjax; JAX defaults to float32.
    jax.config.update("jax_enable_x64", True)
    return jax


def import_autograd():
    try:
        import autograd
        import autograd.numpy  # noqa: F401  (makes `autograd.numpy` available)
    except ImportError:
        return None
    return autograd
