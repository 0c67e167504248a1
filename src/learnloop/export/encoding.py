"""The FeatureSpace's encoding as JSON, for a runtime that reproduces it ahead of an exported numeric core.

``to_onnx(model, "model.onnx", numeric_core=True)`` (``learnloop export MODEL --numeric-core``) writes the network
alone, taking the encoded float vector, and ``model.encoding.json`` beside it:

- ``feature_names_out``: the encoded vector's columns in order (``feature_space.get_feature_names_out()``);
- ``columns``: the raw columns read, sorted by name, which is also the order of the features' blocks;
- ``features``: per column its dtype, ``impute``, the imputed ``fill_value`` (the training median of a number),
  the text format ``parse`` of a number that may arrive as text,
  whether a missing-indicator column follows, the ``output_mode`` and the ``slice`` [start, stop) of its block in
  the encoded vector, the preprocessor's class and config (vocabularies with their special tokens first, bin
  boundaries, scale and offset) and, where the layer has statistics, the values it computes with
  (``mean`` and ``std`` of a Normalization: ``(x - mean) / std`` in float32);
- ``crosses``: hashed crosses after the features, with the hashing they use;
- ``steps``: the order of operations, in words.

Only the standard library and NumPy are used, so the description is written without onnx installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from learnloop.layers._features import MISSING_TOKEN

FORMAT = "learnloop.feature_space.encoding/1"
STEPS = [
    "Read each column: numbers as float (integer columns as integers), text as strings; numbers given for a text "
    "column become their text ('3', not '3.0'). A number feature with 'parse' also takes text: kind 'number' "
    "removes currency symbols, spaces and '%', reads parentheses as a minus sign, drops the 'thousands' separator "
    "and reads 'decimal' as the decimal point; kind 'date' is the days since 1970-01-01 of the text read in "
    "'format' (a strptime format, or 'iso' for YYYY-MM-DD[ HH:MM[:SS[.f]]]).",
    "Missing values (None, NaN): a feature with impute=false refuses them; a number with impute=true becomes "
    "fill_value, and when indicator is true a 0/1 column (1 = was missing) follows the feature's block; text with "
    f"impute=true becomes the category {MISSING_TOKEN!r}; a missing integer is read as 0.",
    "Apply the preprocessor in float32: Rescaling x * scale + offset; Normalization (x - mean) / std; "
    "Discretization the number of bin_boundaries <= x (NaN: the last bin); StringLookup/IntegerLookup the index of "
    "the value in vocabulary (special tokens first), an unseen value the OOV index (num_oov_indices > 1: a hash "
    "bucket, see the layer's config); Hashing a FarmHash Fingerprint64 bucket (see the layer's config).",
    "Encode: output_mode 'float' keeps the value (an index as a float); 'one_hot' gives one column per index.",
    "Concatenate the blocks in the order of 'columns', then the crosses.",
]


def encoding_path(onnx_path) -> Path:
    """Where the encoding of ``model.onnx`` is written: ``model.encoding.json`` beside it."""
    path = Path(onnx_path)
    return path.with_name(path.stem + ".encoding.json")


def describe_encoding(space) -> dict:
    """A JSON-ready description of how ``space`` turns raw columns into the encoded float vector."""
    from learnloop.saving import layer_to_config

    names = space.get_feature_names_out()
    features, start = {}, 0
    for name in space.column_names:
        feature = space.features[name]
        layer = feature.preprocessor
        entry = {"dtype": feature.dtype, "impute": feature.impute, "output_mode": feature.output_mode,
                 "indicator": feature.indicator, "slice": [start, start + feature.width],
                 "preprocessor": _jsonable(layer_to_config(layer))}
        if feature.impute and feature.dtype == "float32":
            entry["fill_value"] = float(feature.fill_value[0])
        if feature.parse is not None:
            entry["parse"] = dict(feature.parse)
        if feature.output_mode == "one_hot":
            entry["depth"] = int(feature.cardinality)
        if type(layer).__name__ == "Normalization":
            from learnloop.layers.normalization import _EPSILON

            entry["mean"] = np.asarray(layer.mean, dtype=np.float32).reshape(-1).tolist()
            entry["variance"] = np.asarray(layer.variance, dtype=np.float32).reshape(-1).tolist()
            entry["std"] = np.maximum(np.sqrt(np.asarray(layer.variance)), _EPSILON).astype(np.float32) \
                .reshape(-1).tolist()
        features[name] = entry
        start += feature.width
    crosses = []
    for cross in sorted(space.crosses, key=lambda c: c.name):
        width = cross.crossing_dim if cross.output_mode == "one_hot" else 1
        crosser = space.crossers.get(cross.name)
        crosses.append({"name": cross.name, "feature_names": list(cross.feature_names),
                        "crossing_dim": cross.crossing_dim, "output_mode": cross.output_mode,
                        "slice": [start, start + width],
                        "layer": _jsonable(layer_to_config(crosser)) if crosser is not None else None,
                        "inputs": "the integer indices of the crossed features, before one-hot encoding"})
        start += width
    assert start == len(names), (start, len(names))
    return {"format": FORMAT, "feature_space": space.name, "columns": list(space.column_names),
            "feature_names_out": names, "width": len(names), "missing_token": MISSING_TOKEN,
            "features": features, "crosses": crosses, "steps": STEPS}


def write_encoding(space, path) -> Path:
    """Write :func:`describe_encoding` of ``space`` to ``path`` as JSON, atomically."""
    from learnloop.saving import atomic_write

    path = Path(path)
    with atomic_write(path, "w") as f:
        json.dump(describe_encoding(space), f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    return path


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value
