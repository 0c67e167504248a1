"""Saving and loading models: one zip file, no pickle, nothing executed on load.

The file holds ``config.json`` (architecture, compile settings, format version), ``weights.npz`` (every weight,
in ``get_weights`` order, loaded with ``allow_pickle=False``), ``metadata.json`` (JSON facts about the model,
e.g. training date, class labels and the reference statistics a server monitors drift against) and, for a trained
compiled model, ``optimizer.npz`` (the optimizer's step count and slots, e.g. Adam's moments, so that ``fit`` on
the loaded model continues exactly where it stopped, as with Keras's ``.keras`` files). Layer classes
come only from :data:`learnloop.layers.REGISTRY`. Anything unexpected in a file (not a zip, unknown or
path-like member names, oversized members, unknown class names, wrong shapes, non-numeric arrays) raises
:class:`~learnloop.errors.ModelFileError`. Files are written to a temporary file beside the target and renamed into
place, so a crash never leaves a half-written model.
"""

from __future__ import annotations

import io
import json
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
MAX_JSON_BYTES = 16 * 2**20
MAX_WEIGHTS_BYTES = 4 * 2**30
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
        raise ModelFileError(f"Unknown layer class {name!r}; this learnloop knows {sorted(REGISTRY)}.")
    config = entry.get("config", {})
    if not isinstance(config, dict):
        raise ModelFileError(f"Layer {name!r}: config must be a dict; got {type(config).__name__}.")
    try:
        return cls.from_config(dict(config))
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelFileError(f"Layer {name!r} could not be rebuilt from its config: {exc}") from None


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
def _read_member(zf: zipfile.ZipFile, name: str, limit: int, path) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise ModelFileError(f"{path}: member {name!r} claims {info.file_size:,} bytes; the limit is {limit:,}.")
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"{path}: member {name!r} is larger than the limit of {limit:,} bytes.")
    return data


def _read_weights(data: bytes, where, extra: tuple[str, ...] = ()) -> list[np.ndarray]:
    """The arrays "0000", "0001", ... of an npz in order, then those named in ``extra`` (which must be there)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            names = sorted(set(npz.files) - set(extra))
            if names != [f"{i:04d}" for i in range(len(names))] or not set(extra) <= set(npz.files):
                raise ModelFileError(f"{where}: unexpected array names {sorted(npz.files)[:5]}.")
            arrays = [npz[name] for name in names + list(extra)]
    except ModelFileError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelFileError(f"{where}: the weights cannot be read ({exc}).") from None
    for i, a in enumerate(arrays):
        if a.dtype.kind not in "fiub":
            raise ModelFileError(f"{where}: weight {i} has non-numeric dtype {a.dtype}.")
    return arrays


def _assign_weights(model, arrays: list[np.ndarray], where) -> None:
    try:
        model.set_weights(arrays)
    except LearnloopError as exc:
        raise ModelFileError(f"{where}: the weights do not fit the architecture: {exc}") from None


def load_model(filepath, compile: bool = True):
    """Read a model written by :func:`save_model`. Never runs code from the file."""
    from learnloop.models.sequential import Sequential

    path = Path(filepath)
    if not path.is_file():
        raise ModelFileError(f"No model file at {path}.")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(f"{path} is not a learnloop model file (not a readable zip: {exc}).") from None
    with zf:
        names = zf.namelist()
        bad = [n for n in names if n not in MEMBERS]
        if bad:
            raise ModelFileError(f"{path}: unexpected members {bad[:5]}; a model file holds only {list(MEMBERS)}.")
        if "config.json" not in names or "weights.npz" not in names:
            raise ModelFileError(f"{path}: missing config.json or weights.npz; the file is truncated or not a model.")
        try:
            config = json.loads(_read_member(zf, "config.json", MAX_JSON_BYTES, path))
            metadata = json.loads(_read_member(zf, "metadata.json", MAX_JSON_BYTES, path)) \
                if "metadata.json" in names else {}
            weights = _read_weights(_read_member(zf, "weights.npz", MAX_WEIGHTS_BYTES, path), path)
            optimizer_state = _read_weights(_read_member(zf, "optimizer.npz", MAX_WEIGHTS_BYTES, path),
                                            f"{path} (optimizer.npz)", extra=("iterations",)) \
                if "optimizer.npz" in names and compile else None
        except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError) as exc:
            raise ModelFileError(f"{path} is corrupted: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{path}: config.json is not a learnloop model config.")
    if config.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: format version {config.get('format_version')!r}; this learnloop reads "
                             f"version {FORMAT_VERSION}.")
    if config.get("class_name") != "Sequential":
        raise ModelFileError(f"{path}: unknown model class {config.get('class_name')!r}; expected 'Sequential'.")
    model_config = config.get("config")
    if not isinstance(model_config, dict) or not isinstance(model_config.get("layers"), list):
        raise ModelFileError(f"{path}: the model config has no layer list.")
    try:
        model = Sequential.from_config(model_config)
    except ModelFileError:
        raise
    except LearnloopError as exc:
        raise ModelFileError(f"{path}: the architecture is invalid: {exc}") from None
    if weights and not model.built:
        raise ModelFileError(f"{path}: the file has weights but no input shape to build the model with.")
    if model.built:
        _assign_weights(model, weights, path)
    model.metadata = metadata if isinstance(metadata, dict) else {}
    if compile and config.get("compile_config"):
        _compile_from_config(model, config["compile_config"], path)
        if optimizer_state is not None:
            _restore_optimizer(model, optimizer_state, path)
    return model


def _restore_optimizer(model, arrays: list[np.ndarray], path) -> None:
    *slots, iterations = arrays
    if iterations.shape != () or iterations.dtype.kind not in "iu" or int(iterations) < 1:
        raise ModelFileError(f"{path}: optimizer.npz holds an invalid step count {iterations!r}.")
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
    except (LearnloopError, TypeError, KeyError, AttributeError) as exc:
        raise ModelFileError(f"{path}: the compile settings are invalid: {exc}") from None


def load_weights(model, filepath) -> None:
    path = Path(filepath)
    if not path.is_file():
        raise ModelFileError(f"No weights file at {path}.")
    size = path.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise ModelFileError(f"{path}: {size:,} bytes is over the limit of {MAX_WEIGHTS_BYTES:,}.")
    _assign_weights(model, _read_weights(path.read_bytes(), path), path)
