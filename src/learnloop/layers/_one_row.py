"""``FeatureSpace.encode`` of one row of plain Python values, without a NumPy call per feature.

A served request is usually one row (``{"age": 39, "workclass": "State-gov", ...}``). The general path reads each
column into an array, calls each feature's preprocessing layer and concatenates the blocks: about 40 NumPy calls per
feature, most of a millisecond for a dozen columns. :class:`OneRowPlan` does the same arithmetic on one row: the
normalized and rescaled numbers of every feature in one vectorized float expression, categories by one dict lookup
each, written into one preallocated output row. The results are bit-identical to the general path (same float32
operations, element by element), which the tests check on random rows.

Only the common shapes are planned: ``float``/``float_rescaled``/``float_normalized`` numbers and
``string_categorical``/``integer_categorical`` lookups into a one-hot block, concatenated, no crosses. For anything
else (another preprocessor, a value of another type, a missing value a feature does not impute, an out-of-vocabulary
value with several OOV indices, a number so large that its encoding could overflow the float type)
:meth:`OneRowPlan.encode` returns ``None`` and the general path runs, with its checks, messages and warnings. So a
row the plan encodes never warns and its encoding is finite.
"""

from __future__ import annotations

import numpy as np

from learnloop.layers._features import MISSING_TOKEN, canonical_text

Array = np.ndarray
_INT64 = 2**63
_PLAIN = frozenset({str, int, float, bool, type(None)})     # what a JSON object's values become
STALE = object()


class OneRowPlan:
    """Where each feature of a concatenated FeatureSpace output goes, and the statistics to compute it.

    Built from an adapted FeatureSpace by :func:`plan_one_row`; valid until the FeatureSpace adapts again or its
    weights are set (the FeatureSpace then drops it) or a lookup's vocabulary is replaced (checked on each call).
    """

    def __init__(self, width: int, dtype, numbers: list, lookups: list, float_dtype):
        self.width, self.dtype = width, np.dtype(dtype)
        # (name, impute, fill, indicator position or -1, low, high), in output order; values outside [low, high]
        # could overflow the float dtype, so they take the general path (which warns, as NumPy does)
        self.numbers = [p[:4] + _bounds(p[5:], float_dtype) for p in numbers]
        self.lookups = lookups                      # (name, kind, impute, layer, table, offset)
        self.positions = np.array([p[4] for p in numbers], dtype=np.intp)
        self.float_dtype = np.dtype(float_dtype)
        self.norm = np.array([p[5] == "norm" for p in numbers], dtype=bool)
        self.shift = np.array([p[6] for p in numbers], dtype=self.float_dtype)     # mean (0 when rescaling)
        self.divide = np.array([p[7] for p in numbers], dtype=self.float_dtype)    # std (1 when rescaling)
        self.scale = np.array([p[8] for p in numbers], dtype=self.float_dtype)     # 1 when normalizing
        self.offset = np.array([p[9] for p in numbers], dtype=self.float_dtype)    # 0 when normalizing
        self.all_norm = bool(self.norm.all())

    def encode(self, row) -> Array | None:
        """(1, width) encoded row, or None when the general path must run (see the module docstring), or
        :data:`STALE` when a lookup's vocabulary was replaced since the plan was made.

        Every value is checked before any arithmetic, so a row the general path refuses never warns here first,
        and a planned row's encoding is always finite.
        """
        for key, value in row.items():
            if type(key) is not str or type(value) not in _PLAIN:
                return None
        values, ones = [], []
        for name, impute, fill, indicator, low, high in self.numbers:
            if name not in row:
                return None
            v = row[name]
            kind = type(v)
            if kind is float and low <= v <= high:                   # NaN fails the comparison
                values.append(v)
            elif kind is int and -_INT64 <= v < _INT64 and low <= v <= high:
                values.append(float(v))
            elif (v is None or (kind is float and v != v)) and impute:     # None or NaN
                values.append(fill)
                if indicator >= 0:
                    ones.append(indicator)
            else:
                return None
        for name, kind, impute, layer, table, offset in self.lookups:
            if layer._table is not table:
                return STALE
            if name not in row:
                return None
            v = row[name]
            t = type(v)
            if v is None or (t is float and v != v):
                if not impute:
                    return None
                key = MISSING_TOKEN if kind == "string" else 0
            elif kind == "string":
                if t is str:
                    key = v
                elif (t is int and -_INT64 <= v < _INT64) or t is float:
                    key = canonical_text(v)
                else:
                    return None
            elif t is int and -_INT64 <= v < _INT64:                  # integer categories
                key = v
            elif t is float and abs(v) < _INT64 and v.is_integer():
                key = int(v)
            else:
                return None
            index = table.get(key, -1)
            if index < 0:
                if layer.num_oov_indices != 1:
                    return None
                index = layer._oov_start()
            ones.append(offset + index)
        out = np.zeros((1, self.width), dtype=self.dtype)
        line = out[0]
        if values:
            x = np.array(values, dtype=np.float64).astype(self.float_dtype)
            if self.all_norm:
                x = (x - self.shift) / self.divide
            else:
                x = np.where(self.norm, (x - self.shift) / self.divide, _rescale(x, self.scale, self.offset))
            line[self.positions] = x
        line[ones] = 1
        return out


