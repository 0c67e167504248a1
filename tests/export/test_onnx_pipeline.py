"""ONNX export of a model that starts with a FeatureSpace: the graph takes the raw columns and computes predict."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from learnloop import Input, LearnloopError, Sequential, load_model, losses  # noqa: E402
from learnloop.cli import main  # noqa: E402
from learnloop.export import describe_encoding, to_onnx  # noqa: E402
from learnloop.export.encoding import encoding_path  # noqa: E402
from learnloop.export.onnx import max_abs_difference, run_onnx  # noqa: E402
from learnloop.export.onnx_features import sample_columns  # noqa: E402
from learnloop.layers import Dense, FeatureSpace  # noqa: E402

TOL = 1e-5
CITIES = ["Lyon", "Paris", "Nice"]
COLORS = ["red", "green", "blue", "grey"]


def _table(rng, n: int, unseen: bool = False) -> dict:
    """A mixed table: numbers with and without gaps, text with gaps, an integer category, and so on."""
    income = rng.lognormal(10, 0.5, n)
    income[rng.random(n) < 0.2] = np.nan                              # gaps: median + indicator column
    city = np.array([CITIES[i] for i in rng.integers(0, 3, n)], dtype=object)
    city[rng.random(n) < 0.15] = None                                 # gaps: the [MISSING] category
    color = np.array([COLORS[i] for i in rng.integers(0, 4, n)], dtype=object)
    if unseen:
        city[:3] = ["Berlin", None, "Paris"]
        color[:2] = ["purple", "red"]
    return {"income": income, "age": rng.normal(40, 12, n), "height": rng.normal(170, 9, n), "city": city,
            "color": color, "rooms": rng.integers(1, 6, n), "score": rng.uniform(0, 100, n),
            "temperature": rng.normal(15, 8, n), "raw": rng.normal(size=n), "ignored": np.zeros(n)}


def _space() -> FeatureSpace:
    return FeatureSpace({
        "income": FeatureSpace.float_normalized(impute=True),          # training had gaps: + income_missing
        "age": FeatureSpace.float_normalized(impute=True),             # no gaps in training: median only
        "height": "float_normalized",
        "city": FeatureSpace.string_categorical(impute=True),
        "color": "string_categorical",
        "rooms": "integer_categorical",
        "score": FeatureSpace.float_discretized(num_bins=5),
        "temperature": FeatureSpace.float_rescaled(scale=0.1, offset=-1.5),
        "raw": "float",
    })


@pytest.fixture
def table_model(rng):
    space = _space()
    train = _table(rng, 300)
    space.adapt(train)
    model = Sequential([space, Dense(16, activation="relu"), Dense(3, activation="softmax")], name="houses")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(train, rng.integers(0, 3, 300), epochs=2, batch_size=64, verbose=0)
    model.metadata["classes"] = ["cheap", "fair", "dear"]
    return model


def test_a_table_model_exports_to_one_graph_that_matches_predict(table_model, rng):
    proto = to_onnx(table_model)
    onnx.checker.check_model(proto, full_check=True)
    inputs = {i.name: i.type.tensor_type for i in proto.graph.input}
    assert list(inputs) == ["age", "city", "color", "height", "income", "raw", "rooms", "score", "temperature"]
    t = onnx.TensorProto
    assert {n: tt.elem_type for n, tt in inputs.items()} == {
        "age": t.FLOAT, "city": t.STRING, "color": t.STRING, "height": t.FLOAT, "income": t.FLOAT, "raw": t.FLOAT,
        "rooms": t.INT64, "score": t.FLOAT, "temperature": t.FLOAT}
    assert all([d.dim_param or d.dim_value for d in tt.shape.dim] == ["batch", 1] for tt in inputs.values())
    ml_ops = {n.op_type for n in proto.graph.node if n.domain == "ai.onnx.ml"}
    assert ml_ops == {"Imputer", "LabelEncoder"}
    test = _table(rng, 500, unseen=True)
    test["age"][5:9] = np.nan                    # imputes though training had no gaps: the median, no indicator
    assert max_abs_difference(table_model, proto, test) < TOL
    assert max_abs_difference(table_model, proto, {k: v[:1] for k, v in test.items()}) < TOL   # batch is dynamic
    assert max_abs_difference(table_model, proto, sample_columns(table_model.feature_space, 200)) < TOL


def test_the_encoded_vector_is_bit_exact(table_model, rng):
    space = table_model.feature_space
    width = len(space.get_feature_names_out())
    probe = Dense(width, use_bias=False)
    model = Sequential([space, probe])
    model.build()
    probe.kernel[...] = np.eye(width)                                  # x @ I is x exactly in float32
    test = _table(rng, 400, unseen=True)
    test["age"][::7] = np.nan
    test["score"][:4] = np.asarray(space.features["score"].preprocessor.bin_boundaries, np.float32)
    assert_array_equal(run_onnx(to_onnx(model), test), space.encode(test))


def test_missing_text_is_the_empty_string_and_unseen_values_take_the_oov_slot(table_model):
    space = table_model.feature_space
    session = ort.InferenceSession(to_onnx(table_model).SerializeToString(), providers=["CPUExecutionProvider"])
    row = {"age": 40.0, "height": 170.0, "income": 20000.0, "raw": 0.5, "rooms": 3, "score": 50.0, "temperature": 10.0,
           "color": "red"}
    feeds = {k: np.array([[v]], dtype=np.int64 if k == "rooms" else np.float32) for k, v in row.items()
             if k != "color"}
    feeds["color"] = np.array([["purple"]], dtype=object)             # unseen: [UNK]
    for written, meant in [("", None), ("Atlantis", "Atlantis"), ("[MISSING]", None), ("Paris", "Paris")]:
        feeds["city"] = np.array([[written]], dtype=object)
        expected = table_model.predict({**row, "color": "purple", "city": meant}, verbose=0)
        assert np.abs(session.run(["output"], feeds)[0] - expected).max() < TOL
    names = space.get_feature_names_out()
    assert "city=[MISSING]" in names and "income_missing" in names and "age_missing" not in names


def test_metadata_names_the_inputs_classes_and_output(table_model):
    proto = to_onnx(table_model)
    props = {p.key: p.value for p in proto.metadata_props}
    inputs = json.loads(props["learnloop.inputs"])
    assert inputs["city"] == {"type": "string", "shape": ["batch", 1], "missing": ""}
    assert inputs["income"]["missing"] == "NaN" and inputs["height"]["missing"] is None
    assert inputs["rooms"]["type"] == "int64"
    assert json.loads(props["learnloop.classes"]) == ["cheap", "fair", "dear"]
    assert props["learnloop.output"] == "probabilities" and props["learnloop.input"] == "raw"
    assert json.loads(props["learnloop.encoded_features"]) == table_model.feature_space.get_feature_names_out()
    assert "'' = missing" in proto.doc_string
    assert {(o.domain, o.version) for o in proto.opset_import} == {("", 17), ("ai.onnx.ml", 3)}


def test_a_logits_output_is_named_logits(rng):
    space = FeatureSpace({"x": "float_normalized", "kind": "string_categorical"})
    data = {"x": rng.normal(size=50), "kind": np.array(["a", "b"] * 25, dtype=object)}
    space.adapt(data)
    model = Sequential([space, Dense(1)])
    model.compile(optimizer="adam", loss=losses.BinaryCrossentropy(from_logits=True))
    model.fit(data, rng.integers(0, 2, 50), epochs=1, verbose=0)
    props = {p.key: p.value for p in to_onnx(model).metadata_props}
    assert props["learnloop.output"] == "logits" and "learnloop.classes" not in props
    assert max_abs_difference(model, to_onnx(model), data) < TOL


def test_less_common_features_match_predict(rng):
    from learnloop.layers import Discretization, StringLookup

    space = FeatureSpace({
        "level": FeatureSpace.float_discretized(num_bins=4, output_mode="float"),
        "fixed": FeatureSpace.feature("float32", Discretization(bin_boundaries=[-1.0, 0.0, 0.0, 2.5]), "one_hot"),
        "closed": FeatureSpace.string_categorical(num_oov_indices=0),           # predict refuses unseen values
        "rank": FeatureSpace.string_categorical(output_mode="float", impute=True),
        "masked": FeatureSpace.feature("string", StringLookup(mask_token="-"), "one_hot"),
        "floor": FeatureSpace.integer_categorical(impute=True),                # predict reads a missing int as 0
    })
    n = 120
    data = {"level": rng.normal(size=n), "fixed": rng.normal(size=n),
            "closed": np.array(["x", "y"] * (n // 2), dtype=object),
            "rank": np.array([["lo", "mid", "hi", None][i] for i in rng.integers(0, 4, n)], dtype=object),
            "masked": np.array([["-", "a", "b"][i] for i in rng.integers(0, 3, n)], dtype=object),
            "floor": rng.integers(1, 4, n)}
    space.adapt(data)
    model = Sequential([space, Dense(4, activation="tanh"), Dense(2)])
    model.build()
    test = {k: v.copy() for k, v in data.items()}
    test["fixed"][:4] = [-1.0, 0.0, 2.5, np.float32(2.4999)]
    test["rank"][:2] = ["unheard", None]
    test["masked"][:2] = ["c", "-"]
    test["floor"] = test["floor"].astype(object)
    test["floor"][:2] = [None, 9]
    assert max_abs_difference(model, to_onnx(model), test) < TOL


def _oov_model(rng, **features):
    space = FeatureSpace({"x": "float_normalized", **features})
    data = {"x": rng.normal(size=40), "city": np.array(CITIES * 13 + ["Paris"], dtype=object),
            "rooms": rng.integers(0, 4, 40)}
    space.adapt(data)
    model = Sequential([space, Dense(2)])
    model.build()
    return model, data


def test_hashed_oov_buckets_are_refused_naming_the_feature_and_the_numeric_core(rng):
    model, _ = _oov_model(rng, city=FeatureSpace.string_categorical(num_oov_indices=2, name="city"))
    with pytest.raises(LearnloopError) as info:
        to_onnx(model)
    assert str(info.value) == (
        "ONNX export cannot express feature 'city' (StringLookup 'city_preprocessor'): num_oov_indices=2 hashes "
        "unseen values into OOV buckets, which ONNX-ML cannot compute. Export the numeric core instead: "
        "`learnloop export MODEL --numeric-core` (or to_onnx(model, numeric_core=True)) writes the network alone, "
        "taking the encoded float vector, and a JSON description of the encoding beside it for another runtime "
        "to reproduce.")


def test_a_hashing_feature_and_a_cross_are_refused(rng):
    pytest.importorskip("learnloop.layers.hashing")
    data = {"city": np.array(CITIES * 10, dtype=object), "rooms": rng.integers(0, 4, 30)}
    hashed = FeatureSpace({"city": FeatureSpace.string_hashed(num_bins=8), "rooms": "integer_categorical"})
    crossed = FeatureSpace({"city": "string_categorical", "rooms": "integer_categorical"},
                           crosses=[("city", "rooms")], crossing_dim=8)
    for space, what in [(hashed, r"feature 'city' \(Hashing '[^']+'\): ONNX-ML has no FarmHash"),
                        (crossed, r"cross 'city_X_rooms' \(HashedCrossing of \['city', 'rooms'\]\): ONNX-ML has "
                                  r"no FarmHash")]:
        space.adapt(data)
        model = Sequential([space, Dense(2)])
        model.build()
        with pytest.raises(LearnloopError, match=f"ONNX export cannot express {what}.*--numeric-core"):
            to_onnx(model)
        _check_numeric_core(model, data, tmp_path=None)


def _check_numeric_core(model, data, tmp_path):
    proto = to_onnx(model, None if tmp_path is None else tmp_path / "core.onnx", numeric_core=True)
    space = model.feature_space
    assert [i.name for i in proto.graph.input] == ["input"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[1].dim_value == len(space.get_feature_names_out())
    assert np.abs(run_onnx(proto, space.encode(data)) - model.predict(data, verbose=0)).max() < TOL
    return proto


def _encode_from_json(description: dict, columns: dict) -> np.ndarray:
    """A second runtime's encoder, written from the JSON description alone."""
    blocks = []
    for name in description["columns"]:
        f = description["features"][name]
        config = f["preprocessor"]["config"]
        values = columns[name]
        missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values])
        if f["dtype"] == "string":
            vocabulary = config["vocabulary"]
            text = [description["missing_token"] if m else str(v) for v, m in zip(values, missing)]
            oov = vocabulary.index(config["oov_token"])
            index = np.array([vocabulary.index(t) if t in vocabulary[oov + 1:] else oov for t in text])
        elif f["preprocessor"]["class_name"] == "IntegerLookup":
            vocabulary = config["vocabulary"]
            index = np.array([vocabulary.index(int(v)) if int(v) in vocabulary[1:] else 0 for v in values])
        else:
            x = np.where(missing, f.get("fill_value", np.nan), np.asarray(values, dtype=np.float64)).astype(np.float32)
            kind = f["preprocessor"]["class_name"]
            if kind == "Normalization":
                x = (x - np.float32(f["mean"][0])) / np.float32(f["std"][0])
            elif kind == "Rescaling":
                x = x * np.float32(config["scale"]) + np.float32(config["offset"])
            if kind == "Discretization":
                index = np.digitize(x, np.asarray(config["bin_boundaries"], dtype=np.float32))
            else:
                blocks.append(x.reshape(-1, 1))
        if f["dtype"] == "string" or f["preprocessor"]["class_name"] in ("IntegerLookup", "Discretization"):
            blocks.append(np.eye(f["depth"], dtype=np.float32)[index] if f["output_mode"] == "one_hot"
                          else index.reshape(-1, 1).astype(np.float32))
        if f["indicator"]:
            blocks.append(missing.reshape(-1, 1).astype(np.float32))
    return np.concatenate(blocks, axis=1)


