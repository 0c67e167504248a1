"""The audit's metrics: plain ``f(y_true, y_pred)`` functions on binary or multiclass labels, or on a regression's
targets and predictions, and their names.

A rate whose denominator is empty (TPR in a group with no positive samples) is NaN; see
:mod:`learnloop.diagnostics.fairness`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping

import numpy as np

from learnloop._registry import lookup
from learnloop.errors import LearnloopError

Array = np.ndarray
Metric = Callable[[Array, Array], float]


def _confusion(y_true, y_pred, pos_label) -> tuple[int, int, int, int]:
    """(tp, fp, tn, fn) for binary labels with ``pos_label`` as the positive class."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    check_binary(y_true, y_pred, pos_label, where="this metric")
    t, p = y_true == pos_label, y_pred == pos_label
    tp = int(np.count_nonzero(t & p))
    fp = int(np.count_nonzero(~t & p))
    fn = int(np.count_nonzero(t & ~p))
    return tp, fp, len(t) - tp - fp - fn, fn


def _rate(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples predicted right."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def error_rate(y_true, y_pred) -> float:
    """Fraction of samples predicted wrong: 1 - accuracy."""
    return 1.0 - accuracy(y_true, y_pred)


def selection_rate(y_true, y_pred, pos_label=1) -> float:
    """Fraction of samples predicted positive (demographic parity compares this across groups)."""
    return float(np.mean(np.asarray(y_pred) == pos_label))


def true_positive_rate(y_true, y_pred, pos_label=1) -> float:
    """TP / (TP + FN), the recall; NaN when there is no positive sample."""
    tp, _, _, fn = _confusion(y_true, y_pred, pos_label)
    return _rate(tp, tp + fn)


def false_positive_rate(y_true, y_pred, pos_label=1) -> float:
    """FP / (FP + TN); NaN when there is no negative sample."""
    _, fp, tn, _ = _confusion(y_true, y_pred, pos_label)
    return _rate(fp, fp + tn)


def false_negative_rate(y_true, y_pred, pos_label=1) -> float:
    """FN / (TP + FN) = 1 - TPR; NaN when there is no positive sample."""
    tp, _, _, fn = _confusion(y_true, y_pred, pos_label)
    return _rate(fn, tp + fn)


def true_negative_rate(y_true, y_pred, pos_label=1) -> float:
    """TN / (TN + FP) = 1 - FPR; NaN when there is no negative sample."""
    _, fp, tn, _ = _confusion(y_true, y_pred, pos_label)
    return _rate(tn, tn + fp)


def mean_absolute_error(y_true, y_pred) -> float:
    """Mean |prediction - target| of a regression."""
    return float(np.mean(np.abs(np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64))))


def mean_squared_error(y_true, y_pred) -> float:
    """Mean (prediction - target)^2 of a regression."""
    return float(np.mean((np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)) ** 2))


def mean_prediction(y_true, y_pred) -> float:
    """Mean predicted value (a regression's counterpart of the selection rate)."""
    return float(np.mean(np.asarray(y_pred, dtype=np.float64)))


METRICS: dict[str, Metric] = {
    "accuracy": accuracy,
    "error_rate": error_rate,
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "tnr": true_negative_rate,
    "mae": mean_absolute_error,
    "mse": mean_squared_error,
    "mean_prediction": mean_prediction,
}
_ALIASES = {"true_positive_rate": "tpr", "recall": "tpr", "false_positive_rate": "fpr",
            "false_negative_rate": "fnr", "true_negative_rate": "tnr", "specificity": "tnr",
            "mean_absolute_error": "mae", "mean_squared_error": "mse"}
_TAKES_POS_LABEL = frozenset({selection_rate, true_positive_rate, false_positive_rate, false_negative_rate,
                              true_negative_rate})
_BINARY = frozenset({true_positive_rate, false_positive_rate, false_negative_rate, true_negative_rate})
DEFAULT_METRICS = ("accuracy", "error_rate", "selection_rate", "tpr", "fpr", "fnr")
REGRESSION_METRICS = ("mae", "mse", "mean_prediction")


def check_binary(y_true: Array, y_pred: Array, pos_label, where: str = "audit") -> None:
    """Raise unless ``y_true`` and ``y_pred`` together hold at most two labels, one of them ``pos_label``."""
    labels = np.union1d(np.unique(y_true), np.unique(y_pred))
    if len(labels) > 2 or (len(labels) == 2 and pos_label not in labels):
        shown = labels[:10].tolist()
        hint = ""
        if labels.dtype.kind == "f" and np.any((labels > 0) & (labels < 1)):
            hint = " y_pred looks like probabilities: threshold them first, e.g. (p >= 0.5).astype(int)."
        raise LearnloopError(
            f"{where} needs binary labels (pos_label={pos_label!r} and one other value); y_true and y_pred hold "
            f"{len(labels)} distinct values {shown}{' ...' if len(labels) > 10 else ''}.{hint}")


def resolve_metrics(metrics, pos_label=1) -> dict[str, Metric]:
    """Names, callables or a name -> callable dict, as ``{name: f(y_true, y_pred)}`` with ``pos_label`` bound."""
    if isinstance(metrics, (str, Mapping)) or callable(metrics):
        metrics = [metrics] if not isinstance(metrics, Mapping) else metrics
    items = metrics.items() if isinstance(metrics, Mapping) else [(None, m) for m in metrics]
    out: dict[str, Metric] = {}
    for name, m in items:
        if isinstance(m, str):
            key = _ALIASES.get(m.lower(), m.lower())
            fn = lookup("fairness metric", METRICS, key)
            name = name or key
        elif callable(m):
            fn = m
            name = name or getattr(m, "__name__", None) or f"metric_{len(out)}"
        else:
            raise LearnloopError(
                f"audit metrics take names from {sorted(METRICS)} or f(y_true, y_pred) callables; got {m!r}.")
        if name in out:
            raise LearnloopError(f"audit got the metric name {name!r} twice; use a dict to name them apart.")
        out[name] = functools.partial(fn, pos_label=pos_label) if fn in _TAKES_POS_LABEL else fn
    if not out:
        raise LearnloopError("audit needs at least one metric.")
    return out


def _needs_binary(fn: Metric) -> bool:
    return getattr(fn, "func", fn) in _BINARY
