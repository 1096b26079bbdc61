"""Errors about the user's code show the user's frames (and the generated code's), not s2sjax's."""

import os
import traceback

import numpy as np
import pytest

import s2sjax
from s2sjax import config, tracebacks

PACKAGE = os.path.dirname(s2sjax.__file__)


def out_of_bounds(x):
    return x[5] * 2.0


def set_display(x):
    return len({1, 2}) * x


def frames_of(call):
    """The files of the frames in the traceback of the error `call()` raises, and the error."""
    with pytest.raises(Exception) as info:
        call()
    return [frame.filename for frame in traceback.extract_tb(info.value.__traceback__)], info.value


def internal(files):
    return [f for f in files if f.startswith(PACKAGE) or f"{os.sep}numba{os.sep}" in f]


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_an_error_in_generated_code_shows_the_users_frame_and_the_generated_line(target):
    files, error = frames_of(lambda: s2sjax.grad(out_of_bounds, target=target)(np.ones(3)))
    assert isinstance(error, IndexError)
    assert files[0] == __file__ and internal(files) == []
    assert "s2sjax_generated_out_of_bounds_grad" in files[-1]
    assert tracebacks.NOTE not in getattr(error, "__notes__", ())  # no noise: it is a message
    # the compiled code's own IndexError, chained to the located one, is all s2sjax's: not shown
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_a_refused_construct_shows_no_s2sjax_frame():
    files, error = frames_of(lambda: s2sjax.grad(set_display, target="python")(1.0))
    assert isinstance(error, s2sjax.TransformError)
    assert files == [__file__] * len(files) and files
    assert "set display" in str(error)


def test_every_entry_point_hides_its_frames():
    def jvp():
        s2sjax.jvp(out_of_bounds, (np.ones(3),), (np.ones(3),), target="python")

    def vjp():
        s2sjax.vjp(set_display, 1.0, target="python")

    def pullback():
        _, pull = s2sjax.vjp(lambda x: x * 2.0, np.ones(3), target="python")
        pull(np.ones(4))

    def source():
        s2sjax.source(s2sjax.grad(set_display, target="python"), 1.0)

    def construction():
        s2sjax.grad(set_display, argnums="0")

    for call in (jvp, vjp, pullback, source, construction):
        files, _ = frames_of(call)
        assert internal(files) == [], call.__name__


def test_filtering_off_shows_every_frame(monkeypatch):
    monkeypatch.setattr(config, "traceback_filtering", "off")
    files, error = frames_of(lambda: s2sjax.grad(set_display, target="python")(1.0))
    assert internal(files)
    monkeypatch.setattr(config, "traceback_filtering", "on")
    monkeypatch.setenv("S2SJAX_TRACEBACK_FILTERING", "off")
    files, _ = frames_of(lambda: s2sjax.grad(set_display, target="python")(1.0))
    assert internal(files)


def test_an_unexpected_internal_error_says_how_to_see_its_frames(monkeypatch):
    def broken(*args):
        raise KeyError("a bug inside s2sjax")

    monkeypatch.setattr(s2sjax.transformed.Transformed, "specialization", broken)
    # the monkeypatched function lives in this file: make it look like s2sjax's own
    monkeypatch.setattr(tracebacks, "_raised_inside", lambda exc: True)
    _, error = frames_of(lambda: s2sjax.grad(out_of_bounds, target="python")(np.ones(3)))
    assert isinstance(error, KeyError) and tracebacks.NOTE in error.__notes__
