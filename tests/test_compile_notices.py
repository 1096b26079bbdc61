"""A long first call says on stderr that Numba is compiling; log_compiles logs every compile."""

import numpy as np
import pytest

import s2sjax
from s2sjax import config
from s2sjax.backend import compile as backend


def cubed(x):
    return np.sum(x**3)


def halved(x):
    return np.sum(x * 0.5)


@pytest.fixture
def settings(monkeypatch):
    monkeypatch.setattr(config, "compile_notices", True)
    monkeypatch.setattr(config, "log_compiles", False)
    return monkeypatch


def test_a_long_first_call_says_numba_is_compiling(settings, capfd):
    settings.setattr(backend, "NOTICE_AFTER", 0.0)  # every first call is long
    assert s2sjax.grad(cubed)(np.ones(2)).tolist() == [3.0, 3.0]
    err = capfd.readouterr().err.splitlines()
    assert err[0].startswith("s2sjax: Numba is compiling the code generated for cubed (")
    assert "later runs load it from the disk cache" in err[0] and len(err) == 1
    s2sjax.grad(cubed)(np.ones(2))  # compiled: no line
    assert capfd.readouterr().err == ""


def test_notices_can_be_hidden_and_every_compile_logged(settings, capfd):
    settings.setattr(backend, "NOTICE_AFTER", 0.0)
    config.update("compile_notices", False)
    config.update("jax_log_compiles", True)
    s2sjax.grad(halved)(np.ones(2))
    err = capfd.readouterr().err.splitlines()
    assert err[0].startswith("s2sjax: compiling the code generated for halved (")
    assert err[1].startswith("s2sjax: ") and " the code generated for halved (" in err[1]
    assert err[1].split(" the code")[0] in ("s2sjax: compiled", "s2sjax: loaded from cache")
    assert len(err) == 2
