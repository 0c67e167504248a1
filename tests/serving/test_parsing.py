"""Request bodies to arrays, and the errors that name the field at fault."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from learnloop.serving import parsing
from learnloop.serving.errors import APIError
from learnloop.serving.parsing import check_model_range, parse_instances


@pytest.fixture(autouse=True, params=["simdjson", "orjson"])
def json_parser(request, monkeypatch):
    """Every test runs with the simdjson fast path (when installed) and with the orjson path alone."""
    if request.param == "orjson":
        monkeypatch.setattr(parsing, "_simdjson", None)
    elif parsing._simdjson is None:
        pytest.skip("pysimdjson is not installed; the orjson run covers parsing")
    return request.param


def _body(instances) -> bytes:
    return orjson.dumps({"instances": instances})


def test_instances_become_a_float64_array():
    x = parse_instances(_body([[1, 2.5, -3], [0, 0, 1e-3]]), (3,))
    assert x.dtype == np.float64 and x.tolist() == [[1.0, 2.5, -3.0], [0.0, 0.0, 0.001]]
    img = parse_instances(_body([[[1, 2], [3, 4]]]), (2, 2))
    assert img.shape == (1, 2, 2)
    huge = parse_instances(_body([[2**64 - 1, 1]]), (2,))           # beyond int64, still a number
    assert huge[0, 0] == float(2**64 - 1)
    spaced = parse_instances(b'{ "instances" : [ [ 1 , 2 ] ,\n [ 3e2 , -4.5E-1 ] ] }', (2,))
    assert spaced.tolist() == [[1.0, 2.0], [300.0, -0.45]]


@pytest.mark.parametrize("body, status, field, message", [
    (b"", 400, "body", "body is empty"),
    (b"{not json", 400, "body", "not valid JSON"),
    (b'{"instances": [[NaN, 1, 2]]}', 400, "body", "NaN, Infinity"),
    (b'{"instances": [[1e999, 1, 2]]}', 400, "body", "NaN, Infinity"),
    (b"[[1, 2, 3]]", 422, "body", "must be a JSON object"),
    (b'{"inputs": [[1, 2, 3]]}', 422, "inputs", 'Unknown field "inputs"'),
    (b"{}", 422, "instances", "no 'instances' field"),
    (b'{"instances": {"a": 1}}', 422, "instances", "must be a list; got a JSON object"),
    (b'{"instances": []}', 422, "instances", "is empty"),
    (b'{"instances": [[1, 2]]}', 422, "instances[0]", "expected 3 values"),
    (b'{"instances": [[1, 2, 3], [4, 5]]}', 422, "instances[1]", "expected 3 values"),
    (b'{"instances": [1, 2, 3]}', 422, "instances[0]", "expected a list of 3 numbers; got a JSON number 1"),
    (b'{"instances": [[1, "2", 3]]}', 422, "instances[0][1]", 'got a JSON string "2"'),
    (b'{"instances": [[1, null, 3]]}', 422, "instances[0][1]", "got a JSON null"),
    (b'{"instances": [[1, true, 3]]}', 422, "instances[0][1]", "got a JSON boolean true"),
    (b'{"instances": [[1, 2, [3]]]}', 422, "instances[0][2]", "expected a number; got a JSON array"),
    (b'{"instances": [[1, 2, {"v": 3}]]}', 422, "instances[0][2]", "got a JSON object"),
    (b'{"instances": [[1, 2, {}]]}', 422, "instances[0][2]", "got a JSON object"),
    (b'{"instances": [[1, [2], 3], [4, 5, 6]]}', 422, "instances[0][1]", "expected a number; got a JSON array"),
    (b'{"instances": [[1, 2, 3, 4], [5, 6]]}', 422, "instances[0]", "expected 3 values"),
    (b'{"instances": [[1, 2, 3]] ]', 400, "body", "not valid JSON"),
    (b'{"instances": [[1, 2, 3]], "instances": 5}', 400, "body", "some key twice"),
    (b'{"instances": [[0, 0, 0]], "instances": [[1, 1, 1]]}', 400, "body", "some key twice"),
    (b'{"instances": [[1, 2, {"v": 3, "v": 4}]]}', 400, "body", "some key twice"),
])
def test_bad_bodies_name_the_field(body, status, field, message):
    with pytest.raises(APIError) as info:
        parse_instances(body, (3,))
    err = info.value
    assert (err.status, err.field) == (status, field)
    assert message in err.message
    assert err.body()["expected"].startswith(("instances of shape (n, 3)", '{"instances"'))


def test_values_beyond_float32_are_refused_before_the_model_sees_them():
    x = parse_instances(_body([[1.0, 1e39, 2.0]]), (3,))
    with pytest.raises(APIError, match=r"instances\[0\]\[1\] = 1e\+39 is outside the range of float32") as info:
        check_model_range(x, np.dtype(np.float32), (3,))
    assert info.value.status == 422
    assert check_model_range(x, np.dtype(np.float64), (3,)) is x


@pytest.mark.parametrize("body", [
    b'{"instances": [[0, 0, 0]], "instances": [[1, 1, 1]]}',               # was answered for the second list
    b'{"instances": [[0, 0, 0]], "\\u0069nstances": [[1, 1, 1]]}',        # the same key, escaped
    b'{"a": {"b": 1, "b": 2}, "instances": [[1, 2, 3]]}',                  # at any depth
])
def test_a_key_given_twice_is_a_400_before_anything_else(body):
    with pytest.raises(APIError, match="some key twice") as info:
        parse_instances(body, (3,))
    assert info.value.status == 400


@pytest.mark.parametrize("body", [
    b'{"instances": [[1, 2, 3]]}', b'{ "instances" : [ [1,2,3] ] , "k\\"": 1}', b'{"instances": [[1, 2, 3]], '
    b'"a:": {"\\"": "x\\":", "y": "\\\\"}}', b'{"instances": [[1, 2, 3]], "": {"": []}}',
])
def test_keys_with_quotes_colons_and_backslashes_are_counted_exactly(body):
    doc = orjson.loads(body)
    assert len(parsing._KEY_END.findall(body)) == parsing.count_keys(doc)


def test_the_log_holds_what_was_parsed():
    x, text = parsing.read_instances(b'{"instances": [[1, 2.50, 3e0]]}', (3,))
    assert orjson.loads(text) == x.tolist() == [[1.0, 2.5, 3.0]]
    x, text = parsing.read_instances(b'{"instances": [[1, 2, 3.5]] }\n', (3,))
    assert orjson.loads(text) == x.tolist()
