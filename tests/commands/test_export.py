"""``learnloop export``: a saved model becomes an ONNX file that onnxruntime runs like the model."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from learnloop import Input, Sequential, load_model  # noqa: E402
from learnloop import layers as L  # noqa: E402
from learnloop.cli import main  # noqa: E402
from learnloop.export.onnx import run_onnx  # noqa: E402


@pytest.fixture
def saved(tmp_path, rng):
    model = Sequential([Input((8, 8, 1)), L.Conv2D(4, 3, padding="same", activation="relu"), L.MaxPooling2D(),
                        L.Flatten(), L.Dropout(0.2), L.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(rng.normal(size=(32, 8, 8, 1)), rng.integers(0, 10, size=32), epochs=1, verbose=0)
    path = tmp_path / "digits.zip"
    model.save(path)
    return path


def test_export_writes_a_file_that_matches_the_loaded_model(saved, tmp_path, capsys, rng):
    out = tmp_path / "onnx" / "digits.onnx"
    assert main(["export", str(saved), "--format", "onnx", "-o", str(out), "--verify"]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out} (ONNX opset 17" in text and "input 'input' (batch, 8, 8, 1)" in text
    assert "verify: onnxruntime vs learnloop on 16 random inputs" in text and "(ok;" in text
    onnx.checker.check_model(str(out))
    x = rng.normal(size=(5, 8, 8, 1)).astype("float32")
    assert np.abs(run_onnx(out, x) - load_model(saved).predict(x, verbose=0)).max() < 1e-5


def test_default_output_path_and_opset(saved, capsys):
    assert main(["export", str(saved), "--opset", "20"]) == 0
    assert saved.with_suffix(".onnx").is_file()
    assert onnx.load(str(saved.with_suffix(".onnx"))).opset_import[0].version == 20


def test_refuses_to_overwrite_the_model_itself(saved, capsys):
    assert main(["export", str(saved), "-o", str(saved)]) == 2
    assert "would overwrite the model file itself" in capsys.readouterr().err


def test_bad_opset_exits_2(saved, capsys):
    assert main(["export", str(saved), "--opset", "9"]) == 2
    assert "to_onnx supports opset 13 to" in capsys.readouterr().err
