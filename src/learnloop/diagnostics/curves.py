"""Learning curves (J vs training-set size m) and validation curves (J vs lambda, degree, units...).

Both retrain: they take a builder and fit one fresh model per point, in parallel through joblib (see
:mod:`learnloop.diagnostics.parallel`). A builder must be picklable for process backends.

Both keep the per-example losses of every fitted model on its training rows and on the cv set, so every point has
a 95% interval (:mod:`learnloop.diagnostics.intervals`), a validation curve knows whether its setting has a
measurable effect and which value the one-standard-error rule chooses (:mod:`learnloop.diagnostics.effects`),
and a learning curve extrapolates J_cv to more data (:mod:`learnloop.diagnostics.power_law`). Nothing is refitted
for any of it. Curves built from arrays alone (no losses) keep the plain readings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from learnloop._html import render as render_html
from learnloop.diagnostics import _stacked
from learnloop.diagnostics import intervals as iv
from learnloop.diagnostics.effects import SIMPLER, SweepEffect, sweep_effect
from learnloop.diagnostics.fitting import as_builder, fit_and_measure, make_options, require_cv
from learnloop.diagnostics.parallel import run_parallel
from learnloop.diagnostics.power_law import FALLING_RTOL, PowerLaw, fit_power_law
from learnloop.errors import LearnloopError
from learnloop.utils import set_seed

_LAMBDA_NAMES = ("lambda", "lam", "alpha", "l2", "regularization", "weight_decay")
_DEGREE_NAMES = ("degree", "poly")
_SIZE_NAMES = ("units", "size", "hidden", "layers", "architecture", "network", "width")


def sweep_kind(name: str) -> str | None:
    """``"lambda"``, ``"degree"`` or ``"size"`` from a sweep's name, else ``None``."""
    name = name.lower()
    for kind, names in (("lambda", _LAMBDA_NAMES), ("degree", _DEGREE_NAMES), ("size", _SIZE_NAMES)):
        if any(n in name for n in names):
            return kind
    return None


def _intervals(losses, level: float) -> list[iv.Interval] | None:
    if losses is None:
        return None
    if isinstance(losses, tuple):                    # a learning curve's training rows: one size each
        return [iv.mean_interval(row, level) for row in losses]
    return iv.mean_intervals(losses, level)


@dataclass(frozen=True, eq=False)
class LearningCurve:
    """J_train and J_cv against the number of training examples.

    Attributes:
        sizes: (k,) training-set sizes m, increasing.
        j_train: (k,) error on the m examples each model was fitted on.
        j_cv: (k,) error on the whole cross-validation set.
        kind: ``"classification"`` or ``"regression"``.
        baseline: optional baseline level of error, drawn as a line.
        train_losses: optional per-size (m,) losses on the training rows (a tuple of k arrays).
        cv_losses: optional (k, m_cv) losses on the cv set; with them the curve has intervals and a
            :attr:`law` that says whether more data helps, and how much.
        level: coverage of the intervals.
    """

    sizes: np.ndarray
    j_train: np.ndarray
    j_cv: np.ndarray
    kind: str = "classification"
    baseline: float | None = None
    train_losses: tuple | None = field(default=None, repr=False)
    cv_losses: np.ndarray | None = field(default=None, repr=False)
    level: float = iv.LEVEL

    @property
    def cv_slope(self) -> float:
        """Change of J_cv per doubling of m over the last (up to) three points; negative while it falls."""
        k = min(3, len(self.sizes))
        if k < 2:
            return 0.0
        slope = np.polyfit(np.log2(self.sizes[-k:]), self.j_cv[-k:], 1)[0]
        return float(slope)

    @cached_property
    def law(self) -> PowerLaw | None:
        """The inverse power law fitted to J_cv(m) with bootstrap intervals (``None`` without cv losses or with
        fewer than two sizes)."""
        if self.cv_losses is None or len(self.sizes) < 2:
            return None
        return fit_power_law(self.sizes, self.cv_losses, self.level)

    @property
    def more_data(self) -> str | None:
        """``"helps"``, ``"unlikely to help"`` or ``"can't tell"`` from :attr:`law`; ``None`` without losses."""
        return None if self.law is None else self.law.more_data

    @property
    def cv_still_falling(self) -> bool:
        """True when more data should help: with losses, the law's gain from doubling m lies above 1% of J_cv
        beyond noise; from arrays alone, J_cv still drops by more than 1% per doubling of m at the end."""
        if self.law is not None:
            return self.law.more_data == "helps"
        return self.cv_slope < -FALLING_RTOL * max(float(self.j_cv[-1]), 1e-12)

    @property
    def final_gap(self) -> float:
        """J_cv - J_train at the largest m."""
        return float(self.j_cv[-1] - self.j_train[-1])

    @cached_property
    def j_cv_intervals(self) -> list[iv.Interval] | None:
        return _intervals(self.cv_losses, self.level)

    @cached_property
    def j_train_intervals(self) -> list[iv.Interval] | None:
        return _intervals(self.train_losses, self.level)

    _repr_html_ = render_html                       # a notebook shows the dict below as a table

    def as_dict(self) -> dict:
        out = {"sizes": self.sizes.tolist(), "j_train": self.j_train.tolist(), "j_cv": self.j_cv.tolist(),
               "kind": self.kind, "baseline": self.baseline, "cv_still_falling": self.cv_still_falling}
        if self.cv_losses is not None:
            out["j_cv_intervals"] = [ci.as_list() for ci in self.j_cv_intervals]
            out["more_data"] = self.more_data
            if self.law is not None:
                out["power_law"] = self.law.as_dict()
        return out

    def plot(self, path=None, ax=None):
        """Draw J_train and J_cv vs m (see :func:`learnloop.report.plots.plot_learning_curve`)."""
        from learnloop.report.plots import plot_learning_curve

        return plot_learning_curve(self, path=path, ax=ax)


