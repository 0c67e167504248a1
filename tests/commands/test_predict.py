"""``learnloop predict``: every row of a CSV / Parquet file through a saved model and its feature pipeline, streamed;
original labels out, the id column kept, bad rows named or skipped."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import learnloop
from learnloop import Input, Sequential, load_model
from learnloop.cli import main
from learnloop.data.tables import read_table, write_table
from learnloop.layers import Dense
from learnloop.losses import BinaryCrossentropy, SparseCategoricalCrossentropy
from learnloop.utils import FeatureSpace


def table(rng, n=300):
    cols = {"id": np.array([f"r{i:04d}" for i in range(n)], dtype=object), "age": rng.normal(40, 10, n),
            "city": np.array(["Paris", "Lyon", "Nice"], dtype=object)[rng.integers(0, 3, n)],
            "income": rng.normal(3, 1, n), "rooms": rng.integers(1, 5, n)}
    cols["income"][rng.random(n) < 0.1] = np.nan
    return cols


@pytest.fixture
def classifier(tmp_path, rng):
    """A table model: FeatureSpace (normalized, categorical, imputed, integer) then a softmax over 3 classes."""
    cols = table(rng)
    learnloop.set_seed(0)
    space = FeatureSpace({"age": "float_normalized", "city": "string_categorical", "rooms": "integer_categorical",
                          "income": FeatureSpace.float_normalized(impute=True)})
    space.adapt(cols)
    model = Sequential([space, Dense(8, activation="relu"), Dense(3)])
    model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True))
    model.fit(cols, np.digitize(cols["age"], [35, 45]), epochs=2, verbose=0)
    model.metadata["classes"] = ["young", "middle", "old"]
    model.save(tmp_path / "model.zip")
    return tmp_path / "model.zip", cols


def predict(*args) -> int:
    return main(["predict", *map(str, args), "--quiet"])


def test_csv_in_csv_out_with_original_labels_and_the_id(classifier, tmp_path, capsys):
    path, cols = classifier
    data = write_table(cols, tmp_path / "rows.csv")
    out = tmp_path / "pred.csv"
    assert predict(path, "--data", data, "-o", out, "--id", "id", "--batch-size", 64) == 0
    captured = capsys.readouterr()
    assert f"wrote {out}: 300 rows (prediction, probability_young, probability_middle, probability_old)" in \
        captured.out
    assert captured.err == ""                              # no progress bar when stderr is not a terminal
    got = read_table(out).columns
    assert list(got) == ["id", "prediction", "probability_young", "probability_middle", "probability_old"]
    assert list(got["id"]) == list(cols["id"])
    model = load_model(path)
    logits = model.predict({k: v for k, v in cols.items() if k != "id"})
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    assert list(got["prediction"]) == [["young", "middle", "old"][i] for i in logits.argmax(1)]
    assert_allclose(np.column_stack([got[f"probability_{c}"] for c in ["young", "middle", "old"]]), probs,
                    atol=1e-6)
    assert not list(tmp_path.glob(".*partial"))


def test_parquet_in_parquet_out_by_row_group(classifier, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path, cols = classifier
    pq.write_table(pa.table({k: pa.array(v, from_pandas=True) for k, v in cols.items()}), tmp_path / "rows.parquet",
                   row_group_size=70)
    out = tmp_path / "pred.parquet"
    assert predict(path, "--data", tmp_path / "rows.parquet", "-o", out, "--batch-size", 32) == 0
    got = pq.read_table(out)
    assert got.num_rows == 300 and got.column_names[0] == "prediction"
    logits = load_model(path).predict({k: v for k, v in cols.items() if k != "id"})
    assert got.column("prediction").to_pylist() == [["young", "middle", "old"][i] for i in logits.argmax(1)]


def test_a_bad_row_is_named_and_nothing_is_written(classifier, tmp_path, capsys):
    path, cols = classifier
    data = write_table(cols, tmp_path / "rows.csv")
    lines = data.read_text().splitlines(keepends=True)
    lines[150] = lines[150].replace(lines[150].split(",")[1], "abc", 1)           # data row 150: age is text
    data.write_text("".join(lines))
    out = tmp_path / "pred.csv"
    assert predict(path, "--data", data, "-o", out, "--batch-size", 64) == 2
    err = capsys.readouterr().err
    assert "row 150 (data rows counted from 1): column 'age' holds numbers; this row has 'abc'" in err
    assert "--on-error skip" in err and not out.exists() and not list(tmp_path.glob(".*partial"))


def test_on_error_skip_writes_the_rest_and_counts(classifier, tmp_path, capsys):
    path, cols = classifier
    cols = {k: v.copy() for k, v in cols.items()}
    cols["city"][[10, 200]] = None                        # missing, and the feature does not impute
    cols["rooms"] = np.array([str(v) for v in cols["rooms"]], dtype=object)
    cols["rooms"][99] = "many"                            # text in an integer feature
    data = write_table(cols, tmp_path / "rows.csv")
    out = tmp_path / "pred.csv"
    assert predict(path, "--data", data, "-o", out, "--id", "id", "--on-error", "skip", "--batch-size", 50) == 0
    text = capsys.readouterr().out
    assert "skipped 3 rows the model could not take; first: row 11: column 'city' is missing" in text
    got = read_table(out).columns
    kept = [i for i in range(300) if i not in (10, 99, 200)]
    assert list(got["id"]) == [cols["id"][i] for i in kept]
    model = load_model(path)
    rows = {k: (v[kept] if k != "rooms" else v[kept].astype(np.int64)) for k, v in cols.items() if k != "id"}
    assert list(got["prediction"]) == [["young", "middle", "old"][i] for i in model.predict(rows).argmax(1)]


def test_a_value_that_overflows_once_encoded_is_named(classifier, tmp_path, capsys):
    path, cols = classifier
    cols = {k: v.copy() for k, v in cols.items()}
    cols["age"][41] = 1e300                               # normalized, it does not fit in float32
    data = write_table(cols, tmp_path / "rows.parquet")
    assert predict(path, "--data", data, "-o", tmp_path / "out.csv") == 2
    assert "row 42 (data rows counted from 1): column 'age' is not finite once encoded" in capsys.readouterr().err
    assert predict(path, "--data", data, "-o", tmp_path / "out.csv", "--on-error", "skip") == 0
    assert len(read_table(tmp_path / "out.csv").columns["prediction"]) == 299


def test_a_regressor_on_arrays_named_by_its_metadata(tmp_path, rng):
    x = rng.normal(size=(200, 3))
    learnloop.set_seed(0)
    model = Sequential([Input((3,)), Dense(4, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x.sum(1), epochs=2, verbose=0)
    model.metadata["feature_names"] = ["a", "b", "c"]
    model.save(tmp_path / "reg.zip")
    data = write_table({"c": x[:, 2], "key": np.arange(200), "a": x[:, 0], "b": x[:, 1]}, tmp_path / "rows.parquet")
    out = tmp_path / "pred.csv"
    assert predict(tmp_path / "reg.zip", "--data", data, "-o", out, "--id", "key") == 0
    got = read_table(out).columns
    assert list(got) == ["key", "prediction"]
    assert_array_equal(got["key"], np.arange(200))
    assert_allclose(got["prediction"], model.predict(x.astype(np.float32))[:, 0], rtol=1e-5)


def test_a_binary_classifier_gives_both_probabilities(tmp_path, rng):
    x = rng.normal(size=(100, 2))
    model = Sequential([Input((2,)), Dense(1)])
    model.compile(optimizer="adam", loss=BinaryCrossentropy(from_logits=True))
    model.metadata.update({"feature_names": ["p", "q"], "classes": [">50K", "<=50K"]})
    model.save(tmp_path / "bin.zip")
    data = write_table({"p": x[:, 0], "q": x[:, 1]}, tmp_path / "rows.csv")
    assert predict(tmp_path / "bin.zip", "--data", data, "-o", tmp_path / "out.csv") == 0
    got = read_table(tmp_path / "out.csv").columns
    z = model.predict(x)[:, 0]
    assert list(got["prediction"]) == [">50K" if v < 0 else "<=50K" for v in z]
    assert_allclose(got["probability_>50K"] + got["probability_<=50K"], 1.0, atol=1e-6)
    assert_allclose(got["probability_<=50K"], 1 / (1 + np.exp(-z)), atol=1e-6)


def test_arguments_are_checked_before_any_work(classifier, tmp_path, capsys):
    path, cols = classifier
    data = write_table(cols, tmp_path / "rows.csv")
    assert predict(path, "--data", data, "-o", tmp_path / "out.json") == 2
    assert "-o " in capsys.readouterr().err
    assert predict(path, "--data", tmp_path / "none.csv", "-o", tmp_path / "o.csv") == 2
    assert "--data" in capsys.readouterr().err
    assert predict(path, "--data", data, "-o", tmp_path / "o.csv", "--id", "nope") == 2
    assert "--id 'nope' is not a column" in capsys.readouterr().err
    write_table({k: v for k, v in cols.items() if k != "city"}, tmp_path / "short.csv")
    assert predict(path, "--data", tmp_path / "short.csv", "-o", tmp_path / "o.csv") == 2
    assert "has no column 'city', which the model reads" in capsys.readouterr().err
    assert predict(path, "--data", data, "-o", data) == 2
    assert "is the --data file itself" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_the_workers_of_a_cluster_score_the_file_as_this_process_does(classifier, tmp_path, dask_cluster, suffix):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path, cols = classifier
    data = tmp_path / f"rows{suffix}"
    if suffix == ".parquet":              # 5 row groups, read by the workers themselves
        pq.write_table(pa.table({k: pa.array(v, from_pandas=True) for k, v in cols.items()}), data, row_group_size=64)
    else:                                 # blocks read here and sent
        write_table(cols, data)
    local, remote = tmp_path / "local.parquet", tmp_path / "remote.parquet"
    assert predict(path, "--data", data, "-o", local, "--id", "id", "--batch-size", 64) == 0
    assert predict(path, "--data", data, "-o", remote, "--id", "id", "--batch-size", 64,
                   "--scheduler", dask_cluster.scheduler_address) == 0
    assert pq.read_table(remote).equals(pq.read_table(local))


def test_a_bad_row_scored_on_a_cluster_is_named_as_locally(classifier, tmp_path, dask_cluster, capsys):
    path, cols = classifier
    data = write_table(cols, tmp_path / "rows.csv")
    lines = data.read_text().splitlines(keepends=True)
    lines[201] = lines[201].replace(lines[201].split(",")[1], "forty", 1)         # data row 201, in the 4th block
    data.write_text("".join(lines))
    assert predict(path, "--data", data, "-o", tmp_path / "p.csv", "--batch-size", 64,
                   "--scheduler", dask_cluster.scheduler_address) == 2
    assert "row 201 (data rows counted from 1): column 'age' holds numbers; this row has 'forty'" in \
        capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


def test_an_unreachable_scheduler_is_one_line_naming_it(classifier, tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    from learnloop import _cluster

    monkeypatch.setattr(_cluster, "CONNECT_TIMEOUT", 0.5)
    path, cols = classifier
    data = write_table(cols, tmp_path / "rows.csv")
    assert predict(path, "--data", data, "-o", tmp_path / "p.csv", "--scheduler", "tcp://127.0.0.1:9") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("learnloop predict: error: cannot reach the dask scheduler at tcp://127.0.0.1:9: ")
