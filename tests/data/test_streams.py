"""NpyBatches and ParquetBatches: every row once per epoch, seeded shuffles that change between epochs, a bounded
number of rows held, and the randomness the module docstring claims."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import learnloop
from learnloop import Input, Sequential
from learnloop.data import NpyBatches, ParquetBatches
from learnloop.errors import LearnloopError
from learnloop.layers import Dense
from learnloop.losses import BinaryCrossentropy
from learnloop.utils import FeatureSpace

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


# ---- NpyBatches ----------------------------------------------------------------------------------------------
@pytest.fixture
def npy(tmp_path, rng):
    n = 1003                                        # 20 blocks of 50 rows and a tail of 3
    x = np.column_stack([np.arange(n), rng.normal(size=(n, 3))]).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(n))
    return tmp_path / "x.npy", tmp_path / "y.npy", x


def epoch_rows(ds):
    rows = np.concatenate([ds[i][1] for i in range(len(ds))])
    ds.on_epoch_end()
    return rows


def test_npy_batches_give_every_row_once_per_epoch_in_a_seeded_order(npy):
    x_path, y_path, x = npy
    ds = NpyBatches(x_path, y_path, batch_size=32, seed=7, block_size=50, window_blocks=4)
    epochs = [epoch_rows(ds) for _ in range(3)]
    for rows in epochs:
        assert_array_equal(np.sort(rows), np.arange(len(x)))
    assert not np.array_equal(epochs[0], epochs[1])
    again = NpyBatches(x_path, y_path, batch_size=32, seed=7, block_size=50, window_blocks=4)
    assert_array_equal(epoch_rows(again), epochs[0])
    xb, yb = ds[3]
    assert_array_equal(xb, x[yb]) and len(ds) == 32           # inputs and targets of the same rows


def test_npy_batches_read_each_batch_from_one_window_of_blocks(npy):
    x_path, y_path, _ = npy
    ds = NpyBatches(x_path, y_path, batch_size=25, seed=0, block_size=50, window_blocks=4)
    window = 50 * 4
    for i in range(1000 // 25):                     # batches inside the 1000 blocked rows: 8 per window
        rows = ds.rows(i)
        blocks = set((rows // 50).tolist())
        assert len(blocks) <= 4                     # only the window's 4 blocks are touched
        same_window = [ds.rows(j) for j in range((i // 8) * 8, (i // 8) * 8 + 8)]
        assert len(set(np.concatenate(same_window) // 50)) == 4 and i * 25 // window == (i // 8)
    assert ds.max_rows_held <= 25


def test_npy_batches_mix_rows_as_the_docstring_says(tmp_path):
    """40 blocks of 50 rows, windows of 4 blocks (W = 200), batches of 20: two rows of the same block share a batch
    with probability 19/199; rows of different blocks with 3/39 * 19/199."""
    np.save(tmp_path / "x.npy", np.zeros((2000, 1), np.float32))
    np.save(tmp_path / "y.npy", np.arange(2000))
    ds = NpyBatches(tmp_path / "x.npy", tmp_path / "y.npy", batch_size=20, seed=5, block_size=50, window_blocks=4)
    same, other, epochs = 0, 0, 30
    for _ in range(epochs):
        for i in range(len(ds)):
            counts = np.bincount(ds[i][1] // 50, minlength=40)
            pairs = (counts * (counts - 1) // 2).sum()
            same, other = same + pairs, other + 190 - pairs
        ds.on_epoch_end()
    assert same / (epochs * 40 * 1225) == pytest.approx(19 / 199, rel=0.05)
    assert other / (epochs * (1999000 - 40 * 1225)) == pytest.approx(3 / 39 * 19 / 199, rel=0.05)


def test_npy_batches_in_file_order_and_through_fit(npy):
    x_path, y_path, x = npy
    ds = NpyBatches(x_path, y_path, batch_size=100, shuffle=False)
    assert_array_equal(epoch_rows(ds), np.arange(len(x)))
    y = (x[:, 1] > 0).astype(np.float32)
    np.save(y_path, y)

    def make():
        learnloop.set_seed(0)
        m = Sequential([Input((4,)), Dense(4, activation="relu"), Dense(1)])
        m.compile(optimizer="adam", loss=BinaryCrossentropy(from_logits=True))
        return m

    reference = make()
    reference.fit(x, y, batch_size=100, epochs=2, shuffle=False, verbose=0)
    streamed = make()
    streamed.fit(NpyBatches(x_path, y_path, batch_size=100, shuffle=False), epochs=2, verbose=0)   # fit keeps the order
    assert all(np.array_equal(p, q) for p, q in zip(reference.get_weights(), streamed.get_weights()))
    threads = make()
    threads.fit(NpyBatches(x_path, y_path, batch_size=100, shuffle=False, workers=2), epochs=2, verbose=0)
    assert all(np.array_equal(p, q) for p, q in zip(reference.get_weights(), threads.get_weights()))
    assert_allclose(streamed.predict(NpyBatches(x_path, batch_size=64, shuffle=False)), streamed.predict(x))


def test_npy_batches_refuse_mismatched_files(npy, tmp_path):
    x_path, _, _ = npy
    np.save(tmp_path / "short.npy", np.zeros(10))
    with pytest.raises(LearnloopError, match="has 10 rows but x has 1003"):
        NpyBatches(x_path, tmp_path / "short.npy")
    with pytest.raises(LearnloopError, match="must be a .npy file"):
        NpyBatches(tmp_path / "x.csv")


# ---- ParquetBatches ------------------------------------------------------------------------------------------
def write_parquet(path, n, group, rng, start=0):
    table = pa.table({"id": np.arange(start, start + n), "a": rng.normal(size=n),
                      "b": rng.normal(size=n).astype(np.float32),
                      "city": np.array(["Paris", "Lyon", "Nice"], dtype=object)[rng.integers(0, 3, n)],
                      "label": np.array(["no", "yes"], dtype=object)[rng.integers(0, 2, n)],
                      "y": rng.integers(0, 2, n)})
    pq.write_table(table, path, row_group_size=group)
    return table


@pytest.fixture
def parquet(tmp_path, rng):
    write_parquet(tmp_path / "t.parquet", 2000, 100, rng)   # 20 row groups of 100 rows
    return tmp_path / "t.parquet"


def ids_of(source):
    return [xb[:, 0].astype(np.int64) for xb, _ in source]


@pytest.mark.parametrize("prefetch", [True, False])
def test_parquet_batches_give_every_row_once_per_epoch_in_a_seeded_order(parquet, prefetch):
    source = ParquetBatches(parquet, target="y", features=["id", "a", "b"], batch_size=32, buffer_size=300, seed=3,
                            prefetch=prefetch)
    epochs = [np.concatenate(ids_of(source)) for _ in range(3)]
    for rows in epochs:
        assert_array_equal(np.sort(rows), np.arange(2000))
    assert not np.array_equal(epochs[0], epochs[1])
    assert_array_equal(np.concatenate(ids_of(ParquetBatches(parquet, target="y", features=["id", "a", "b"],
                                                            batch_size=32, buffer_size=300, seed=3))), epochs[0])
    sizes = [len(xb) for xb in ids_of(source)]
    assert sizes == [32] * 62 + [16] and len(source) == 63


def test_parquet_batches_in_file_order_across_files(tmp_path, rng):
    folder = tmp_path / "parts"
    folder.mkdir()
    for k in range(3):
        write_parquet(folder / f"part-{k}.parquet", 250, 60, rng, start=250 * k)
    source = ParquetBatches(folder, target="y", features=["id"], batch_size=64, shuffle=False)
    assert_array_equal(np.concatenate(ids_of(source)), np.arange(750))
    assert source.max_rows_held <= 2 * 60


def test_parquet_batches_give_dicts_of_columns_for_a_feature_space_model(parquet):
    source = ParquetBatches(parquet, target="y", columns=["a", "city"], batch_size=50, buffer_size=400, seed=0)
    x, y = next(iter(source))
    assert set(x) == {"a", "city"} and x["city"].dtype == object and len(y) == 50
    table = pq.read_table(parquet)
    cols = {"a": table.column("a").to_numpy(), "city": np.array(table.column("city").to_pylist(), dtype=object)}
    learnloop.set_seed(0)
    space = FeatureSpace({"a": "float_normalized", "city": "string_categorical"})
    space.adapt(cols)
    m = Sequential([space, Dense(4, activation="relu"), Dense(1)])
    m.compile(optimizer="adam", loss=BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    history = m.fit(source, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    y_all = table.column("y").to_numpy()
    assert_allclose(m.evaluate(ParquetBatches(parquet, target="y", columns=["a", "city"], shuffle=False)),
                    m.evaluate(cols, y_all), rtol=1e-6)
    assert_allclose(m.predict(ParquetBatches(parquet, columns=["a", "city"], shuffle=False, batch_size=300)),
                    m.predict(cols), rtol=1e-6)


def test_parquet_batches_hold_a_bounded_number_of_rows(parquet):
    for prefetch, bound in ((False, 300 + 99), (True, 2 * (300 + 99))):
        source = ParquetBatches(parquet, target="y", features=["a"], batch_size=16, buffer_size=300, seed=0,
                                prefetch=prefetch)
        held = []
        for _ in source:
            held.append(source.rows_held)
        assert max(held) <= bound and source.max_rows_held <= bound
        assert source.rows_held == 0                              # everything let go at the end of the epoch


def test_parquet_batches_mix_rows_as_the_docstring_says(tmp_path, rng):
    """20 row groups of 100 rows, fills of 400 rows (4 groups), batches of 20: two rows of the same row group share a
    batch with probability 19/399 (a full shuffle: 19/1999); rows of different groups with 3/19 * 19/399."""
    path = tmp_path / "g.parquet"
    write_parquet(path, 2000, 100, rng)
    source = ParquetBatches(path, target="y", features=["id"], batch_size=20, buffer_size=400, seed=11)
    same, other, epochs = 0, 0, 40
    for _ in range(epochs):
        for ids in ids_of(source):
            counts = np.bincount(ids // 100, minlength=20)
            pairs = (counts * (counts - 1) // 2).sum()
            same += pairs
            other += 20 * 19 // 2 - pairs
    same_pairs = epochs * 20 * (100 * 99 // 2)
    other_pairs = epochs * (2000 * 1999 // 2 - 20 * (100 * 99 // 2))
    assert same / same_pairs == pytest.approx(19 / 399, rel=0.05)
    assert other / other_pairs == pytest.approx(3 / 19 * 19 / 399, rel=0.05)
    assert same / same_pairs > 4 * 19 / 1999                    # far from a full shuffle, as documented


def test_parquet_batches_map_labels_to_classes(parquet):
    source = ParquetBatches(parquet, target="label", features=["a"], classes=["no", "yes"], shuffle=False,
                            batch_size=2000)
    _, y = next(iter(source))
    labels = pq.read_table(parquet).column("label").to_pylist()
    assert_array_equal(y, [["no", "yes"].index(v) for v in labels])
    with pytest.raises(LearnloopError, match="holds text.*classes=\\[...\\]"):
        next(iter(ParquetBatches(parquet, target="label", features=["a"])))
    with pytest.raises(LearnloopError, match="label 'yes'.*not one of classes"):
        next(iter(ParquetBatches(parquet, target="label", features=["a"], classes=["no"])))


def test_parquet_batches_errors(parquet, tmp_path):
    with pytest.raises(LearnloopError, match="has no column 'nope'"):
        ParquetBatches(parquet, target="nope")
    with pytest.raises(LearnloopError, match="column 'city' holds text"):
        next(iter(ParquetBatches(parquet, target="y", features=["a", "city"])))
    with pytest.raises(LearnloopError, match="columns= .* or features="):
        ParquetBatches(parquet, columns=["a"], features=["a"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(LearnloopError, match="holds no .parquet files"):
        ParquetBatches(tmp_path / "empty")
