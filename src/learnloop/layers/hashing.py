"""``Hashing`` and ``HashedCrossing``: the hashing trick, with TensorFlow's hash functions so bins equal Keras's.

``Hashing`` bins a value by ``Fingerprint64(its string) % num_bins`` (``tf.strings.to_hash_bucket_fast``), or by
keyed SipHash-2-4 with a ``salt`` (``to_hash_bucket_strong``); integers are hashed as their decimal strings and
floats are first truncated to integers, as Keras does. ``HashedCrossing`` bins a combination of features by
folding their fingerprints with ``FingerprintCat64`` (``tf.sparse.cross_hashed``). Each distinct value is hashed
once (see :mod:`learnloop.layers._farmhash`), never each row.
"""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.layers._farmhash import fingerprint64, fingerprint_cat64, hash_buckets
from learnloop.layers._preprocessing import (
    PreprocessingLayer,
    check_choice,
    check_salt,
    distinct_values,
    encode,
    encoded_shape,
    positive_int,
    refuse_sparse,
)
from learnloop.layers.base import Array, Shape
from learnloop.shapes import SymbolicTensor

_INT64_MIN = -(2 ** 63)
_CROSS_KEY = 0xDECAFCAFFE      # tf.sparse.cross_hashed's default hash_key


def _truncated(value: float) -> int:
    """TensorFlow's float -> int64 cast on x86: toward zero; NaN, infinities and out-of-range give INT64_MIN."""
    if np.isfinite(value) and -(2.0 ** 63) <= value < 2.0 ** 63:
        return int(value)
    return _INT64_MIN


def _as_bytes(value) -> bytes:
    """The string TensorFlow hashes for one value (``tf.as_string`` for numbers; None is the empty string)."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bool, np.bool_)):
        return b"true" if value else b"false"
    if isinstance(value, (int, np.integer)):
        return str(int(value)).encode("ascii")
    if isinstance(value, (float, np.floating)):
        return str(_truncated(float(value))).encode("ascii")
    if value is None:
        return b""
    raise TypeError(type(value).__name__)


def _texts(where: str, values: list) -> list[bytes]:
    try:
        return [_as_bytes(v) for v in values]
    except TypeError:
        bad = next(v for v in values if not isinstance(v, (str, bytes, bool, int, float, np.generic, type(None))))
        raise LearnloopError(f"{where}: cannot hash a value of type {type(bad).__name__} ({bad!r}); expected "
                             f"strings or numbers.") from None


class Hashing(PreprocessingLayer):
    """Hash values into ``num_bins`` bins, like ``keras.layers.Hashing``.

    Args:
        num_bins: the number of bins (with ``mask_value``, bin 0 is the mask's and the others share num_bins - 1).
        mask_value: a value sent to bin 0 (compared before any conversion).
        salt: an int or two ints: hash with keyed SipHash-2-4 instead of FarmHash Fingerprint64.
        output_mode: "int" (int64 bins, the input's shape), or "one_hot" / "multi_hot" / "count" (float arrays of
            the layer's dtype, encoded like CategoryEncoding).
        sparse: must stay False (no sparse tensors in learnloop).

    Inputs: strings (``str``/bytes arrays or lists), integers (hashed as decimal strings), floats (truncated to
    integers first), booleans ("true"/"false"). NaN, infinities and floats beyond int64 hash as
    -9223372036854775808, which is what TensorFlow's cast gives on x86 CPUs. ``None`` in an object array hashes
    as the empty string (Keras cannot take it).

    Differs from Keras: the output dtype is int64 in "int" mode and the layer's float dtype otherwise (Keras takes
    ``dtype`` for both).
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode: str = "int", sparse: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        where = self.where
        self.num_bins = positive_int(where, "num_bins", num_bins)
        self.output_mode = check_choice(where, "output_mode", output_mode, ("int", "one_hot", "multi_hot", "count"))
        refuse_sparse(where, sparse)
        self.mask_value = mask_value.item() if isinstance(mask_value, np.generic) else mask_value   # JSON-able
        self.sparse = False
        self.salt = check_salt(where, salt)

    def forward(self, x, *, training: bool = False) -> Array:
        """Bins (int64, the input's shape) or their encoding (float, the layer's dtype)."""
        values = np.asarray(x)
        distinct, inverse = distinct_values(values.reshape(-1), self.where)
        bins = self._bins(distinct)[inverse].reshape(values.shape)
        return encode(bins, self.output_mode, self.num_bins, self.dtype)

    def _bins(self, distinct: list) -> Array:
        """The bin of each distinct value."""
        masking = self.mask_value is not None and self.num_bins > 1
        hash_bins = self.num_bins - 1 if masking else self.num_bins
        bins = hash_buckets(_texts(self.where, distinct), hash_bins, self.salt)
        if masking:
            bins += 1
            bins[[self._is_mask(v) for v in distinct]] = 0
        return bins

    def _is_mask(self, value) -> bool:
        try:
            return bool(value == self.mask_value)
        except (TypeError, ValueError):
            return False

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if self.output_mode != "int" and len(input_shape) == 0:
            return (self.num_bins,)
        return encoded_shape(input_shape, self.output_mode, self.num_bins)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_bins": self.num_bins, "mask_value": self.mask_value, "salt": self.salt,
                "output_mode": self.output_mode, "sparse": self.sparse}


