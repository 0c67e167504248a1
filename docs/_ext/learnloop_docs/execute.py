"""The pages' code runs during the build; its output and figures go into the page, under the block.

Every fenced ``python`` or shell (``bash``, ``sh``, ``shell``, ``console``) block of a page runs, in page order, in
one process per page started in a fresh folder (see driver.py), unless the line just before the fence marks it::

    <!-- not run: REASON -->

(blocks.py reads the fences and the marks). The pages' processes start when the build starts, a few side by side,
while Sphinx generates and reads the other pages; figures go beside the build's doctrees.

A block that fails stops its page and fails the build (a warning, which ``-W`` makes an error), naming the page, the
line and the traceback. ``tests/docs/test_code_blocks.py`` checks that every such mark gives a reason.

Tutorial pages built around an example say so with a fence of their own::

    ```{example} course_coffee_roasting.py
    ```

which becomes the example's code, its output in fast mode and its figures. The run is taken from
``$LEARNLOOP_DOCS_EXAMPLE_RUNS/<example>/`` when the test session already made it (tests/example_runs.py), so no
example trains twice in CI; otherwise it runs here, cached by the content of the example and of learnloop.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sphinx.util import logging

from learnloop_docs import DOCS
from learnloop_docs.blocks import RUNNABLE, Fence, fences, runnable

LOG = logging.getLogger(__name__)
ROOT = DOCS.parent
EXAMPLES = ROOT / "examples"
GENERATED = DOCS / "_build" / "generated"     # set per build by use_build_folder(): concurrent builds stay apart
MAX_LINES = 60
PAGE_TIMEOUT = 900


# ---- output into the page -----------------------------------------------------------------------------------------
def _output_block(text: str) -> str:
    lines = text.rstrip().splitlines()
    if not lines:
        return ""
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"... ({len(lines) - MAX_LINES} more lines)"]
    body = "\n".join(lines)
    fence = "````" if "```" in body else "```"
    return f"\n{fence}{{code-block}} text\n:class: output\n\n{body}\n{fence}\n"


def use_build_folder(app) -> None:
    """Figures go beside this build's doctrees, not into the sources: two builds at once do not share them."""
    global GENERATED
    GENERATED = Path(app.doctreedir) / "learnloop-generated"
    shutil.rmtree(GENERATED, ignore_errors=True)


def _figures_markdown(paths: list[str], docname: str) -> str:
    out = []
    page_folder = (DOCS / docname).parent
    for path in paths:
        target = Path(path)
        relative = Path(os.path.relpath(target, page_folder)).as_posix()
        out.append(f"\n![{target.stem}]({relative})\n")
    return "".join(out)


def _example_runs() -> Path | None:
    given = os.environ.get("LEARNLOOP_DOCS_EXAMPLE_RUNS")
    return Path(given) if given else None


def _source_digest() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted((ROOT / "src" / "learnloop").rglob("*.py")) + [EXAMPLES / "_figures.py"]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def example_run(name: str) -> Path:
    """The folder holding the fast run of ``examples/<name>``: stdout.txt, returncode and its figures."""
    given = _example_runs()
    if given is not None and (given / Path(name).stem / "returncode").is_file():
        return given / Path(name).stem
    digest = hashlib.sha256(((EXAMPLES / name).read_bytes()) + _source_digest().encode()).hexdigest()[:16]
    folder = DOCS / "_build" / "examples" / f"{Path(name).stem}-{digest}"
    if not (folder / "returncode").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, "-W", "error", str(EXAMPLES / name), "--fast", "--figures",
                               str(folder)], cwd=ROOT, capture_output=True, text=True, timeout=PAGE_TIMEOUT)
        (folder / "stdout.txt").write_text(proc.stdout, encoding="utf-8")
        (folder / "stderr.txt").write_text(proc.stderr, encoding="utf-8")
        (folder / "returncode").write_text(str(proc.returncode), encoding="utf-8")
    return folder


