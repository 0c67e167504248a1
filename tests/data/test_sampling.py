"""One pass over a table: each row's part and place in the sample from a hash of its number, the sample kept."""

from __future__ import annotations

import numpy as np
import pytest

from learnloop.data import sampling
from learnloop.data.sampling import row_parts, row_priorities, sample_dataset, sample_table
from learnloop.data.tables import write_table
from learnloop.errors import LearnloopError


def test_parts_and_priorities_do_not_depend_on_how_the_rows_are_read():
    whole = row_parts(0, 10_000, seed=3)
    assert np.array_equal(whole, np.concatenate([row_parts(0, 4_321, 3), row_parts(4_321, 5_679, 3)]))
    assert np.array_equal(row_priorities(0, 100, 3)[50:], row_priorities(50, 50, 3))
    assert not np.array_equal(whole, row_parts(0, 10_000, seed=4))
    share = np.bincount(row_parts(0, 200_000, seed=0), minlength=3) / 200_000
    np.testing.assert_allclose(share, [0.6, 0.2, 0.2], atol=0.004)         # 4 standard errors
    u = row_priorities(0, 200_000, seed=0)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.003


def _table(rng, n: int = 3_000) -> dict:
    y = np.where(rng.random(n) < 0.5, "yes", "no").astype(object)
    y[[17, n - 500]] = "rare"                                        # two rows of a rare class
    x = rng.normal(size=n)
    x[[5, 6, 7]] = np.nan
    return {"x": x, "n": rng.integers(0, 9, n), "color": rng.choice(["red", "blue"], n).astype(object), "y": y}


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(sampling, "BLOCK_ROWS", 256)       # many blocks: the kept rows are pruned on the way


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_kept_rows_are_the_smallest_priorities_whatever_the_format(tmp_path, rng, small_blocks, suffix):
    columns = _table(rng)
    path = write_table(columns, tmp_path / f"t{suffix}")
    sample = sample_table(path, "y", keep=500, seed=1)
    n = len(columns["y"])
    prio = row_priorities(0, n, 1)
    parts = row_parts(0, n, 1)
    assert sample.n_rows == n
    assert np.array_equal(sample.part_rows, np.bincount(parts, minlength=3))
    assert sample.missing == {"x": 3}
    smallest = set(np.argsort(prio)[:500].tolist())
    assert smallest <= set(sample.rows.tolist())                         # the uniform sample, plus reserved rows
    assert np.array_equal(sample.parts, parts[sample.rows])
    assert sample.table.column("color").to_pylist() == columns["color"][sample.rows].tolist()
    rest = sample.rows[sample.reserved + 6:]
    assert np.all(np.diff(prio[rest]) > 0)                               # in sample order after the reserved rows
    rare_train = [r for r in (17, n - 500) if parts[r] == 0]
    assert set(rare_train) <= set(sample.rows[:12].tolist())            # a rare class reaches the training rows


def test_the_sample_reads_as_load_table_reads_and_counts_missing_values_in_the_whole_file(tmp_path, rng):
    columns = _table(rng)
    path = write_table(columns, tmp_path / "t.csv")
    sample = sample_table(path, "y", keep=1_000, seed=0)
    with pytest.raises(LearnloopError, match=r"missing values in 1 numeric columns of the 3,000 rows of the file: "
                                             r"x \(3\)"):
        sample_dataset(sample, "y")
    dropped = sample_dataset(sample, "y", missing="drop")
    kept = ~np.isin(sample.rows, [5, 6, 7])
    assert np.array_equal(dropped.rows, sample.rows[kept]) and np.array_equal(dropped.parts, sample.parts[kept])
    assert dropped.dropped == ("target", "numbers") and dropped.numeric == ["x", "n"]
    data = sample_dataset(sample, "y", missing="impute").data
    assert data.classes == ["no", "rare", "yes"] and len(data.y) == len(sample.rows)
    assert data.columns["n"].dtype == np.int64 and data.columns["color"].dtype == object
    assert any("x (3) (counts of the 3,000 rows of the file" in note for note in data.notes)


def test_a_missing_target_is_counted_in_the_whole_file(tmp_path, rng):
    columns = _table(rng)
    columns["y"][[100, 2_000]] = None
    path = write_table(columns, tmp_path / "t.csv")
    sample = sample_table(path, "y", keep=300, seed=0)
    assert sample.missing_target.sum() == 2
    with pytest.raises(LearnloopError, match="the target column 'y' is missing in 2 of the 3,000 rows"):
        sample_dataset(sample, "y")
    data = sample_dataset(sample, "y", missing="impute").data              # never imputed: left out
    assert not any(v is None for v in data.columns["y"])
    assert "left out the 2 rows whose target 'y' is missing" in data.notes


def test_sample_table_names_a_missing_target(tmp_path, rng):
    path = write_table(_table(rng, 1_000), tmp_path / "t.csv")
    with pytest.raises(LearnloopError, match="no column named 'z'"):
        sample_table(path, "z", keep=10)


@pytest.mark.parametrize("target, task", [
    (lambda rng, n: rng.integers(0, 500, n), "auto"),                           # whole numbers, many values
    (lambda rng, n: rng.normal(size=n).round(3), "auto"),
    (lambda rng, n: np.array([f"${v:,}" for v in rng.integers(1000, 90_000, n)], dtype=object), "auto"),
    (lambda rng, n: rng.integers(0, 5, n), "regression"),
])
def test_a_quantity_reserves_no_rows_so_the_sample_stays_uniform(tmp_path, rng, target, task):
    n = 900
    path = write_table({"x": rng.normal(size=n), "y": target(rng, n)}, tmp_path / "q.csv")
    sample = sample_table(path, "y", keep=900, seed=0, task=task)
    assert sample.reserved == 0
    assert np.array_equal(sample.rows, np.argsort(row_priorities(0, n, 0), kind="stable"))
    first = np.bincount(sample.parts[:300], minlength=3)
    assert first[1] > 30 and first[2] > 30                               # cv and test rows among the first 300


def test_classes_written_as_numbers_are_still_reserved(tmp_path, rng):
    n = 900
    y = rng.integers(0, 3, n)
    path = write_table({"x": rng.normal(size=n), "y": y}, tmp_path / "c.csv")
    sample = sample_table(path, "y", keep=900, seed=0)
    assert np.all(sample.parts[:9] == 0)                                 # three training rows per class go first
    assert sorted(np.bincount(y[sample.rows[:9]]).tolist()) == [3, 3, 3]
