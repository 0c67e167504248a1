"""Seeding: one call makes weights, shuffles and dropout identical run to run."""

from __future__ import annotations

import random
from contextlib import contextmanager

import numpy as np

_state: dict[str, np.random.Generator] = {"rng": np.random.default_rng()}


def set_random_seed(seed: int) -> None:
    """Seed learnloop's generator, NumPy's legacy global generator and Python's ``random`` (like Keras)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        from learnloop.errors import LearnloopError

        raise LearnloopError(f"set_random_seed expects a non-negative int; got {seed!r}.")
    _state["rng"] = np.random.default_rng(int(seed))
    np.random.seed(int(seed) % 2**32)
    random.seed(int(seed))


set_seed = set_random_seed


def global_rng() -> np.random.Generator:
    """The generator everything unseeded draws from (reset by :func:`set_random_seed`)."""
    return _state["rng"]


@contextmanager
def seeded(seed: int | None):
    """Inside the block, learnloop draws from a generator seeded with ``seed`` (``None``: nothing changes); the
    global generator comes back unchanged afterwards, so a seeded fit leaves other code's randomness alone."""
    if seed is None:
        yield
        return
    saved = _state["rng"]
    _state["rng"] = np.random.default_rng(seed)
    try:
        yield
    finally:
        _state["rng"] = saved


def make_rng(seed: int | None) -> np.random.Generator:
    """A generator for one component: from ``seed`` when given, else drawn from the global generator."""
    if seed is None:
        return np.random.default_rng(global_rng().integers(2**63))
    return np.random.default_rng(seed)
