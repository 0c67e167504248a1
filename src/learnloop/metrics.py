"""Metrics: plain functions ``f(y_true, y_pred)`` and streaming ``Metric`` objects the fit loop accumulates.

``"accuracy"`` is resolved like Keras: sparse categorical accuracy for a sparse-label loss, binary accuracy for a
binary loss or a one-unit output, categorical accuracy otherwise. Unlike Keras, binary accuracy thresholds at 0
instead of 0.5 when the loss takes logits (``from_logits=True``), so the reported accuracy is the real one.
"""

from __future__ import annotations

import numpy as np

from learnloop import losses as losses_mod
from learnloop._registry import lookup
from learnloop.errors import LearnloopError

Array = np.ndarray


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> Array:
    """Per-sample fraction of outputs on the right side of ``threshold``, shape (m,)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    y_true = y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
    hits = (y_pred > threshold) == (y_true > 0.5)
    return hits.reshape(hits.shape[0], -1).mean(axis=1)


def categorical_accuracy(y_true, y_pred) -> Array:
    """1 where argmax(y_pred) == argmax(y_true) (one-hot targets), shape (m,)."""
    return (np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred) -> Array:
    """1 where argmax(y_pred) equals the integer label, shape (m,)."""
    y_true = np.asarray(y_true).reshape(-1)
    return (np.argmax(y_pred, axis=-1) == y_true).astype(np.float64)


def mean_squared_error(y_true, y_pred) -> Array:
    return losses_mod.mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true, y_pred) -> Array:
    return losses_mod.mean_absolute_error(y_true, y_pred)


class Metric:
    """A running, sample-weighted mean of a per-sample function; ``update``, ``result``, ``reset``."""

    def __init__(self, fn, name: str, **kwargs):
        self.fn, self.name, self.kwargs = fn, name, kwargs
        self.reset()

    def reset(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> None:
        values = self.fn(y_true, y_pred, **self.kwargs)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.shape[0]
        else:
            self.total += float(np.dot(values, sample_weight))
            self.count += float(sample_weight.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """Stateless: the metric on this batch alone."""
        values = self.fn(np.asarray(y_true), np.asarray(y_pred), **self.kwargs)
        if sample_weight is None:
            return float(values.mean())
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        return float(np.dot(values, sample_weight) / sample_weight.sum())

    def get_config(self) -> dict:
        return {"name": self.name, **self.kwargs}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class BinaryAccuracy(Metric):
    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5):
        super().__init__(binary_accuracy, name, threshold=threshold)


class CategoricalAccuracy(Metric):
    def __init__(self, name: str = "categorical_accuracy"):
        super().__init__(categorical_accuracy, name)


class SparseCategoricalAccuracy(Metric):
    def __init__(self, name: str = "sparse_categorical_accuracy"):
        super().__init__(sparse_categorical_accuracy, name)


class MeanSquaredError(Metric):
    def __init__(self, name: str = "mean_squared_error"):
        super().__init__(mean_squared_error, name)


class MeanAbsoluteError(Metric):
    def __init__(self, name: str = "mean_absolute_error"):
        super().__init__(mean_absolute_error, name)


_ALL = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "accuracy": None, "acc": None,
}


def get(identifier, loss: losses_mod.Loss, n_outputs: int) -> Metric:
    """A fresh metric for ``compile(metrics=[...])``; "accuracy" is resolved from the loss and the output size."""
    if isinstance(identifier, Metric):
        return identifier
    if not isinstance(identifier, str):
        raise LearnloopError(f"Expected a metric name or Metric object; got {identifier!r}.")
    cls = lookup("metric", _ALL, identifier)
    name = identifier
    if cls is not None:
        metric = cls(name=name)
    elif isinstance(loss, losses_mod.SparseCategoricalCrossentropy):
        metric = SparseCategoricalAccuracy(name=name)
    elif isinstance(loss, losses_mod.BinaryCrossentropy) or n_outputs == 1:
        metric = BinaryAccuracy(name=name, threshold=0.0 if loss.from_logits else 0.5)
    else:
        metric = CategoricalAccuracy(name=name)
    if isinstance(metric, BinaryAccuracy) and loss.from_logits and identifier in ("binary_accuracy",):
        metric.kwargs["threshold"] = 0.0
    return metric
