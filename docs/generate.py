"""Write the documentation's generated parts.

They are docs/gallery.md, docs/functions.md (from the rule records), the stage listings of
docs/how-it-works.md, the table of docs/coming-from-jax.md (from s2sjax/habits.py) and
docs/errors.md (from the programs of docs/error_examples.py, run).

Run `python docs/generate.py` after a change to the generated code or the rules;
tests/test_docs.py fails while a page differs from what this script writes, so the pages cannot
go stale.
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
STAGES_START = "<!-- stages: written by docs/generate.py; do not edit by hand -->"
STAGES_END = "<!-- end of stages -->"
HABITS_START = (
    "<!-- habits: written by docs/generate.py from s2sjax/habits.py; do not edit by hand -->"
)
HABITS_END = "<!-- end of habits -->"

GALLERY_INTRO = """\
# Gallery of generated code

What s2sjax writes for the functions of `examples/gallery.py`, exactly as
`s2sjax.source` returns it (this page is written by `docs/generate.py` and
checked by the tests). Most entries use `target="python"`, whose code is
the plainest; the last shows the loop fusion of the compiled targets.
"""


def gallery_entries():
    """(title, what it shows, the call that generates it, the generated source)."""
    import s2sjax

    gallery = _load_example("gallery")
    rng = np.random.default_rng(0)
    params = [(rng.normal(size=(3, 4)), np.zeros(4)), (rng.normal(size=(4, 2)), np.zeros(2))]
    entries = [
        (
            "A loop: reverse mode with a tape",
            "grad(damped, target='python')(1.0, 0.5, 100)",
            s2sjax.grad(gallery.damped, target="python"),
            (1.0, 0.5, 100),
        ),
        (
            "The same loop in forward mode",
            "jvp(damped, (1.0, 0.5, 100), (1.0, 0.0, 0))",
            s2sjax.api._shared(gallery.damped, s2sjax.kinds.Jvp(), "python"),
            (1.0, 0.5, 100),
        ),
        (
            "A while loop with break",
            "grad(first_above, target='python')(xs, 2.0)",
            s2sjax.grad(gallery.first_above, target="python"),
            (np.ones(5), 2.0),
        ),
        (
            "Containers: a list of (w, b) layers",
            "value_and_grad(mlp_loss, target='python')(params, x, y)",
            s2sjax.value_and_grad(gallery.mlp_loss, target="python"),
            (params, np.ones((5, 3)), np.ones((5, 2))),
        ),
        (
            "vmap: pairwise distances",
            "vmap(vmap(l1, (0, None)), (None, 0), target='python')(a, b)",
            s2sjax.vmap(s2sjax.vmap(gallery.l1, (0, None)), (None, 0), target="python"),
            (np.ones((4, 3)), np.ones((5, 3))),
        ),
        (
            "vmap of grad: per-example gradients",
            "vmap(grad(l1), in_axes=(0, None), target='python')(a, b0)",
            s2sjax.vmap(s2sjax.grad(gallery.l1), in_axes=(0, None), target="python"),
            (np.ones((4, 3)), np.ones(3)),
        ),
        (
            "A custom rule (s2sjax.extend.defvjp)",
            "grad(log_likelihood, target='python')(x, w)",
            s2sjax.grad(gallery.log_likelihood, target="python"),
            (np.ones(3), np.ones(3)),
        ),
        (
            "Fusion on the compiled targets",
            "grad(softplus_sum)(x)  # target='cpu'",
            s2sjax.grad(gallery.softplus_sum),
            (np.ones(3),),
        ),
    ]
    return [
        (title, call, s2sjax.source(transformed, *args))
        for title, call, transformed, args in entries
    ]


def gallery_page():
    parts = [GALLERY_INTRO]
    for title, call, source in gallery_entries():
        parts.append(f"## {title}\n\n`{call}`:\n\n```py\n{source.rstrip()}\n```\n")
    return "\n".join(parts)


def stages_section():
    """`show --after STAGE` for each stage of quickstart's `f`, as the command prints it."""
    from s2sjax.pipeline import STAGES

    parts = [
        STAGES_START,
        "",
        "## Every stage of one function",
        "",
        "`python -m s2sjax show examples/quickstart.py:f --after STAGE` for each stage, "
        "as it prints:",
        "",
    ]
    for stage in STAGES:
        out = subprocess.run(
            [sys.executable, "-m", "s2sjax", "show", "examples/quickstart.py:f", "--after", stage],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=True,
        ).stdout
        parts += [f"### {stage}", "", "```py", out.rstrip(), "```", ""]
    parts.append(STAGES_END)
    return "\n".join(parts)


