"""Write the documentation's generated parts.

They are docs/gallery.md and the stage listings of docs/how-it-works.md.

Run `python docs/generate.py` after a change to the generated code; tests/test_docs.py fails while
either page differs from what this script writes, so the pages cannot go stale.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
STAGES_START = "<!-- stages: written by docs/generate.py; do not edit by hand -->"
STAGES_END = "<!-- end of stages -->"

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


def _load_example(name):
    spec = importlib.util.spec_from_file_location(
        f"examples_{name}", REPO / "examples" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    (DOCS / "gallery.md").write_text(gallery_page())
    page = DOCS / "how-it-works.md"
    page.write_text(how_it_works_page(page.read_text()))
    print("wrote docs/gallery.md and the stages of docs/how-it-works.md")


if __name__ == "__main__":
    main()
