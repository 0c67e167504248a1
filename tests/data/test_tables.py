"""read_table on the files people bring: delimiters, headers, banners, padding, encodings, quoting, bad rows."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from learnloop.data.tables import read_table, write_table
from learnloop.errors import LearnloopError


def _write(tmp_path, content, name="data.csv"):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def _note(table, word):
    found = [n for n in table.notes if word in n]
    assert found, f"no note with {word!r} in {table.notes}"
    return found[0]


# ---- delimiters and extensions --------------------------------------------------------------------------------
@pytest.mark.parametrize("delimiter, name", [(",", "a.csv"), (";", "a.txt"), ("\t", "a.tsv"), ("|", "a.data"),
                                             (" ", "noextension")])
def test_delimiter_is_sniffed_whatever_the_extension(tmp_path, delimiter, name):
    rows = [["x", "y", "label"]] + [[str(i), str(i * 0.5), "ab"[i % 2]] for i in range(20)]
    path = _write(tmp_path, "\n".join(delimiter.join(r) for r in rows) + "\n", name)
    table = read_table(path)
    assert list(table.columns) == ["x", "y", "label"] and table.n_rows == 20
    assert_array_equal(table.columns["x"], np.arange(20))
    assert table.columns["x"].dtype == np.int64 and table.columns["y"].dtype == np.float64
    assert list(table.columns["label"][:3]) == ["a", "b", "a"]
    assert "delimiter" in table.notes[1]


def test_runs_of_spaces_as_in_fixed_width_exports(tmp_path):
    lines = [f"  {i:14.7e} {-i * 0.25:15.7e}  \t {i % 3:d}" + " " * (i % 2) for i in range(10)]
    table = read_table(_write(tmp_path, "\n".join(lines) + "\n", "series.txt"))
    assert list(table.columns) == ["column_1", "column_2", "column_3"]
    assert_allclose(table.columns["column_2"], -np.arange(10) * 0.25)
    assert "runs of spaces" in _note(table, "delimiter")


def test_comma_space_separated_values_are_trimmed_and_split_on_commas(tmp_path):
    text = "".join(f"{20 + i}, State-gov, {i % 2}, Never married\n" for i in range(10))
    table = read_table(_write(tmp_path, text, "adult-like.data"))
    assert table.columns["column_2"][0] == "State-gov" and table.columns["column_4"][0] == "Never married"
    assert table.columns["column_1"].dtype == np.int64
    assert "trimmed" in _note(table, "trimmed")


def test_given_delimiter_is_used(tmp_path):
    path = _write(tmp_path, "a:b\n1:2\n3:4\n")
    table = read_table(path, delimiter=":")
    assert_array_equal(table.columns["b"], [2, 4])
    with pytest.raises(LearnloopError, match="delimiter must be one character"):
        read_table(path, delimiter="::")


def test_semicolon_file_with_decimal_commas(tmp_path):
    table = read_table(_write(tmp_path, "Preis;Menge;Ort\n1,5;2,25;Köln\n3;-0,75;Bonn\n,5;1e3;Ulm\n"))
    assert_allclose(table.columns["Preis"], [1.5, 3.0, 0.5])
    assert_allclose(table.columns["Menge"], [2.25, -0.75, 1000.0])
    assert list(table.columns["Ort"]) == ["Köln", "Bonn", "Ulm"]
    assert "Preis" in _note(table, "decimal commas")


def test_commas_in_a_semicolon_file_that_are_not_decimals_stay_text(tmp_path):
    table = read_table(_write(tmp_path, "id;tags\n1;a,b\n2;c\n3;1,2,3\n"))
    assert list(table.columns["tags"]) == ["a,b", "c", "1,2,3"]


# ---- header -----------------------------------------------------------------------------------------------------
def test_headerless_numeric_file_gets_positional_names(tmp_path):
    table = read_table(_write(tmp_path, "1,2.5,a\n2,3.5,b\n3,4.5,a\n"))
    assert list(table.columns) == ["column_1", "column_2", "column_3"] and table.n_rows == 3
    assert "no header" in _note(table, "header")


def test_header_with_numeric_looking_names(tmp_path):
    table = read_table(_write(tmp_path, "id,2019,2020\n1,1.5,2\n2,2.5,3\n"))
    assert list(table.columns) == ["id", "2019", "2020"] and table.n_rows == 2


def test_all_text_table_header_detection(tmp_path):
    with_header = read_table(_write(tmp_path, "color,size\nred,S\nblue,M\nred,L\n", "h.csv"))
    assert list(with_header.columns) == ["color", "size"]
    without = read_table(_write(tmp_path, "red,S\nblue,M\nred,L\n", "n.csv"))
    assert list(without.columns) == ["column_1", "column_2"] and without.n_rows == 3


def test_header_argument_and_names(tmp_path):
    path = _write(tmp_path, "a,b\n1,2\n3,4\n")
    assert read_table(path, header=False).n_rows == 3
    named = read_table(path, names=["p", "q"])
    assert list(named.columns) == ["p", "q"] and named.n_rows == 2 and _note(named, "replaced by names=")
    headerless = read_table(_write(tmp_path, "1,2\n3,4\n", "n.csv"), names=["p", "q"])
    assert headerless.n_rows == 2 and list(headerless.columns) == ["p", "q"]
    with pytest.raises(LearnloopError, match="names= gives 3 names but the table has 2 columns"):
        read_table(path, names=["p", "q", "r"])
    with pytest.raises(LearnloopError, match="header must be 'auto', True or False"):
        read_table(path, header="yes")


def test_repeated_and_empty_header_names_are_renamed(tmp_path):
    table = read_table(_write(tmp_path, "a,a,,b,a\n1,2,3,4,5\n6,7,8,9,10\n"))
    assert list(table.columns) == ["a", "a.1", "column_3", "b", "a.2"]
    assert "'a' -> 'a.1'" in _note(table, "renamed")
    assert "column_3" in _note(table, "empty field")


def test_banner_line_is_skipped_and_quoted(tmp_path):
    text = "|1x3 Cross validator\n" + "".join(f"{i}, Private, {i * 10}, <=50K.\n" for i in range(30))
    table = read_table(_write(tmp_path, text, "adult-like.test"))
    assert table.n_rows == 30 and table.columns["column_1"][0] == 0
    assert "|1x3 Cross validator" in _note(table, "skipped 1 line")


def test_comment_lines_before_a_header(tmp_path):
    text = "# exported 2024-01-01\n# by a tool\nx,y\n1,2\n3,4\n"
    table = read_table(_write(tmp_path, text))
    assert list(table.columns) == ["x", "y"] and table.n_rows == 2
    assert "skipped 2 lines" in _note(table, "skipped")


# ---- values: padding, missing tokens, types ---------------------------------------------------------------------
def test_missing_tokens_after_trimming_any_case(tmp_path):
    text = "n,t\n1, a\n ? , b\nNA,  N/A\nnan,NULL\n None ,c\n,d\n7,e\n"
    table = read_table(_write(tmp_path, text))
    n, t = table.columns["n"], table.columns["t"]
    assert n.dtype == np.float64 and np.isnan(n).sum() == 5 and n[0] == 1 and n[-1] == 7
    assert list(t) == ["a", "b", None, None, "c", "d", "e"]
    assert "n (5), t (2)" in _note(table, "missing values")


def test_numbers_only_when_every_value_is_one(tmp_path):
    table = read_table(_write(tmp_path, "code,amount,mixed\n007,1.5,1\n010,2,x\n003,1e3,3\n"))
    assert table.columns["code"].dtype == np.int64 and list(table.columns["code"]) == [7, 10, 3]
    assert table.columns["amount"].dtype == np.float64
    assert list(table.columns["mixed"]) == ["1", "x", "3"]


def test_dates_and_booleans_stay_text(tmp_path):
    table = read_table(_write(tmp_path, "day,flag,v\n2024-01-31,true,1\n2024-02-01,False,2\n"))
    assert list(table.columns["day"]) == ["2024-01-31", "2024-02-01"]
    assert list(table.columns["flag"]) == ["true", "False"]


def test_trailing_delimiter_makes_no_empty_column(tmp_path):
    table = read_table(_write(tmp_path, "1,2,\n3,4,\n5,6,\n"))
    assert list(table.columns) == ["column_1", "column_2"]
    assert _note(table, "dropped the last column")
    assert list(read_table(_write(tmp_path, "a,b,\n1,2,\n3,4,\n", "h.csv")).columns) == ["a", "b"]
    assert list(read_table(_write(tmp_path, "a,b,c\n1,2,\n3,4,\n", "named.csv")).columns) == ["a", "b", "c"]


# ---- encodings ---------------------------------------------------------------------------------------------------
TEXT = "name,city,score\nMüller,Köln,1.5\nCafé Noël,Zürich,2\nÅsa,Malmö,3\n"


@pytest.mark.parametrize("encoding, expected", [("utf-8", "UTF-8"), ("utf-8-sig", "byte-order mark"),
                                                ("utf-16", "UTF-16"), ("cp1252", "cp1252"),
                                                ("utf-16-le", "UTF-16")])
def test_encoding_is_detected(tmp_path, encoding, expected):
    table = read_table(_write(tmp_path, TEXT.encode(encoding)))
    assert list(table.columns) == ["name", "city", "score"]
    assert list(table.columns["name"]) == ["Müller", "Café Noël", "Åsa"]
    assert expected in table.notes[0]


def test_legacy_file_with_curly_quotes_and_euro_is_cp1252(tmp_path):
    text = "item,price\n\u201cGift\u201d box,5 \u20ac\nCrème brûlée,3 \u20ac\n"
    table = read_table(_write(tmp_path, text.encode("cp1252")))
    assert list(table.columns["item"]) == ["\u201cGift\u201d box", "Crème brûlée"]
    assert table.columns["price"][0] == "5 \u20ac"


def test_latin1_when_cp1252_cannot_decode(tmp_path):
    table = read_table(_write(tmp_path, b"a,b\nx\x81y,1\n"))
    assert table.columns["a"][0] == "x\x81y" and "latin-1" in table.notes[0]


def test_non_utf8_byte_after_the_sample_switches_to_cp1252(tmp_path):
    rows = "".join(f"{i},plain text row\n" for i in range(8000))
    path = _write(tmp_path, ("id,text\n" + rows).encode() + "9999,café\n".encode("cp1252"))
    table = read_table(path)
    assert table.columns["text"][-1] == "café" and table.n_rows == 8001
    assert "cp1252" in table.notes[0] and "byte" in table.notes[0]


def test_given_encoding_that_does_not_fit_is_one_clear_error(tmp_path):
    path = _write(tmp_path, b"a,b\nx,1\n" + "caf\u00e9,2\n".encode("cp1252"))
    with pytest.raises(LearnloopError, match=r"cannot be decoded as utf-8: byte 11 .*--encoding"):
        read_table(path, encoding="utf-8")
    with pytest.raises(LearnloopError, match=r"cannot be decoded as utf-16-le: byte 8 "):
        read_table(_write(tmp_path, b"a,b\nx,1\n\x00", "odd.csv"), encoding="utf-16")
    with pytest.raises(LearnloopError, match="unknown encoding 'klingon'"):
        read_table(path, encoding="klingon")
    assert read_table(path, encoding="cp1252").columns["a"][1] == "café"


# ---- quoting, line ends, bad rows --------------------------------------------------------------------------------
def test_quoted_fields_with_delimiters_newlines_and_quotes(tmp_path):
    text = 'id,comment,v\r\n1,"a, b",2\r\n2,"two\r\nlines",3\r\n3,"say ""hi""",4\r\n\r\n\r\n'
    table = read_table(_write(tmp_path, text))
    assert list(table.columns["comment"]) == ["a, b", "two\r\nlines", 'say "hi"']
    assert_array_equal(table.columns["v"], [2, 3, 4])


