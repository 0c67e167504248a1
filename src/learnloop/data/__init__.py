"""Data: splits into train / cross-validation / test."""

from learnloop.data.splits import Split, Splits, train_cv_test_split, train_test_split

__all__ = ["Split", "Splits", "train_cv_test_split", "train_test_split"]

from learnloop.data import augment  # noqa: E402  (the module: augment.rotate, augment.augment, ...)
from learnloop.data.synthetic import synthetic_digits  # noqa: E402

__all__ += ["augment", "synthetic_digits"]
