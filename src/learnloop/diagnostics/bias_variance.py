"""Bias and variance from three numbers: the baseline level of error, J_train and J_cv.

The notes' reading: a large gap between the baseline and J_train is high bias (the model does not even fit the
training set as well as can be hoped); a large gap between J_train and J_cv is high variance (it fits the training
set much better than new data). Both can happen at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from learnloop.diagnostics.measures import check_kind, classification_error, j_measures, mse_cost
from learnloop.errors import LearnloopError

DEFAULT_TOLERANCE = 0.1
VERDICTS = ("good fit", "high bias", "high variance", "high bias and high variance")


def _finite(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise LearnloopError(f"BiasVariance expects {name} as a number; got {value!r}.") from None
    if not np.isfinite(value):
        raise LearnloopError(f"BiasVariance expects a finite {name}; got {value!r}.")
    return value


@dataclass(frozen=True)
class BiasVariance:
    """A diagnosis: which of bias and variance is the problem.

    A gap counts as large when it exceeds ``tolerance`` times the error level it is read against: the variance gap
    (J_cv - J_train) against max(J_train, J_cv), the bias gap (J_train - baseline) against the largest of the three
    levels. With the default 0.1, the notes' speech example (baseline 10.6%, J_train 10.8%, J_cv 14.8%) has a
    variance gap of 4.0 points against a threshold of 1.48: high variance; its bias gap of 0.2 points is small.
    A baseline much worse than the model (a weak competing algorithm) does not hide a variance gap; a variance gap
    much larger than the bias gap can hide a moderate bias, so diagnose again after fixing the variance.
    Near zero error every gap is large in relative terms; ``atol`` sets a floor under both thresholds (e.g. the
    share of one example of the cv set, which :meth:`from_model` uses for classification).

    Args:
        baseline: error one can reasonably hope for (human level, a competing algorithm, experience).
        train: J_train.
        cv: J_cv.
        tolerance: relative size of a gap that counts as large, >= 0.
        atol: absolute floor of both thresholds, >= 0.
    """

    baseline: float
    train: float
    cv: float
    tolerance: float = DEFAULT_TOLERANCE
    atol: float = 0.0

    def __post_init__(self):
        for name in ("baseline", "train", "cv", "tolerance", "atol"):
            object.__setattr__(self, name, _finite(name, getattr(self, name)))
        for name in ("tolerance", "atol"):
            if getattr(self, name) < 0:
                raise LearnloopError(f"BiasVariance expects {name} >= 0; got {getattr(self, name)!r}.")

    @property
    def bias_gap(self) -> float:
        """J_train - baseline."""
        return self.train - self.baseline

    @property
    def variance_gap(self) -> float:
        """J_cv - J_train."""
        return self.cv - self.train

    @property
    def bias_threshold(self) -> float:
        """The bias gap above which bias is high: tolerance x max(|baseline|, |J_train|, |J_cv|), at least atol."""
        return max(self.atol, self.tolerance * max(abs(self.baseline), abs(self.train), abs(self.cv)))

    @property
    def variance_threshold(self) -> float:
        """The variance gap above which variance is high: tolerance x max(|J_train|, |J_cv|), at least atol."""
        return max(self.atol, self.tolerance * max(abs(self.train), abs(self.cv)))

    @property
    def high_bias(self) -> bool:
        return self.bias_gap > self.bias_threshold

    @property
    def high_variance(self) -> bool:
        return self.variance_gap > self.variance_threshold

    @property
    def verdict(self) -> str:
        """One of "good fit", "high bias", "high variance", "high bias and high variance"."""
        return VERDICTS[int(self.high_bias) + 2 * int(self.high_variance)]

    def explain(self) -> str:
        """One sentence with the numbers behind the verdict."""
        return (f"J_train {self.train:.4g} is {self.bias_gap:+.3g} from the baseline {self.baseline:.4g} (large "
                f"above {self.bias_threshold:.3g}) and J_cv {self.cv:.4g} is {self.variance_gap:+.3g} from J_train "
                f"(large above {self.variance_threshold:.3g}), so: {self.verdict}.")

    def as_dict(self) -> dict:
        return {"baseline": self.baseline, "j_train": self.train, "j_cv": self.cv, "tolerance": self.tolerance,
                "atol": self.atol,
                "bias_gap": self.bias_gap, "variance_gap": self.variance_gap,
                "bias_threshold": self.bias_threshold, "variance_threshold": self.variance_threshold,
                "verdict": self.verdict}

    @classmethod
    def from_model(cls, model, splits, baseline: float | None = None, kind: str = "auto",
                   tolerance: float = DEFAULT_TOLERANCE, threshold: float = 0.5,
                   baseline_method: str = "linear", atol: float | None = None) -> BiasVariance:
        """Diagnose a model fitted on ``splits.train``.

        Args:
            model: fitted learnloop model or scikit-learn estimator.
            splits: train/cv/test splits; J_test is not touched.
            baseline: the baseline error; when ``None``, :func:`estimate_baseline` on the training set.
            kind: ``"classification"``, ``"regression"`` or ``"auto"``.
            tolerance: see the class docstring.
            threshold: probability cut for single-output classifiers.
            baseline_method: method of :func:`estimate_baseline` when no baseline is given.
            atol: floor of the thresholds; default one cv example's share (1 / m_cv) for classification, else 0.
        """
        if splits.cv is None:
            raise LearnloopError(f"BiasVariance.from_model needs a cross-validation set; got {splits!r}.")
        j = j_measures(model, splits, kind=kind, threshold=threshold)
        if baseline is None:
            baseline = estimate_baseline(splits.train.x, splits.train.y, kind=j.kind, method=baseline_method)
        if atol is None:
            atol = 1.0 / splits.cv.m if j.kind == "classification" else 0.0
        return cls(baseline=baseline, train=j.j_train, cv=j.j_cv, tolerance=tolerance, atol=atol)


BASELINE_METHODS = ("linear", "dummy")


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
        The mean held-out error, as :func:`classification_error` or :func:`mse_cost` measure it.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

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
    predictions = cross_val_predict(_baseline_estimator(kind, method, seed), x, y, cv=splitter)
    return classification_error(y, predictions) if kind == "classification" else mse_cost(y, predictions)
