"""Build the documentation site from the repository, strictly, and check that it reads offline.

    pip install -e ".[docs]" && python docs/build.py --open      # builds docs/_build/html and opens it

Strict: Sphinx runs nitpicky (``-n``) with every warning an error (``-W --keep-going``), on a fresh environment
(``-E``, so a warning of an unchanged page is not lost to the cache). A broken cross-reference, a page missing from
the navigation, a dead internal link or a code block that fails to run fails the build, and every problem is listed
before it stops. After the build, every page is checked for scripts, stylesheets or fonts from another site: the
site needs no network.

``LEARNLOOP_DOCS_EXAMPLE_RUNS=DIR`` makes the tutorial pages show the example runs already in DIR (the test suite's,
see tests/example_runs.py) instead of running the examples again.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import time
import webbrowser
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "_build" / "html"
# An attribute that makes the browser fetch something: <script src>, <link href> (stylesheets, fonts, icons),
# <img src>, <iframe src>, and url(...) / @import in the stylesheets.
FETCHES = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?"
                     r"(?P<url>(?:https?:)?//[^\"'\s>]+)", re.I)
CSS_FETCHES = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"'])(?P<url>(?:https?:)?//[^\"')\s]+)", re.I)


def remote_fetches(site: Path) -> list[str]:
    """``file: url`` for every script, stylesheet, font or image a page of ``site`` would load from the network."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix == ".html":
            pattern = FETCHES
        elif path.suffix == ".css":
            pattern = CSS_FETCHES
        else:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(site)}: {m['url']}" for m in pattern.finditer(text)]
    return found


def build(out: Path = OUT, jobs: str = "1", quiet: bool = False) -> int:
    """Run the strict build into ``out``; 0 when it passed and the site reads offline."""
    if importlib.util.find_spec("sphinx") is None:
        print('docs/build.py: Sphinx is not installed; install the documentation tools with pip install -e ".[docs]"',
              file=sys.stderr)
        return 2
    from sphinx.cmd.build import build_main

    started = time.monotonic()
    args = ["-W", "--keep-going", "-n", "-E", "-b", "html", "-j", jobs, "-d", str(out / ".doctrees")]
    code = build_main([*args, *(["-q"] if quiet else []), str(DOCS), str(out)])
    if code != 0:
        print(f"docs/build.py: the build failed (exit {code}); the warnings above say where", file=sys.stderr)
        return code
    remote = remote_fetches(out)
    if remote:
        print("docs/build.py: pages load from the network (the site must read offline):\n  " + "\n  ".join(remote),
              file=sys.stderr)
        return 1
    print(f"docs/build.py: built {out / 'index.html'} in {time.monotonic() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python docs/build.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"the folder to write the site to (default {OUT})")
    parser.add_argument("--open", action="store_true", help="open the built site in the web browser")
    parser.add_argument("-j", "--jobs", default="1", help="processes reading and writing pages (a number, or auto)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only warnings and errors")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    code = build(out, args.jobs, args.quiet)
    if code == 0 and args.open:
        webbrowser.open((out / "index.html").as_uri())
    return code


if __name__ == "__main__":
    sys.exit(main())
