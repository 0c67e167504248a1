"""What Dense and the convolutions share: an activation, a kernel and an optional bias, with their initializers
and regularizers, and the config that rebuilds them."""

from __future__ import annotations

from learnloop import activations
from learnloop import initializers as initializers_mod
from learnloop import regularizers as regularizers_mod
from learnloop.layers.base import Layer


class KernelLayer(Layer):
    """Base of layers computing ``g(x * kernel + bias)``; subclasses create ``kernel`` and ``bias`` in ``build``."""

    def __init__(self, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self._activation_grad = activations.derivative(self.activation)
        self._keep_z = self.activation in activations.NEEDS_Z
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_mod.get(kernel_initializer)
        self.bias_initializer = initializers_mod.get(bias_initializer)
        self.kernel_regularizer = regularizers_mod.get(kernel_regularizer)
        self.bias_regularizer = regularizers_mod.get(bias_regularizer)

    def get_config(self) -> dict:
        return {**super().get_config(),
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers_mod.serialize(self.kernel_initializer),
                "bias_initializer": initializers_mod.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers_mod.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers_mod.serialize(self.bias_regularizer)}
