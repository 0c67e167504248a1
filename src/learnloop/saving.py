"""Saving and loading models: one zip file, no pickle, nothing executed on load.

The file holds ``config.json`` (architecture, compile settings, format version), ``weights.npz`` (every weight,
in ``get_weights`` order), ``metadata.json`` (JSON facts about the model, e.g. training date, class labels and the
reference statistics a server monitors drift against) and, for a trained compiled model, ``optimizer.npz`` (the
optimizer's step count and slots, e.g. Adam's moments, so that ``fit`` on the loaded model continues exactly where
it stopped, as with Keras's ``.keras`` files). Layer classes come only from :data:`learnloop.layers.REGISTRY`.

Loading treats the file as hostile: anything wrong with it, whatever its bytes, raises
:class:`~learnloop.errors.ModelFileError` naming the member and the problem, and the work is bounded before it is
done. Members appear once each and are read up to their limits; JSON is measured (nesting depth, objects and arrays)
before it is parsed and may hold only finite numbers; every array's .npy header is read before its data (numbers
only, never objects; its member exactly as large as the header declares; the arrays together within the limit); the
layers are then built with zero weights, no initializer run, and may declare no more values than the file stores,
so the shapes in config.json are checked against the stored arrays before anything is allocated; weights must be
finite in the layer's dtype and optimizer state finite with a sane step count. Loading a file takes at most about
twice the bytes of the arrays it stores. Files are written to a temporary file beside the target and renamed into
place, so a crash never leaves a half-written model.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from learnloop import losses as losses_mod
from learnloop import metrics as metrics_mod
from learnloop import optimizers as optimizers_mod
from learnloop.errors import LearnloopError, ModelFileError

FORMAT = "learnloop.model"
FORMAT_VERSION = 1
MEMBERS = ("config.json", "weights.npz", "metadata.json", "optimizer.npz")
MAX_JSON_BYTES = 16 * 2**20                 # config.json, metadata.json: each
MAX_JSON_DEPTH = 64                         # nesting of objects and arrays
MAX_JSON_CONTAINERS = 250_000               # objects and arrays in one JSON member
MAX_WEIGHTS_BYTES = 4 * 2**30               # weights.npz, optimizer.npz: each, and the bytes their arrays declare
MAX_ARRAYS = 65_535                         # arrays in one npz
MAX_INFLATION, INFLATE_FREE_BYTES = 32, 16 * 2**20   # a compressed member may inflate 32x, or to 16 MiB
MAX_ITERATIONS = 2**53                      # an optimizer step count (exact as a float)
_METRIC_CLASSES = {cls.__name__: cls for cls in (
    metrics_mod.BinaryAccuracy, metrics_mod.CategoricalAccuracy, metrics_mod.SparseCategoricalAccuracy,
    metrics_mod.MeanSquaredError, metrics_mod.MeanAbsoluteError)}


# ---- layers <-> config ---------------------------------------------------------------------------------------
def layer_to_config(layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def layer_from_config(entry: dict):
    from learnloop.layers import REGISTRY

    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ModelFileError(f"A layer entry must be {{'class_name': str, 'config': dict}}; got {entry!r:.200}.")
    name = entry["class_name"]
    cls = REGISTRY.get(name)
    if cls is None:
        raise ModelFileError(f"Unknown layer class {name[:80]!r}; this learnloop knows {sorted(REGISTRY)}.")
    config = entry.get("config", {})
    if not isinstance(config, dict):
        raise ModelFileError(f"Layer {name!r}: config must be a dict; got {type(config).__name__}.")
    try:
        return cls.from_config(dict(config))
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        raise ModelFileError(f"Layer {name!r} could not be rebuilt from its config: {str(exc)[:300]}") from None


# ---- atomic writes -------------------------------------------------------------------------------------------
@contextmanager
def atomic_write(path, mode: str = "wb"):
    """Open a temporary file beside ``path``; on success fsync and rename it over ``path``, else remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())                    # mkstemp makes 0600; give the file the usual mode
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_overwrite(path, overwrite: bool) -> None:
    if not overwrite and Path(path).exists():
        raise LearnloopError(f"{path} exists; pass overwrite=True to replace it.")


def _weights_npz(weights: list[np.ndarray], **extra: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{f"{i:04d}": w for i, w in enumerate(weights)}, **extra)
    return buffer.getvalue()


