"""Every row of a table encoded once into .npy files per part, for the final training and the scoring."""

from __future__ import annotations

import numpy as np
import pytest

from learnloop.data import encode_pass, sampling
from learnloop.data.encode_pass import LabelIndex, Moments, NpyAppender, encode_parts
from learnloop.data.sampling import row_parts, sample_dataset, sample_table
from learnloop.data.tables import write_table
from learnloop.errors import LearnloopError


def test_an_appended_npy_file_loads_as_the_rows_written(tmp_path, rng):
    blocks = [rng.normal(size=(n, 3)).astype(np.float32) for n in (5, 0, 7)]
    writer = NpyAppender(tmp_path / "x.npy", np.float32, (3,))
    for b in blocks:
        writer.append(b)
    writer.close()
    loaded = np.load(tmp_path / "x.npy", mmap_mode="r")
    assert loaded.shape == (12, 3) and np.array_equal(loaded, np.concatenate(blocks))
    labels = NpyAppender(tmp_path / "y.npy", np.int64)
    labels.append(np.arange(4))
    labels.close()
    assert np.load(tmp_path / "y.npy").tolist() == [0, 1, 2, 3]


def test_moments_merge_blocks_exactly(rng):
    x = rng.normal(3, 2, size=(1_000, 4))
    m = Moments()
    for part in np.array_split(x, 7):
        m.add(part)
    np.testing.assert_allclose(m.mean, x.mean(axis=0))
    np.testing.assert_allclose(m.variance, x.var(axis=0))


def test_labels_are_read_as_the_sample_read_them():
    index = LabelIndex([1, 2, "a"])
    codes, unknown = index(np.array([2.0, 1.0, 2.0]))
    assert codes.tolist() == [1, 0, 1] and not unknown.any()
    codes, unknown = index(np.array(["a", "1", "b"], dtype=object))
    assert codes.tolist()[:2] == [2, 0] and unknown.tolist() == [False, False, True]


@pytest.fixture
def table(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(sampling, "BLOCK_ROWS", 300)
    monkeypatch.setattr(encode_pass, "BLOCK_ROWS", 300)
    n = 2_000
    columns = {"x": rng.normal(size=n).round(4), "k": rng.integers(0, 5, n),
               "color": rng.choice(["red", "blue", "green"], n).astype(object),
               "y": np.where(rng.random(n) < 0.4, "pos", "neg").astype(object)}
    columns["x"][[3, 900]] = np.nan
    return write_table(columns, tmp_path / "t.csv"), columns


def _encode(path, tmp_path, missing="impute", early=10_000):
    sample = sample_table(path, "y", keep=800, seed=2)
    sd = sample_dataset(sample, "y", missing=missing)
    sd.data.fit_features(np.flatnonzero(sd.parts == 0))
    folder = tmp_path / "rows"
    folder.mkdir()
    encoded = encode_parts(path, sd.data.feature_space, target="y", classes=sd.data.classes, numeric=sd.numeric,
                           dropped=sd.dropped, seed=2, folder=folder, part_rows=sample.part_rows,
                           read_options=sample.read_options, early_stop_rows=early)
    return sd, encoded


def test_every_row_is_encoded_once_into_its_part(table, tmp_path):
    path, columns = table
    sd, encoded = _encode(path, tmp_path)
    parts = row_parts(0, 2_000, 2)
    assert encoded.rows == {name: int((parts == k).sum()) for k, name in enumerate(("train", "cv", "test"))}
    x_train = np.load(encoded.x["train"])
    y_train = np.load(encoded.y["train"])
    rows = np.flatnonzero(parts == 0)
    space = sd.data.feature_space
    expected = space({name: columns[name][rows] for name in space.column_names})
    np.testing.assert_array_equal(x_train, expected.astype(np.float32))
    assert y_train.tolist() == [sd.data.classes.index(v) for v in columns["y"][rows]]
    np.testing.assert_allclose(encoded.train_moments.mean, x_train.mean(axis=0), rtol=1e-5, atol=1e-6)
    cv_x, cv_y = encoded.early_stop
    assert len(cv_y) == encoded.rows["cv"] and np.array_equal(cv_x, np.load(encoded.x["cv"]))


def test_rows_with_missing_numbers_are_left_out_under_drop_and_early_stopping_takes_a_sample(table, tmp_path):
    path, _ = table
    _, encoded = _encode(path, tmp_path, missing="drop", early=100)
    parts = row_parts(0, 2_000, 2)
    assert encoded.skipped == {"numbers missing": 2}
    assert sum(encoded.rows.values()) == 1_998
    assert encoded.rows["cv"] == int((parts == 1).sum()) - int((parts[[3, 900]] == 1).sum())
    assert 60 <= len(encoded.early_stop[1]) <= 140                     # a uniform sample of about 100 cv rows


def test_a_value_the_pipeline_cannot_take_is_named_by_row_and_column(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(encode_pass, "BLOCK_ROWS", 300)
    n = 1_500
    x = [f"{v:.3f}" for v in rng.normal(size=n)]
    x[1_400] = "oops"                                  # beyond the rows kept: the sample finds x numeric
    y = np.where(rng.random(n) < 0.5, "a", "b")
    path = tmp_path / "t.csv"
    path.write_text("x,y\n" + "\n".join(f"{a},{b}" for a, b in zip(x, y)) + "\n")
    sample = sample_table(path, "y", keep=200, seed=0)
    assert 1_400 not in sample.rows
    sd = sample_dataset(sample, "y")
    sd.data.fit_features(np.flatnonzero(sd.parts == 0))
    with pytest.raises(LearnloopError, match=r"row 1401 \(data rows counted from 1\): column 'x' holds numbers in the "
                                             r"rows sampled to type the columns, but this row has 'oops'"):
        encode_parts(path, sd.data.feature_space, target="y", classes=sd.data.classes, numeric=sd.numeric,
                     dropped=sd.dropped, seed=0, folder=tmp_path, part_rows=sample.part_rows,
                     read_options=sample.read_options, early_stop_rows=1_000)
