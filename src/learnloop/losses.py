"""Losses with Keras's names, each owning its gradient and its numerically stable ``from_logits`` path.

A loss object is called like Keras's: ``loss(y_true, y_pred, sample_weight=None) -> float`` is the weighted sum of
per-sample losses divided by the batch size ("sum_over_batch_size"). Training uses
``value_and_gradient(y, out, sample_weight)``, which returns that float and dL/d(out) in one pass.

Probabilities (``from_logits=False``) are clipped to [1e-7, 1 - 1e-7] as Keras does; logits go through
log-sum-exp, so logits of +-1e4 in float32 still give finite losses and gradients, and the per-sample losses keep
their relative accuracy down to the smallest ones (a confident right answer's loss of 1e-30 is not rounded to 0).
"""

from __future__ import annotations

import numpy as np

from learnloop._registry import lookup
from learnloop.activations import log_softmax, sigmoid
from learnloop.errors import LearnloopError

Array = np.ndarray
EPSILON = 1e-7


def _as_float(a, like: Array | None = None) -> Array:
    a = np.asarray(a)
    if like is not None and like.dtype.kind == "f":
        dtype = like.dtype
    else:
        dtype = a.dtype if a.dtype.kind == "f" else np.float32
    return a.astype(dtype, copy=False)


def _match_shapes(name: str, y: Array, p: Array) -> Array:
    if y.shape == p.shape:
        return y
    if y.ndim == p.ndim - 1 and p.shape[-1] == 1 and y.shape == p.shape[:-1]:
        return y.reshape(p.shape)
    if y.ndim == p.ndim + 1 and y.shape[-1] == 1 and y.shape[:-1] == p.shape:
        return y.reshape(p.shape)
    raise LearnloopError(
        f"{name}: y_true has shape {y.shape} but the model outputs shape {p.shape}; they must match "
        f"(or differ only by a trailing axis of 1).")


class Loss:
    """Base class. Subclasses implement ``per_sample(y, p)`` and ``gradient_per_sample(y, p)``."""

    from_logits = False

    def __init__(self, reduction: str = "sum_over_batch_size", name: str | None = None):
        if reduction not in ("sum_over_batch_size", "sum", "mean", "none", None):
            raise LearnloopError(
                f"Unknown reduction {reduction!r}; expected one of ['mean', 'none', 'sum', 'sum_over_batch_size'].")
        self.reduction = reduction
        self.name = name or _snake(type(self).__name__)

    # -- what subclasses write
    def prepare(self, y_true, y_pred: Array) -> Array:
        """Targets in the shape and dtype this loss computes with (validates once, not every batch)."""
        return _match_shapes(type(self).__name__, _as_float(y_true, y_pred), y_pred)

    def per_sample(self, y: Array, p: Array) -> Array:
        raise NotImplementedError

    def gradient_per_sample(self, y: Array, p: Array) -> Array:
        """d(per-sample loss)/dp, shape of p."""
        raise NotImplementedError

    # -- shared
    def __call__(self, y_true, y_pred, sample_weight=None):
        p = _as_float(y_pred)
        values = self.per_sample(self.prepare(y_true, p), p)
        if sample_weight is not None:
            values = values * np.asarray(sample_weight, dtype=values.dtype).reshape(values.shape)
        if self.reduction in ("none", None):
            return values
        total = float(values.sum(dtype=np.float64))
        return total if self.reduction == "sum" else total / max(values.shape[0], 1)

    def value_and_gradient(self, y: Array, p: Array, sample_weight: Array | None = None) -> tuple[float, Array]:
        """Mean loss over the batch and dL/dp (``y`` already from :meth:`prepare`)."""
        values = self.per_sample(y, p)
        grad = self.gradient_per_sample(y, p)
        m = p.shape[0]
        if sample_weight is not None:
            values = values * sample_weight
            grad *= sample_weight.reshape((-1,) + (1,) * (grad.ndim - 1))
        grad *= grad.dtype.type(1.0 / m)
        return float(values.sum(dtype=np.float64)) / m, grad

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


class MeanSquaredError(Loss):
    """mean((p - y)^2) over the last axis. (The course's J = sum((f - y)^2) / 2m is half of this.)"""

    def per_sample(self, y, p):
        d = p - y
        return (d * d).reshape(p.shape[0], -1).mean(axis=1)

    def gradient_per_sample(self, y, p):
        k = p[0].size if p.ndim > 1 else 1
        return (p - y) * p.dtype.type(2.0 / k)


