"""Tracebacks that end at the user's code.

An error about the user's code (a TransformError at their line, an IndexError
in the generated code, JAX's TypeErrors) leaves s2sjax through dozens of its
own and Numba's frames. At each public entry point those frames are taken out
of the traceback, as JAX does; what stays is the user's frames and the
generated code's. `S2SJAX_TRACEBACK_FILTERING=off` in the environment, or
`s2sjax.config.traceback_filtering = "off"`, keeps every frame (for debugging
s2sjax itself).
"""

import functools
import os
import sysconfig

import numba

from . import config
from .errors import TransformError


def _directory(path):
    return os.path.join(os.path.realpath(path), "")


# Frames from these directories are s2sjax's business, not the user's: s2sjax itself, Numba, and
# the standard library functions that s2sjax calls (inspect, functools), but not the packages
# installed beside the standard library.
_INTERNAL = (_directory(os.path.dirname(__file__)), _directory(os.path.dirname(numba.__file__)))
_STDLIB = _directory(sysconfig.get_paths()["stdlib"])
_INSTALLED = tuple(_directory(sysconfig.get_paths()[k]) for k in ("purelib", "platlib"))
NOTE = "(s2sjax hid its own frames; S2SJAX_TRACEBACK_FILTERING=off shows them)"
# The errors s2sjax raises on purpose, with messages about the user's code: no note needed.
_MESSAGES = (TransformError, TypeError, ValueError, IndexError, NotImplementedError)


def filtering():
    """Whether tracebacks are filtered now: the environment variable wins over the config."""
    return os.environ.get("S2SJAX_TRACEBACK_FILTERING", config.traceback_filtering) != "off"


def hide_internal_frames(exc):
    """Take s2sjax's, Numba's and the standard library's frames out of `exc`'s traceback, and
    drop the exceptions chained to it that happened entirely inside s2sjax. An unexpected
    error raised inside s2sjax (a bug, not one of its messages) says how to see its frames."""
    if not filtering():
        return
    unexpected = _raised_inside(exc) and not isinstance(exc, _MESSAGES)
    _filter(exc)
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None:
        _filter(cause)
        if cause.__traceback__ is None:  # nothing of the user's there: noise
            exc.__cause__ = None
            exc.__suppress_context__ = True
    if unexpected and NOTE not in getattr(exc, "__notes__", ()):
        exc.add_note(NOTE)


def entry_point(function):
    """`function`, a public entry point of s2sjax, raising with internal frames hidden."""

    @functools.wraps(function)
    def entered(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            hide_internal_frames(exc)
            raise  # a bare raise keeps the filtered traceback, without this frame

    return entered


def _filter(exc):
    """Drop the internal frames of `exc.__traceback__`."""
    user = [tb for tb in _frames(exc) if not _internal(tb.tb_frame.f_code.co_filename)]
    rebuilt = None
    for tb in reversed(user):
        rebuilt = type(tb)(rebuilt, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
    exc.__traceback__ = rebuilt


def _frames(exc):
    frames, tb = [], exc.__traceback__
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    return frames


def _raised_inside(exc):
    """Whether the innermost frame of `exc`'s traceback is s2sjax's or Numba's."""
    frames = _frames(exc)
    return bool(frames) and _internal(frames[-1].tb_frame.f_code.co_filename)


@functools.lru_cache(maxsize=256)
def _internal(filename):
    path = os.path.realpath(filename)
    if path.startswith(_INTERNAL):
        return True
    return path.startswith(_STDLIB) and not path.startswith(_INSTALLED)
