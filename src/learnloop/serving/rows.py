"""Requests to table models: rows of named raw fields, checked field by field against the model's FeatureSpace.

A model whose first layer is a FeatureSpace takes the raw columns it was trained on, in TF Serving's two formats
for named inputs::

    {"instances": [{"age": 39, "workclass": "State-gov", ...}, ...]}        one object per instance (rows)
    {"inputs": {"age": [39, 50], "workclass": ["State-gov", "Private"]}}      one list per field (columns)

Each field is checked as the feature reads it (``FeatureSpace.input_schema()``): a ``number`` field takes a JSON
number, an ``integer`` field a whole number, a ``string`` field text or a number (read as its text, ``3`` -> "3",
as the FeatureSpace does); ``null`` (or leaving the field out) only where the feature imputes. Columns the model
knows but does not use (the target, group columns, columns dropped as ids or constants: metadata ``columns`` minus
``feature_columns``) are accepted and ignored; any other field is refused, naming the closest known one. A category
never seen in training is not an error: the feature maps it to its out-of-vocabulary slot, and the drift monitor
counts it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from learnloop.errors import LearnloopError
from learnloop.layers._features import canonical_text
from learnloop.serving.errors import APIError, quoted
from learnloop.serving.parsing import load_json_object

_INT64 = 2**63
_EXACT = 2**53              # integers a float64 holds exactly: logged as given, larger ones as the float the model saw
_JSON_TYPES = {str: "string", bool: "boolean", int: "number", float: "number", list: "array", dict: "object",
               type(None): "null"}


@dataclass(frozen=True)
class Field:
    """One raw input field: its JSON type as the feature reads it, whether null is accepted, an example value."""

    name: str
    type: str               # "number", "integer" or "string"
    nullable: bool
    example: Any = None
    parse: dict | None = None   # a number that may also arrive as text ("$1,234.50", a date): its text format

    def describe(self) -> dict:
        out = {"type": self.type, "nullable": self.nullable, "required": not self.nullable, "example": self.example}
        if self.parse is not None:
            out["parse"] = dict(self.parse)
        return out


class ParsedRows:
    """The instances of one request as the model reads them: as ``rows`` (one dict of fields per instance) and as
    ``values`` (field -> one value per instance); whichever the request did not arrive as is built on first use."""

    __slots__ = ("n", "format", "_rows", "_values", "_names")

    def __init__(self, n: int, fmt: str, names: list[str], rows: list[dict] | None = None,
                 values: dict[str, list] | None = None):
        self.n, self.format, self._names = n, fmt, names     # format: "instances" (rows) or "inputs" (columns)
        self._rows, self._values = rows, values

    @property
    def rows(self) -> list[dict]:
        if self._rows is None:
            names, columns = list(self._values), list(self._values.values())
            self._rows = [dict(zip(names, vals)) for vals in zip(*columns)]
        return self._rows

    @property
    def values(self) -> dict[str, list]:
        if self._values is None:
            self._values = {name: [row[name] for row in self._rows] for name in self._names}
        return self._values

    def log_text(self) -> str:
        """The instances as logged: one JSON object per instance holding the fields the model read."""
        return orjson.dumps(self.rows).decode()

    def where(self, row: int, name: str) -> str:
        return f"instances[{row}].{name}" if self.format == "instances" else f"inputs.{name}[{row}]"


class RowSchema:
    """The raw input fields of a table model and the checks that turn a request body into :class:`ParsedRows`.

    Args:
        feature_space: the model's (adapted) FeatureSpace.
        metadata: the model's metadata (``columns``, ``target``, ``group_columns`` name the ignored fields).
        examples: field -> an example value (e.g. the training median or most frequent category).
        after: the model's preprocessing layers after the FeatureSpace, if any (applied by the registry).
    """

    def __init__(self, feature_space, metadata: dict | None = None, examples: dict | None = None, after=()):
        metadata = metadata or {}
        examples = examples or {}
        schema = feature_space.input_schema()
        self.feature_space = feature_space
        self.after = list(after)
        self.fields = {name: Field(name, spec["type"], bool(spec["nullable"]), examples.get(name, _default(spec)),
                                   spec.get("parse")) for name, spec in schema.items()}
        self.names = list(self.fields)
        known = [str(c) for c in metadata.get("columns") or []]
        known += [str(metadata["target"])] if isinstance(metadata.get("target"), str) else []
        known += [str(c) for c in metadata.get("group_columns") or []]
        self.ignored = sorted(set(known) - set(self.fields))
        self._ignored = frozenset(self.ignored)
        self.limit = float(np.finfo(feature_space.dtype).max)
        # JSON types taken as they are without a closer look: text for text fields; floats for number fields (orjson
        # never gives NaN or infinity; only the float range needs checking, and float32's is checked in _value)
        self._fast = {f.name: ((str,) if f.type == "string" else (float,) if f.type == "number" and
                               self.limit > 1.7e308 else ()) for f in self.fields.values()}
        self.dtype_name = np.dtype(feature_space.dtype).name
        self.expected = self._expected_text()
        # the raw field (or cross) behind each encoded column, to name the field of a non-finite encoded value
        self.owner = [name for name in self.names for _ in range(feature_space.features[name].width)]
        for cross in sorted(feature_space.crosses, key=lambda c: c.name):
            self.owner += [cross.name] * (cross.crossing_dim if cross.output_mode == "one_hot" else 1)

    # ---- what a client is told ---------------------------------------------------------------------------------
    def _expected_text(self) -> str:
        def word(f: Field) -> str:
            return f"{orjson.dumps(f.name).decode()}: {f.type}" + (" or null" if f.nullable else "")

        listed = ", ".join(word(f) for f in list(self.fields.values())[:20])
        more = f", ... ({len(self.fields)} fields)" if len(self.fields) > 20 else ""
        return (f'{{"instances": [{{{listed}{more}}}, ...]}} (rows) or {{"inputs": {{field: [one value per '
                f'instance], ...}}}} (columns)')

    def example_row(self) -> dict:
        return {f.name: f.example for f in self.fields.values()}

    def describe(self) -> dict:
        return {"fields": {f.name: f.describe() for f in self.fields.values()}, "ignored_fields": self.ignored}

    # ---- parsing -------------------------------------------------------------------------------------------
    def parse(self, body: bytes) -> ParsedRows:
        """The instances of a predict request; :class:`APIError` 400/422 naming the field for a bad one."""
        doc = load_json_object(body, self.expected)
        fmt = None
        for key in doc:
            if key in ("instances", "inputs") and fmt is None:
                fmt = key
            elif key in ("instances", "inputs"):
                raise APIError(422, "Send either 'instances' (one object per instance) or 'inputs' (one list per "
                                    "field), not both.", field=key, expected=self.expected)
            else:
                raise APIError(422, f"Unknown field {_short(key)} in the request body; the body holds 'instances' "
                                    f"(rows) or 'inputs' (columns).", field=_cut(key), expected=self.expected)
        if fmt is None:
            raise APIError(422, "The request body has no 'instances' (rows) or 'inputs' (columns) field.",
                           field="instances", expected=self.expected)
        return self._rows(doc["instances"]) if fmt == "instances" else self._columns(doc["inputs"])

    def _rows(self, instances) -> ParsedRows:
        if type(instances) is not list:
            self._fail("instances", f"'instances' must be a list of objects; got a JSON {_json_type(instances)}.")
        if not instances:
            self._fail("instances", "'instances' is empty; send at least one instance.")
        fields, ignored, fast, width = self.fields, self._ignored, self._fast, len(self.fields)
        rows = []
        for i, inst in enumerate(instances):
            if type(inst) is not dict:
                self._fail(f"instances[{i}]", f"instances[{i}]: expected an object of named fields (this model takes "
                                              f"raw rows, e.g. {_example_text(self)}); got a JSON "
                                              f"{_json_type(inst)}.")
            row = {}
            for key, value in inst.items():
                kinds = fast.get(key)
                if kinds is not None:
                    # the usual case inline (text for text, a float for a number); the rest checked in _value
                    row[key] = value if type(value) in kinds else self._value(fields[key], value, i, "instances")
                elif key not in ignored:
                    self._unknown(f"instances[{i}].{_cut(key)}", key)
            if len(row) != width:                            # some field is absent (JSON object keys are unique)
                for name in self.names:
                    if name not in row:
                        row[name] = self._absent(name, f"instances[{i}].{name}")
            rows.append(row)
        return ParsedRows(len(instances), "instances", self.names, rows=rows)

    def _columns(self, inputs) -> ParsedRows:
        if type(inputs) is not dict:
            self._fail("inputs", f"'inputs' must be an object of fields, each a list with one value per instance; "
                                 f"got a JSON {_json_type(inputs)}.")
        n = None
        for key, column in inputs.items():
            if key not in self.fields and key not in self._ignored:
                self._unknown(f"inputs.{_cut(key)}", key)
            if type(column) is not list:
                self._fail(f"inputs.{key}", f"inputs.{key}: expected a list with one value per instance; got a JSON "
                                            f"{_json_type(column)}.")
            if n is None:
                n, first = len(column), key
            elif len(column) != n:
                self._fail(f"inputs.{key}", f"inputs.{key} has {len(column)} values but inputs.{first} has {n}; "
                                            f"every field needs one value per instance.")
        if not n:
            self._fail("inputs", "'inputs' holds no instances; send at least one value per field.")
        values = {}
        for name, spec in self.fields.items():
            column = inputs.get(name)
            if column is None:
                none = self._absent(name, f"inputs.{name}")
                values[name] = [none] * n
            else:
                values[name] = [self._value(spec, v, i, "inputs") for i, v in enumerate(column)]
        return ParsedRows(n, "inputs", self.names, values=values)

    def _value(self, spec: Field, value, row: int, fmt: str):
        """``value`` as the feature reads it (text for a string field, a number otherwise), or a 422."""
        kind = type(value)
        if spec.type == "string":
            if kind is str:
                return value
            if kind is int or kind is float:
                return canonical_text(value)
        elif kind is float or kind is int:
            if spec.type == "number":
                if abs(value) > self.limit:
                    self._fail(_where(fmt, row, spec.name),
                               f"{_where(fmt, row, spec.name)} = {value!r:.40} is outside the range of "
                               f"{self.dtype_name}, in which the model computes.")
                return value if kind is float or -_EXACT <= value <= _EXACT else float(value)
            if kind is int and -_INT64 <= value < _INT64:
                return value
            if kind is float and abs(value) < _INT64 and value.is_integer():
                return int(value)
            where = _where(fmt, row, spec.name)
            self._fail(where, f"{where}: expected an integer (the feature reads whole numbers); got "
                              f"{_describe(value)}.")
        if kind is str and spec.parse is not None:
            return self._text_number(spec, value, _where(fmt, row, spec.name))
        if value is None:
            if spec.nullable:
                return None
            where = _where(fmt, row, spec.name)
            self._fail(where, f"{where}: null, but the feature '{spec.name}' does not impute missing values (it "
                              f"was built without impute=True); send {_a(spec.type)}.")
        where = _where(fmt, row, spec.name)
        self._fail(where, f"{where}: expected {_a(spec.type)}{' or null' if spec.nullable else ''}; got "
                          f"{_describe(value)}.")

    def _text_number(self, spec: Field, value: str, where: str):
        """A number written as text, read in the field's format (``"$1,234.50"`` -> 1234.5), or a 422."""
        from learnloop.layers._number_text import describe, parse_column

        try:
            number = float(parse_column(np.array([value], dtype=object), spec.parse, spec.name)[0])
        except LearnloopError:
            self._fail(where, f"{where}: {_describe(value)} does not read as {describe(spec.parse)}; send a "
                              f"number{' or null' if spec.nullable else ''}.")
        if abs(number) > self.limit:
            self._fail(where, f"{where} = {value!r:.40} is outside the range of {self.dtype_name}, in which the "
                              f"model computes.")
        return number

    def _absent(self, name: str, where: str):
        """A field left out: null where the feature imputes, else a 422."""
        spec = self.fields[name]
        if spec.nullable:
            return None
        self._fail(where, f"{where} is missing; the model needs {_a(spec.type)} for '{name}' (it does not impute "
                          f"missing values).")

    def _unknown(self, where: str, key: str):
        known = self.names + self.ignored
        guess = difflib.get_close_matches(key[:100], known, n=1, cutoff=0.0)    # a bounded key: bounded work
        hint = f"; did you mean {guess[0]!r}?" if guess else "."
        listed = ", ".join(repr(n) for n in self.names[:20]) + (", ..." if len(self.names) > 20 else "")
        self._fail(where, f"{where}: unknown field {_short(key)}{hint} The model reads [{listed}]"
                          + (f" and ignores {self.ignored[:20]}." if self.ignored else "."))

    def _fail(self, where: str, message: str):
        raise APIError(422, message, field=where, expected=self.expected)

    # ---- to the model ----------------------------------------------------------------------------------------
    def columns(self, parsed: ParsedRows):
        """What FeatureSpace.encode takes: one row dict for a single instance (its fast path), else columns."""
        if parsed.n == 1:
            return parsed.rows[0]
        out = {}
        for name, vals in parsed.values.items():
            kind = self.fields[name].type
            if kind == "string":
                column = np.empty(parsed.n, dtype=object)
                column[:] = vals
            elif kind == "integer" and None not in vals:
                column = np.array(vals, dtype=np.int64)
            else:
                column = np.array(vals, dtype=np.float64)           # None -> NaN: missing
            out[name] = column
        return out


