"""Errors and warnings a user of s2sjax can see.

Every error about the user's code names the place in *their* file: file,
line, column, the offending line and a caret under the column.
"""

import linecache

import numpy as np


class TransformError(SyntaxError):
    """A construct s2sjax cannot transform, reported at its place in the user's code."""

    def __init__(self, message, filename="<unknown>", lineno=None, col=None, hint=None):
        self.message = message
        self.hint = hint
        line = linecache.getline(filename, lineno) if lineno else ""
        offset = None if col is None else col + 1
        full = message if hint is None else f"{message}\nhint: {hint}"
        super().__init__(full, (filename, lineno, offset, line.rstrip("\n")))

    def __reduce__(self):
        """Pickled with its place and line as they are here (a Dask worker's error reaches the
        client as it was raised there); notes and hint travel in the state."""
        return _transform_error, (type(self), self.args), self.__dict__

    def __str__(self):
        where = f"{self.filename}:{self.lineno}" if self.lineno else self.filename
        if self.offset:
            where += f":{self.offset}"
        parts = [f"{where}: {self.message}"]
        if self.text:
            stripped = self.text.lstrip()
            indent = len(self.text) - len(stripped)
            parts.append("    " + stripped)
            if self.offset:
                parts.append("    " + " " * max(0, self.offset - 1 - indent) + "^")
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


def _transform_error(cls, args):
    """A TransformError (of class `cls`) unpickled: SyntaxError's own arguments, no re-reading."""
    error = cls.__new__(cls)
    SyntaxError.__init__(error, *args)
    return error


class NumbaFallbackWarning(UserWarning):
    """Numba could not compile the generated code; it runs as plain Python instead."""


class CacheWarning(UserWarning):
    """The on-disk cache could not be used as configured; s2sjax used another place."""


class Location:
    """Where a node of the user's code lives: its file and the function it is in."""

    def __init__(self, filename, function_name):
        self.filename = filename
        self.function_name = function_name

    def error(self, node, message, hint=None):
        """A TransformError pointing at `node` (any AST node with lineno/col_offset)."""
        return TransformError(
            message,
            self.filename,
            getattr(node, "lineno", None),
            getattr(node, "col_offset", None),
            hint,
        )

    def note(self, exc, node):
        """`exc`, a Python error the user's code would raise itself, with a note saying where."""
        line = linecache.getline(self.filename, getattr(node, "lineno", 0) or 0).strip()
        if hasattr(exc, "add_note"):  # Python 3.11+
            exc.add_note(
                f"raised by s2sjax for {self.filename}:{getattr(node, 'lineno', '?')}, in "
                f"{self.function_name}: {line}"
            )
        return exc


def real_input_error(kind, value, what="inputs", where=""):
    """JAX's TypeError for a value `kind` cannot take: a complex number, which s2sjax does not
    support yet, or an input it cannot differentiate (an int, a bool). `what` says which values
    ("inputs", "tangents", "cotangents"); `where` names a container's leaf (" for p[0]")."""
    numeric = isinstance(value, (bool, int, float, complex, np.ndarray, np.generic))
    dtype = np.asarray(value).dtype if numeric else type(value).__name__
    if np.iscomplexobj(value):
        return TypeError(
            f"{kind} requires real-valued {what}, but got {dtype}{where}. "
            "s2sjax does not support complex numbers yet."
        )
    # allow_int takes whole arguments, not a container's leaves
    allow_int = " or pass allow_int=True" if kind in _ALLOWING_INTS and not where else ""
    return TypeError(
        f"{kind} requires real-valued {what} (input dtype that is a sub-dtype of np.floating), "
        f"but got {dtype}{where}. If you want to use Boolean- or integer-valued inputs, "
        "pass them as arguments that are not differentiated (leave them out of argnums)"
        f"{allow_int}."
    )


_ALLOWING_INTS = ("grad", "value_and_grad", "jacrev")


def check_not_complex(values, kind, what="inputs", paths=None):
    """Refuse complex `values` (each an argument, or a container's leaf named by `paths`) with
    `real_input_error`: s2sjax's types have no complex kind, so what it generates would be wrong."""
    for k, value in enumerate(values):
        if np.iscomplexobj(value):
            raise real_input_error(kind, value, what, "" if paths is None else f" for {paths[k]}")
