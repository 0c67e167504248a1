"""``learnloop run``: the notes' whole loop on one data set, ending in a report.

split 60/20/20 -> baseline -> architecture ladder chosen by J_cv -> bias/variance verdict -> lambda curve ->
learning curve -> advice -> error analysis -> (fairness audit by --group) -> J_test of the chosen model -> saved
model, report.html, report.json and the PNG plots in --out.

A table with more rows than the first diagnosis sample is never held whole: the diagnosis runs on a sample the
learning curve justifies and the chosen network is then trained on every training row, within ``--time-budget``
(:mod:`learnloop.commands._budgeted`, the rule in :mod:`learnloop.diagnostics.budget`). ``--scheduler`` sends the
sweeps' fits to a dask.distributed cluster.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from learnloop.commands._args import (
    codec,
    column_names,
    delimiter,
    error_level,
    jobs,
    non_negative_int,
    output_folder,
    positive_number,
    sample_rows,
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run", help="run the whole loop on a data set and write a report (default: bundled digits)",
        description="Split 60/20/20, estimate a baseline, choose a network by J_cv, diagnose bias/variance, sweep "
                    "lambda and the training-set size, advise what to try next, analyse the errors, measure J_test "
                    "once, save the model and write report.html/report.json.")
    p.add_argument("--data", default="digits", metavar="DATA",
                   help="digits, breast_cancer, wine, diabetes, iris, an .npz file (x, y, optional images), or a "
                        "table: CSV or other delimited text (any extension), Parquet, Arrow (default: digits)")
    p.add_argument("--target", metavar="COL", help="the table column to predict (default: the last column)")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    p.add_argument("--baseline", type=error_level, metavar="ERROR",
                   help="known error level to compare with (e.g. human-level error, >= 0); default: estimated with "
                        "a simple model")
    p.add_argument("--baseline-source", default="given", choices=["human-level", "competing algorithm", "given"],
                   help="what --baseline is, stated in the verdict (default: given)")
    p.add_argument("--group", action="append", default=[], metavar="COL",
                   help="a table column with subgroups for a fairness audit (repeatable); kept out of the features")
    p.add_argument("--missing", default="error", choices=["error", "drop", "impute"],
                   help="missing numbers in a table: stop and report them (default), drop those rows, or impute "
                        "them (training median plus a missing-indicator column); missing text is always a category")
    p.add_argument("--categorical", action="append", default=[], metavar="COL",
                   help="treat this column as categorical (e.g. numeric codes); repeatable")
    p.add_argument("--numeric", action="append", default=[], metavar="COL",
                   help="treat this column as numeric; repeatable")
    p.add_argument("--drop", action="append", default=[], metavar="COL", help="leave this column out; repeatable")
    p.add_argument("--names", type=column_names, metavar="A,B,...",
                   help="column names for a table without a header (or to replace its header), comma-separated")
    p.add_argument("--delimiter", metavar="CHAR", type=delimiter,
                   help="the table's delimiter: one character, or 'whitespace' for runs of spaces (default: sniffed)")
    p.add_argument("--encoding", metavar="CODEC", type=codec,
                   help="the table's text encoding, e.g. latin-1 (default: detected)")
    p.add_argument("--out", default="learnloop-report", type=output_folder,
                   help="output folder (default: learnloop-report)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--quick", action="store_true", help="a smaller ladder and fewer epochs (a smoke run)")
    p.add_argument("--jobs", type=jobs, default=1, metavar="N",
                   help="parallel fits (joblib processes; -1 for one per core; default 1)")
    p.add_argument("--time-budget", type=positive_number, metavar="SECONDS",
                   help="finish within about this many seconds: the diagnosis sample grows only while the time left "
                        "holds the next diagnosis and the final training, and the final training stops at an epoch "
                        "that would not end in time (default: no limit)")
    p.add_argument("--sample", type=sample_rows, metavar="N",
                   help="rows of a large table the diagnosis runs on (fixed), or 'all' for every row (default: "
                        "10,000, doubled while the learning curve says J_cv still falls)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a dask.distributed scheduler (tcp://HOST:8786): the sweeps' fits run on its workers "
                        "(pip install 'learnloop[cluster]')")
    p.add_argument("--quiet", action="store_true", help="no progress bars (they go to stderr, on terminals only)")
    p.set_defaults(func=run)


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        from learnloop.errors import LearnloopError

        raise LearnloopError("learnloop run draws plots with matplotlib: pip install 'learnloop[report]'.") from None


def predicted_labels(model, x) -> np.ndarray:
    """Class indices from a loop model's logits: argmax, or logit >= 0 for a single output."""
    from learnloop.models.outputs import class_indices

    return class_indices(model.predict(x), from_logits=True)