def example_values(feature_space, reference: dict | None) -> dict:
    """An example value per field, for the OpenAPI document: the training median of a number and the most frequent
    training category, from the raw-column reference statistics, else from the FeatureSpace (imputation median,
    normalization mean, first vocabulary term: lookups order their vocabulary by frequency)."""
    columns = (reference or {}).get("columns") if (reference or {}).get("kind") == "columns" else None
    out = {}
    for name, spec in feature_space.input_schema().items():
        ref = (columns or {}).get(name) or {}
        value = None
        if ref.get("type") == "numeric" and ref.get("median") is not None:
            value = ref["median"]
        elif ref.get("type") == "categorical" and ref.get("categories"):
            value = ref["categories"][0]
        else:
            value = _from_pipeline(feature_space.features[name])
        out[name] = _as_type(value, spec["type"])
        if (spec.get("parse") or {}).get("kind") == "date" and isinstance(out[name], (int, float)):
            out[name] = _day_text(out[name], spec["parse"]["format"])    # a date, written as training wrote it
    return out


def _day_text(days: float, fmt: str) -> str:
    from datetime import date, timedelta

    day = date(1970, 1, 1) + timedelta(days=int(np.floor(days)))
    return day.isoformat() if fmt == "iso" else day.strftime(fmt)


