"""The documentation site: every ```python block runs, the generated pages are current, and
`mkdocs build --strict` passes (a warning fails it).

Blocks fenced as ```python run, a page's blocks in order as one script (so later blocks use
earlier names) in a fresh process; listings that are not meant to run are fenced ```py, ```sh
or ```text.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(page):
    """(line number, code) of each ```python block of `page`."""
    text = page.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _BLOCK.finditer(text)]


PAGES_WITH_CODE = [p for p in sorted(DOCS.glob("*.md")) if python_blocks(p)]


def run_python(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: p.name)
def test_the_code_blocks_of_each_page_run(page, tmp_path):
    parts = [f"# docs/{page.name}, line {line}\n{code}" for line, code in python_blocks(page)]
    script = tmp_path / f"{page.stem.replace('-', '_')}_blocks.py"
    script.write_text("\n".join(parts))
    result = run_python([str(script)], tmp_path)
    assert result.returncode == 0, (
        f"a code block of docs/{page.name} failed:\n{result.stderr[-3000:]}"
    )


def test_the_pages_with_code_include_the_tutorial_and_getting_started():
    assert {"tutorial.md", "getting-started.md", "coming-from-jax.md", "index.md"} <= {
        p.name for p in PAGES_WITH_CODE
    }


def load_generator():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_pages_are_current():
    generate = load_generator()
    assert (DOCS / "gallery.md").read_text() == generate.gallery_page(), (
        "run python docs/generate.py"
    )
    assert (DOCS / "functions.md").read_text() == generate.functions_page(), (
        "run python docs/generate.py"
    )
    current = (DOCS / "how-it-works.md").read_text()
    assert generate.how_it_works_page(current) == current, "run python docs/generate.py"
    assert current.count("```py\n") >= len(generate_stages()) and "### normalize" in current
    current = (DOCS / "coming-from-jax.md").read_text()
    assert generate.coming_from_jax_page(current) == current, "run python docs/generate.py"
    assert "`jax.pmap(f)`" in current
    errors = (DOCS / "errors.md").read_text()
    assert errors == generate.errors_page(), "run python docs/generate.py"
    assert errors.count("\n## ") == len(generate._load_docs_module("error_examples").EXAMPLES)


def generate_stages():
    from s2sjax.pipeline import STAGES

    return STAGES


def test_the_site_builds_strictly(tmp_path):
    result = run_python(
        ["-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")], REPO
    )
    assert result.returncode == 0, result.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    for name in ("grad", "value_and_grad", "jvp", "vmap", "tree_map", "defvjp"):
        assert f'id="s2sjax.{name}"' in api or f'id="s2sjax.extend.{name}"' in api, name
