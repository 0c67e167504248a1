"""`learnloop run` on a 1,000,000-row x 22-column CSV within a time budget: end-to-end time, peak RSS, the stages,
and the verdict and architecture against a run of the loop on every row without the budget.

    python benchmarks/bench_run_large.py [--rows 1000000] [--budget 120] [--rounds 3]
                                         [--reference full/report.json] [--full [--full-sample N]] [--write]

The table is `make_table.py`'s (14 measurements, 6 whole-number columns, a city among 12, 1% missing values in two
columns, a 0/1 target from a logistic model of a few columns), written once to the temporary folder. Each round runs
`learnloop run --data table.csv --target target --missing impute --time-budget B` in its own process; its peak RSS is
its own ru_maxrss, printed as it exits. `--full` runs the reference once instead: the same command with `--sample
all` and no budget (the loop on all rows in memory: hours on 2 cores), or with `--full-sample N` the diagnosis on N
rows without a budget, whose report.json `--reference` then reads. Also measured, in this process: what adapting the
feature pipeline on every training row would cost (reading the whole table into memory first), against the sample's
training rows.
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

from _harness import machine_line, write_section
from make_table import make_table

ROOT = Path(__file__).resolve().parents[1]
RUN = ("import atexit, resource, sys; atexit.register(lambda: print('maxrss_kb', resource.getrusage("
       "resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)); from learnloop.cli import main; "
       "sys.exit(main(sys.argv[1:]))")
HEADING = "The loop at a million rows"


def run_once(csv: Path, out: Path, extra: list[str]) -> dict:
    args = ["run", "--data", str(csv), "--target", "target", "--missing", "impute", "--quiet", "--out", str(out),
            *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", RUN, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rss = [int(line.split()[1]) / 1024 for line in proc.stderr.splitlines() if line.startswith("maxrss_kb ")]
    rss = rss[-1] if rss else float("nan")
    if proc.returncode != 0:
        raise RuntimeError(f"learnloop {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    report = json.loads((out / "report.json").read_text())
    return {"wall": wall, "rss_mb": rss, "report": report, "command": "learnloop " + " ".join(args)}


def adapt_cost(csv: Path) -> dict:
    """Seconds and peak RSS growth to adapt the pipeline on every training row (the table read whole) and on the
    kept sample's training rows (as the budgeted run does)."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "src"))
    from learnloop.data.datasets import load_dataset
    from learnloop.data.sampling import row_parts, sample_dataset, sample_table
    from learnloop.diagnostics.budget import MAX_SAMPLE

    t = time.perf_counter()
    sample = sample_table(csv, "target", MAX_SAMPLE, 0)
    sd = sample_dataset(sample, "target", missing="impute")
    read_sample = time.perf_counter() - t
    rows = np.flatnonzero(sd.parts == 0)
    t = time.perf_counter()
    sd.data.feature_space.adapt({k: v[rows] for k, v in sd.data.columns.items()})
    on_sample = time.perf_counter() - t
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    data = load_dataset(str(csv), target="target", missing="impute")
    read_all = time.perf_counter() - t
    train = np.flatnonzero(row_parts(0, len(data.y), 0) == 0)
    t = time.perf_counter()
    data.feature_space.adapt({k: v[train] for k, v in data.columns.items()})
    on_all = time.perf_counter() - t
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"sample_rows": int(len(rows)), "sample_read": read_sample, "sample_adapt": on_sample,
            "all_rows": int(len(train)), "all_read": read_all, "all_adapt": on_all,
            "all_rss_growth_mb": rss_after - rss_before}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--budget", type=float, default=120.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reference", type=Path, help="report.json of the run on all rows without a budget")
    p.add_argument("--full", action="store_true", help="run the reference (all rows, no budget) once and stop")
    p.add_argument("--full-sample", default="all", metavar="N|all",
                   help="the reference's --sample: all (the loop on every row in memory: hours on 2 cores) or N, "
                        "the diagnosis on N rows and no time budget (default all)")
    p.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "learnloop-bench" / "run_large")
    p.add_argument("--write", action="store_true", help="record the results in RESULTS.md")
    args = p.parse_args(argv)

    csv = make_table(args.rows)["csv"]
    if args.full:
        result = run_once(csv, args.out / "full", ["--sample", str(args.full_sample)])
        r = result["report"]
        print(json.dumps({"wall": result["wall"], "rss_mb": result["rss_mb"], "verdict": r["verdict"],
                          "selected": r["selected"], "report": str(args.out / "full" / "report.json")}))
        return 0
    runs = []
    for k in range(args.rounds):
        result = run_once(csv, args.out / f"budget-{k}", ["--time-budget", f"{args.budget:g}"])
        runs.append(result)
        r = result["report"]
        print(f"  round {k + 1}: {result['wall']:.1f} s, peak RSS {result['rss_mb']:.0f} MB, {r['verdict']}, "
              f"hidden {r['selected']['architecture']}, lambda {r['selected']['lambda']:g}, load "
              f"{os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    adapt = adapt_cost(csv)
    reference = json.loads(args.reference.read_text()) if args.reference else None
    body = _section(args, csv, runs, adapt, reference)
    print(body)
    if args.write:
        write_section(Path(__file__).with_name("RESULTS.md"), HEADING, body)
    return 0


def _section(args, csv: Path, runs: list[dict], adapt: dict, reference: dict | None) -> str:
    walls = [r["wall"] for r in runs]
    rss = [r["rss_mb"] for r in runs]
    last = runs[-1]["report"]
    lines = [f"Command: `python benchmarks/bench_run_large.py --rows {args.rows} --budget {args.budget:g} --rounds "
             f"{args.rounds}{' --reference ' + str(args.reference) if args.reference else ''}` ({machine_line()}; "
             f"load average {os.getloadavg()[0]:.1f} at the end). Each round: `{runs[-1]['command']}` on "
             f"{csv.name} ({csv.stat().st_size / 2**20:.0f} MiB), in its own process.", "",
             "| round | wall s | peak RSS MB | verdict | hidden units | lambda | J_cv | J_test |",
             "|---:|---:|---:|---|---|---:|---:|---:|"]
    for k, run in enumerate(runs):
        r = run["report"]
        lines.append(f"| {k + 1} | {run['wall']:.1f} | {run['rss_mb']:.0f} | {r['verdict']} | "
                     f"{'-'.join(map(str, r['selected']['architecture']))} | {r['selected']['lambda']:g} | "
                     f"{r['j_cv']:.4f} | {r['j_test']:.4f} |")
    lines += ["", f"Median {statistics.median(walls):.1f} s (max {max(walls):.1f} s), peak RSS max {max(rss):.0f} MB. "
              f"Stages of the last round:", "", "| stage | rows | seconds | why |", "|---|---:|---:|---|"]
    for s in last["stages"]:
        lines.append(f"| {s['stage']} | {s['rows']:,} | {s['seconds']:.1f} | {s['why']} |")
    lines += ["", f"Adapting the feature pipeline on the {adapt['sample_rows']:,} training rows of the kept sample "
              f"takes {adapt['sample_adapt']:.2f} s; on all {adapt['all_rows']:,} training rows "
              f"{adapt['all_adapt']:.2f} s, after reading the whole table into memory ({adapt['all_read']:.1f} s, "
              f"peak RSS +{adapt['all_rss_growth_mb']:.0f} MB) where the sampling pass takes "
              f"{adapt['sample_read']:.1f} s in bounded memory."]
    if reference is not None:
        same = reference["verdict"] == last["verdict"] and \
            reference["selected"]["architecture"] == last["selected"]["architecture"]
        stages = {s["stage"]: s for s in reference.get("stages") or []}
        how = (f"the diagnosis on a sample of {stages['diagnosis']['rows']:,} rows and no time budget "
               f"(`--sample {stages['diagnosis']['rows']}`)" if "diagnosis" in stages else
               f"the loop on all {sum(reference['split_sizes'].values()):,} rows without a budget (`--sample all`)")
        lines += ["", f"Reference, {how}, {reference['seconds'] / 60:.0f} min: {reference['verdict']}, hidden units "
                  f"{'-'.join(map(str, reference['selected']['architecture']))}, lambda "
                  f"{reference['selected']['lambda']:g}, J_cv {reference['j_cv']:.4f}, J_test "
                  f"{reference['j_test']:.4f}. Same verdict and architecture: {'yes' if same else 'NO'}."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