def _from_pipeline(feature):
    layer = feature.preprocessor
    if feature.impute and feature.dtype == "float32":
        return float(feature.fill_value[0])
    mean = getattr(layer, "mean", None)
    if mean is not None and np.size(mean) == 1:
        return float(np.ravel(mean)[0])
    vocabulary = getattr(layer, "get_vocabulary", None)
    if vocabulary is not None:
        terms = vocabulary(include_special_tokens=False)
        if terms:
            return terms[0]
    return None


def _as_type(value, kind: str):
    """``value`` as a valid example of a field of JSON type ``kind``."""
    if kind == "string":
        return "" if value is None else value if isinstance(value, str) else canonical_text(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0 if kind == "integer" else 0.0
    if not np.isfinite(number):
        return 0 if kind == "integer" else 0.0
    if kind == "integer" or number.is_integer():
        return int(round(number))
    return float(f"{number:.6g}")


def _default(spec: dict):
    return {"number": 0.0, "integer": 0, "string": ""}.get(spec["type"])


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _where(fmt: str, row: int, name: str) -> str:
    return f"instances[{row}].{name}" if fmt == "instances" else f"inputs.{name}[{row}]"


def _json_type(value) -> str:
    return _JSON_TYPES.get(type(value), "value")


def _describe(value) -> str:
    text = orjson.dumps(value).decode() if type(value) in _JSON_TYPES else repr(value)
    return f"a JSON {_json_type(value)} {text if len(text) <= 40 else text[:37] + '...'}"


def _short(key: str) -> str:
    """A client's key as JSON text, cut to 60 characters."""
    return quoted(key, 60)


def _cut(key: str) -> str:
    """A client's key in a field path: as sent, cut to 60 characters."""
    return key if len(key) <= 60 else key[:57] + "..."


def _example_text(schema: RowSchema) -> str:
    text = orjson.dumps(schema.example_row()).decode()
    return text if len(text) <= 80 else text[:77] + "...}"
