"""The models a server answers for: each loaded from its file, versioned by content, and swapped on change.

A request takes the current :class:`ServedModel` once and uses it to the end, so replacing the model (a new file
noticed by :meth:`ModelRegistry.watch`, or :meth:`ModelRegistry.reload`) never fails a request in flight, and the
version that answered is the one logged. A file that fails to load leaves the previous version serving.

What the server reads from a learnloop model file (``model.metadata``, saved as ``metadata.json``):
``classes`` (class labels, in output order), ``reference_statistics`` (from
:func:`learnloop.serving.monitor.reference_statistics`), ``trained_at`` or ``saved_at`` (ISO date), and for a model
that starts with a FeatureSpace, ``columns`` / ``target`` / ``group_columns`` (fields a request may carry that the
model ignores). All optional.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.layers._features import FeatureValueError
from learnloop.models.outputs import output_kind
from learnloop.serving.errors import APIError

if TYPE_CHECKING:
    from learnloop.serving.rows import RowSchema

logger = logging.getLogger("learnloop.serve")


@dataclass(frozen=True)
class ServedModel:
    """One loaded version of a model and what the server needs to know about it."""

    name: str
    path: Path
    model: Any
    version: str                 # first 16 hex digits of the file's SHA-256
    loaded_at: str
    trained_at: str | None
    input_shape: tuple[int, ...]  # one instance, without the batch axis
    dtype: np.dtype
    task: str                    # "binary", "multiclass" or "regression" (learnloop.models.outputs)
    from_logits: bool
    classes: list | None
    loss: str | None
    reference: dict | None = field(default=None, repr=False)
    schema: RowSchema | None = field(default=None, repr=False)   # raw fields, for a model starting with a FeatureSpace

    @property
    def label_json(self) -> list[bytes]:
        """Each class label as JSON bytes, in class-index order."""
        cached = self.__dict__.get("_label_json")
        if cached is None:
            cached = [json.dumps(c).encode() for c in self.classes or []]
            object.__setattr__(self, "_label_json", cached)
        return cached

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))

    def outputs(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Predict for ``x`` (n, *input_shape): (class indices (n,), probabilities (n, c)) for a classifier,
        (values (n, k), None) for a regressor.

        For a classifier, probabilities come from sigmoid/softmax of the outputs when the loss is ``from_logits``.
        """
        with np.errstate(all="ignore"):           # overflow shows up as a non-finite output, answered with 422
            out = self._forward(x)
            if self.task == "regression":
                probs = out = out.reshape(out.shape[0], -1).copy()
            elif self.task == "binary":
                z = out.reshape(-1)
                p1 = 1.0 / (1.0 + np.exp(-z)) if self.from_logits else np.clip(z, 0.0, 1.0)
                probs = np.stack([1.0 - p1, p1], axis=1)
                positive = z >= 0 if self.from_logits else p1 >= 0.5     # as training's predicted labels
                if math.isfinite(float(probs.sum())):
                    return positive.astype(np.int64), probs
            elif self.from_logits:                # softmax, shifted by the row max so exp never overflows
                probs = out - out.max(axis=1, keepdims=True)
                np.exp(probs, out=probs)
                probs /= probs.sum(axis=1, keepdims=True)
            else:
                probs = out
        if not math.isfinite(float(probs.sum())):
            bad = int(np.argwhere(~np.isfinite(probs).all(axis=1))[0][0])
            raise APIError(422, f"instances[{bad}]: the model's output is not finite for this input; its values are "
                                f"probably far outside the training range.", field=f"instances[{bad}]")
        if self.task == "regression":
            return out, None
        return probs.argmax(axis=1), probs

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """The model's outputs for ``x``, already checked against the input shape and cast to the model's dtype."""
        forward = getattr(self.model, "forward", None)
        if forward is not None and getattr(self.model, "built", False):
            return forward(x, training=False)     # predict() would validate x again
        return np.asarray(self.model.predict(x))

    def encode(self, parsed) -> np.ndarray:
        """The instances of a row request (:class:`~learnloop.serving.rows.ParsedRows`) through the model's
        preprocessing layers: the network's input, in its dtype. A value a feature cannot take, or one that
        encodes to a non-finite number, is a 422 naming its field."""
        schema = self.schema
        if parsed.n == 1 and not schema.after:
            # FeatureSpace's one-row plan: bit-identical to encode, and finite (values that could overflow take the
            # general path below); None when it does not apply
            x = schema.feature_space._encode_one_row(parsed.rows[0])
            if x is not None:
                return x if x.dtype == self.dtype else x.astype(self.dtype)
        try:
            with np.errstate(all="ignore"):                 # an overflow shows up as a non-finite value, named below
                x = schema.feature_space.encode(schema.columns(parsed), "predict")
                for layer in schema.after:                  # preprocessing layers after the FeatureSpace, if any
                    x = layer(x)
        except FeatureValueError as exc:
            where = parsed.where(exc.row or 0, exc.column)
            raise APIError(422, f"{where}: {exc}", field=where, expected=exc.expected) from None
        if x.dtype != self.dtype:
            x = np.asarray(x).astype(self.dtype)
        # a float64 sum of float32 values cannot overflow: it is non-finite only when some value is
        finite = math.isfinite(x.sum(dtype=np.float64)) if x.dtype == np.float32 else bool(np.isfinite(x).all())
        if not finite:
            row, col = (int(i) for i in np.argwhere(~np.isfinite(x.reshape(x.shape[0], -1)))[0])
            owner = self.schema.owner
            where = parsed.where(row, owner[col] if col < len(owner) and x.ndim == 2 else "?")
            raise APIError(422, f"{where}: this value is not finite once encoded for the network (normalized by "
                                f"the training statistics, in {np.dtype(self.dtype).name}); it is far outside the "
                                f"training range.", field=where, expected=self.schema.expected)
        return x

    def labels(self, index: np.ndarray) -> list:
        """Class labels for class indices (n,)."""
        classes = self.classes or []
        return [classes[i] for i in index.tolist()]

    def describe(self) -> dict:
        """The model's public metadata (what ``GET /v1/models/{name}`` returns)."""
        out = {"name": self.name, "version": self.version, "task": self.task,
               "input_format": "arrays" if self.schema is None else "rows",
               "input_shape": [None, *self.input_shape], "classes": self.classes, "loss": self.loss,
               "from_logits": self.from_logits, "trained_at": self.trained_at, "loaded_at": self.loaded_at,
               "file": self.path.name, "has_reference_statistics": self.reference is not None}
        if self.schema is not None:
            out.update(self.schema.describe())
        return out


