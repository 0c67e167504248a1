"""decide_columns: each column's kind and reason on real tables and on tables made to hold each case."""

import time

import numpy as np
import pytest

from learnloop.data.column_types import (
    CATEGORICAL_MAX_LEVELS,
    HASH_MAX_BINS,
    HASH_MIN_BINS,
    ColumnDecision,
    decide_columns,
    hash_bins,
)
from learnloop.data.tables import read_table
from learnloop.errors import LearnloopError

ADULT = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
         "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income"]


def _by_name(decisions: list[ColumnDecision]) -> dict[str, ColumnDecision]:
    return {d.name: d for d in decisions}


def _table(rng, n=500) -> dict[str, np.ndarray]:
    """One column per rule: an id, a row number, a constant, many-valued text, a numeric code, free text..."""
    words = np.array(["good", "bad", "late", "delivery", "price", "box", "open", "again", "never", "great"])
    return {
        "customer": np.array([f"C{i:06d}" for i in rng.permutation(n)], dtype=object),
        "row": np.arange(1, n + 1),
        "country": np.full(n, "FR", dtype=object),
        "version": np.full(n, 3.0),
        "zip": np.array([f"{z:05d}" for z in rng.integers(0, 400, n)], dtype=object),
        "region": rng.integers(1, 6, n),
        "income": rng.normal(50_000, 10_000, n).round(2),
        "color": rng.choice(np.array(["red", "green", "blue"], dtype=object), n),
        "review": np.array([" ".join(rng.choice(words, 6)) + f" #{i}" for i in range(n)], dtype=object),
        "gone": np.full(n, np.nan),
        "y": rng.integers(0, 2, n),
    }


def test_each_rule_on_a_generated_table(rng):
    d = _by_name(decide_columns(_table(rng), "y"))
    assert "y" not in d
    assert (d["customer"].kind, d["customer"].reason) == ("dropped", "dropped: text unique in every row (an id)")
    assert d["row"].kind == "dropped" and "1..500" in d["row"].reason and "row number" in d["row"].reason
    assert d["country"].kind == "dropped" and "constant (every value is 'FR')" in d["country"].reason
    assert d["version"].kind == "dropped" and "constant" in d["version"].reason
    assert d["gone"].kind == "dropped" and "every value is missing" in d["gone"].reason and d["gone"].missing == 500
    assert d["zip"].kind == "hashed" and d["zip"].distinct > CATEGORICAL_MAX_LEVELS
    assert d["zip"].num_bins == 64 and "fewer than 5 rows per value" not in d["zip"].reason
    assert d["region"].kind == "numeric" and "--categorical region" in d["region"].reason
    assert d["income"].kind == "numeric" and d["income"].num_bins is None
    assert d["color"].kind == "categorical" and d["color"].distinct == 3
    assert d["review"].kind == "dropped" and "free text" in d["review"].reason and "vectorize" in d["review"].reason
    assert all(x.kind in ("numeric", "categorical", "hashed", "dropped") for x in d.values())


def test_many_valued_text_relative_to_the_rows_is_hashed(rng):
    n = 300
    values = np.array([f"v{i % 80}" for i in range(n)], dtype=object)        # 80 values, under 5 rows each
    d = decide_columns({"v": values, "y": rng.integers(0, 2, n)}, "y")[0]
    assert d.kind == "hashed" and "fewer than 5 rows per value" in d.reason
    assert d.num_bins == 32                                                # 300 rows / 5 -> at most 60 bins -> 32


def test_free_text_that_repeats_is_hashed_with_a_hint(rng):
    sentences = np.array([f"call me back about the {i} offer today" for i in range(400)], dtype=object)
    values = sentences[rng.integers(0, 400, 2000)]
    d = decide_columns({"msg": values}, None)[0]
    assert d.kind == "hashed" and "free text" in d.reason and "vectorize" in d.reason


def test_few_levels_are_categorical_even_in_a_tiny_table():
    d = _by_name(decide_columns({"color": np.array(["red", "blue", "red", "green"], dtype=object),
                                 "size": np.array([1.0, 2.0, 3.0, 4.0]), "flag": np.array([True, False, True, True]),
                                 "code": np.array(["a", "b", "a", "b"])}, None))
    assert d["color"].kind == "categorical" and d["size"].kind == "numeric" and d["flag"].kind == "numeric"
    assert d["code"].kind == "categorical" and d["code"].distinct == 2


def test_unique_whole_numbers_that_do_not_count_up_stay_numeric_with_a_hint(rng):
    ids = rng.choice(10**7, size=200, replace=False).astype(np.float64)
    d = decide_columns({"account": ids}, None)[0]
    assert d.kind == "numeric" and "--drop account" in d.reason
    increasing = np.sort(ids)
    assert decide_columns({"ticket": increasing}, None)[0].kind == "dropped"


