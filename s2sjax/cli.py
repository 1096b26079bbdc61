"""The command line: `python -m s2sjax show|check|export PATH.py:FUNC`.

- `show` prints the source s2sjax generates for a function (`--grad`,
  `--value-and-grad`, `--jvp`, each optionally under `--vmap`), or the code
  after any pipeline stage (`--after normalize`), syntax-highlighted on a
  terminal and plain when piped.
- `check` compares every derivative mode with finite differences and prints
  a table (check.py); its exit status is 1 when one disagrees.
- `export` writes the generated code as a standalone module that needs only
  NumPy and Numba (export.py).

Argument types come from `--args`, else from module globals named like the
function's parameters (a script's own data), else every argument is taken to
be a float.
"""

import argparse
import ast
import importlib
import importlib.util
import inspect
import os
import shlex
import sys

import numpy as np

from . import api, check, export, pipeline
from .errors import TransformError
from .abstract import of_value
from .kinds import Jvp
from .mode import Mode

EPILOG = """\
examples:
  python -m s2sjax show examples/quickstart.py:loss --grad --argnums 0,1
  python -m s2sjax show examples/quickstart.py:f --after normalize
  python -m s2sjax show mymodule:energy --value-and-grad --args "np.ones(3), 2.0"
  python -m s2sjax show examples/quickstart.py:loss --vmap --grad --in-axes "(None, None, 0, 0)" \\
      --args "W, b, X[None].repeat(2, 0), y[None].repeat(2, 0)"
  python -m s2sjax check examples/quickstart.py:loss
  python -m s2sjax export examples/quickstart.py:loss --grad --argnums 0,1 -o loss_grad.py
"""


def main(argv=None):
    parser = _parser()
    options = parser.parse_args(argv)
    options.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return options.run(options)
    except (TransformError, TypeError, ValueError, LookupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m s2sjax",
        description="s2sjax: source-to-source derivatives of numeric Python.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    show = _command(commands, "show", "print the generated source of a transformation", _show)
    mode = show.add_mutually_exclusive_group()
    mode.add_argument(
        "--grad",
        dest="transformation",
        action="store_const",
        const=api.grad,
        help="the gradient (the default, unless --vmap is given alone)",
    )
    mode.add_argument(
        "--value-and-grad",
        dest="transformation",
        action="store_const",
        const=api.value_and_grad,
        help="the value and the gradient",
    )
    mode.add_argument(
        "--jvp",
        dest="transformation",
        action="store_const",
        const=api.jvp,
        help="the Jacobian-vector product (forward mode): takes the primals, then one tangent per "
        "float argument",
    )
    show.add_argument(
        "--vmap",
        action="store_true",
        help="the batched version (of the function, or of --grad/--value-and-grad/--jvp)",
    )
    show.add_argument(
        "--in-axes",
        default="0",
        help="with --vmap: vmap's in_axes as a Python literal, "
        'e.g. 0 or "(None, 0, 0)" (default 0)',
    )
    show.add_argument(
        "--after",
        choices=pipeline.STAGES,
        default=None,
        help="print the code after this pipeline stage instead of the final module",
    )
    show.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="syntax highlighting"
    )
    show.set_defaults(transformation=None)
    checker = _command(
        commands,
        "check",
        "compare every derivative mode with finite differences, as a table",
        _check,
    )
    checker.add_argument(
        "--rtol",
        type=float,
        default=check.RTOL,
        help=f"relative tolerance (default {check.RTOL:g})",
    )
    checker.add_argument(
        "--atol",
        type=float,
        default=check.ATOL,
        help=f"absolute tolerance (default {check.ATOL:g})",
    )
    exporter = _command(
        commands,
        "export",
        "write the generated code as a module needing only NumPy and Numba",
        _export,
    )
    mode = exporter.add_mutually_exclusive_group()
    mode.add_argument(
        "--grad",
        dest="transformation",
        action="store_const",
        const=api.grad,
        help="the gradient (default)",
    )
    mode.add_argument(
        "--value-and-grad",
        dest="transformation",
        action="store_const",
        const=api.value_and_grad,
        help="the value and the gradient",
    )
    exporter.add_argument("-o", "--output", required=True, help="the module file to write")
    exporter.set_defaults(transformation=api.grad)
    return parser


