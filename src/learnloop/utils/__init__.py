"""Utilities with Keras's names: seeding (``set_random_seed``), ``PyDataset`` for batches computed in Python, and
``FeatureSpace`` for structured data.

``FeatureSpace`` is a layer (it lives in :mod:`learnloop.layers.feature_space`); it is exported here, where Keras
exports it (``keras.utils.FeatureSpace``), and loaded on first use so that low-level modules can import the seeding
functions without pulling in the layers.
"""

from learnloop.utils.py_dataset import PyDataset
from learnloop.utils.seeding import global_rng, make_rng, seeded, set_random_seed, set_seed

Sequence = PyDataset     # Keras's older name, still exported by Keras 3

__all__ = ["FeatureSpace", "PyDataset", "Sequence", "global_rng", "make_rng", "seeded", "set_random_seed", "set_seed"]


def __getattr__(name: str):
    if name == "FeatureSpace":
        from learnloop.layers.feature_space import FeatureSpace

        return FeatureSpace
    raise AttributeError(f"module 'learnloop.utils' has no attribute {name!r}")
