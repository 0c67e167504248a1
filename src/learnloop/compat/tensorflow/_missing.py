"""What a TensorFlow name outside the covered subset says: which name it was, and what to use instead."""

from __future__ import annotations

import difflib
import dis
import sys
import types

_IMPORT_FROM = dis.opmap.get("IMPORT_FROM")

_TRAIN_INSTEAD = ("learnloop has no automatic differentiation: each layer carries its own backward(). Train with "
                  "model.compile(loss=..., optimizer=...) and model.fit(x, y), or take one step on one batch with "
                  "model.train_on_batch(x, y); a loss's value_and_gradient(y, out) gives dL/d(out).")
_LAYERS_INSTEAD = ("write a learnloop layer instead (a learnloop.layers.Layer subclass with forward(x, training) and "
                   "backward(grad)), or use one of tf.keras.layers' covered names: {layers}.")

HINTS = {
    "GradientTape": "tf.GradientTape records operations for automatic differentiation. " + _TRAIN_INSTEAD,
    "gradients": "tf.gradients differentiates a graph. " + _TRAIN_INSTEAD,
    "custom_gradient": "tf.custom_gradient defines a gradient for autodiff. " + _TRAIN_INSTEAD,
    "data": "tf.data builds input pipelines; learnloop's fit takes NumPy arrays: model.fit(x, y, batch_size=32).",
    "distribute": "learnloop trains in one process on the CPU; sweeps of several models run in parallel through "
                  "learnloop.diagnostics (n_jobs=).",
    "saved_model": "save with model.save('model.zip') and load with tf.keras.models.load_model('model.zip'); "
                   "`learnloop export model.zip --format onnx` writes ONNX.",
    "lite": "learnloop exports ONNX instead: `learnloop export model.zip --format onnx`.",
    "Session": "TensorFlow 1 sessions have no counterpart: learnloop computes eagerly, on NumPy arrays.",
    "placeholder": "TensorFlow 1 placeholders have no counterpart: learnloop computes eagerly, on NumPy arrays.",
    "v1": "TensorFlow 1's graph API has no counterpart (only tf.compat.v1.logging is covered): learnloop is eager.",
    "summary": "TensorBoard summaries are not written; model.fit returns a History whose .history holds every metric.",
    "TensorBoard": "TensorBoard logs are not written; model.fit's History (and CSVLogger) keep the metrics per epoch.",
    "datasets": "learnloop downloads nothing: use scikit-learn's bundled sets (sklearn.datasets.load_digits, ...) "
                "or NumPy files you have.",
    "plot_model": "plot_model needs pydot and graphviz; model.summary() prints the layers, shapes and parameters.",
    "Lambda": "a Lambda layer wraps an arbitrary function, whose derivative learnloop cannot know; "
              + _LAYERS_INSTEAD,
    "mixed_precision": "learnloop computes in float32 or float64: tf.keras.backend.set_floatx('float64').",
    "preprocessing": "tf.keras.preprocessing (ImageDataGenerator, text and sequence tools) is not covered: for "
                     "images use learnloop's augmentation layers inside the model (RandomRotation, RandomZoom, "
                     "RandomTranslation, RandomFlip); tf.keras.layers has Normalization, Rescaling and the lookups.",
    "python": "tensorflow.python is TensorFlow's private implementation: use the public names (tf.keras..., "
              "tf.nn..., tf.math...).",
    "ImageDataGenerator": "use learnloop's augmentation layers inside the model (RandomRotation, RandomZoom, "
                          "RandomTranslation, RandomFlip), which are active only during fit.",
    "set_memory_growth": "learnloop runs on the CPU (tf.config.list_physical_devices('GPU') is empty): there is no "
                         "GPU memory to configure.",
    "schedules": "learning-rate schedules: use tf.keras.callbacks.LearningRateScheduler(lambda epoch, lr: ...) or "
                 "ReduceLROnPlateau.",
    "Model.call": "a subclassed tf.keras.Model with its own call() needs automatic differentiation, which learnloop "
                  "does not have. Write the model as tf.keras.Sequential([...]) of layers, or as a functional "
                  "chain tf.keras.Model(inputs, outputs) through Input and layers.",
    "Layer.call": "a Keras layer defined by call() alone needs automatic differentiation, which learnloop does not "
                  "have; define forward(x, training) and backward(grad) as learnloop layers do.",
}


class NotCovered(AttributeError):
    """A TensorFlow name the compat layer does not cover (an AttributeError, so ``hasattr`` stays False)."""


class NotCoveredImport(ImportError):
    """The same, met by ``from tensorflow... import name``."""


def message(path: str, name: str, available) -> str:
    full = f"{path}.{name}"
    hint = HINTS.get(name)
    if hint:
        return f"{full} is not covered by learnloop's TensorFlow names: {hint.format(layers=', '.join(available))}"
    close = difflib.get_close_matches(name, list(available), n=1)
    suggestion = f" Did you mean {path}.{close[0]}?" if close else ""
    return (f"{full} is not covered by learnloop's TensorFlow names (learnloop.compat.tensorflow runs the course's "
            f"TensorFlow code on learnloop: NumPy arrays, Keras-style layers and models).{suggestion} For array "
            f"operations NumPy has the same functions; {path} covers {sorted(available)}.")


def _importing_from(depth: int) -> bool:
    """True when the frame ``depth`` levels up is running ``from module import name``."""
    try:
        frame = sys._getframe(depth + 1)
        return frame.f_code.co_code[frame.f_lasti] == _IMPORT_FROM
    except (AttributeError, IndexError, ValueError):
        return False


def namespace(module_name: str, path: str, names: dict, doc: str = "") -> types.ModuleType:
    """A module object ``module_name`` holding ``names``, shown to users as ``path`` (e.g. ``tf.keras.layers``),
    whose unknown attributes raise a :class:`NotCovered` error that names the TensorFlow name and the way out."""
    module = types.ModuleType(module_name, doc)
    module.__path__ = []                    # a package, so `import tf.keras.unknown` reaches the finder's message
    module.__dict__.update(names)
    public = sorted(n for n in names if not n.startswith("_"))

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        text = message(path, name, public)
        raise (NotCoveredImport(text, name=name) if _importing_from(1) else NotCovered(text))

    module.__getattr__ = __getattr__
    module.__dir__ = lambda: public
    module.__all__ = public
    return module
