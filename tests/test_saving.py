import io
import json
import zipfile

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import learnloop
from learnloop import Input, Sequential
from learnloop.errors import LearnloopError, ModelFileError
from learnloop.layers import Dense, Dropout, LeakyReLU, Normalization
from learnloop.losses import SparseCategoricalCrossentropy
from learnloop.optimizers import Adam
from learnloop.regularizers import L2


@pytest.fixture
def trained(rng):
    norm = Normalization()
    x = rng.normal(size=(64, 4))
    norm.adapt(x)
    model = Sequential([Input((4,)), norm, Dense(8, activation="relu", kernel_regularizer=L2(0.01), name="hidden"),
                        Dropout(0.1), LeakyReLU(0.2), Dense(3)], name="clf")
    model.compile(optimizer=Adam(0.01), loss=SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, rng.integers(0, 3, size=64), epochs=2, verbose=0)
    return model, x


def test_round_trip_gives_bit_identical_predictions_and_compile_settings(tmp_path, trained):
    model, x = trained
    path = tmp_path / "model.zip"
    model.save(path)
    loaded = learnloop.load_model(path)
    assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.name == "clf" and [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert type(loaded.loss) is SparseCategoricalCrossentropy and loaded.loss.from_logits
    assert loaded.optimizer.learning_rate.numpy() == pytest.approx(0.01)
    assert loaded.get_layer("hidden").kernel_regularizer.l2 == pytest.approx(0.01)
    assert loaded.metrics_names == ["loss"] or loaded._metric_specs == ["accuracy"]
    assert "saved_at" in loaded.metadata
    assert learnloop.models.load_model(path, compile=False).loss is None


def test_saved_file_holds_only_json_and_npz(tmp_path, trained):
    model, _ = trained
    model.save(tmp_path / "m.zip")
    with zipfile.ZipFile(tmp_path / "m.zip") as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "optimizer.npz", "weights.npz"]
        assert json.loads(zf.read("config.json"))["format"] == "learnloop.model"


def test_weights_only_round_trip(tmp_path, trained, rng):
    model, x = trained
    model.save_weights(tmp_path / "w.npz")
    other = Sequential.from_config(model.get_config())
    other.load_weights(tmp_path / "w.npz")
    assert_array_equal(other.predict(x), model.predict(x))


def test_metadata_is_carried(tmp_path, trained):
    model, _ = trained
    model.metadata = {"classes": [0, 1, 2], "reference": {"mean": [0.1, 0.2]}}
    model.save(tmp_path / "m.zip")
    assert learnloop.load_model(tmp_path / "m.zip").metadata["classes"] == [0, 1, 2]