# ---- save ----------------------------------------------------------------------------------------------------
def compile_config(model) -> dict | None:
    if not getattr(model, "compiled", False):
        return None
    metrics = []
    for spec in model._metric_specs:
        if isinstance(spec, str):
            metrics.append(spec)
        elif type(spec).__name__ in _METRIC_CLASSES:
            metrics.append({"class_name": type(spec).__name__, "config": spec.get_config()})
    return {"optimizer": optimizers_mod.serialize(model.optimizer), "loss": losses_mod.serialize(model.loss),
            "metrics": metrics}


def save_model(model, filepath, overwrite: bool = True) -> None:
    """Write ``model`` to ``filepath`` (see the module docstring for the format)."""
    _check_overwrite(filepath, overwrite)
    metadata = dict(getattr(model, "metadata", None) or {})
    metadata.setdefault("saved_at", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, "class_name": type(model).__name__,
              "config": model.get_config(), "compile_config": compile_config(model)}
    try:
        config_bytes = json.dumps(config, allow_nan=False).encode()
        metadata_bytes = json.dumps(metadata, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise LearnloopError(f"save(): the model's config or metadata is not plain JSON: {exc}") from None
    with atomic_write(filepath) as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("config.json", config_bytes)
        zf.writestr("weights.npz", _weights_npz(model.get_weights()))
        zf.writestr("metadata.json", metadata_bytes)
        state = model._optimizer_state() if config["compile_config"] else None
        if state is not None:
            zf.writestr("optimizer.npz", _weights_npz(state[1], iterations=np.int64(state[0])))


def save_weights(model, filepath, overwrite: bool = True) -> None:
    _check_overwrite(filepath, overwrite)
    with atomic_write(filepath) as f:
        f.write(_weights_npz(model.get_weights()))


# ---- load ----------------------------------------------------------------------------------------------------
# What a file may make the loader do is bounded before it is done: members are read only up to their limit, JSON is
# measured (nesting, number of objects and arrays) before it is parsed, every array's .npy header is read and checked
# (dtype, shape, size against the member's size) before its data, and the layers are built with zero weights whose
# total size may not exceed what the file stores, so no declared shape allocates more than the file holds.
_ZIP_LIMITS = {"members": 64, "directory": 64 * 2**10}       # the outer zip: its central directory
_NPZ_LIMITS = {"members": MAX_ARRAYS, "directory": 8 * 2**20}        # an npz member
_JSON_BLOCK = 2**20
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_CLOSE = np.zeros(256, dtype=np.int8)
_CLOSE[[ord("]"), ord("}")]] = 1


def _open_zip(fileobj, what: str, limits: dict) -> zipfile.ZipFile:
    """A zip whose central directory is small enough to read (its size and entry count, from the end record)."""
    end = zipfile._EndRecData(fileobj)
    if end is None:
        raise ModelFileError(f"{what} is not a zip file (no end-of-archive record).")
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if entries > limits["members"] or size > limits["directory"]:
        raise ModelFileError(f"{what}: the archive lists {entries:,} members in {size:,} bytes; at most "
                             f"{limits['members']:,} members in {limits['directory']:,} bytes are read.")
    fileobj.seek(0)
    zf = zipfile.ZipFile(fileobj)
    names = [info.filename for info in zf.infolist()]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        zf.close()
        raise ModelFileError(f"{what}: the archive holds {twice[0]!r:.80} more than once; which copy counts would be "
                             f"ambiguous.")
    return zf


def _check_inflation(info: zipfile.ZipInfo, what: str) -> None:
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > max(INFLATE_FREE_BYTES,
                                                                          MAX_INFLATION * info.compress_size):
        raise ModelFileError(f"{what}: member {info.filename!r:.80} inflates {info.compress_size:,} stored bytes to "
                             f"{info.file_size:,}; more than {MAX_INFLATION}x is refused.")


def _read_member(zf: zipfile.ZipFile, name: str, limit: int, path) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise ModelFileError(f"{path}: member {name!r} claims {info.file_size:,} bytes; the limit is {limit:,}.")
    _check_inflation(info, str(path))
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"{path}: member {name!r} is larger than the limit of {limit:,} bytes.")
    return data


