"""``learnloop audit MODEL --data FILE --target COL --group COL``: a fairness gate for a saved model.

The data is the raw table (CSV or any delimited text, Parquet, Arrow) with the true labels and the group columns.
A model written by ``learnloop run`` on a table applies its own pipeline to the raw columns (imputation included);
a headerless file with as many fields as the model's training file gets that file's column names. An array model
takes the columns its metadata names, else every numeric column but the target and the groups. True labels are
mapped to the model's classes (see :mod:`learnloop.commands._labelled`); rows whose target or group is missing are
left out and counted.

Classification models are audited on rates (the positive class of a binary model is its second class unless
``--pos-label`` says otherwise), regression models on MAE, MSE and the mean prediction by group. With
``--max-difference`` the command exits 1 when a chosen metric differs between groups by more than that (0
otherwise; 2 for bad input).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from learnloop.commands._args import codec
from learnloop.commands._labelled import (
    Labelled,
    ModelView,
    load_labelled,
    model_outputs,
    predicted_values,
    to_class,
)
from learnloop.diagnostics.fairness import DEFAULT_METRICS, METRICS, FairnessReport, audit
from learnloop.diagnostics.fairness_metrics import REGRESSION_METRICS, resolve_metrics
from learnloop.errors import LearnloopError

CLASSIFICATION_METRICS = tuple(m for m in METRICS if m not in REGRESSION_METRICS)
MULTICLASS_METRICS = ("accuracy", "error_rate")
_BINARY_ONLY = ("selection_rate", "tpr", "fpr", "fnr", "tnr")


def register(subparsers) -> None:
    p = subparsers.add_parser("audit", help="fairness audit of a saved model on labelled data, by group",
                              description="Fairness audit of a saved model by group on a labelled table, with a gate.")
    p.add_argument("model", metavar="MODEL", help="a model file written by model.save() or learnloop run")
    p.add_argument("--data", required=True, metavar="FILE",
                   help="the labelled table: CSV or other delimited text (a header line, or none when the model "
                        "knows its columns), Parquet or Arrow")
    p.add_argument("--target", default=None, metavar="COL",
                   help="the column with the true labels (default: the model's target column)")
    p.add_argument("--group", required=True, action="append", metavar="COL", dest="groups",
                   help="a sensitive column; repeat for intersections (e.g. --group sex --group race)")
    p.add_argument("--max-difference", type=float, default=None, metavar="D",
                   help="fail (exit 1) when a chosen metric differs between groups by more than D")
    p.add_argument("--metric", action="append", dest="metrics", metavar="NAME",
                   help=f"a metric to report and gate on (repeatable); classification: {list(CLASSIFICATION_METRICS)} "
                        f"(default {list(DEFAULT_METRICS)}); regression: {list(REGRESSION_METRICS)} (all by default; "
                        f"the gate needs one chosen)")
    p.add_argument("--pos-label", default=None, metavar="VALUE",
                   help="the positive class of a binary model (default: the model's second class)")
    p.add_argument("--threshold", type=float, default=0.5, help="probability cut for a one-output model (0.5)")
    p.add_argument("--method", choices=("between_groups", "to_overall"), default="between_groups",
                   help="difference between groups (max - min) or to the overall value")
    p.add_argument("--encoding", metavar="CODEC", type=codec, default=None,
                   help="the table's text encoding, e.g. latin-1 (default: detected)")
    p.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the report as JSON")
    p.set_defaults(func=run)


# ---- labels and metrics ----------------------------------------------------------------------------------------
def positive_class(view: ModelView, pos_label: str | None):
    """(the positive class, how it was chosen) for a binary classifier; (None, "") when there is none."""
    if view.task != "classification":
        if pos_label is not None:
            raise LearnloopError("--pos-label applies to classification; this model is a regression.")
        return None, ""
    if view.classes is None:
        return (1, "class 1 (the model's file names no classes)") if pos_label is None else (pos_label, "--pos-label")
    if pos_label is not None:
        cls, _ = to_class(pos_label, view.classes, "--pos-label")
        return cls, "--pos-label"
    if len(view.classes) == 2:
        return view.classes[1], "the model's second class; --pos-label chooses the other"
    return None, ""


def legacy_labels(y: np.ndarray, pos_label, path, target: str) -> np.ndarray:
    """True labels of a model whose file names no classes: numbers as they are; text as 1 where it is the
    ``--pos-label``, else 0 (the model predicts class indices 0/1)."""
    if y.dtype.kind in "iuf":
        if pos_label is None or pos_label == 1:
            return y
        try:
            pos = float(pos_label)
        except ValueError:
            raise LearnloopError(f"--pos-label {pos_label!r} is not a number, but target {target!r} is numeric.") \
                from None
        return (y == pos).astype(np.int64)
    labels = sorted(set(y.tolist()))
    if pos_label is None or pos_label == 1:
        raise LearnloopError(f"Target column {target!r} of {path} holds text labels {labels[:5]}; pass --pos-label "
                             "to say which one the model predicts as class 1.")
    if pos_label not in labels:
        raise LearnloopError(f"--pos-label {pos_label!r} does not occur in target column {target!r}; its values "
                             f"are {labels[:10]}.")
    return (y == pos_label).astype(np.int64)


def choose_metrics(view: ModelView, metrics: list[str] | None, pos) -> list[str]:
    """The metrics to report, checked against the model's task, named as the command line names them."""
    resolved = list(resolve_metrics(metrics)) if metrics else None
    if view.task == "regression":
        wrong = [m for m in resolved or [] if m not in REGRESSION_METRICS]
        if wrong:
            raise LearnloopError(f"--metric {wrong[0]} applies to classification; a regression model is audited "
                                 f"with {list(REGRESSION_METRICS)}.")
        return resolved or list(REGRESSION_METRICS)
    wrong = [m for m in resolved or [] if m in REGRESSION_METRICS]
    if wrong:
        raise LearnloopError(f"--metric {wrong[0]} applies to regression; a classifier is audited with "
                             f"{list(CLASSIFICATION_METRICS)}.")
    if pos is None:                            # more than two classes: rates of one class need --pos-label
        binary = [m for m in resolved or [] if m in _BINARY_ONLY]
        if binary:
            raise LearnloopError(f"--metric {binary[0]} needs a positive class; the model has "
                                 f"{len(view.classes or [])} classes {view.classes}: pass --pos-label to measure "
                                 f"one class against the rest, or use {list(MULTICLASS_METRICS)}.")
        return resolved or list(MULTICLASS_METRICS)
    return resolved or list(DEFAULT_METRICS)


