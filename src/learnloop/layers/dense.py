"""Dense: a = g(x @ W + b), the notes' layer of units; W is (n_in, units), one column per neuron."""

from __future__ import annotations

import numpy as np

from learnloop import activations
from learnloop.errors import LearnloopError
from learnloop.layers.base import Array, Shape
from learnloop.layers.kernel_layer import KernelLayer


def check_positive_int(layer: str, arg: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise LearnloopError(f"{layer} expects {arg} to be a positive integer; got {value!r}.")
    return int(value)


class Dense(KernelLayer):
    """Fully connected layer on the last axis: (batch, ..., n_in) -> (batch, ..., units).

    Args:
        units: number of neurons (columns of the kernel).
        activation: name or function from :mod:`learnloop.activations`; ``None`` is linear.
        use_bias: add a bias vector of shape (units,).
        kernel_initializer, bias_initializer: names or :mod:`learnloop.initializers` objects.
        kernel_regularizer, bias_regularizer: e.g. ``learnloop.regularizers.l2(0.01)``.
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, **kwargs)
        self.units = check_positive_int("Dense", "units", units)

    def build(self, input_shape: Shape) -> None:
        n_in = input_shape[-1]
        if n_in is None:
            raise LearnloopError(f"Dense '{self.name}' needs a known last input dimension; got shape {input_shape}.")
        self.add_weight("kernel", (n_in, self.units), self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)
        self.built = True

    def check_input_shape(self, shape: Shape) -> None:
        n_in = self.kernel.shape[0]
        if len(shape) < 2 or shape[-1] != n_in:
            raise LearnloopError(
                f"Dense '{self.name}' expects inputs with {n_in} features; got an array of shape {tuple(shape)}.")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._x = x
        z = x @ self.kernel
        if self.use_bias:
            z += self.bias
        if self._keep_z:
            self._z = z.copy()
        self._a = activations.apply_inplace(self.activation, z)
        return self._a

    def backward(self, grad: Array) -> Array | None:
        dz = self._activation_grad(self._a, self._z if self._keep_z else None, grad)   # dL/dz = dL/da * g'(z)
        x = self._x
        if x.ndim > 2:
            x, dz = x.reshape(-1, x.shape[-1]), dz.reshape(-1, self.units)
        if self._trainable:
            np.matmul(x.T, dz, out=self.grads["kernel"])                               # dL/dW = x^T dz
            if self.use_bias:
                dz.sum(axis=0, out=self.grads["bias"])                                 # dL/db = sum over batch
        if not self.input_grad_needed:
            return None
        dx = dz @ self.kernel.T                                                         # dL/dx = dz W^T
        return dx.reshape(self._x.shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}
