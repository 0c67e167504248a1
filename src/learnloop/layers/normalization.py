"""Normalization: (x - mean) / sqrt(variance) per feature, with the statistics learned by ``adapt(x)``."""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.layers.base import Array, Layer, Shape

_EPSILON = 1e-7  # Keras's backend.epsilon(): the floor on the standard deviation


class Normalization(Layer):
    """Feature-wise standardization, like ``tf.keras.layers.Normalization``.

    Args:
        axis: the feature axis that keeps its own statistics (default the last).
        mean, variance: fixed statistics instead of ``adapt``.
        invert: undo a normalization instead (x * std + mean).

    ``adapt(x)`` sets the mean and the population variance (ddof=0) over every other axis. The statistics are
    non-trainable weights ``[mean, variance, count]``, so ``get_weights``/``set_weights`` and saving carry them.
    """

    def __init__(self, axis: int | None = -1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if axis is not None and not isinstance(axis, int):
            raise LearnloopError(f"Normalization supports a single int axis or None; got axis={axis!r}.")
        if (mean is None) != (variance is None):
            raise LearnloopError("Normalization needs both mean= and variance=, or neither.")
        self.axis, self.invert = axis, bool(invert)
        self._init_mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self._init_variance = None if variance is None else np.asarray(variance, dtype=np.float64)
        self.adapted = mean is not None

    def _stat_shape(self, input_shape: Shape) -> tuple[int, ...]:
        if self.axis is None:
            return ()
        return (int(input_shape[self.axis]),)

    def build(self, input_shape: Shape) -> None:
        shape = self._stat_shape(input_shape)
        self.add_weight("mean", shape, "zeros", trainable=False)
        self.add_weight("variance", shape, "ones", trainable=False)
        self.add_weight("count", (), "zeros", trainable=False)
        if self._init_mean is not None:
            self.mean[...] = np.broadcast_to(self._init_mean, shape)
            self.variance[...] = np.broadcast_to(self._init_variance, shape)
        self._ndim = len(input_shape)
        self.built = True

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the mean and population variance of ``data`` (array (n, ..., features)), per feature."""
        x = np.asarray(data, dtype=np.float64)
        if x.ndim == 1:
            x = x.reshape(-1, 1)
        if x.size == 0:
            raise LearnloopError("Normalization.adapt got an empty array.")
        if not np.all(np.isfinite(x)):
            raise LearnloopError("Normalization.adapt got NaN or inf values; clean the data first.")
        if not self.built:
            self.ensure_built((None,) + x.shape[1:])
        elif self.axis is not None and x.shape[self.axis] != self.mean.shape[0]:
            raise LearnloopError(
                f"Normalization '{self.name}' was built for {self.mean.shape[0]} features; adapt got an array "
                f"of shape {x.shape}.")
        axes = tuple(i for i in range(x.ndim) if self.axis is None or i != self.axis % x.ndim)
        self.mean[...] = x.mean(axis=axes)
        self.variance[...] = x.var(axis=axes)
        self.count[...] = np.prod([x.shape[i] for i in axes])
        self.adapted = True

    def check_input_shape(self, shape: Shape) -> None:
        if self.axis is not None and self.mean.shape and shape[self.axis] != self.mean.shape[0]:
            raise LearnloopError(
                f"Normalization '{self.name}' expects {self.mean.shape[0]} features on axis {self.axis}; "
                f"got an array of shape {tuple(shape)}.")

    def _broadcast(self, stat: Array, ndim: int) -> Array:
        # statistics of shape (features,) line up with ``axis`` of an ndim-dimensional input
        if self.axis is None or ndim == 0:
            return stat
        shape = [1] * ndim
        shape[self.axis] = -1
        return stat.reshape(shape)

    def _std(self, ndim: int) -> Array:
        return self._broadcast(np.maximum(np.sqrt(self.variance), _EPSILON).astype(self.dtype), ndim)

    def forward(self, x: Array, *, training: bool = False) -> Array:
        std, mean = self._std(x.ndim), self._broadcast(self.mean.astype(self.dtype), x.ndim)
        if self.invert:
            return x * std + mean
        return (x - mean) / std

    def backward(self, grad: Array) -> Array | None:
        if not self.input_grad_needed:
            return None
        std = self._std(grad.ndim)
        return grad * std if self.invert else grad / std

    def get_config(self) -> dict:
        config = {**super().get_config(), "axis": self.axis, "invert": self.invert}
        if self._init_mean is not None:
            config["mean"] = self._init_mean.tolist()
            config["variance"] = self._init_variance.tolist()
        return config
