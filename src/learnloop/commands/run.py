"""``learnloop run``: the notes' whole loop on one data set, ending in a report.

split 60/20/20 -> baseline -> architecture ladder chosen by J_cv -> bias/variance verdict -> lambda curve ->
learning curve -> advice -> error analysis -> (fairness audit by --group) -> J_test of the chosen model -> saved
model, report.html, report.json and the PNG plots in --out.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run", help="run the whole loop on a data set and write a report (default: bundled digits)",
        description="Split 60/20/20, estimate a baseline, choose a network by J_cv, diagnose bias/variance, sweep "
                    "lambda and the training-set size, advise what to try next, analyse the errors, measure J_test "
                    "once, save the model and write report.html/report.json.")
    p.add_argument("--data", default="digits",
                   help="digits, breast_cancer, wine, diabetes, iris, or a .csv/.npz path (default: digits)")
    p.add_argument("--target", help="CSV column to predict (default: the last column)")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    p.add_argument("--baseline", type=float, help="known error level to compare with (e.g. human-level error); "
                                                  "default: estimated with a simple model")
    p.add_argument("--group", action="append", default=[],
                   help="CSV column with subgroups for a fairness audit (repeatable)")
    p.add_argument("--missing", default="error", choices=["error", "drop", "impute"],
                   help="what to do with missing CSV values (default: stop and report them)")
    p.add_argument("--out", default="learnloop-report", help="output folder (default: learnloop-report)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a smaller ladder and fewer epochs (a smoke run)")
    p.add_argument("--jobs", type=int, default=1, help="parallel fits (joblib processes; default 1)")
    p.set_defaults(func=run)


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        from learnloop.errors import LearnloopError

        raise LearnloopError("learnloop run draws plots with matplotlib: pip install 'learnloop[report]'.") from None


def predicted_labels(model, x) -> np.ndarray:
    """Class indices from a loop model's logits: argmax, or logit >= 0 for a single output."""
    out = model.predict(x)
    return np.argmax(out, axis=1) if out.shape[1] > 1 else (out[:, 0] >= 0).astype(np.int64)


def describe_model(model, data, x_train, classes, seconds_note: str = "") -> None:
    """Store what a server and an audit need to know about the model in ``model.metadata``."""
    from learnloop.serving.monitor import reference_statistics

    if data.task == "classification":
        pred = predicted_labels(model, x_train)
    else:
        pred = model.predict(x_train)[:, 0]
    model.metadata.update({
        "dataset": data.name, "task": data.task, "target": data.target_name,
        "feature_names": list(data.feature_names),
        "classes": None if classes is None else [c if isinstance(c, (int, float, str)) else str(c) for c in classes],
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reference_statistics": reference_statistics(x_train, pred, feature_names=list(data.feature_names),
                                                     task=data.task),
    })


class _Stages:
    """Prints each stage of the loop as it starts: ``[k/n] what``."""

    def __init__(self, total: int):
        self.total, self.n = total, 0

    def __call__(self, what: str) -> None:
        self.n += 1
        print(f"[{self.n}/{self.total}] {what}", flush=True)


def run(args: argparse.Namespace) -> int:
    import learnloop as ll
    from learnloop.data.datasets import load_dataset
    from learnloop.diagnostics.loop import diagnose

    _require_matplotlib()
    from learnloop.report.loop_report import LoopReport

    start = time.perf_counter()
    ll.set_seed(args.seed)
    stages = _Stages(5 + bool(args.group))
    stages(f"loading {args.data}")
    data = load_dataset(args.data, target=args.target, task=args.task, missing=args.missing,
                        group_columns=args.group or None)
    for note in data.notes:
        print(f"      note: {note}")
    stages(f"the loop on {len(data.y)} examples ({data.task}): split 60/20/20, baseline, network size, lambda, "
           f"learning curve")
    found = diagnose(data.x, data.y, kind=data.task, baseline=args.baseline, seed=args.seed, quick=args.quick,
                     n_jobs=args.jobs, progress=lambda what: print(f"      {what}", flush=True))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = LoopReport(found, data, out)
    stages("plots")
    report.add_curves()
    stages("error analysis on the cv set")
    report.add_error_analysis()
    if args.group:
        stages("fairness audit by " + ", ".join(args.group))
        report.add_fairness(args.group)
    stages("saving the model and the report")
    model, splits = found["model"], found["splits"]
    classes = found["results"]["classes"] if data.classes is None else data.classes
    describe_model(model, data, splits.train.x, classes)
    model_path = out / "model.zip"
    model.save(model_path)
    html_path = report.write(model_path, time.perf_counter() - start)
    print(f"\nreport: {html_path}")
    for line in report.summary_lines():
        print(line)
    return 0
