"""Numbers and dates written as text: which formats are found, what they read as, and what is refused."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from learnloop.errors import LearnloopError
from learnloop.layers._features import FeatureValueError
from learnloop.layers._number_text import check_format, detect, parse, parse_column

US = {"kind": "number", "decimal": ".", "thousands": ","}
EU = {"kind": "number", "decimal": ",", "thousands": "."}


def col(*values) -> np.ndarray:
    return np.array(values, dtype=object)


def days(*ymd) -> float:
    return float((date(*ymd) - date(1970, 1, 1)).days)


@pytest.mark.parametrize("values, spec, expected", [
    (("$200.87", "$1,234.50", "($5.00)", "-$3", "€ 7"), US, [200.87, 1234.5, -5.0, -3.0, 7.0]),
    (("6.1%", "81.9%", "100%", "-0.5 %"), US, [6.1, 81.9, 100.0, -0.5]),           # the number as written
    (("1.234,5 €", "12,5 €", "3 €"), EU, [1234.5, 12.5, 3.0]),
    (("12,5", "3,25"), EU, [12.5, 3.25]),                                        # "12,5" is no US amount
    (("1 234,5", "2\u00a0000"), EU, [1234.5, 2000.0]),                           # space groups, no-break too
    (("1", "2.5", "3e3", ".5"), US, [1.0, 2.5, 3000.0, 0.5]),
])
def test_amounts_are_found_and_read(values, spec, expected):
    assert detect(col(*values)) == spec
    assert_allclose(parse_column(col(*values), spec, "c"), expected)


@pytest.mark.parametrize("values, fmt, expected", [
    (("2020-01-01", "2021-06-30 12:00", "2020-01-01T00:00:00Z"), "iso",
     [days(2020, 1, 1), days(2021, 6, 30) + 0.5, days(2020, 1, 1)]),
    (("01/31/2020", "12/01/2021"), "%m/%d/%Y", [days(2020, 1, 31), days(2021, 12, 1)]),
    (("31/01/2020", "01/12/2021"), "%d/%m/%Y", [days(2020, 1, 31), days(2021, 12, 1)]),
    (("31-Jan-2020", "1-feb-2021"), "%d-%b-%Y", [days(2020, 1, 31), days(2021, 2, 1)]),
    (("Jan 31, 2020", "Feb 1, 2021"), "%b %d, %Y", [days(2020, 1, 31), days(2021, 2, 1)]),
])
def test_dates_are_days_since_1970(values, fmt, expected):
    spec = detect(col(*values))
    assert spec == {"kind": "date", "format": fmt}
    assert_allclose(parse_column(col(*values), spec, "c"), expected)


@pytest.mark.parametrize("values", [
    ("02134", "90210", "10001"),              # ZIP codes: leading zeros make codes, not amounts
    ("Private", "Self-emp"),
    ("A11", "A12"),
    ("1,23.4", "5"),                          # a comma where no thousands separator goes, and no European decimal
    ("2020-02-30", "2020-01-01"),             # well formed, but not a day
    ("$", "$5"),
    ("5", "five"),
    (None, None),
])
def test_text_that_is_not_one_format_stays_text(values):
    assert detect(col(*values)) is None


def test_missing_values_stay_missing_and_numbers_pass_as_they_are():
    values, missing = parse(col("$1,000", None, float("nan"), 2.5, 7), US, "price")
    assert_array_equal(missing, [False, True, True, False, False])
    assert_allclose(values[~missing], [1000.0, 2.5, 7.0])
    assert_allclose(parse(np.array([1.0, np.nan]), US, "price")[0], [1.0, np.nan])


def test_a_value_that_does_not_read_names_its_column_and_row():
    with pytest.raises(FeatureValueError, match=r"Column 'price' holds numbers written as text .* row 2 has "
                                                r"'lots', which does not read as one") as err:
        parse(col("$1", None, "lots", "$4"), US, "price")
    assert (err.value.column, err.value.row) == ("price", 2)
    with pytest.raises(FeatureValueError, match=r"row 1 has '2020-13-01'"):
        parse(col("2020-01-01", "2020-13-01"), {"kind": "date", "format": "iso"}, "day")
    with pytest.raises(FeatureValueError, match=r"row 0 has True"):
        parse(col(True, "$1"), US, "price")


@pytest.mark.parametrize("spec", [
    "number", {"kind": "number"}, {"kind": "number", "decimal": ";", "thousands": ","},
    {"kind": "number", "decimal": ".", "thousands": ",", "extra": 1}, {"kind": "date", "format": "%Y%j"},
    {"kind": "date", "format": ["iso"]}, {"kind": "code"},
])
def test_only_known_formats_are_accepted(spec):
    with pytest.raises(LearnloopError, match="not a text format learnloop reads|expected a dict"):
        check_format(spec, "Feature parse")
    assert check_format(dict(US)) == US


def test_a_large_column_is_read_in_one_vectorized_pass_as_value_by_value():
    amounts = np.random.default_rng(0).uniform(-1e6, 1e6, 200_000).round(2)
    values = np.array([f"${v:,.2f}" if v >= 0 else f"(${-v:,.2f})" for v in amounts], dtype=object)
    values[::1000] = None
    spec = detect(values)
    assert spec == US
    out = parse_column(values, spec, "amount")
    assert_allclose(out[~np.equal(values, None)], amounts[~np.equal(values, None)])
    assert np.isnan(out[::1000]).all()
    mixed = values.copy()
    mixed[1::1000] = amounts[1::1000]                       # numbers among the text: the value-by-value path
    assert_allclose(parse_column(mixed, spec, "amount"), out)