@dataclass(frozen=True, eq=False)
class ValidationCurve:
    """J_train and J_cv against one setting of the model (lambda, polynomial degree, units...).

    Attributes:
        name: the setting's name, e.g. ``"lambda"``.
        values: (k,) the values tried, in the order given.
        j_train: (k,) training error of each fitted model.
        j_cv: (k,) cross-validation error of each.
        best_index: index of the lowest J_cv (the first one on ties).
        kind: ``"classification"`` or ``"regression"``.
        best_model: the fitted model at ``best_index`` (``None`` when not kept).
        train_losses, cv_losses: optional (k, m_train) and (k, m_cv) per-example losses; with them each J has an
            interval, :attr:`effect` compares the values and :attr:`chosen_index` follows the one-standard-error
            rule.
        simpler: which values are simpler models: ``"high"`` (lambda), ``"low"`` (degree, units) or ``"first"``
            (the order given); ``"auto"`` reads it from ``name`` and the values.
        chosen_model: the fitted model at ``chosen_index`` (``None`` when not kept).
        level: coverage of the intervals.
    """

    name: str
    values: np.ndarray
    j_train: np.ndarray
    j_cv: np.ndarray
    best_index: int
    kind: str = "classification"
    best_model: Any = field(default=None, repr=False)
    train_losses: np.ndarray | None = field(default=None, repr=False)
    cv_losses: np.ndarray | None = field(default=None, repr=False)
    simpler: str = "auto"
    chosen_model: Any = field(default=None, repr=False)
    level: float = iv.LEVEL

    def __post_init__(self):
        if self.simpler == "auto":
            object.__setattr__(self, "simpler", default_simpler(self.name, self.values))
        elif self.simpler not in SIMPLER:
            raise LearnloopError(f"ValidationCurve simpler must be one of {list(SIMPLER)} or 'auto'; got "
                                 f"{self.simpler!r}.")

    @property
    def best_value(self):
        value = self.values[self.best_index]
        return value.item() if isinstance(value, np.generic) else value

    @property
    def best_j_cv(self) -> float:
        return float(self.j_cv[self.best_index])

    @cached_property
    def effect(self) -> SweepEffect | None:
        """How the values compare on the cv set (``None`` without cv losses, or with a single value)."""
        if self.cv_losses is None or len(self.values) < 2:
            return None
        return sweep_effect(self.cv_losses, self.values, self.simpler, self.level)

    @property
    def measurable_effect(self) -> bool | None:
        """Whether some value's J_cv differs from the best beyond noise (``None`` without cv losses)."""
        return None if self.effect is None else self.effect.measurable

    @property
    def chosen_index(self) -> int:
        """The simplest value within one standard error of the lowest J_cv; ``best_index`` without losses."""
        return self.best_index if self.effect is None else self.effect.chosen_index

    @property
    def chosen_value(self):
        value = self.values[self.chosen_index]
        return value.item() if isinstance(value, np.generic) else value

    @property
    def best_at_edge(self) -> str | None:
        """``"low"`` or ``"high"`` when the best value is the smallest/largest tried (the sweep may need to go on)."""
        if len(self.values) < 2 or not _numeric(self.values):
            return None
        order = np.argsort(self.values, kind="stable")
        if self.best_index == order[0]:
            return "low"
        if self.best_index == order[-1]:
            return "high"
        return None

    @property
    def log_scale(self) -> bool:
        """True when the positive values span at least two decades (lambda sweeps): plot on a log axis."""
        if not _numeric(self.values):
            return False
        positive = self.values[self.values > 0].astype(float)
        return len(positive) >= 2 and positive.max() / positive.min() >= 100

    @cached_property
    def j_cv_intervals(self) -> list[iv.Interval] | None:
        return _intervals(self.cv_losses, self.level)

    @cached_property
    def j_train_intervals(self) -> list[iv.Interval] | None:
        return _intervals(self.train_losses, self.level)

    _repr_html_ = render_html                       # a notebook shows the dict below as a table

    def as_dict(self) -> dict:
        values = self.values.tolist()
        out = {"name": self.name, "values": values, "j_train": self.j_train.tolist(), "j_cv": self.j_cv.tolist(),
               "best_index": self.best_index, "best_value": self.best_value, "kind": self.kind}
        if self.effect is not None:
            out.update({"chosen_index": self.chosen_index, "chosen_value": self.chosen_value,
                        "j_cv_intervals": [ci.as_list() for ci in self.j_cv_intervals],
                        "effect": self.effect.as_dict()})
        return out

    def plot(self, path=None, ax=None):
        """Draw J_train and J_cv vs the setting, with the chosen value marked."""
        from learnloop.report.plots import plot_validation_curve

        return plot_validation_curve(self, path=path, ax=ax)