def test_quoted_newline_after_the_sample(tmp_path):
    rows = "".join(f"{i},plain\n" for i in range(9000))
    table = read_table(_write(tmp_path, "id,text\n" + rows + '9000,"two\nlines"\n9001,end\n'))
    assert table.n_rows == 9002 and table.columns["text"][9000] == "two\nlines"


def test_quotes_inside_values_are_not_field_quotes(tmp_path):
    text = 'label\tmessage\nham\t"Happy day" he said\nspam\tWin a "prize" now\nham\t"quoted" and more\n'
    table = read_table(_write(tmp_path, text, "sms.txt"))
    assert table.n_rows == 3 and table.columns["message"][0] == '"Happy day" he said'
    assert _note(table, "not field quotes")


def test_ragged_row_names_the_line_and_the_counts(tmp_path):
    rows = "".join(f"{i},{i},{i}\n" for i in range(50))
    path = _write(tmp_path, "a,b,c\n" + rows + "7,8\n" + rows)
    with pytest.raises(LearnloopError, match=r"line 52 has 2 fields where the table has 3 \('7,8'\)"):
        read_table(path)


# ---- files that are not tables ----------------------------------------------------------------------------------
def test_missing_file_folder_empty_file_header_only(tmp_path):
    with pytest.raises(LearnloopError, match="No data file at .*nope.csv"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(LearnloopError, match="No data file at .*: it is a folder"):
        read_table(tmp_path)
    with pytest.raises(LearnloopError, match="is empty"):
        read_table(_write(tmp_path, "", "empty.csv"))
    with pytest.raises(LearnloopError, match="is empty"):
        read_table(_write(tmp_path, "\n\r\n  \n", "blank.csv"))
    with pytest.raises(LearnloopError, match=r"has a header line \(a, b\) but no data rows"):
        read_table(_write(tmp_path, "a,b\n", "header.csv"))
    one_row = read_table(_write(tmp_path, "1,2.5\n", "one.csv"))
    assert one_row.n_rows == 1 and list(one_row.columns) == ["column_1", "column_2"]


# ---- Parquet and Arrow IPC --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["t.parquet", "t.feather", "t.csv", "t.tsv"])
def test_write_then_read_round_trip(tmp_path, name):
    columns = {"x": np.array([1.5, np.nan, 3.0]), "n": np.array([1, 2, 3]),
               "s": np.array(["a", None, "c d"], dtype=object)}
    table = read_table(write_table(columns, tmp_path / name))
    assert table.n_rows == 3 and list(table.columns) == ["x", "n", "s"]
    assert_allclose(table.columns["x"], columns["x"])
    assert table.columns["n"].dtype == np.int64
    assert list(table.columns["s"]) == ["a", None, "c d"]


def test_unreadable_parquet_is_a_clear_error(tmp_path):
    with pytest.raises(LearnloopError, match="not a readable parquet file"):
        read_table(_write(tmp_path, b"not parquet at all", "bad.parquet"))


# ---- scikit-learn's bundled sets and the shared real files ------------------------------------------------------
@pytest.mark.parametrize("loader", ["load_iris", "load_wine", "load_breast_cancer", "load_diabetes"])
def test_bundled_sets_written_as_csv_read_back_exactly(tmp_path, loader):
    import sklearn.datasets as skd

    bunch = getattr(skd, loader)()
    columns = {name: bunch.data[:, j] for j, name in enumerate(bunch.feature_names)}
    columns["target"] = bunch.target
    table = read_table(write_table(columns, tmp_path / f"{loader}.csv"))
    assert list(table.columns) == list(columns) and table.n_rows == len(bunch.target)
    assert_allclose(np.column_stack([table.columns[n] for n in bunch.feature_names]), bunch.data)
    assert_array_equal(table.columns["target"], bunch.target)


ADULT = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
         "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income"]


