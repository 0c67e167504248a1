"""Tabular input as named columns: ``as_columns(data, where)`` -> ``{name: 1-D array}``, all of one length.

Accepted: a dict of lists / arrays / scalars (scalars make one row), a list of row dicts, a pandas DataFrame, a
pyarrow Table or RecordBatch. The columns follow one convention, which the reader, the column typing and the
feature pipeline share:

- numbers: int64 when every value is an integer and none is missing, otherwise float64 with NaN for missing
  (booleans count as integers 0/1);
- text: an object array of ``str`` with ``None`` for missing (Python None, float NaN, pandas NA/NaT, Arrow null);
  a column mixing text and numbers is text (numbers become their ``str``).

Only NumPy is imported here: pandas and pyarrow objects are recognised by their module and converted with their
own vectorized methods, so one row costs a few microseconds and a million rows no per-row Python work. Numbers from
Arrow memory without missing values are read-only views of it (no copy); copy a column before writing into it.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from learnloop.errors import LearnloopError

Array = np.ndarray

_SCALARS = (str, bytes, int, float, bool, np.generic)
_MISSING_TYPES = frozenset({"NoneType", "NAType", "NaTType"})    # None, pandas.NA, pandas.NaT


def as_columns(data, where: str) -> dict[str, Array]:
    """``data`` as a dict of equal-length 1-D columns (see the module docstring for the types).

    Args:
        data: dict of columns or scalars, list of row dicts, pandas DataFrame, pyarrow Table / RecordBatch.
        where: the caller, for messages (e.g. ``"predict()"``).

    Returns:
        dict name -> (n,) array: float64 / int64 for numbers, object (``str`` or ``None``) for text.
    """
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and hasattr(data, "columns"):
        _check_unique([str(name) for name in data.columns], where)
        columns = {str(name): _pandas_column(data[name], f"{where}: column {name!r}") for name in data.columns}
    elif module == "pyarrow" and hasattr(data, "schema"):
        _check_unique(data.schema.names, where)
        columns = {name: arrow_column(data.column(i), f"{where}: column {name!r}")
                   for i, name in enumerate(data.schema.names)}
    elif isinstance(data, Mapping):
        columns = _one_row(data) if data and type(next(iter(data))) is str else None
        if columns is not None:
            return columns
        columns = _from_dict(data, where)
    elif isinstance(data, (list, tuple)) and data and isinstance(data[0], Mapping):
        columns = _from_rows(data, where)
    else:
        raise LearnloopError(
            f"{where} expects tabular data: a dict of columns, a list of row dicts, a pandas DataFrame or a pyarrow "
            f"Table; got {_describe(data)}.")
    if not columns:
        raise LearnloopError(f"{where} got a table with no columns ({_describe(data)}).")
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name!r} ({n})" for name, n in lengths.items())
        raise LearnloopError(f"{where}: every column needs one value per row, but the columns have different "
                             f"lengths: {detail}.")
    if next(iter(lengths.values())) == 0:
        raise LearnloopError(f"{where} got a table with no rows (columns {list(columns)[:10]}).")
    return columns


def _check_unique(names: list[str], where: str) -> None:
    if len(set(names)) < len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise LearnloopError(f"{where}: column names must be unique; {twice} appear more than once.")


def _describe(data) -> str:
    if isinstance(data, np.ndarray):
        return f"a {data.ndim}-D array of shape {data.shape}"
    if isinstance(data, (list, tuple)):
        return f"an empty {type(data).__name__}" if not data else \
            f"a {type(data).__name__} of {type(data[0]).__name__}"
    return f"{type(data).__module__}.{type(data).__name__}"


def _from_dict(data: Mapping, where: str) -> dict[str, Array]:
    out = {}
    for name, values in data.items():
        col = f"{where}: column {name!r}"
        if isinstance(values, _SCALARS) or values is None:
            out[str(name)] = _array_column([values], col)
            continue
        module = type(values).__module__.split(".")[0]
        if module == "pandas":
            out[str(name)] = _pandas_column(values, col)
        elif module == "pyarrow":
            out[str(name)] = arrow_column(values, col)
        else:
            out[str(name)] = _array_column(values, col)
    return out


_INT64 = 2**63


def _one_row(data: Mapping) -> dict[str, Array] | None:
    """A dict of plain float/int/str scalars (one request on the serving path) as one-row columns; None when some
    value is anything else (a list, None, a NumPy scalar, an int beyond int64...), which the general path handles."""
    out = {}
    for name, value in data.items():
        kind = type(value)
        if kind is float:
            out[name] = np.array((value,), np.float64)
        elif kind is int and -_INT64 <= value < _INT64:
            out[name] = np.array((value,), np.int64)
        elif kind is str:
            out[name] = np.array((value,), object)
        else:
            return None
    return out


def _from_rows(rows, where: str) -> dict[str, Array]:
    keys = list(rows[0])
    key_set = set(keys)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise LearnloopError(f"{where}: row {i} is a {type(row).__name__}; expected a dict like row 0.")
        if len(row) != len(keys) or row.keys() != key_set:
            lacks = [k for k in keys if k not in row]
            extra = [k for k in row if k not in key_set]
            detail = f"lacks {lacks}" if lacks else ""
            detail += (" and " if lacks and extra else "") + (f"has {extra} that row 0 does not" if extra else "")
            raise LearnloopError(f"{where}: row {i} {detail}; every row dict needs the same keys as row 0 "
                                 f"({keys}).")
    return {str(k): _array_column([row[k] for row in rows], f"{where}: column {k!r}") for k in keys}


def _array_column(values, where: str) -> Array:
    """A list or NumPy array as a column."""
    if isinstance(values, np.ndarray):
        arr = values
    elif _has_strings(values):      # a list with text: one object array (np.asarray would make '<U' copies)
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
    else:
        try:
            arr = np.asarray(values)
        except ValueError:          # ragged nested lists: kept as objects, refused below
            arr = np.empty(len(values), dtype=object)
            for i, v in enumerate(values):
                arr[i] = v
    if arr.ndim != 1:
        raise LearnloopError(f"{where} holds values of shape {arr.shape[1:]} in each row; a column holds one value "
                             f"per row (a 1-D array of length n); got an array of shape {arr.shape}.")
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(np.float64, copy=False)
    if kind in "iub":
        return arr.astype(np.int64, copy=False)
    if kind == "U":
        return arr.astype(object)
    if kind == "S":
        return np.char.decode(arr, "utf-8").astype(object)
    if kind == "O":
        return _object_column(arr, where)
    raise LearnloopError(f"{where} has values of dtype {arr.dtype}; expected numbers or text.")


def _has_strings(values) -> bool:
    return isinstance(values, (list, tuple)) and any(isinstance(v, str) for v in values[:64])


def _object_column(arr: Array, where: str) -> Array:
    """An object array (Python values) as numbers or text; one C-level pass over the types decides which."""
    types = set(map(type, arr))
    names = {t.__name__ for t in types}
    missing_types = names & _MISSING_TYPES
    value_types = {t for t in types if t.__name__ not in _MISSING_TYPES}
    nested = [t for t in value_types if issubclass(t, (list, tuple, dict, np.ndarray))]
    if nested:
        raise LearnloopError(f"{where} holds {nested[0].__name__} values; a column holds one number or string per "
                             f"row, not sequences (split them into one column each).")
    if all(issubclass(t, (numbers.Integral, bool)) for t in value_types) and not missing_types:
        try:
            return arr.astype(np.int64)
        except OverflowError:
            pass                                # whole numbers beyond int64: floats, as below
    if all(issubclass(t, numbers.Number) for t in value_types):
        out = arr.copy()
        if missing_types:
            out[_missing_mask(arr, missing_types)] = np.nan
        return out.astype(np.float64)
    missing = _missing_mask(arr, missing_types) if missing_types or float in value_types else None
    if value_types <= {str}:
        out = arr.copy()
    elif value_types <= {str, bytes}:
        out = np.array([v.decode("utf-8") if isinstance(v, bytes) else v for v in arr], dtype=object)
    else:
        out = arr.astype(str).astype(object)
    if missing is not None:
        out[missing] = None
    return out


def _missing_mask(arr: Array, missing_types: set) -> Array:
    """(n,) bool: None, pandas NA/NaT or a float NaN, found without a Python-level loop when possible."""
    if missing_types <= {"NoneType"}:
        with np.errstate(invalid="ignore"):
            return np.equal(arr, None) | np.not_equal(arr, arr)    # v != v only for NaN
    return np.fromiter((v is None or type(v).__name__ in _MISSING_TYPES or (isinstance(v, float) and v != v)
                        for v in arr), dtype=bool, count=len(arr))


def _pandas_column(series, where: str) -> Array:
    """A pandas Series as a column, through pandas' own vectorized conversions."""
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = _array_column(np.asarray(dtype.categories, dtype=object), where)
        codes = series.cat.codes.to_numpy()
        if categories.dtype != object:
            out = categories.astype(np.float64)[codes]
            out[codes < 0] = np.nan
            return out
        out = categories[codes]
        out[codes < 0] = None
        return out
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        if series.hasnans:
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        return series.to_numpy(dtype=np.int64 if dtype.kind in "iub" else np.float64)
    if pd.api.types.is_string_dtype(dtype) and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        out = series.to_numpy(dtype=object)
        missing = series.isna().to_numpy()
        if missing.any():
            out[missing] = None
        return out
    if dtype.kind in "mM":                 # datetimes and durations: their text, as a CSV would hold them
        missing = series.isna().to_numpy()
        out = series.astype(str).to_numpy(dtype=object)
        out[missing] = None
        return out
    return _object_column(series.to_numpy(dtype=object), where)