def how_it_works_page(current):
    """`current` (the page's text) with its stages section written anew (appended if missing)."""
    section = stages_section()
    if STAGES_START in current:
        before, rest = current.split(STAGES_START, 1)
        return before + section + rest.split(STAGES_END, 1)[1]
    return current.rstrip("\n") + "\n\n" + section + "\n"


def coming_from_jax_page(current):
    """`current` (docs/coming-from-jax.md) with its table written anew from s2sjax/habits.py,
    the table behind the hints of s2sjax's errors."""
    from s2sjax import habits

    before, rest = current.split(HABITS_START, 1)
    return (
        before
        + HABITS_START
        + "\n\n"
        + habits.markdown_table()
        + "\n"
        + HABITS_END
        + (rest.split(HABITS_END, 1)[1])
    )


ERRORS_INTRO = """\
# Errors

Every error s2sjax gives names the place in your code; tracebacks show your frames and the
generated code's, not s2sjax's (`S2SJAX_TRACEBACK_FILTERING=off` shows every frame). Here each
error a user can hit, with a program that raises it and what to write instead. This page is
written by `docs/generate.py`, which runs each program (`docs/error_examples.py`), and checked
by the tests: the messages are the ones s2sjax gives.
"""


def errors_page():
    """docs/errors.md: each example of docs/error_examples.py with the error it raises."""
    import tempfile

    examples = _load_docs_module("error_examples").EXAMPLES
    parts = [ERRORS_INTRO]
    with tempfile.TemporaryDirectory() as folder:
        for k, example in enumerate(examples):
            message = _error_of(example, Path(folder), k)
            parts.append(
                f"## {example.title}\n\n```py\n# example.py\n{example.source.rstrip()}\n```\n\n"
                f"`{example.call}`:\n\n```text\n{message}\n```\n\n{example.fix}\n"
            )
    return "\n".join(parts)


