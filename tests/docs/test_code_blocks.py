"""Every code block in the documentation and the README runs in a test, or is marked as not run with a reason.

The documentation build runs each page's Python and shell blocks (docs/_ext/learnloop_docs/execute.py) and the
README's run in tests/test_readme.py; a block that cannot run here (it installs a package, needs a cluster...) says
why on the line above its fence: ``<!-- not run: REASON -->``. The rule itself is docs/_ext/learnloop_docs/blocks.py.
"""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
from learnloop_docs import blocks  # noqa: E402


def _generated(path: Path) -> bool:
    """Pages the build writes from the code (docs/.gitignore lists them): they hold no code of their own."""
    relative = "/" + path.relative_to(DOCS).as_posix()
    patterns = [p.strip() for p in (DOCS / ".gitignore").read_text().splitlines() if p.strip()[:1] == "/"]
    return any(relative.startswith(p) if p.endswith("/") else fnmatch.fnmatch(relative, p) for p in patterns)


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(p for p in DOCS.rglob("*.md") if not _generated(p))]


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_block_runs_or_says_why_not(page):
    problems = blocks.unaccounted(page.read_text(encoding="utf-8"))
    assert not problems, f"{page.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("page", [p for p in pages() if p.is_relative_to(DOCS)],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_example_fences_name_an_example_script(page):
    for fence in blocks.fences(page.read_text(encoding="utf-8")):
        if fence.lang == "{example}":
            name = fence.info.split(maxsplit=1)[1].strip() if len(fence.info.split()) > 1 else ""
            assert (ROOT / "examples" / name).is_file(), f"{page.name} line {fence.line}: no examples/{name!r}"


def test_the_generated_pages_are_left_out_and_the_written_ones_are_not():
    assert _generated(DOCS / "reference" / "api" / "learnloop.md")
    assert _generated(DOCS / "reference" / "http-api.md")
    assert not _generated(DOCS / "reference" / "index.md")
    assert DOCS / "index.md" in pages() and DOCS / "findings.md" in pages()


# ---- the rule, on small pages ------------------------------------------------------------------------------------
def test_python_and_shell_blocks_run_and_a_marked_one_does_not():
    text = "```python\nx = 1\n```\n\n<!-- not run: needs a GPU -->\n```bash\nnvidia-smi\n```\n"
    found = blocks.fences(text)
    assert [blocks.runnable(f) for f in found] == [True, False]
    assert found[1].not_run == "needs a GPU"
    assert blocks.unaccounted(text) == []


def test_a_mark_without_a_reason_is_refused():
    problems = blocks.unaccounted("<!-- not run: -->\n```python\nx = 1\n```\n")
    assert len(problems) == 1 and "gives no reason" in problems[0]
    assert "gives no reason" in blocks.unaccounted("<!-- not run -->\n```python\nx = 1\n```\n")[0]


def test_a_mark_away_from_its_block_is_refused():
    problems = blocks.unaccounted("<!-- not run: slow -->\n\n```python\nx = 1\n```\n")
    assert len(problems) == 1 and "not on the line right above" in problems[0]


def test_a_block_in_a_language_that_cannot_run_must_be_marked():
    assert "cannot run here" in blocks.unaccounted("```pycon\n>>> 1 + 1\n2\n```\n")[0]
    assert "no language" in blocks.unaccounted("```\nlearnloop run\n```\n")[0]
    assert blocks.unaccounted("<!-- not run: an interactive session -->\n```pycon\n>>> 1\n```\n") == []
    assert blocks.unaccounted("```text\noutput\n```\n\n```{note}\nA note.\n```\n") == []


def test_a_block_indented_in_a_list_is_found_and_dedented():
    found = blocks.fences("1. Train:\n\n   ```python\n   model.fit(x, y)\n   ```\n")
    assert len(found) == 1 and found[0].code == "model.fit(x, y)\n" and blocks.runnable(found[0])
