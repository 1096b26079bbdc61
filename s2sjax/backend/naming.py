"""Every name s2sjax writes into generated code comes from here.

Names derive from the user's and are deterministic (counters, never random
ids): the SSA versions of `x` are `x`, `x_1`, `x_2`; temporaries are `t1`,
`t2`; the adjoint of `x` is `x_bar`, its tangent `x_dot`.
"""

import linecache
import os
import re
from collections import Counter

import gast

# Names the generated module binds itself; a user variable never takes them.
RESERVED = {
    "np",
    "math",
    "rt",
    "numba",
    "range",
    "len",
    "abs",
    "min",
    "max",
    "float",
    "int",
    "bool",
}

COMMENT_MARK = "__s2sjax_comment__"


class Namer:
    """Hands out fresh, collision-free names in a deterministic order."""

    def __init__(self, taken=()):
        self.taken = set(RESERVED) | set(taken)
        self.counters = {}

    def reserve(self, names):
        self.taken.update(names)

    def fresh(self, base):
        if base not in self.taken:
            self.taken.add(base)
            return base
        return self._numbered(base, "_")

    def version(self, user_name):
        """A new SSA version of a user variable."""
        return self.fresh(user_name)

    def temp(self):
        return self._numbered("t", "")

    def _numbered(self, base, sep):
        k = self.counters.get(base, 0)
        while f"{base}{sep}{k + 1}" in self.taken:
            k += 1
        k += 1
        self.counters[base] = k
        name = f"{base}{sep}{k}"
        self.taken.add(name)
        return name

    def adjoint(self, name):
        return self.fresh(f"{name}_bar")

    def tangent(self, name):
        return self.fresh(f"{name}_dot")


def without_parfor_clashes(fdef):
    """parfor_names: `fdef` (compiled with parallel=True) with each name `x_1` renamed `x_v1`
    where `x` is assigned more than once.

    Numba names the second assignment of `x` `x.1`, and when it compiles a prange loop that
    uses it, spells that `x_1` (and `x_y` `x__y`): were `x_1` a variable too, Numba fails
    with "key already in dictionary: 'x_1'". A name not ending in `_<digits>` is never one
    of Numba's.
    """
    nodes = [n for n in gast.walk(fdef) if isinstance(n, gast.Name)]
    definitions = Counter(n.id for n in nodes if not isinstance(n.ctx, gast.Load))
    versioned = {ident.replace("_", "__") for ident, count in definitions.items() if count > 1}
    namer = Namer(n.id for n in nodes)
    renamed = {}
    for ident in sorted({n.id for n in nodes}):
        match = re.fullmatch(r"(.+)_(\d+)", ident)
        if match and match.group(1) in versioned:
            renamed[ident] = namer.fresh(f"{match.group(1)}_v{match.group(2)}")
    for node in nodes:
        node.id = renamed.get(node.id, node.id)
    return fdef


def comment(text):
    """A statement that the emitter prints as `# text`."""
    call = gast.Call(
        gast.Name(COMMENT_MARK, gast.Load(), None, None), [gast.Constant(text, None)], []
    )
    return gast.Expr(call)


def name(id_, store=False):
    return gast.Name(id_, gast.Store() if store else gast.Load(), None, None)


def line_comment(location, lineno):
    """`# file.py:12: <that line of the user's code>`, marking where generated code comes from.

    In code generated from generated code (grad of grad), the line is the user's line that
    the generated line's own comment names; code s2sjax added itself gets a bare `#`.
    """
    if location is None or lineno is None or location.filename.startswith("<s2sjax:"):
        return comment(
            ""
        )  # s2sjax's own glue (a container adapter, a batch loop): no line of the user's
    if os.path.basename(location.filename).startswith(GENERATED_MODULE_PREFIX):
        return comment(user_line_above(location.filename, lineno))
    text = linecache.getline(location.filename, lineno).strip()
    return comment(f"{os.path.basename(location.filename)}:{lineno}: {text}")


GENERATED_MODULE_PREFIX = "s2sjax_generated_"  # the start of every generated module's name


def is_generated(pyfunc):
    """Whether `pyfunc` is code s2sjax generated.

    That is, a transformed function being transformed again.
    """
    return (getattr(pyfunc, "__module__", None) or "").startswith(GENERATED_MODULE_PREFIX)


def user_line_above(filename, lineno):
    """The nearest line comment above `lineno` in a generated file, within its function."""
    for k in range(lineno - 1, 0, -1):
        line = linecache.getline(filename, k).strip()
        if line.startswith("def "):
            return ""
        if line.startswith("# ") and ".py:" in line.split(" ")[1]:
            return line[2:]
    return ""
