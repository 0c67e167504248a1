"""Write keras3.json: the public names of the Keras modules the parity table covers, with their parameters.

    python docs/keras/dump_names.py          # needs Keras 3 (pip install tensorflow-cpu); CI reads the JSON

The table is checked against this file in CI (which has no Keras); tests/docs/test_keras_parity_table.py also
compares the file with the installed Keras when there is one, so a Keras upgrade that adds or drops names shows up.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import types
from pathlib import Path

OUT = Path(__file__).with_name("keras3.json")
MODULES = ("layers", "losses", "optimizers", "callbacks", "activations", "regularizers", "initializers", "metrics",
           "utils", "models")
# The Sequential / Model methods and attributes the course and the Keras guides use ("The Sequential model",
# "Training & evaluation with the built-in methods", "Save, serialize and export", "Transfer learning").
MODEL_MEMBERS = ("add", "pop", "build", "compile", "fit", "evaluate", "predict", "predict_on_batch", "train_on_batch",
                 "test_on_batch", "summary", "get_layer", "get_weights", "set_weights", "save", "save_weights",
                 "load_weights", "count_params", "get_config", "from_config", "to_json", "layers", "weights",
                 "trainable_weights", "non_trainable_weights", "trainable", "inputs", "outputs", "input", "output",
                 "input_shape", "output_shape", "metrics_names", "metrics", "stop_training", "optimizer", "loss",
                 "history", "export", "train_step", "test_step", "predict_step", "__call__", "get_compile_config",
                 "compile_from_config", "get_build_config", "build_from_config", "name", "dtype", "summary")


def parameters(obj) -> list[str] | None:
    """The named parameters of a function, or of a class's constructor; None when there is no signature."""
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    return [p.name for p in signature.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def describe(obj) -> dict:
    if isinstance(obj, types.ModuleType):
        return {"kind": "module"}
    if inspect.isclass(obj):
        return {"kind": "class", "params": parameters(obj)}
    if callable(obj):
        return {"kind": "function", "params": parameters(obj)}
    if isinstance(obj, property):
        return {"kind": "attribute"}
    return {"kind": "other"}


def dump() -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    out = {"keras_version": keras.__version__, "modules": {}, "model": {}}
    for name in MODULES:
        module = getattr(keras, name)
        out["modules"][name] = {n: describe(getattr(module, n)) for n in sorted(dir(module)) if not n.startswith("_")}
    import numpy as np

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])      # instance attributes (history, loss,
    model.compile(optimizer="adam", loss="mse")                               # stop_training) exist once trained
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0)
    for member in sorted(set(MODEL_MEMBERS)):
        try:
            static = inspect.getattr_static(keras.Sequential, member)
        except AttributeError:                                                # set on the instance
            static = None
            if member not in vars(model):
                raise SystemExit(f"keras.Sequential has no {member!r}: update MODEL_MEMBERS") from None
        method = callable(static) or isinstance(static, (classmethod, staticmethod))
        out["model"][member] = describe(getattr(keras.Sequential, member)) if method else {"kind": "attribute"}
    return out


if __name__ == "__main__":
    OUT.write_text(json.dumps(dump(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)
