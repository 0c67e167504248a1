"""Helpers shared by the serving tests: digits data and a briefly trained, saved digits classifier."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

with warnings.catch_warnings():      # starlette warns at import when it finds httpx rather than httpx2
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient  # noqa: F401


def digits_xy() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target


def train_digits_model(path: Path, epochs: int = 8, seed: int = 0, from_logits: bool = True) -> Path:
    """Train a 64-32-10 Sequential on digits briefly and save it, with reference statistics, to ``path``."""
    import learnloop
    from learnloop import Input, Sequential
    from learnloop.layers import Dense
    from learnloop.serving.monitor import reference_statistics

    learnloop.set_seed(seed)
    x, y = digits_xy()
    model = Sequential([Input((64,)), Dense(32, activation="relu"),
                        Dense(10, activation=None if from_logits else "softmax")])
    model.compile(optimizer="adam", loss=learnloop.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
    model.metadata["reference_statistics"] = reference_statistics(x, model.predict(x).argmax(axis=1))
    model.metadata["trained_at"] = "2026-01-02T03:04:05+00:00"
    model.save(path)
    return path
