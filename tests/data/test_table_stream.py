"""TableStream: a table file in blocks, read as read_table reads it; numeric columns flag their bad values."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from learnloop.data.table_stream import TableStream
from learnloop.data.tables import read_table, write_table
from learnloop.errors import LearnloopError


def collect(stream, columns, **kwargs):
    blocks = list(stream.blocks(columns, **kwargs))
    return blocks, {c: np.concatenate([b.columns[c] for b in blocks]) for c in columns}


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".arrow"])
def test_blocks_hold_what_read_table_reads(tmp_path, rng, suffix):
    n = 1000
    cols = {"x": rng.normal(size=n), "k": rng.integers(0, 5, n), "city": np.array(["a", "b", None], dtype=object)[
        rng.integers(0, 3, n)]}
    path = write_table(cols, tmp_path / f"t{suffix}")
    stream = TableStream(path)
    blocks, got = collect(stream, ["x", "k", "city"], block_rows=300)
    expected = read_table(path).columns
    for c in cols:
        assert_array_equal(got[c], expected[c])
    assert [b.start for b in blocks] == list(np.cumsum([0] + [b.n for b in blocks[:-1]]))
    assert stream.num_rows == (None if suffix in (".csv", ".tsv") else n)
    if suffix not in (".csv", ".tsv"):
        assert [b.n for b in blocks] == [300, 300, 300, 100]


def test_numeric_columns_flag_values_that_are_not_numbers(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("id;age;city\n1;3,5;Paris\n2; NA ;Lyon\n3;abc;Nice\n4;;x\n5; 7 ;y\n")
    stream = TableStream(path)
    (block,), got = collect(stream, ["id", "age", "city"], numeric=["age"])
    assert_array_equal(got["age"], [3.5, np.nan, np.nan, np.nan, 7.0])
    assert_array_equal(block.invalid["age"], [False, False, True, False, False])
    assert block.text["age"][2] == "abc"
    assert list(got["city"]) == ["Paris", "Lyon", "Nice", "x", "y"]


def test_ragged_lines_stop_or_are_skipped(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3\n4,5\n")
    with pytest.raises(LearnloopError, match="line 3 has 1 fields where the table has 2"):
        collect(TableStream(path), ["a", "b"])
    stream = TableStream(path, skip_ragged=True)
    _, got = collect(stream, ["a", "b"])
    assert_array_equal(got["a"], [1, 4]) and stream.ragged[0][:2] == (3, "3")


def test_text_without_header_whitespace_and_other_encodings(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("  1.0   2.0  x\n  3.0   4.5  y\n")
    stream = TableStream(path, names=["p", "q", "r"])
    _, got = collect(stream, ["p", "q", "r"], numeric=["p"])
    assert_array_equal(got["q"], [2.0, 4.5]) and list(got["r"]) == ["x", "y"]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,v\nJosé,1\nZoë,2\n".encode("cp1252"))
    _, got = collect(TableStream(latin), ["name", "v"])
    assert list(got["name"]) == ["José", "Zoë"]


def test_missing_columns_and_files_are_named(tmp_path):
    path = write_table({"a": np.arange(3)}, tmp_path / "t.parquet")
    with pytest.raises(LearnloopError, match="has no column 'b'; its columns are \\['a'\\]"):
        next(TableStream(path).blocks(["b"]))
    with pytest.raises(LearnloopError, match="No data file"):
        TableStream(tmp_path / "nope.csv")