def arrow_column(column, where: str) -> Array:
    """A pyarrow Array or ChunkedArray as a column: numbers to float64/int64 (nulls -> NaN), text to str/None.

    Read from the Arrow buffers directly: pyarrow's ``to_numpy`` imports pandas (a second's start-up) even for a
    column of floats.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    kind = column.type
    if pa.types.is_dictionary(kind):
        values = arrow_column(column.dictionary, where)
        indices = _primitive(pc.cast(column.indices, pa.int64()), np.int64)
        if indices.dtype.kind == "i":
            return values[indices]
        missing = np.isnan(indices)                # null entries: NaN in the float indices
        if not len(values):
            return np.full(len(indices), np.nan)
        values = values if values.dtype == object else values.astype(np.float64)
        out = values[np.where(missing, 0, indices).astype(np.int64)]
        out[missing] = None if out.dtype == object else np.nan
        return out
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind):
        return _primitive(pc.cast(column, pa.int64()), np.int64)
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _primitive(pc.cast(column, pa.float64()), np.float64)
    if pa.types.is_null(kind):
        return np.full(len(column), np.nan)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or \
            getattr(pa.types, "is_string_view", lambda _: False)(kind):
        return arrow_text(column)
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        try:
            return arrow_text(pc.cast(column, pa.large_string()))
        except pa.ArrowInvalid:
            raise LearnloopError(f"{where} holds bytes that are not UTF-8 text.") from None
    if pa.types.is_temporal(kind):
        return arrow_text(pc.cast(column, pa.string()))
    raise LearnloopError(f"{where} has Arrow type {kind}; a column holds one number or string per row "
                         f"(nested values: split them into one column each).")


def _primitive(array, dtype) -> Array:
    """A non-chunked int64/float64 Arrow array in NumPy: without nulls, a read-only view of the Arrow memory (no
    copy: a million-row table stays one copy in memory); with nulls, a float64 copy with NaN for them."""
    n, offset = len(array), array.offset
    validity, data = array.buffers()[:2]
    values = np.frombuffer(data, dtype=dtype, count=n, offset=offset * np.dtype(dtype).itemsize) if n else \
        np.empty(0, dtype)
    if not array.null_count:
        return values
    valid = np.unpackbits(np.frombuffer(validity, np.uint8), count=offset + n, bitorder="little")[offset:]
    out = values.astype(np.float64)
    out[valid == 0] = np.nan
    return out


def arrow_text(column) -> Array:
    """An Arrow string column as an object array of str / None.

    Few distinct values (categories) go through a dictionary, so each distinct string becomes one Python object
    shared by its rows (3x faster than converting every row on 1M rows of 20 categories).
    """
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    encoded = column.dictionary_encode()
    if len(encoded.dictionary) * 2 > len(column):
        return _objects(column.to_pylist())
    return arrow_column(encoded, "")


def _objects(values: list) -> Array:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