def default_simpler(name: str, values) -> str:
    """Which values of a sweep are simpler models: a larger lambda, a smaller number, or the first listed."""
    values = np.asarray(values)
    if not _numeric(values):
        return "first"
    return "high" if sweep_kind(name) == "lambda" else "low"


def _numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "iuf"


def values_array(values: Sequence) -> np.ndarray:
    """(k,) array of the values: numeric when they are numbers, else an object array (tuples, strings...)."""
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values):
        return np.asarray(values)
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


def nested_order(y: np.ndarray, kind: str, seed: int | None) -> np.ndarray:
    """A permutation of the training rows whose every prefix is a random subset; for classification each
    prefix keeps the class proportions (each class's rows are spread evenly along the order)."""
    rng = np.random.default_rng(seed)
    m = len(y)
    if kind != "classification":
        return rng.permutation(m)
    labels = np.asarray(y).reshape(m, -1)
    labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0]
    position = np.empty(m)
    for cls in np.unique(labels):
        rows = np.flatnonzero(labels == cls)
        rows = rows[rng.permutation(len(rows))]
        position[rows] = (np.arange(len(rows)) + rng.random(len(rows))) / len(rows)
    return np.argsort(position, kind="stable")


def _training_sizes(sizes, m: int) -> np.ndarray:
    sizes = np.asarray(sizes if sizes is not None else np.linspace(0.1, 1.0, 8))
    if sizes.ndim != 1 or len(sizes) == 0:
        raise LearnloopError(f"learning_curve expects sizes as a 1-D list; got {sizes!r}.")
    if sizes.dtype.kind == "f" and np.all((sizes > 0) & (sizes <= 1)):
        sizes = np.round(sizes * m)
    elif sizes.dtype.kind not in "iu" and not np.all(sizes == np.round(sizes)):
        raise LearnloopError(f"learning_curve expects sizes as fractions in (0, 1] or counts of examples; "
                             f"got {sizes.tolist()}.")
    sizes = np.unique(sizes.astype(np.int64))
    if sizes[0] < 2 or sizes[-1] > m:
        raise LearnloopError(f"learning_curve sizes must lie between 2 and the {m} training examples; "
                             f"got {sizes.tolist()}.")
    return sizes


def _use_stack(stack, build, values: list, splits, options) -> bool:
    if stack is False or (stack == "auto" and len(values) < 2):
        return False
    if stack not in (True, "auto"):
        raise LearnloopError(f"stack must be True, False or 'auto'; got {stack!r}.")
    if options.seed is not None:
        set_seed(options.seed)
    ok = _stacked.probe(build, values, splits.train.x.shape, options.fit_kwargs)
    if stack is True and not ok:
        raise LearnloopError("validation_curve(stack=True) needs learnloop Sequential Dense networks that differ "
                             "only in regularization, with Adam or SGD and a from_logits crossentropy or MSE loss, "
                             "and only batch_size/shuffle in fit_kwargs; use stack='auto' to fall back.")
    return ok