def _error_of(example, folder, k):
    """`type: message` of the error `example.call` raises, its paths relative to the folder."""
    import s2sjax

    path = folder / f"example_{k}.py"
    path.write_text(example.source)
    spec = importlib.util.spec_from_file_location(f"example_{k}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        eval(example.call, {**vars(module), "np": np, "s2sjax": s2sjax})
    except Exception as exc:
        notes = "".join(f"\n{note}" for note in getattr(exc, "__notes__", ()))
        text = f"{type(exc).__module__}.{type(exc).__name__}: {exc}{notes}"
        text = text.replace("builtins.", "")
        return text.replace(str(path), "example.py").replace(f"example_{k}.py", "example.py")
    raise AssertionError(f"{example.title}: {example.call} raised nothing")


FUNCTIONS_INTRO = """\
# Functions

Every NumPy, `math`, builtin and `operator` function that s2sjax knows, as its rule records
in `s2sjax/rules/` say (this page is written from them by `docs/generate.py` and checked by
the tests, so it cannot go stale). Each works under `grad`, `value_and_grad`, `jvp`, `vjp`,
`jacfwd`, `jacrev`, `hessian` and `vmap` of each, on the targets `python`, `cpu` and
`parallel`, and in the CUDA kernels of `vmap(..., target="cuda")`: `tests/test_sweep.py`
crosses every record's cases with every transformation and target. The last column says
where one is refused instead, with an error at your line. To add one, see
[Adding a function](adding-a-function.md).
"""

# (heading, whether a rule's name belongs to it), in the page's order
FUNCTION_FAMILIES = [
    ("NumPy", lambda name: name.startswith("np.")),
    ("math", lambda name: name.startswith("math.")),
    ("SciPy", lambda name: name.startswith("scipy.")),
    ("operator", lambda name: name.startswith("operator.")),
    ("Builtins", lambda name: name.isidentifier() and name != "astype"),
    ("Operators", lambda name: not name.isidentifier() and "." not in name),
]


def functions_page():
    from s2sjax import rules

    named = [(r.name, r) for r in rules.all_rules() if not r.custom]
    records = sorted(dict(named + _scipy_records()).items())  # one row per spelling
    parts = [FUNCTIONS_INTRO]
    for heading, belongs in FUNCTION_FAMILIES:
        rows = [_function_row(name, r) for name, r in records if belongs(name)]
        if rows:
            parts += [
                f"## {heading}",
                "",
                "| function | derivative in | refused |",
                "| --- | --- | --- |",
            ]
            parts += rows + [""]
    methods = ", ".join(
        f"`x.{m}` ({f'`{f}`' if '.' in f else 'a cast'})" for m, f in rules.METHODS.items()
    )
    parts += ["## Array methods", "", f"Each is its function's record: {methods}.", ""]
    return "\n".join(parts)


def _scipy_records():
    """(spelling, rule) of the SciPy functions, whose generated code calls runtime helpers."""
    from s2sjax.rules import registry

    return sorted(registry.by_path().items())


def _function_row(name, rule):
    differentiable = [
        p for p in rule.params if rule.differentiable(p) and p not in rule.unsupported
    ]
    derivative = ", ".join(f"`{p}`" for p in differentiable) or "none: its derivative is 0"
    if rule.loop_only:
        derivative = "the values it yields"
    elif (rule.expands is not None or rule.parts) and not rule.adjoints:
        derivative = "that of the operations it is written as"
    return f"| `{name}` | {derivative} | {'; '.join(_refusals(rule)) or '—'} |"


def _refusals(rule):
    """Where the record says this function is refused, in the words of its error."""
    refused = [f"the derivative in `{p}`: {why}" for p, why in rule.unsupported.items()]
    if not rule.adjoints and any(rule.differentiable(p) for p in rule.params):
        refused.append("reverse mode (`grad`, `vjp`, `jacrev`, `hessian`)")
    refused += _second_order_refusals(rule)
    if rule.product:
        refused.append("in CUDA kernels (a matrix or vector product)")
    if rule.loop_only:
        refused.append("anywhere but as the iterable of a `for`")
    return refused


def _second_order_refusals(rule):
    """The refusals of the runtime helpers its adjoints call: its derivative's derivative."""
    from s2sjax import rules

    texts = [t for t in rule.adjoints.values() if isinstance(t, str)]
    names = sorted({n for t in texts for n in re.findall(r"\brt\.\w+", t)})
    helpers = [rules.by_name(n) for n in names]
    return [
        f"derivatives of its derivative (`hessian`): {why}"
        for helper in helpers
        if helper is not None
        for why in helper.unsupported.values()
    ]


def _load_docs_module(name):
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_example(name):
    spec = importlib.util.spec_from_file_location(
        f"examples_{name}", REPO / "examples" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    (DOCS / "gallery.md").write_text(gallery_page())
    (DOCS / "functions.md").write_text(functions_page())
    page = DOCS / "how-it-works.md"
    page.write_text(how_it_works_page(page.read_text()))
    page = DOCS / "coming-from-jax.md"
    page.write_text(coming_from_jax_page(page.read_text()))
    (DOCS / "errors.md").write_text(errors_page())
    print(
        "wrote docs/gallery.md, docs/functions.md, docs/errors.md, the stages of "
        "docs/how-it-works.md and the table of docs/coming-from-jax.md"
    )


if __name__ == "__main__":
    main()
