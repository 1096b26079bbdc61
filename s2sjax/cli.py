"""The command line: `python -m s2sjax show PATH.py:FUNC --grad`.

`show` prints the source s2sjax generates for a function, or the code after
any pipeline stage (`--after normalize`), syntax-highlighted on a terminal
and plain when piped. Argument types come from `--args`, else from module
globals named like the function's parameters (a script's own data), else
every argument is taken to be a float.
"""
import argparse
import importlib
import importlib.util
import inspect
import os
import sys

import numpy as np

from . import api, pipeline
from .errors import TransformError
from .passes.types import of_value

EPILOG = """\
examples:
  python -m s2sjax show examples/quickstart.py:loss --grad --argnums 0,1
  python -m s2sjax show examples/quickstart.py:f --after normalize
  python -m s2sjax show mymodule:energy --value-and-grad --args "np.ones(3), 2.0"
"""


def main(argv=None):
    parser = _parser()
    options = parser.parse_args(argv)
    try:
        return options.run(options)
    except (TransformError, TypeError, ValueError, LookupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser():
    parser = argparse.ArgumentParser(prog="python -m s2sjax", description="s2sjax: source-to-source derivatives of numeric Python.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print the generated source of a transformation",
                               formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    show.add_argument("function", help="PATH.py:FUNC or module:FUNC")
    mode = show.add_mutually_exclusive_group()
    mode.add_argument("--grad", dest="kind", action="store_const", const="grad", help="the gradient (default)")
    mode.add_argument("--value-and-grad", dest="kind", action="store_const", const="value_and_grad",
                      help="the value and the gradient")
    show.add_argument("--argnums", default="0", help="argument positions to differentiate: 0, or 0,1 (default 0)")
    show.add_argument("--target", default="cpu", choices=api.TARGETS, help="compile target (default cpu)")
    show.add_argument("--after", choices=pipeline.STAGES, default=None,
                      help="print the code after this pipeline stage instead of the final module")
    show.add_argument("--args", default=None,
                      help="example arguments, a Python expression evaluated in the function's module "
                           "with np available (default: module globals named like the parameters, else floats)")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="syntax highlighting")
    show.set_defaults(run=_show, kind="grad")
    return parser


def _show(options):
    fun = load_function(options.function)
    args = _example_args(fun, options.args)
    argnums = tuple(int(a) for a in options.argnums.split(","))
    transform = getattr(api, options.kind)
    transformed = transform(fun, argnums=argnums[0] if len(argnums) == 1 else argnums, target=options.target)
    if options.after is None:
        text = api.source(transformed, *args)
    else:
        spec = pipeline.Spec(tuple(of_value(a) for a in args), tuple(i % len(args) for i in argnums))
        text = pipeline.stage_source(transformed.fun, options.after, spec)
    print(_highlight(text, options.color))
    return 0


def load_function(spec):
    """`PATH.py:FUNC` or `module:FUNC` -> the function object."""
    location, sep, name = spec.rpartition(":")
    if not sep or not name:
        raise ValueError(f"expected PATH.py:FUNC or module:FUNC, got {spec!r}")
    if location.endswith(".py"):
        path = os.path.abspath(location)
        module_name = os.path.splitext(os.path.basename(path))[0]
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or not os.path.exists(path):
            raise OSError(f"no such file: {location}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        sys.path.insert(0, os.path.dirname(path))
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(location)
    try:
        return getattr(module, name)
    except AttributeError:
        raise LookupError(f"{location} has no function {name!r}") from None


def _example_args(fun, expression):
    namespace = {"np": np, **getattr(fun, "__globals__", {})}
    if expression is not None:
        value = eval(expression, namespace)  # the user's own expression, as with python -c
        return value if isinstance(value, tuple) else (value,)
    params = inspect.signature(fun).parameters
    return tuple(_example(namespace.get(p), params[p].default) for p in params)


def _example(global_value, default):
    for value in (default, global_value):
        if value is not inspect.Parameter.empty and of_value(value).kind in ("float", "int", "bool"):
            return value
    return 1.0


def _highlight(text, color):
    if color == "never" or (color == "auto" and not sys.stdout.isatty()):
        return text
    try:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return text
    return highlight(text, PythonLexer(), TerminalFormatter()).rstrip("\n")
