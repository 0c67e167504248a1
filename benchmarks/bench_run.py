"""`learnloop run` before and after a change, side by side: the bundled digits and a generated 50,000-row table.

Each variant is a source tree (a git revision checked out in a temporary worktree, or this working tree) run in its
own process with ``PYTHONPATH=<tree>/src``; rounds interleave the variants (the order alternates every round), so
a machine shared with other jobs slows both alike. Reports the median wall time and the median CPU time (user +
system of the run's process and its children: steadier than wall time on a busy machine) and their ratios.

    python benchmarks/bench_run.py --before REV [--after REV] [--rounds 3] [--cases digits,table50k]

``--after`` defaults to this working tree. The table: 50,000 rows, 20 numeric features (10 informative, 5% of
labels flipped, scikit-learn's make_classification, seed 0) and one 3-value text column, written as CSV. The case
``regression50k`` is the same table with a continuous target (make_regression, noise 20), where the intervals come
from the bootstrap rather than closed forms.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import machine_line

ROOT = Path(__file__).resolve().parents[1]
RUN = "import sys; from learnloop.cli import main; sys.exit(main(sys.argv[1:]))"


def write_table(path: Path, rows: int = 50_000, regression: bool = False) -> Path:
    import numpy as np
    from sklearn.datasets import make_classification, make_regression

    if regression:
        x, y = make_regression(n_samples=rows, n_features=20, n_informative=10, noise=20.0, random_state=0)
    else:
        x, y = make_classification(n_samples=rows, n_features=20, n_informative=10, flip_y=0.05, random_state=0)
    color = np.random.default_rng(0).choice(["red", "green", "blue"], size=rows)
    with open(path, "w") as f:
        f.write(",".join([f"x{i}" for i in range(20)] + ["color", "y"]) + "\n")
        for i in range(rows):
            f.write(",".join(f"{v:.5f}" for v in x[i]) + f",{color[i]},{y[i]:g}\n")
    return path


def checkout(rev: str, into: Path) -> Path:
    """A detached worktree of ``rev``; returns its root."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(into), rev], check=True,
                   capture_output=True)
    return into


def run_once(src: Path, args: list[str], out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", RUN, "run", *args, "--out", str(out)], env=env, cwd=out.parent,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"learnloop run {' '.join(args)} failed with {src}:\n{proc.stderr[-2000:]}")
    report = json.loads((out / "report.json").read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stages = report.get("stage_seconds", {})
    return {"wall": wall, "cpu": cpu, "verdict": report["verdict"], "j_cv": report["j_cv"],
            "findings": stages.get("intervals_and_findings", 0.0)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", required=True, help="git revision measured as 'before'")
    p.add_argument("--after", default=None, help="git revision measured as 'after' (default: this working tree)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--cases", default="digits,table50k")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_run_") as tmp:
        tmp = Path(tmp)
        trees = {"before": checkout(args.before, tmp / "before")}
        trees["after"] = checkout(args.after, tmp / "after") if args.after else ROOT
        chosen = [c.strip() for c in args.cases.split(",")]
        cases = {"digits": []}
        if "table50k" in chosen:
            cases["table50k"] = ["--data", str(write_table(tmp / "table50k.csv")), "--target", "y"]
        if "regression50k" in chosen:
            cases["regression50k"] = ["--data", str(write_table(tmp / "regression50k.csv", regression=True)),
                                      "--target", "y", "--task", "regression"]
        samples = {c: {v: [] for v in trees} for c in chosen}
        try:
            for r in range(args.rounds):
                for case in chosen:
                    order = list(trees) if r % 2 == 0 else list(reversed(trees))
                    for variant in order:
                        out = tmp / f"{case}-{variant}-{r}" / "report"
                        out.parent.mkdir()
                        result = run_once(trees[variant] / "src", cases[case], out)
                        samples[case][variant].append(result)
                        print(f"  round {r + 1} {case:<9} {variant:<6} wall {result['wall']:7.1f} s  cpu "
                              f"{result['cpu']:7.1f} s  {result['verdict']}", file=sys.stderr, flush=True)
        finally:
            for tree in trees.values():
                if tree != ROOT:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                                   capture_output=True)
    print(f"{machine_line()}; load average at the end {os.getloadavg()[0]:.1f}")
    print(f"before: {args.before}; after: {args.after or 'working tree'}; {args.rounds} interleaved rounds, medians")
    print("| case | before wall s | after wall s | wall ratio | before CPU s | after CPU s | CPU ratio "
          "| intervals and findings s (after) | verdict after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for case, by in samples.items():
        med = {v: {k: statistics.median(s[k] for s in runs) for k in ("wall", "cpu", "findings")}
               for v, runs in by.items()}
        print(f"| {case} | {med['before']['wall']:.1f} | {med['after']['wall']:.1f} | "
              f"{med['after']['wall'] / med['before']['wall']:.3f} | {med['before']['cpu']:.1f} | "
              f"{med['after']['cpu']:.1f} | {med['after']['cpu'] / med['before']['cpu']:.3f} | "
              f"{med['after']['findings']:.2f} | {by['after'][-1]['verdict']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
