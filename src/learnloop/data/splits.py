"""Named train / cross-validation / test splits, built on :func:`sklearn.model_selection.train_test_split`.

The notes' recipe: fit the parameters on the training set, choose the model (degree, network size, lambda) by the
cross-validation error J_cv, and report the test error J_test of the chosen model only, once.

``train_cv_test_split(x, y, sizes=(0.6, 0.2, 0.2), seed=1)`` makes the same two cuts as the course labs (first
``test_size=0.4`` for cv+test, then half of the rest for the test set, each with ``random_state=seed``), so it
reproduces the labs' splits exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from learnloop.errors import LearnloopError

_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True, eq=False)
class Split:
    """One part of a data set.

    Attributes:
        x: (m, ...) features.
        y: (m, ...) targets.
        indices: (m,) positions of these rows in the arrays that were split.
    """

    x: np.ndarray
    y: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def m(self) -> int:
        """Number of examples (the notes' m)."""
        return len(self.indices)


@dataclass(frozen=True, eq=False)
class Splits:
    """Train, cross-validation (``None`` in a two-way split) and test parts.

    Unpacks like a tuple of its parts: ``train, cv, test = splits`` or ``train, test = two_way``.
    """

    train: Split
    cv: Split | None
    test: Split
    seed: int | None = None

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of examples in each present part: (m_train, m_cv, m_test) or (m_train, m_test)."""
        return tuple(len(part) for part in self)

    @property
    def names(self) -> tuple[str, ...]:
        return ("train", "cv", "test") if self.cv is not None else ("train", "test")

    def __iter__(self) -> Iterator[Split]:
        yield self.train
        if self.cv is not None:
            yield self.cv
        yield self.test

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={s}" for n, s in zip(self.names, self.sizes))
        return f"Splits({parts}, seed={self.seed})"


def _as_arrays(x, y, where: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0:
        raise LearnloopError(f"{where} expects arrays with one row per example; got x of shape {x.shape} "
                             f"and y of shape {y.shape}.")
    if len(x) != len(y):
        raise LearnloopError(f"{where} expects x and y with the same number of examples; got x with {len(x)} "
                             f"rows (shape {x.shape}) and y with {len(y)} rows (shape {y.shape}).")
    return x, y


def _check_sizes(sizes, where: str, n_parts: int) -> tuple[float, ...]:
    try:
        sizes = tuple(float(s) for s in sizes)
    except TypeError:
        raise LearnloopError(f"{where} expects sizes as a sequence of {n_parts} fractions; got {sizes!r}.") from None
    if len(sizes) != n_parts:
        raise LearnloopError(f"{where} expects {n_parts} sizes (train, cv, test); got {len(sizes)}: {sizes}.")
    if any(not np.isfinite(s) or s <= 0 for s in sizes):
        raise LearnloopError(f"{where} expects every size to be a fraction > 0; got {sizes}.")
    total = sum(sizes)
    if abs(total - 1.0) > _SUM_TOLERANCE:
        raise LearnloopError(f"{where} expects sizes that sum to 1; got {sizes}, which sum to {total:g}.")
    return sizes


def _stratify_labels(stratify, y: np.ndarray, where: str) -> np.ndarray | None:
    if stratify is None or stratify is False:
        return None
    labels = y if stratify is True else np.asarray(stratify)
    if labels.ndim > 1:
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        else:
            raise LearnloopError(f"{where} stratifies on one label per example; got labels of shape {labels.shape}.")
    if len(labels) != len(y):
        raise LearnloopError(f"{where} expects stratify labels for each of the {len(y)} examples; "
                             f"got {len(labels)}.")
    return labels


def _check_stratifiable(labels: np.ndarray, n_test: int, n_train: int, where: str, part: str) -> None:
    classes, counts = np.unique(labels, return_counts=True)
    small = int(counts.argmin())
    classes = classes.tolist()
    if counts[small] < 2:
        raise LearnloopError(f"{where} cannot stratify the {part} cut: class {classes[small]!r} has only "
                             f"{counts[small]} example(s); every class needs at least 2. Pass stratify=None, or "
                             f"merge or drop the rare classes.")
    if n_test < len(classes) or n_train < len(classes):
        raise LearnloopError(f"{where} cannot stratify the {part} cut: {len(classes)} classes do not fit into "
                             f"parts of {n_train} and {n_test} examples. Use larger sizes or stratify=None.")


def _cut(index: np.ndarray, labels: np.ndarray | None, test_fraction: float, seed, where: str, part: str):
    from sklearn.model_selection import train_test_split as sk_split

    n = len(index)
    n_test = int(np.ceil(test_fraction * n))
    if n_test < 1 or n - n_test < 1:
        raise LearnloopError(f"{where}: the {part} cut of {n} examples at fraction {test_fraction:g} leaves an "
                             f"empty part; use more data or larger sizes.")
    if labels is not None:
        _check_stratifiable(labels, n_test, n - n_test, where, part)
    keep, held = sk_split(index, test_size=test_fraction, random_state=seed, stratify=labels)
    return keep, held


def _split(x, y, idx) -> Split:
    return Split(x=x[idx], y=y[idx], indices=idx)


def train_cv_test_split(x, y, sizes=(0.6, 0.2, 0.2), stratify=None, seed: int | None = 0) -> Splits:
    """Split into training, cross-validation and test sets.

    Args:
        x: (m, ...) features.
        y: (m, ...) targets.
        sizes: fractions (train, cv, test), each > 0, summing to 1.
        stratify: ``None``/``False`` for a plain shuffle, ``True`` to keep the class proportions of ``y`` in
            every part, or an array of m group labels to keep the proportions of.
        seed: ``random_state`` of both cuts; the same seed gives the same split.

    Returns:
        :class:`Splits` with ``.train``, ``.cv``, ``.test`` (each ``.x``, ``.y``, ``.indices``) and ``.sizes``.
    """
    where = "train_cv_test_split"
    x, y = _as_arrays(x, y, where)
    f_train, f_cv, f_test = _check_sizes(sizes, where, 3)
    labels = _stratify_labels(stratify, y, where)
    index = np.arange(len(y))
    train_idx, rest_idx = _cut(index, labels, f_cv + f_test, seed, where, "train | cv+test")
    rest_labels = None if labels is None else labels[rest_idx]
    cv_idx, test_idx = _cut(rest_idx, rest_labels, f_test / (f_cv + f_test), seed, where, "cv | test")
    return Splits(train=_split(x, y, train_idx), cv=_split(x, y, cv_idx), test=_split(x, y, test_idx), seed=seed)


def splits_from_parts(x, y, parts, seed: int | None = None) -> Splits:
    """Train / cv / test splits already decided: ``parts[i]`` is 0, 1 or 2 for row i of x and y.

    Args:
        x: (m, ...) features.
        y: (m, ...) targets.
        parts: (m,) integers, 0 (train), 1 (cv) or 2 (test); every part must hold at least one row.
        seed: the seed that decided the parts, kept on the result.

    Returns:
        :class:`Splits`, each part's rows in their order in x.
    """
    where = "splits_from_parts"
    x, y = _as_arrays(x, y, where)
    parts = np.asarray(parts)
    if parts.shape != (len(y),) or parts.dtype.kind not in "iu" or not np.isin(parts, (0, 1, 2)).all():
        raise LearnloopError(f"{where} expects parts as ({len(y)},) integers 0 (train), 1 (cv) or 2 (test); got "
                             f"shape {parts.shape}, dtype {parts.dtype}.")
    idx = [np.flatnonzero(parts == k) for k in range(3)]
    empty = [name for name, i in zip(("train", "cv", "test"), idx) if len(i) == 0]
    if empty:
        raise LearnloopError(f"{where}: the {', '.join(empty)} part holds no row of the {len(y)}; use more data.")
    return Splits(train=_split(x, y, idx[0]), cv=_split(x, y, idx[1]), test=_split(x, y, idx[2]), seed=seed)


def train_test_split(x, y, test_size: float = 0.3, stratify=None, seed: int | None = 0) -> Splits:
    """Split into training and test sets (the notes' 70/30 or 80/20); ``cv`` is ``None``.

    Args:
        x: (m, ...) features.
        y: (m, ...) targets.
        test_size: fraction of examples in the test set, in (0, 1).
        stratify: as in :func:`train_cv_test_split`.
        seed: ``random_state`` of the cut.

    Returns:
        Two-way :class:`Splits`; ``train, test = train_test_split(x, y)`` also works.
    """
    where = "train_test_split"
    x, y = _as_arrays(x, y, where)
    test_size = float(test_size)
    if not 0.0 < test_size < 1.0:
        raise LearnloopError(f"{where} expects test_size as a fraction strictly between 0 and 1; got {test_size:g}.")
    labels = _stratify_labels(stratify, y, where)
    train_idx, test_idx = _cut(np.arange(len(y)), labels, test_size, seed, where, "train | test")
    return Splits(train=_split(x, y, train_idx), cv=None, test=_split(x, y, test_idx), seed=seed)
