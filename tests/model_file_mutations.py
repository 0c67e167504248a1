"""Mutations of valid model files, as hypothesis strategies: what a fuzz of ``load_model`` feeds it.

Shared by ``tests/test_saving_fuzz.py`` (a short run in CI) and ``benchmarks/fuzz_model_files.py`` (a long one).
Each strategy draws bytes of a whole file from one of the seed files: bit flips, truncations, members swapped,
dropped or duplicated, JSON values replaced anywhere in config.json / metadata.json, .npy headers edited inside
weights.npz / optimizer.npz, and members recompressed.
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile

import numpy as np
from hypothesis import strategies as st

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) |
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8) |
    st.sampled_from([0, -1, 10**12, 5 * 10**7, "Dense", "float64", "relu", "x", [], {}, [10**6, 10**6]]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)
HEADER_EDITS = st.sampled_from([
    (b"'descr': '<f4'", b"'descr': '|O'"), (b"'descr': '<f4'", b"'descr': '<u8'"),
    (b"'descr': '<f4'", b"'descr': '<c8'"), (b"'descr': '<f4'", b"'descr': '>f4'"),
    (b"'descr': '<f8'", b"'descr': '<f2'"), (b"'fortran_order': False", b"'fortran_order': True"),
    (b"'shape': (", b"'shape': (99999999999, "), (b"'shape': (", b"'shape': (-1, "), (b"'shape': (", b"'shape': (0, "),
    (b"'shape': (", b"'shape': ('a', "), (b"{'descr'", b"{'evil': 1, 'descr'"), (b"\x93NUMPY\x01", b"\x93NUMPY\x09"),
])


def read_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def _members_or_none(data: bytes):
    try:
        return read_members(data)
    except Exception:                                       # noqa: BLE001 - not a readable zip any more
        return None


def write_members(items, compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                     # duplicate names are one of the mutations
        with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
            for name, data in items:
                zf.writestr(name, data)
    return buffer.getvalue()


def _paths(value, prefix=()):
    """Every path into a JSON document, the root's children first."""
    out = []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return out
    for key, child in items:
        out.append(prefix + (key,))
        out += _paths(child, prefix + (key,))
    return out


@st.composite
def json_edit(draw, data: bytes) -> bytes:
    items = read_members(data)
    choices = [i for i, (name, _) in enumerate(items) if name.endswith(".json")]
    if not choices:
        return draw(byte_edit(data))
    i = draw(st.sampled_from(choices))
    try:
        doc = json.loads(items[i][1])
    except ValueError:                                      # not JSON any more (a member swapped in)
        return draw(byte_edit(data))
    paths = _paths(doc)
    for _ in range(draw(st.integers(1, 3))):
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) or not isinstance(parent, dict):
            parent[path[-1]] = draw(JSON_VALUES)
        else:
            del parent[path[-1]]
        paths = _paths(doc)
    items[i] = (items[i][0], json.dumps(doc).encode())
    return write_members(items)


@st.composite
def header_edit(draw, data: bytes) -> bytes:
    items = read_members(data)
    choices = [i for i, (name, _) in enumerate(items) if name.endswith(".npz")]
    if not choices:
        return draw(byte_edit(data))
    i = draw(st.sampled_from(choices))
    arrays = _members_or_none(items[i][1])
    if not arrays:
        return draw(byte_edit(data))
    j = draw(st.integers(0, len(arrays) - 1))
    old, new = draw(HEADER_EDITS)
    arrays[j] = (arrays[j][0], arrays[j][1].replace(old, new, 1))
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    items[i] = (items[i][0], write_members(arrays, compression))
    return write_members(items)


