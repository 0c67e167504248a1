"""FeatureSpace: Keras's structured-data preprocessing, and models that take raw columns."""

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import learnloop
from learnloop import Sequential
from learnloop.errors import LearnloopError, NotFittedError
from learnloop.layers import Dense, FeatureSpace
from learnloop.layers._features import FeatureValueError
from learnloop.saving import layer_from_config, layer_to_config

RAW = {
    "float_values": [0.0, 0.1, 0.2, 0.3],
    "string_values": ["zero", "one", "two", "three"],
    "int_values": [0, 1, 2, 3],
}


def _space(**kwargs):
    return FeatureSpace(features={"float_values": "float_normalized", "string_values": "string_categorical",
                                  "int_values": "integer_categorical"}, output_mode="concat", **kwargs)


def test_keras_docstring_example_concatenates_in_sorted_name_order():
    space = _space()
    space.adapt(RAW)
    out = space(RAW)
    # float_values (1) + int_values (4 + OOV) + string_values (4 + OOV), in sorted name order
    assert out.shape == (4, 11)
    assert out.dtype == np.float32
    assert space.get_feature_names_out()[0] == "float_values"
    assert space.get_feature_names_out()[1].startswith("int_values=")
    std = np.std(RAW["float_values"])
    assert_allclose(out[:, 0], (np.array(RAW["float_values"]) - 0.15) / std, rtol=1e-5)
    assert_array_equal(out[:, 1:6].sum(axis=1), 1)
    assert_array_equal(out[:, 6:].sum(axis=1), 1)


def test_utils_exports_feature_space_like_keras():
    assert learnloop.utils.FeatureSpace is FeatureSpace


def test_unseen_category_goes_to_the_out_of_vocabulary_slot():
    space = FeatureSpace({"color": "string_categorical"})
    space.adapt({"color": ["red", "green", "red"]})
    out = space({"color": ["blue", "red"]})
    names = space.get_feature_names_out()
    assert out[0, names.index("color=[UNK]")] == 1
    assert out[1, names.index("color=red")] == 1


def test_dict_output_mode_gives_each_feature_its_block():
    space = _space()
    space.output_mode = "dict"
    space.adapt(RAW)
    out = space(RAW)
    assert set(out) == set(RAW)
    assert out["float_values"].shape == (4, 1)


def test_missing_values_are_refused_without_impute_and_named():
    space = FeatureSpace({"age": "float_normalized"})
    space.adapt({"age": [30.0, 40.0, 50.0]})
    with pytest.raises(FeatureValueError, match=r"Column 'age' has a missing value in row 1") as info:
        space({"age": [31.0, None]})
    assert info.value.column == "age" and info.value.row == 1


def test_impute_fills_numbers_with_the_median_and_adds_an_indicator():
    space = FeatureSpace({"age": FeatureSpace.float(impute=True),
                          "city": FeatureSpace.string_categorical(impute=True)})
    space.adapt({"age": [30.0, np.nan, 50.0, 40.0], "city": ["a", None, "b", "a"]})
    names = space.get_feature_names_out()
    assert names[:2] == ["age", "age_missing"]
    assert "city=[MISSING]" in names
    out = space({"age": [None], "city": [None]})
    assert out[0, 0] == 40.0 and out[0, 1] == 1.0
    assert out[0, names.index("city=[MISSING]")] == 1


def test_wrong_types_name_the_column_and_row():
    space = FeatureSpace({"age": "float_normalized", "city": "string_categorical"})
    space.adapt({"age": [30.0, 40.0], "city": ["a", "b"]})
    with pytest.raises(FeatureValueError, match=r"Column 'age' holds numbers; row 0 has 'old'"):
        space({"age": ["old"], "city": ["a"]})
    with pytest.raises(FeatureValueError, match="has no column 'city'"):
        space({"age": [1.0]})


def test_numbers_in_a_categorical_column_are_read_as_their_text():
    space = FeatureSpace({"code": "string_categorical"})
    space.adapt({"code": [1.0, 2.0, 3.0]})
    assert space.preprocessors["code"].get_vocabulary()[1:] == sorted(["1", "2", "3"]) or \
        set(space.preprocessors["code"].get_vocabulary()[1:]) == {"1", "2", "3"}
    out = space({"code": [2]})
    assert out[0, space.get_feature_names_out().index("code=2")] == 1


def test_not_adapted_is_a_clear_error():
    with pytest.raises(NotFittedError, match="adapt"):
        _space()(RAW)


def test_unknown_feature_type_suggests_the_closest():
    with pytest.raises(LearnloopError, match="Did you mean 'float_normalized'"):
        FeatureSpace({"a": "float_normalised"})


def test_config_round_trip_keeps_vocabularies_and_statistics():
    space = _space()
    space.adapt(RAW)
    config = json.loads(json.dumps(layer_to_config(space)))
    again = layer_from_config(config)
    again.set_weights(space.get_weights())
    assert_allclose(again(RAW), space(RAW))