def json_structure(data: bytes) -> tuple[int, int]:
    """(deepest nesting, number of objects and arrays) of JSON text, read in blocks without parsing it.

    Brackets inside strings do not count; a quote preceded by an odd run of backslashes is inside its string.
    """
    depth = deepest = containers = 0
    in_string, odd_run = 0, 0              # carried from block to block: inside a string; a backslash run's parity
    for start in range(0, len(data), _JSON_BLOCK):
        b = np.frombuffer(data, dtype=np.uint8, count=min(_JSON_BLOCK, len(data) - start), offset=start)
        backslash = b == _BACKSLASH
        count = np.cumsum(backslash, dtype=np.int64)
        run = count - np.maximum.accumulate(np.where(backslash, 0, count))      # backslashes ending at each byte
        before = np.empty_like(run)
        before[0], before[1:] = 0, run[:-1]
        leading = np.arange(b.size) <= (np.argmin(backslash) if not backslash.all() else b.size)
        before[leading] += odd_run                                             # a run that began in the last block
        quote = (b == _QUOTE) & (before % 2 == 0)
        inside = (np.cumsum(quote, dtype=np.int64) + in_string) % 2 == 1
        structural = ~inside & ~quote
        steps = (_OPEN[b] - _CLOSE[b]) * structural
        levels = depth + np.cumsum(steps, dtype=np.int64)
        if levels.size:
            deepest = max(deepest, int(levels.max()))
            depth = int(levels[-1])
        containers += int((_OPEN[b] * structural).sum())
        in_string = (in_string + int(np.count_nonzero(quote))) % 2
        odd_run = int((run[-1] + (odd_run if backslash.all() else 0)) % 2) if b.size else odd_run
    return deepest, containers


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is outside the float64 range")
    return value


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON (files are written with finite numbers only)")


def _read_json(zf: zipfile.ZipFile, name: str, path):
    data = _read_member(zf, name, MAX_JSON_BYTES, path)
    deepest, containers = json_structure(data)
    if deepest > MAX_JSON_DEPTH:
        raise ModelFileError(f"{path}: {name} nests {deepest} levels deep; at most {MAX_JSON_DEPTH} are read.")
    if containers > MAX_JSON_CONTAINERS:
        raise ModelFileError(f"{path}: {name} holds {containers:,} objects and arrays; at most "
                             f"{MAX_JSON_CONTAINERS:,} are read.")
    try:
        return json.loads(data.decode("utf-8"), parse_float=_finite_float, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:                 # JSONDecodeError, bad UTF-8, ints of > 4300 digits
        raise ModelFileError(f"{path}: {name} is not valid JSON: {str(exc)[:200]}") from None


class _Arrays:
    """The arrays of an npz member (a zip of .npy files), each header read and checked before any data.

    Every array must be named ``0000``, ``0001``, ... (then the names in ``extra``), hold numbers of a kind in
    ``kinds`` (``extra`` arrays: integers), and its member must be exactly its header plus the bytes its shape and
    dtype declare; together they may declare at most ``MAX_WEIGHTS_BYTES``.
    """

    def __init__(self, data: bytes, where: str, extra: tuple[str, ...] = (), kinds: str = "f"):
        self.where = where
        self._zf = _open_zip(io.BytesIO(data), where, _NPZ_LIMITS)
        infos = {}
        for info in self._zf.infolist():
            if not info.filename.endswith(".npy"):
                raise ModelFileError(f"{where}: member {info.filename!r:.80} is not a .npy array.")
            infos[info.filename[:-4]] = info
        names = sorted(set(infos) - set(extra))
        if names != [f"{i:04d}" for i in range(len(names))] or not set(extra) <= set(infos):
            raise ModelFileError(f"{where}: unexpected array names {sorted(infos)[:5]}; expected 0000, 0001, ..."
                                 + (f" and {list(extra)}" if extra else "") + ".")
        self.names = names + list(extra)
        self.specs: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
        self.total_bytes = self.total_values = 0
        for name in self.names:
            shape, dtype = self._header(infos[name], "iuf" if name in extra else kinds)
            size = math.prod(shape)
            self.specs[name] = (shape, dtype)
            self.total_values += size
            self.total_bytes += size * dtype.itemsize
            if self.total_bytes > MAX_WEIGHTS_BYTES:
                raise ModelFileError(f"{where}: the arrays' headers declare more than {MAX_WEIGHTS_BYTES:,} bytes "
                                     f"(the limit), by array {name}.")
        self._infos = infos

    def _header(self, info: zipfile.ZipInfo, kinds: str) -> tuple[tuple[int, ...], np.dtype]:
        where = f"{self.where}: array {info.filename!r:.80}"
        _check_inflation(info, self.where)
        with self._zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0), (3, 0)):
                raise ModelFileError(f"{where} has .npy format version {version}; versions 1.0-3.0 are read.")
            read = {(1, 0): np.lib.format.read_array_header_1_0}.get(version, np.lib.format.read_array_header_2_0)
            shape, _, dtype = read(f, max_header_size=10_000)
            header = f.tell()
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in kinds:
            raise ModelFileError(f"{where} cannot be read: it holds {dtype}, not numbers of a kind in {kinds!r} "
                                 f"(nothing else is read, never pickled objects).")
        if any(d < 0 for d in shape):
            raise ModelFileError(f"{where} declares the shape {shape}.")
        declared = math.prod(shape) * dtype.itemsize
        if declared > MAX_WEIGHTS_BYTES:
            raise ModelFileError(f"{where} declares {declared:,} bytes (shape {shape}); the limit is "
                                 f"{MAX_WEIGHTS_BYTES:,}.")
        if info.file_size != header + declared:
            raise ModelFileError(f"{where} is {info.file_size:,} bytes, but its header declares {header:,} + "
                                 f"{declared:,}.")
        return tuple(int(d) for d in shape), dtype

    def read(self, name: str) -> np.ndarray:
        """The array ``name``, read (its header already checked)."""
        with self._zf.open(self._infos[name]) as f:
            array = np.lib.format.read_array(f, allow_pickle=False, max_header_size=10_000)
        if array.shape != self.specs[name][0]:
            raise ModelFileError(f"{self.where}: array {name} changed shape while read.")
        return array

    def close(self) -> None:
        self._zf.close()


