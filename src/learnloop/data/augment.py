"""Data augmentation on arrays: random geometric and noise transforms of images and signals.

Images are batches of shape (n, h, w) or (n, h, w, c); signals are (n, steps) or (n, steps, c). Every function
takes a ``seed`` (an int, a ``numpy.random.Generator`` or ``None`` for learnloop's global generator), returns a
new array of the input's dtype (integers are rounded and clipped to their range) and leaves labels alone:
a transformed example keeps its label, which is the whole point (the notes' rotated "A" is still an "A").

Geometric transforms resample the whole batch with one ``scipy.ndimage.map_coordinates`` call: output pixel
(i, j) of image k reads the input at ``center + M_k @ ((i, j) - center) + t_k`` with bilinear interpolation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from learnloop._registry import lookup
from learnloop.data._batches import Array, Seed, _check_batch, _range, _restore_dtype, as_rng
from learnloop.data.signals import add_background_noise, amplitude_scale, time_shift
from learnloop.errors import LearnloopError

# learnloop / Keras fill modes -> scipy.ndimage modes (Keras's "wrap" is scipy's "grid-wrap", and Keras's
# "constant" interpolates toward fill_value across the edge like scipy's "grid-constant").
FILL_MODES = {"constant": "grid-constant", "nearest": "nearest", "reflect": "reflect", "wrap": "grid-wrap",
              "mirror": "mirror"}
_CHUNK = 1 << 22  # coordinates per map_coordinates call: bounds the temporary arrays to a few tens of MB


def fill_mode(mode: str) -> str:
    """The scipy.ndimage mode for a learnloop/Keras ``fill_mode`` name."""
    return lookup("fill_mode", FILL_MODES, mode)


def affine_coordinates(shape: tuple[int, int], matrices: Array, shifts: Array,
                       out_shape: tuple[int, int] | None = None) -> Array:
    """Input-space coordinates of every output pixel, for one 2x2 matrix and one shift per image.

    Args:
        shape: (h, w) of the input images.
        matrices: (n, 2, 2), mapping output offsets from the center to input offsets.
        shifts: (n, 2), added in input pixels (rows, columns).
        out_shape: (h_out, w_out), default ``shape``; the output grid spans the same extent as the input.

    Returns:
        (n, 2, h_out, w_out): row and column coordinates to read in the input.
    """
    h, w = shape
    ho, wo = out_shape or shape
    # Pixel centers of the output grid, expressed in input units around the input's center.
    rows = (np.arange(ho) + 0.5) * (h / ho) - 0.5 - (h - 1) / 2
    cols = (np.arange(wo) + 0.5) * (w / wo) - 0.5 - (w - 1) / 2
    grid = np.stack(np.meshgrid(rows, cols, indexing="ij"))                  # (2, ho, wo)
    coords = np.einsum("nij,jhw->nihw", matrices, grid)
    coords += (np.array([(h - 1) / 2, (w - 1) / 2]) + shifts)[:, :, None, None]
    return coords


def resample(images: Array, coords: Array, mode: str = "constant", fill_value: float = 0.0,
             order: int = 1) -> Array:
    """Read every image at its own coordinates with one vectorized ``map_coordinates`` per chunk of images.

    Args:
        images: (n, h, w) or (n, h, w, c), any float or integer dtype.
        coords: (n, 2, h_out, w_out) input coordinates (rows, columns) per output pixel.
        mode: a learnloop fill mode ("constant", "nearest", "reflect", "wrap", "mirror").
        fill_value: the value outside the image for mode "constant".
        order: spline order; 1 (bilinear, the default) or 0 (nearest).

    Returns:
        (n, h_out, w_out[, c]) as float64.
    """
    from scipy import ndimage

    squeeze = images.ndim == 3
    x = images[..., None] if squeeze else images
    n, _, _, c = x.shape
    ho, wo = coords.shape[2:]
    out = np.empty((n, ho, wo, c), dtype=np.float64)
    step = max(1, _CHUNK // max(1, ho * wo * c))
    channel = np.broadcast_to(np.arange(c, dtype=np.float64), (ho, wo, c))
    for start in range(0, n, step):
        stop = min(n, start + step)
        k = stop - start
        # The batch and channel axes are read at exact integer positions, so only rows/columns interpolate.
        full = np.empty((4, k, ho, wo, c))
        full[0] = np.arange(start, stop, dtype=np.float64)[:, None, None, None]
        full[1] = coords[start:stop, 0, :, :, None]
        full[2] = coords[start:stop, 1, :, :, None]
        full[3] = channel
        out[start:stop] = ndimage.map_coordinates(x, full, order=order, mode=fill_mode(mode), cval=fill_value,
                                                  prefilter=False)
    return out[..., 0] if squeeze else out


def _transform(images: Array, matrices: Array, shifts: Array, mode: str, fill_value: float, order: int) -> Array:
    coords = affine_coordinates(images.shape[1:3], matrices, shifts)
    return _restore_dtype(resample(images, coords, mode, fill_value, order), images.dtype)


def rotation_matrices(radians: Array) -> Array:
    """(n,) angles -> (n, 2, 2) matrices reading the input so that content turns counter-clockwise on screen."""
    cos, sin = np.cos(radians), np.sin(radians)
    # (row, col) coordinates with rows pointing down: turning the picture by +a reads the input at R(-a).
    return np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)


def rotate(images: Array, max_degrees: float | tuple[float, float] = 15.0, seed: Seed = None, *,
           fill_mode: str = "constant", fill_value: float = 0.0, order: int = 1) -> Array:
    """Turn each image by an angle drawn uniformly from [-max_degrees, max_degrees] (or a (low, high) pair).

    Args:
        images: (n, h, w) or (n, h, w, c).
        max_degrees: the largest angle in degrees, or (low, high); positive turns counter-clockwise.
        seed: int, Generator or None.
        fill_mode, fill_value: what appears in the corners ("constant" fill_value by default).
        order: 1 bilinear, 0 nearest.

    Returns:
        (same shape, same dtype).
    """
    images = _check_batch(images, "rotate()")
    low, high = _range(max_degrees, "rotate()", "max_degrees")
    angles = np.deg2rad(as_rng(seed).uniform(low, high, size=len(images)))
    return _transform(images, rotation_matrices(angles), np.zeros((len(images), 2)), fill_mode, fill_value, order)


def zoom(images: Array, factor: float | tuple[float, float] = 0.1, seed: Seed = None, *,
         width_factor: float | tuple[float, float] | None = None, fill_mode: str = "constant",
         fill_value: float = 0.0, order: int = 1) -> Array:
    """Zoom each image by a random amount, as Keras's RandomZoom: a draw z gives an image (1 + z) times wider view.

    Args:
        images: (n, h, w) or (n, h, w, c).
        factor: z is drawn from [-factor, factor] or a (low, high) pair; negative zooms in (content grows),
            positive zooms out (content shrinks). Applies to the height, and to the width unless
            ``width_factor`` is given (then drawn independently).
        seed: int, Generator or None.

    Returns:
        (same shape, same dtype).
    """
    images = _check_batch(images, "zoom()")
    rng = as_rng(seed)
    low, high = _range(factor, "zoom()")
    zh = rng.uniform(low, high, size=len(images))
    zw = zh if width_factor is None else rng.uniform(*_range(width_factor, "zoom()", "width_factor"), len(images))
    if np.any(1 + zh <= 0) or np.any(1 + zw <= 0):
        raise LearnloopError(f"zoom() factors must stay above -1 (a zoom of 1 + z); got {factor!r}.")
    matrices = np.zeros((len(images), 2, 2))
    matrices[:, 0, 0], matrices[:, 1, 1] = 1 + zh, 1 + zw
    return _transform(images, matrices, np.zeros((len(images), 2)), fill_mode, fill_value, order)


def translate(images: Array, factor: float | tuple[float, float] = 0.1, seed: Seed = None, *,
              width_factor: float | tuple[float, float] | None = None, fill_mode: str = "constant",
              fill_value: float = 0.0, order: int = 1) -> Array:
    """Shift each image by a random fraction of its height and width (Keras's RandomTranslation).

    Args:
        images: (n, h, w) or (n, h, w, c).
        factor: the vertical shift is drawn from [-factor, factor] * h (or a (low, high) pair); the horizontal one
            from ``width_factor`` (default: the same range) * w. Positive moves content down / right.
        seed: int, Generator or None.

    Returns:
        (same shape, same dtype).
    """
    images = _check_batch(images, "translate()")
    rng = as_rng(seed)
    h, w = images.shape[1:3]
    dy = rng.uniform(*_range(factor, "translate()"), size=len(images)) * h
    dx = rng.uniform(*_range(factor if width_factor is None else width_factor, "translate()", "width_factor"),
                     size=len(images)) * w
    matrices = np.broadcast_to(np.eye(2), (len(images), 2, 2))
    return _transform(images, matrices, -np.stack([dy, dx], 1), fill_mode, fill_value, order)


def elastic_warp(images: Array, alpha: float = 1.0, sigma: float = 2.0, seed: Seed = None, *,
                 fill_mode: str = "constant", fill_value: float = 0.0, order: int = 1) -> Array:
    """Warp each image with a smooth random displacement field (Simard et al., 2003: elastic distortions).

    Each pixel is displaced by uniform noise smoothed with a Gaussian of std ``sigma`` pixels (the field's
    smoothness), then scaled so the root-mean-square displacement of each image is ``alpha`` pixels.

    Args:
        images: (n, h, w) or (n, h, w, c).
        alpha: typical displacement in pixels (0 returns the images unchanged).
        sigma: smoothness of the field in pixels; small values tear the image, large ones shift it bodily.
        seed: int, Generator or None.

    Returns:
        (same shape, same dtype).
    """
    from scipy import ndimage

    images = _check_batch(images, "elastic_warp()")
    if alpha < 0 or sigma <= 0:
        raise LearnloopError(f"elastic_warp() expects alpha >= 0 and sigma > 0; got alpha={alpha}, sigma={sigma}.")
    n, h, w = images.shape[:3]
    field = as_rng(seed).uniform(-1.0, 1.0, size=(n, 2, h, w))
    field = ndimage.gaussian_filter(field, sigma=(0, 0, sigma, sigma), mode="reflect")
    rms = np.sqrt(np.mean(field**2, axis=(1, 2, 3), keepdims=True))
    field *= alpha / np.maximum(rms, 1e-12)
    coords = affine_coordinates((h, w), np.broadcast_to(np.eye(2), (n, 2, 2)), np.zeros((n, 2))) + field
    return _restore_dtype(resample(images, coords, fill_mode, fill_value, order), images.dtype)


def add_noise(images: Array, stddev: float = 0.05, seed: Seed = None, *,
              clip: tuple[float, float] | None = None) -> Array:
    """Add Gaussian noise of standard deviation ``stddev`` to every value; ``clip=(low, high)`` bounds the result.

    Works on any batch (images or signals). Returns the same shape and dtype.
    """
    x = np.asarray(images)
    if stddev < 0:
        raise LearnloopError(f"add_noise() expects stddev >= 0; got {stddev}.")
    out = x + as_rng(seed).normal(0.0, stddev, size=x.shape)
    if clip is not None:
        out = np.clip(out, clip[0], clip[1])
    return _restore_dtype(out, x.dtype)


# ---- enlarging a training set --------------------------------------------------------------------------------
TRANSFORMS: dict[str, Callable[..., Array]] = {
    f.__name__: f for f in (rotate, zoom, translate, elastic_warp, add_noise,
                            add_background_noise, time_shift, amplitude_scale)}

Transform = Callable[..., Array] | str | tuple[str, dict]


def _as_callable(transform: Transform) -> Callable[[Array, np.random.Generator], Array]:
    if callable(transform):
        return lambda batch, rng: transform(batch, seed=rng)
    name, kwargs = (transform, {}) if isinstance(transform, str) else transform
    fn = lookup("transform", TRANSFORMS, name)
    return lambda batch, rng: fn(batch, seed=rng, **kwargs)


def augment(x: Array, y: Array | None = None, n_copies: int = 1, transforms: Sequence[Transform] = ("rotate",),
            seed: Seed = 0, *, image_shape: tuple[int, ...] | None = None,
            include_original: bool = True) -> tuple[Array, Array | None]:
    """Enlarge a training set with ``n_copies`` randomly transformed copies of every example.

    Args:
        x: (n, ...) examples: images, signals, or flat rows with ``image_shape`` (e.g. (8, 8) for digits).
        y: (n, ...) labels, repeated unchanged for each copy (or None).
        n_copies: how many transformed copies of each example to add.
        transforms: applied in order to each copy: callables ``f(batch, seed=...)`` (use functools.partial for
            arguments), names from ``TRANSFORMS`` ("rotate", "elastic_warp", ...) or ``(name, kwargs)`` pairs.
        seed: int, Generator or None; each transform of each copy gets its own draws.
        image_shape: reshape each flat row of ``x`` to this shape for the transforms, and back afterwards.
        include_original: put the untouched examples first (default), or return only the copies.

    Returns:
        (x_aug, y_aug) with ``(n_copies + include_original) * n`` examples, originals first, in x's dtype.
    """
    x = np.asarray(x)
    if int(n_copies) != n_copies or n_copies < 0:
        raise LearnloopError(f"augment() n_copies must be a non-negative int; got {n_copies!r}.")
    if y is not None and len(y) != len(x):
        raise LearnloopError(f"augment() got {len(x)} examples in x but {len(y)} labels in y.")
    batch = x if image_shape is None else x.reshape((len(x),) + tuple(image_shape))
    rng = as_rng(seed)
    steps = [_as_callable(t) for t in transforms]
    copies = [batch] if include_original else []
    for _ in range(int(n_copies)):
        out = batch
        for step in steps:
            out = step(out, rng)
        copies.append(out)
    x_aug = np.concatenate(copies).reshape((-1,) + x.shape[1:]) if copies else x[:0]
    y_aug = None if y is None else np.concatenate([np.asarray(y)] * len(copies)) if copies else np.asarray(y)[:0]
    return x_aug, y_aug