def describe_model(model, data, x_train, classes, seconds_note: str = "") -> None:
    """Store what a server and an audit need to know about the model in ``model.metadata``.

    ``x_train`` is the training part of the split (``splits.train``, whose ``indices`` locate the training rows of
    a table) or its rows as the network takes them. A table model's reference statistics describe the raw training
    columns it reads (numbers binned and sampled, categories counted), from the training rows (all rows when only
    the array is given), so a server measures drift per raw field.
    """
    from learnloop.serving.monitor import reference_statistics

    rows = getattr(x_train, "indices", None)
    x_train = getattr(x_train, "x", x_train)
    if data.task == "classification":
        pred = predicted_labels(model, x_train)
    else:
        pred = model.predict(x_train)[:, 0]
    if data.is_table:
        from learnloop.serving.drift_columns import column_types

        space = data.feature_space
        if rows is None:
            rows = np.arange(len(data.y))
            pred = predicted_labels(model, data.x) if data.task == "classification" else model.predict(data.x)[:, 0]
        raw = {name: data.columns[name][rows] for name in space.column_names}
        reference = reference_statistics(raw, pred, column_types=column_types(space), task=data.task)
    else:
        reference = reference_statistics(x_train, pred, feature_names=list(data.feature_names), task=data.task)
    model.metadata.update({
        "dataset": data.name, "task": data.task, "target": data.target_name,
        "feature_names": list(data.feature_names),
        "classes": None if classes is None else [c if isinstance(c, (int, float, str)) else str(c) for c in classes],
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reference_statistics": reference,
    })
    if data.is_table:
        model.metadata.update({
            "columns": list(data.source_columns), "group_columns": list(data.groups),
            "feature_columns": data.feature_space.column_names,
            "column_types": [d.as_dict() for d in data.decisions],
        })
        if data.target_parse is not None:
            model.metadata["target_parse"] = dict(data.target_parse)


def attach_pipeline(network, feature_space):
    """The trained ``network`` behind its ``feature_space``: a model that takes the raw columns."""
    from learnloop.models import Sequential

    model = Sequential([feature_space, *network.layers], name=network.name)
    model.compile(optimizer=network.optimizer, loss=network.loss, metrics=list(network._metric_specs))
    return model


def _fit_features(data, seed: int) -> None:
    """Adapt the table's feature pipeline on the rows the loop will train on (the same seeded 60/20/20 split)."""
    from learnloop.data.splits import train_cv_test_split
    from learnloop.diagnostics.loop import SPLIT_SIZES

    classification = data.task == "classification"
    split = train_cv_test_split(np.arange(len(data.y)), data.y, sizes=SPLIT_SIZES, stratify=classification,
                                seed=seed)
    data.fit_features(split.train.indices)


def check_splittable(data) -> None:
    """A stratified 60/20/20 split needs every class at least 3 times (once per part), said in the CLI's words."""
    from learnloop.errors import LearnloopError

    counts = np.bincount(np.asarray(data.y, dtype=np.int64), minlength=data.n_classes)
    rare = [(data.classes[i], int(c)) for i, c in enumerate(counts) if c < 3]
    if rare:
        listed = ", ".join(f"{label!r} ({n})" for label, n in rare[:5])
        raise LearnloopError(
            f"{data.name}: classes {listed} of the target '{data.target_name}' have fewer than 3 examples; the loop "
            f"splits 60/20/20 keeping the class proportions, so every class needs at least 3 rows. Leave those "
            f"rows out, merge rare classes, or pass --task regression if the target is a quantity.")


