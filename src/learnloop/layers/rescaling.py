"""``Rescaling``: y = x * scale + offset, Keras's preprocessing layer (e.g. ``Rescaling(1 / 255)`` for pixels)."""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.layers.base import Array, Layer


def _factor(value, name: str) -> float | list[float]:
    """A finite float, or a list of them (one per channel, broadcast along the last axis)."""
    values = np.asarray(value, dtype=np.float64) if not isinstance(value, str) else None
    if values is None or values.ndim > 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise LearnloopError(f"Rescaling {name} must be a finite number or a list of them (one per channel); "
                             f"got {value!r}.")
    return float(values) if values.ndim == 0 else values.tolist()


class Rescaling(Layer):
    """Multiply by ``scale`` and add ``offset``: (batch, ...) -> same shape, no weights.

    Args:
        scale: a number, or one per channel (last axis). ``1 / 255`` maps pixels to [0, 1]; ``1 / 127.5`` with
            ``offset=-1`` maps them to [-1, 1].
        offset: a number, or one per channel.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = _factor(scale, "scale"), _factor(offset, "offset")

    def check_input_shape(self, shape) -> None:
        for name, value in (("scale", self.scale), ("offset", self.offset)):
            if isinstance(value, list) and shape[-1] is not None and len(value) not in (1, shape[-1]):
                raise LearnloopError(f"Rescaling '{self.name}' has {len(value)} {name} values but the input has "
                                     f"{shape[-1]} channels (last axis of shape {tuple(shape)}).")

    def forward(self, x: Array, *, training: bool = False) -> Array:
        out = x * np.asarray(self.scale, dtype=x.dtype)
        out += np.asarray(self.offset, dtype=x.dtype)
        return out

    def backward(self, grad: Array) -> Array | None:
        return grad * np.asarray(self.scale, dtype=grad.dtype) if self.input_grad_needed else None

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
