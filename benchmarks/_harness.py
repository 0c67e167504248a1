"""Side-by-side benchmark harness: each (framework, case) runs in its own process, rounds are interleaved, and
results are medians. Workers print one JSON object on their last stdout line.

Usage from a benchmark script::

    results = run_matrix(__file__, frameworks=["learnloop", "torch"], cases=["small"], rounds=3)
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path


def run_worker(script: str, framework: str, case: str, timeout: float = 900) -> dict | None:
    """Run ``script --worker FRAMEWORK --case CASE`` in a fresh process; ``None`` when the framework is missing."""
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "2")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    proc = subprocess.run([sys.executable, script, "--worker", framework, "--case", case],
                          capture_output=True, text=True, timeout=timeout, env=env)
    lines = [line for line in proc.stdout.strip().splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        print(f"  {framework}/{case}: failed: {' | '.join(tail)}", file=sys.stderr)
        return None
    result = json.loads(lines[-1])
    return None if result.get("skipped") else result


def run_matrix(script: str, frameworks: list[str], cases: list[str], rounds: int = 3) -> dict:
    """{case: {framework: {metric: median}}} over ``rounds`` interleaved rounds."""
    samples: dict = {case: {fw: [] for fw in frameworks} for case in cases}
    for r in range(rounds):
        for case in cases:
            for fw in frameworks:
                result = run_worker(script, fw, case)
                if result is not None:
                    samples[case][fw].append(result)
                    print(f"  round {r + 1} {case:<14} {fw:<10} {result}", file=sys.stderr)
    out: dict = {}
    for case, by_fw in samples.items():
        out[case] = {}
        for fw, runs in by_fw.items():
            if runs:
                out[case][fw] = {k: statistics.median(run[k] for run in runs) for k in runs[0]}
    return out


def cpu_model() -> str:
    """The processor's name (from /proc/cpuinfo on Linux): results move with it, so every section records it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_line() -> str:
    """NumPy's BLAS and the kernel family it picked for this CPU, e.g. ``openblas 0.3.30 (Zen)``."""
    import numpy  # noqa: F401  (loads the BLAS that threadpoolctl reports)
    from threadpoolctl import threadpool_info

    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            arch = f" ({pool['architecture']})" if pool.get("architecture") else ""
            return f"{pool.get('internal_api')} {pool.get('version')}{arch}"
    return "unknown BLAS"


def machine_line() -> str:
    blas = os.environ.get("OPENBLAS_CORETYPE")
    note = f", OPENBLAS_CORETYPE={blas}" if blas else ""
    return (f"{cpu_model()}, {platform.machine()}, {os.cpu_count()} cores, NumPy BLAS {blas_line()}, "
            f"Python {platform.python_version()}{note}")


def write_section(results_md: Path, heading: str, body: str) -> None:
    """Replace (or append) the ``## heading`` section of RESULTS.md with ``body``."""
    text = results_md.read_text() if results_md.exists() else "# Benchmark results\n\nRatios, not absolute times: " \
        "the machine is shared and noisy. Each section says the command that produced it.\n"
    marker = f"## {heading}\n"
    start = text.find(marker)
    section = marker + body.rstrip() + "\n"
    if start == -1:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(marker))
        text = text[:start] + section + (text[end + 1:] if end != -1 else "")
    tmp = results_md.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(results_md)