class _Stages:
    """Prints each stage of the loop as it starts: ``[k/n] what``."""

    def __init__(self, total: int):
        self.total, self.n = total, 0

    def __call__(self, what: str) -> None:
        self.n += 1
        print(f"[{self.n}/{self.total}] {what}", flush=True)


def run(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from learnloop.diagnostics import progress
    from learnloop.diagnostics.parallel import cluster

    _require_matplotlib()
    on_cluster = cluster(args.scheduler) if args.scheduler else nullcontext()
    with progress.showing(not args.quiet), on_cluster:
        return _run(args, n_jobs=-1 if args.scheduler else args.jobs)


def _run(args: argparse.Namespace, n_jobs) -> int:
    import learnloop as ll
    from learnloop.commands import _budgeted
    from learnloop.diagnostics.budget import Clock
    from learnloop.report.loop_report import LoopReport

    clock = Clock(args.time_budget)
    ll.set_seed(args.seed)
    large = _budgeted.is_large_table(args.data, args.sample)
    if large:
        stages = _Stages(_budgeted.STAGES + 2 + bool(args.group))
        outcome = _budgeted.run_loop(args, stages, clock, n_jobs)
        found, data = outcome.found, outcome.data
    else:
        stages = _Stages(5 + bool(args.group))
        found = _classic_loop(args, stages, n_jobs)
        data = found.pop("data")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = LoopReport(found, data, out)
    if large:
        report.add_stages(outcome.stages, outcome.notes)
    else:
        why = "every row: --sample all" if args.sample == "all" else \
            f"every row: no more than the first diagnosis sample ({_budgeted.budget.FIRST_SAMPLE:,} rows)" \
            if data.is_table else "every row, held in memory"
        report.add_stages(_budgeted.classic_stages(found, len(data.y), found.pop("load_seconds"), why))
    stages("plots")
    report.add_columns()
    report.add_curves()
    stages("error analysis on the cv set" + (f" ({found['splits'].cv.m:,} cv rows kept in memory)" if large else ""))
    report.add_error_analysis()
    if args.group:
        stages("fairness audit by " + ", ".join(args.group)
               + (f" ({found['splits'].test.m:,} test rows kept in memory)" if large else ""))
        report.add_fairness(args.group)
    stages("saving the model and the report")
    model, splits = found["model"], found["splits"]
    classes = found["results"]["classes"] if data.classes is None else data.classes
    describe_model(model, data, splits.train, classes)
    if data.is_table:
        network, model = model, attach_pipeline(model, data.feature_space)
        model.metadata = network.metadata
    model_path = out / "model.zip"
    model.save(model_path)
    html_path = report.write(model_path, clock.elapsed)
    print(f"\nreport: {html_path}")
    for line in report.summary_lines():
        print(line)
    return 0


def _classic_loop(args, stages, n_jobs) -> dict:
    """The loop on every row held in memory (bundled sets, NPZ files, tables up to the first sample's size)."""
    from learnloop.data.datasets import load_dataset
    from learnloop.diagnostics import progress
    from learnloop.diagnostics.loop import diagnose

    stages(f"loading {args.data}")
    start = time.perf_counter()
    data = load_dataset(args.data, target=args.target, task=args.task, missing=args.missing,
                        group_columns=args.group or None, categorical=args.categorical, numeric=args.numeric,
                        drop=args.drop, encoding=args.encoding, names=args.names,
                        delimiter=args.delimiter)
    for note in data.notes:
        print(f"      note: {note}")
    for decision in data.decisions:
        print(f"      column {decision.name}: {decision.reason}")
    if data.task == "classification":
        check_splittable(data)
    if data.is_table:
        _fit_features(data, args.seed)
    load_seconds = time.perf_counter() - start
    stages(f"the loop on {len(data.y)} examples ({data.task}): split 60/20/20, baseline, network size, lambda, "
           f"learning curve")

    def stage(what: str) -> None:
        progress.set_stage(what)
        print(f"      {what}", flush=True)

    found = diagnose(data.x, data.y, kind=data.task, baseline=args.baseline, seed=args.seed, quick=args.quick,
                     n_jobs=n_jobs, progress=stage,
                     baseline_source=args.baseline_source if args.baseline is not None else None)
    found.update(data=data, load_seconds=load_seconds)
    return found
