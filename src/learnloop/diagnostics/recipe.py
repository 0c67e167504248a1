"""The notes' recipe for neural networks: grow the network until it fits the training set, then regularize (or
get more data) until it fits the cross-validation set.

    does it do well on the training set (J_train near the baseline)?   no  -> bigger network
    does it do well on the cv set (J_cv near J_train)?                  no  -> more data / more regularization

A large network, well regularized, usually does as well as or better than a smaller one; it only costs compute.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from learnloop.diagnostics.bias_variance import DEFAULT_TOLERANCE, BiasVariance
from learnloop.diagnostics.fitting import fit_and_measure, make_options, require_cv
from learnloop.diagnostics.parallel import check_n_jobs, run_parallel
from learnloop.errors import LearnloopError


@dataclass(frozen=True)
class Step:
    """One network tried: its size and lambda, its errors and the verdict against the baseline."""

    size: Any
    lam: float
    j_train: float
    j_cv: float
    verdict: str

    def as_dict(self) -> dict:
        size = list(self.size) if isinstance(self.size, tuple) else self.size
        return {"size": size, "lambda": self.lam, "j_train": self.j_train, "j_cv": self.j_cv, "verdict": self.verdict}


@dataclass(frozen=True, eq=False)
class Trail:
    """The steps of :func:`grow_and_regularize` in the order tried, the chosen one and its fitted model.

    Attributes:
        steps: every (size, lambda) tried, growing first, then regularizing.
        chosen_index: index in ``steps`` of the chosen network.
        baseline: the baseline error the steps were judged against.
        note: what the recipe concluded, in one sentence.
        model: the chosen fitted model.
    """

    steps: tuple[Step, ...]
    chosen_index: int
    baseline: float
    note: str
    model: Any = field(default=None, repr=False)

    @property
    def chosen(self) -> Step:
        return self.steps[self.chosen_index]

    def as_dict(self) -> dict:
        return {"steps": [s.as_dict() for s in self.steps], "chosen_index": self.chosen_index,
                "baseline": self.baseline, "note": self.note}

    def plot(self, path=None, ax=None):
        from learnloop.report.plots import plot_trail

        return plot_trail(self, path=path, ax=ax)


class _Walker:
    """Fits (size, lambda) pairs in chunks as wide as ``n_jobs`` and stops at the first that passes a test."""

    def __init__(self, build, splits, options, baseline, tolerance, n_jobs):
        self.build, self.splits, self.options = build, splits, options
        self.baseline, self.tolerance = baseline, tolerance
        n_jobs = check_n_jobs(n_jobs)
        self.width = (os.cpu_count() or 1) if n_jobs == -1 else (n_jobs or 1)
        self.steps: list[Step] = []
        self.models: list[Any] = []

    def walk(self, pairs: list[tuple[Any, float]], done: Callable[[BiasVariance], bool], n_jobs) -> int | None:
        """Fit pairs in order until ``done``; return the index in ``self.steps`` of the passing step, else None."""
        for start in range(0, len(pairs), self.width):
            chunk = pairs[start:start + self.width]
            calls = [(self.build, pair, self.splits, self.options, None, True) for pair in chunk]
            for (size, lam), (j_train, j_cv, model, *_) in zip(chunk, run_parallel(fit_and_measure, calls, n_jobs)):
                diagnosis = BiasVariance(self.baseline, j_train, j_cv, tolerance=self.tolerance)
                self.steps.append(Step(size, float(lam), j_train, j_cv, diagnosis.verdict))
                self.models.append(model)
                if done(diagnosis):
                    return len(self.steps) - 1
        return None


def grow_and_regularize(build: Callable[[Any, float], Any], splits, baseline: float, sizes: Sequence,
                        lambdas: Sequence[float], n_jobs: int | None = None, seed: int | None = 0,
                        kind: str = "auto", epochs: int = 100, fit_kwargs: dict | None = None,
                        tolerance: float = DEFAULT_TOLERANCE, threshold: float = 0.5) -> Trail:
    """Run the recipe: enlarge the network, then increase lambda.

    Args:
        build: ``build(size, lam) -> model``, a fresh model of that size (units, or a tuple of units per layer)
            with regularization ``lam``; picklable for process backends.
        splits: train/cv/test splits.
        baseline: the error level to reach on the training set.
        sizes: network sizes from small to large.
        lambdas: regularization from weak to strong; the first (usually 0) is used while growing.
        n_jobs: fits run ``n_jobs`` at a time, speculatively (a chunk may fit one network more than needed).
        seed, kind, epochs, fit_kwargs, threshold: as in :func:`learnloop.diagnostics.curves.validation_curve`.
        tolerance: what counts as "near", as in :class:`BiasVariance`.

    Returns:
        :class:`Trail` of (size, lambda, j_train, j_cv, verdict) steps, the chosen step and its fitted model.
    """
    require_cv(splits, "grow_and_regularize")
    sizes, lambdas = list(sizes), [float(v) for v in lambdas]
    if not sizes or not lambdas:
        raise LearnloopError(f"grow_and_regularize needs at least one size and one lambda; got sizes={sizes} and "
                             f"lambdas={lambdas}.")
    walker = _Walker(build, splits, make_options(kind, splits.train.y, epochs, fit_kwargs, threshold, seed),
                     float(baseline), tolerance, n_jobs)
    fits = walker.walk([(size, lambdas[0]) for size in sizes], lambda d: not d.high_bias, n_jobs)
    if fits is None:
        grown = min(range(len(walker.steps)), key=lambda i: walker.steps[i].j_train)
        note = (f"Even the largest network leaves J_train above the baseline {baseline:.3g}: add features, train "
                f"longer, or revisit the baseline.")
        return _trail(walker, grown, baseline, note)
    if walker.steps[fits].verdict == "good fit":
        return _trail(walker, fits, baseline, f"Size {walker.steps[fits].size} fits both the training and the cv "
                                              f"set; no regularization needed.")
    size = walker.steps[fits].size
    first = len(walker.steps)
    good = walker.walk([(size, lam) for lam in lambdas[1:]], lambda d: not d.high_variance or d.high_bias, n_jobs)
    candidates = [fits] + list(range(first, len(walker.steps)))
    if good is not None and walker.steps[good].verdict == "good fit":
        note = f"Size {size} with lambda {walker.steps[good].lam:g} brings J_cv near J_train."
        return _trail(walker, good, baseline, note)
    best = min(candidates, key=lambda i: walker.steps[i].j_cv)
    if good is not None:
        note = (f"Regularizing size {size} enough to close the cv gap raises J_train above the baseline: get more "
                f"training data; kept the lowest J_cv, lambda {walker.steps[best].lam:g}.")
    else:
        note = (f"Even lambda {lambdas[-1]:g} leaves J_cv well above J_train for size {size}: try larger lambdas or "
                f"get more training data; kept the lowest J_cv, lambda {walker.steps[best].lam:g}.")
    return _trail(walker, best, baseline, note)


def _trail(walker: _Walker, chosen: int, baseline: float, note: str) -> Trail:
    return Trail(steps=tuple(walker.steps), chosen_index=chosen, baseline=float(baseline), note=note,
                 model=walker.models[chosen])
