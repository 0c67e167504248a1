"""Data: splits into train / cross-validation / test, augmentation, reading people's tables, and batch sources over
files larger than memory (``NpyBatches``, ``ParquetBatches``, ``TableStream``).

``read_table`` (pyarrow), ``load_dataset`` and the batch sources load on first use, so ``import learnloop.data`` stays
light.
"""

from learnloop.data.splits import Split, Splits, train_cv_test_split, train_test_split

__all__ = ["Split", "Splits", "train_cv_test_split", "train_test_split"]

from learnloop.data import augment  # noqa: E402  (the module: augment.rotate, augment.augment, ...)
from learnloop.data.synthetic import synthetic_digits  # noqa: E402

__all__ += ["augment", "synthetic_digits"]

_LAZY = {"read_table": "learnloop.data.tables", "write_table": "learnloop.data.tables",
         "Table": "learnloop.data.tables", "load_dataset": "learnloop.data.datasets",
         "Dataset": "learnloop.data.datasets", "decide_columns": "learnloop.data.column_types",
         "NpyBatches": "learnloop.data.npy_batches", "ParquetBatches": "learnloop.data.parquet_batches",
         "TableStream": "learnloop.data.table_stream"}
__all__ += sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'learnloop.data' has no attribute {name!r}")