def test_hash_bins_stay_within_their_bounds():
    assert hash_bins(101, 10**6) == 256 and hash_bins(5000, 10**6) == HASH_MAX_BINS
    assert hash_bins(101, 30) == HASH_MIN_BINS


# ---- overrides --------------------------------------------------------------------------------------------------
def test_overrides(rng):
    columns = _table(rng)
    columns["amount"] = np.array([f"{v:.2f}" for v in rng.normal(size=500)], dtype=object)
    d = _by_name(decide_columns(columns, "y", categorical=["region"], numeric=["amount"], drop=["income"],
                                keep_out=["color"]))
    assert d["region"].kind == "categorical" and "asked for" in d["region"].reason and d["region"].distinct == 5
    assert d["amount"].kind == "numeric" and d["income"].kind == "dropped" and "color" not in d
    assert d["income"].reason == "dropped (asked for)"


def test_numeric_override_names_the_first_value_that_is_not_a_number():
    columns = {"amount": np.array(["1.5", None, "2", "n/a?", "3"], dtype=object)}
    with pytest.raises(LearnloopError, match=r"numeric= names 'amount', but its value 'n/a\?' \(row 4\)"):
        decide_columns(columns, None, numeric=["amount"])


@pytest.mark.parametrize("kwargs, message", [
    ({"categorical": ["regoin"]}, r"categorical= names \['regoin'\], .* Did you mean 'region'\?"),
    ({"drop": ["nope"]}, r"drop= names \['nope'\], which the table does not have; the columns are \["),
    ({"categorical": ["region"], "drop": ["region"]}, r"'region' is named in both categorical= and drop="),
    ({"numeric": ["y"]}, r"'y' is the target, so it is not a feature; remove it from numeric="),
    ({"missing": "ignore"}, r"missing must be 'error', 'drop' or 'impute'; got 'ignore'"),
])
def test_override_errors(rng, kwargs, message):
    with pytest.raises(LearnloopError, match=message):
        decide_columns(_table(rng, 50), "y", **kwargs)


def test_unknown_target_suggests_the_closest():
    with pytest.raises(LearnloopError, match=r"no target column 'incom'.*Did you mean 'income'"):
        decide_columns({"income": np.arange(3.0), "age": np.arange(3.0)}, "incom")


# ---- missing values ----------------------------------------------------------------------------------------------
def test_missing_values_are_counted_or_refused():
    columns = {"a": np.array([1.0, np.nan, 3.0, 4.0]), "t": np.array(["x", None, None, "y"], dtype=object),
               "gone": np.full(4, np.nan), "y": np.array([0.0, 1.0, np.nan, 1.0])}
    counted = _by_name(decide_columns(columns, "y", missing="impute"))
    assert counted["a"].missing == 1 and counted["t"].missing == 2
    with pytest.raises(LearnloopError) as err:
        decide_columns(columns, "y")
    message = str(err.value)
    assert message.startswith("Missing values in 3 columns: a (1), t (2), y (1); 2 of 4 rows are affected.")
    assert "gone" not in message      # dropped, so its gaps do not matter
    assert message.endswith("Pass --missing drop to drop those rows, or --missing impute to fill them (median plus "
                            "a missing-indicator column for numbers, a 'missing' category for text).")


# ---- real tables -------------------------------------------------------------------------------------------------
def test_adult(shared_data):
    table = read_table(shared_data / "fairness" / "adult.data", names=ADULT)
    d = _by_name(decide_columns(table.columns, "income", keep_out=["sex", "race"], missing="drop"))
    assert set(d) == set(ADULT) - {"income", "sex", "race"}
    assert not [x.name for x in d.values() if x.kind == "dropped"]
    assert d["fnlwgt"].kind == "numeric" and d["fnlwgt"].distinct == 21648       # nearly unique, still a number
    for name in ("workclass", "education", "marital-status", "occupation", "relationship", "native-country"):
        assert d[name].kind == "categorical", name
    assert d["native-country"].distinct == 41 and d["native-country"].missing == 583
    assert d["workclass"].missing == 1836 and d["age"].kind == "numeric"
    with pytest.raises(LearnloopError, match=r"workclass \(1836\), occupation \(1843\), native-country \(583\); "
                                             r"2399 of 32561 rows"):
        decide_columns(table.columns, "income")