def test_adult_data(shared_data):
    table = read_table(shared_data / "fairness" / "adult.data")
    assert table.n_rows == 32561 and len(table.columns) == 15
    age, workclass, income = table.columns["column_1"], table.columns["column_2"], table.columns["column_15"]
    assert age.dtype == np.int64 and age[0] == 39 and workclass[0] == "State-gov"
    assert sorted(set(income)) == ["<=50K", ">50K"] and (income == ">50K").sum() == 7841
    assert (table.columns["column_10"] == "Female").sum() == 10771
    assert "column_2 (1836), column_7 (1843), column_14 (583)" in _note(table, "missing values")
    assert "no header" in _note(table, "header")


def test_adult_test_with_names(shared_data):
    table = read_table(shared_data / "fairness" / "adult.test", names=ADULT)
    assert table.n_rows == 16281 and list(table.columns) == ADULT
    assert sorted(set(table.columns["income"])) == ["<=50K.", ">50K."]
    assert (table.columns["income"] == ">50K.").sum() == 3846
    assert "|1x3 Cross validator" in _note(table, "skipped 1 line")


def test_german_credit(shared_data):
    table = read_table(shared_data / "fairness" / "german.data")
    assert table.n_rows == 1000 and len(table.columns) == 21
    assert table.columns["column_1"][0] == "A11" and table.columns["column_2"].dtype == np.int64
    status = table.columns["column_9"]
    assert {s: int((status == s).sum()) for s in ("A91", "A92", "A93", "A94")} == \
        {"A91": 50, "A92": 310, "A93": 548, "A94": 92}
    assert (table.columns["column_21"] == 1).sum() == 700
    assert "space" in _note(table, "delimiter")


def test_spambase(shared_data):
    table = read_table(shared_data / "spam" / "spambase.data")
    assert table.n_rows == 4601 and len(table.columns) == 58
    assert all(c.dtype.kind in "fi" for c in table.columns.values())
    assert (table.columns["column_58"] == 1).sum() == 1813


def test_sms_spam_collection_quotes_are_text(shared_data):
    table = read_table(shared_data / "spam" / "SMSSpamCollection")
    labels = table.columns["column_1"]
    assert table.n_rows == 5574 and (labels == "ham").sum() == 4827 and (labels == "spam").sum() == 747


def test_ucr_series_in_runs_of_spaces(shared_data):
    table = read_table(shared_data / "ecg" / "ECG200_TRAIN.txt")
    assert table.n_rows == 100 and len(table.columns) == 97
    reference = np.loadtxt(shared_data / "ecg" / "ECG200_TRAIN.txt")
    assert_allclose(np.column_stack(list(table.columns.values())), reference)
