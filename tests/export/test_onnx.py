"""ONNX export: the checker accepts every graph, and onnxruntime computes what model.predict computes."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from learnloop import Input, LearnloopError, NotFittedError, Sequential, losses  # noqa: E402
from learnloop import layers as L  # noqa: E402
from learnloop.export import to_onnx  # noqa: E402
from learnloop.export.onnx import max_abs_difference, run_onnx  # noqa: E402
from learnloop.layers.base import Layer  # noqa: E402

ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "softplus", "gelu"]
TOL = 1e-5


def _assert_faithful(model, x, opset=17, tmp_path=None):
    proto = to_onnx(model, opset=opset)
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ["input"] and [o.name for o in proto.graph.output] == ["output"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert max_abs_difference(model, proto, x) < TOL
    assert max_abs_difference(model, proto, x[:1]) < TOL            # the batch axis is dynamic
    return proto


@pytest.mark.parametrize("opset", [17, 20])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_with_each_activation_matches_predict(rng, activation, opset):
    model = Sequential([Input((6,)), L.Dense(16, activation=activation), L.Dense(4, activation=activation)])
    x = rng.normal(scale=2.0, size=(32, 6)).astype("float32")
    proto = _assert_faithful(model, x, opset)
    ops = [n.op_type for n in proto.graph.node]
    if activation == "gelu":
        assert ("Gelu" in ops) == (opset >= 20) and ("Erf" in ops) == (opset < 20)


def test_activation_layers_match_predict(rng):
    model = Sequential([Input((5,)), L.Dense(8), L.ReLU(), L.Dense(8), L.LeakyReLU(negative_slope=0.1),
                        L.Dense(8), L.Activation("tanh"), L.Dense(3), L.Softmax()])
    proto = _assert_faithful(model, rng.normal(size=(20, 5)).astype("float32"))
    assert [n.op_type for n in proto.graph.node].count("LeakyRelu") == 1
    assert next(a.f for n in proto.graph.node if n.op_type == "LeakyRelu" for a in n.attribute) == pytest.approx(0.1)


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_matches_predict(rng, invert):
    data = rng.normal(loc=[10.0, -3.0, 0.0, 500.0], scale=[2.0, 0.1, 1.0, 50.0], size=(200, 4))
    norm = L.Normalization(invert=invert)
    norm.adapt(data)
    model = Sequential([Input((4,)), norm, L.Dense(5, activation="relu"), L.Dense(1)])
    proto = _assert_faithful(model, data[:50].astype("float32"))
    assert {"Sub", "Div"} <= {n.op_type for n in proto.graph.node} or invert


def test_normalization_of_a_3d_input_broadcasts_its_statistics(rng):
    norm = L.Normalization(axis=2, mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 0.0])   # a zero variance too
    model = Sequential([Input((2, 3)), norm, L.Flatten(), L.Dense(2)])
    x = rng.normal(size=(10, 2, 3)).astype("float32")
    x[..., 2] = 3.0              # a zero variance comes from a constant feature; off it, outputs reach ~1e7
    _assert_faithful(model, x)


def test_dropout_is_the_identity(rng):
    model = Sequential([Input((6,)), L.Dense(10, activation="relu"), L.Dropout(0.5), L.Dense(2)])
    proto = _assert_faithful(model, rng.normal(size=(16, 6)).astype("float32"))
    assert "Identity" in [n.op_type for n in proto.graph.node]


def test_augmentation_and_noise_layers_are_the_identity_at_inference(rng):
    model = Sequential([Input((8, 8, 1)), L.RandomRotation(0.1), L.RandomZoom(0.1), L.RandomTranslation(0.1, 0.1),
                        L.RandomFlip(), L.GaussianNoise(0.5), L.Conv2D(2, 3), L.Flatten(), L.Dense(2)])
    proto = _assert_faithful(model, rng.normal(size=(4, 8, 8, 1)).astype("float32"))
    assert [n.op_type for n in proto.graph.node].count("Identity") == 5


@pytest.mark.parametrize("scale, offset, high", [(1 / 255, 0.0, 255.0), ([0.5, 2.0], [-1.0, 0.25], 1.0)])
def test_rescaling_is_a_multiply_and_an_add(rng, scale, offset, high):
    model = Sequential([Input((4, 4, 2)), L.Rescaling(scale, offset=offset), L.Conv2D(3, 2), L.Flatten(), L.Dense(2)])
    proto = _assert_faithful(model, rng.uniform(0, high, size=(5, 4, 4, 2)).astype("float32"))
    assert {"Mul", "Add"} <= {n.op_type for n in proto.graph.node}


def test_a_from_logits_output_stays_logits(rng):
    model = Sequential([Input((4,)), L.Dense(8, activation="relu"), L.Dense(1)])
    model.compile(optimizer="adam", loss=losses.BinaryCrossentropy(from_logits=True))
    x = rng.normal(scale=3.0, size=(40, 4)).astype("float32")
    proto = _assert_faithful(model, x)
    out = run_onnx(proto, x)
    assert out.min() < 0 or out.max() > 1                            # logits, not probabilities
    assert "Sigmoid" not in [n.op_type for n in proto.graph.node]
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["learnloop.from_logits"] == "true" and "logits" in proto.doc_string


def test_flatten_and_reshape(rng):
    model = Sequential([Input((4, 3)), L.Reshape((3, -1)), L.Dense(5), L.Flatten(), L.Dense(2, activation="tanh")])
    _assert_faithful(model, rng.normal(size=(9, 4, 3)).astype("float32"))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, padding="valid"),
    dict(kernel_size=4, padding="same", strides=2),
    dict(kernel_size=3, padding="causal", dilation_rate=2),
    dict(kernel_size=2, padding="same", dilation_rate=3, activation="softmax"),
])
def test_conv1d_stacks_match_predict(rng, kwargs):
    model = Sequential([Input((17, 2)), L.Conv1D(4, **kwargs), L.MaxPooling1D(2, padding="same"),
                        L.Conv1D(3, 2, activation="relu"), L.AveragePooling1D(3, strides=1),
                        L.GlobalMaxPooling1D(), L.Dense(2)])
    _assert_faithful(model, rng.normal(size=(8, 17, 2)).astype("float32"))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, padding="same"),
    dict(kernel_size=(2, 3), strides=(2, 1), padding="same"),
    dict(kernel_size=3, dilation_rate=2, padding="valid", activation="gelu"),
])
def test_conv2d_stacks_match_predict(rng, kwargs):
    model = Sequential([Input((9, 11, 3)), L.Conv2D(6, **kwargs), L.MaxPooling2D((3, 2), strides=2, padding="same"),
                        L.Conv2D(4, 2, activation="elu"), L.AveragePooling2D(2, strides=1, padding="same"),
                        L.Flatten(), L.Dense(3, activation="softmax")])
    proto = _assert_faithful(model, rng.normal(size=(5, 9, 11, 3)).astype("float32"))
    assert [n.op_type for n in proto.graph.node].count("Transpose") == 2   # once in, once out of the conv stack


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("pool", ["GlobalAveragePooling2D", "GlobalMaxPooling2D"])
def test_global_pooling_matches_predict(rng, pool, keepdims):
    model = Sequential([Input((6, 5, 2)), L.Conv2D(4, 3, padding="same", activation="relu"),
                        getattr(L, pool)(keepdims=keepdims), L.Dense(3)])
    _assert_faithful(model, rng.normal(size=(7, 6, 5, 2)).astype("float32"))


def test_global_average_pooling_1d_and_reshape_after_a_conv(rng):
    model = Sequential([Input((12, 1)), L.Conv1D(4, 3, activation="tanh"), L.Reshape((5, 8)),
                        L.Conv1D(2, 2), L.GlobalAveragePooling1D(), L.Dense(1, activation="sigmoid")])
    _assert_faithful(model, rng.normal(size=(6, 12, 1)).astype("float32"))


def test_a_float64_model_exports_as_float32(rng):
    model = Sequential([Input((3,), dtype="float64"), L.Dense(4, activation="sigmoid", dtype="float64"),
                        L.Dense(2, dtype="float64")])
    _assert_faithful(model, rng.normal(size=(10, 3)))


def test_a_list_of_built_layers_exports_too(rng):
    dense = L.Dense(3, activation="relu")
    x = rng.normal(size=(4, 5)).astype("float32")
    expected = dense(x)
    assert np.abs(run_onnx(to_onnx([dense]), x) - expected).max() < TOL


def test_the_file_is_written_atomically_and_loads(tmp_path, rng):
    model = Sequential([Input((3,)), L.Dense(2)])
    path = tmp_path / "sub" / "model.onnx"
    path.parent.mkdir()
    path.write_bytes(b"old")
    proto = to_onnx(model, path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.onnx"]      # no temporary file left
    onnx.checker.check_model(str(path))
    assert onnx.load(str(path)) == proto
    x = rng.normal(size=(3, 3)).astype("float32")
    assert np.abs(run_onnx(path, x) - model.predict(x, verbose=0)).max() < TOL


def test_a_folder_path_is_an_error(tmp_path):
    with pytest.raises(LearnloopError, match="is a folder; give a file name"):
        to_onnx(Sequential([Input((3,)), L.Dense(2)]), tmp_path)


def test_an_unsupported_layer_is_named_with_the_supported_ones():
    class Squash(Layer):
        def forward(self, x, *, training=False):
            return x / (1 + abs(x))

    model = Sequential([Input((3,)), L.Dense(2), Squash(name="squash")])
    with pytest.raises(LearnloopError, match=r"does not support layer 'squash' \(Squash\); supported layers: "
                                             r"\['Activation', 'AveragePooling1D'.*'Dense'"):
        to_onnx(model)


def test_an_unbuilt_model_is_an_error():
    with pytest.raises(NotFittedError, match="to_onnx needs a built model"):
        to_onnx(Sequential([L.Dense(2)]))


@pytest.mark.parametrize("opset", [12, 10_000, "17"])
def test_opset_out_of_range_is_an_error(opset):
    with pytest.raises(LearnloopError, match="to_onnx supports opset 13 to"):
        to_onnx(Sequential([Input((3,)), L.Dense(2)]), opset=opset)
