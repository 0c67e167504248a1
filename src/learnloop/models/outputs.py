"""What a model's outputs mean: its task, whether they are logits, and how class indices and probabilities follow.

The loss the model was compiled with decides (binary / categorical crossentropy, ``from_logits``); a model without
one is read from its last layer's activation (softmax over several outputs, sigmoid over one). Every command and
the server read a model's outputs through here, so a prediction is the same wherever it is made: a single output is
the positive class when its logit is >= 0 (a probability >= 0.5), several outputs take their argmax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from learnloop.errors import LearnloopError

Array = np.ndarray
TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class OutputKind:
    """How to read a model's outputs.

    Attributes:
        task: "binary" (one output), "multiclass" (one output per class) or "regression".
        from_logits: the outputs are logits (the loss applies sigmoid/softmax) rather than probabilities.
        loss: the compiled loss's class name (``None`` without one).
    """

    task: str
    from_logits: bool
    loss: str | None

    @property
    def classification(self) -> bool:
        return self.task != "regression"


def output_kind(model) -> OutputKind:
    """The :class:`OutputKind` of ``model``: from its compiled loss, else from its last layer's activation."""
    from learnloop import losses

    loss = getattr(model, "loss", None)
    if loss is not None:
        try:
            loss = losses.get(loss)
        except LearnloopError:
            loss = None
    if loss is not None:
        name = type(loss).__name__
        logits = bool(getattr(loss, "from_logits", False))
        if isinstance(loss, losses.BinaryCrossentropy):
            return OutputKind("binary", logits, name)
        if isinstance(loss, (losses.CategoricalCrossentropy, losses.SparseCategoricalCrossentropy)):
            return OutputKind("multiclass", logits, name)
        return OutputKind("regression", False, name)
    last = model.layers[-1] if getattr(model, "layers", None) else None
    activation = getattr(getattr(last, "activation", None), "__name__", None) or type(last).__name__.lower()
    width = int(tuple(model.output_shape)[-1])
    if activation == "softmax" and width > 1:
        return OutputKind("multiclass", False, None)
    if activation == "sigmoid" and width == 1:
        return OutputKind("binary", False, None)
    return OutputKind("regression", False, None)


def class_indices(outputs: Array, from_logits: bool, threshold: float = 0.5) -> Array:
    """(n,) int64 class indices from (n, c) outputs: argmax, or for one output the positive class when it reaches
    ``threshold`` (compared as a logit, log(t / (1 - t)), for logits)."""
    out = np.asarray(outputs)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    if out.ndim not in (1, 2):
        raise LearnloopError(f"the model's outputs have shape {out.shape}; expected (samples,) or (samples, classes).")
    if not 0.0 < threshold < 1.0:
        raise LearnloopError(f"threshold must be in (0, 1); got {threshold!r}.")
    cut = np.log(threshold / (1.0 - threshold)) if from_logits else threshold
    return (out.reshape(-1) >= cut).astype(np.int64)


def class_probabilities(outputs: Array, task: str, from_logits: bool) -> Array:
    """(n, c) class probabilities: [1 - p, p] for one output, softmax (or the outputs) for several."""
    from learnloop import activations

    out = np.asarray(outputs)
    if task == "binary":
        z = out.reshape(-1)
        p1 = activations.sigmoid(z) if from_logits else np.clip(z, 0.0, 1.0)
        return np.stack([1.0 - p1, p1], axis=1)
    return activations.softmax(out) if from_logits else out
