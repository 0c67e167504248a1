"""Shared by the array transforms: seeds, batch checks, dtype restoration, symmetric ranges."""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.utils import make_rng

Array = np.ndarray
Seed = int | np.random.Generator | None


def as_rng(seed: Seed) -> np.random.Generator:
    """A generator from an int seed, a generator (used as is) or ``None`` (learnloop's global generator)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0):
        raise LearnloopError(f"seed must be a non-negative int, a numpy Generator or None; got {seed!r}.")
    return make_rng(None if seed is None else int(seed))


def _check_batch(images: Array, where: str, kind: str = "images") -> Array:
    images = np.asarray(images)
    ranks = (3, 4) if kind == "images" else (2, 3)
    if images.ndim not in ranks:
        layout = "(n, h, w) or (n, h, w, c)" if kind == "images" else "(n, steps) or (n, steps, c)"
        raise LearnloopError(f"{where} expects {kind} of shape {layout}; got an array of shape {images.shape}. "
                             f"For one example add a batch axis: x[None].")
    if not (np.issubdtype(images.dtype, np.floating) or np.issubdtype(images.dtype, np.integer)):
        raise LearnloopError(f"{where} expects float or integer {kind}; got dtype {images.dtype}.")
    return images


def _restore_dtype(values: Array, dtype: np.dtype) -> Array:
    """Cast float results back to the input's dtype; integers are rounded and clipped to their range."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype, copy=False)


def _range(factor, where: str, name: str = "factor") -> tuple[float, float]:
    """``f`` -> (-f, f); ``(low, high)`` -> (low, high)."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > factor[1]:
            raise LearnloopError(f"{where} {name} takes a number or a (low, high) pair with low <= high; "
                                 f"got {factor!r}.")
        return float(factor[0]), float(factor[1])
    factor = float(factor)
    if factor < 0:
        raise LearnloopError(f"{where} {name} must be >= 0 (or a (low, high) pair); got {factor!r}.")
    return -factor, factor
