"""Each example's fast run, once per test session, with its figures.

tests/test_examples.py checks what each example printed; the documentation build (tests/docs) shows the same output
and figures in the tutorial pages. Both ask ``run_fast``, so no example trains twice in one session. The runs are
kept in a temporary folder, one subfolder per example: ``stdout.txt``, ``returncode`` and the PNG figures.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
RUNS = Path(tempfile.mkdtemp(prefix="learnloop-example-runs-"))
atexit.register(shutil.rmtree, RUNS, ignore_errors=True)


def examples() -> list[Path]:
    """The example scripts (helpers such as ``_figures.py`` are not examples)."""
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


@functools.cache
def run_fast(name: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -W error examples/<name> --fast --figures RUNS/<stem>``, run once per session (the figures only
    where matplotlib is installed)."""
    folder = RUNS / Path(name).stem
    folder.mkdir(parents=True, exist_ok=True)
    figures = ["--figures", str(folder)] if importlib.util.find_spec("matplotlib") else []
    proc = subprocess.run([sys.executable, "-W", "error", str(EXAMPLES / name), "--fast", *figures],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    (folder / "stdout.txt").write_text(proc.stdout, encoding="utf-8")
    (folder / "stderr.txt").write_text(proc.stderr, encoding="utf-8")
    (folder / "returncode").write_text(str(proc.returncode), encoding="utf-8")
    return proc
