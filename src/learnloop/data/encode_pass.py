"""One pass over a table that writes every row, encoded by an adapted feature pipeline, into ``.npy`` files per part.

The training part then trains through :class:`~learnloop.data.npy_batches.NpyBatches` (memory-mapped, shuffled in
windows of blocks), and the cv and test parts are scored in chunks, so a table of any size is held only on disk:
about 4 bytes per encoded feature per row (a 1,000,000-row table with 35 encoded features: 140 MB). Rows are
assigned to parts by :func:`~learnloop.data.sampling.row_parts`, as the sample was.

Rows the missing-values rule leaves out are skipped and counted; a value the pipeline cannot take (text in a column
the sample found numeric, a class the sample never saw) stops the pass naming its row and column.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from learnloop.data.column_types import missing_mask
from learnloop.data.sampling import BLOCK_ROWS, file_names, open_stream, row_parts, row_priorities
from learnloop.errors import LearnloopError

PART_NAMES = ("train", "cv", "test")
_HEADER_BYTES = 128


class NpyAppender:
    """A ``.npy`` file written row block by row block; the header, written first with room to spare, gets the final
    number of rows on :meth:`close` (the NPY format 1.0 header, padded with spaces to 128 bytes)."""

    def __init__(self, path: Path, dtype, row_shape: tuple = ()):
        self.path, self.dtype, self.row_shape = Path(path), np.dtype(dtype), tuple(row_shape)
        self.rows = 0
        self._file = self.path.open("wb")
        self._file.write(self._header(0))

    def _header(self, rows: int) -> bytes:
        text = repr({"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                     "shape": (rows, *self.row_shape)})
        body = text.encode("latin1")
        room = _HEADER_BYTES - 10 - 1 - len(body)
        assert room >= 0, "the .npy header outgrew its room"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", _HEADER_BYTES - 10) + body + b" " * room + b"\n"

    def append(self, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=self.dtype)
        assert values.shape[1:] == self.row_shape, (values.shape, self.row_shape)
        self._file.write(values.tobytes())
        self.rows += len(values)

    def close(self) -> Path:
        if self._file is not None:
            self._file.seek(0)
            self._file.write(self._header(self.rows))
            self._file.close()
            self._file = None
        return self.path


class Moments:
    """Running mean and variance of rows (Chan et al.'s merge of block statistics, in float64)."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, None, None

    def add(self, x: np.ndarray) -> None:
        if not len(x):
            return
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        n, mean = len(x), x.mean(axis=0)
        m2 = ((x - mean) ** 2).sum(axis=0)
        if self.mean is None:
            self.n, self.mean, self.m2 = n, mean, m2
            return
        total = self.n + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta ** 2 * (self.n * n / total)
        self.n = total

    @property
    def variance(self) -> np.ndarray:
        return self.m2 / max(self.n, 1)


@dataclass
class EncodedParts:
    """The encoded rows of a table, per part.

    Attributes:
        folder: where the files are.
        x, y: part name -> ``.npy`` path of the inputs (rows, features) float32 and the targets.
        rows: part name -> rows written.
        early_stop: (x, y) arrays of the cv rows kept in memory for early stopping (all of them, or a uniform
            sample of ``early_stop_rows``).
        skipped: why -> rows left out ("target missing", "numbers missing").
        train_moments, target_moments: statistics of the training part's inputs and (regression) targets.
        seconds: time the pass took.
    """

    folder: Path
    x: dict[str, Path]
    y: dict[str, Path]
    rows: dict[str, int]
    early_stop: tuple
    skipped: dict[str, int] = field(default_factory=dict)
    train_moments: Moments | None = None
    target_moments: Moments | None = None
    seconds: float = 0.0


class LabelIndex:
    """Target values to class indices, reading them as ``load_table`` read the sample's (3.0 is 3, text trimmed of
    nothing, numbers in a text class column as their text)."""

    def __init__(self, classes: list):
        from learnloop.layers._features import canonical_text

        self.classes = list(classes)
        self.lookup: dict = {}
        for i, c in enumerate(self.classes):
            self.lookup.setdefault(c, i)
            self.lookup.setdefault(canonical_text(c), i)

    def __call__(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(indices, unknown mask) of (n,) values."""
        from learnloop.layers._features import canonical_text

        values = np.asarray(values)
        if values.dtype.kind == "f" and np.all(values == np.round(values)):
            values = values.astype(np.int64)
        try:
            uniques, inverse = np.unique(values, return_inverse=True)
        except TypeError:
            uniques, inverse = np.unique(values.astype(str), return_inverse=True)
        codes = np.array([self.lookup.get(u, self.lookup.get(canonical_text(u), -1)) for u in uniques.tolist()],
                         dtype=np.int64)
        out = codes[inverse.reshape(-1)]
        return out, out < 0


def encode_parts(path, space, *, target: str, classes: list | None, numeric: list[str], dropped: tuple, seed: int,
                 folder: Path, part_rows, read_options: dict, early_stop_rows: int, bar=None,
                 target_parse: dict | None = None) -> EncodedParts:
    """Encode every row of the table at ``path`` with the adapted FeatureSpace ``space`` into ``folder``.

    Args:
        path: the table.
        space: the adapted :class:`~learnloop.layers.FeatureSpace`.
        target: the column to predict.
        classes: the class labels (classification), whose positions are the targets written; ``None`` for
            regression (float targets).
        numeric: columns read as numbers.
        dropped: what the missing-values rule leaves out: "target" (always), "numbers" (``missing="drop"``).
        seed: the split's seed (:func:`~learnloop.data.sampling.row_parts`).
        folder: an existing folder for the files.
        part_rows: (3,) rows of each part counted by the sampling pass (sizes the early-stopping sample).
        read_options: encoding, delimiter and names, as the sampling pass read the file.
        early_stop_rows: cv rows held in memory for early stopping at most.
        bar: an optional progress bar (``update(rows)``).
        target_parse: the text format of a regression target written as text (``"$250,000"``), else None.
    """
    start_time = time.perf_counter()
    folder = Path(folder)
    stream = open_stream(path, **read_options)
    features = list(space.column_names)
    wanted = list(dict.fromkeys([*features, target]))
    source = file_names(stream, wanted)
    to_ours = dict(zip(source, wanted))
    # read value by value as numbers, except those the pipeline reads from text itself ("$1,234", dates)
    numbers = set(file_names(stream, [c for c in numeric if c in features and space.features[c].parse is None]))
    labels = LabelIndex(classes) if classes is not None else None
    width = None
    writers_x: dict[str, NpyAppender] = {}
    writers_y: dict[str, NpyAppender] = {}
    early_fraction = min(1.0, early_stop_rows / max(int(part_rows[1]), 1))
    early_x, early_y = [], []
    skipped = {"target missing": 0, "numbers missing": 0}
    moments, target_moments = Moments(), Moments() if classes is None else None
    try:
        for block in stream.blocks(source, BLOCK_ROWS, numeric=numbers):
            cols = {to_ours[k]: v for k, v in block.columns.items()}
            n, start = block.n, block.start
            _refuse_invalid(block, to_ours, path)
            keep = np.ones(n, dtype=bool)
            y_raw = cols[target]
            missing_y = missing_mask(y_raw)
            skipped["target missing"] += int(missing_y.sum())
            keep &= ~missing_y
            if "numbers" in dropped:
                gaps = np.zeros(n, dtype=bool)
                for name in numeric:
                    if name in cols:
                        gaps |= missing_mask(cols[name])
                skipped["numbers missing"] += int((gaps & keep).sum())
                keep &= ~gaps
            idx = np.flatnonzero(keep)
            if len(idx) == 0:
                if bar is not None:
                    bar.update(n)
                continue
            if len(idx) < n:
                cols = {k: v[idx] for k, v in cols.items()}
            x = _encode(space, {k: cols[k] for k in features}, path, start, idx)
            y = _targets(cols[target], labels, path, target, start, idx, target_parse)
            parts = row_parts(start, n, seed)[idx]
            if width is None:
                width = x.shape[1:]
                for name in PART_NAMES:
                    writers_x[name] = NpyAppender(folder / f"x_{name}.npy", np.float32, width)
                    writers_y[name] = NpyAppender(folder / f"y_{name}.npy", y.dtype, y.shape[1:])
            for k, name in enumerate(PART_NAMES):
                sel = parts == k
                if sel.any():
                    writers_x[name].append(x[sel])
                    writers_y[name].append(y[sel])
            train = parts == 0
            moments.add(x[train])
            if target_moments is not None:
                target_moments.add(y[train])
            cv = parts == 1
            if early_fraction < 1.0:
                cv &= row_priorities(start, n, seed)[idx] < early_fraction
            if cv.any():
                early_x.append(x[cv])
                early_y.append(y[cv])
            if bar is not None:
                bar.update(n)
    finally:
        for w in (*writers_x.values(), *writers_y.values()):
            w.close()
    if width is None:
        raise LearnloopError(f"{path}: no row is left to train on once rows with missing values are left out.")
    rows = {name: writers_x[name].rows for name in PART_NAMES}
    empty = [name for name, r in rows.items() if r == 0]
    if empty:
        raise LearnloopError(f"{path}: the {', '.join(empty)} part holds no row; the table is too small to split.")
    early = (np.concatenate(early_x), np.concatenate(early_y))
    return EncodedParts(folder, {n: w.path for n, w in writers_x.items()}, {n: w.path for n, w in writers_y.items()},
                        rows, early, {k: v for k, v in skipped.items() if v}, moments, target_moments,
                        time.perf_counter() - start_time)



def _refuse_invalid(block, to_ours: dict, path) -> None:
    for name, invalid in block.invalid.items():
        i = int(np.argmax(invalid))
        column = to_ours.get(name, name)
        raise LearnloopError(
            f"{path}: row {block.start + i + 1} (data rows counted from 1): column {column!r} holds numbers in the "
            f"rows sampled to type the columns, but this row has {block.text[name][i]!r}. Fix the row, or pass "
            f"--categorical {column} to read the column as categories.")


def _encode(space, columns: dict, path, start: int, idx: np.ndarray) -> np.ndarray:
    from learnloop.layers._features import FeatureValueError

    try:
        with np.errstate(over="ignore", invalid="ignore"):
            x = np.asarray(space(columns), dtype=np.float32)
    except FeatureValueError as err:
        raise LearnloopError(f"{path}: rows {start + int(idx[0]) + 1} to {start + int(idx[-1]) + 1}: {err}") from None
    finite = np.isfinite(x.reshape(len(x), -1)).all(axis=1)
    if not finite.all():
        k = int(np.argmax(~finite))
        raise LearnloopError(f"{path}: row {start + int(idx[k]) + 1} (data rows counted from 1) is not finite once "
                             f"encoded: a value far outside the range of the rows sampled to adapt the features.")
    return x


def _targets(values: np.ndarray, labels: LabelIndex | None, path, target: str, start: int,
             idx: np.ndarray, target_parse: dict | None = None) -> np.ndarray:
    if labels is None and target_parse is not None:
        from learnloop.layers._number_text import parse_column

        try:
            return parse_column(np.asarray(values), target_parse, target)
        except LearnloopError as err:
            row = getattr(err, "row", None)
            where = f"row {start + int(idx[row]) + 1}: " if row is not None else ""
            raise LearnloopError(f"{path}: {where}{err}") from None
    if labels is None:
        try:
            return np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            bad = next(i for i, v in enumerate(values) if not isinstance(v, (int, float, np.number)))
            raise LearnloopError(f"{path}: row {start + int(idx[bad]) + 1}: the target '{target}' holds "
                                 f"{values[bad]!r}, not a number.") from None
    y, unknown = labels(values)
    if unknown.any():
        k = int(np.argmax(unknown))
        raise LearnloopError(f"{path}: row {start + int(idx[k]) + 1}: the target '{target}' holds {values[k]!r}, "
                             f"which is none of the classes {labels.classes[:10]} the sampled rows hold.")
    return y
