"""Every example in examples/ runs in its fast mode, exits 0 and prints the line that shows it did its job.

Each example runs in its own process (``sys.executable -W error examples/<name>.py --fast --figures DIR``), the way
a reader runs it, once per test session: tests/example_runs.py keeps the run, and the documentation build shows its
output and figures in the tutorial pages. An example whose data folder (../shared/data beside the repository) is
absent prints "skipped: ..." and exits 0; the test then skips with that reason. An example that needs an optional
extra is skipped when the extra is not installed.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from example_runs import examples, run_fast

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DATA = ROOT.parent / "shared" / "data"

# What each example must print (regular expressions, searched in its output).
KEY_LINES = {
    "course_coffee_roasting.py": [r"decisions on \[\[200,13.9\],\[200,17\]\]: expected \[1, 0\] as in the lab; "
                                  r"got \[1, 0\]"],
    "course_digits_binary.py": [r"got accuracy train 1\.000 \(288 images\), test 1\.000 \(72\)",
                                r"got 72/72 the same decisions"],
    "course_multiclass.py": [r"got 0\.9[6-9]\d with a softmax output, 0\.9[6-9]\d with logits",
                             r"argmax of the logits, expected always; got always"],
    "course_digits_loop.py": [r"got J_train 0\.0\d\d, J_cv 0\.0\d\d: high variance",
                              r"got 'get more training examples'"],
    "course_model_selection.py": [r"got 406\.19/551\.78",
                                  r"got degree 4 \(47\.15/79\.43, test 104\.63\)",
                                  r"networks, expected the lab's model_3 .*; got model_\d"],
    "ecg_conv1d.py": [r"1-nearest-neighbour baseline, expected 0\.88 .*; got 0\.88",
                      r"Conv1D \(801 weights\), .*got mean test accuracy 0\.[89]\d\d"],
    "serve_and_query.py": [r"served labels the same as predict\(\): True",
                           r"got 'stable' then 'drift'"],
    "fairness_adult.py": [r"UCI Adult: trained on 6000 rows", r"gaps \(between groups\)"],
    "sklearn_grid_search.py": [r"underfits \(high bias\), so a wider one wins; got units 32",
                               r"test accuracy 0\.9[5-9]\d"],
    "spam_error_analysis.py": [r"got 9[7-9]\.\d% on the test set", r"Error analysis: \d+ of \d+ cv examples"],
    "transfer_digits.py": [r"-> option 1 and option 2 beat training from scratch"],
}
NEEDS = {"serve_and_query.py": ("fastapi", "uvicorn", "prometheus_client", "orjson")}
READS_SHARED_DATA = ("course_coffee_roasting.py", "course_multiclass.py", "course_model_selection.py",
                     "ecg_conv1d.py", "fairness_adult.py", "transfer_digits.py")


def run_example(path: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "error", str(path), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def accepts_fast(path: Path) -> bool:
    return "--fast" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", examples(), ids=lambda p: p.name)
def test_example_runs_in_fast_mode_and_prints_its_result(path):
    if not accepts_fast(path):
        pytest.skip(f"{path.name} has no --fast mode yet")
    missing = [name for name in NEEDS.get(path.name, ()) if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"{path.name} needs {', '.join(missing)} (pip install 'learnloop[serve]')")
    result = run_fast(path.name)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{path.name} exited with {result.returncode}:\n{output[-3000:]}"
    skipped = re.search(r"^skipped: .*$", result.stdout, re.MULTILINE)
    if skipped:
        pytest.skip(f"{path.name}: {skipped.group(0)}")
    for pattern in KEY_LINES.get(path.name, []):
        assert re.search(pattern, result.stdout), f"{path.name} did not print /{pattern}/:\n{result.stdout[-3000:]}"
    assert result.stdout.strip(), f"{path.name} printed nothing"


@pytest.mark.parametrize("name", READS_SHARED_DATA)
def test_example_without_its_data_says_skipped_and_exits_0(name, tmp_path):
    result = run_example(EXAMPLES / name, "--fast", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("skipped: ") and str(tmp_path) in result.stdout, result.stdout

