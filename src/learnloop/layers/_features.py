"""One column of a FeatureSpace: how its raw values are read, imputed, preprocessed and encoded.

A :class:`Feature` turns a 1-D column of raw values (numbers, strings, ``None``) into a block of float columns:
``read`` checks and converts the values (an error names the column and the first bad row), missing values are filled
(``impute=True``) or refused, the preprocessor (a Keras preprocessing layer) maps them to floats or to integer
indices, and integer indices are one-hot encoded. Crosses (:class:`Cross`) hash pairs of those indices.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from learnloop.errors import LearnloopError

Array = np.ndarray
MISSING_TOKEN = "[MISSING]"        # the category a missing text value becomes when the feature imputes
FEATURE_DTYPES = ("float32", "int32", "string")
OUTPUT_MODES = ("float", "int", "one_hot")


class FeatureValueError(LearnloopError):
    """A raw value a feature cannot take; ``column`` and ``row`` say where (for an API's field path)."""

    def __init__(self, message: str, column: str, row: int | None = None, expected: str | None = None):
        super().__init__(message)
        self.column, self.row, self.expected = column, row, expected


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def is_missing(values: Array) -> Array:
    """(n,) bool: ``None`` or NaN (any float type) in a 1-D column."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind != "O":
        return np.zeros(values.shape, dtype=bool)
    # v != v is True only for NaN; `is None` for JSON null / pandas None
    return np.fromiter((v is None or v != v for v in values), dtype=bool, count=values.size)


def read_float(values: Array, column: str) -> tuple[Array, Array]:
    """(float64 values, missing mask) of a numeric column; text or booleans are refused, naming the row."""
    if values.dtype.kind in "fiu":
        out = values.astype(np.float64, copy=False)
        return out, np.isnan(out) if out.dtype.kind == "f" else np.zeros(out.shape, dtype=bool)
    if values.dtype.kind == "O":
        missing = is_missing(values)
        numeric = np.fromiter((type(v) in (int, float) or isinstance(v, (np.integer, np.floating))
                               for v in values), dtype=bool, count=values.size)
        bad = ~(numeric | missing)
        if not bad.any():
            out = np.where(missing, np.nan, values).astype(np.float64)
            return out, missing
        row = int(np.argmax(bad))
    else:
        row = 0
    raise FeatureValueError(f"Column {column!r} holds numbers; row {row} has {_describe(values[row])}.", column, row,
                            "a number")


def read_int(values: Array, column: str) -> tuple[Array, Array]:
    """(int64 values, missing mask) of an integer column; non-integral numbers and text are refused."""
    floats, missing = read_float(values, column)
    whole = np.isfinite(floats) & (floats == np.round(floats))
    bad = ~(whole | missing)
    if bad.any():
        row = int(np.argmax(bad))
        raise FeatureValueError(f"Column {column!r} holds integers; row {row} has {_describe(values[row])}.",
                                column, row, "an integer")
    return np.where(missing, 0, floats).astype(np.int64), missing


def canonical_text(value) -> str:
    """Text of one category value: strings as they are, whole numbers without ".0" (3.0 -> "3")."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return repr(float(value)) if isinstance(value, (float, np.floating)) else str(value)


def read_text(values: Array, column: str) -> tuple[Array, Array]:
    """(object array of str, missing mask) of a categorical column; numbers become their canonical text."""
    if values.dtype.kind in "US":
        out = values.astype(object)
        return out, np.zeros(out.shape, dtype=bool)
    types = set(map(type, values)) if values.dtype.kind == "O" else {None}
    if types == {str}:                                # the common case, decided in one pass over the types
        return values, np.zeros(values.shape, dtype=bool)
    if types <= {str, type(None)}:
        return values, np.equal(values, None)
    missing = is_missing(values)
    out = np.array([None if m else canonical_text(v) for v, m in zip(values.tolist(), missing)], dtype=object)
    return out, missing


READERS = {"float32": read_float, "int32": read_int, "string": read_text}


class Feature:
    """How one raw column becomes features (Keras's ``FeatureSpace.feature``; ``impute`` is learnloop's).

    Args:
        dtype: ``"float32"``, ``"int32"`` or ``"string"``: what the raw values are.
        preprocessor: the layer applied to the values (Normalization, StringLookup, Hashing, ...).
        output_mode: ``"float"`` (the preprocessor's output as is), ``"int"`` (integer indices) or ``"one_hot"``.
        impute: fill missing values instead of refusing them: numbers with the training median plus a 0/1
            missing-indicator column (when training had missing values), text with the category ``"[MISSING]"``.
        parse: a ``"float32"`` feature only: the text format its values may arrive in (``"$1,234.50"``, ``"12%"``,
            dates), read to numbers before anything else (see :mod:`learnloop.layers._number_text`); numbers are
            taken as they are. learnloop's, like ``impute``.
    """

    def __init__(self, dtype: str, preprocessor, output_mode: str, impute: bool = False, parse: dict | None = None):
        if dtype not in FEATURE_DTYPES:
            raise LearnloopError(f"Feature dtype must be one of {list(FEATURE_DTYPES)}; got {dtype!r}.")
        if output_mode not in OUTPUT_MODES:
            raise LearnloopError(f"Invalid value for argument `output_mode`. Expected one of {list(OUTPUT_MODES)}. "
                                 f"Received: output_mode={output_mode!r}")
        if isinstance(preprocessor, dict):
            from learnloop.saving import layer_from_config

            preprocessor = layer_from_config(preprocessor)
        self.dtype, self.preprocessor, self.output_mode = dtype, preprocessor, output_mode
        self.impute = bool(impute)
        if parse is not None:
            from learnloop.layers._number_text import check_format

            if dtype != "float32":
                raise LearnloopError(f"Feature parse= reads text into numbers, so it needs dtype='float32'; got "
                                     f"dtype={dtype!r}.")
            parse = check_format(parse, "Feature parse")
        self.parse = parse
        self.indicator = False          # set by adapt: numbers get an indicator column if training had gaps
        self.fill_value = np.zeros((1,), dtype=np.float64)   # the training median (numbers, impute=True)

    # ---- raw values -> preprocessor input ------------------------------------------------------------------
    def _read_raw(self, values: Array, column: str) -> tuple[Array, Array]:
        """The values converted to the feature's dtype (text read in ``parse`` first), and the missing mask."""
        if self.parse is not None:
            from learnloop.layers._number_text import parse

            return parse(values, self.parse, column)
        return READERS[self.dtype](values, column)

    def read(self, values: Array, column: str) -> tuple[Array, Array]:
        """The column checked and converted for the preprocessor, and its missing mask (n,)."""
        values, missing = self._read_raw(values, column)
        if missing.any():
            if not self.impute:
                row = int(np.argmax(missing))
                raise FeatureValueError(
                    f"Column {column!r} has a missing value in row {row}; this feature does not impute (build it "
                    f"with impute=True, or fill the value).", column, row, _expected(self.dtype))
            if self.dtype == "string":
                values = values.copy()
                values[missing] = MISSING_TOKEN
            elif self.dtype == "float32":
                values = np.where(missing, self.fill_value[0], values)
            else:                                      # NaN is out of every integer vocabulary
                values = np.where(missing, np.nan, values.astype(np.float64))
        return values, missing

    def read_for_adapt(self, values: Array, column: str) -> tuple[Array, Array]:
        """The column read for ``adapt`` with imputation: text gets the missing category, numbers keep NaN for the
        median (:meth:`adapt_fill`), missing integers are left out (out of vocabulary, not learned)."""
        values, missing = self._read_raw(values, column)
        if self.dtype == "string" and missing.any():
            values = values.copy()
            values[missing] = MISSING_TOKEN
        elif self.dtype == "int32" and missing.any():
            values, missing = values[~missing], missing[~missing]
        return values, missing

    def adapt_fill(self, values: Array, missing: Array, column: str) -> Array:
        """Learn what missing numbers become (the median) and whether an indicator column is kept."""
        if self.dtype != "float32" or not self.impute:
            return values
        present = values[~missing]
        if present.size == 0:
            raise LearnloopError(f"Column {column!r} has no values to learn from: every value is missing.")
        self.fill_value = np.array([np.median(present)], dtype=np.float64)
        self.indicator = bool(missing.any())
        return np.where(missing, self.fill_value[0], values)

    # ---- preprocessor output -> encoded block --------------------------------------------------------------
    @property
    def cardinality(self) -> int | None:
        """Number of integer indices the preprocessor produces (None for float outputs)."""
        p = self.preprocessor
        for attr in ("vocabulary_size",):
            if hasattr(p, attr):
                return int(getattr(p, attr)())
        for attr in ("num_tokens", "num_bins"):
            if getattr(p, attr, None) is not None:
                return int(getattr(p, attr))
        boundaries = getattr(p, "bin_boundaries", None)
        if boundaries is not None:
            return len(boundaries) + 1
        return None

    @property
    def width(self) -> int:
        """Columns of this feature in a concatenated output."""
        base = self.cardinality if self.output_mode == "one_hot" else 1
        return int(base) + int(self.indicator)

    def output_names(self, column: str) -> list[str]:
        """Names of this feature's output columns: ``age``, ``age_missing``, ``workclass=Private``..."""
        if self.output_mode == "one_hot":
            vocabulary = getattr(self.preprocessor, "get_vocabulary", None)
            tokens = vocabulary() if vocabulary is not None else range(self.cardinality)
            names = [f"{column}={t}" for t in tokens]
        else:
            names = [column]
        return names + ([f"{column}_missing"] if self.indicator else [])

    def get_config(self) -> dict[str, Any]:
        from learnloop.saving import layer_to_config

        config = {"dtype": self.dtype, "preprocessor": layer_to_config(self.preprocessor),
                  "output_mode": self.output_mode, "impute": self.impute, "indicator": self.indicator}
        if self.parse is not None:
            config["parse"] = dict(self.parse)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Feature:
        config = dict(config)
        indicator = bool(config.pop("indicator", False))
        feature = cls(**config)
        feature.indicator = indicator
        return feature


def _expected(dtype: str) -> str:
    return {"float32": "a number", "int32": "an integer", "string": "a string"}[dtype]


class Cross:
    """A hashed cross of categorical features (Keras's ``FeatureSpace.cross``)."""

    def __init__(self, feature_names, crossing_dim: int, output_mode: str = "one_hot"):
        if output_mode not in ("int", "one_hot"):
            raise LearnloopError("Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot'}. "
                                 f"Received: output_mode={output_mode!r}")
        self.feature_names = tuple(feature_names)
        if len(self.feature_names) < 2:
            raise LearnloopError(f"A cross needs at least two features; got {self.feature_names}.")
        self.crossing_dim = int(crossing_dim)
        self.output_mode = output_mode

    @property
    def name(self) -> str:
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict:
        return {"feature_names": list(self.feature_names), "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> Cross:
        return cls(**config)
