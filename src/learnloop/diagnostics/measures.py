"""The notes' cost measures: J = sum((yhat - y)^2) / 2m for regression, the fraction misclassified for
classification, and J_train / J_cv / J_test of a fitted model on named splits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from learnloop.errors import LearnloopError

KINDS = ("classification", "regression")


def _rows(a, name: str, where: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 0:
        raise LearnloopError(f"{where} expects {name} with one entry per example; got a scalar {a!r}.")
    return a.reshape(len(a), -1) if a.ndim > 1 else a.reshape(-1, 1)


def squared_error_losses(y, yhat) -> np.ndarray:
    """Per-example squared error / 2: ``sum_j (yhat_ij - y_ij)^2 / 2``, whose mean is :func:`mse_cost`.

    Args:
        y: (m,) or (m, k) targets.
        yhat: predictions of the same number of values per example ((m,) and (m, 1) mix freely).

    Returns:
        (m,) float64 losses.
    """
    y, yhat = _rows(y, "y", "mse_cost"), _rows(yhat, "yhat", "mse_cost")
    if y.shape != yhat.shape:
        raise LearnloopError(f"mse_cost expects y and yhat of the same shape; got y {y.shape} and yhat {yhat.shape}.")
    if len(y) == 0:
        raise LearnloopError("mse_cost expects at least one example; got empty arrays.")
    diff = yhat.astype(np.float64) - y.astype(np.float64)
    return np.einsum("ij,ij->i", diff, diff) / 2


def mse_cost(y, yhat) -> float:
    """The course's squared-error cost ``sum((yhat - y)^2) / (2m)``.

    Args:
        y: (m,) or (m, k) targets.
        yhat: predictions of the same number of values per example ((m,) and (m, 1) mix freely).

    Returns:
        The cost as a Python float.
    """
    return float(np.mean(squared_error_losses(y, yhat)))


def predicted_labels(yhat, threshold: float = 0.5) -> np.ndarray:
    """Turn a model's output into one label per example.

    Args:
        yhat: (m,) or (m, 1) labels, probabilities or logits; or (m, k > 1) class scores.
        threshold: cut for a single probability column.

    Returns:
        (m,) labels. A (m, k > 1) output is argmaxed. A single column is read as labels when it holds integers
        (or whole-number floats outside [0, 1]), as probabilities thresholded at ``threshold`` when all its values lie
        in [0, 1], and otherwise as logits, thresholded at ``log(threshold / (1 - threshold))`` (0 for 0.5).
    """
    yhat = _rows(yhat, "yhat", "classification_error")
    if yhat.shape[1] > 1:
        return yhat.argmax(axis=1)
    col = yhat[:, 0]
    if col.dtype.kind in "biuUSO":
        return col
    if not 0.0 < threshold < 1.0:
        raise LearnloopError(f"classification threshold must lie strictly between 0 and 1; got {threshold!r}.")
    if np.all((col >= 0) & (col <= 1)):
        return (col >= threshold).astype(np.int64)
    if np.all(col == np.round(col)):
        return col.astype(np.int64)
    return (col >= np.log(threshold / (1 - threshold))).astype(np.int64)


def _true_labels(y) -> np.ndarray:
    y = _rows(y, "y", "classification_error")
    return y.argmax(axis=1) if y.shape[1] > 1 else y[:, 0]


def error_losses(y, yhat, threshold: float = 0.5) -> np.ndarray:
    """Per-example 0/1 errors (1 where misclassified), whose mean is :func:`classification_error`.

    Args:
        y: (m,) or (m, 1) labels, or (m, k) one-hot rows.
        yhat: labels, probabilities or logits, read as in :func:`predicted_labels`.
        threshold: probability cut for a single output column.

    Returns:
        (m,) float64 array of 0.0 and 1.0.
    """
    truth, pred = _true_labels(y), predicted_labels(yhat, threshold)
    if len(truth) != len(pred):
        raise LearnloopError(f"classification_error expects one prediction per example; got {len(truth)} labels "
                             f"and {len(pred)} predictions.")
    if len(truth) == 0:
        raise LearnloopError("classification_error expects at least one example; got empty arrays.")
    return (truth != pred).astype(np.float64)


def classification_error(y, yhat, threshold: float = 0.5) -> float:
    """Fraction of examples misclassified (the notes' J for classification).

    Args:
        y: (m,) or (m, 1) labels, or (m, k) one-hot rows.
        yhat: labels, probabilities or logits, read as in :func:`predicted_labels`.
        threshold: probability cut for a single output column.

    Returns:
        The error as a Python float in [0, 1].
    """
    return float(np.mean(error_losses(y, yhat, threshold)))


MAX_FLOAT_CLASSES = 20


def infer_kind(y) -> str:
    """``"regression"`` for continuous targets (scikit-learn's ``type_of_target``) and for float targets with
    more than 20 distinct values (whole-number counts or prices); otherwise ``"classification"``."""
    from sklearn.utils.multiclass import type_of_target

    y = np.asarray(y)
    if type_of_target(y).startswith("continuous"):
        return "regression"
    if y.dtype.kind == "f" and len(np.unique(y)) > MAX_FLOAT_CLASSES:
        return "regression"
    return "classification"


def check_kind(kind: str | None, y) -> str:
    if kind is None or kind == "auto":
        return infer_kind(y)
    if kind not in KINDS:
        raise LearnloopError(f"kind must be one of {list(KINDS)} or 'auto'; got {kind!r}.")
    return kind


def _sklearn_labels(model, x, threshold: float) -> np.ndarray | None:
    """Labels of a scikit-learn classifier from its scores, so ``threshold`` applies; ``None`` when it has none."""
    classes = getattr(model, "classes_", None)
    if classes is None:
        return None
    classes = np.asarray(classes)
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(x))
        if proba.ndim == 2 and proba.shape[1] == 2:
            return classes[(proba[:, 1] >= threshold).astype(np.int64)]
        return classes[proba.argmax(axis=1)]
    if hasattr(model, "decision_function"):
        scores = np.asarray(model.decision_function(x))
        if scores.ndim == 1:
            return classes[(scores >= 0).astype(np.int64)]
        return classes[scores.argmax(axis=1)]
    return None


def losses(model, x, y, kind: str, threshold: float = 0.5) -> np.ndarray:
    """Per-example losses of a fitted model on (x, y): 0/1 errors for classification, squared error / 2 for
    regression. Their mean is :func:`cost`; their spread gives the intervals of
    :mod:`learnloop.diagnostics.intervals`.

    Returns:
        (m,) float64 losses.
    """
    if kind == "regression":
        return squared_error_losses(y, model.predict(x))
    labels = _sklearn_labels(model, x, threshold) if hasattr(model, "get_params") else None
    if labels is not None:
        return error_losses(y, labels, threshold)
    out = model.predict(x)
    if getattr(getattr(model, "loss", None), "from_logits", False) and _rows(out, "yhat", "cost").shape[1] == 1:
        out = 1.0 / (1.0 + np.exp(-np.asarray(out, dtype=np.float64)))     # the loss says these are logits
    return error_losses(y, out, threshold)


def cost(model, x, y, kind: str, threshold: float = 0.5) -> float:
    """J of a fitted model on (x, y): :func:`mse_cost` or :func:`classification_error`."""
    return float(np.mean(losses(model, x, y, kind, threshold)))


@dataclass(frozen=True)
class JMeasures:
    """J_train, J_cv and (only when asked for) J_test of one model; ``cv`` is ``None`` for a two-way split.

    The per-example losses behind each J are kept (``train_losses``...), so :meth:`intervals` can say how
    precisely each is known.
    """

    j_train: float
    j_cv: float | None
    j_test: float | None = None
    kind: str = "classification"
    train_losses: np.ndarray | None = field(default=None, repr=False, compare=False)
    cv_losses: np.ndarray | None = field(default=None, repr=False, compare=False)
    test_losses: np.ndarray | None = field(default=None, repr=False, compare=False)

    def intervals(self, level: float = 0.95) -> dict:
        """95% intervals of each J measured: Wilson for error rates, the bootstrap over examples otherwise."""
        from learnloop.diagnostics.intervals import mean_interval

        return {name: mean_interval(values, level) for name, values in
                (("j_train", self.train_losses), ("j_cv", self.cv_losses), ("j_test", self.test_losses))
                if values is not None}

    def as_dict(self) -> dict:
        out = {"j_train": self.j_train, "j_cv": self.j_cv, "j_test": self.j_test, "kind": self.kind}
        if self.train_losses is not None:
            out["intervals"] = {k: v.as_list() for k, v in self.intervals().items()}
        return out


def j_measures(model, splits, kind: str | None = "auto", test: bool = False, threshold: float = 0.5) -> JMeasures:
    """Measure a model fitted on ``splits.train`` on each part.

    Args:
        model: a fitted learnloop model or scikit-learn estimator (anything with ``predict``).
        splits: :class:`learnloop.data.splits.Splits`.
        kind: ``"classification"`` (fraction misclassified), ``"regression"`` (squared error / 2m) or ``"auto"``.
        test: also measure J_test; leave it off while choosing models, so the test set stays unseen.
        threshold: probability cut for single-output classifiers.

    Returns:
        :class:`JMeasures`, with the per-example losses behind each J.
    """
    kind = check_kind(kind, splits.train.y)
    train = losses(model, splits.train.x, splits.train.y, kind, threshold)
    cv = None if splits.cv is None else losses(model, splits.cv.x, splits.cv.y, kind, threshold)
    test_losses = losses(model, splits.test.x, splits.test.y, kind, threshold) if test else None
    return JMeasures(j_train=float(train.mean()), j_cv=None if cv is None else float(cv.mean()),
                     j_test=None if test_losses is None else float(test_losses.mean()), kind=kind,
                     train_losses=train, cv_losses=cv, test_losses=test_losses)