def audit_file(view: ModelView, path, target: str | None, groups: list[str], metrics=None, pos_label=None,
               threshold: float = 0.5, encoding: str | None = None) -> tuple[FairnessReport, Labelled, dict]:
    """Read ``path``, predict with the model and audit the predictions by the ``groups`` columns.

    Returns:
        (the report, the rows read, what was decided: ``pos_label``, ``pos_label_from``, ``metrics``).
    """
    pos, why = positive_class(view, pos_label)
    chosen = choose_metrics(view, metrics, pos)
    data = load_labelled(path, view, target, groups, encoding)
    y_true = data.y
    y_pred = predicted_values(view, model_outputs(view, data), threshold)
    if view.classes is None and view.task == "classification":
        y_true = legacy_labels(y_true, pos_label, path, target)
        pos = 1
    if pos is not None and len(view.classes or []) > 2:      # one class against the rest
        y_true, y_pred = (y_true == pos).astype(np.int64), (y_pred == pos).astype(np.int64)
        pos, why = 1, f"{why}: {pos_label!r} against the other classes (1 = {pos_label!r})"
    groups_in = {g: np.array([_group_text(v) for v in data.groups[g].tolist()]) for g in groups}
    report = audit(y_true, y_pred, groups_in, chosen, pos_label=1 if pos is None else pos)
    return report, data, {"pos_label": pos, "pos_label_from": why, "metrics": chosen}


def _group_text(value) -> str:
    from learnloop.layers._features import canonical_text

    return canonical_text(value)


def gate(report: FairnessReport, max_difference: float, method: str = "between_groups") -> dict[str, float]:
    """The metrics whose difference exceeds ``max_difference`` (empty when the gate passes; NaN never fails)."""
    return {m: d for m, d in report.difference(method).items() if not math.isnan(d) and d > max_difference}


# ---- the command -----------------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    from learnloop.models import load_model

    if args.max_difference is not None and not args.max_difference >= 0:
        raise LearnloopError(f"--max-difference must be >= 0; got {args.max_difference!r}.")
    model = load_model(args.model)
    view = ModelView.of(model)
    if view.task == "regression" and args.max_difference is not None and not args.metrics:
        raise LearnloopError(f"a regression audit gates on one quantity in the target's units: pass --metric with "
                             f"--max-difference (one of {list(REGRESSION_METRICS)}).")
    report, data, chosen = audit_file(view, args.data, args.target, args.groups, args.metrics, args.pos_label,
                                      args.threshold, args.encoding)
    print(f"model {args.model}: {view.describe()}")
    for note in data.notes:
        print(f"note: {note}")
    if chosen["pos_label"] is not None and view.classes is not None:
        print(f"positive class: {chosen['pos_label']!r} ({chosen['pos_label_from']})")
    left = ", ".join(f"{n} with a missing {what}" for what, n in data.left_out.items())
    print(f"rows: {data.n} of {data.n_read} audited (left out: {left})")
    print(report)
    failed: dict[str, float] = {}
    if args.max_difference is not None:
        failed = gate(report, args.max_difference, args.method)
        what = "difference between groups" if args.method == "between_groups" else "difference to overall"
        verdict = "FAIL: " + ", ".join(f"{m} {d:.4f}" for m, d in failed.items()) if failed else "pass"
        print(f"gate: {what} <= {args.max_difference:g} on {report.metrics}: {verdict}")
    if args.json is not None:
        from learnloop.saving import atomic_write

        doc = {**report.to_dict(), "model": str(args.model), "data": str(args.data), "task": view.task,
               "classes": view.classes, "pos_label": _plain(chosen["pos_label"]),
               "data_rows": {"read": data.n_read, "audited": data.n, "left_out": data.left_out}, "notes": data.notes,
               "gate": None if args.max_difference is None else
               {"max_difference": args.max_difference, "method": args.method, "failed": failed}}
        with atomic_write(args.json, "w") as f:
            json.dump(_nan_to_none(doc), f, indent=2)
    return 1 if failed else 0


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _nan_to_none(obj):
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_to_none(v) for v in obj]
    return _plain(obj)
