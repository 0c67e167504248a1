"""The documentation site builds strictly from the repository (python docs/build.py), and has what it promises.

The build runs in a subprocess into a temporary folder, as a reader runs it. Its tutorial pages show the examples'
fast runs: the runs are made here through tests/example_runs.py (``run_fast``), the same runs tests/test_examples.py
checks, and handed to the build with ``$LEARNLOOP_DOCS_EXAMPLE_RUNS``, so no example trains twice in a session. The
code blocks of every page run during the build; a failing block fails it. The build's own warnings stay in its
process (they are its errors: ``-W``) and are shown here only when it fails.

Skipped, saying why, when the documentation tools are not installed (``pip install -e ".[docs]"``), unless
``LEARNLOOP_DOCS_REQUIRED`` is set, as CI sets it: then their absence fails.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from example_runs import RUNS, run_fast

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
from learnloop_docs import api, blocks  # noqa: E402

TOOLS = ("sphinx", "myst_parser", "pydata_sphinx_theme")
BUILD_TIMEOUT = 1500
pytestmark = pytest.mark.slow


def _missing_tools() -> list[str]:
    return [t for t in TOOLS if importlib.util.find_spec(t) is None]


def example_scripts() -> list[str]:
    """The examples the pages show through an ``{example}`` fence."""
    names = set()
    for page in DOCS.rglob("*.md"):
        if "_build" in page.parts:
            continue
        for fence in blocks.fences(page.read_text(encoding="utf-8")):
            if fence.lang == "{example}" and len(fence.info.split()) > 1:
                names.add(fence.info.split(maxsplit=1)[1].strip())
    return sorted(names)


@pytest.fixture(scope="module")
def shown_examples() -> list[str]:
    return example_scripts()


@pytest.fixture(scope="module")
def site(tmp_path_factory, shown_examples) -> Path:
    missing = _missing_tools()
    if missing:
        message = f"the documentation tools are not installed ({', '.join(missing)}): pip install -e \".[docs]\""
        if os.environ.get("LEARNLOOP_DOCS_REQUIRED"):
            pytest.fail(message + " (LEARNLOOP_DOCS_REQUIRED is set)")
        pytest.skip(message)
    for name in shown_examples:
        run_fast(name)
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "LEARNLOOP_DOCS_EXAMPLE_RUNS": str(RUNS)}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(DOCS / "build.py"), "--out", str(out), "--quiet"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert proc.returncode == 0, f"python docs/build.py exited {proc.returncode} after " \
                                 f"{time.monotonic() - started:.0f} s:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    return out


def _html(site: Path, page: str) -> str:
    path = site / page
    assert path.is_file(), f"the site has no {page}"
    return path.read_text(encoding="utf-8")


def inventory(site: Path) -> set[str]:
    """The Python objects documented in the site (objects.inv: four header lines, then zlib-compressed rows)."""
    data = (site / "objects.inv").read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = data.index(b"\n", header_end) + 1
    rows = zlib.decompress(data[header_end:]).decode("utf-8").splitlines()
    return {m[1] for m in (re.match(r"(\S+)\s+py:\w+\s", row) for row in rows) if m}


def test_every_public_name_is_documented(site):
    documented = inventory(site)
    wanted = set(api.public_objects().values())
    missing = sorted(wanted - documented)
    assert not missing, f"public names with no entry in the API reference: {missing[:20]}"


def test_every_page_of_the_sources_is_in_the_site(site):
    for source in DOCS.rglob("*.md"):
        if {"_build", "keras"} & set(source.relative_to(DOCS).parts):
            continue
        page = source.relative_to(DOCS).with_suffix(".html")
        assert (site / page).is_file(), f"docs/{source.relative_to(DOCS)} was not built"


def test_a_page_per_command_the_http_api_and_the_finding_codes(site):
    import argparse

    from learnloop.cli import build_parser
    from learnloop.diagnostics.findings import CODES

    commands = next(a.choices for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert len(commands) >= 7
    for name, parser in commands.items():
        page = _html(site, f"reference/cli/{name}.html")
        options = [o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"]
        assert f"learnloop {name}" in page and all(o in page for o in options), f"reference/cli/{name}.html"
    assert "/v1/models/" in _html(site, "reference/http-api.html")
    assert any((site / "_downloads").rglob("openapi.json")), "the HTTP API page does not offer openapi.json"
    findings = _html(site, "findings.html")
    assert all(code in findings for code in CODES)


def test_the_keras_parity_table_and_the_differs_from_keras_notes(site):
    assert "supported" in _html(site, "reference/keras-parity.html")
    assert "Differs from Keras" in _html(site, "reference/api/learnloop.models.html")


def test_the_site_reads_offline_and_has_search(site):
    remote = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=[\"']?(?:https?:)?//", re.I)
    loading = [p.relative_to(site).as_posix() for p in site.rglob("*.html") if remote.search(p.read_text("utf-8"))]
    assert not loading, f"pages that load scripts, styles or fonts from the network: {loading[:10]}"
    assert 'src="_static/searchtools.js' in _html(site, "search.html")
    index = (site / "searchindex.js").read_text(encoding="utf-8")
    assert "sequenti" in index and "normal" in index            # stemmed terms of the API and the tutorials


def test_the_tutorial_pages_show_their_examples_run(site, shown_examples):
    assert len(shown_examples) >= 10, "the tutorials show the course's tasks through the examples"
    for name in shown_examples:
        stdout = (RUNS / Path(name).stem / "stdout.txt").read_text(encoding="utf-8")
        if re.search(r"^skipped: ", stdout, re.M):
            continue
        last = next(line for line in reversed(stdout.splitlines()) if line.strip())
        shown = [p for p in site.rglob("*.html") if f"examples/{name}" in p.read_text("utf-8")]
        assert shown, f"no page shows examples/{name}"
        words = re.findall(r"[A-Za-z]{4,}", last)[:3]
        assert any(all(w in p.read_text("utf-8") for w in words) for p in shown), \
            f"the pages showing examples/{name} do not show its output (last line {last!r})"
