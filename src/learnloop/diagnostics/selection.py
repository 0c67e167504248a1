"""Model selection: fit each candidate on the training set, choose by J_cv, report J_test of the chosen one only.

Choosing by J_test would make J_test an optimistic estimate of the generalization error (the test set would have
been used to fit one more parameter, the choice); the cross-validation set exists to make that choice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from learnloop.diagnostics.fitting import as_builder, fit_and_measure, make_options, require_cv
from learnloop.diagnostics.measures import cost
from learnloop.diagnostics.parallel import run_parallel
from learnloop.errors import LearnloopError


@dataclass(frozen=True, eq=False)
class ModelSelection:
    """Candidates measured on train and cv; the chosen one also on test.

    Attributes:
        names: (k,) candidate names, in the order given.
        j_train: (k,) training error of each.
        j_cv: (k,) cross-validation error of each.
        best_index: index of the lowest J_cv (the first one on ties, so list simpler candidates first).
        j_test: test error of the chosen candidate (the only one measured on the test set).
        kind: ``"classification"`` or ``"regression"``.
        best_model: the chosen fitted model.
    """

    names: np.ndarray
    j_train: np.ndarray
    j_cv: np.ndarray
    best_index: int
    j_test: float
    kind: str = "classification"
    best_model: Any = field(default=None, repr=False)

    @property
    def best_name(self) -> str:
        return str(self.names[self.best_index])

    @property
    def best_j_cv(self) -> float:
        return float(self.j_cv[self.best_index])

    def as_dict(self) -> dict:
        return {"names": self.names.tolist(), "j_train": self.j_train.tolist(), "j_cv": self.j_cv.tolist(),
                "best_index": self.best_index, "best_name": self.best_name, "j_test": self.j_test,
                "kind": self.kind}

    def plot(self, path=None, ax=None):
        """Draw J_train and J_cv per candidate with the chosen one marked."""
        from learnloop.report.plots import plot_model_selection

        return plot_model_selection(self, path=path, ax=ax)


def select_model(builders: Mapping[str, Callable[[], Any]], splits, n_jobs: int | None = None,
                 seed: int | None = 0, kind: str = "auto", epochs: int = 100, fit_kwargs: dict | None = None,
                 threshold: float = 0.5) -> ModelSelection:
    """Fit every candidate, choose the lowest J_cv, and measure J_test of that one only.

    Args:
        builders: name -> zero-argument builder returning a fresh model (or a scikit-learn estimator to clone).
        splits: train/cv/test :class:`~learnloop.data.splits.Splits`.
        n_jobs: parallel fits; ``None`` is 1 unless an enclosing ``joblib.parallel_backend`` sets it.
        seed, kind, epochs, fit_kwargs, threshold: as in :func:`learnloop.diagnostics.curves.validation_curve`.

    Returns:
        :class:`ModelSelection`.
    """
    require_cv(splits, "select_model")
    if not builders:
        raise LearnloopError("select_model expects at least one candidate in builders; got an empty mapping.")
    names = list(builders)
    options = make_options(kind, splits.train.y, epochs, fit_kwargs, threshold, seed)
    calls = [(as_builder(builders[n]), (), splits, options, None, True) for n in names]
    results = run_parallel(fit_and_measure, calls, n_jobs)
    j_cv = np.array([r[1] for r in results])
    best = int(np.argmin(j_cv))
    model = results[best][2]
    j_test = cost(model, splits.test.x, splits.test.y, options.kind, options.threshold)
    return ModelSelection(names=np.array(names, dtype=object), j_train=np.array([r[0] for r in results]), j_cv=j_cv,
                          best_index=best, j_test=j_test, kind=options.kind, best_model=model)
