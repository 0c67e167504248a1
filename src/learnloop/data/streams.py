"""Batch sources over files larger than memory, ready for ``fit``, ``evaluate`` and ``predict``.

``NpyBatches`` (:mod:`learnloop.data.npy_batches`) reads memory-mapped ``.npy`` files (a
:class:`~learnloop.utils.PyDataset`); ``ParquetBatches`` (:mod:`learnloop.data.parquet_batches`) reads Parquet files
one row group at a time (an iterable with ``len``). Both hold a bounded number of rows whatever the file size,
shuffle with a seed (a new order every epoch, the same orders for the same seed), and give arrays (``features=[...]``
for Parquet) or, for a model that starts with a FeatureSpace, dicts of columns.

How random their shuffles are, compared with a full shuffle of the N rows into batches of b:

- ``NpyBatches``: the rows are cut into blocks of ``block_size`` contiguous rows; each epoch the blocks are put in a
  random order and taken ``window_blocks`` at a time (a window of W = window_blocks x block_size rows), and the rows
  of a window are uniformly permuted and cut into batches (a batch's rows come back sorted, so it is read front to
  back). A batch reads rows from its window's blocks only, so an epoch read in batch order reads each block from disk
  once, in runs of ``block_size`` rows. Two rows of the same block share a batch with probability (b - 1) / (W - 1)
  (when b divides W), against (b - 1) / (N - 1) for a full shuffle; rows of different blocks share one only when
  their blocks fall in the same window (or in the two windows a batch straddles). The last N mod block_size rows form
  a window of their own, at the end.
- ``ParquetBatches``: each epoch the row groups (of every file) are put in a random order and gathered, whole, into
  fills of at least ``buffer_size`` rows (the last fill of an epoch may hold fewer); the rows of a fill are uniformly
  permuted and cut into batches, and the fewer than b rows left at the end of a fill open the first batch of the
  next one. Two rows of the same row group therefore share a batch with probability (b - 1) / (M - 1), M the rows of
  their fill (at least buffer_size, less than buffer_size plus one row group), against (b - 1) / (N - 1) for a full
  shuffle: about N / M times as often. Rows of different row groups share a batch only when their groups land in
  the same fill, which happens with probability (k - 1) / (G - 1) for G row groups taken k per fill, and then with
  the same (b - 1) / (M - 1); the rows carried from one fill into the next are the only exception. With
  ``buffer_size`` no larger than a row group, batches never mix row groups (except for those carried rows).
"""

from learnloop.data.npy_batches import NpyBatches
from learnloop.data.parquet_batches import ParquetBatches

__all__ = ["NpyBatches", "ParquetBatches"]
