"""``FeatureSpace``: Keras's one-stop preprocessing of structured data, as the first stage of a learnloop model.

Each named column gets a feature type (``"float_normalized"``, ``"string_categorical"``, ...); ``adapt(data)`` learns
the statistics and vocabularies from a dict of columns (or a pandas DataFrame / pyarrow Table / list of row dicts);
calling it on such data returns one float matrix (``output_mode="concat"``) or a dict of encoded features. Put it
first in a ``Sequential`` and the model takes raw columns in ``fit``, ``evaluate`` and ``predict``, and carries the
pipeline in its file: vocabularies in the JSON config, statistics (normalization means and variances, imputation
medians) with the weights.

Differs from Keras: ``adapt`` takes the columns themselves (there is no ``tf.data``); columns not named in
``features`` are ignored, so a whole table row can be passed; every feature takes ``impute=True`` to fill missing
values (numbers: the training median plus a missing-indicator column; text: a ``"[MISSING]"`` category) instead of
refusing them; a float feature takes ``parse={...}`` to read numbers written as text (``"$1,234.50"``, ``"12%"``,
dates; :mod:`learnloop.layers._number_text`); there is no functional API, so ``get_inputs``/``get_encoded_features``
are not provided.
"""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError, NotFittedError
from learnloop.layers._features import Cross, Feature, FeatureValueError
from learnloop.layers._one_row import STALE, plan_one_row
from learnloop.layers.base import Array, Layer, Weight
from learnloop.shapes import SymbolicTensor

FEATURE_TYPES = ("float", "float_rescaled", "float_normalized", "float_discretized", "integer_categorical",
                 "string_categorical", "integer_hashed", "string_hashed")