def test_german_credit_codes(shared_data):
    table = read_table(shared_data / "fairness" / "german.data")
    d = _by_name(decide_columns(table.columns, "column_21"))
    assert d["column_1"].kind == "categorical" and d["column_1"].distinct == 4          # A11..A14
    assert d["column_8"].kind == "numeric" and "--categorical column_8" in d["column_8"].reason
    assert d["column_5"].kind == "numeric"                                               # credit amount
    assert not [x for x in d.values() if x.kind in ("dropped", "hashed")]


def test_sms_messages_are_free_text(shared_data):
    table = read_table(shared_data / "spam" / "SMSSpamCollection", names=["label", "message"])
    d = decide_columns(table.columns, "label")[0]
    assert d.kind == "hashed" and d.num_bins == HASH_MAX_BINS and "vectorize" in d.reason


def test_spambase_is_all_numeric(shared_data):
    table = read_table(shared_data / "spam" / "spambase.data")
    assert {d.kind for d in decide_columns(table.columns, "column_58")} == {"numeric"}


def test_a_course_file_with_a_random_id_column(shared_data):
    table = read_table(shared_data / "course" / "C2_W3" / "c2w3_lab2_data3.csv")
    d = decide_columns(table.columns, "column_4")
    assert [x.kind for x in d] == ["numeric"] * 3
    assert "--drop column_1" in d[0].reason and "--drop" not in d[1].reason + d[2].reason


def test_as_dict_round_trips():
    d = decide_columns({"c": np.array(["a", "b", "a"], dtype=object)}, None)[0]
    assert ColumnDecision(**d.as_dict()) == d and d.as_dict()["kind"] == "categorical"


def test_a_million_rows_in_seconds(rng):
    n = 1_000_000
    columns = {f"x{i}": rng.normal(size=n) for i in range(20)}
    columns["city"] = np.array(["Paris", "Lyon", "Nice"], dtype=object)[rng.integers(0, 3, n)]
    columns["id"] = np.array([f"u{i}" for i in range(n)], dtype=object)
    columns["y"] = rng.integers(0, 2, n)
    start = time.perf_counter()
    d = _by_name(decide_columns(columns, "y"))
    assert time.perf_counter() - start < 10       # about 1 s here; a one-hot of the id column took 28 minutes
    assert d["id"].kind == "dropped" and d["city"].kind == "categorical"


def test_numbers_and_dates_written_as_text_are_numeric_with_their_format(rng):
    n = 300
    amounts = rng.uniform(0, 5000, n)
    columns = {
        "fare": np.array([f"${v:,.2f}" for v in amounts], dtype=object),
        "rate": np.array([f"{v:.1f}%" for v in rng.uniform(0, 100, n)], dtype=object),
        "joined": np.array([f"2020-01-{1 + i % 28:02d}" for i in range(n)], dtype=object),
        "opened": np.array([f"{(np.datetime64('2019-01-01') + i)}" for i in range(n)], dtype=object),
        "zip": np.array([f"0{rng.integers(1000, 9999)}" for _ in range(n)], dtype=object),
        "y": rng.integers(0, 2, n),
    }
    columns["fare"][::50] = None
    d = _by_name(decide_columns(columns, "y", missing="impute"))
    assert d["fare"].kind == "numeric" and d["fare"].parse == {"kind": "number", "decimal": ".", "thousands": ","}
    assert d["fare"].missing == 6 and "read from text such as '$" in d["fare"].reason
    assert d["rate"].kind == "numeric" and d["rate"].parse["kind"] == "number"
    assert d["joined"].kind == "numeric" and d["joined"].parse == {"kind": "date", "format": "iso"}
    assert "2020-01-01..2020-01-28" in d["joined"].reason
    # dates unique in every row and increasing are a time line, not a row number
    assert d["opened"].kind == "numeric" and "dates" in d["opened"].reason
    assert d["zip"].kind != "numeric" and d["zip"].parse is None            # leading zeros: codes
    assert d["fare"].as_dict()["parse"] == d["fare"].parse


def test_overrides_of_numbers_written_as_text():
    columns = {"price": np.array(["$1,000", "$2,500", "$1,000", None] * 10, dtype=object),
               "code": np.array(["1", "2", "3", "4"] * 10, dtype=object), "y": np.arange(40) % 2}
    d = _by_name(decide_columns(columns, "y", categorical=["code"], numeric=["price"], missing="impute"))
    assert d["price"].kind == "numeric" and d["price"].parse["kind"] == "number"
    assert d["price"].reason.startswith("numeric (asked for); read from text such as '$1,000'")
    assert d["code"].kind == "categorical" and d["code"].parse is None
    d = _by_name(decide_columns(columns, "y", categorical=["price"], missing="impute"))
    assert d["price"].kind == "categorical" and d["price"].parse is None
