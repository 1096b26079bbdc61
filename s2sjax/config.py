"""Process-wide settings.

`strict`: when True, code that Numba cannot compile raises instead of falling
back to `target="python"` with a NumbaFallbackWarning.

`traceback_filtering`: "on" (the default) hides s2sjax's and Numba's frames
from the tracebacks of errors raised through its entry points; "off" shows
every frame. The environment variable `S2SJAX_TRACEBACK_FILTERING` wins.

`compile_notices`: True (the default) prints one line on stderr when a first
call takes more than a few seconds, saying that Numba is compiling; False
hides it. `log_compiles`: True prints a line for every compile and how long
it took (JAX's `jax_log_compiles`).

Set them as attributes (`s2sjax.config.strict = True`) or, as in JAX, with
`update` (`s2sjax.config.update("jax_traceback_filtering", "off")`).
"""

strict = False
traceback_filtering = "on"
compile_notices = True
log_compiles = False

_SETTINGS = ("strict", "traceback_filtering", "compile_notices", "log_compiles")
_JAX_NAMES = {"jax_traceback_filtering": "traceback_filtering", "jax_log_compiles": "log_compiles"}


def update(name, value):
    """Set the setting `name` to `value`. JAX's names for the same settings are accepted, and
    `jax_enable_x64=True` too: float64 is s2sjax's default already."""
    if name == "jax_enable_x64":
        if not value:
            raise ValueError(
                "s2sjax computes in the dtypes of its inputs (float64 unless you pass float32 "
                "arrays); there is no setting that makes float32 the default"
            )
        return
    setting = _JAX_NAMES.get(name, name)
    if setting not in _SETTINGS:
        known = ", ".join(repr(s) for s in (*_SETTINGS, "jax_enable_x64", *_JAX_NAMES))
        raise ValueError(f"unknown setting {name!r}; the settings are {known}")
    globals()[setting] = value