def test_save_is_atomic_when_writing_fails(tmp_path, trained, monkeypatch):
    model, x = trained
    path = tmp_path / "model.zip"
    model.save(path)
    before = path.read_bytes()
    monkeypatch.setattr("learnloop.saving._weights_npz", lambda weights: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.zip"]


def test_overwrite_false_refuses(tmp_path, trained):
    model, _ = trained
    model.save(tmp_path / "m.zip")
    with pytest.raises(LearnloopError, match="exists"):
        model.save(tmp_path / "m.zip", overwrite=False)


# ---- optimizer state -----------------------------------------------------------------------------------------
def _regressor(optimizer):
    model = Sequential([Input((3,)), Dense(6, activation="tanh"), Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


@pytest.mark.parametrize("optimizer", [lambda: Adam(0.01), lambda: learnloop.optimizers.SGD(0.05, momentum=0.9),
                                       lambda: learnloop.optimizers.RMSprop(0.01, centered=True)])
def test_fit_on_a_loaded_model_continues_exactly_where_it_stopped(tmp_path, rng, optimizer):
    x = rng.normal(size=(40, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    model = _regressor(optimizer())
    model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    model.save(tmp_path / "m.zip")
    loaded = learnloop.load_model(tmp_path / "m.zip")
    assert loaded.optimizer.iterations == model.optimizer.iterations == 15
    restarted = learnloop.load_model(tmp_path / "m.zip")
    restarted.compile(optimizer=optimizer(), loss="mse")         # the same weights, fresh moments: the control
    for m in (model, loaded, restarted):
        m.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for ours, theirs in zip(loaded.get_weights(), model.get_weights()):
        assert_array_equal(ours, theirs)
    assert not all(np.array_equal(a, b) for a, b in zip(restarted.get_weights(), model.get_weights()))


def test_plain_sgd_saves_its_step_count_and_untrained_models_save_no_state(tmp_path, rng):
    model = _regressor("sgd")
    model.save(tmp_path / "untrained.zip")
    with zipfile.ZipFile(tmp_path / "untrained.zip") as zf:
        assert "optimizer.npz" not in zf.namelist()
    model.fit(rng.normal(size=(8, 3)), rng.normal(size=(8, 1)), batch_size=4, verbose=0)
    model.save(tmp_path / "trained.zip")
    assert learnloop.load_model(tmp_path / "trained.zip").optimizer.iterations == 2
    assert learnloop.load_model(tmp_path / "trained.zip", compile=False).optimizer is None


def _optimizer_npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize("arrays, match", [
    ({"0000": np.zeros(3), "0001": np.zeros(3), "iterations": np.int64(4)}, "does not fit the model"),
    ({"0000": np.zeros(1)}, "unexpected array names"),
    ({"iterations": np.int64(4)}, "does not fit the model: Adam keeps 2 slot"),
    ({"iterations": np.float64(4.0)}, "invalid step count"),
    ({"0000": np.array([{"evil": 1}], dtype=object), "iterations": np.int64(1)}, "cannot be read"),
])
def test_broken_optimizer_state_is_refused_with_the_reason(tmp_path, saved, arrays, match):
    bad = tmp_path / "bad.zip"
    _rewrite(saved, bad, {"optimizer.npz": _optimizer_npz(**arrays)})
    with pytest.raises(ModelFileError, match=match):
        learnloop.load_model(bad)
    assert learnloop.load_model(bad, compile=False).optimizer is None       # the model itself still loads


# ---- hostile and broken files ---------------------------------------------------------------------------------
def _rewrite(src, dst, replace: dict, extra: dict | None = None, drop=()):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            if name in drop:
                continue
            zout.writestr(name, replace.get(name, zin.read(name)))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)


@pytest.fixture
def saved(tmp_path, trained):
    path = tmp_path / "good.zip"
    trained[0].save(path)
    return path


def _config(saved):
    with zipfile.ZipFile(saved) as zf:
        return json.loads(zf.read("config.json"))


def test_truncated_file(tmp_path, saved):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="not a learnloop model file|corrupted|truncated"):
        learnloop.load_model(bad)


def test_corrupted_bytes(tmp_path, saved):
    data = bytearray(saved.read_bytes())
    for i in range(200, 260):
        data[i] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        learnloop.load_model(bad)


def test_not_a_zip(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_text("hello")
    with pytest.raises(ModelFileError, match="not a learnloop model file"):
        learnloop.load_model(bad)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="No model file"):
        learnloop.load_model(tmp_path / "nope.zip")


def test_unknown_layer_class(tmp_path, saved):
    config = _config(saved)
    config["config"]["layers"][1]["class_name"] = "os.system"
    bad = tmp_path / "bad.zip"
    _rewrite(saved, bad, {"config.json": json.dumps(config)})
    with pytest.raises(ModelFileError, match="Unknown layer class 'os.system'"):
        learnloop.load_model(bad)


def test_wrong_weight_shapes(tmp_path, saved):
    buffer = io.BytesIO()
    np.savez(buffer, **{f"{i:04d}": np.zeros((2, 2)) for i in range(9)})
    bad = tmp_path / "bad.zip"
    _rewrite(saved, bad, {"weights.npz": buffer.getvalue()})
    with pytest.raises(ModelFileError, match="do not fit the architecture"):
        learnloop.load_model(bad)


def test_pickled_object_arrays_are_refused(tmp_path, saved):
    buffer = io.BytesIO()
    np.savez(buffer, **{"0000": np.array([{"evil": 1}], dtype=object)})
    bad = tmp_path / "bad.zip"
    _rewrite(saved, bad, {"weights.npz": buffer.getvalue()})
    with pytest.raises(ModelFileError, match="cannot be read: it holds object"):
        learnloop.load_model(bad)


@pytest.mark.parametrize("member", ["../../evil.py", "/etc/passwd", "extra.pkl"])
def test_unexpected_or_path_traversal_members(tmp_path, saved, member):
    bad = tmp_path / "bad.zip"
    _rewrite(saved, bad, {}, extra={member: b"x"})
    with pytest.raises(ModelFileError, match="unexpected members"):
        learnloop.load_model(bad)


def test_oversized_member(tmp_path, saved, monkeypatch):
    monkeypatch.setattr("learnloop.saving.MAX_JSON_BYTES", 100)
    with pytest.raises(ModelFileError, match="limit"):
        learnloop.load_model(saved)


def test_bad_layer_arguments(tmp_path, saved):
    config = _config(saved)
    config["config"]["layers"][2]["config"]["units"] = -4
    bad = tmp_path / "bad.zip"
    _rewrite(saved, bad, {"config.json": json.dumps(config)})
    with pytest.raises(ModelFileError, match="could not be rebuilt"):
        learnloop.load_model(bad)


def test_unknown_constructor_argument(tmp_path, saved):
    config = _config(saved)
    config["config"]["layers"][2]["config"]["__class__"] = "x"
    bad = tmp_path / "bad.zip"
    _rewrite(saved, bad, {"config.json": json.dumps(config)})
    with pytest.raises(ModelFileError, match="could not be rebuilt"):
        learnloop.load_model(bad)


def test_missing_weights_member(tmp_path, saved):
    bad = tmp_path / "bad.zip"
    _rewrite(saved, bad, {}, drop=("weights.npz",))
    with pytest.raises(ModelFileError, match="missing config.json or weights.npz"):
        learnloop.load_model(bad)


def test_wrong_format_version(tmp_path, saved):
    config = _config(saved)
    config["format_version"] = 99
    bad = tmp_path / "bad.zip"
    _rewrite(saved, bad, {"config.json": json.dumps(config)})
    with pytest.raises(ModelFileError, match="format version 99"):
        learnloop.load_model(bad)


def test_hostile_compile_config(tmp_path, saved):
    config = _config(saved)
    config["compile_config"]["metrics"] = [{"class_name": "lookup", "config": {}}]
    bad = tmp_path / "bad.zip"
    _rewrite(saved, bad, {"config.json": json.dumps(config)})
    with pytest.raises(ModelFileError, match="compile settings are invalid"):
        learnloop.load_model(bad)
