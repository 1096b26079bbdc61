"""Process-wide settings.

`strict`: when True, code that Numba cannot compile raises instead of falling
back to `target="python"` with a NumbaFallbackWarning.
"""

strict = False
