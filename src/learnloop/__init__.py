"""learnloop: neural networks in plain NumPy with the Keras API, and the machine-learning loop built in.

Code written for ``tf.keras`` runs after replacing ``tensorflow.keras`` with ``learnloop``::

    from learnloop import Sequential, Input
    from learnloop.layers import Dense
    model = Sequential([Input((400,)), Dense(25, activation="relu"), Dense(1, activation="sigmoid")])
"""

from learnloop import (
    activations,
    callbacks,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    utils,
)
from learnloop.config import floatx, set_floatx
from learnloop.errors import LearnloopError, ModelFileError, NotFittedError
from learnloop.layers import Input, InputLayer
from learnloop.models import Sequential, load_model
from learnloop.utils import set_random_seed, set_seed

__version__ = "0.1.0"

__all__ = [
    "Input", "InputLayer", "LearnloopError", "ModelFileError", "NotFittedError", "Sequential", "activations",
    "callbacks", "floatx", "initializers", "layers", "load_model", "losses", "metrics", "models", "optimizers",
    "regularizers", "set_floatx", "set_random_seed", "set_seed", "utils",
]


# Every public submodule is an attribute, imported on first use, so `import learnloop` stays fast: the diagnostics,
# serving, export and reporting stacks (scikit-learn's estimators, FastAPI, ONNX, matplotlib) load only when used.
_SUBMODULES = ("activations", "callbacks", "cli", "commands", "compat", "config", "data", "diagnostics", "errors",
               "export", "fairness", "initializers", "layers", "losses", "metrics", "models", "optimizers",
               "reference", "regularizers", "report", "saving", "serving", "shapes", "testing", "transfer", "utils",
               "wrappers")


def __getattr__(name: str):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"learnloop.{name}")
    raise AttributeError(f"module 'learnloop' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
