"""A FeatureSpace in ONNX-ML: the raw columns become the network's float input inside the exported graph.

Graph inputs: one per raw column the FeatureSpace reads (sorted by name), shape (batch, 1): ``tensor(float)`` for
numeric features, ``tensor(string)`` for text features, ``tensor(int64)`` for integer features.

How values are represented:

- a missing number is NaN; a feature built with ``impute=True`` replaces it with the training median (and sets its
  missing-indicator column when training had gaps), as ``predict`` does with NaN or ``None``;
- a missing text value is the empty string ``""``: a feature built with ``impute=True`` maps it to its
  ``"[MISSING]"`` category, as ``predict`` does with ``None`` or NaN (so such a feature cannot also have ``""`` as
  a learned category; the export refuses that case);
- an integer column cannot hold NaN: a missing integer is written as ``MISSING_INT`` (the smallest int64), which no
  vocabulary holds, so it takes the out-of-vocabulary index, as ``predict`` does with ``None`` or NaN;
- an unseen text or integer value takes the out-of-vocabulary index, as in ``predict``; with
  ``num_oov_indices=0`` (``predict`` refuses unseen values) it sets no column of the one-hot block.

Per feature, in ONNX (domain ``ai.onnx.ml`` where marked):

- number: ``Imputer`` (ml; NaN -> median) when it imputes, ``IsNaN`` -> ``Cast`` for the indicator; then
  Rescaling as ``Mul``/``Add``, Normalization as ``Sub``/``Div`` (bit-exact with the layer: the same float32
  statistics), Discretization as ``Less`` against the boundaries, ``Not``, ``Cast``, ``ReduceSum``: the bin index
  (NaN goes to the last bin, as ``np.digitize``);
- text or integer: ``LabelEncoder`` (ml) from each vocabulary term to its index, the OOV index as default;
- an index becomes a one-hot block by ``Equal`` against ``0..depth-1`` and ``Cast`` (faster in onnxruntime than
  ``OneHot`` followed by a reshape, and exact), or a float column with output_mode="float";
- the blocks are joined by one ``Concat`` in the FeatureSpace's order (sorted names) into the network's input.

Not expressible in ONNX-ML, so refused with the feature named: Hashing (FarmHash / SipHash), numbers read from text
(``parse``), HashedCrossing crosses, lookups with ``num_oov_indices > 1`` (their OOV values are hashed into buckets),
lookups whose own output_mode is not "int" (multi_hot, count, tf_idf) and preprocessors this module does not know.
For those, export the numeric core (``to_onnx(model, numeric_core=True)``): the network alone, with the encoding
written beside it as JSON. """

from __future__ import annotations

import math

import numpy as np
from onnx import TensorProto, helper

from learnloop.errors import LearnloopError
from learnloop.layers._features import MISSING_TOKEN, READERS
from learnloop.layers.normalization import _EPSILON

ML_DOMAIN = "ai.onnx.ml"
ML_OPSET = 3                   # LabelEncoder-2 (string and int64 keys), Imputer-1
MISSING_TEXT = ""              # how a missing text value is written in the graph's string inputs
MISSING_INT = int(np.iinfo(np.int64).min)   # how a missing integer is written in the graph's int64 inputs
_ELEM = {"float32": TensorProto.FLOAT, "string": TensorProto.STRING, "int32": TensorProto.INT64}
INPUT_TYPES = {"float32": "float", "string": "string", "int32": "int64"}
_NUMERIC = ("Rescaling", "Normalization", "Discretization")
_LOOKUPS = {"string": "StringLookup", "int32": "IntegerLookup"}


def _class_name(layer, known) -> str | None:
    """The first of ``known`` among the class names of ``layer``'s type and its bases."""
    for cls in type(layer).__mro__:
        if cls.__name__ in known:
            return cls.__name__
    return None


def _refuse(what: str, reason: str) -> LearnloopError:
    return LearnloopError(
        f"ONNX export cannot express {what}: {reason}. Export the numeric core instead: `learnloop export MODEL "
        f"--numeric-core` (or to_onnx(model, numeric_core=True)) writes the network alone, taking the encoded float "
        f"vector, and a JSON description of the encoding beside it for another runtime to reproduce.")


