"""Signal augmentation (audio, ECG, sensor traces) on (n, steps) or (n, steps, c) arrays: background noise at a
chosen signal-to-noise ratio, time shifts and amplitude scaling. Same conventions as :mod:`learnloop.data.augment`.
"""

from __future__ import annotations

import numpy as np

from learnloop.data._batches import Array, Seed, _check_batch, _range, _restore_dtype, as_rng
from learnloop.errors import LearnloopError


def _power(x: Array) -> Array:
    """Mean square per example over all axes but the first: (n,)."""
    return np.mean(np.square(x, dtype=np.float64).reshape(len(x), -1), axis=1)


def add_background_noise(signals: Array, snr_db: float | tuple[float, float] = 20.0, noise: Array | None = None,
                         seed: Seed = None) -> Array:
    """Mix background noise into each signal at a chosen signal-to-noise ratio (the notes' speech in a noisy car).

    The noise added to signal k is scaled so that ``10 log10(P_signal / P_noise) == snr_db`` exactly, with P the
    mean square over the signal's steps and channels (a silent signal gets no noise).

    Args:
        signals: (n, steps) or (n, steps, c).
        snr_db: the ratio in decibels, or a (low, high) range drawn per signal.
        noise: background recordings to cut segments from: (length,), (m, length) (used on every channel) or
            (m, length, c), any length (shorter ones loop); each signal gets a random recording and start.
            ``None``: white Gaussian noise.
        seed: int, Generator or None.

    Returns:
        (same shape, same dtype).
    """
    x = _check_batch(signals, "add_background_noise()", "signals")
    rng = as_rng(seed)
    if np.isscalar(snr_db):
        low = high = float(snr_db)
    else:
        low, high = _range(snr_db, "add_background_noise()", "snr_db")
    snr = rng.uniform(low, high, size=len(x))
    if noise is None:
        segments = rng.normal(size=x.shape)
    else:
        noise = np.asarray(noise, dtype=np.float64)
        shape = noise.shape
        noise = noise[None] if noise.ndim == 1 else noise
        if x.ndim == 3 and noise.ndim == 2:                     # one mono recording for every channel
            noise = np.broadcast_to(noise[..., None], noise.shape + x.shape[2:])
        if noise.ndim != x.ndim or noise.shape[2:] != x.shape[2:] or noise.shape[1] == 0:
            channels = f" or (m, length, {x.shape[2]})" if x.ndim == 3 else ""
            raise LearnloopError(f"add_background_noise() expects noise of shape (length,) or (m, length)"
                                 f"{channels} for signals of shape {x.shape}; got {shape}.")
        which = rng.integers(len(noise), size=len(x))
        start = rng.integers(noise.shape[1], size=len(x))
        idx = (start[:, None] + np.arange(x.shape[1])) % noise.shape[1]
        segments = noise[which[:, None], idx]
    p_noise = _power(segments)
    if np.any(p_noise == 0):
        raise LearnloopError("add_background_noise() got a silent noise segment (all zeros); its power is 0, so no "
                             "scale reaches the requested SNR.")
    scale = np.sqrt(_power(x) / (p_noise * 10.0 ** (snr / 10.0)))
    out = x + segments * scale.reshape((-1,) + (1,) * (x.ndim - 1))
    return _restore_dtype(out, x.dtype)


def time_shift(signals: Array, max_shift: float = 0.1, seed: Seed = None, *, wrap: bool = False,
               fill_value: float = 0.0) -> Array:
    """Shift each signal in time by a random whole number of steps, up to ``max_shift`` of its length.

    Args:
        signals: (n, steps) or (n, steps, c).
        max_shift: the largest shift as a fraction of ``steps`` (in [0, 1]); positive shifts delay the signal.
        wrap: roll the signal around instead of filling the gap with ``fill_value``.
        seed: int, Generator or None.

    Returns:
        (same shape, same dtype).
    """
    x = _check_batch(signals, "time_shift()", "signals")
    if not 0 <= max_shift <= 1:
        raise LearnloopError(f"time_shift() max_shift is a fraction of the length in [0, 1]; got {max_shift}.")
    n, steps = x.shape[:2]
    limit = int(round(max_shift * steps))
    shifts = as_rng(seed).integers(-limit, limit + 1, size=n)
    src = np.arange(steps) - shifts[:, None]                                    # (n, steps) source step
    inside = (src >= 0) & (src < steps)
    out = x[np.arange(n)[:, None], src % steps]
    if not wrap:
        mask = inside.reshape(inside.shape + (1,) * (x.ndim - 2))
        out = np.where(mask, out, np.asarray(fill_value).astype(x.dtype))
    return out


def amplitude_scale(signals: Array, factor: tuple[float, float] = (0.8, 1.2), seed: Seed = None) -> Array:
    """Multiply each signal by a gain drawn uniformly from ``factor`` = (low, high). Same shape and dtype."""
    x = _check_batch(signals, "amplitude_scale()", "signals")
    low, high = _range(factor, "amplitude_scale()")
    gain = as_rng(seed).uniform(low, high, size=len(x))
    return _restore_dtype(x * gain.reshape((-1,) + (1,) * (x.ndim - 1)), x.dtype)
