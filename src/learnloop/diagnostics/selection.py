"""Model selection: fit each candidate on the training set, choose by J_cv, report J_test of the chosen one only.

Choosing by J_test would make J_test an optimistic estimate of the generalization error (the test set would have
been used to fit one more parameter, the choice); the cross-validation set exists to make that choice.

Every J comes with a 95% interval from the per-example losses (:mod:`learnloop.diagnostics.intervals`), and the
candidates' J_cv differences are compared as a sweep's are (:mod:`learnloop.diagnostics.effects`): with
``rule="one_se"`` the chosen candidate is the first listed (the simplest, when listed simplest first) whose J_cv is
within one standard error of the lowest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from learnloop.diagnostics import intervals as iv
from learnloop.diagnostics.effects import SweepEffect, sweep_effect
from learnloop.diagnostics.fitting import as_builder, fit_and_measure, make_options, require_cv
from learnloop.diagnostics.measures import losses
from learnloop.diagnostics.parallel import run_parallel
from learnloop.errors import LearnloopError

RULES = ("lowest", "one_se")


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
        chosen_index: the candidate chosen (``best_index`` under ``rule="lowest"``; ``None`` means the same).
        train_losses, cv_losses: optional (k, m) per-example losses; test_losses: (m_test,) of the chosen one.
    """

    names: np.ndarray
    j_train: np.ndarray
    j_cv: np.ndarray
    best_index: int
    j_test: float
    kind: str = "classification"
    best_model: Any = field(default=None, repr=False)
    chosen_index: int | None = None
    train_losses: np.ndarray | None = field(default=None, repr=False)
    cv_losses: np.ndarray | None = field(default=None, repr=False)
    test_losses: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.chosen_index is None:
            object.__setattr__(self, "chosen_index", self.best_index)

    @property
    def best_name(self) -> str:
        return str(self.names[self.best_index])

    @property
    def chosen_name(self) -> str:
        return str(self.names[self.chosen_index])

    @property
    def best_j_cv(self) -> float:
        return float(self.j_cv[self.best_index])

    @cached_property
    def effect(self) -> SweepEffect | None:
        """How the candidates compare on the cv set, listed simplest first (``None`` without losses)."""
        if self.cv_losses is None or len(self.names) < 2:
            return None
        return sweep_effect(self.cv_losses, self.names, "first")

    @cached_property
    def j_cv_intervals(self) -> list[iv.Interval] | None:
        return None if self.cv_losses is None else iv.mean_intervals(self.cv_losses)

    @cached_property
    def j_test_interval(self) -> iv.Interval | None:
        return None if self.test_losses is None else iv.mean_interval(self.test_losses)

    def as_dict(self) -> dict:
        out = {"names": self.names.tolist(), "j_train": self.j_train.tolist(), "j_cv": self.j_cv.tolist(),
               "best_index": self.best_index, "best_name": self.best_name, "j_test": self.j_test,
               "kind": self.kind, "chosen_index": self.chosen_index, "chosen_name": self.chosen_name}
        if self.effect is not None:
            out.update({"j_cv_intervals": [ci.as_list() for ci in self.j_cv_intervals],
                        "effect": self.effect.as_dict()})
        if self.j_test_interval is not None:
            out["j_test_interval"] = self.j_test_interval.as_list()
        return out

    def plot(self, path=None, ax=None):
        """Draw J_train and J_cv per candidate with the chosen one marked."""
        from learnloop.report.plots import plot_model_selection

        return plot_model_selection(self, path=path, ax=ax)


def select_model(builders: Mapping[str, Callable[[], Any]], splits, n_jobs: int | None = None,
                 seed: int | None = 0, kind: str = "auto", epochs: int = 100, fit_kwargs: dict | None = None,
                 threshold: float = 0.5, rule: str = "lowest") -> ModelSelection:
    """Fit every candidate, choose by J_cv, and measure J_test of the chosen one only.

    Args:
        builders: name -> zero-argument builder returning a fresh model (or a scikit-learn estimator to clone).
        splits: train/cv/test :class:`~learnloop.data.splits.Splits`.
        n_jobs: parallel fits; ``None`` is 1 unless an enclosing ``joblib.parallel_backend`` sets it.
        seed, kind, epochs, fit_kwargs, threshold: as in :func:`learnloop.diagnostics.curves.validation_curve`.
        rule: ``"lowest"`` J_cv, or ``"one_se"``: the first candidate (list them simplest first) whose J_cv is
            within one standard error of the lowest.

    Returns:
        :class:`ModelSelection`, with the per-example losses behind every J.
    """
    require_cv(splits, "select_model")
    if not builders:
        raise LearnloopError("select_model expects at least one candidate in builders; got an empty mapping.")
    if rule not in RULES:
        raise LearnloopError(f"select_model rule must be one of {list(RULES)}; got {rule!r}.")
    names = list(builders)
    options = make_options(kind, splits.train.y, epochs, fit_kwargs, threshold, seed)
    calls = [(as_builder(builders[n]), (), splits, options, None, True) for n in names]
    results = run_parallel(fit_and_measure, calls, n_jobs)
    j_cv = np.array([r.j_cv for r in results])
    best = int(np.argmin(j_cv))
    cv_losses = np.stack([r.cv_losses for r in results])
    chosen = sweep_effect(cv_losses, names, "first").chosen_index if rule == "one_se" else best
    model = results[chosen].model
    test = losses(model, splits.test.x, splits.test.y, options.kind, options.threshold)
    return ModelSelection(names=np.array(names, dtype=object), j_train=np.array([r.j_train for r in results]),
                          j_cv=j_cv, best_index=best, j_test=float(test.mean()), kind=options.kind,
                          best_model=model, chosen_index=chosen,
                          train_losses=np.stack([r.train_losses for r in results]), cv_losses=cv_losses,
                          test_losses=test)