def check_expressible(space) -> None:
    """Raise a LearnloopError naming the first feature (or cross) of ``space`` that ONNX-ML cannot express."""
    if space.output_mode != "concat":
        raise LearnloopError(f"ONNX export needs FeatureSpace '{space.name}' with output_mode='concat' (one float "
                             f"matrix for the network); got output_mode={space.output_mode!r}.")
    if "output" in space.column_names:
        raise LearnloopError("ONNX export names the graph's output 'output', and FeatureSpace "
                             f"'{space.name}' reads a column of that name; rename the column to export.")
    for name in space.column_names:
        feature = space.features[name]
        layer = feature.preprocessor
        what = f"feature {name!r} ({type(layer).__name__} '{getattr(layer, 'name', '?')}')"
        lookup = _class_name(layer, ("StringLookup", "IntegerLookup"))
        if _class_name(layer, ("Hashing",)):
            raise _refuse(what, "ONNX-ML has no FarmHash/SipHash to compute its hashed bins")
        if getattr(feature, "parse", None) is not None:
            raise _refuse(what, "it reads numbers written as text ('$1,234.50', '12%', dates), which ONNX-ML "
                                "cannot parse; the graph would need the numbers themselves")
        if lookup is not None:
            if lookup != _LOOKUPS.get(feature.dtype):
                raise _refuse(what, f"a {feature.dtype} feature is looked up with {_LOOKUPS.get(feature.dtype)}")
            if layer.num_oov_indices > 1:
                raise _refuse(what, f"num_oov_indices={layer.num_oov_indices} hashes unseen values into OOV "
                                    f"buckets, which ONNX-ML cannot compute")
            if layer.output_mode != "int" or layer.invert or layer.pad_to_max_tokens:
                raise _refuse(what, f"the export encodes lookups in output_mode='int' (the FeatureSpace builds the "
                                    f"one-hot block); got output_mode={layer.output_mode!r}"
                                    + (", invert=True" if layer.invert else "")
                                    + (", pad_to_max_tokens=True" if layer.pad_to_max_tokens else ""))
            if feature.dtype == "string" and feature.impute and MISSING_TEXT in layer.get_vocabulary():
                raise _refuse(what, f"it imputes, and the graph writes missing text as {MISSING_TEXT!r}, which is "
                                    f"also a learned category here")
        elif _class_name(layer, _NUMERIC) is not None and feature.dtype == "float32":
            if _class_name(layer, ("Discretization",)) and layer.output_mode != "int":
                raise _refuse(what, f"the export encodes Discretization in output_mode='int' (the FeatureSpace "
                                    f"builds the one-hot block); got output_mode={layer.output_mode!r}")
        else:
            raise _refuse(what, f"the export converts {sorted(_NUMERIC)} on numeric features, StringLookup on text "
                                f"features and IntegerLookup on integer features")
        if feature.output_mode == "int":
            raise _refuse(what, "output_mode='int' gives an integer index, which a concatenated FeatureSpace "
                                "cannot carry (predict refuses it too)")
    for cross in space.crosses:
        raise _refuse(f"cross {cross.name!r} (HashedCrossing of {list(cross.feature_names)})",
                      "ONNX-ML has no FarmHash to compute the crossed bins")


def input_types(space) -> dict[str, str]:
    """Column name -> the ONNX element type of its graph input ("float", "string" or "int64")."""
    return {name: INPUT_TYPES[space.features[name].dtype] for name in space.column_names}


def missing_values(space) -> dict[str, str | int | None]:
    """Column name -> the value that stands for "missing" in its graph input: "NaN" for numbers, ``MISSING_TEXT``
    for text, ``MISSING_INT`` for integers; None where the feature does not impute."""
    written = {"float32": "NaN", "string": MISSING_TEXT, "int32": MISSING_INT}
    return {name: written[space.features[name].dtype] if space.features[name].impute else None
            for name in space.column_names}


def graph_inputs(space) -> list:
    return [helper.make_tensor_value_info(name, _ELEM[space.features[name].dtype], ["batch", 1])
            for name in space.column_names]


def encode(b, space) -> str:
    """Append the FeatureSpace's nodes to the builder ``b``; returns the (batch, d) float tensor's name."""
    check_expressible(space)
    for name in [*space.column_names, "output", "input"]:
        b.fresh(name)                             # reserved: node outputs never take a graph input's name
    blocks = []
    for name in space.column_names:
        feature = space.features[name]
        if _class_name(feature.preprocessor, _NUMERIC):
            blocks += _number(b, name, feature)
        else:
            blocks.append(_encoded(b, name, feature, _lookup(b, name, feature)))
    if len(blocks) == 1:
        return blocks[0]
    return b.node("Concat", blocks, "feature_space/Concat", axis=1)