def test_numeric_core_writes_the_network_and_a_json_encoding_another_runtime_can_follow(rng, tmp_path):
    model, data = _oov_model(rng, city=FeatureSpace.string_categorical(num_oov_indices=2, impute=True))
    with pytest.raises(LearnloopError, match="cannot express feature 'city'"):
        to_onnx(model)
    proto = _check_numeric_core(model, data, tmp_path)
    assert {p.key: p.value for p in proto.metadata_props}["learnloop.input"] == "encoded"
    written = json.loads(encoding_path(tmp_path / "core.onnx").read_text())
    assert (tmp_path / "core.encoding.json").is_file() and written == describe_encoding(model.feature_space)
    assert written["feature_names_out"] == model.feature_space.get_feature_names_out()
    assert written["features"]["city"]["preprocessor"]["config"]["num_oov_indices"] == 2


def test_the_json_encoding_reproduces_the_feature_space(table_model, rng):
    description = json.loads(json.dumps(describe_encoding(table_model.feature_space)))
    test = _table(rng, 300)
    test["age"][:5] = np.nan
    expected = table_model.feature_space.encode(test)
    assert_array_equal(_encode_from_json(description, test), expected)
    assert description["width"] == expected.shape[1]
    slices = [description["features"][n]["slice"] for n in description["columns"]]
    assert slices[0][0] == 0 and slices[-1][1] == expected.shape[1]


