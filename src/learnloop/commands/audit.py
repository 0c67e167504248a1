"""``learnloop audit MODEL --data file.csv --target COL --group COL``: a fairness gate for a saved model.

The model's features come from the CSV: the columns named in the model file's ``metadata["feature_names"]`` when
saving stored them, else every numeric column except the target and the group columns, in file order. The command
prints the metrics by group and, with ``--max-difference``, exits 1 when any chosen metric differs between groups by
more than that (0 otherwise; 2 for bad input).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np

from learnloop.diagnostics.fairness import DEFAULT_METRICS, METRICS, FairnessReport, audit
from learnloop.errors import LearnloopError

_MISSING = frozenset({"", "?", "na", "nan", "null", "none"})


def register(subparsers) -> None:
    p = subparsers.add_parser("audit", help="fairness audit of a saved model on a labelled CSV, by group",
                              description="Fairness audit of a saved model by group on a labelled CSV, with a gate.")
    p.add_argument("model", metavar="MODEL", help="a model file written by model.save()")
    p.add_argument("--data", required=True, metavar="CSV", help="labelled data with a header row")
    p.add_argument("--target", required=True, metavar="COL", help="the column with the true labels")
    p.add_argument("--group", required=True, action="append", metavar="COL", dest="groups",
                   help="a sensitive column; repeat for intersections (e.g. --group sex --group race)")
    p.add_argument("--max-difference", type=float, default=None, metavar="D",
                   help="fail (exit 1) when a metric differs between groups by more than D")
    p.add_argument("--metric", action="append", dest="metrics", metavar="NAME",
                   help=f"a metric to report and gate on (repeatable); one of {sorted(METRICS)}; "
                        f"default {list(DEFAULT_METRICS)}")
    p.add_argument("--pos-label", default=None, metavar="VALUE",
                   help="the target value the model predicts as class 1 (needed for text labels; default 1)")
    p.add_argument("--threshold", type=float, default=0.5, help="probability cut for a one-output model")
    p.add_argument("--method", choices=("between_groups", "to_overall"), default="between_groups",
                   help="difference between groups (max - min) or to the overall value")
    p.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the report as JSON")
    p.set_defaults(func=run)


# ---- CSV ---------------------------------------------------------------------------------------------------------
def read_csv(path) -> dict[str, list[str]]:
    """The columns of a CSV with a header row, as lists of stripped strings."""
    path = Path(path)
    if not path.is_file():
        raise LearnloopError(f"No data file at {path}.")
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.reader(f, skipinitialspace=True) if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise LearnloopError(f"{path} needs a header row and at least one data row; got {len(rows)} row(s).")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        raise LearnloopError(f"{path}: the header repeats a column name: {header}.")
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise LearnloopError(f"{path}, line {i}: {len(row)} fields; the header has {len(header)}.")
    return {name: [row[j].strip() for row in rows[1:]] for j, name in enumerate(header)}


def numeric(values: list[str]) -> np.ndarray | None:
    """The column as float64, or ``None`` when any value is missing or not a number."""
    if any(v.lower() in _MISSING for v in values):
        return None
    try:
        return np.array([float(v) for v in values])
    except ValueError:
        return None


def _column(columns: dict, name: str, path, role: str) -> list[str]:
    if name not in columns:
        raise LearnloopError(f"{path} has no {role} column {name!r}; its columns are {list(columns)}.")
    return columns[name]


def features_from_csv(columns: dict[str, list[str]], target: str, drop: list[str], feature_names=None,
                      path="the data") -> tuple[np.ndarray, list[str]]:
    """(x (n, features) float32, names): the stored ``feature_names``, else the numeric columns not dropped."""
    if feature_names:
        names = [str(n) for n in feature_names]
        missing = [n for n in names if n not in columns]
        if missing:
            raise LearnloopError(f"The model was trained on columns {missing} that {path} does not have; it has "
                                 f"{list(columns)}.")
    else:
        names = [n for n in columns if n != target and n not in drop and numeric(columns[n]) is not None]
        if not names:
            raise LearnloopError(f"{path} has no numeric feature column besides the target and group columns.")
    arrays = []
    for n in names:
        values = numeric(columns[n])
        if values is None:
            bad = next(v for v in columns[n] if v.lower() in _MISSING or not _is_number(v))
            raise LearnloopError(f"Feature column {n!r} of {path} must be numeric with no missing values; "
                                 f"found {bad!r}.")
        arrays.append(values)
    return np.column_stack(arrays).astype(np.float32), names


def _is_number(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def true_labels(values: list[str], pos_label: str | None, path="the data", target="target") -> np.ndarray:
    """Target values as the model's classes: numbers as they are; text as 1 where it equals ``pos_label``."""
    nums = numeric(values)
    if nums is not None:
        if pos_label is not None:
            pos = float(pos_label) if _is_number(pos_label) else None
            if pos is None:
                raise LearnloopError(f"--pos-label {pos_label!r} is not a number, but target {target!r} is numeric.")
            return (nums == pos).astype(np.int64)
        return nums.astype(np.int64) if np.all(nums == np.round(nums)) else nums
    labels = sorted(set(values))
    if pos_label is None:
        raise LearnloopError(f"Target column {target!r} of {path} holds text labels {labels[:5]}; pass --pos-label "
                             "to say which one the model predicts as class 1.")
    if pos_label not in labels:
        raise LearnloopError(f"--pos-label {pos_label!r} does not occur in target column {target!r}; its values "
                             f"are {labels[:10]}.")
    return (np.asarray(values) == pos_label).astype(np.int64)


