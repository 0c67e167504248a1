"""Build, fit and measure one candidate: the unit of work every sweep repeats.

A builder is a callable returning a fresh, untrained model: a compiled learnloop (or Keras-style) model, or a
scikit-learn estimator. Sweeps may run it in other processes, so for a process backend (joblib's default ``loky``
or dask) it must be picklable: a module-level function or a :func:`functools.partial` of one, not a lambda or a
function defined inside another function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from learnloop.diagnostics import progress
from learnloop.diagnostics.measures import check_kind, losses
from learnloop.errors import LearnloopError
from learnloop.utils import set_seed


@dataclass(frozen=True)
class FitOptions:
    """How candidates are trained and measured.

    Attributes:
        kind: ``"classification"`` or ``"regression"``.
        epochs: passed to ``fit`` of learnloop/Keras-style models (scikit-learn estimators use their own settings).
        fit_kwargs: more keyword arguments for that ``fit`` (``batch_size``...).
        threshold: probability cut for single-output classifiers.
        seed: global seed set before each build, so each fit is reproducible wherever it runs.
    """

    kind: str = "classification"
    epochs: int = 100
    fit_kwargs: dict = field(default_factory=dict)
    threshold: float = 0.5
    seed: int | None = 0


def make_options(kind, y, epochs: int, fit_kwargs: dict | None, threshold: float, seed: int | None) -> FitOptions:
    """Check the sweep arguments and bundle them; ``kind="auto"`` is read from the training targets ``y``."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise LearnloopError(f"epochs must be a positive int; got {epochs!r}.")
    return FitOptions(kind=check_kind(kind, y), epochs=int(epochs), fit_kwargs=dict(fit_kwargs or {}),
                      threshold=float(threshold), seed=seed)


def is_keras_style(model) -> bool:
    """True for learnloop/Keras models (compiled by their builder, fitted with ``epochs``)."""
    return hasattr(model, "compile") and hasattr(model, "fit")


def as_builder(build, param: str | None = None) -> Callable[..., Any]:
    """Accept a builder, or a scikit-learn estimator instance: cloned fresh for each fit, with the sweep's value
    set as its parameter ``param`` (``validation_curve(Ridge(), alphas, splits, name="alpha")``)."""
    if hasattr(build, "get_params") and hasattr(build, "fit"):
        if param is not None and param not in build.get_params():
            raise LearnloopError(f"{type(build).__name__} has no parameter {param!r} to sweep; its parameters are "
                                 f"{sorted(build.get_params())}. Pass name=<one of them>, or a builder function.")
        return _Clone(build, param)
    if is_keras_style(build):
        raise LearnloopError("Sweeps need a builder that returns a fresh model (e.g. `def build(value): ...`), "
                             f"not a model instance; got {type(build).__name__}.")
    if not callable(build):
        raise LearnloopError(f"Expected a builder: a callable returning a model; got {type(build).__name__}.")
    return build


class _Clone:
    """A picklable builder that clones a scikit-learn estimator, setting ``param`` to the sweep's value."""

    def __init__(self, estimator, param: str | None = None):
        self.estimator, self.param = estimator, param

    def __call__(self, *args):
        from sklearn.base import clone

        model = clone(self.estimator)
        if args and self.param is not None:
            model.set_params(**{self.param: args[0]})
        return model


def require_cv(splits, where: str) -> None:
    if getattr(splits, "cv", None) is None:
        raise LearnloopError(f"{where} chooses by J_cv and needs train/cv/test splits (train_cv_test_split); "
                             f"got {splits!r}.")


def fit_model(model, x, y, options: FitOptions):
    """Fit ``model`` on (x, y) the way its kind expects; returns the fitted model."""
    if is_keras_style(model):
        kwargs = options.fit_kwargs
        if progress.ticking():                  # the sweep's bar moves epoch by epoch
            kwargs = {**kwargs, "callbacks": [*kwargs.get("callbacks", ()), progress.EpochTicks(len(x))]}
        model.fit(x, y, epochs=options.epochs, verbose=0, **kwargs)
        return model
    if not hasattr(model, "fit"):
        raise LearnloopError(f"The builder returned {type(model).__name__}, which has no fit(); expected a learnloop "
                             "model or a scikit-learn estimator.")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]                    # scikit-learn warns on column vectors
    fitted = model.fit(x, y)
    return model if fitted is None else fitted


class Measured(NamedTuple):
    """One candidate fitted and scored: J_train and J_cv, the fitted model (or ``None``), and the per-example
    losses behind both Js (training rows in the order fitted, then the whole cv set)."""

    j_train: float
    j_cv: float
    model: Any
    train_losses: np.ndarray
    cv_losses: np.ndarray


def measure(model, x, y, splits, options: FitOptions, keep_model: bool = True) -> Measured:
    """Score a model fitted on (x, y) on those rows and on the cv set, keeping the per-example losses."""
    train = losses(model, x, y, options.kind, options.threshold)
    cv = losses(model, splits.cv.x, splits.cv.y, options.kind, options.threshold)
    return Measured(float(train.mean()), float(cv.mean()), model if keep_model else None, train, cv)


def fit_and_measure(build, args: tuple, splits, options: FitOptions, train_rows: np.ndarray | None = None,
                    keep_model: bool = True) -> Measured:
    """Build ``build(*args)``, fit it on the training set (or its rows ``train_rows``), measure J_train and J_cv.

    J_train is measured on the examples the model was fitted on; J_cv on the whole cross-validation set.

    Returns:
        :class:`Measured`: (j_train, j_cv, fitted model or ``None`` when ``keep_model`` is False, train losses,
        cv losses).
    """
    require_cv(splits, "fit_and_measure")
    if options.seed is not None:
        set_seed(options.seed)
    model = build(*args)
    x, y = splits.train.x, splits.train.y
    if train_rows is not None:
        x, y = x[train_rows], y[train_rows]
    model = fit_model(model, x, y, options)
    return measure(model, x, y, splits, options, keep_model)
