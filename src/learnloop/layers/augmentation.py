"""Keras-style augmentation layers: random transforms applied while training, the identity at inference.

Put them first in a model so each epoch sees new variants of the training images (the notes' distortions that
keep the label); ``predict`` and ``evaluate`` see the images unchanged. Inputs are (batch, h, w, c) as in Keras
(channels last) or (batch, h, w). The geometric layers resample with ``scipy.ndimage.map_coordinates`` (see
:mod:`learnloop.data.augment`); their ``backward`` applies the exact transpose of that resampling (bilinear or
nearest weights, scattered back with ``np.bincount``), so a trainable layer placed before them still gets the
right gradient. ``GaussianNoise`` adds noise, whose gradient is the identity.
"""

from __future__ import annotations

import numpy as np

from learnloop.data.augment import (
    FILL_MODES,
    affine_coordinates,
    fill_mode,
    resample,
    rotation_matrices,
)
from learnloop.errors import LearnloopError
from learnloop.layers.base import Array, Layer, Shape
from learnloop.utils import make_rng

_INTERPOLATION = {"bilinear": 1, "nearest": 0}


def _factor_range(factor, where: str, name: str) -> tuple[float, float]:
    """Keras's convention: ``f`` -> (-f, f); ``(low, high)`` as given."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or float(factor[0]) > float(factor[1]):
            raise LearnloopError(f"{where} {name} takes a float or a (low, high) pair with low <= high; "
                                 f"got {factor!r}.")
        return float(factor[0]), float(factor[1])
    factor = float(factor)
    if factor < 0:
        raise LearnloopError(f"{where} {name} must be >= 0 when given as one number; got {factor!r}.")
    return -factor, factor


def _as_config(factor):
    """Factors as JSON keeps them: a (low, high) pair becomes a list, so a saved and loaded config compares equal."""
    return [float(f) for f in factor] if isinstance(factor, (tuple, list)) else factor


def _taps(coord: Array, size: int, mode: str, order: int) -> list[tuple[Array, Array]]:
    """(index, weight) pairs along one axis that scipy's order-0/1 interpolation reads, indices mapped into range."""
    if order == 0:
        raw = [(np.floor(coord + 0.5), np.ones_like(coord))]
    else:
        low = np.floor(coord)
        frac = coord - low
        raw = [(low, 1.0 - frac), (low + 1, frac)]
    taps = []
    for index, weight in raw:
        i = index.astype(np.int64)
        if mode == "grid-constant":                       # outside reads the fill value, which has no gradient
            weight = weight * ((i >= 0) & (i < size))
            i = np.clip(i, 0, size - 1)
        elif mode == "nearest":
            i = np.clip(i, 0, size - 1)
        elif mode == "reflect":                           # d c b a | a b c d | d c b a
            i = np.mod(i, 2 * size)
            i = np.where(i >= size, 2 * size - 1 - i, i)
        elif mode == "mirror":                            # d c b | a b c d | c b a
            period = max(1, 2 * size - 2)
            i = np.mod(i, period)
            i = np.where(i >= size, period - i, i) if size > 1 else np.zeros_like(i)
        else:                                             # grid-wrap
            i = np.mod(i, size)
        taps.append((i, weight))
    return taps


def resample_transpose(grad: Array, coords: Array, input_shape: tuple, mode: str, order: int) -> Array:
    """The adjoint of :func:`learnloop.data.augment.resample`: dL/d(input) from dL/d(output).

    Args:
        grad: (n, h_out, w_out[, c]) gradient of the resampled images.
        coords: (n, 2, h_out, w_out) the coordinates the forward pass read.
        input_shape: (n, h, w[, c]) of the forward input.
        mode: a learnloop fill mode; order: 1 (bilinear) or 0 (nearest).

    Returns:
        (input_shape) float64.
    """
    squeeze = len(input_shape) == 3
    g = grad[..., None] if squeeze else grad
    n, h, w = input_shape[:3]
    c = g.shape[-1]
    scipy_mode = fill_mode(mode)
    batch = np.arange(n).reshape(n, 1, 1)
    out = np.zeros(n * h * w * c)
    for iy, wy in _taps(coords[:, 0], h, scipy_mode, order):
        for ix, wx in _taps(coords[:, 1], w, scipy_mode, order):
            flat = ((batch * h + iy) * w + ix)[..., None] * c + np.arange(c)
            out += np.bincount(flat.ravel(), weights=(g * (wy * wx)[..., None]).ravel(), minlength=out.size)
    out = out.reshape(n, h, w, c)
    return out[..., 0] if squeeze else out


