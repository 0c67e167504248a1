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


def __getattr__(name: str):
    # learnloop.wrappers (scikit-learn estimators) loads on first use: importing scikit-learn's estimator machinery
    # would otherwise slow every `import learnloop`.
    if name == "wrappers":
        import importlib

        return importlib.import_module("learnloop.wrappers")
    raise AttributeError(f"module 'learnloop' has no attribute {name!r}")