def example_markdown(name: str, docname: str, line: int) -> str:
    path = EXAMPLES / name
    if not path.is_file():
        LOG.warning(f"{{example}} {name}: no such file in examples/", location=(docname, line))
        return ""
    ahead = _EXAMPLES_AHEAD.pop(name, None)
    run = ahead.result() if ahead is not None and _POOL and _POOL[1] == os.getpid() else example_run(name)
    code = int((run / "returncode").read_text())
    stdout = (run / "stdout.txt").read_text(encoding="utf-8")
    depth = "../" * docname.count("/")
    parts = [f"```{{literalinclude}} {depth}../examples/{name}\n:language: python\n:caption: examples/{name}\n```\n",
             f"\nRun it from the repository root: `python examples/{name}` (the full run), or with `--fast` "
             "(a few seconds), which is what printed the output below when this page was built.\n"]
    if code != 0:
        stderr = (run / "stderr.txt").read_text(encoding="utf-8")
        LOG.warning(f"examples/{name} --fast exited with {code}:\n{stdout[-2000:]}\n{stderr[-2000:]}",
                    location=(docname, line))
        return "".join(parts)
    skipped = re.search(r"^skipped: .*$", stdout, re.M)
    if skipped:
        parts.append(f"\n```{{note}}\nThe output is not shown: when this page was built the example said "
                     f"`{skipped[0]}` Its data comes from `../shared/data` beside the repository (see "
                     "examples/README.md); with the data in place it runs as shown there.\n```\n")
        return "".join(parts)
    parts.append(_output_block(stdout))
    figures = GENERATED / "examples" / Path(name).stem
    shutil.rmtree(figures, ignore_errors=True)
    figures.mkdir(parents=True, exist_ok=True)
    copies = []
    for png in sorted(run.glob("*.png")):
        shutil.copy(png, figures / png.name)
        copies.append(str(figures / png.name))
    parts.append(_figures_markdown(copies, docname))
    return "".join(parts)


# ---- running a page ------------------------------------------------------------------------------------------------
@dataclass
class PageRun:
    results: list[dict]
    problem: str | None         # why the page's code did not run to its end, other than a failing block
    seconds: float


