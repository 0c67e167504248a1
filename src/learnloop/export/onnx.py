"""ONNX export: a learnloop model as an ONNX graph that onnxruntime (or any ONNX runtime) computes the same way.

The graph takes ``input`` (float32, batch axis dynamic, the rest as the model was built) and gives ``output``,
exactly what ``model.predict`` returns (logits stay logits). Weights are float32 initializers. Convolutions and
pooling run in ONNX's channels-first layout; the graph transposes only where the layout changes, so a stack of
conv/pool layers is wrapped by one transpose in and one out. One converter per layer family sits in
:mod:`learnloop.export.onnx_layers`.

A model that starts with a FeatureSpace exports as one graph taking the raw columns (one input per column, shape
(batch, 1)): the feature pipeline in ONNX-ML operators (:mod:`learnloop.export.onnx_features`, which also says how
missing and unseen values are written) feeds the network. ``numeric_core=True`` exports the network alone, taking
the encoded float vector, and :mod:`learnloop.export.encoding` describes the encoding as JSON beside it.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from learnloop.errors import LearnloopError, NotFittedError
from learnloop.export import onnx_layers
from learnloop.layers.input_layer import InputLayer

MIN_OPSET = 13   # Softmax along one axis (axis=-1 of any rank) needs opset 13


class GraphBuilder:
    """Accumulates nodes and initializers while walking the layers; tracks the current tensor and its layout.

    ``shape`` is always the learnloop (channels-last) shape of the current tensor, batch axis ``None``; when
    ``channels_first`` is set, the ONNX tensor holds the same values with the channel axis moved to position 1.
    """

    def __init__(self, input_shape: tuple, opset: int):
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.tensor = "input"
        self.shape = tuple(input_shape)
        self.channels_first = False
        self._used: Counter = Counter()

    def fresh(self, hint: str) -> str:
        self._used[hint] += 1
        n = self._used[hint]
        return hint if n == 1 else f"{hint}_{n - 1}"

    def const(self, hint: str, value, dtype=np.float32) -> str:
        """Add ``value`` as an initializer (float32 unless ``dtype``) and return its name."""
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, **attrs) -> str:
        """Append one node; returns the name of its output."""
        out = self.fresh(hint)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def apply(self, op: str, hint: str, *extra_inputs: str, **attrs) -> str:
        """Append ``op(current tensor, *extra_inputs)`` and make its output the current tensor."""
        self.tensor = self.node(op, [self.tensor, *extra_inputs], hint, **attrs)
        return self.tensor

    def nchw(self, hint: str) -> None:
        """Move the channel axis to position 1 (ONNX's Conv/Pool layout), unless it is there already."""
        rank = len(self.shape)
        if not self.channels_first and rank >= 3:
            self.apply("Transpose", f"{hint}/to_channels_first", perm=[0, rank - 1, *range(1, rank - 1)])
            self.channels_first = True

    def nhwc(self, hint: str) -> None:
        """Move the channel axis back last (learnloop's layout), if it was moved."""
        rank = len(self.shape)
        if self.channels_first:
            self.apply("Transpose", f"{hint}/to_channels_last", perm=[0, *range(2, rank), 1])
        self.channels_first = False


def model_layers(model) -> list:
    """The computing layers of a Sequential, a list of layers or one layer (InputLayers dropped)."""
    if hasattr(model, "layers") and not isinstance(model, (list, tuple)):
        layers = list(model.layers)
    elif isinstance(model, (list, tuple)):
        layers = list(model)
    else:
        layers = [model]
    layers = [layer for layer in layers if not isinstance(layer, InputLayer)]
    if not layers:
        raise LearnloopError("to_onnx needs a model with at least one layer; got none.")
    return layers


def _input_shape(model, layers) -> tuple:
    shape = None
    try:
        shape = tuple(model.input_shape) if hasattr(model, "layers") else tuple(layers[0].input_shape)
    except (NotFittedError, AttributeError):
        pass
    if shape is None or not all(layer.built for layer in layers):
        raise NotFittedError("to_onnx needs a built model: give it an Input(...), call build(input_shape), or fit "
                             "or predict once first.")
    return (None,) + shape[1:]


def _check_opset(opset) -> int:
    latest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or not MIN_OPSET <= opset <= latest:
        raise LearnloopError(f"to_onnx supports opset {MIN_OPSET} to {latest} (this onnx package); got {opset!r}.")
    return int(opset)


def _value_info(name: str, shape: tuple) -> onnx.ValueInfoProto:
    dims = ["batch" if i == 0 else (d if d is not None else f"{name}_dim{i}") for i, d in enumerate(shape)]
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def _from_logits(model) -> bool:
    return bool(getattr(getattr(model, "loss", None), "from_logits", False))


def _describe(model, layers) -> str:
    name = getattr(model, "name", None) or "layers"
    text = f"learnloop model '{name}': {' -> '.join(type(layer).__name__ for layer in layers)}."
    if _from_logits(model):
        text += " The output is logits (the loss was from_logits=True): apply sigmoid/softmax for probabilities."
    return text


def build_graph(model, opset: int = 17, numeric_core: bool = False) -> onnx.ModelProto:
    """The ONNX model of ``model`` (not written, not checked); see :func:`to_onnx` for ``numeric_core``."""
    opset = _check_opset(opset)
    space = getattr(model, "feature_space", None)
    if numeric_core and space is None:
        raise LearnloopError("numeric_core=True exports the network behind a FeatureSpace; this model has no "
                             "FeatureSpace (it takes arrays already), so export it without numeric_core.")
    if space is not None:
        return _table_graph(model, space, opset, numeric_core)
    layers = model_layers(model)
    builder = GraphBuilder(_input_shape(model, layers), opset)
    input_info = _value_info("input", builder.shape)
    _network(builder, layers)
    metadata = {"learnloop.layers": ",".join(layer.name for layer in layers),
                "learnloop.from_logits": str(_from_logits(model)).lower()}
    saved = getattr(model, "metadata", None)
    feature_names = saved.get("feature_names") if isinstance(saved, dict) else None
    if feature_names:
        metadata["learnloop.feature_names"] = ",".join(map(str, feature_names))
    return _finish(model, builder, [input_info], _describe(model, layers), metadata, [])


def _network(builder: GraphBuilder, layers) -> None:
    """Convert ``layers`` from the builder's current tensor and name the last tensor "output"."""
    for layer in layers:
        convert = onnx_layers.converter_for(layer)
        out_shape = tuple(layer.compute_output_shape(builder.shape))
        convert(builder, layer)
        builder.shape = out_shape
    builder.nhwc("output")
    if builder.nodes and builder.nodes[-1].output[0] == builder.tensor:
        builder.nodes[-1].output[0] = "output"
    else:
        builder.node("Identity", [builder.tensor], "output")


def _finish(model, builder: GraphBuilder, inputs: list, doc: str, metadata: dict, extra_opsets: list):
    from learnloop import __version__

    graph = helper.make_graph(builder.nodes, getattr(model, "name", None) or "learnloop", inputs,
                              [_value_info("output", builder.shape)], initializer=builder.initializers)
    opsets = [helper.make_opsetid("", builder.opset), *extra_opsets]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="learnloop", producer_version=__version__,
                              doc_string=doc)
    proto.ir_version = helper.find_min_ir_version_for(opsets)   # the oldest IR that holds this opset: widest reach
    helper.set_model_props(proto, metadata)
    return proto


