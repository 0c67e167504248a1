"""as_columns: every tabular input as named 1-D columns with one convention for numbers, text and missing values."""

import sys
import time
from decimal import Decimal

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from learnloop._columns import as_columns
from learnloop.errors import LearnloopError


def _same(got: dict, expected: dict) -> None:
    assert list(got) == list(expected)
    for name, values in expected.items():
        assert got[name].dtype == values.dtype, name
        assert got[name].ndim == 1 and len(got[name]) == len(values)
        if values.dtype == object:
            assert list(got[name]) == list(values), name
        else:
            assert_array_equal(got[name], values)


EXPECTED = {"age": np.array([39, 50]), "hours": np.array([40.5, np.nan]),
            "workclass": np.array(["State-gov", None], dtype=object)}


def test_dict_of_lists():
    _same(as_columns({"age": [39, 50], "hours": [40.5, None], "workclass": ["State-gov", None]}, "t"), EXPECTED)


def test_list_of_row_dicts():
    rows = [{"age": 39, "hours": 40.5, "workclass": "State-gov"}, {"age": 50, "hours": None, "workclass": None}]
    _same(as_columns(rows, "t"), EXPECTED)


def test_dict_of_arrays_of_every_dtype():
    got = as_columns({"f": np.array([1, 2], np.float32), "i": np.array([1, 2], np.uint8),
                      "b": np.array([True, False]), "u": np.array(["a", "b"]), "s": np.array([b"x", b"y"]),
                      "o": np.array(["a", np.nan], dtype=object)}, "t")
    assert got["f"].dtype == np.float64 and got["i"].dtype == np.int64 and list(got["b"]) == [1, 0]
    assert list(got["u"]) == ["a", "b"] and list(got["s"]) == ["x", "y"] and list(got["o"]) == ["a", None]
    assert all(type(v) is str for v in got["u"])


def test_dict_of_scalars_is_one_row():
    got = as_columns({"age": 39, "hours": 40.5, "workclass": "State-gov", "flag": True, "gone": None,
                      "n": np.int32(3)}, "t")
    _same(got, {"age": np.array([39]), "hours": np.array([40.5]), "workclass": np.array(["State-gov"], object),
                "flag": np.array([1]), "gone": np.array([np.nan]), "n": np.array([3])})


def test_mixed_text_and_numbers_is_text():
    got = as_columns({"zip": [75001, "2A004", None, float("nan")]}, "t")
    assert list(got["zip"]) == ["75001", "2A004", None, None]


def test_pandas_dataframe():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"age": [39, 50], "hours": [40.5, None], "workclass": ["State-gov", None],
                       "cat": pd.Categorical(["a", None]), "nullable": pd.array([1, None], dtype="Int64"),
                       "when": pd.to_datetime(["2024-01-31", None]), "obj": pd.Series([1, "x"], dtype=object)})
    got = as_columns(df, "t")
    _same({k: got[k] for k in EXPECTED}, EXPECTED)
    assert list(got["cat"]) == ["a", None] and got["nullable"].dtype == np.float64 and np.isnan(got["nullable"][1])
    assert list(got["when"]) == ["2024-01-31", None] and list(got["obj"]) == ["1", "x"]


def test_pyarrow_table_and_record_batch():
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"age": pa.array([39, 50], pa.int32()), "hours": [40.5, None], "workclass": ["State-gov", None]})
    _same(as_columns(table, "t"), EXPECTED)
    _same(as_columns(table.to_batches()[0], "t"), EXPECTED)
    chunked = pa.table({"c": pa.chunked_array([["a", None], ["b"]]).dictionary_encode(),
                        "n": pa.chunked_array([[1, 2], [None]]),
                        "d": pa.array([Decimal("1.5"), Decimal("2.5"), Decimal("3.5")]),
                        "e": pa.nulls(3)})
    got = as_columns(chunked, "t")
    assert list(got["c"]) == ["a", None, "b"] and np.isnan(got["n"][2]) and got["d"][2] == 3.5
    assert np.isnan(got["e"]).all()
    with pytest.raises(LearnloopError, match=r"column 'l' has Arrow type list<item: int64>"):
        as_columns(pa.table({"l": [[1, 2], [3]]}), "t")


def test_pyarrow_conversion_does_not_import_pandas():
    import subprocess

    # pyarrow's own to_numpy imports pandas (a second of start-up); a table read from a file must not need it
    code = ("import io, sys, pyarrow.csv as c; from learnloop._columns import as_columns; "
            "t = c.read_csv(io.BytesIO(b'a,b,c\\n1,x,1.5\\n,,2.5\\n')); as_columns(t, 't'); "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_numpy_only_at_import():
    import subprocess

    code = "import sys; import learnloop._columns; print('pandas' in sys.modules, 'pyarrow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


@pytest.mark.parametrize("data, message", [
    ({"a": [1, 2, 3], "b": [1, 2]}, r"different lengths: 'a' \(3\), 'b' \(2\)"),
    ({"a": np.zeros((3, 2))}, r"column 'a' holds values of shape \(2,\) in each row"),
    ({"a": [[1, 2], [3]]}, r"column 'a' holds list values"),
    ([{"a": 1, "b": 2}, {"a": 3}], r"row 1 lacks \['b'\]; every row dict needs the same keys as row 0"),
    ([{"a": 1}, {"a": 3, "c": 4}], r"row 1 has \['c'\] that row 0 does not"),
    ({}, "no columns"),
    ([], "got an empty list"),
    ({"a": []}, "no rows"),
    (np.zeros((3, 2)), r"got a 2-D array of shape \(3, 2\)"),
])
def test_errors_say_where_what_was_expected_and_what_arrived(data, message):
    with pytest.raises(LearnloopError, match=r"^predict\(\)" + ".*" + message):
        as_columns(data, "predict()")


def test_one_row_is_cheap():
    row = {"age": 39, "workclass": "State-gov", "fnlwgt": 77516.0, "education": "Bachelors", "hours": 40}
    as_columns(row, "t")
    best = min(_timed(lambda: as_columns(row, "t"), 2000) for _ in range(5))
    assert best < 50e-6     # ~1 us per column on a laptop; generous for a shared machine


def test_a_million_rows_need_no_per_row_python_work():
    n = 1_000_000
    columns = {"x": np.arange(n, dtype=np.float32), "k": np.arange(n) % 7,
               "s": np.array(["a", "bb", "ccc", None] * (n // 4), dtype=object)}
    best = min(_timed(lambda: as_columns(columns, "t"), 1) for _ in range(3))
    assert best < 1.0


def _timed(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def test_whole_numbers_beyond_int64_are_floats_in_rows_and_columns():
    big = 2**64
    one_row = as_columns({"n": big, "x": 1.5}, "x")
    assert one_row["n"].dtype == np.float64 and one_row["n"][0] == float(big)
    column = as_columns({"n": [big, 3]}, "x")
    assert column["n"].dtype == np.float64 and column["n"].tolist() == [float(big), 3.0]
    assert as_columns({"n": [2**62, 3]}, "x")["n"].dtype == np.int64
