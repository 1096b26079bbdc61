"""Process-wide settings.

`strict`: when True, code that Numba cannot compile raises instead of falling
back to `target="python"` with a NumbaFallbackWarning.

`traceback_filtering`: "on" (the default) hides s2sjax's and Numba's frames
from the tracebacks of errors raised through its entry points; "off" shows
every frame. The environment variable `S2SJAX_TRACEBACK_FILTERING` wins.
"""

strict = False
traceback_filtering = "on"
