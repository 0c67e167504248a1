"""``Discretization``: bucket continuous values by boundaries, learned as approximate quantiles (Keras 3).

``adapt`` follows Keras 3's own quantile summary (plain NumPy there too): each batch is sorted and thinned to about
``1 / epsilon`` evenly spaced values with weights, summaries are merged and compressed by interpolating their
cumulative weights, and the boundaries are read off a final compression to ``num_bins`` equal-weight bins.
"""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError, NotFittedError
from learnloop.layers._preprocessing import (
    PreprocessingLayer,
    batches,
    check_choice,
    encode,
    encoded_shape,
    refuse_sparse,
)
from learnloop.layers.base import Array, Shape

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def summarize(values: Array, epsilon: float) -> Array:
    """(2, m) summary of a batch: about 1/epsilon sorted values (row 0), each standing for ``step`` values (row 1)."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(np.size(values) / (1.0 / epsilon), 1)
    kept = values[int(step - 1)::int(step)]
    return np.stack([kept, np.ones_like(kept) * step])


def compress_summary(summary: Array, epsilon: float) -> Array:
    """Re-cut a summary into 1/epsilon equal-weight bins by interpolating its cumulative weights (if it is longer)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


def merge_summaries(first: Array, second: Array, epsilon: float) -> Array:
    merged = np.concatenate((first, second), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return compress_summary(merged, epsilon)


def bin_boundaries(summary: Array, num_bins: int) -> Array:
    """The ``num_bins - 1`` boundaries: the upper values of a compression to ``num_bins`` bins, last one dropped."""
    return compress_summary(summary, 1.0 / num_bins)[0, :-1]


class Discretization(PreprocessingLayer):
    """Bucket continuous values, like ``keras.layers.Discretization``.

    Args:
        bin_boundaries: sorted boundaries; value ``x`` goes to bin ``i`` when ``b[i-1] <= x < b[i]`` (a value equal
            to a boundary goes to the upper bin), so there are ``len(bin_boundaries) + 1`` bins.
        num_bins: instead of boundaries: learn ``num_bins - 1`` boundaries with ``adapt(data)``.
        epsilon: the quantile summary's error tolerance (Keras's default 0.01).
        output_mode: "int" (int32 bin indices, the input's shape, as Keras), or "one_hot" / "multi_hot" /
            "count" (float arrays of the layer's dtype, encoded like CategoryEncoding).
        sparse: must stay False (no sparse tensors in learnloop).

    Values are compared in the layer's dtype (float32 by default, as Keras does). NaN inputs go to the last bin
    (``len(bin_boundaries)``, the same as Keras/TensorFlow's Bucketize); ``adapt`` ignores NaN values.

    Differs from Keras: ``adapt`` drops NaN values (Keras sorts them above every number into its summary, which
    can make boundaries NaN); a list given to ``adapt`` is one array (Keras reads each element as a batch, which
    only changes the summary for lists longer than 1/epsilon); unsorted ``bin_boundaries`` and ``num_bins=0`` are
    refused.
    """

    def __init__(self, bin_boundaries=None, num_bins: int | None = None, epsilon: float = 0.01,
                 output_mode: str = "int", sparse: bool = False, **kwargs):
        super().__init__(**kwargs)
        where = self.where
        self.output_mode = check_choice(where, "output_mode", output_mode, OUTPUT_MODES)
        refuse_sparse(where, sparse)
        if num_bins is not None and bin_boundaries is not None:
            raise LearnloopError(f"{where}: pass num_bins (and call adapt) or bin_boundaries, not both; got "
                                 f"num_bins={num_bins!r} and bin_boundaries={bin_boundaries!r}.")
        if num_bins is None and bin_boundaries is None:
            raise LearnloopError(f"{where}: pass either num_bins (and call adapt) or bin_boundaries.")
        if num_bins is not None and (isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer))
                                     or num_bins < 1):
            raise LearnloopError(f"{where}: num_bins must be an integer >= 1; got {num_bins!r}.")
        if not isinstance(epsilon, (int, float)) or not 0 < epsilon <= 1:
            raise LearnloopError(f"{where}: epsilon must be a number in (0, 1]; got {epsilon!r}.")
        self.num_bins = None if num_bins is None else int(num_bins)
        self.epsilon, self.sparse = float(epsilon), False
        self.bin_boundaries = None if bin_boundaries is None else self._boundaries(bin_boundaries)

    def _boundaries(self, values) -> list[float]:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1 or np.isnan(values).any() or np.any(np.diff(values) < 0):
            raise LearnloopError(f"{self.where}: bin_boundaries must be a sorted 1-D list of numbers; got "
                                 f"{values.tolist()!r}.")
        return values.tolist()

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn ``num_bins - 1`` boundaries from the values of ``data`` (an array, or an iterable of batches).

        ``batch_size`` is accepted for Keras compatibility; ``steps`` limits the batches read from an iterable.
        """
        if self.num_bins is None:
            raise LearnloopError(f"{self.where} was given bin_boundaries; to learn them with adapt, construct it "
                                 f"with num_bins instead.")
        summary = np.array([[], []], dtype="float32")
        for batch in batches(data, steps):
            values = self._numbers(batch).astype("float32")
            values = values[~np.isnan(values)]
            if values.size:
                summary = merge_summaries(summarize(values, self.epsilon), summary, self.epsilon)
        if summary.shape[1] == 0:
            raise LearnloopError(f"{self.where}: adapt got no values to learn boundaries from (empty, or all NaN).")
        self.bin_boundaries = bin_boundaries(summary, self.num_bins).tolist()

    def _numbers(self, inputs) -> Array:
        values = np.asarray(inputs)
        if values.dtype.kind == "O":
            try:
                values = values.astype(np.float64)       # None becomes NaN
            except (TypeError, ValueError):
                values = None
        if values is None or values.dtype.kind not in "fiub":
            raise LearnloopError(f"{self.where} expects numbers; got {np.asarray(inputs).dtype} values of shape "
                                 f"{np.shape(inputs)}.")
        return values

    def _depth(self) -> int:
        return len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins

    def forward(self, x, *, training: bool = False) -> Array:
        """Bin indices (int32, the input's shape) or their encoding (float, the layer's dtype)."""
        if self.bin_boundaries is None:
            raise NotFittedError(f"{self.where} has no bin boundaries yet; call adapt(data) or pass "
                                 f"bin_boundaries=...")
        values = self._numbers(x).astype(self.dtype, copy=False)
        bins = np.digitize(values, np.asarray(self.bin_boundaries, dtype=self.dtype)).astype(np.int32)
        return encode(bins, self.output_mode, self._depth(), self.dtype)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return encoded_shape(input_shape, self.output_mode, self._depth())

    def output_dtype(self) -> str:
        return "int32" if self.output_mode == "int" else self.dtype

    def get_config(self) -> dict:
        return {**super().get_config(), "bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode, "sparse": self.sparse}

    @classmethod
    def from_config(cls, config: dict) -> Discretization:
        """An adapted layer has both ``num_bins`` and ``bin_boundaries``: build with one, then set the other."""
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = layer._boundaries(boundaries)
            return layer
        return cls(**config)