@st.composite
def member_edit(draw, data: bytes) -> bytes:
    items = read_members(data)
    if not items:
        return draw(byte_edit(data))
    kind = draw(st.sampled_from(["swap", "drop", "duplicate", "replace", "deflate", "array"]))
    i, j = draw(st.integers(0, len(items) - 1)), draw(st.integers(0, len(items) - 1))
    if kind == "swap":
        items[i], items[j] = (items[i][0], items[j][1]), (items[j][0], items[i][1])
    elif kind == "drop":
        del items[i]
    elif kind == "duplicate":
        items.append((items[i][0], items[j][1]))
    elif kind == "replace":
        items[i] = (items[i][0], draw(st.binary(max_size=64)))
    elif kind == "array":                                   # another array in place of one in an npz
        npz = [k for k, (name, _) in enumerate(items) if name.endswith(".npz")]
        if not npz:
            return data
        k = draw(st.sampled_from(npz))
        arrays = _members_or_none(items[k][1])
        if not arrays:
            return data
        a = draw(st.integers(0, len(arrays) - 1))
        shape = tuple(draw(st.lists(st.integers(0, 5), max_size=3)))
        dtype = draw(st.sampled_from(["<f4", "<f8", "<i8", "<u8", "|b1", "<f2"]))
        buffer = io.BytesIO()
        value = draw(st.sampled_from([0.0, 1.0, np.nan, np.inf, 1e300, -3.0]))
        with np.errstate(all="ignore"):                       # NaN or 1e300 as an integer: whatever the cast gives
            array = np.full(shape, value).astype(dtype, casting="unsafe") if dtype != "|b1" else np.zeros(shape, bool)
        np.save(buffer, array)
        arrays[a] = (arrays[a][0], buffer.getvalue())
        items[k] = (items[k][0], write_members(arrays))
    else:
        return write_members(items, zipfile.ZIP_DEFLATED)
    return write_members(items)


@st.composite
def byte_edit(draw, data: bytes) -> bytes:
    out = bytearray(data)
    if out and draw(st.booleans()):
        for _ in range(draw(st.integers(1, 8))):
            k = draw(st.integers(0, len(out) - 1))
            out[k] ^= 1 << draw(st.integers(0, 7))
    else:
        out = out[:draw(st.integers(0, len(out)))]
    return bytes(out)


def mutated_files(seeds: list[bytes]):
    """A strategy of whole model files: one of ``seeds``, mutated one to three times."""
    def mutate(data: bytes):
        one = st.one_of(byte_edit(data), json_edit(data), header_edit(data), member_edit(data))
        return one

    @st.composite
    def chain(draw):
        data = draw(st.sampled_from(seeds))
        for _ in range(draw(st.integers(1, 3))):
            try:
                read_members(data)
            except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError, RuntimeError, KeyError):
                return draw(byte_edit(data))                 # no longer a readable zip: only bytes can change
            except Exception:                               # noqa: BLE001 - any other failure of a mangled zip
                return data
            data = draw(mutate(data))
        return data

    return chain()


def seed_files() -> list[bytes]:
    """A few valid model files: a trained dense classifier with Adam's state, a conv net, a table model."""
    import tempfile
    from pathlib import Path

    import learnloop
    from learnloop import Input, Sequential
    from learnloop.layers import Conv1D, Dense, Flatten, Normalization
    from learnloop.layers.feature_space import FeatureSpace

    learnloop.set_seed(0)
    rng = np.random.default_rng(0)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        x = rng.normal(size=(16, 4)).astype(np.float32)
        norm = Normalization()
        norm.adapt(x)
        dense = Sequential([Input((4,)), norm, Dense(3, activation="relu"), Dense(2)])
        dense.compile(optimizer="adam", loss=learnloop.losses.SparseCategoricalCrossentropy(from_logits=True))
        dense.fit(x, rng.integers(0, 2, 16), epochs=1, verbose=0)
        dense.metadata.update(classes=["a", "b"], reference_statistics={"outputs": {"kind": "classes"}})
        conv = Sequential([Input((8, 1)), Conv1D(2, 3), Flatten(), Dense(1)])
        conv.compile(optimizer="sgd", loss="mse")
        table = {"n": rng.normal(size=16), "c": np.array(list("abcd") * 4, dtype=object)}
        space = FeatureSpace({"n": FeatureSpace.float_normalized(impute=True),
                              "c": FeatureSpace.string_categorical()})
        space.adapt(table)
        rows = Sequential([space, Dense(2)])
        rows.compile(optimizer="rmsprop", loss="mse")
        rows.fit(table, rng.normal(size=(16, 2)), epochs=1, verbose=0)
        for i, model in enumerate((dense, conv, rows)):
            path = Path(tmp) / f"{i}.zip"
            model.save(path)
            out.append(path.read_bytes())
    return out
