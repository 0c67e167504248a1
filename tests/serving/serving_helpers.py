"""Helpers shared by the serving tests: digits data and a briefly trained, saved digits classifier."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

with warnings.catch_warnings():      # starlette warns at import when it finds httpx rather than httpx2
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient as _StarletteClient


class TestClient(_StarletteClient):
    """Starlette's test client, sending request bodies as ``application/json`` unless a test says otherwise (the
    server answers any other content type with 415)."""

    __test__ = False

    def __init__(self, app, **kwargs):
        kwargs.setdefault("headers", {"content-type": "application/json"})
        super().__init__(app, **kwargs)


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


TABLE_FIELDS = ["age", "code", "color", "hours", "size"]      # what the table model reads (sorted, as FeatureSpace)


def mixed_table(n: int = 600, seed: int = 0) -> dict[str, np.ndarray]:
    """A generated table: numbers with gaps ('age'), whole numbers ('hours'), categories with gaps ('color'),
    categories without ('size'), integer codes ('code'), an id, a group column and a yes/no target."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, n).round(1)
    age[rng.random(n) < 0.1] = np.nan
    hours = rng.integers(10, 60, n)
    color = rng.choice(np.array(["red", "green", "blue", None], dtype=object), n, p=[0.4, 0.3, 0.2, 0.1])
    size = rng.choice(np.array(["S", "M", "L"], dtype=object), n)
    code = rng.choice([3, 7, 11], n)
    group = rng.choice(np.array(["a", "b"], dtype=object), n)
    score = (np.nan_to_num(age, nan=40) - 40) / 12 + (hours - 35) / 15 + (size == "L") - (color == "blue")
    label = np.where(score + rng.normal(0, 0.5, n) > 0, "yes", "no").astype(object)
    return {"id": np.arange(n), "age": age, "hours": hours, "color": color, "size": size, "code": code,
            "group": group, "label": label}


def train_table_model(path: Path, n: int = 600, seed: int = 0, epochs: int = 15) -> Path:
    """A FeatureSpace model on :func:`mixed_table` (labels "no"/"yes"), saved with the metadata ``learnloop run``
    writes for a table: classes, columns, feature/group columns, target and raw-column reference statistics."""
    import learnloop
    from learnloop import Sequential
    from learnloop.layers import Dense
    from learnloop.layers.feature_space import FeatureSpace
    from learnloop.serving.drift_columns import column_types
    from learnloop.serving.monitor import reference_statistics

    learnloop.set_seed(seed)
    table = mixed_table(n, seed)
    space = FeatureSpace({"age": FeatureSpace.float_normalized(impute=True),
                          "hours": FeatureSpace.float_normalized(),
                          "color": FeatureSpace.string_categorical(impute=True),
                          "size": FeatureSpace.string_categorical(),
                          "code": FeatureSpace.integer_categorical()})
    space.adapt(table)
    y = (table["label"] == "yes").astype(np.int64)
    model = Sequential([space, Dense(8, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss=learnloop.losses.BinaryCrossentropy(from_logits=True))
    model.fit(table, y, epochs=epochs, batch_size=32, verbose=0)
    z = model.predict(table)[:, 0]
    features = {c: table[c] for c in space.column_names}
    model.metadata.update({
        "classes": ["no", "yes"], "task": "classification", "target": "label", "columns": list(table),
        "feature_columns": space.column_names, "group_columns": ["group"],
        "reference_statistics": reference_statistics(features, (z >= 0).astype(np.int64),
                                                     column_types=column_types(space), task="classification"),
    })
    model.save(path)
    return path


def table_rows(n: int = 20, seed: int = 1) -> list[dict]:
    """Raw rows of :func:`mixed_table` as a client sends them (JSON types; null for a gap)."""
    table = mixed_table(n, seed)
    rows = []
    for i in range(n):
        row = {}
        for name, column in table.items():
            v = column[i]
            v = v.item() if isinstance(v, np.generic) else v
            row[name] = None if isinstance(v, float) and v != v else v
        rows.append(row)
    return rows
