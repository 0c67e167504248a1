"""``learnloop errors``: error analysis of a saved model from the command line."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import learnloop
from learnloop import Input, Sequential
from learnloop.cli import main
from learnloop.layers import Dense
from learnloop.losses import SparseCategoricalCrossentropy


@pytest.fixture
def digits_model(tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = digits.data / 16, digits.target
    learnloop.set_seed(0)
    model = Sequential([Input((64,)), Dense(16, activation="relu"), Dense(10)])
    model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:300], y[:300], epochs=10, batch_size=64, verbose=0)
    model.save(tmp_path / "digits.zip")
    np.savez(tmp_path / "cv.npz", x=x[300:700], y=y[300:700], images=digits.images[300:700])
    wrong = np.flatnonzero(model.predict(x[300:700]).argmax(1) != y[300:700])
    return tmp_path, wrong


def test_errors_command_prints_the_analysis_and_writes_the_files(digits_model, capsys):
    folder, wrong = digits_model
    out = folder / "report"
    assert main(["errors", str(folder / "digits.zip"), "--data", str(folder / "cv.npz"), "--out", str(out),
                 "--sample-size", "30"]) == 0
    text = capsys.readouterr().out
    assert f"{len(wrong)} of 400 rows of cv.npz misclassified" in text and "error by true class" in text
    for name in ("errors_to_tag.csv", "error_analysis.json", "confusion_matrix.png", "misclassified.png"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "error_analysis.json").read_text())
    assert summary["n_errors"] == len(wrong) and summary["sampled"] == min(30, len(wrong))

    # A person tags the sampled errors; the command counts the tags.
    with (out / "errors_to_tag.csv").open(newline="") as fh:
        ids = [row["id"] for row in csv.DictReader(fh)]
    tags = folder / "tags.csv"
    with tags.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "tag"])
        writer.writerows([[i, "faint stroke"] for i in ids[:7]] + [[i, "slanted"] for i in ids[5:9]])
    assert main(["errors", str(folder / "digits.zip"), "--data", str(folder / "cv.npz"), "--out", str(out),
                 "--sample-size", "30", "--tags", str(tags)]) == 0
    text = capsys.readouterr().out
    assert "faint stroke      7" in text and "slanted           4" in text


def test_a_reader_that_leaves_early_ends_the_command_quietly(digits_model):
    import subprocess
    import sys

    folder, _ = digits_model
    code = ("import sys; from learnloop.cli import main; sys.exit(main(['errors', sys.argv[1], '--data', "
            "sys.argv[2], '--out', sys.argv[3]]))")
    with subprocess.Popen([sys.executable, "-c", code, str(folder / "digits.zip"), str(folder / "cv.npz"),
                           str(folder / "piped")], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        proc.stdout.readline()                                   # `| head -1`
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_errors_command_reports_bad_input(digits_model, capsys):
    folder, _ = digits_model
    np.savez(folder / "bad.npz", x=np.zeros((5, 10)), y=np.zeros(5))
    assert main(["errors", str(folder / "digits.zip"), "--data", str(folder / "bad.npz")]) == 2
    assert "expects samples of shape (64,)" in capsys.readouterr().err


def test_an_npz_without_names_feeds_a_model_trained_on_named_pixels(digits_model, capsys):
    """learnloop run on the bundled digits stores pixel names; an .npz's x has none, and fits by its width."""
    folder, wrong = digits_model
    model = learnloop.load_model(folder / "digits.zip")
    model.metadata.update({"task": "classification", "classes": list(range(10)),
                           "feature_names": [f"pixel_{i // 8}_{i % 8}" for i in range(64)]})
    model.save(folder / "named.zip")
    np.savez(folder / "flat.npz", x=np.load(folder / "cv.npz")["x"], y=np.load(folder / "cv.npz")["y"])
    out = folder / "flat"
    assert main(["errors", str(folder / "named.zip"), "--data", str(folder / "flat.npz"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"{len(wrong)} of 400 rows of flat.npz misclassified" in text
    assert not (out / "misclassified.png").exists()                  # flat rows without images are not pictures
    # A table for the same array model: the columns named in its metadata, the last column the labels.
    cv = np.load(folder / "cv.npz")
    names = model.metadata["feature_names"]
    table = {**{n: cv["x"][:, names.index(n)] for n in names[::-1]}, "digit": cv["y"]}   # any column order
    from learnloop.data.tables import write_table

    write_table(table, folder / "cv.csv")
    assert main(["errors", str(folder / "named.zip"), "--data", str(folder / "cv.csv"), "--out", str(out)]) == 0
    assert f"{len(wrong)} of 400 rows of cv.csv misclassified" in capsys.readouterr().out


# ---- table models: raw rows in, original labels and raw values out ---------------------------------------------
def _table(rng, n, colors=("red", "green", "blue")):
    x1 = rng.normal(size=n).round(3)
    color = rng.choice(list(colors), size=n)
    city = rng.choice(["north", "south"], size=n)
    label = np.where(x1 + (color == "red") * 1.5 + rng.normal(scale=0.6, size=n) > 0.5, "yes", "no")
    price = (2 * x1 + (color == "red") + rng.normal(scale=np.where(city == "north", 1.0, 0.1))).round(3)
    return {"x1": x1, "color": color, "city": city, "label": label, "price": price}


def _write(path, table):
    from learnloop.data.tables import write_table

    return write_table(table, path)


@pytest.fixture(scope="module")
def table_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("errors_tables")
    _write(folder / "train.csv", _table(np.random.default_rng(1), 300))
    for name, target, other in (("clf", "label", "price"), ("reg", "price", "label")):
        assert main(["run", "--data", str(folder / "train.csv"), "--target", target, "--drop", other, "--quick",
                     "--out", str(folder / name)]) == 0
    return folder


def test_errors_on_a_table_model_show_raw_rows_and_error_rates_by_column_value(table_models, tmp_path, capsys):
    t = _table(np.random.default_rng(2), 400, colors=("red", "green", "purple"))   # no blue; purple never seen
    data = _write(tmp_path / "cv.csv", t)
    out = tmp_path / "out"
    assert main(["errors", str(table_models / "clf" / "model.zip"), "--data", str(data), "--out", str(out),
                 "--sample-size", "20"]) == 0
    text = capsys.readouterr().out
    model = learnloop.load_model(table_models / "clf" / "model.zip")
    pred = np.where(model.predict(t)[:, 0] >= 0, "yes", "no")
    wrong = np.flatnonzero(pred != t["label"])
    assert f"{len(wrong)} of 400 rows of cv.csv misclassified" in text
    assert "error rate by column value (largest gaps first):" in text and "color = purple" in text
    assert "sampled misclassified rows (id = data row from 0):" in text
    doc = json.loads((out / "error_analysis.json").read_text())
    first = doc["error_rows"][0]
    i = first["id"]
    assert i in wrong and first["true"] == t["label"][i] and first["predicted"] == pred[i]
    assert first["color"] == t["color"][i] and first["x1"] == pytest.approx(t["x1"][i])
    assert {s["column"] for s in doc["slices"]} >= {"color", "x1", "city"}
    assert "label" not in {s["column"] for s in doc["slices"]}
    purple = next(s for s in doc["slices"] if s["value"] == "purple")
    assert purple["n"] == int(np.sum(t["color"] == "purple"))
    assert purple["rate"] == pytest.approx(np.mean(pred[t["color"] == "purple"] != t["label"][t["color"] == "purple"]))
    assert (out / "errors_to_tag.csv").read_text().splitlines()[0] == "id,tag,true,predicted,x1,color,city,price"
    assert not (out / "misclassified.png").exists() and (out / "confusion_matrix.png").exists()


def test_errors_on_a_regression_table_model(table_models, tmp_path, capsys):
    t = _table(np.random.default_rng(3), 300)
    data = _write(tmp_path / "cv.parquet", t)
    assert main(["errors", str(table_models / "reg" / "model.zip"), "--data", str(data),
                 "--out", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    assert "rows with the largest errors" in text and "mean |error| by column value" in text
    doc = json.loads((tmp_path / "out" / "error_analysis.json").read_text())
    assert doc["task"] == "regression" and doc["slice_measure"] == "mean |error|"
    assert doc["slices"][0]["column"] == "city" and doc["slices"][0]["value"] == "north"
    errors = [abs(r["error"]) for r in doc["error_rows"]]
    assert errors == sorted(errors, reverse=True)


def test_errors_on_a_table_model_refuse_an_npz_and_name_the_flags(table_models, digits_model, capsys):
    folder, _ = digits_model
    assert main(["errors", str(table_models / "clf" / "model.zip"), "--data", str(folder / "cv.npz")]) == 2
    assert "pass a table (CSV, Parquet...) with those columns to --data" in capsys.readouterr().err