class MeanAbsoluteError(Loss):
    """``mean(abs(p - y))`` over the last axis."""

    def per_sample(self, y, p):
        return np.abs(p - y).reshape(p.shape[0], -1).mean(axis=1)

    def gradient_per_sample(self, y, p):
        k = p[0].size if p.ndim > 1 else 1
        return np.sign(p - y) * p.dtype.type(1.0 / k)


class _Crossentropy(Loss):
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 reduction: str = "sum_over_batch_size", name: str | None = None):
        super().__init__(reduction=reduction, name=name)
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)
        if not 0.0 <= self.label_smoothing <= 1.0:
            raise LearnloopError(f"label_smoothing must be in [0, 1]; got {label_smoothing!r}.")

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class BinaryCrossentropy(_Crossentropy):
    """-(y log p + (1-y) log(1-p)), averaged over the last axis; ``from_logits=True`` takes z with p = sigmoid(z)."""

    def prepare(self, y_true, y_pred):
        y = super().prepare(y_true, y_pred)
        if self.label_smoothing:
            y = y * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        return y

    def per_sample(self, y, p):
        if self.from_logits:   # max(z, 0) - y z + log(1 + e^-|z|): never overflows, and keeps the small losses of
            #                    confident right answers (log(1 + e^z) - y z cancels to 0 for y = 1, z > 17)
            values = np.maximum(p, 0) - y * p + np.log1p(np.exp(-np.abs(p)))
        else:
            q = np.clip(p, EPSILON, 1 - EPSILON)
            values = -(y * np.log(q) + (1 - y) * np.log1p(-q))
        return values.reshape(p.shape[0], -1).mean(axis=1)

    def gradient_per_sample(self, y, p):
        k = p[0].size if p.ndim > 1 else 1
        if self.from_logits:
            grad = sigmoid(p)                                  # d/dz = sigmoid(z) - y
            grad -= y
        else:
            inside = (p > EPSILON) & (p < 1 - EPSILON)         # the clip's derivative is 0 outside
            q = np.clip(p, EPSILON, 1 - EPSILON)
            grad = ((1 - y) / (1 - q) - y / q) * inside
        grad *= grad.dtype.type(1.0 / k)
        return grad


def _check_probabilities_axis(name: str, p: Array) -> None:
    if p.ndim < 2:
        raise LearnloopError(f"{name} expects predictions of shape (batch, classes); got shape {p.shape}.")


class CategoricalCrossentropy(_Crossentropy):
    """-sum_j y_j log p_j for one-hot (or soft) targets; ``from_logits=True`` takes z with p = softmax(z)."""

    def prepare(self, y_true, y_pred):
        _check_probabilities_axis(type(self).__name__, y_pred)
        y = super().prepare(y_true, y_pred)
        if self.label_smoothing:
            y = y * (1 - self.label_smoothing) + self.label_smoothing / y.shape[-1]
        return y

    def per_sample(self, y, p):
        if self.from_logits:                                   # -sum y log softmax(z), accurate near 0
            return -(y * log_softmax(p)).sum(axis=-1).reshape(p.shape[0], -1).mean(axis=1)
        q = np.clip(p / p.sum(axis=-1, keepdims=True), EPSILON, 1 - EPSILON)
        return -(y * np.log(q)).sum(axis=-1).reshape(p.shape[0], -1).mean(axis=1)

    def gradient_per_sample(self, y, p):
        if self.from_logits:
            e = np.exp(p - p.max(axis=-1, keepdims=True))
            e /= e.sum(axis=-1, keepdims=True)
            return e * y.sum(axis=-1, keepdims=True) - y       # d/dz = softmax(z) sum(y) - y
        s = p.sum(axis=-1, keepdims=True)                      # Keras renormalizes p before the log
        q = p / s
        inside = (q > EPSILON) & (q < 1 - EPSILON)
        dq = -y / np.clip(q, EPSILON, 1 - EPSILON) * inside
        return (dq - (dq * q).sum(axis=-1, keepdims=True)) / s