def _read_weights(data: bytes, where, extra: tuple[str, ...] = ()) -> list[np.ndarray]:
    """The arrays "0000", "0001", ... of an npz in order, then those named in ``extra`` (which must be there)."""
    arrays = _Arrays(data, str(where), extra)
    try:
        return [arrays.read(name) for name in arrays.names]
    finally:
        arrays.close()


def _assign_weights(model, arrays: _Arrays, where) -> None:
    """Fill the built ``model``'s weights from ``arrays``, layer by layer (one layer's arrays read at a time)."""
    counts = [len(layer.weight_specs()) for layer in model.layers]
    if sum(counts) != len(arrays.names):
        raise ModelFileError(f"{where}: the weights do not fit the architecture: it has {sum(counts)} weight arrays; "
                             f"the file stores {len(arrays.names)}.")
    i = 0
    for layer, n in zip(model.layers, counts):
        if not n:
            continue
        chunk = [arrays.read(name) for name in arrays.names[i:i + n]]
        i += n
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # a value beyond the layer's dtype is named below
                layer.set_weights(chunk)
        except LearnloopError as exc:
            raise ModelFileError(f"{where}: the weights do not fit the architecture: {exc}") from None
        if not all(np.isfinite(w).all() for w in layer.weights):
            raise ModelFileError(f"{where}: a weight of layer '{layer.name}' is outside the range of its dtype "
                                 f"({layer.dtype}).")


def load_model(filepath, compile: bool = True):
    """Read a model written by :func:`save_model`. Never runs code from the file.

    Raises:
        ModelFileError: for anything wrong with the file, whatever its bytes; the message names the member and the
            problem. Reading is bounded before it is done (see the comment above :func:`_open_zip`).
    """
    path = Path(filepath)
    if not path.is_file():
        raise ModelFileError(f"No model file at {path}.")
    try:
        return _load(path, compile)
    except ModelFileError as exc:
        if str(path) in str(exc):
            raise
        raise ModelFileError(f"{path}: {exc}") from None
    except LearnloopError as exc:
        raise ModelFileError(f"{path}: the architecture is invalid: {exc}") from None
    except Exception as exc:   # noqa: BLE001 - a file from outside: whatever else its bytes cause (zlib, struct, NumPy)
        raise ModelFileError(f"{path} cannot be read as a model ({type(exc).__name__}: {str(exc)[:200]}).") from None


