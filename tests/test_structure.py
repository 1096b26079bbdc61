"""The package's layering: no import cycle among s2sjax's modules, no s2sjax import hidden in a
function body, and no test of which transformation is running outside s2sjax/kinds/."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "s2sjax"
TRANSFORMATIONS = {
    "grad",
    "value_and_grad",
    "jvp",
    "vjp",
    "jacfwd",
    "jacrev",
    "hessian",
    "vmap",
    "jit",
    "primal",
}


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}


def _imported(module, node):
    """The s2sjax modules an import statement of `module` loads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    base = (
        ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
        if node.level
        else node.module
    )
    found = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    return [m for m in found if m in MODULES and m != module]


def _lazily_imported(node):
    """The s2sjax module a top-level `name = lazy_module("s2sjax....")` loads on first use."""
    if (
        isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "lazy_module"
    ):
        return [a.value for a in node.value.args if a.value in MODULES]
    return []


def _import_graph():
    # a module loaded on first use (s2sjax/lazy.py) is a dependency all the same
    return {
        module: {
            m
            for node in tree.body
            for m in (
                _imported(module, node)
                if isinstance(node, (ast.Import, ast.ImportFrom))
                else _lazily_imported(node)
            )
        }
        for module, tree in TREES.items()
    }


def _cycle(graph):
    """One import cycle of `graph` as a list of modules, or None."""
    state = {}

    def visit(module, path):
        state[module] = "open"
        for dependency in sorted(graph[module]):
            if state.get(dependency) == "open":
                return path[path.index(dependency) :] + [dependency]
            if dependency not in state:
                found = visit(dependency, path + [dependency])
                if found:
                    return found
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module, [module])
            if found:
                return found
    return None


def test_no_import_cycle():
    assert _cycle(_import_graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_s2sjax_import_inside_a_function():
    hidden = [
        f"{module}:{node.lineno}"
        for module, tree in TREES.items()
        for function in ast.walk(tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function)
        if isinstance(node, (ast.Import, ast.ImportFrom)) and _imported(module, node)
    ]
    assert hidden == []


def _is_kind(node):
    return (isinstance(node, ast.Name) and node.id == "kind") or (
        isinstance(node, ast.Attribute) and node.attr == "kind"
    )


def _tests_of_a_transformation(tree):
    """Lines comparing a `kind` with a transformation's name, or naming one as `kind=`."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(map(_is_kind, [node.left, *node.comparators])):
            operands = [node.left, *node.comparators]
            constants = [
                c
                for o in operands
                for c in ([o] if not isinstance(o, (ast.Tuple, ast.Set, ast.List)) else o.elts)
            ]
            if any(isinstance(c, ast.Constant) and c.value in TRANSFORMATIONS for c in constants):
                lines.append(node.lineno)
        if (
            isinstance(node, ast.keyword)
            and node.arg == "kind"
            and isinstance(node.value, ast.Constant)
            and node.value.value in TRANSFORMATIONS
        ):
            lines.append(node.value.lineno)
    return lines


@pytest.mark.parametrize("module", [m for m in MODULES if not m.startswith("s2sjax.kinds")])
def test_no_transformation_is_tested_for_outside_kinds(module):
    assert _tests_of_a_transformation(TREES[module]) == []


def test_the_transformation_test_finder_finds_one():
    assert _tests_of_a_transformation(
        ast.parse("if kind in ('grad', 'vjp'):\n    f(kind='jvp')\n")
    ) == [1, 2]


# What `import s2sjax` must leave for the user's code or the command that needs it: SciPy's special
# functions and distributions (~1 s; s2sjax knows them by dotted path until the user's code imports
# them), dask and cloudpickle (vmap over dask arrays), Numba's CUDA target, the peers and plotting
# of the benchmarks, and s2sjax's command line with its checks and export.
HEAVY = (
    "scipy.special",
    "scipy.stats",
    "dask",
    "cloudpickle",
    "numba.cuda",
    "jax",
    "matplotlib",
    "pygments",
    "s2sjax.cli",
    "s2sjax.check",
    "s2sjax.export",
)
LOADED_BY_IMPORT = (
    "import sys, numba\n"
    "before = set(sys.modules)\n"
    "import s2sjax\n"
    "print(sorted(set(sys.modules) - before))"
)


def _loaded_by(script):
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return ast.literal_eval(out.stdout)


def test_importing_s2sjax_imports_nothing_heavy():
    loaded = _loaded_by(LOADED_BY_IMPORT)
    assert "s2sjax.api" in loaded  # the check sees what s2sjax imports
    assert [m for m in loaded if m.startswith(HEAVY)] == []


# What code generation needs, loaded as the first transformation is made and called (lazy.py),
# not by `import s2sjax`: the parser, the rules, the transforms and passes, the backend.
GENERATION = ("gast", "astor", "s2sjax.pipeline", "s2sjax.rules.", "s2sjax.passes.")


def test_importing_s2sjax_leaves_code_generation_for_the_first_transformation():
    ran = _loaded_by(LOADED_BY_IMPORT)
    assert "s2sjax.transformed" in ran
    assert [m for m in ran if m.startswith(GENERATION)] == []
    first = LOADED_BY_IMPORT.replace("import s2sjax\n", "import s2sjax, numpy\n")
    first = first.replace("print(", "s2sjax.grad(numpy.sin, target='python')(0.5)\nprint(", 1)
    assert "s2sjax.pipeline" in _loaded_by(first)
