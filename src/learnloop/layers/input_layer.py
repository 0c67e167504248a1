"""``Input(shape)`` and the ``InputLayer`` behind it: they declare the shape of the samples a model takes."""

from __future__ import annotations

from learnloop.config import standardize_dtype
from learnloop.errors import LearnloopError
from learnloop.layers.base import Array, Layer
from learnloop.shapes import SymbolicTensor


class InputLayer(Layer):
    """Holds the model's input description; passes data through unchanged."""

    def __init__(self, shape=None, batch_size: int | None = None, dtype=None, name: str | None = None,
                 batch_shape=None, input_shape=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if shape is None and input_shape is not None:
            shape = input_shape
        if batch_shape is not None:
            batch_size, shape = batch_shape[0], batch_shape[1:]
        if shape is None:
            raise LearnloopError("InputLayer needs shape=(features, ...) without the batch axis, e.g. Input((400,)).")
        if isinstance(shape, int):
            shape = (shape,)
        shape = tuple(shape)
        if any(d is not None and (not isinstance(d, int) or d <= 0) for d in shape):
            raise LearnloopError(f"Input shape takes positive ints (or None); got {shape!r}.")
        self.batch_size = batch_size
        self.shape = shape
        self.output = SymbolicTensor((batch_size,) + shape, self.dtype, layer=self)
        self.input = self.output
        self.built = True

    def forward(self, x: Array, *, training: bool = False) -> Array:
        return x

    def backward(self, grad: Array) -> Array | None:
        return grad

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape), "batch_size": self.batch_size}


def Input(shape=None, batch_size: int | None = None, dtype=None, name: str | None = None,
          batch_shape=None) -> SymbolicTensor:
    """A symbolic input of ``shape`` (per sample, no batch axis): ``Sequential([Input((400,)), Dense(25), ...])``."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=standardize_dtype(dtype).name, name=name,
                       batch_shape=batch_shape)
    return layer.output