def test_numeric_core_needs_a_feature_space():
    with pytest.raises(LearnloopError, match="this model has no FeatureSpace"):
        to_onnx(Sequential([Input((3,)), Dense(2)]), numeric_core=True)


def test_the_cli_exports_and_verifies_a_table_model(table_model, tmp_path, capsys):
    saved = tmp_path / "houses.zip"
    table_model.save(saved)
    out = tmp_path / "houses.onnx"
    assert main(["export", str(saved), "-o", str(out), "--verify"]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out} (ONNX opset 17 + ai.onnx.ml 3," in text and "9 raw column inputs" in text
    assert "(probabilities)" in text
    assert "input 'city': tensor(string) (batch, 1), missing = ''" in text
    assert "input 'income': tensor(float) (batch, 1), missing = NaN" in text
    assert "input 'height': tensor(float) (batch, 1), missing not accepted" in text
    assert "verify: onnxruntime vs learnloop on 64 sample rows (raw columns;" in text and "(ok;" in text
    loaded = load_model(saved)
    test = sample_columns(loaded.feature_space, 32, seed=5)
    assert np.abs(run_onnx(out, test) - loaded.predict(test, verbose=0)).max() < TOL

    assert main(["export", str(saved), "-o", str(tmp_path / "core.onnx"), "--numeric-core", "--verify"]) == 0
    text = capsys.readouterr().out
    assert "the numeric core: input 'input' (batch, " in text and f"wrote {tmp_path / 'core.encoding.json'}" in text
    assert "(their encoded features;" in text and "(ok;" in text


def test_the_cli_refusal_points_to_numeric_core(rng, tmp_path, capsys):
    model, _ = _oov_model(rng, city=FeatureSpace.string_categorical(num_oov_indices=3))
    saved = tmp_path / "m.zip"
    model.save(saved)
    assert main(["export", str(saved)]) == 2
    err = capsys.readouterr().err
    assert "cannot express feature 'city'" in err and "learnloop export MODEL --numeric-core" in err
    assert main(["export", str(saved), "--numeric-core"]) == 0


ADULT = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
         "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income"]