# ---- predictions -------------------------------------------------------------------------------------------------
def predicted_labels(model, x: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class labels from ``model.predict``: one output cut at ``threshold`` (its logit for logits), else argmax."""
    out = np.asarray(model.predict(x, verbose=0))
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        out = out.reshape(-1)
        if not 0.0 < threshold < 1.0:
            raise LearnloopError(f"--threshold must be in (0, 1); got {threshold!r}.")
        from_logits = bool(getattr(getattr(model, "loss", None), "from_logits", False))
        cut = math.log(threshold / (1 - threshold)) if from_logits else threshold
        return (out >= cut).astype(np.int64)
    if out.ndim == 2:
        return out.argmax(axis=1)
    raise LearnloopError(f"audit needs a model with outputs (samples,) or (samples, classes); got {out.shape}.")


def audit_csv(model, path, target: str, groups: list[str], metrics=None, pos_label: str | None = None,
              threshold: float = 0.5) -> FairnessReport:
    """Read ``path``, predict with ``model`` and audit the predictions by the ``groups`` columns."""
    columns = read_csv(path)
    y_values = _column(columns, target, path, "target")
    group_columns = {g: np.asarray(_column(columns, g, path, "group")) for g in groups}
    saved = getattr(model, "metadata", None)
    feature_names = saved.get("feature_names") if isinstance(saved, dict) else None
    x, _ = features_from_csv(columns, target, groups, feature_names, path)
    y_true = true_labels(y_values, pos_label, path, target)
    y_pred = predicted_labels(model, x, threshold)
    return audit(y_true, y_pred, group_columns, metrics or DEFAULT_METRICS, pos_label=1)


def gate(report: FairnessReport, max_difference: float, method: str = "between_groups") -> dict[str, float]:
    """The metrics whose difference exceeds ``max_difference`` (empty when the gate passes; NaN never fails)."""
    return {m: d for m, d in report.difference(method).items() if not math.isnan(d) and d > max_difference}


def run(args: argparse.Namespace) -> int:
    from learnloop.models import load_model

    if args.max_difference is not None and not args.max_difference >= 0:
        raise LearnloopError(f"--max-difference must be >= 0; got {args.max_difference!r}.")
    model = load_model(args.model)
    report = audit_csv(model, args.data, args.target, args.groups, args.metrics, args.pos_label, args.threshold)
    print(report)
    failed: dict[str, float] = {}
    if args.max_difference is not None:
        failed = gate(report, args.max_difference, args.method)
        what = "difference between groups" if args.method == "between_groups" else "difference to overall"
        verdict = "FAIL: " + ", ".join(f"{m} {d:.4f}" for m, d in failed.items()) if failed else "pass"
        print(f"gate: {what} <= {args.max_difference:g} on {report.metrics}: {verdict}")
    if args.json is not None:
        from learnloop.saving import atomic_write

        doc = {**report.to_dict(), "gate": None if args.max_difference is None else
               {"max_difference": args.max_difference, "method": args.method, "failed": failed}}
        with atomic_write(args.json, "w") as f:
            json.dump(_nan_to_none(doc), f, indent=2)
    return 1 if failed else 0


def _nan_to_none(obj):
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_to_none(v) for v in obj]
    return obj
