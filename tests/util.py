"""Helpers shared by tests: functions defined from source text in real files."""

import importlib.util
import itertools
import os
import sys
import tempfile
import textwrap

_DIR = tempfile.mkdtemp(prefix="s2sjax-tests-")
_COUNTER = itertools.count()


def define(source, name=None, namespace_setup="import math\nimport numpy as np\n"):
    """Write `source` to a fresh module file, import it, and return its function `name`.

    `name` defaults to the first def.
    """
    module = define_module(source, namespace_setup)
    if name is None:
        name = next(
            line.split()[1].split("(")[0]
            for line in textwrap.dedent(source).splitlines()
            if line.startswith("def ")
        )
    return getattr(module, name)


def define_module(source, namespace_setup="import math\nimport numpy as np\n"):
    """Write `source` to a fresh module file and import it."""
    source = namespace_setup + textwrap.dedent(source)
    module_name = f"s2sjax_test_module_{next(_COUNTER)}"
    path = os.path.join(_DIR, module_name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