ADULT_NUMBERS = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


def _read_adult(path) -> dict:
    try:
        from learnloop.data.tables import read_table
    except ImportError:
        read_table = None
    if read_table is not None:
        return read_table(path, names=ADULT).columns
    rows = [[v.strip() for v in line.split(",")] for line in path.read_text().splitlines() if line.strip()]
    columns = {}
    for i, name in enumerate(ADULT):
        values = [None if r[i] == "?" else r[i] for r in rows]
        columns[name] = np.array(values, dtype=float) if name in ADULT_NUMBERS else np.array(values, dtype=object)
    return columns


def test_adult_census_columns_export_and_match(shared_data, rng):
    path = shared_data / "fairness" / "adult.data"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    columns = _read_adult(path)
    y = np.array([v.startswith(">50K") for v in columns.pop("income")], dtype=np.float32)
    text = [n for n in ADULT[:-1] if n not in ADULT_NUMBERS]
    space = FeatureSpace({**{n: "float_normalized" for n in ADULT_NUMBERS},
                          **{n: FeatureSpace.string_categorical(impute=True) for n in text}})
    train = {k: v[:6000] for k, v in columns.items()}
    space.adapt(train)
    model = Sequential([space, Dense(16, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss=losses.BinaryCrossentropy(from_logits=True))
    model.fit(train, y[:6000], epochs=2, batch_size=128, verbose=0)
    proto = to_onnx(model)
    test = {k: v[6000:10000] for k, v in columns.items()}
    assert any(np.equal(test[n], None).any() for n in text)            # "?" rows: the [MISSING] category
    assert max_abs_difference(model, proto, test) < TOL
    assert {i.name for i in proto.graph.input} == set(ADULT[:-1])


def test_a_missing_integer_is_out_of_vocabulary_in_onnx_as_in_predict(tmp_path):
    from learnloop.export import onnx_features

    space = FeatureSpace({"code": FeatureSpace.integer_categorical(impute=True), "x": "float_normalized"})
    space.adapt({"code": [0, 1, None, 2, 0], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    model = Sequential([space, Dense(3)])
    rows = {"code": [None, 0, 7], "x": [1.0, 2.0, 3.0]}
    path = to_onnx(model, tmp_path / "m.onnx")
    assert onnx_features.MISSING_INT not in space.preprocessors["code"].get_vocabulary()
    assert_allclose(run_onnx(path, rows), model.predict(rows), atol=1e-6)