# ---- numbers ---------------------------------------------------------------------------------------------------
def _number(b, name: str, feature) -> list[str]:
    x = value = name
    if feature.impute:
        fill = float(np.float32(feature.fill_value[0]))
        value = b.node("Imputer", [x], f"{name}/Imputer", domain=ML_DOMAIN, imputed_value_floats=[fill],
                       replaced_value_float=math.nan)
    layer = feature.preprocessor
    kind = _class_name(layer, _NUMERIC)
    if kind == "Rescaling":
        value = _rescaling(b, name, layer, value)
    elif kind == "Normalization":
        value = _normalization(b, name, layer, value)
    else:
        value = _encoded(b, name, feature, _discretization(b, name, layer, value))
    blocks = [value]
    if feature.indicator:
        isnan = b.node("IsNaN", [x], f"{name}/IsNaN")
        blocks.append(b.node("Cast", [isnan], f"{name}/missing", to=TensorProto.FLOAT))
    return blocks


def _rescaling(b, name: str, layer, x: str) -> str:
    scale, offset = np.asarray(layer.scale, np.float32), np.asarray(layer.offset, np.float32)
    if np.all(scale == 1) and np.all(offset == 0):
        return x                                  # FeatureSpace.float(): the value as it is
    x = b.node("Mul", [x, b.const(f"{name}/scale", scale)], f"{name}/Mul")
    return b.node("Add", [x, b.const(f"{name}/offset", offset)], f"{name}/Add")


def _normalization(b, name: str, layer, x: str) -> str:
    # the layer's own float32 arithmetic: mean cast to float32, std = max(sqrt(variance), eps) in float32
    mean = np.asarray(layer.mean).astype(np.float32)
    std = np.maximum(np.sqrt(np.asarray(layer.variance)), _EPSILON).astype(np.float32)
    if layer.invert:
        x = b.node("Mul", [x, b.const(f"{name}/std", std)], f"{name}/Mul")
        return b.node("Add", [x, b.const(f"{name}/mean", mean)], f"{name}/Add")
    x = b.node("Sub", [x, b.const(f"{name}/mean", mean)], f"{name}/Sub")
    return b.node("Div", [x, b.const(f"{name}/std", std)], f"{name}/Div")


def _discretization(b, name: str, layer, x: str) -> str:
    """int64 (batch, 1): how many boundaries are <= x, i.e. ``np.digitize`` (NaN is below none: the last bin)."""
    boundaries = np.asarray(layer.bin_boundaries, dtype=np.float32).reshape(1, -1)
    if boundaries.size == 0:
        return _constant_index(b, name, x, 0)
    below = b.node("Less", [x, b.const(f"{name}/boundaries", boundaries)], f"{name}/Less")
    reached = b.node("Not", [below], f"{name}/Not")
    counted = b.node("Cast", [reached], f"{name}/Cast", to=TensorProto.INT64)
    axes = b.const(f"{name}/axes", [1], dtype=np.int64)
    return b.node("ReduceSum", [counted, axes], f"{name}/bin", keepdims=1)


# ---- vocabularies ----------------------------------------------------------------------------------------------
def _lookup(b, name: str, feature) -> str:
    """int64 (batch, 1): each value's index in the vocabulary, as StringLookup/IntegerLookup in "int" mode."""
    layer = feature.preprocessor
    tokens = list(layer.get_vocabulary(include_special_tokens=False))
    start = layer.vocabulary_size() - len(tokens)
    oov = start - 1 if layer.num_oov_indices == 1 else layer.vocabulary_size()   # no OOV index: no column set
    table = dict(zip(tokens, range(start, start + len(tokens))))
    if layer.mask_token is not None:
        table[layer.mask_token] = 0
    if feature.dtype == "string" and feature.impute:
        table[MISSING_TEXT] = table.get(MISSING_TOKEN, oov)
    if not table:
        return _constant_index(b, name, name, oov)
    keys = "keys_strings" if feature.dtype == "string" else "keys_int64s"
    return b.node("LabelEncoder", [name], f"{name}/LabelEncoder", domain=ML_DOMAIN,
                  **{keys: list(table)}, values_int64s=list(table.values()), default_int64=int(oov))


def _constant_index(b, name: str, x: str, value: int) -> str:
    shape = b.node("Shape", [x], f"{name}/Shape")
    return b.node("ConstantOfShape", [shape], f"{name}/index",
                  value=helper.make_tensor("value", TensorProto.INT64, [1], [int(value)]))