class _RandomImages(Layer):
    """Shared by the image layers: channels-last (batch, h, w[, c]) inputs and a generator drawn on first use."""

    def __init__(self, seed: int | None = None, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise LearnloopError(f"{type(self).__name__} supports data_format='channels_last' only; "
                                 f"got {data_format!r}.")
        self.seed = seed
        self._rng = None

    def check_input_shape(self, shape: Shape) -> None:
        if len(shape) not in (3, 4):
            raise LearnloopError(f"{type(self).__name__} '{self.name}' expects images of shape (batch, h, w, c) or "
                                 f"(batch, h, w); got samples of shape {tuple(shape[1:])}. Add a Reshape layer "
                                 f"before it, e.g. Reshape((8, 8, 1)).")

    def _generator(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = make_rng(self.seed)
        return self._rng


class _RandomAffine(_RandomImages):
    """One random affine transform per image while training (subclasses draw the matrices)."""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format: str | None = None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if fill_mode not in FILL_MODES:
            raise LearnloopError(f"{type(self).__name__} fill_mode must be one of {sorted(FILL_MODES)}; "
                                 f"got {fill_mode!r}.")
        if interpolation not in _INTERPOLATION:
            raise LearnloopError(f"{type(self).__name__} interpolation must be one of {sorted(_INTERPOLATION)}; "
                                 f"got {interpolation!r}.")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)
        self._coords = None

    def _draw(self, n: int, h: int, w: int, rng: np.random.Generator) -> tuple[Array, Array]:
        raise NotImplementedError

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._coords = None
        if not training:
            return x
        n, h, w = x.shape[:3]
        matrices, shifts = self._draw(n, h, w, self._generator())
        self._coords, self._shape = affine_coordinates((h, w), matrices, shifts), x.shape
        order = _INTERPOLATION[self.interpolation]
        return resample(x, self._coords, self.fill_mode, self.fill_value, order).astype(x.dtype)

    def backward(self, grad: Array) -> Array | None:
        if not self.input_grad_needed:
            return None
        if self._coords is None:
            return grad
        dx = resample_transpose(grad, self._coords, self._shape, self.fill_mode, _INTERPOLATION[self.interpolation])
        return dx.astype(grad.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "seed": self.seed, "fill_value": self.fill_value}


class RandomRotation(_RandomAffine):
    """Rotate each image by a random angle: ``factor`` is a fraction of a full turn (0.1 -> up to +-36 degrees).

    Args:
        factor: f draws from [-f, f] * 2 pi, or a (low, high) pair; positive turns counter-clockwise.
        fill_mode: "reflect" (default, as Keras), "constant", "nearest", "wrap" or "mirror".
        interpolation: "bilinear" or "nearest".
        seed: makes the draws reproducible; otherwise they follow ``learnloop.set_seed``.
        fill_value: the value outside the image for fill_mode="constant".
    """

    def __init__(self, factor, fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = _as_config(factor)
        self._range = _factor_range(factor, "RandomRotation", "factor")

    def _draw(self, n, h, w, rng):
        angles = rng.uniform(*self._range, size=n) * 2 * np.pi
        return rotation_matrices(angles), np.zeros((n, 2))

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_RandomAffine):
    """Zoom each image by a random amount; a draw z shows (1 + z) times the height (positive zooms out).

    Args:
        height_factor: f draws z from [-f, f], or a (low, high) pair, each above -1.
        width_factor: the same for the width; ``None`` (default) keeps the aspect ratio (z used for both).
        fill_mode, interpolation, seed, fill_value: as :class:`RandomRotation`.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = _as_config(height_factor), _as_config(width_factor)
        self._h = _factor_range(height_factor, "RandomZoom", "height_factor")
        self._w = None if width_factor is None else _factor_range(width_factor, "RandomZoom", "width_factor")
        if min(self._h[0], (self._w or self._h)[0]) <= -1:
            raise LearnloopError(f"RandomZoom factors must stay above -1 (a zoom of 1 + z); got "
                                 f"height_factor={height_factor!r}, width_factor={width_factor!r}.")

    def _draw(self, n, h, w, rng):
        zh = rng.uniform(*self._h, size=n)
        zw = zh if self._w is None else rng.uniform(*self._w, size=n)
        matrices = np.zeros((n, 2, 2))
        matrices[:, 0, 0], matrices[:, 1, 1] = 1 + zh, 1 + zw
        return matrices, np.zeros((n, 2))

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomTranslation(_RandomAffine):
    """Shift each image by a random fraction of its height and width (positive: down and right).

    Args:
        height_factor, width_factor: f draws from [-f, f] of the height / width, or a (low, high) pair.
        fill_mode, interpolation, seed, fill_value: as :class:`RandomRotation`.
    """

    def __init__(self, height_factor, width_factor, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = _as_config(height_factor), _as_config(width_factor)
        self._h = _factor_range(height_factor, "RandomTranslation", "height_factor")
        self._w = _factor_range(width_factor, "RandomTranslation", "width_factor")

    def _draw(self, n, h, w, rng):
        shifts = np.stack([rng.uniform(*self._h, size=n) * h, rng.uniform(*self._w, size=n) * w], axis=1)
        return np.broadcast_to(np.eye(2), (n, 2, 2)), -shifts

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class GaussianNoise(Layer):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` while training (any input shape).

    Args:
        stddev: the noise's standard deviation, >= 0.
        seed: makes the noise reproducible; otherwise it follows ``learnloop.set_seed``.
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if float(stddev) < 0:
            raise LearnloopError(f"GaussianNoise stddev must be >= 0; got {stddev!r}.")
        self.stddev, self.seed = float(stddev), seed
        self._rng = None

    def forward(self, x: Array, *, training: bool = False) -> Array:
        if not training or self.stddev == 0:
            return x
        if self._rng is None:
            self._rng = make_rng(self.seed)
        return x + self._rng.normal(0.0, self.stddev, size=x.shape).astype(x.dtype)

    def backward(self, grad: Array) -> Array | None:
        return grad if self.input_grad_needed else None         # d(x + noise)/dx = I

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class RandomFlip(_RandomImages):
    """Mirror each image at random while training: left-right, up-down, or each independently (Keras's modes).

    Args:
        mode: "horizontal" (flip the width axis), "vertical" (the height axis) or "horizontal_and_vertical"
            (default, as Keras: each axis flipped with probability 1/2, independently).
        seed: makes the draws reproducible; otherwise they follow ``learnloop.set_seed``.
    """

    MODES = {"horizontal": (2,), "vertical": (1,), "horizontal_and_vertical": (1, 2)}

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in self.MODES:
            raise LearnloopError(f"RandomFlip mode must be one of {list(self.MODES)}; got {mode!r}.")
        self.mode = mode
        self._flips: list[tuple[int, Array]] = []

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._flips = []
        if not training:
            return x
        rng = self._generator()
        out = x.copy()
        for axis in self.MODES[self.mode]:
            chosen = np.flatnonzero(rng.random(len(x)) < 0.5)          # the images flipped along this axis
            out[chosen] = np.flip(out[chosen], axis=axis)
            self._flips.append((axis, chosen))
        return out

    def backward(self, grad: Array) -> Array | None:
        if not self.input_grad_needed:
            return None
        if not self._flips:
            return grad
        dx = grad.copy()
        for axis, chosen in reversed(self._flips):                      # a flip is its own transpose
            dx[chosen] = np.flip(dx[chosen], axis=axis)
        return dx

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode, "seed": self.seed}
