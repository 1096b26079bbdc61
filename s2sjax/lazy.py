"""Modules loaded on their first use, so that `import s2sjax` loads the public API and leaves the
pipeline (the parser, the rules, the transforms, the passes, the backend) to the first
transformation made and called (issue 20: `import s2sjax` within 50 ms of `import numba`).

`pipeline = lazy_module("s2sjax.pipeline")` at the top of a module, where `from . import
pipeline` would be; the module is imported when one of its attributes is first read. Only names
used inside functions may come from such a module; tests/test_structure.py counts these lines as
imports when it checks the layering.
"""

import importlib
import sys
import types


class _OnFirstUse(types.ModuleType):
    """Stands for the module of its name in the module that asked for it (`importer`, its
    globals). Reading an attribute imports the module (importlib's locks make threads wait for
    one import, which Python 3.11's LazyLoader does not) and puts it in the importer's place of
    the stand-in, so that later reads cost what an eager import's do."""

    def __init__(self, name, importer):
        super().__init__(name)
        self._importer = importer

    def __getattr__(self, attribute):
        module = importlib.import_module(self.__name__)
        for key, value in list(self._importer.items()):
            if value is self:
                self._importer[key] = module
        return getattr(module, attribute)


def lazy_module(name):
    """The module `name` if it is imported already, else a stand-in that imports it when used."""
    return sys.modules.get(name) or _OnFirstUse(name, sys._getframe(1).f_globals)
