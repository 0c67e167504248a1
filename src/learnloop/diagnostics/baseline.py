"""A baseline level of error from a simple competing model, when no human-level error is known: held out, per
example, so a network's training losses can be compared with it example by example."""

from __future__ import annotations

import numpy as np

from learnloop.diagnostics.measures import check_kind, error_losses, squared_error_losses
from learnloop.errors import LearnloopError

BASELINE_METHODS = ("linear", "dummy")
SINGLE_THREAD_VALUES = 5_000_000        # a baseline on fewer values of x runs its BLAS calls on one thread


def _baseline_estimator(kind: str, method: str, seed: int):
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if method == "dummy":
        return DummyClassifier(strategy="most_frequent") if kind == "classification" else DummyRegressor()
    if kind == "classification":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, random_state=seed))
    return make_pipeline(StandardScaler(), LinearRegression())


def estimate_baseline(x, y, kind: str = "auto", method: str = "linear", folds: int = 5, seed: int = 0) -> float:
    """A baseline error from a simple competing model, measured on held-out folds of (x, y).

    Use it when no human-level error is known. ``"linear"`` (logistic regression for classification, linear
    regression for regression, on standardized features) is what a plain model reaches, a level a network
    should match or beat; ``"dummy"`` (most frequent class / the mean) is the error of guessing, an upper bound.

    Args:
        x: (m, ...) features (flattened to (m, n)).
        y: (m,) or (m, 1) targets (one-hot rows are read as labels).
        kind: ``"classification"``, ``"regression"`` or ``"auto"``.
        method: ``"linear"`` or ``"dummy"``.
        folds: number of cross-validation folds.
        seed: shuffling of the folds.

    Returns:
        The mean held-out error, as :func:`~learnloop.diagnostics.measures.classification_error` or
        :func:`~learnloop.diagnostics.measures.mse_cost` measure it: the mean of
        :func:`baseline_losses`.
    """
    return float(np.mean(baseline_losses(x, y, kind, method, folds, seed)))


def baseline_losses(x, y, kind: str = "auto", method: str = "linear", folds: int = 5, seed: int = 0) -> np.ndarray:
    """Per-example held-out losses of a simple model on (x, y): each example is predicted by the model fitted
    on the other folds (0/1 errors, or squared error / 2). Arguments as in :func:`estimate_baseline`.

    Returns:
        (m,) losses in the order of ``x``: paired with a network's training losses on the same rows.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    if method not in BASELINE_METHODS:
        raise LearnloopError(f"estimate_baseline method must be one of {list(BASELINE_METHODS)}; got {method!r}.")
    x = np.asarray(x)
    x = x.reshape(len(x), -1)
    y = np.asarray(y)
    if y.ndim == 2:
        y = y.argmax(axis=1) if y.shape[1] > 1 else y[:, 0]
    kind = check_kind(kind, y)
    if kind == "classification":
        _, counts = np.unique(y, return_counts=True)
        folds = max(2, min(folds, int(counts.min())))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    else:
        splitter = KFold(folds, shuffle=True, random_state=seed)
    # A small problem's BLAS calls are too short to share between threads: with a second thread spinning on a busy
    # machine one fit of the digits (1,078 x 64) took 3.3 s instead of 0.08 s.
    limit = 1 if x.size < SINGLE_THREAD_VALUES else None
    with threadpool_limits(limits=limit, user_api="blas"):
        predictions = cross_val_predict(_baseline_estimator(kind, method, seed), x, y, cv=splitter)
    return error_losses(y, predictions) if kind == "classification" else squared_error_losses(y, predictions)


__all__ = ["BASELINE_METHODS", "baseline_losses", "estimate_baseline"]
