"""Dropout: during training, zero each input with probability ``rate`` and scale the rest by 1/(1-rate)."""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.layers.base import Array, Layer
from learnloop.utils import make_rng


class Dropout(Layer):
    """Inverted dropout; the identity at inference, so predictions need no rescaling.

    Args:
        rate: fraction of inputs to drop, in [0, 1).
        noise_shape: optional shape of the mask, broadcast over the input (``None`` keeps a dim's size).
        seed: makes the masks reproducible; otherwise they follow ``learnloop.set_seed``.
    """

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise LearnloopError(f"Dropout rate must be in [0, 1); got {rate!r}.")
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed
        self._rng = None

    def forward(self, x: Array, *, training: bool = False) -> Array:
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        if self._rng is None:
            self._rng = make_rng(self.seed)
        shape = x.shape if self.noise_shape is None else tuple(
            x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        keep = self._rng.random(shape, dtype=np.float32 if x.dtype == np.float32 else np.float64) >= self.rate
        self._mask = keep * x.dtype.type(1.0 / (1.0 - self.rate))
        return x * self._mask

    def backward(self, grad: Array) -> Array | None:
        if not self.input_grad_needed:
            return None
        return grad if self._mask is None else grad * self._mask

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}
