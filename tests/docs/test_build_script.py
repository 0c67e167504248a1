"""docs/build.py's own checks, on small made-up sites (the real build is tests/docs/test_site_builds.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "build.py"


def _build_module():
    spec = importlib.util.spec_from_file_location("_docs_build", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_offline_check_finds_what_a_page_would_fetch_from_the_network(tmp_path):
    (tmp_path / "page.html").write_text(
        '<link rel="stylesheet" href="https://cdn.example/theme.css"><script src="//cdn.example/x.js"></script>'
        '<script src="_static/local.js"></script><a href="https://example.org/">a link is not a fetch</a>')
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "font.css").write_text(
        '@import "https://fonts.example/css"; @font-face { src: url(fonts/local.woff2) }'
        ' body { background: url("https://img.example/bg.png") }')
    assert _build_module().remote_fetches(tmp_path) == [
        "_static/font.css: https://fonts.example/css", "_static/font.css: https://img.example/bg.png",
        "page.html: https://cdn.example/theme.css", "page.html: //cdn.example/x.js"]


def test_a_site_of_local_files_passes(tmp_path):
    (tmp_path / "index.html").write_text('<script src="_static/searchtools.js"></script><link href="_static/a.css">')
    assert _build_module().remote_fetches(tmp_path) == []


def test_the_command_line_offers_out_and_open():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--open" in proc.stdout and "--out" in proc.stdout


def test_the_build_is_strict_and_fresh(tmp_path, monkeypatch):
    """Every warning an error (-W, all listed: --keep-going), nitpicky (-n: every reference must resolve), on a
    fresh environment (-E: a cached page's warnings are not skipped); Sphinx itself is stood in for."""
    import types

    build = _build_module()
    seen: list[list[str]] = []
    fake = types.ModuleType("sphinx.cmd.build")
    fake.build_main = lambda args: seen.append(list(args)) or 0
    for name in ("sphinx", "sphinx.cmd"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "sphinx.cmd.build", fake)
    monkeypatch.setattr(build.importlib.util, "find_spec", lambda name: object())
    assert build.build(tmp_path / "site", quiet=True) == 0
    assert {"-W", "--keep-going", "-n", "-E"} <= set(seen[0]) and seen[0][-2:] == [str(build.DOCS),
                                                                                   str(tmp_path / "site")]
    conf = (ROOT / "docs" / "conf.py").read_text(encoding="utf-8")
    assert "\nnitpicky = True\n" in conf


def test_without_sphinx_the_build_says_what_to_install(tmp_path, monkeypatch, capsys):
    build = _build_module()
    monkeypatch.setattr(build.importlib.util, "find_spec", lambda name: None)
    assert build.build(tmp_path / "site") == 2
    assert 'pip install -e ".[docs]"' in capsys.readouterr().err