def _encoded(b, name: str, feature, index: str) -> str:
    """The feature's float block from its int64 (batch, 1) index: one-hot (batch, depth) or the index as a float."""
    if feature.output_mode == "one_hot":
        positions = b.const(f"{name}/positions", np.arange(feature.cardinality).reshape(1, -1), dtype=np.int64)
        hot = b.node("Equal", [index, positions], f"{name}/Equal")
        return b.node("Cast", [hot], f"{name}/one_hot", to=TensorProto.FLOAT)
    return b.node("Cast", [index], f"{name}/index_as_float", to=TensorProto.FLOAT)


# ---- raw columns -> graph inputs -------------------------------------------------------------------------------
def feeds(dtypes: dict[str, str], data, where: str = "run_onnx()") -> dict[str, np.ndarray]:
    """The graph inputs for raw ``data`` (dict of columns, DataFrame, Table...), missing values written as above.

    Args:
        dtypes: column name -> its feature dtype ("float32", "string", "int32"), e.g. from :func:`column_dtypes`.
        data: the raw columns, as ``predict`` takes them (None or NaN for missing values).
    """
    from learnloop._columns import as_columns

    columns = as_columns(data, where)
    absent = [name for name in dtypes if name not in columns]
    if absent:
        raise LearnloopError(f"{where}: the data has no column {absent[0]!r}; the graph takes {sorted(dtypes)}, "
                             f"the data has {sorted(columns)}.")
    out = {}
    for name, dtype in dtypes.items():
        values, missing = READERS[dtype](np.asarray(columns[name]), name)
        if dtype == "string":
            values = np.where(missing, MISSING_TEXT, values).astype(object)
        elif dtype == "int32":
            values = np.where(missing, MISSING_INT, values).astype(np.int64)
        else:
            values = values.astype(np.float32)
        out[name] = values.reshape(-1, 1)
    return out


def column_dtypes(space) -> dict[str, str]:
    """Column name -> feature dtype ("float32", "string", "int32"), in the graph's input order."""
    return {name: space.features[name].dtype for name in space.column_names}


def sample_columns(space, n: int = 64, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` raw rows drawn from what the FeatureSpace learned, for checking an export against ``predict``.

    Numbers spread around the training statistics (and exactly on Discretization boundaries); text and integers
    drawn from the vocabularies plus one unseen value; where a feature imputes, some missing values (NaN or None).
    """
    rng = np.random.default_rng(seed)
    columns = {}
    for name in space.column_names:
        feature = space.features[name]
        layer = feature.preprocessor
        if _class_name(layer, ("StringLookup", "IntegerLookup")):
            tokens = [t for t in layer.get_vocabulary(include_special_tokens=False) if t != MISSING_TOKEN]
            unseen = _unseen(tokens, feature.dtype)
            pool = [*tokens, unseen] if tokens else [unseen]
            values = np.empty(n, dtype=object)
            values[:] = [pool[i] for i in rng.integers(0, len(pool), size=n)]
            values[n // 2] = unseen                               # at least one unseen value
            if feature.impute:
                values[rng.random(n) < 0.15] = None
            columns[name] = values if feature.dtype == "string" or feature.impute else values.astype(np.int64)
            continue
        values = _numbers_around(feature, layer, n, rng)
        if feature.impute:
            values[rng.random(n) < 0.15] = np.nan
        columns[name] = values
    return columns


def _unseen(tokens: list, dtype: str):
    if dtype == "string":
        candidate = "<unseen>"
        while candidate in tokens:
            candidate += "!"
        return candidate
    return max((int(t) for t in tokens), default=0) + 1


def _numbers_around(feature, layer, n: int, rng) -> np.ndarray:
    kind = _class_name(layer, _NUMERIC)
    if kind == "Normalization":
        mean = float(np.asarray(layer.mean).reshape(-1)[0])
        std = float(np.sqrt(np.asarray(layer.variance).reshape(-1)[0])) or 1.0
        return rng.normal(mean, 1.5 * std, size=n)
    if kind == "Discretization" and layer.bin_boundaries:
        bounds = np.asarray(layer.bin_boundaries, dtype=np.float64)
        spread = (bounds[-1] - bounds[0]) or 1.0
        values = rng.uniform(bounds[0] - 0.25 * spread, bounds[-1] + 0.25 * spread, size=n)
        k = min(len(bounds), n // 4)
        values[:k] = np.asarray(bounds[:k], dtype=np.float32)  # on a boundary: the upper bin
        return values
    center = float(feature.fill_value[0]) if feature.impute else 0.0
    return rng.normal(center, max(abs(center), 1.0), size=n)