class SparseCategoricalCrossentropy(_Crossentropy):
    """Categorical crossentropy with integer class labels of shape (m,) or (m, 1), int or integral float."""

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str = "sum_over_batch_size", name: str | None = None):
        super().__init__(from_logits=from_logits, reduction=reduction, name=name)
        self.ignore_class = ignore_class

    def prepare(self, y_true, y_pred):
        _check_probabilities_axis(type(self).__name__, y_pred)
        return sparse_labels(y_true, y_pred.shape[-1], y_pred.shape[0], where=type(self).__name__)

    def _gather(self, a: Array, y: Array) -> Array:
        return a[np.arange(a.shape[0]), y]

    def per_sample(self, y, p):
        if self.from_logits:
            return -self._gather(log_softmax(p), y)
        q = np.clip(self._gather(p, y) / p.sum(axis=-1), EPSILON, 1 - EPSILON)
        return -np.log(q)

    def gradient_per_sample(self, y, p):
        rows = np.arange(p.shape[0])
        if self.from_logits:
            e = np.exp(p - p.max(axis=-1, keepdims=True))
            e /= e.sum(axis=-1, keepdims=True)
            e[rows, y] -= 1                                    # d/dz = softmax(z) - onehot(y)
            return e
        s = p.sum(axis=-1, keepdims=True)
        qy = p[rows, y] / s[:, 0]
        inside = (qy > EPSILON) & (qy < 1 - EPSILON)
        grad = np.zeros_like(p)
        dqy = -1.0 / np.clip(qy, EPSILON, 1 - EPSILON) * inside
        grad[rows, y] = dqy / s[:, 0]
        grad -= (dqy * qy)[:, None] / s                        # through the renormalization q = p / sum(p)
        return grad

    def value_and_gradient(self, y, p, sample_weight=None):
        if not self.from_logits:
            return super().value_and_gradient(y, p, sample_weight)
        # Fused log-softmax: one exp serves both the loss and its gradient softmax(z) - onehot(y).
        m = p.shape[0]
        rows = np.arange(m)
        zmax = p.max(axis=-1, keepdims=True)
        e = p - zmax
        picked = e[rows, y]
        np.exp(e, out=e)
        s = e.sum(axis=-1, keepdims=True)
        values = np.log(s[:, 0]) - picked
        e /= s
        e[rows, y] -= 1
        if sample_weight is not None:
            values = values * sample_weight
            e *= sample_weight[:, None]
        e *= e.dtype.type(1.0 / m)
        return float(values.sum(dtype=np.float64)) / m, e

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("label_smoothing")
        return {**config, "ignore_class": self.ignore_class}


def sparse_labels(y_true, n_classes: int, n_samples: int | None = None, where: str = "labels") -> Array:
    """Class labels as an int array (m,); accepts (m,) or (m, 1), ints or integral floats, checks the range."""
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise LearnloopError(f"{where} expects class labels of shape (m,) or (m, 1); got shape {y.shape}.")
    if n_samples is not None and y.shape[0] != n_samples:
        raise LearnloopError(f"{where}: {y.shape[0]} labels for {n_samples} predictions.")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise LearnloopError(f"{where} expects integer class labels; got non-integer values such as "
                                 f"{y[~np.isfinite(y) | (y != np.round(y))][:3].tolist()}.")
    elif y.dtype.kind not in "iub":
        raise LearnloopError(f"{where} expects integer class labels; got dtype {y.dtype}.")
    y = y.astype(np.intp)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise LearnloopError(
            f"{where}: labels must be in [0, {n_classes}) for a model with {n_classes} outputs; "
            f"got values from {y.min()} to {y.max()}.")
    return y


def mean_squared_error(y_true, y_pred) -> Array:
    """Per-sample MSE, shape (m,)."""
    return MeanSquaredError(reduction="none")(y_true, y_pred)


def mean_absolute_error(y_true, y_pred) -> Array:
    return MeanAbsoluteError(reduction="none")(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0) -> Array:
    return BinaryCrossentropy(from_logits, label_smoothing, reduction="none")(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0) -> Array:
    return CategoricalCrossentropy(from_logits, label_smoothing, reduction="none")(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> Array:
    return SparseCategoricalCrossentropy(from_logits, reduction="none")(y_true, y_pred)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

_ALL = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError, "meansquarederror": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError, "meanabsoluteerror": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy, "binarycrossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy, "categoricalcrossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "sparsecategoricalcrossentropy": SparseCategoricalCrossentropy,
}
_FUNCTIONS = {mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
              binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
              sparse_categorical_crossentropy: SparseCategoricalCrossentropy}
CLASSES = {cls.__name__: cls for cls in set(_ALL.values())}


def get(identifier) -> Loss:
    """A loss object from a name (``"mse"``, ``"sparse_categorical_crossentropy"``), a function or an instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return lookup("loss", _ALL, identifier)()
    if identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    raise LearnloopError(f"Expected a loss name or object; got {identifier!r}. Valid names: {sorted(_ALL)}.")


def serialize(loss: Loss) -> dict:
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict) -> Loss:
    cls = lookup("loss class", {k.lower(): v for k, v in CLASSES.items()}, config["class_name"])
    return cls.from_config(config.get("config", {}))
