"""Activation layers: ``Activation(fn)``, ``ReLU``, ``LeakyReLU`` and ``Softmax``."""

from __future__ import annotations

import warnings

import numpy as np

from learnloop import activations
from learnloop.errors import LearnloopError
from learnloop.layers.base import Array, Layer


class Activation(Layer):
    """Applies an activation function to its input, elementwise (softmax: along the last axis)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self._grad = activations.derivative(self.activation)
        self._keep_z = self.activation in activations.NEEDS_Z

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._z = x if self._keep_z else None
        self._a = self.activation(x)
        return self._a

    def backward(self, grad: Array) -> Array | None:
        return self._grad(self._a, self._z, grad) if self.input_grad_needed else None

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class ReLU(Activation):
    """max(0, z)."""

    def __init__(self, **kwargs):
        kwargs.pop("activation", None)
        super().__init__("relu", **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("activation")
        return config


class Softmax(Layer):
    """Softmax along ``axis`` (default the last)."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise LearnloopError(f"Softmax supports axis=-1 (the feature axis); got axis={axis!r}.")
        self.axis = axis

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._a = activations.softmax(x, axis=self.axis)
        return self._a

    def backward(self, grad: Array) -> Array | None:
        a = self._a
        return a * (grad - (grad * a).sum(axis=-1, keepdims=True)) if self.input_grad_needed else None

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class LeakyReLU(Layer):
    """z for z > 0, ``negative_slope * z`` otherwise (default 0.3 as in Keras 3; ``alpha=`` is the old name)."""

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        if "alpha" in kwargs:
            warnings.warn("LeakyReLU(alpha=...) is deprecated; use negative_slope=...", DeprecationWarning,
                          stacklevel=2)
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        negative_slope = float(negative_slope)
        if not np.isfinite(negative_slope) or negative_slope < 0:
            raise LearnloopError(f"LeakyReLU expects negative_slope >= 0; got {negative_slope!r}.")
        self.negative_slope = negative_slope

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._positive = x > 0
        return activations.leaky_relu(x, self.negative_slope)

    def backward(self, grad: Array) -> Array | None:
        if not self.input_grad_needed:
            return None
        return activations.leaky_relu_grad(self._positive, grad, self.negative_slope)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}
