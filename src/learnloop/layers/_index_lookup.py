"""The vocabulary lookup StringLookup and IntegerLookup share (Keras's ``IndexLookup``), in NumPy.

Indices, as Keras lays them out: ``[mask] [OOV x num_oov_indices] [vocabulary...]``. The mask slot exists only
with ``mask_token`` set and ``output_mode="int"``; in the encoded modes a mask token is dropped from the encoding.

Speed: a call never loops in Python over the rows. Integers and fixed-width string arrays are looked up with
``np.searchsorted`` against the sorted vocabulary; object arrays and lists with ``map(dict.get, values)`` (the
loop runs in C: about 60 ms per million values). Only the distinct out-of-vocabulary values are hashed, once each.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np

from learnloop.errors import LearnloopError, NotFittedError
from learnloop.layers._preprocessing import (
    DROPPED,
    PreprocessingLayer,
    batches,
    check_choice,
    check_salt,
    distinct_values,
    encode,
    encoded_shape,
    hashable,
    is_one_batch,
    refuse_sparse,
)
from learnloop.layers.base import Array, Shape

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}         # Keras's older names


def is_missing(value) -> bool:
    """``None`` or a float NaN: a missing value, never part of a vocabulary."""
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


class IndexLookup(PreprocessingLayer):
    """Shared base of StringLookup and IntegerLookup; see their docstrings. Subclasses say how values are read."""

    _kind = "values"       # what the layer takes, for messages
    _key_dtype = object    # NumPy dtype of the sorted vocabulary keys

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=None, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 salt=None, has_input_vocabulary=None, **kwargs):
        super().__init__(**kwargs)
        where = self.where
        if max_tokens is not None and (not isinstance(max_tokens, (int, np.integer)) or max_tokens <= 1):
            raise LearnloopError(f"{where}: max_tokens, if set, must be an integer greater than 1; "
                                 f"got max_tokens={max_tokens!r}.")
        if pad_to_max_tokens and max_tokens is None:
            raise LearnloopError(f"{where}: pad_to_max_tokens=True needs max_tokens to be set.")
        if not isinstance(num_oov_indices, (int, np.integer)) or num_oov_indices < 0:
            raise LearnloopError(f"{where}: num_oov_indices must be an integer >= 0; got {num_oov_indices!r}.")
        output_mode = check_choice(where, "output_mode", _ALIASES.get(output_mode, output_mode), OUTPUT_MODES)
        refuse_sparse(where, sparse)
        if invert and output_mode != "int":
            raise LearnloopError(f"{where}: invert=True maps indices back to tokens, so output_mode must be 'int'; "
                                 f"got output_mode={output_mode!r}.")
        if idf_weights is not None and output_mode != "tf_idf":
            raise LearnloopError(f"{where}: idf_weights are only used with output_mode='tf_idf'; got "
                                 f"output_mode={output_mode!r}.")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise LearnloopError(f"{where}: with output_mode='tf_idf' and a vocabulary, pass idf_weights too "
                                 f"(one per vocabulary term).")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = self._check_special(mask_token, "mask_token")
        self.oov_token = self._check_special(oov_token, "oov_token")
        self.invert, self.output_mode = bool(invert), output_mode
        self.pad_to_max_tokens, self.sparse = bool(pad_to_max_tokens), False
        self.salt = check_salt(where, salt)
        self._tokens: list | None = None                  # learned terms, without the special tokens
        self._idf: Array | None = None                    # one weight per output slot (tf_idf)
        self._has_input_vocabulary = (vocabulary is not None if has_input_vocabulary is None
                                      else bool(has_input_vocabulary))
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ---- what subclasses provide ---------------------------------------------------------------------------
    def _check_special(self, token, arg: str):
        raise NotImplementedError

    def _check_token(self, token):
        """One vocabulary term as the layer keeps it (str or int); an error for anything else."""
        raise NotImplementedError

    def _codes(self, flat: Array) -> Array:
        """int64 (n,): each value's index, the mask's index, or -1 when out of vocabulary."""
        raise NotImplementedError

    def _oov_buckets(self, values: Array) -> Array:
        """int64 (n,): which OOV index (0..num_oov_indices-1) each out-of-vocabulary value takes."""
        raise NotImplementedError

    def _adaptable(self, flat: Array) -> Array:
        """``flat`` if adapt can read its dtype; a clear error otherwise."""
        raise NotImplementedError

    def _read_vocabulary_file(self, lines: list[str]) -> list:
        raise NotImplementedError

    # ---- the index layout ----------------------------------------------------------------------------------
    def _oov_start(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self) -> int:
        return self._oov_start() + self.num_oov_indices

    def _special_tokens(self) -> list:
        return [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices

    def _mask_code(self) -> int:
        return 0 if self.output_mode == "int" else DROPPED

    def vocabulary_size(self) -> int:
        """The number of indices, mask and OOV indices included."""
        return self._token_start() + len(self._tokens or [])

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The token at each index (mask and OOV slots included), or only the learned terms."""
        tokens = list(self._tokens or [])
        if not include_special_tokens:
            return tokens
        return self._special_tokens() + tokens

    # ---- setting the vocabulary ----------------------------------------------------------------------------
    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Replace the vocabulary: a list/tuple/1-D array of terms, or the path of a text file (one per line).

        A vocabulary may start with the special tokens in index order (as :meth:`get_vocabulary` returns it);
        otherwise they are added in front. ``idf_weights`` (tf_idf only) has one weight per given term; when the
        special tokens are not given, their slots get the mean weight, as in Keras.
        """
        where = self.where
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise LearnloopError(f"{where}: set_vocabulary needs idf_weights with output_mode='tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise LearnloopError(f"{where}: idf_weights are only used with output_mode='tf_idf'; got "
                                 f"output_mode={self.output_mode!r}.")
        if isinstance(vocabulary, (str, Path)):
            if self.output_mode == "tf_idf":
                raise LearnloopError(f"{where}: output_mode='tf_idf' cannot read its vocabulary from a file; pass "
                                     f"the terms and idf_weights as lists.")
            path = Path(vocabulary)
            if not path.is_file():
                raise LearnloopError(f"{where}: vocabulary file {str(path)!r} does not exist.")
            lines = path.read_text(encoding="utf-8").splitlines()
            while lines and lines[-1] == "":
                lines.pop()
            vocabulary = self._read_vocabulary_file(lines)
        values = np.asarray(vocabulary, dtype=object)
        if values.ndim != 1 or values.size == 0:
            raise LearnloopError(f"{where}: the vocabulary must be a non-empty 1-D list of terms; got "
                                 f"{values.size} values of shape {values.shape}.")
        given, special = values.tolist(), self._special_tokens()
        head = [None if t is None else self._check_token(t) for t in given[:len(special)]]
        found_special = len(given) >= len(special) and head == special
        tokens = [self._check_token(t) for t in (given[len(special):] if found_special else given)]
        terms = special + tokens if found_special else tokens
        if len(set(tokens)) != len(tokens):
            seen, repeated = set(), []
            for t in tokens:
                if t in seen and t not in repeated:
                    repeated.append(t)
                seen.add(t)
            raise LearnloopError(f"{where}: the vocabulary repeats terms {repeated[:10]}; each term must appear once.")
        if self.mask_token is not None and self.mask_token in tokens:
            raise LearnloopError(
                f"{where}: the mask token {self.mask_token!r} is in the vocabulary at index "
                f"{terms.index(self.mask_token)}. Leave the mask and OOV tokens out, or put them only at the start, "
                f"in this order: {special}.")
        if self.invert and self.oov_token is not None and self.oov_token in tokens:
            raise LearnloopError(
                f"{where}: the OOV token {self.oov_token!r} is in the vocabulary at index "
                f"{terms.index(self.oov_token)}. Leave the mask and OOV tokens out, or put them only at the start, "
                f"in this order: {special}.")
        size = self._token_start() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise LearnloopError(f"{where}: the vocabulary has {size} indices (special tokens included), more than "
                                 f"max_tokens={self.max_tokens}.")
        idf = None
        if idf_weights is not None:
            weights = np.asarray(idf_weights, dtype=np.float64)
            if weights.ndim != 1 or len(weights) != len(terms):
                raise LearnloopError(f"{where}: idf_weights must be 1-D with one weight per vocabulary term "
                                     f"({len(terms)}); got shape {weights.shape}.")
            if not found_special:
                weights = np.concatenate([np.full(self._token_start(), weights.mean()), weights])
            idf = self._pad_idf(weights)
        self._set_tokens(tokens, idf)

    def _pad_idf(self, weights: Array) -> Array:
        if self.pad_to_max_tokens and len(weights) < self.max_tokens:
            weights = np.concatenate([weights, np.zeros(self.max_tokens - len(weights))])
        return weights.astype(self.dtype)

    def _set_tokens(self, tokens: list, idf: Array | None) -> None:
        self._tokens, self._idf = tokens, idf
        self._build_tables()

    def _build_tables(self) -> None:
        """Index structures for calls, from ``self._tokens``: ``_table`` (a dict from each term, and the mask
        token, to its index) and the same keys sorted in ``_sorted_keys`` with ``_sorted_indices``."""
        keys = list(self._tokens)
        indices = list(range(self._token_start(), self.vocabulary_size()))
        if self.mask_token is not None:
            keys.append(self.mask_token)
            indices.append(self._mask_code())
        self._table = dict(zip(keys, indices))
        keys, indices = np.array(keys, dtype=self._key_dtype), np.array(indices, dtype=np.int64)
        order = np.argsort(keys)
        self._sorted_keys, self._sorted_indices = keys[order], indices[order]

    def _search(self, values: Array) -> Array:
        """int64 (n,): the index of each value of a NumPy array found in the sorted keys, else -1 (vectorized)."""
        keys = self._sorted_keys
        if not len(keys):
            return np.full(values.shape, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
        return np.where(keys[at] == values, self._sorted_indices[at], -1)

    def _lookup_objects(self, values: list) -> Array:
        """int64 (n,): the index of each Python value, else -1 (``dict.get`` mapped at C speed)."""
        try:
            return np.fromiter(map(self._table.get, values, itertools.repeat(-1)), dtype=np.int64,
                               count=len(values))
        except TypeError:
            bad = next(v for v in values if not hashable(v))
            raise LearnloopError(f"{self.where}: got the unhashable value {bad!r} ({type(bad).__name__}); "
                                 f"expected {self._kind}.") from None

    # ---- adapt ---------------------------------------------------------------------------------------------
    def _factorize(self, flat: Array) -> tuple[list, Array]:
        """(distinct terms, (n,) position of each value among them, -1 for missing values) of a batch."""
        distinct, codes = distinct_values(self._adaptable(flat), self.where)
        tokens, remap = [], np.full(len(distinct), -1, dtype=np.int64)
        for i, value in enumerate(distinct):
            if not is_missing(value):
                remap[i] = len(tokens)
                tokens.append(self._check_token(value))
        return tokens, remap[codes]

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary from ``data``: terms by frequency, ties broken by the higher term first (Keras).

        Args:
            data: an array or list of values (1-D, or 2-D with one row per document for tf_idf), or an iterable
                of such batches (a 1-D batch from an iterable is one document, as in Keras).
            batch_size: accepted for Keras compatibility; counts are exact whatever the batching.
            steps: with an iterable, read at most this many batches.

        ``None`` and NaN are not terms; nor are the mask and OOV tokens. With ``max_tokens``, the most frequent
        ``max_tokens - (mask and OOV slots)`` terms are kept.
        """
        if self._has_input_vocabulary:
            raise LearnloopError(f"{self.where}: cannot adapt a layer constructed with vocabulary=...; build a new "
                                 f"layer without it, or call set_vocabulary().")
        counts: dict = {}
        doc_counts: dict = {}
        documents = 0
        one_array = is_one_batch(data)
        for batch in batches(data, steps):
            values = np.asarray(batch)
            if values.ndim == 0:
                values = values.reshape(1)
            if values.ndim == 1:                      # an array is a column of documents; a batch, one document
                values = values.reshape(-1, 1) if one_array else values.reshape(1, -1)
            tokens, codes = self._factorize(values.reshape(-1))
            valid = codes >= 0
            for token, n in zip(tokens, np.bincount(codes[valid], minlength=len(tokens)).tolist()):
                counts[token] = counts.get(token, 0) + n
            if self.output_mode == "tf_idf" and tokens:
                rows = np.repeat(np.arange(values.shape[0]), int(np.prod(values.shape[1:])))[valid]
                pairs = np.unique(rows * len(tokens) + codes[valid])     # each (document, term) once
                for token, n in zip(tokens, np.bincount(pairs % len(tokens), minlength=len(tokens)).tolist()):
                    doc_counts[token] = doc_counts.get(token, 0) + n
            documents += values.shape[0]
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        if not counts:                                # nothing learned: keep the vocabulary, or start an empty one
            if self._tokens is None:
                empty_idf = self._pad_idf(np.zeros(self._token_start())) if self.output_mode == "tf_idf" else None
                self._set_tokens([], empty_idf)
            return
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens:
            ranked = ranked[:max(self.max_tokens - self._token_start(), 0)]
        tokens = [token for token, _ in ranked]
        idf = None
        if self.output_mode == "tf_idf":
            df = np.array([doc_counts[t] for t in tokens], dtype=np.float64)
            learned = np.log(1 + documents / (1 + df)).astype(self.dtype)
            idf = self._pad_idf(np.concatenate([np.full(self._token_start(), learned.mean()), learned]))
        self._set_tokens(tokens, idf)

    # ---- calling -------------------------------------------------------------------------------------------
    def _require_vocabulary(self) -> None:
        if self._tokens is None:
            raise NotFittedError(f"{self.where} has no vocabulary yet; call adapt(data) or pass vocabulary=...")

    def _depth(self) -> int:
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def forward(self, x, *, training: bool = False) -> Array:
        """Indices (int64, the input's shape), or the encoded float array; tokens when ``invert=True``."""
        self._require_vocabulary()
        values = np.asarray(x)
        if self.invert:
            return self._tokens_at(values)
        flat = values.reshape(-1)
        codes = self._codes(flat)
        oov = codes == -1
        if oov.any():
            self._place_oov(flat, codes, oov)
        indices = codes.reshape(values.shape)
        if self.output_mode == "int":
            return indices
        if self.output_mode == "tf_idf":
            return encode(indices, "count", self._depth(), self.dtype) * self._idf
        return encode(indices, self.output_mode, self._depth(), self.dtype)

    def _place_oov(self, flat: Array, codes: Array, oov: Array) -> None:
        if self.num_oov_indices == 0:
            seen = list(dict.fromkeys(flat[oov].tolist()))
            raise LearnloopError(f"{self.where} has num_oov_indices=0, so every input must be in the vocabulary; "
                                 f"got out-of-vocabulary values {seen[:10]}. Set num_oov_indices=1 to map them to "
                                 f"an OOV index.")
        if self.num_oov_indices == 1:
            codes[oov] = self._oov_start()
        else:
            codes[oov] = self._oov_start() + self._oov_buckets(flat[oov])

    def _tokens_at(self, values: Array) -> Array:
        """``invert=True``: the token at each index; indices outside the vocabulary give the OOV token."""
        if values.dtype.kind == "f" and np.all(np.isfinite(values)) and np.all(values == np.round(values)):
            values = values.astype(np.int64)
        if values.dtype.kind not in "iu":
            raise LearnloopError(f"{self.where} has invert=True, so it maps integer indices to tokens; got an "
                                 f"array of dtype {values.dtype} and shape {values.shape}.")
        vocabulary = self._vocabulary_array()
        inside = (values >= 0) & (values < len(vocabulary))
        out = np.full(values.shape, self.oov_token, dtype=vocabulary.dtype)
        out[inside] = vocabulary[values[inside]]
        return out

    def _vocabulary_array(self) -> Array:
        return np.asarray(self.get_vocabulary(), dtype=object)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return encoded_shape(input_shape, self.output_mode, self._depth())

    def output_dtype(self) -> str:
        if self.invert:
            return "object"
        return "int64" if self.output_mode == "int" else self.dtype

    # ---- config --------------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras's arguments; the vocabulary (special tokens first) and idf weights as JSON lists."""
        has_vocabulary = self._tokens is not None
        idf = None
        if self._idf is not None:
            idf = self._idf[:self.vocabulary_size()].astype(np.float64).tolist()
        return {**super().get_config(), "max_tokens": self.max_tokens, "num_oov_indices": self.num_oov_indices,
                "mask_token": self.mask_token, "oov_token": self.oov_token,
                "vocabulary": self.get_vocabulary() if has_vocabulary else None, "idf_weights": idf,
                "invert": self.invert, "output_mode": self.output_mode, "pad_to_max_tokens": self.pad_to_max_tokens,
                "sparse": self.sparse, "salt": self.salt,
                "has_input_vocabulary": self._has_input_vocabulary}
