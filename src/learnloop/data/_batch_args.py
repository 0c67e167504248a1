"""Argument checks shared by the batch sources (:mod:`learnloop.data.npy_batches`,
:mod:`learnloop.data.parquet_batches`)."""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.utils import make_rng


def check_int(where: str, name: str, value, minimum: int = 1) -> int:
    """``value`` as an int, or a one-line error naming ``where`` and ``name`` unless it is an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise LearnloopError(f"{where}: {name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def epoch_seed(seed) -> int:
    """A fixed seed for the epochs' orders: the given one, or one drawn from learnloop's global generator (so
    ``set_random_seed`` makes an unseeded source reproducible too)."""
    if seed is None:
        return int(make_rng(None).integers(2**63))
    return check_int("seed", "seed", seed, 0)
