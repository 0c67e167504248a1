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
    np.savez(tmp_path / "cv.npz", x=x[300:700], y=y[300:700])
    wrong = np.flatnonzero(model.predict(x[300:700]).argmax(1) != y[300:700])
    return tmp_path, wrong


def test_errors_command_prints_the_analysis_and_writes_the_files(digits_model, capsys):
    folder, wrong = digits_model
    out = folder / "report"
    assert main(["errors", str(folder / "digits.zip"), "--data", str(folder / "cv.npz"), "--out", str(out),
                 "--sample-size", "30"]) == 0
    text = capsys.readouterr().out
    assert f"{len(wrong)} of 400 cv examples misclassified" in text and "error by true class" in text
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


def test_errors_command_reports_bad_input(digits_model, capsys):
    folder, _ = digits_model
    np.savez(folder / "bad.npz", x=np.zeros((5, 10)), y=np.zeros(5))
    assert main(["errors", str(folder / "digits.zip"), "--data", str(folder / "bad.npz")]) == 2
    assert "expects samples of shape (64,)" in capsys.readouterr().err