def _command(commands, name, summary, run):
    """A subcommand taking a function, --argnums, --target and --args."""
    command = commands.add_parser(
        name,
        help=summary,
        description=summary,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    command.add_argument("function", help="PATH.py:FUNC or module:FUNC")
    command.add_argument(
        "--argnums",
        default=None,
        help="argument positions to differentiate: 0, or 0,1 (default 0; for check, every float "
        "argument)",
    )
    command.add_argument(
        "--target", default="cpu", choices=api.TARGETS, help="compile target (default cpu)"
    )
    command.add_argument(
        "--args",
        default=None,
        help="example arguments, a Python expression evaluated in the function's module "
        "with np available (default: module globals named like the parameters, else floats)",
    )
    command.set_defaults(run=run)
    return command


def _show(options):
    fun = load_function(options.function)
    args = _example_args(fun, options.args)
    if options.args is None:
        print(f"# {_assumed(fun, args)}; --args chooses them", file=sys.stderr)
    transformation = options.transformation or (None if options.vmap else api.grad)
    if options.after is not None:
        if options.vmap:
            raise ValueError("--after shows the stages of one function; leave out --vmap")
        text = _stage(fun, args, transformation, options)
    else:
        transformed = _transformed(fun, transformation, options)
        if options.vmap:
            transformed = api.vmap(
                transformed, in_axes=_literal(options.in_axes, "--in-axes"), target=options.target
            )
        text = api.source(transformed, *args)
    print(_highlight(text, options.color))
    return 0


def _transformed(fun, transformation, options):
    """`fun` under the public `transformation` (None: `fun` itself, for --vmap alone)."""
    if transformation is None:
        return fun
    if transformation is api.jvp:
        return api._shared(fun, Jvp(), options.target)
    return transformation(fun, argnums=_argnums(options.argnums), target=options.target)


def _stage(fun, args, transformation, options):
    types = tuple(of_value(a) for a in args)
    if transformation is api.jvp:
        argnums = tuple(i for i, t in enumerate(types) if t.differentiable)
        mode = Mode.JVP
    else:
        argnums = tuple(i % len(args) for i in _as_tuple(_argnums(options.argnums)))
        mode = Mode.VALUE_AND_GRAD
    spec = pipeline.Spec(types, argnums, target=options.target, mode=mode)
    return pipeline.stage_source(fun, options.after, spec)


def _check(options):
    fun = load_function(options.function)
    args = _example_args(fun, options.args)
    if options.args is None:
        _try_assumed(fun, args)
    argnums = None if options.argnums is None else _as_tuple(_argnums(options.argnums))
    rows = check.check(fun, args, argnums, options.target, rtol=options.rtol, atol=options.atol)
    print(check.describe(fun, args, options.rtol, options.atol))
    print(check.table(rows))
    return 0 if all(row.ok for row in rows) else 1


def _export(options):
    fun = load_function(options.function)
    args = _example_args(fun, options.args)
    transformed = options.transformation(
        fun, argnums=_argnums(options.argnums), target=options.target
    )
    export.write(
        transformed, args, options.output, " ".join(shlex.quote(a) for a in options.argv[1:])
    )
    print(f"wrote {options.output}")
    return 0


def _argnums(text):
    argnums = tuple(int(a) for a in (text or "0").split(","))
    return argnums[0] if len(argnums) == 1 else argnums


def _as_tuple(argnums):
    return argnums if isinstance(argnums, tuple) else (argnums,)


def _literal(text, option):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(
            f"{option} must be a Python literal such as 0, None or (None, 0), got {text!r}"
        ) from None


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


def _assumed(fun, args):
    """What `_example_args` assumed, in words."""
    shown = ", ".join(repr(a) if of_value(a).kind != "array" else "an array" for a in args)
    return f"no --args given: assumed {fun.__name__}({shown})"


def _try_assumed(fun, args):
    """Call `fun` on the arguments assumed for it: a failure there means --args is needed."""
    try:
        fun(*args)
    except Exception as exc:
        raise ValueError(
            f"{_assumed(fun, args)}, which raised {type(exc).__name__}: {exc}\n"
            f'pass example arguments, e.g. --args "np.ones(3), 2.0" (a Python expression '
            "evaluated in the function's module, with np available)"
        ) from None


def _example(global_value, default):
    for value in (default, global_value):
        if value is not inspect.Parameter.empty and of_value(value).kind in (
            "float",
            "int",
            "bool",
        ):
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