def learning_curve(build: Callable[[], Any], splits, sizes: Sequence[float] | None = None, n_jobs: int | None = None,
                   seed: int | None = 0, kind: str = "auto", epochs: int = 100, fit_kwargs: dict | None = None,
                   threshold: float = 0.5, baseline: float | None = None) -> LearningCurve:
    """Fit a fresh model on growing subsets of the training set.

    Args:
        build: zero-argument builder returning a fresh model (or a scikit-learn estimator, cloned per fit).
        splits: train/cv/test :class:`~learnloop.data.splits.Splits`.
        sizes: fractions of the training set in (0, 1] or counts of examples; default 8 steps from 10% to 100%.
            Subsets are nested prefixes of one seeded order (class proportions kept for classification).
        n_jobs: parallel fits; ``None`` is 1 unless an enclosing ``joblib.parallel_backend`` sets it.
        seed: seeds the order of examples and the global seed before each build.
        kind, epochs, fit_kwargs, threshold: how models are trained and measured (see ``FitOptions``).
        baseline: optional baseline error, kept for the plot and the advice.

    Returns:
        :class:`LearningCurve` with arrays of shape (k,) and the per-example losses behind them.
    """
    require_cv(splits, "learning_curve")
    build = as_builder(build)
    options = make_options(kind, splits.train.y, epochs, fit_kwargs, threshold, seed)
    m_sizes = _training_sizes(sizes, splits.train.m)
    order = nested_order(splits.train.y, options.kind, seed)
    calls = [(build, (), splits, options, np.sort(order[:n]), False) for n in m_sizes]
    results = run_parallel(fit_and_measure, calls, n_jobs)
    return LearningCurve(sizes=m_sizes, j_train=np.array([r.j_train for r in results]),
                         j_cv=np.array([r.j_cv for r in results]), kind=options.kind,
                         baseline=None if baseline is None else float(baseline),
                         train_losses=tuple(r.train_losses for r in results),
                         cv_losses=np.stack([r.cv_losses for r in results]))


def validation_curve(build: Callable[[Any], Any], values: Sequence, splits, name: str = "lambda",
                     n_jobs: int | None = None, seed: int | None = 0, kind: str = "auto", epochs: int = 100,
                     fit_kwargs: dict | None = None, threshold: float = 0.5, keep_best: bool = True,
                     stack: bool | str = "auto", simpler: str = "auto") -> ValidationCurve:
    """Fit ``build(value)`` for each value on the training set and measure J_train and J_cv.

    Args:
        build: builder taking one value (lambda, polynomial degree, number of units...) and returning a fresh model;
            or a scikit-learn estimator, cloned for each value with its parameter ``name`` set to the value.
        values: the k values to try.
        splits: train/cv/test :class:`~learnloop.data.splits.Splits`.
        name: what the values are, for the plot and the advice (``"lambda"``, ``"degree"``, ``"units"``...).
        n_jobs: parallel fits; ``None`` is 1 unless an enclosing ``joblib.parallel_backend`` sets it.
        seed: global seed set before each build.
        kind, epochs, fit_kwargs, threshold: how models are trained and measured (see ``FitOptions``).
        keep_best: keep the fitted model with the lowest J_cv as ``best_model`` and the one the one-standard-error
            rule chooses as ``chosen_model``.
        stack: train the k models together, one batched matmul per layer (see
            :mod:`learnloop.diagnostics._stacked`): ``"auto"`` when the builder's models allow it (learnloop Dense
            networks differing only in regularization), ``True`` to require it, ``False`` for separate fits.
            With ``n_jobs`` workers, the values are split into that many stacks.
        simpler: which values are simpler models, for the one-standard-error rule: ``"high"`` (larger is
            simpler: lambda), ``"low"`` (smaller is: degree, units), ``"first"`` (the order given, simplest
            first), or ``"auto"`` (lambda-like names ``"high"``, other numbers ``"low"``, anything else ``"first"``).

    Returns:
        :class:`ValidationCurve` with arrays of shape (k,), the best (lowest J_cv) and the chosen (one standard
        error) index, and the per-example losses behind every J.
    """
    require_cv(splits, "validation_curve")
    build = as_builder(build, param=name)
    values = list(values)
    if not values:
        raise LearnloopError(f"validation_curve expects at least one value of {name!r}; got none.")
    options = make_options(kind, splits.train.y, epochs, fit_kwargs, threshold, seed)
    if _use_stack(stack, build, values, splits, options):
        from joblib import effective_n_jobs

        chunks = np.array_split(np.arange(len(values)), min(len(values), effective_n_jobs(n_jobs)))
        calls = [(build, [values[i] for i in chunk], splits, options, keep_best) for chunk in chunks]
        results = [r for part in run_parallel(_stacked.fit_and_measure_stacked, calls, n_jobs) for r in part]
    else:
        calls = [(build, (v,), splits, options, None, keep_best) for v in values]
        results = run_parallel(fit_and_measure, calls, n_jobs)
    j_cv = np.array([r.j_cv for r in results])
    best = int(np.argmin(j_cv))
    curve = ValidationCurve(name=name, values=values_array(values), j_train=np.array([r.j_train for r in results]),
                            j_cv=j_cv, best_index=best, kind=options.kind, best_model=results[best].model,
                            train_losses=np.stack([r.train_losses for r in results]),
                            cv_losses=np.stack([r.cv_losses for r in results]), simpler=simpler)
    object.__setattr__(curve, "chosen_model", results[curve.chosen_index].model)
    return curve