def _load(path: Path, compile: bool):
    from learnloop.layers.base import weights_from_file
    from learnloop.models.sequential import Sequential

    with open(path, "rb") as f:
        try:
            zf = _open_zip(f, f"{path} is not a learnloop model file:", _ZIP_LIMITS)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ModelFileError(f"{path} is not a learnloop model file (not a readable zip: {exc}).") from None
        with zf:
            names = zf.namelist()
            bad = [n for n in names if n not in MEMBERS]
            if bad:
                raise ModelFileError(f"{path}: unexpected members {bad[:5]}; a model file holds only {list(MEMBERS)}.")
            if "config.json" not in names or "weights.npz" not in names:
                raise ModelFileError(f"{path}: missing config.json or weights.npz; the file is truncated or not a "
                                     f"model.")
            try:
                config = _read_json(zf, "config.json", path)
                metadata = _read_json(zf, "metadata.json", path) if "metadata.json" in names else {}
                weights = _Arrays(_read_member(zf, "weights.npz", MAX_WEIGHTS_BYTES, path), f"{path} (weights.npz)")
                optimizer_bytes = _read_member(zf, "optimizer.npz", MAX_WEIGHTS_BYTES, path) \
                    if "optimizer.npz" in names and compile else None
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ModelFileError(f"{path} is corrupted: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{path}: config.json is not a learnloop model config.")
    if config.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: format version {_brief(config.get('format_version'))}; this learnloop reads "
                             f"version {FORMAT_VERSION}.")
    if config.get("class_name") != "Sequential":
        raise ModelFileError(f"{path}: unknown model class {_brief(config.get('class_name'))}; expected "
                             f"'Sequential'.")
    model_config = config.get("config")
    if not isinstance(model_config, dict) or not isinstance(model_config.get("layers"), list):
        raise ModelFileError(f"{path}: the model config has no layer list.")
    if not isinstance(model_config.get("name"), (str, type(None))):
        raise ModelFileError(f"{path}: the model's name must be a string; got a {type(model_config['name']).__name__}.")
    with weights_from_file(weights.total_values):             # zeros, never initialized; no more than the file holds
        model = Sequential.from_config(model_config)
    if weights.names and not model.built:
        raise ModelFileError(f"{path}: the file has weights but no input shape to build the model with.")
    if model.built:
        _assign_weights(model, weights, path)
    weights.close()
    model.metadata = metadata if isinstance(metadata, dict) else {}
    compile_config = config.get("compile_config")
    if compile and compile_config:
        if not isinstance(compile_config, dict):
            raise ModelFileError(f"{path}: the compile settings are invalid: not an object.")
        _compile_from_config(model, compile_config, path)
        if optimizer_bytes is not None:
            arrays = _Arrays(optimizer_bytes, f"{path} (optimizer.npz)", extra=("iterations",))
            del optimizer_bytes
            try:
                _restore_optimizer(model, [arrays.read(name) for name in arrays.names], path)
            finally:
                arrays.close()
    return model


def _brief(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _restore_optimizer(model, arrays: list[np.ndarray], path) -> None:
    *slots, iterations = arrays
    if iterations.shape != () or iterations.dtype.kind not in "iu" or not 1 <= int(iterations) <= MAX_ITERATIONS:
        raise ModelFileError(f"{path}: optimizer.npz holds an invalid step count {iterations!r:.80} (expected an "
                             f"integer from 1 to {MAX_ITERATIONS}).")
    for i, slot in enumerate(slots):
        if not np.isfinite(slot).all():
            raise ModelFileError(f"{path}: optimizer.npz slot {i} holds values that are not finite (NaN or "
                                 f"infinity); the state cannot be resumed.")
    try:
        model._load_optimizer_state(int(iterations), slots)
    except LearnloopError as exc:
        raise ModelFileError(f"{path}: the optimizer state does not fit the model: {exc}") from None


def _compile_from_config(model, cc: dict, path) -> None:
    try:
        metrics = [m if isinstance(m, str) else _METRIC_CLASSES[m["class_name"]](**m["config"])
                   for m in cc.get("metrics", [])]
        model.compile(optimizer=optimizers_mod.deserialize(cc["optimizer"]),
                      loss=losses_mod.deserialize(cc["loss"]), metrics=metrics)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        raise ModelFileError(f"{path}: the compile settings are invalid: {str(exc)[:300]}") from None


def load_weights(model, filepath) -> None:
    path = Path(filepath)
    if not path.is_file():
        raise ModelFileError(f"No weights file at {path}.")
    size = path.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise ModelFileError(f"{path}: {size:,} bytes is over the limit of {MAX_WEIGHTS_BYTES:,}.")
    try:
        arrays = _Arrays(path.read_bytes(), str(path))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{path}: the weights cannot be read ({str(exc)[:200]}).") from None
    try:
        model.set_weights([arrays.read(name) for name in arrays.names])
    except LearnloopError as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{path}: the weights do not fit the architecture: {exc}") from None
    finally:
        arrays.close()
