"""``CategoryEncoding``: integer category indices to one-hot, multi-hot or count vectors (Keras 3)."""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.layers._preprocessing import PreprocessingLayer, check_choice, encode, encoded_shape, refuse_sparse
from learnloop.layers.base import Array, Shape

OUTPUT_MODES = ("one_hot", "multi_hot", "count")


class CategoryEncoding(PreprocessingLayer):
    """Encode integer indices in [0, num_tokens) as vectors, like ``keras.layers.CategoryEncoding``.

    Args:
        num_tokens: the number of categories; every input value must be in [0, num_tokens).
        output_mode: "multi_hot" (default: 1 for each index present in a sample; the last axis is the sample, and
            a 1-D input is one sample), "one_hot" (each value encoded: (n,) or (n, 1) -> (n, num_tokens)) or
            "count" (how many times each index appears in a sample). "binary" is read as "multi_hot".
        sparse: must stay False (no sparse tensors in learnloop).

    Calling: ``layer(inputs, count_weights=None)``; inputs (n,) or (n, k) of integers (whole floats accepted);
    ``count_weights`` of the inputs' shape weighs each value in "count" mode. Returns float (the layer's dtype).

    Differs from Keras: every value outside [0, num_tokens) raises; Keras (TensorFlow backend) raises only for
    negative values in "multi_hot"/"count" and silently drops the others.
    """

    def __init__(self, num_tokens=None, output_mode: str = "multi_hot", sparse: bool = False, **kwargs):
        super().__init__(**kwargs)
        if num_tokens is None:
            raise LearnloopError(f"{self.where}: num_tokens must be set; when the number of categories is not "
                                 f"known beforehand, use IntegerLookup instead.")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, (int, np.integer)) or num_tokens < 1:
            raise LearnloopError(f"{self.where}: num_tokens must be an integer >= 1; got {num_tokens!r}.")
        mode = "multi_hot" if output_mode == "binary" else output_mode
        self.output_mode = check_choice(self.where, "output_mode", mode, OUTPUT_MODES)
        refuse_sparse(self.where, sparse)
        self.num_tokens, self.sparse = int(num_tokens), False

    def __call__(self, inputs, training: bool = False, count_weights=None):
        if count_weights is None:
            return super().__call__(inputs, training=training)
        return self.forward(inputs, training=training, count_weights=count_weights)

    def _indices(self, inputs) -> Array:
        values = np.asarray(inputs)
        if values.dtype.kind == "f" and np.all(np.isfinite(values)) and np.all(values == np.round(values)):
            values = values.astype(np.int64)
        if values.dtype.kind not in "iub":
            raise LearnloopError(f"{self.where} expects integer category indices in [0, {self.num_tokens}); got an "
                                 f"array of dtype {values.dtype} and shape {values.shape}. Map strings or arbitrary "
                                 f"integers to indices with StringLookup / IntegerLookup first.")
        values = values.astype(np.int64, copy=False)
        outside = (values < 0) | (values >= self.num_tokens)
        if outside.any():
            bad = values[outside].reshape(-1)
            raise LearnloopError(f"{self.where} expects values in [0, {self.num_tokens}) (num_tokens="
                                 f"{self.num_tokens}); got {bad.size} value(s) outside it, e.g. {int(bad[0])} "
                                 f"(inputs range from {int(values.min())} to {int(values.max())}).")
        return values

    def forward(self, x, *, training: bool = False, count_weights=None) -> Array:
        """Encoded float array: (n, num_tokens) for (n,) one-hot or (n, k) multi-hot/count inputs."""
        indices = self._indices(x)
        if count_weights is not None:
            if self.output_mode != "count":
                raise LearnloopError(f"{self.where}: count_weights are only used with output_mode='count'; got "
                                     f"output_mode={self.output_mode!r}.")
            count_weights = np.asarray(count_weights, dtype=self.dtype)
            if count_weights.shape != indices.shape:
                raise LearnloopError(f"{self.where}: count_weights must have the inputs' shape {indices.shape}; got "
                                     f"{count_weights.shape}.")
        return encode(indices, self.output_mode, self.num_tokens, self.dtype, count_weights)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) == 0:
            return (self.num_tokens,)
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def output_dtype(self) -> str:
        return self.dtype

    def get_config(self) -> dict:
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode,
                "sparse": self.sparse}