def _network_layers(model) -> list:
    """The layers after the FeatureSpace, which must be the model's only preprocessing stage."""
    extra = [layer for layer in model.preprocessing_layers if layer is not model.feature_space]
    if extra:
        raise LearnloopError(f"ONNX export converts a FeatureSpace as the model's preprocessing; this model also "
                             f"starts with {[f'{type(x).__name__} {x.name!r}' for x in extra]}.")
    layers = [layer for layer in model.layers[len(model.preprocessing_layers):] if not isinstance(layer, InputLayer)]
    if not layers or not all(layer.built for layer in layers):
        raise NotFittedError("to_onnx needs a built model: fit or predict once on the FeatureSpace's columns first.")
    return layers


def output_meaning(model, layers=None) -> str:
    """"logits" (a from_logits loss), "probabilities" (a sigmoid/softmax output) or "values"."""
    if _from_logits(model):
        return "logits"
    layers = model_layers(model) if layers is None else layers
    last = layers[-1]
    name = type(last).__name__.lower()
    fn = getattr(last, "activation", None)
    if fn is not None:
        from learnloop import activations

        name = activations.serialize(fn) if callable(fn) else str(fn)
    return "probabilities" if name in ("sigmoid", "softmax") else "values"


def _table_graph(model, space, opset: int, numeric_core: bool) -> onnx.ModelProto:
    from learnloop.export import onnx_features

    if not space.adapted:
        raise NotFittedError(f"to_onnx: FeatureSpace '{space.name}' is not adapted yet; adapt and fit it first.")
    layers = _network_layers(model)
    width = len(space.get_feature_names_out())
    builder = GraphBuilder((None, width), opset)
    meaning = output_meaning(model, layers)
    metadata = {"learnloop.layers": ",".join(layer.name for layer in layers),
                "learnloop.from_logits": str(_from_logits(model)).lower(),
                "learnloop.output": meaning,
                "learnloop.encoded_features": json.dumps(space.get_feature_names_out())}
    classes = model.metadata.get("classes") if isinstance(getattr(model, "metadata", None), dict) else None
    if classes is not None:
        metadata["learnloop.classes"] = json.dumps(_jsonable(classes))
    if numeric_core:
        inputs = [_value_info("input", builder.shape)]
        doc = (f"{_describe(model, layers)} The input is the encoded float vector of FeatureSpace '{space.name}' "
               f"({width} columns, named in learnloop.encoded_features); the encoding is described in the JSON file "
               f"written beside this one.")
        metadata["learnloop.input"] = "encoded"
        extra_opsets = []
    else:
        inputs = onnx_features.graph_inputs(space)
        builder.tensor = onnx_features.encode(builder, space)
        types, missing = onnx_features.input_types(space), onnx_features.missing_values(space)
        metadata["learnloop.inputs"] = json.dumps({n: {"type": types[n], "shape": ["batch", 1], "missing": missing[n]}
                                                   for n in space.column_names})
        metadata["learnloop.input"] = "raw"
        doc = (f"{_describe(model, layers)} Inputs: the raw columns {space.column_names}, each (batch, 1): "
               f"tensor(float) numbers (NaN = missing), tensor(string) text ({onnx_features.MISSING_TEXT!r} = "
               f"missing), tensor(int64) integers. The FeatureSpace '{space.name}' runs inside the graph.")
        extra_opsets = [helper.make_opsetid(onnx_features.ML_DOMAIN, onnx_features.ML_OPSET)]
    _network(builder, layers)
    return _finish(model, builder, inputs, doc, metadata, extra_opsets)


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def to_onnx(model, path=None, opset: int = 17, numeric_core: bool = False) -> onnx.ModelProto:
    """Export ``model`` to ONNX, check it, and write it atomically to ``path`` when given.

    Args:
        model: a built learnloop ``Sequential`` (or a list of built layers).
        path: where to write the ``.onnx`` file; ``None`` only returns the model.
        opset: the ONNX operator set (13 or later; 20+ uses ONNX's own Gelu).
        numeric_core: for a model that starts with a FeatureSpace: export only the network, taking the encoded
            float vector "input" (batch, d), and write the encoding as JSON beside ``path``
            (``model.onnx`` -> ``model.encoding.json``, see :mod:`learnloop.export.encoding`).

    Returns:
        The ``onnx.ModelProto``; its output "output" is what ``model.predict`` returns. Its input is "input"
        (batch, ...) float32, or for a model starting with a FeatureSpace one input per raw column (see
        :mod:`learnloop.export.onnx_features`).
    """
    proto = build_graph(model, opset, numeric_core)
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        write_atomic(proto, path)
        if numeric_core:
            from learnloop.export.encoding import encoding_path, write_encoding

            write_encoding(model.feature_space, encoding_path(path))
    return proto