def test_a_model_starting_with_a_feature_space_takes_columns_and_saves_them(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    table = {"x": rng.normal(size=n), "color": rng.choice(["red", "green", "blue"], size=n)}
    y = ((table["x"] > 0) ^ (table["color"] == "red")).astype(int)
    space = FeatureSpace({"x": "float_normalized", "color": "string_categorical"})
    space.adapt(table)
    model = Sequential([space, Dense(16, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss=learnloop.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(table, y, epochs=60, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    assert model.evaluate(table, y, return_dict=True)["accuracy"] > 0.9
    rows = [{"x": 1.0, "color": "red"}, {"x": -1.0, "color": "red"}, {"x": 1.0, "color": "purple"}]
    before = model.predict(rows)
    path = tmp_path / "m.zip"
    model.save(path)
    loaded = learnloop.load_model(path)
    assert_allclose(loaded.predict(rows), before, rtol=1e-6)
    assert loaded.feature_space is not None
    assert loaded.input_shape == {"color": (None, 1), "x": (None, 1)}


def test_a_preprocessing_layer_cannot_follow_the_network():
    space = FeatureSpace({"x": "float_normalized"})
    with pytest.raises(LearnloopError, match="preprocessing layer"):
        Sequential([Dense(2), space])


def test_a_model_with_an_unadapted_feature_space_says_to_adapt():
    model = Sequential([FeatureSpace({"x": "float_normalized"}), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(NotFittedError, match="not adapted"):
        model.fit({"x": [1.0, 2.0]}, [1.0, 2.0], verbose=0)


def test_missing_integers_with_impute_are_out_of_vocabulary_not_a_category():
    space = FeatureSpace({"code": FeatureSpace.integer_categorical(impute=True)})
    space.adapt({"code": [1, None, 2, 2]})
    names = space.get_feature_names_out()
    assert "code=0" not in names
    out = space({"code": [None, 2]})
    assert out[0, 0] == 1                      # the OOV slot
    assert out[1, names.index("code=2")] == 1


def test_a_model_starting_with_a_lookup_layer_trains_saves_and_loads(tmp_path):
    from learnloop.layers import StringLookup

    words = np.array(["cat", "dog", "fish", "dog", "cat", "bird"] * 20, dtype=object)
    y = np.isin(words, ["cat", "dog"]).astype(int)
    model = Sequential([StringLookup(vocabulary=["cat", "dog", "fish"], output_mode="one_hot"), Dense(1)])
    model.compile(optimizer="adam", loss=learnloop.losses.BinaryCrossentropy(from_logits=True))
    model.fit(words, y, epochs=30, verbose=0)
    before = model.predict(np.array(["dog", "bird"], dtype=object))
    model.save(tmp_path / "m.zip")
    loaded = learnloop.load_model(tmp_path / "m.zip")
    assert_allclose(loaded.predict(np.array(["dog", "bird"], dtype=object)), before, rtol=1e-6)


def test_a_list_of_one_row_dict_encodes_like_its_columns():
    space = _space()
    space.adapt(RAW)
    row = {"float_values": 0.25, "string_values": "two", "int_values": 7}
    assert_array_equal(space([row]), space({k: [v] for k, v in row.items()}))


def test_a_float_feature_that_parses_text_trains_saves_and_takes_text_or_numbers(tmp_path):
    import zipfile

    from learnloop.errors import ModelFileError

    rng = np.random.default_rng(0)
    n = 300
    amount = rng.uniform(0, 2000, n).round(2)
    table = {"amount": np.array([f"${v:,.2f}" for v in amount], dtype=object),
             "day": np.array([f"2021-03-{1 + i % 28:02d}" for i in range(n)], dtype=object)}
    y = (amount > 1000).astype(int)
    us = {"kind": "number", "decimal": ".", "thousands": ","}
    space = FeatureSpace({"amount": FeatureSpace.float_normalized(parse=us),
                          "day": FeatureSpace.float_normalized(parse={"kind": "date", "format": "iso"})})
    space.adapt(table)
    assert_allclose(space.features["amount"].preprocessor.mean, [amount.mean()], rtol=1e-5)
    assert space.input_schema()["amount"] == {"type": "number", "nullable": False, "parse": us}
    model = Sequential([space, Dense(8, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss=learnloop.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(table, y, epochs=40, batch_size=32, verbose=0)
    assert model.evaluate(table, y, return_dict=True)["accuracy"] > 0.9
    as_text = [{"amount": "$1,500.00", "day": "2021-03-05"}, {"amount": "(12.50)", "day": "2021-03-06"}]
    as_numbers = [{"amount": 1500.0, "day": 18691.0}, {"amount": -12.5, "day": 18692.0}]
    assert_allclose(model.predict(as_text), model.predict(as_numbers))
    with pytest.raises(FeatureValueError, match=r"Column 'amount' holds numbers written as text.*'about 5'"):
        model.predict([{"amount": "about 5", "day": "2021-03-05"}])
    path = tmp_path / "m.zip"
    model.save(path)
    assert_allclose(learnloop.load_model(path).predict(as_text), model.predict(as_text), rtol=1e-6)
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    config = parts["config.json"].decode()
    assert '"parse": {"kind": "number", "decimal": ".", "thousands": ","}' in config
    hostile = tmp_path / "hostile.zip"
    with zipfile.ZipFile(hostile, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, config.replace('"thousands": ","', '"thousands": "__import__"').encode()
                        if name == "config.json" else data)
    with pytest.raises(ModelFileError, match="not a text format learnloop reads"):
        learnloop.load_model(hostile)


def test_parse_needs_a_float_feature():
    with pytest.raises(LearnloopError, match="parse= reads text into numbers, so it needs dtype='float32'"):
        FeatureSpace.feature("string", learnloop.layers.StringLookup(), "one_hot",
                             parse={"kind": "date", "format": "iso"})