def file_version(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def served_model(name: str, path: Path, model) -> ServedModel:
    """Describe a loaded ``model`` read from ``path`` (the file is hashed for the version)."""
    metadata = dict(getattr(model, "metadata", None) or {})
    space = getattr(model, "feature_space", None)
    if space is not None:                     # raw columns in: the network's input is the pipeline's output
        shape = tuple(int(s) for s in tuple(model.preprocessing_layers[-1].output.shape)[1:])
    else:
        shape = tuple(int(s) for s in tuple(model.input_shape)[1:])
    kind = output_kind(model)
    task, from_logits, loss = kind.task, kind.from_logits, kind.loss
    width = int(tuple(model.output_shape)[-1])
    classes = metadata.get("classes")
    if task != "regression":
        n_classes = 2 if task == "binary" else width
        if not isinstance(classes, list) or len(classes) != n_classes:
            classes = list(range(n_classes))
        classes = [plain_label(c) for c in classes]
    else:
        classes = None
    reference = _usable_reference(metadata.get("reference_statistics"), shape, space)
    schema = None
    if space is not None:
        from learnloop.serving.rows import RowSchema, example_values

        schema = RowSchema(space, metadata, example_values(space, reference), after=model.preprocessing_layers[1:])
    return ServedModel(
        name=name, path=path, model=model, version=file_version(path),
        loaded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        trained_at=metadata.get("trained_at") or metadata.get("saved_at"), input_shape=shape,
        dtype=np.dtype(getattr(model, "dtype", "float32")), task=task, from_logits=from_logits,
        classes=classes, loss=loss, reference=reference, schema=schema)


def _usable_reference(reference, shape: tuple[int, ...], space) -> dict | None:
    """The reference statistics if they describe this model's input: raw columns it reads (a FeatureSpace model),
    or its flattened input features (an array model), and are well formed (:func:`check_reference`); else None
    (no drift monitoring)."""
    if not isinstance(reference, dict) or not isinstance(reference.get("outputs"), dict):
        return None
    if space is not None:
        columns = reference.get("columns")
        if reference.get("kind") != "columns" or not isinstance(columns, dict) or not columns or \
                not set(columns) <= set(space.column_names):
            return None
    elif reference.get("kind", "features") != "features" or not isinstance(reference.get("features"), dict) or \
            not isinstance(reference["features"].get("bin_edges"), list) or \
            len(reference["features"]["bin_edges"]) != int(np.prod(shape)):
        return None
    from learnloop.serving.monitor import check_reference

    problem = check_reference(reference)
    if problem is not None:
        logger.warning("reference statistics not used (no drift monitoring): %s", problem)
        return None
    return reference


def plain_label(value):
    """A class label as a client sees it: a whole float is the integer label (3.0 -> 3), NumPy scalars are Python
    values, anything else not a JSON scalar is its text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value if isinstance(value, (int, float, str)) or value is None else str(value)


def default_loader(path: Path):
    from learnloop.saving import load_model

    return load_model(path)


class _Slot:
    def __init__(self, path: Path):
        self.path = path
        self.current: ServedModel | None = None
        self.signature: tuple[int, int] | None = None
        self.failed_signature: tuple[int, int] | None = None
        self.last_error: str | None = None
        self.last_error_at: str | None = None
        self.lock = asyncio.Lock()


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class ModelRegistry:
    """Name -> served model, with hot reload. ``loader(path)`` returns a model (``learnloop.load_model``)."""

    def __init__(self, loader: Callable[[Path], Any] = default_loader,
                 on_swap: Callable[[ServedModel | None, ServedModel], None] | None = None):
        self.loader = loader
        self.on_swap = on_swap
        self._slots: dict[str, _Slot] = {}

    def add(self, name: str, path: str | Path) -> ServedModel:
        """Load ``path`` under ``name`` now (raises :class:`LearnloopError` if it cannot be served)."""
        path = Path(path)
        slot = _Slot(path)
        slot.signature = _signature(path)
        try:
            slot.current = self._load(name, path)
        except LearnloopError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a loader given for tests; said plainly, not as a traceback
            raise LearnloopError(f"Model file {str(path)!r} cannot be served: {type(exc).__name__}: "
                                 f"{str(exc)[:500]}") from None
        self._slots[name] = slot
        if self.on_swap:
            self.on_swap(None, slot.current)
        return slot.current

    def _load(self, name: str, path: Path) -> ServedModel:
        model = self.loader(path)
        if model is None:
            raise LearnloopError(f"Model {str(path)!r}: the loader returned nothing.")
        served = served_model(name, path, model)
        if len(served.input_shape) == 0 or any(s <= 0 for s in served.input_shape):
            raise LearnloopError(f"Model {str(path)!r} has input shape {model.input_shape}; a server needs a fixed "
                                 f"instance shape.")
        return served

    def names(self) -> list[str]:
        return list(self._slots)

    def __contains__(self, name: object) -> bool:
        return name in self._slots

    def get(self, name: str) -> ServedModel:
        slot = self._slots.get(name)
        if slot is None:
            raise APIError(404, f"Unknown model {name!r}; this server serves {self.names()}.", field="name",
                           expected=f"one of {self.names()}")
        return slot.current

    def status(self, name: str) -> dict:
        slot = self._slots[name]
        return {"path": str(slot.path), "last_reload_error": slot.last_error,
                "last_reload_error_at": slot.last_error_at}

    def describe(self, name: str) -> dict:
        """What ``GET /v1/models/{name}`` says: the model's metadata and the last failed reload, if any."""
        slot = self._slots.get(name)
        served = self.get(name)
        return {**served.describe(), "last_reload_error": slot.last_error, "last_reload_error_at": slot.last_error_at}

    async def reload(self, name: str, *, force: bool = False) -> tuple[ServedModel, bool]:
        """Load the file again if it changed (or ``force``); returns (serving model, whether it was swapped).

        Raises :class:`APIError` 422 when the new file cannot be loaded; the previous version keeps serving.
        """
        self.get(name)
        slot = self._slots[name]
        async with slot.lock:
            sig = _signature(slot.path)
            if not force and sig == slot.signature:
                return slot.current, False
            try:
                new = await asyncio.to_thread(self._load, name, slot.path)
            except Exception as exc:  # noqa: BLE001 - whatever a file does to the loader, the old version serves
                slot.failed_signature = sig
                slot.last_error = f"{type(exc).__name__}: {str(exc)[:500]}"
                slot.last_error_at = now_iso()
                logger.warning("model %r: %s could not be loaded (%s); still serving version %s", name, slot.path,
                               slot.last_error, slot.current.version)
                raise APIError(422, f"Model file {str(slot.path)!r} could not be loaded ({slot.last_error}); still "
                                    f"serving version {slot.current.version}.", field="file") from None
            old, slot.current, slot.signature, slot.last_error, slot.last_error_at = slot.current, new, sig, None, None
            if self.on_swap and new.version != old.version:
                try:
                    self.on_swap(old, new)
                except Exception as exc:  # noqa: BLE001 - the new version serves; the monitor's problem is logged
                    logger.warning("model %r: version %s serves, but its monitor could not switch: %s", name,
                                   new.version, exc)
            return new, new.version != old.version

    async def watch(self, interval: float = 1.0) -> None:
        """Poll every file's mtime and size each ``interval`` seconds and reload files that changed (forever: a
        file that cannot be loaded is recorded in :meth:`status` and tried again once it changes)."""
        while True:
            await asyncio.sleep(interval)
            for name, slot in list(self._slots.items()):
                try:
                    sig = _signature(slot.path)
                    if sig is None or sig == slot.signature or sig == slot.failed_signature:
                        continue
                    await self.reload(name)
                except APIError:
                    pass                                  # recorded in slot.last_error; retried when it changes
                except Exception as exc:  # noqa: BLE001 - the watcher outlives anything; recorded, then polled again
                    slot.last_error, slot.last_error_at = f"{type(exc).__name__}: {str(exc)[:500]}", now_iso()
                    logger.warning("model %r: watching %s failed: %s", name, slot.path, slot.last_error)


def now_iso() -> str:
    return datetime.fromtimestamp(time.time(), tz=timezone.utc).isoformat(timespec="seconds")
