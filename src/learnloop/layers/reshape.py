"""Shape-only layers: ``Flatten`` (any rank to (batch, features)) and ``Reshape``."""

from __future__ import annotations

import math

from learnloop.errors import LearnloopError
from learnloop.layers.base import Array, Layer, Shape


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad: Array) -> Array | None:
        return grad.reshape(self._shape) if self.input_grad_needed else None


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(d == 0 or d < -1 for d in self.target_shape):
            raise LearnloopError(
                f"Reshape target_shape takes positive sizes and at most one -1; got {target_shape!r}.")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        size = None if any(d is None for d in input_shape[1:]) else math.prod(input_shape[1:])
        target = list(self.target_shape)
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            target[target.index(-1)] = None if size is None else size // known
        elif size is not None and size != known:
            raise LearnloopError(
                f"Reshape '{self.name}' cannot reshape samples of shape {tuple(input_shape[1:])} ({size} values) "
                f"to {self.target_shape} ({known} values).")
        return (input_shape[0],) + tuple(target)

    def check_input_shape(self, shape: Shape) -> None:
        self.compute_output_shape((None,) + tuple(shape[1:]))

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._shape = x.shape
        return x.reshape((x.shape[0],) + self.target_shape)

    def backward(self, grad: Array) -> Array | None:
        return grad.reshape(self._shape) if self.input_grad_needed else None

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape)}
