"""What the server reads from a model: the task from the compiled loss, probabilities, classes, versions."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import learnloop
from learnloop import Input, Sequential
from learnloop.layers import Dense
from learnloop.serving.errors import APIError
from learnloop.serving.registry import ModelRegistry, file_version


def _save(tmp_path, layers, loss, name="m.llm", metadata=None):
    model = Sequential([Input((3,)), *layers])
    model.compile(optimizer="sgd", loss=loss)
    model.metadata.update(metadata or {})
    path = tmp_path / name
    model.save(path)
    return path, model


X = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -2.0]], dtype=np.float32)


def test_binary_logits_become_sigmoid_probabilities_with_named_classes(tmp_path):
    path, model = _save(tmp_path, [Dense(1)], learnloop.losses.BinaryCrossentropy(from_logits=True),
                        metadata={"classes": ["no", "yes"]})
    served = ModelRegistry().add("b", path)
    assert (served.task, served.from_logits, served.classes) == ("binary", True, ["no", "yes"])
    index, probs = served.outputs(X)
    p1 = 1 / (1 + np.exp(-model.predict(X).ravel()))
    assert_allclose(probs[:, 1], p1, rtol=1e-5)
    assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    assert served.labels(index) == ["yes" if p > 0.5 else "no" for p in p1]


def test_probability_outputs_are_used_as_they_are(tmp_path):
    path, model = _save(tmp_path, [Dense(4, activation="softmax")], "categorical_crossentropy")
    served = ModelRegistry().add("c", path)
    assert (served.task, served.from_logits, served.classes) == ("multiclass", False, [0, 1, 2, 3])
    index, probs = served.outputs(X)
    assert_allclose(probs, model.predict(X), rtol=1e-6)
    assert index.tolist() == model.predict(X).argmax(axis=1).tolist()


def test_a_regressor_returns_values(tmp_path):
    path, model = _save(tmp_path, [Dense(2)], "mse")
    served = ModelRegistry().add("r", path)
    assert (served.task, served.classes) == ("regression", None)
    values, probs = served.outputs(X)
    assert probs is None
    assert_allclose(values, model.predict(X), rtol=1e-6)


def test_an_uncompiled_softmax_model_is_a_classifier(tmp_path):
    model = Sequential([Input((3,)), Dense(3, activation="softmax")])
    path = tmp_path / "u.llm"
    model.save(path)
    served = ModelRegistry().add("u", path)
    assert served.task == "multiclass" and served.loss is None


def test_non_finite_outputs_are_a_422(tmp_path):
    path, model = _save(tmp_path, [Dense(2)], learnloop.losses.CategoricalCrossentropy(from_logits=True))
    model.layers[0].kernel[...] = 1e38
    model.save(path)
    served = ModelRegistry().add("n", path)
    with pytest.raises(APIError, match=r"instances\[0\]: the model's output is not finite") as info:
        served.outputs(np.full((1, 3), 1e3, dtype=np.float32))
    assert info.value.status == 422


def test_versions_are_content_hashes_and_unknown_names_are_404(tmp_path):
    path, _ = _save(tmp_path, [Dense(1)], "mse")
    copy = tmp_path / "copy.llm"
    copy.write_bytes(path.read_bytes())
    registry = ModelRegistry()
    assert registry.add("a", path).version == file_version(copy) and len(file_version(copy)) == 16
    with pytest.raises(APIError, match=r"Unknown model 'b'; this server serves \['a'\]") as info:
        registry.get("b")
    assert info.value.status == 404