class HashedCrossing(PreprocessingLayer):
    """Cross categorical features with the hashing trick, like ``keras.layers.HashedCrossing``.

    ``layer([a, b, ...])`` takes two or more features of the same shape ((n,), (n, 1) or a scalar), each of
    integers or strings, and bins each row's combination: ``FingerprintCat64`` folds, from the key 0xDECAFCAFFE,
    each feature's ``Fingerprint64`` (strings) or the integer itself, and the result modulo ``num_bins`` is the bin
    (TensorFlow's ``sparse.cross_hashed``).

    Args:
        num_bins: the number of bins.
        output_mode: "int" (int64 bins, the features' shape) or "one_hot" (float (n, num_bins)).
        sparse: must stay False (no sparse tensors in learnloop).

    Differs from Keras: ``None`` in an object array crosses as the empty string (Keras cannot take it).
    """

    def __init__(self, num_bins, output_mode: str = "int", sparse: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.num_bins = positive_int(self.where, "num_bins", num_bins)
        self.output_mode = check_choice(self.where, "output_mode", output_mode, ("int", "one_hot"))
        refuse_sparse(self.where, sparse)
        self.sparse = False

    def __call__(self, inputs, training: bool = False):
        if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(i, SymbolicTensor) for i in inputs):
            self.input = list(inputs)
            shape = self.compute_output_shape([tuple(i.shape) for i in inputs])
            self.output = SymbolicTensor(shape, self.output_dtype(), layer=self)
            return self.output
        out = self.forward(inputs, training=training)
        if self.output is None:             # as Layer.__call__: the first call on data records the symbolic shapes
            features = [np.asarray(f) for f in inputs]
            self([SymbolicTensor((None,) + f.shape[1:], f.dtype) for f in features])
        return out

    def _features(self, inputs) -> list[Array]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            got = f"a {type(inputs).__name__}" + (f" of {len(inputs)}" if isinstance(inputs, (list, tuple)) else "")
            raise LearnloopError(f"{self.where} crosses a list or tuple of at least two features; got {got}.")
        features = [np.asarray(f) for f in inputs]
        shape = features[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1) or any(f.shape != shape for f in features):
            raise LearnloopError(f"{self.where}: every feature must have the same shape, (), (batch,) or (batch, 1); "
                                 f"got shapes {[f.shape for f in features]}.")
        for i, feature in enumerate(features):
            if feature.dtype.kind not in "iuOUS":
                raise LearnloopError(f"{self.where}: feature {i} must hold integers or strings; got dtype "
                                     f"{feature.dtype}.")
        return features

    def _feature_hashes(self, feature: Array) -> Array:
        """uint64 per value: the integer itself (two's complement) or the Fingerprint64 of the string."""
        if feature.dtype.kind in "iu":
            return feature.reshape(-1).astype(np.int64).view(np.uint64)
        distinct, inverse = distinct_values(feature.reshape(-1), self.where)
        hashes = np.zeros(len(distinct), dtype=np.uint64)
        is_number = [isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in distinct]
        numbers = [i for i, number in enumerate(is_number) if number]
        text = [i for i, number in enumerate(is_number) if not number]
        hashes[numbers] = np.array([distinct[i] for i in numbers], dtype=np.int64).view(np.uint64)
        hashes[text] = fingerprint64(_texts(self.where, [distinct[i] for i in text]))
        return hashes[inverse]

    def forward(self, x, *, training: bool = False) -> Array:
        """Bins (int64, the features' shape) or their one-hot encoding (float, the layer's dtype)."""
        features = self._features(x)
        crossed = np.full(features[0].size, _CROSS_KEY, dtype=np.uint64)
        for feature in features:
            crossed = fingerprint_cat64(crossed, self._feature_hashes(feature))
        bins = (crossed % np.uint64(self.num_bins)).astype(np.int64).reshape(features[0].shape)
        return encode(bins, self.output_mode, self.num_bins, self.dtype)

    def compute_output_shape(self, input_shape) -> Shape:
        shapes = [tuple(s) for s in input_shape] if input_shape and isinstance(input_shape[0], (list, tuple)) \
            else None
        if not shapes or len(shapes) < 2:
            raise LearnloopError(f"{self.where} expects the shapes of at least two features; got {input_shape!r}.")
        return encoded_shape(shapes[0], self.output_mode, self.num_bins)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse}