class FeatureSpace(Layer):
    """Preprocess and encode named columns (Keras's ``keras.utils.FeatureSpace``).

    Args:
        features: column name -> feature type name (one of ``FEATURE_TYPES``) or a :class:`Feature` from the
            class methods (``FeatureSpace.float_normalized()``, ``FeatureSpace.string_categorical(max_tokens=10)``).
        output_mode: ``"concat"`` (one (n, d) float matrix: features in sorted name order, then crosses) or
            ``"dict"`` (name -> encoded (n, k) array).
        crosses: pairs (or tuples) of feature names to cross, or ``FeatureSpace.cross(...)`` objects.
        crossing_dim, hashing_dim, num_discretization_bins: defaults for crosses, hashed and discretized features.
    """

    preprocessing = True

    # ---- feature types (Keras's class methods) -------------------------------------------------------------
    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot") -> Cross:
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode, impute: bool = False, parse: dict | None = None) -> Feature:
        return Feature(dtype, preprocessor, output_mode, impute=impute, parse=parse)

    @classmethod
    def float(cls, name=None, impute: bool = False) -> Feature:
        from learnloop.layers.rescaling import Rescaling

        return Feature("float32", Rescaling(1.0, name=_sub(name, "float")), "float", impute)

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None, impute: bool = False) -> Feature:
        from learnloop.layers.rescaling import Rescaling

        return Feature("float32", Rescaling(scale, offset, name=_sub(name, "float_rescaled")), "float", impute)

    @classmethod
    def float_normalized(cls, name=None, impute: bool = False, parse: dict | None = None) -> Feature:
        from learnloop.layers.normalization import Normalization

        return Feature("float32", Normalization(axis=-1, name=_sub(name, "float_normalized")), "float", impute,
                       parse=parse)

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None,
                          impute: bool = False) -> Feature:
        from learnloop.layers.discretization import Discretization

        layer = Discretization(num_bins=num_bins, bin_boundaries=bin_boundaries, name=_sub(name, "float_discretized"))
        return Feature("float32", layer, output_mode, impute)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None,
                            impute: bool = False) -> Feature:
        from learnloop.layers.lookup import IntegerLookup

        layer = IntegerLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                              name=_sub(name, "integer_categorical"))
        return Feature("int32", layer, output_mode, impute)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None,
                           impute: bool = False) -> Feature:
        from learnloop.layers.lookup import StringLookup

        layer = StringLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                             name=_sub(name, "string_categorical"))
        return Feature("string", layer, output_mode, impute)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None, impute: bool = False) -> Feature:
        from learnloop.layers.hashing import Hashing

        return Feature("string", Hashing(num_bins=num_bins, name=_sub(name, "string_hashed")), output_mode, impute)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None, impute: bool = False) -> Feature:
        from learnloop.layers.hashing import Hashing

        return Feature("int32", Hashing(num_bins=num_bins, name=_sub(name, "integer_hashed")), output_mode, impute)

    # ---- construction --------------------------------------------------------------------------------------
    def __init__(self, features, output_mode: str = "concat", crosses=None, crossing_dim: int = 32,
                 hashing_dim: int = 32, num_discretization_bins: int = 32, name: str | None = None,
                 adapted: bool = False, **kwargs):
        super().__init__(name=name, **kwargs)
        if not features or not isinstance(features, dict):
            raise LearnloopError("FeatureSpace needs features={column name: feature type}; got "
                                 f"{features!r:.80}.")
        if output_mode not in ("concat", "dict"):
            raise LearnloopError("Invalid value for argument `output_mode`. Expected one of {'dict', 'concat'}. "
                                 f"Received: output_mode={output_mode!r}")
        self.crossing_dim, self.hashing_dim = int(crossing_dim), int(hashing_dim)
        self.num_discretization_bins = int(num_discretization_bins)
        self.output_mode = output_mode
        self.features = {str(n): self._standardize(str(n), spec) for n, spec in features.items()}
        self.crosses: list[Cross] = []
        for cross in crosses or []:
            if isinstance(cross, dict):
                cross = Cross.from_config(cross)
            if not isinstance(cross, Cross):
                cross = Cross(cross, crossing_dim=self.crossing_dim)
            unknown = [n for n in cross.feature_names if n not in self.features]
            if unknown:
                raise LearnloopError(f"All features referenced in the `crosses` argument should be present in the "
                                     f"`features` dict. Received unknown features: {unknown}")
            self.crosses.append(cross)
        self.preprocessors = {n: f.preprocessor for n, f in self.features.items()}
        self.crossers = {}
        if self.crosses:
            from learnloop.layers.hashing import HashedCrossing

            self.crossers = {c.name: HashedCrossing(c.crossing_dim, name=c.name) for c in self.crosses}
        self._names = sorted(self.features)
        self._cross_names = sorted(self.crossers)
        self._is_adapted = False
        self._row_plan = None           # the one-row fast path (learnloop.layers._one_row), built on first use
        if adapted:
            self._finish_adapt()

    def _standardize(self, name: str, spec) -> Feature:
        if isinstance(spec, Feature):
            return spec
        if isinstance(spec, dict):
            return Feature.from_config(spec)
        if spec == "float_discretized":
            return self.float_discretized(self.num_discretization_bins, name=name)
        if spec in ("integer_hashed", "string_hashed"):
            return getattr(self, spec)(self.hashing_dim, name=name)
        if spec in FEATURE_TYPES:
            return getattr(self, spec)(name=name)
        from learnloop._registry import lookup

        lookup("feature type", {t: t for t in FEATURE_TYPES}, str(spec))   # raises, listing the valid ones
        raise AssertionError  # pragma: no cover

    # ---- adapt ---------------------------------------------------------------------------------------------
    def _columns(self, data, where: str) -> dict[str, Array]:
        from learnloop._columns import as_columns

        columns = as_columns(data, where)
        missing = [n for n in self._names if n not in columns]
        if missing:
            raise FeatureValueError(f"{where}: the data has no column {missing[0]!r}; the FeatureSpace needs "
                                    f"{self._names}, the data has {sorted(columns)}.", missing[0])
        return columns

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn every feature's statistics or vocabulary from ``data`` (dict of columns, DataFrame, Table...)."""
        columns = self._columns(data, "FeatureSpace.adapt()")
        for name in self._names:
            feature, raw = self.features[name], _array(columns[name])
            values, missing = feature.read_for_adapt(raw, name) if feature.impute else feature.read(raw, name)
            values = feature.adapt_fill(values, missing, name)
            layer = feature.preprocessor
            if hasattr(layer, "adapt") and not _fixed(layer):
                layer.adapt(values.reshape(-1, 1) if feature.dtype == "float32" else values)
        self._finish_adapt()

    def _finish_adapt(self) -> None:
        for feature in self.features.values():
            layer = feature.preprocessor
            if feature.dtype == "float32" and isinstance(layer, Layer) and not layer.built:
                layer.ensure_built((None, 1))
        self._is_adapted = True
        self._row_plan = None
        self.built = True
        self.output = SymbolicTensor(self.compute_output_shape(None), self.dtype, layer=self)

    @property
    def adapted(self) -> bool:
        return self._is_adapted

    def _check_adapted(self, where: str) -> None:
        if not self._is_adapted:
            raise NotFittedError(f"{where}: you need to call `.adapt(data)` on the FeatureSpace '{self.name}' "
                                 f"before you can start using it.")

    # ---- encoding ------------------------------------------------------------------------------------------
    def compute_output_shape(self, input_shape) -> tuple:
        self._check_adapted("FeatureSpace output shape")
        return (None, sum(self.features[n].width for n in self._names) +
                sum(c.crossing_dim if c.output_mode == "one_hot" else 1 for c in self._sorted_crosses()))

    def _sorted_crosses(self) -> list[Cross]:
        by_name = {c.name: c for c in self.crosses}
        return [by_name[n] for n in self._cross_names]

    def get_feature_names_out(self) -> list[str]:
        """Names of the concatenated output columns, in order (``age``, ``workclass=Private``, ...)."""
        self._check_adapted("get_feature_names_out()")
        names = [col for n in self._names for col in self.features[n].output_names(n)]
        for cross in self._sorted_crosses():
            names += [f"{cross.name}#{i}" for i in range(cross.crossing_dim)] if cross.output_mode == "one_hot" \
                else [cross.name]
        return names

    def encode(self, data, where: str = "FeatureSpace") -> Array | dict[str, Array]:
        """The encoded features of ``data``: (n, d) float array (concat) or dict name -> (n, k) (dict mode)."""
        self._check_adapted(where)
        one = data[0] if type(data) is list and len(data) == 1 and type(data[0]) is dict else data
        if type(one) is dict and self.output_mode == "concat":       # one request's row: the planned fast path
            encoded = self._encode_one_row(one)
            if encoded is not None:
                return encoded
        columns = self._columns(data, where)
        n = len(next(iter(columns.values())))
        blocks: dict[str, Array] = {}
        indices: dict[str, Array] = {}
        for name in self._names:
            feature = self.features[name]
            values, missing = feature.read(_array(columns[name]), name)
            out = feature.preprocessor(values.reshape(-1, 1) if feature.dtype == "float32" else values)
            out = np.asarray(out)
            if feature.output_mode == "float":
                block = out.reshape(n, -1).astype(self.dtype, copy=False)
            else:
                idx = out.reshape(n).astype(np.int64, copy=False)
                indices[name] = idx
                block = _one_hot(idx, feature.cardinality, self.dtype) if feature.output_mode == "one_hot" \
                    else idx.reshape(n, 1)
            if feature.indicator:
                block = np.concatenate([block, missing.reshape(n, 1).astype(self.dtype)], axis=1)
            blocks[name] = block
        for cross in self._sorted_crosses():
            parts = []
            for fname in cross.feature_names:
                if fname not in indices:
                    raise LearnloopError(f"Cross {cross.name!r}: feature {fname!r} has output_mode="
                                         f"{self.features[fname].output_mode!r}; only integer-indexed features "
                                         f"(categorical, hashed, discretized) can be crossed.")
                parts.append(indices[fname])
            idx = np.asarray(self.crossers[cross.name](parts)).reshape(n).astype(np.int64)
            blocks[cross.name] = _one_hot(idx, cross.crossing_dim, self.dtype) if cross.output_mode == "one_hot" \
                else idx.reshape(n, 1)
        if self.output_mode == "dict":
            return blocks
        for name, block in blocks.items():
            if block.dtype.kind != "f":
                raise LearnloopError(f"Cannot concatenate features because feature {name!r} has not been encoded "
                                     f"(it has output_mode='int'). Consider using `output_mode='dict'`.")
        order = self._names + self._cross_names
        return np.concatenate([blocks[k] for k in order], axis=1) if len(order) > 1 else blocks[order[0]]

    def _encode_one_row(self, row: dict) -> Array | None:
        """:meth:`encode` of a dict of plain scalars (one row), bit-identical; None when the general path must run."""
        plan = self._row_plan
        if plan is None:
            plan = self._row_plan = plan_one_row(self) or False
        encoded = plan.encode(row) if plan else None
        if encoded is STALE:                          # a lookup got a new vocabulary: plan again
            self._row_plan = None
            return self._encode_one_row(row)
        return encoded

    def __call__(self, data, training: bool = False):
        if isinstance(data, SymbolicTensor):
            return self.symbolic_call(data)
        return self.encode(data)

    def symbolic_call(self, inputs=None) -> SymbolicTensor:
        self._check_adapted(f"FeatureSpace '{self.name}'")
        return self.output

    def forward(self, x, *, training: bool = False):
        return self.encode(x)

    def backward(self, grad: Array):
        raise LearnloopError(f"FeatureSpace '{self.name}' is preprocessing: it runs once on the raw input ahead of "
                             f"the network and has no gradient.")

    # ---- what a server or a report needs to know -----------------------------------------------------------
    def input_schema(self) -> dict[str, dict]:
        """Column name -> ``{"type": "number" | "integer" | "string", "nullable": bool}`` (JSON Schema words), plus
        ``"parse"`` (the text format) for a number that may also arrive as text."""
        kinds = {"float32": "number", "int32": "integer", "string": "string"}
        schema = {n: {"type": kinds[self.features[n].dtype], "nullable": self.features[n].impute} for n in self._names}
        for name in self._names:
            if self.features[name].parse is not None:
                schema[name]["parse"] = dict(self.features[name].parse)      # text such as "$1,234.50" is read too
        return schema

    @property
    def column_names(self) -> list[str]:
        """The raw columns this FeatureSpace reads, sorted."""
        return list(self._names)

    # ---- weights: the float features' statistics and fill values -------------------------------------------
    def _slots(self) -> list[tuple[object, str]]:
        slots: list[tuple[object, str]] = []
        for name in self._names:
            feature = self.features[name]
            if feature.impute and feature.dtype == "float32":
                slots.append((feature, "fill_value"))
            layer = feature.preprocessor
            if isinstance(layer, Layer) and layer.built:
                slots += [(layer, spec.attr) for spec in layer.weight_specs()]
        return slots

    def weight_specs(self) -> list[Weight]:
        return [Weight(f"{getattr(owner, 'name', 'fill')}/{attr}", tuple(np.shape(getattr(owner, attr))), False)
                for owner, attr in self._slots()]

    @property
    def trainable_weights(self) -> list[Array]:
        return []

    @property
    def non_trainable_weights(self) -> list[Array]:
        return [getattr(owner, attr) for owner, attr in self._slots()]

    def get_weights(self) -> list[Array]:
        return [np.array(getattr(owner, attr), copy=True) for owner, attr in self._slots()]

    def set_weights(self, weights) -> None:
        slots = self._slots()
        weights = list(weights)
        if len(weights) != len(slots):
            raise LearnloopError(f"FeatureSpace '{self.name}' expects {len(slots)} weight arrays; got {len(weights)}.")
        for (owner, attr), value in zip(slots, weights):
            current = getattr(owner, attr)
            value = np.asarray(value)
            if value.shape != np.shape(current) or value.dtype.kind not in "fiu" or not np.all(np.isfinite(value)):
                raise LearnloopError(f"FeatureSpace '{self.name}' weight {attr!r} needs finite numbers of shape "
                                     f"{np.shape(current)}; got {value.dtype} of shape {value.shape}.")
            current[...] = value
        self._row_plan = None

    def count_params(self) -> int:
        return int(sum(np.size(getattr(owner, attr)) for owner, attr in self._slots()))

    # ---- config --------------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "output_mode": self.output_mode,
                "features": {n: f.get_config() for n, f in self.features.items()},
                "crosses": [c.get_config() for c in self.crosses], "crossing_dim": self.crossing_dim,
                "hashing_dim": self.hashing_dim, "num_discretization_bins": self.num_discretization_bins,
                "adapted": self._is_adapted}

    def __repr__(self) -> str:
        return f"<FeatureSpace name={self.name}, features={len(self.features)}, adapted={self._is_adapted}>"


def _sub(name: str | None, kind: str) -> str | None:
    return None if name is None else f"{name}_preprocessor"


def _fixed(layer) -> bool:
    """A preprocessor given its statistics or boundaries up front is not adapted again (as in Keras)."""
    if getattr(layer, "_init_mean", None) is not None:
        return True
    return type(layer).__name__ == "Discretization" and getattr(layer, "num_bins", None) is None


def _array(values) -> Array:
    return values if isinstance(values, np.ndarray) else np.asarray(values)


def _one_hot(idx: Array, depth: int, dtype) -> Array:
    out = np.zeros((idx.shape[0], depth), dtype=dtype)
    out[np.arange(idx.shape[0]), idx] = 1
    return out
