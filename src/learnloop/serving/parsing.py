"""Request bodies to arrays: JSON parsed straight into NumPy, with errors that name the field at fault.

Fast paths: a body of rows of numbers goes through simdjson into one float64 buffer when ``pysimdjson`` is
installed; otherwise ``orjson.loads`` then one ``np.array`` call. Only when those fail (ragged lists, strings, nulls,
booleans, wrong lengths) does a walk over the nested lists find the first offending element to report.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

import numpy as np
import orjson

from learnloop.serving.errors import APIError, quoted

try:                                  # optional: about 3x faster than orjson + np.array for rows of numbers
    import simdjson as _simdjson
except ImportError:                   # pragma: no cover - the orjson path does the same, slower
    _simdjson = None
_parsers = threading.local()          # one reusable simdjson parser per thread

_NON_JSON_NUMBER = re.compile(rb"NaN|Infinity|\d[eE][+]?\d{3,}")
_NUMERIC_JSON = b"0123456789.,-+eE[]{}: \t\r\n"
_KEY_LEFT = b'"instancs"'                      # what deleting _NUMERIC_JSON leaves of a numbers-only body
# The end of an object key in valid JSON: a quote that closes a string (not escaped: an even run of backslashes
# before it) followed by a colon. Inside a string a quote is always escaped, so in text a parser accepted, these
# count the keys exactly.
_KEY_END = re.compile(rb'(?:^|[^\\])(?:\\\\)*"[ \t\r\n]*:')
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def shape_text(shape: tuple[int, ...]) -> str:
    return "(n, " + ", ".join(str(s) for s in shape) + ")"


def expected_text(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"instances of shape {shape_text(shape)}: a non-empty list of lists of {shape[0]} finite numbers"
    return f"instances of shape {shape_text(shape)}: a non-empty list of nested lists of finite numbers"


def load_json_object(body: bytes, what: str, *, unique_keys: bool = False) -> dict:
    """``body`` parsed as a JSON object, or an :class:`APIError` (400 for bad JSON or a key given twice in one object,
    at any depth; 422 for another JSON type). ``unique_keys``: the caller knows the body has one key at most."""
    if not body:
        raise APIError(400, f"The request body is empty; expected a JSON object ({what}).", field="body",
                       expected=what)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        hint = ""
        if _NON_JSON_NUMBER.search(body):
            hint = " NaN, Infinity and numbers beyond the float64 range are not valid JSON; send finite numbers."
        raise APIError(400, f"The request body is not valid JSON: {exc}.{hint}", field="body", expected=what) from None
    if not unique_keys and len(_KEY_END.findall(body)) != count_keys(doc):
        raise APIError(400, "The request body gives some key twice in one object; JSON parsers disagree on which "
                            "value counts, so such bodies are refused.", field="body", expected=what)
    if type(doc) is not dict:
        raise APIError(422, f"The request body must be a JSON object ({what}); got a JSON {_json_type(doc)}.",
                       field="body", expected=what)
    return doc


def count_keys(doc) -> int:
    """Keys of every object in a parsed JSON document (a key given twice in one object counts once)."""
    total = 0
    stack = [doc]
    while stack:
        value = stack.pop()
        if type(value) is dict:
            total += len(value)
            stack += [v for v in value.values() if type(v) is dict or type(v) is list]
        elif type(value) is list and any(type(v) is dict or type(v) is list for v in value):
            stack += [v for v in value if type(v) is dict or type(v) is list]
    return total


def read_instances(body: bytes, shape: tuple[int, ...]) -> tuple[np.ndarray, str]:
    """(:func:`parse_instances`, the JSON text to log): the instances as the model reads them.

    A body of numbers only has one key, so its ``instances`` text is the slice from its first ``[`` to its last
    ``]``, exactly what was parsed; any other body is logged as the parsed array re-serialized.
    """
    numbers_only = body.translate(None, _NUMERIC_JSON) == _KEY_LEFT
    if numbers_only and len(shape) == 1 and _simdjson is not None:
        x = _parse_rows(body, shape[0])
        if x is not None:
            return x, body[body.index(b"["):body.rindex(b"]") + 1].decode()
    x = _parse_general(body, shape, numbers_only)
    return x, orjson.dumps(x, option=_NUMPY).decode()


def parse_instances(body: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """The ``instances`` of a predict request as a float64 array of shape (n, *shape).

    Raises:
        APIError: 400 when the body is not JSON; 422 naming the field when it is not ``{"instances": [...]}`` with
            n >= 1 instances of ``shape`` holding finite numbers.
    """
    # Only numbers and lists (deleting their characters leaves just the key), so no string, boolean or null can be
    # quietly read as a number. One pass over the body, unlike four `in` scans.
    return read_instances(body, shape)[0]


def _parse_general(body: bytes, shape: tuple[int, ...], numbers_only: bool) -> np.ndarray:
    expected = expected_text(shape)
    doc = load_json_object(body, '{"instances": [[...], ...]}', unique_keys=numbers_only)
    extra = [k for k in doc if k != "instances"]
    if extra:
        raise APIError(422, f"Unknown field {quoted(extra[0])} in the request body; the only field is 'instances'.",
                       field=extra[0][:200], expected=expected)
    if "instances" not in doc:
        raise APIError(422, "The request body has no 'instances' field.", field="instances", expected=expected)
    instances = doc["instances"]
    if type(instances) is not list:
        raise APIError(422, f"'instances' must be a list; got a JSON {_json_type(instances)}.", field="instances",
                       expected=expected)
    if not instances:
        raise APIError(422, "'instances' is empty; send at least one instance.", field="instances", expected=expected)
    x = None
    if numbers_only:
        try:
            x = np.array(instances, dtype=np.float64)
        except (ValueError, TypeError, OverflowError):
            x = None
        if x is not None and x.shape[1:] != shape:
            x = None
    if x is None:
        problem = _find_problem(instances, shape)
        if problem is not None:
            field, message = problem
            raise APIError(422, f"{field}: {message}", field=field, expected=expected)
        x = np.array(instances, dtype=np.float64)        # e.g. a key written with escapes: all fine after all
    with np.errstate(all="ignore"):                    # a sum may overflow; then the precise check runs
        finite = math.isfinite(x.sum())
    if not finite and not np.isfinite(x).all():       # orjson refuses NaN/Infinity: this is a safety net
        field = _first_nonfinite(x)
        raise APIError(422, f"{field}: expected a finite number.", field=field, expected=expected)
    return x


def _parse_rows(body: bytes, d: int) -> np.ndarray | None:
    """simdjson's validating parser straight into a float64 buffer (no Python float per number), for a numbers-only
    body of n rows of ``d``; None when the body is anything else, and the general path then explains what is wrong.
    """
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = _simdjson.Parser()
    doc = rows = None
    try:
        doc = parser.parse(body)
        rows = doc["instances"]
        n = len(rows)
        # n + 1 brackets: the list and one per row, so nothing is nested deeper (as_buffer would flatten it)
        if n == 0 or body.count(b"[") != n + 1 or any(len(row) != d for row in rows):
            return None
        return np.frombuffer(rows.as_buffer(of_type="d"), dtype=np.float64).reshape(n, d)
    except (ValueError, TypeError, KeyError, RuntimeError):
        _parsers.parser = _simdjson.Parser()          # a parser that failed mid-document is not reused
        return None
    finally:
        del doc, rows                                 # the parser may only be reused once these are gone


def _find_problem(instances: list, shape: tuple[int, ...]) -> tuple[str, str] | None:
    """(field, message) of the first element that is not a number or not where ``shape`` says; None if all fine."""
    def walk(value: Any, path: str, depth: int):
        if depth == len(shape):
            if type(value) is bool or not isinstance(value, (int, float)):
                return path, f"expected a number; got {_describe(value)}."
            if isinstance(value, float) and not math.isfinite(value):
                return path, f"expected a finite number; got {value}."
            return None
        if type(value) is not list:
            return path, (f"expected a list of {shape[depth]} numbers" if depth == len(shape) - 1 else
                          f"expected a list of {shape[depth]} lists") + f"; got {_describe(value)}."
        if len(value) != shape[depth]:
            return path, (f"expected {shape[depth]} values (each instance has shape "
                          f"{tuple(shape)}); got {len(value)}.")
        for i, item in enumerate(value):
            found = walk(item, f"{path}[{i}]", depth + 1)
            if found:
                return found
        return None

    for i, inst in enumerate(instances):
        found = walk(inst, f"instances[{i}]", 0)
        if found:
            return found
    return None


def _describe(value: Any) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, float) else repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"a JSON {_json_type(value)} {text}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is bool:
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _first_nonfinite(x: np.ndarray) -> str:
    idx = np.argwhere(~np.isfinite(x))[0]
    return "instances" + "".join(f"[{int(i)}]" for i in idx)


def check_model_range(x: np.ndarray, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` cast to the model's dtype; 422 when a value overflows it (e.g. 1e39 in float32)."""
    with np.errstate(all="ignore"):
        cast = x.astype(dtype, copy=False)
        finite = cast is x or math.isfinite(cast.sum())   # one reduction; an overflowing sum is checked below
    if not finite and not np.isfinite(cast).all():
        field = _first_nonfinite(cast)
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(cast))[0])
        raise APIError(422, f"{field} = {float(x[idx])!r} is outside the range of {np.dtype(dtype).name}, in which the "
                            f"model computes.", field=field, expected=expected_text(shape))
    return cast