def write_atomic(proto: onnx.ModelProto, path) -> Path:
    """Serialize ``proto`` to a temporary file beside ``path`` and rename it into place."""
    from learnloop.saving import atomic_write

    path = Path(path)
    if path.is_dir():
        raise LearnloopError(f"to_onnx path {path} is a folder; give a file name such as {path / 'model.onnx'}.")
    with atomic_write(path) as f:
        f.write(proto.SerializeToString())
    return path


def run_onnx(proto_or_path, x) -> np.ndarray:
    """Outputs of the exported graph on onnxruntime's CPU provider.

    ``x`` is an array (samples, ...) for a graph taking "input", or raw columns (a dict of columns, a DataFrame, a
    pyarrow Table) for a graph that takes them, with missing values as ``predict`` takes them (None, NaN).
    """
    try:
        import onnxruntime as ort
    except ModuleNotFoundError:
        raise LearnloopError("Running an ONNX model needs onnxruntime: pip install 'learnloop[onnx]'.") from None
    source = proto_or_path.SerializeToString() if isinstance(proto_or_path, onnx.ModelProto) else \
        os.fspath(proto_or_path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    if isinstance(x, np.ndarray) or not _is_table(x):
        return session.run(["output"], {"input": np.ascontiguousarray(x, dtype=np.float32)})[0]
    return session.run(["output"], _column_feeds(session, x))[0]


def _is_table(x) -> bool:
    return isinstance(x, Mapping) or type(x).__module__.split(".")[0] in ("pandas", "pyarrow") or \
        (isinstance(x, (list, tuple)) and bool(x) and isinstance(x[0], Mapping))


_ORT_TYPES = {"tensor(float)": "float32", "tensor(string)": "string", "tensor(int64)": "int32"}


def _column_feeds(session, x) -> dict:
    """The session's raw-column inputs read from ``x`` the way the exported FeatureSpace writes them."""
    from learnloop.export.onnx_features import feeds

    dtypes = {}
    for graph_input in session.get_inputs():
        if graph_input.type not in _ORT_TYPES:
            raise LearnloopError(f"run_onnx: graph input {graph_input.name!r} has type {graph_input.type}; a graph "
                                 f"taking raw columns has inputs of types {sorted(_ORT_TYPES)}.")
        dtypes[graph_input.name] = _ORT_TYPES[graph_input.type]
    return feeds(dtypes, x)


def max_abs_difference(model, proto_or_path, x) -> float:
    """Largest |onnxruntime output - model.predict| over ``x`` (an array, or raw columns): the export's check."""
    expected = np.asarray(model.predict(x, verbose=0) if hasattr(model, "predict") else _forward(model, x))
    got = run_onnx(proto_or_path, x)
    if got.shape != expected.shape:
        raise LearnloopError(f"The ONNX model gives outputs of shape {got.shape}; the model gives {expected.shape}.")
    return float(np.max(np.abs(got.astype(np.float64) - expected))) if got.size else 0.0


def _forward(layers, x) -> np.ndarray:
    out = np.asarray(x, dtype=np.float32)
    for layer in model_layers(layers):
        out = layer(out, training=False)
    return out