def run_page(docname: str, blocks: list[Fence]) -> PageRun:
    """Run the page's blocks in a fresh folder, in one process (driver.py); touches no Sphinx state, so it may run
    in a thread while Sphinx reads other pages."""
    started = time.monotonic()
    figures = GENERATED / "figures" / docname
    shutil.rmtree(figures, ignore_errors=True)
    spec = {"page": f"{docname}.md", "figures": str(figures),
            "blocks": [{"lang": RUNNABLE[b.lang], "code": b.code, "line": b.line} for b in blocks]}
    with tempfile.TemporaryDirectory(prefix="learnloop-docs-page-") as folder:
        blocks_file, result_file = Path(folder) / ".blocks.json", Path(folder) / ".result.json"
        blocks_file.write_text(json.dumps(spec), encoding="utf-8")
        # Pages run side by side: one BLAS thread each (small matrices gain nothing from more, and lose much to
        # threads competing for the same cores).
        env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **os.environ,
               "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
               "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
        work = Path(folder) / "work"
        work.mkdir()
        try:
            proc = subprocess.run([sys.executable, str(Path(__file__).with_name("driver.py")), str(blocks_file),
                                   str(result_file)], cwd=work, env=env, capture_output=True, text=True,
                                  timeout=PAGE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return PageRun([], f"the code of {docname}.md did not finish within {PAGE_TIMEOUT} s",
                           time.monotonic() - started)
        results = json.loads(result_file.read_text(encoding="utf-8")) if result_file.is_file() else []
        problem = None
        if proc.returncode != 0:
            problem = f"the code of {docname}.md could not run:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    return PageRun(results, problem, time.monotonic() - started)


# Pages run ahead, in threads (each page is its own process), while Sphinx reads and autodocs the others: the build
# takes about the time of its longest part instead of the sum. source_read takes a page's run from here when the
# blocks are the ones that ran, else runs them itself.
_AHEAD: dict[str, tuple[list[tuple[str, str]], Future]] = {}
_EXAMPLES_AHEAD: dict[str, Future] = {}     # examples the pages show, when the test session has not run them
_POOL: list = []            # [ThreadPoolExecutor, pid]


def _key(blocks: list[Fence]) -> list[tuple[str, str]]:
    return [(b.lang, b.code) for b in blocks]


def run_pages_ahead(app) -> None:
    workers = max(1, min(4, os.cpu_count() or 1))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="learnloop-docs-page")
    _POOL[:] = [pool, os.getpid()]
    _AHEAD.clear()
    _EXAMPLES_AHEAD.clear()
    for path in sorted(DOCS.rglob("*.md")):
        docname = path.relative_to(DOCS).with_suffix("").as_posix()
        if docname.split("/")[0] in ("_build", "_ext", "keras"):
            continue
        found = fences(path.read_text(encoding="utf-8"))
        for fence in found:
            name = fence.info.split(maxsplit=1)[1].strip() if len(fence.info.split()) > 1 else ""
            if fence.lang == "{example}" and (EXAMPLES / name).is_file() and name not in _EXAMPLES_AHEAD:
                _EXAMPLES_AHEAD[name] = pool.submit(example_run, name)
        blocks = [f for f in found if runnable(f)]
        if blocks:
            _AHEAD[docname] = (_key(blocks), pool.submit(run_page, docname, blocks))


def stop_pages_ahead(app, exception) -> None:
    if _POOL:
        _POOL[0].shutdown(wait=True, cancel_futures=True)
        _POOL.clear()
    _AHEAD.clear()
    _EXAMPLES_AHEAD.clear()


def _page_run(docname: str, blocks: list[Fence]) -> PageRun:
    ahead = _AHEAD.pop(docname, None)
    if ahead is not None and _POOL and _POOL[1] == os.getpid() and ahead[0] == _key(blocks):
        return ahead[1].result()
    return run_page(docname, blocks)


def source_read(app, docname: str, source: list[str]) -> None:
    text = source[0]
    found = fences(text)
    examples = [f for f in found if f.info.strip().startswith("{example}")]
    blocks = [f for f in found if runnable(f)]
    if not examples and not blocks:
        return
    run = _page_run(docname, blocks) if blocks else PageRun([], None, 0.0)
    if blocks:
        LOG.info(f"ran the {len(blocks)} code blocks of {docname}.md in {run.seconds:.1f} s")
    if run.problem:
        LOG.warning(run.problem, location=docname)
    results = run.results
    inserts: list[tuple[int, int, str]] = []          # (start, end, replacement)
    for fence in examples:
        name = fence.info.strip().split(maxsplit=1)[1].strip() if len(fence.info.split()) > 1 else ""
        inserts.append((fence.start, fence.end, example_markdown(name, docname, fence.line)))
    for i, fence in enumerate(blocks):
        if i >= len(results):
            break
        result = results[i]
        addition = _output_block(result["output"]) + _figures_markdown(result["figures"], docname)
        inserts.append((fence.end, fence.end, addition))
        if result["error"]:
            LOG.warning(f"the code block at line {fence.line} of {docname}.md failed:\n{result['error']}\n"
                        f"{result['output'][-2000:]}", location=(docname, fence.line))
    if len(results) < len(blocks) and not run.problem and not any(r["error"] for r in results):
        LOG.warning(f"{docname}.md: only {len(results)} of its {len(blocks)} code blocks ran", location=docname)
    for start, end, replacement in sorted(inserts, reverse=True):
        text = text[:start] + replacement + text[end:]
    source[0] = text