def _bounds(stats: tuple, float_dtype) -> tuple[float, float]:
    """The raw values whose encoding stays within half the float dtype's range: (low, high)."""
    kind, mean, std, scale, offset = stats
    limit = float(np.finfo(float_dtype).max) / 2
    if kind == "norm":
        reach = limit * min(float(std), 1.0)
        return max(float(mean) - reach, -limit), min(float(mean) + reach, limit)
    if abs(offset) > limit / 2:
        return 0.0, -1.0                                  # an offset that large: every value takes the general path
    reach = (limit / 2) / max(abs(float(scale)), 1.0)
    return -reach, reach


def _rescale(x: Array, scale: Array, offset: Array) -> Array:
    out = x * scale                      # Rescaling.forward: two roundings, as there
    out += offset
    return out


def plan_one_row(space) -> OneRowPlan | None:
    """The plan for an adapted FeatureSpace, or None when one of its features is not of a planned kind."""
    from learnloop.layers.lookup import IntegerLookup, StringLookup
    from learnloop.layers.normalization import Normalization
    from learnloop.layers.rescaling import Rescaling

    if space.output_mode != "concat" or space.crosses:
        return None
    numbers, lookups, float_dtypes = [], [], set()
    offset = 0
    for name in space.column_names:
        feature = space.features[name]
        layer = feature.preprocessor
        width = feature.width
        if feature.dtype == "float32" and feature.output_mode == "float":
            indicator = offset + 1 if feature.indicator else -1
            fill = float(feature.fill_value[0])
            if isinstance(layer, Normalization) and not layer.invert and layer.built and \
                    np.shape(layer.mean) == (1,):
                stats = ("norm", layer.mean.astype(layer.dtype)[0], layer._std(1)[0], 1.0, 0.0)
            elif isinstance(layer, Rescaling) and _scalar(layer.scale) and _scalar(layer.offset):
                stats = ("scale", 0.0, 1.0, _first(layer.scale), _first(layer.offset))
            else:
                return None
            float_dtypes.add(np.dtype(layer.dtype))
            numbers.append((name, feature.impute, fill, indicator, offset) + stats)
        elif feature.output_mode == "one_hot" and feature.dtype in ("string", "int32") and \
                type(layer) in (StringLookup, IntegerLookup) and layer.output_mode == "int" and \
                not layer.invert and layer.mask_token is None and layer.num_oov_indices >= 1 and \
                getattr(layer, "_table", None) is not None:
            kind = "string" if feature.dtype == "string" else "integer"
            if (kind == "string") != (type(layer) is StringLookup):
                return None
            lookups.append((name, kind, feature.impute, layer, layer._table, offset))
        else:
            return None
        offset += width
    if len(float_dtypes) > 1:
        return None
    return OneRowPlan(offset, space.dtype, numbers, lookups, float_dtypes.pop() if float_dtypes else np.float32)


def _scalar(value) -> bool:
    return isinstance(value, float) or (isinstance(value, list) and len(value) == 1)


def _first(value) -> float:
    return float(value[0] if isinstance(value, list) else value)
