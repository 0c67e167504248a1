"""``tf.keras``: learnloop's Keras names, with TensorFlow's return types where they show.

Layers and models are thin subclasses of learnloop's: calling one on data gives a :class:`Tensor`, their weights
show as named variables (``L1/kernel:0``), and ``summary()`` prints Keras 2's layout. Everything else (training,
saving, the engine's arrays) is learnloop's own. Activations are wrappers that return tensors and compare equal to
learnloop's functions, so ``layer.activation == tf.keras.activations.relu`` holds as in Keras.
"""

from __future__ import annotations

import functools
import sys

import numpy as np

import learnloop
from learnloop import activations as act
from learnloop import callbacks, config, initializers, layers, losses, metrics, optimizers, regularizers
from learnloop.compat.tensorflow._missing import HINTS, namespace
from learnloop.compat.tensorflow._ops import convert_to_tensor
from learnloop.compat.tensorflow._tensor import named, plain, wrap
from learnloop.errors import LearnloopError
from learnloop.layers.base import unique_name
from learnloop.models import Sequential as _Sequential
from learnloop.shapes import SymbolicTensor

PACKAGE = "learnloop.compat.tensorflow.keras"
KERAS_VERSION = "2.15.0"


# ---- layers ------------------------------------------------------------------------------------------------------
def _variables(layer, trainable: bool) -> list:
    return [named(getattr(layer, w.attr), f"{layer.name}/{w.attr}", trainable) for w in layer.weight_specs()
            if (w.trainable and layer.trainable) == trainable]


class TensorCall:
    """Mixin: a learnloop layer whose call on data returns a Tensor and whose weights show as named variables."""

    def __call__(self, inputs, training=False, **kwargs):
        out = super().__call__(inputs if isinstance(inputs, SymbolicTensor) else plain(inputs), training=training)
        return wrap(out) if isinstance(out, np.ndarray) else out

    @property
    def trainable_weights(self) -> list:
        return _variables(self, True)

    @property
    def non_trainable_weights(self) -> list:
        return _variables(self, False)

    @property
    def weights(self) -> list:
        return self.trainable_weights + self.non_trainable_weights

    variables = weights
    trainable_variables = trainable_weights


class Layer(TensorCall, layers.Layer):
    """Base class for layers written here: define ``forward(x, training)`` and ``backward(grad)``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "call" in cls.__dict__ and "forward" not in cls.__dict__:
            raise LearnloopError(f"{cls.__name__}: {HINTS['Layer.call']}")


def _compat_layer(cls: type) -> type:
    return type(cls.__name__, (TensorCall, cls), {"__module__": f"{PACKAGE}.layers", "__qualname__": cls.__name__,
                                                    "__doc__": cls.__doc__})


COMPAT_LAYERS: dict[type, type] = {}
_layer_names: dict = {}
for _name in layers.__all__:
    _obj = getattr(layers, _name)
    if isinstance(_obj, type) and issubclass(_obj, layers.Layer) and _obj is not layers.Layer \
            and _obj is not layers.InputLayer:
        COMPAT_LAYERS[_obj] = _layer_names[_name] = _compat_layer(_obj)
    elif _name not in ("REGISTRY", "register", "Layer"):
        _layer_names[_name] = _obj
_layer_names["Layer"] = Layer


# ---- models ------------------------------------------------------------------------------------------------------
class _ModelType(type):
    def __call__(cls, *args, **kwargs):
        if cls is Model:
            return _functional(*args, **kwargs)
        return super().__call__(*args, **kwargs)


class Model(_Sequential, metaclass=_ModelType):
    """``tf.keras.Model(inputs, outputs)`` for a chain of layers (built as a Sequential model); subclasses that
    define their own ``call`` are refused, with the reason."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "call" in cls.__dict__:
            raise LearnloopError(f"{cls.__name__}: {HINTS['Model.call']}")

    def __call__(self, inputs, training=False, mask=None):
        out = super().__call__(inputs if isinstance(inputs, SymbolicTensor) else plain(inputs), training=training)
        return wrap(out) if isinstance(out, np.ndarray) else out

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs) -> None:
        super().compile(optimizer=optimizer, loss=None if loss is None else get_loss(loss), metrics=metrics,
                        **kwargs)

    def summary(self, line_length=None, positions=None, print_fn=None, style: str = "keras2", **kwargs) -> None:
        """Print the layers and parameter counts, in Keras 2's layout (``style="keras3"`` for Keras 3's box)."""
        super().summary(line_length=line_length, positions=positions, print_fn=print_fn, style=style, **kwargs)

    @property
    def trainable_weights(self) -> list:
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list:
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    @property
    def weights(self) -> list:
        return [w for layer in self.layers for w in layer.weights]

    variables = weights
    trainable_variables = trainable_weights


class Sequential(Model):
    """``tf.keras.Sequential``: learnloop's Sequential, returning tensors when called and printing Keras 2's
    summary."""


def _functional(inputs=None, outputs=None, name=None, **kwargs) -> Sequential:
    """The Sequential model equal to a functional chain ``Input -> layer -> ... -> outputs``."""
    if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
        outputs = outputs[0]
    if not isinstance(inputs, SymbolicTensor) or not isinstance(outputs, SymbolicTensor):
        raise LearnloopError(
            "tf.keras.Model(inputs, outputs) takes one tf.keras.Input and the output of a chain of layers called on "
            f"it; got inputs={inputs!r}, outputs={outputs!r}. {HINTS['Model.call']}")
    chain, tensor = [], outputs
    while tensor is not inputs:
        layer = tensor.layer
        if layer is None or isinstance(layer, layers.InputLayer) or layer.input is None:
            raise LearnloopError("tf.keras.Model(inputs, outputs): the outputs are not reached from the inputs by a "
                                 "single chain of layers; learnloop models are a stack of layers, each feeding the "
                                 "next (no branches or merges).")
        chain.append(layer)
        tensor = layer.input
    return Sequential([inputs] + chain[::-1], name=name or unique_name("model"))     # Keras names it "model"


def adopt(model):
    """Give a learnloop model (and its layers) the compat classes, in place: they add behaviour, not state."""
    if type(model) is _Sequential:
        model.__class__ = Sequential
    for layer in getattr(model, "layers", []):
        if type(layer) in COMPAT_LAYERS:
            layer.__class__ = COMPAT_LAYERS[type(layer)]
    return model


def load_model(filepath, compile: bool = True, **kwargs):
    return adopt(learnloop.models.load_model(filepath, compile=compile))


def clone_model(model, **kwargs):
    return adopt(learnloop.models.clone_model(model))


def save_model(model, filepath, overwrite: bool = True, **kwargs) -> None:
    model.save(filepath, overwrite=overwrite)


# ---- activations -----------------------------------------------------------------------------------------------
class Activation:
    """A learnloop activation that returns a Tensor; equal (and hashed) like the function it wraps."""

    def __init__(self, fn, arguments: dict | None = None):
        self.fn = fn
        self.arguments = arguments or {}
        functools.update_wrapper(self, fn)

    def __call__(self, x, *args, **kwargs):
        for keras_name, name in self.arguments.items():
            if keras_name in kwargs:
                kwargs[name] = kwargs.pop(keras_name)
        return wrap(self.fn(plain(convert_to_tensor(x)), *args, **kwargs))   # Python floats: float32, as in TF

    def __eq__(self, other) -> bool:
        return other is self.fn or (isinstance(other, Activation) and other.fn is self.fn)

    def __hash__(self) -> int:
        return hash(self.fn)

    def __repr__(self) -> str:
        return repr(self.fn)


ACTIVATIONS = {name: Activation(fn, {"alpha": "negative_slope"} if name in ("relu", "leaky_relu") else None)
               for name, fn in act._ALL.items()}


def get_activation(identifier):
    fn = act.get(identifier)
    return ACTIVATIONS.get(act.serialize(fn), fn)


# ---- losses -----------------------------------------------------------------------------------------------------
def _compat_loss(cls: type) -> type:
    def __call__(self, y_true, y_pred, sample_weight=None):
        value = cls.__call__(self, plain(y_true), plain(y_pred), sample_weight=plain(sample_weight))
        dtype = np.asarray(plain(y_pred)).dtype
        return wrap(np.asarray(value, dtype=dtype if dtype.kind == "f" else config.floatx()))
    return type(cls.__name__, (cls,), {"__call__": __call__, "__module__": f"{PACKAGE}.losses",
                                        "__qualname__": cls.__name__, "__doc__": cls.__doc__})


COMPAT_LOSSES = {cls: _compat_loss(cls) for cls in losses.CLASSES.values()}


def get_loss(identifier):
    """A loss object, of the compat class when made here from a name, function or class."""
    if isinstance(identifier, losses.Loss):
        return identifier
    loss = losses.get(identifier)
    loss.__class__ = COMPAT_LOSSES.get(type(loss), type(loss))
    return loss


def _loss_function(fn):
    @functools.wraps(fn)
    def call(y_true, y_pred, *args, **kwargs):
        return wrap(fn(plain(y_true), plain(y_pred), *args, **kwargs))
    return call


# ---- utils and backend -----------------------------------------------------------------------------------------
def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot rows for integer class labels (a NumPy array, as Keras returns)."""
    y = np.asarray(plain(y), dtype=int)
    shape = y.shape[:-1] if y.ndim > 1 and y.shape[-1] == 1 else y.shape
    y = y.reshape(-1)
    n = int(num_classes) if num_classes is not None else int(y.max()) + 1
    out = np.zeros((y.size, n), dtype=dtype)
    out[np.arange(y.size), y] = 1
    return out.reshape(shape + (n,))


def clear_session(free_memory: bool = True) -> None:
    """Reset the automatic layer and model names (``dense``, ``dense_1``...), as Keras does."""
    from learnloop.layers import base

    base._NAME_COUNTS.clear()


def _epsilon() -> float:
    return 1e-7


# ---- the namespace -----------------------------------------------------------------------------------------------
def build() -> dict:
    """{module name: module} for ``tf.keras`` and its submodules."""
    preprocessing = namespace(f"{PACKAGE}.layers.experimental.preprocessing",
                              "tf.keras.layers.experimental.preprocessing",
                              {k: v for k, v in _layer_names.items() if k in (
                                  "Normalization", "Rescaling", "RandomFlip", "RandomRotation", "RandomZoom",
                                  "RandomTranslation", "StringLookup", "IntegerLookup", "CategoryEncoding",
                                  "Discretization", "Hashing")})
    experimental = namespace(f"{PACKAGE}.layers.experimental", "tf.keras.layers.experimental",
                             {"preprocessing": preprocessing})
    mods = {
        "layers": namespace(f"{PACKAGE}.layers", "tf.keras.layers", {**_layer_names, "experimental": experimental}),
        "models": namespace(f"{PACKAGE}.models", "tf.keras.models", {
            "Sequential": Sequential, "Model": Model, "load_model": load_model, "save_model": save_model,
            "clone_model": clone_model}),
        "activations": namespace(f"{PACKAGE}.activations", "tf.keras.activations", {
            **ACTIVATIONS, "get": get_activation, "serialize": act.serialize, "deserialize": get_activation}),
        "losses": namespace(f"{PACKAGE}.losses", "tf.keras.losses", {
            **{cls.__name__: c for cls, c in COMPAT_LOSSES.items()}, "Loss": losses.Loss, "get": get_loss,
            **{name: _loss_function(getattr(losses, name)) for name in (
                "mean_squared_error", "mean_absolute_error", "binary_crossentropy", "categorical_crossentropy",
                "sparse_categorical_crossentropy", "mse", "mae", "MSE", "MAE")}}),
        "optimizers": namespace(f"{PACKAGE}.optimizers", "tf.keras.optimizers", _public(optimizers, (
            "SGD", "Adam", "AdamW", "RMSprop", "Optimizer", "get", "serialize", "deserialize"))),
        "regularizers": namespace(f"{PACKAGE}.regularizers", "tf.keras.regularizers", _public(regularizers, (
            "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "Regularizer", "get", "serialize"))),
        "initializers": namespace(f"{PACKAGE}.initializers", "tf.keras.initializers", _public(initializers, (
            "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Initializer", "LecunNormal",
            "LecunUniform", "Ones", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros",
            "get", "serialize"))),
        "callbacks": namespace(f"{PACKAGE}.callbacks", "tf.keras.callbacks", _public(callbacks, (
            "Callback", "CSVLogger", "EarlyStopping", "History", "LambdaCallback", "LearningRateScheduler",
            "ModelCheckpoint", "ProgressBar", "ReduceLROnPlateau", "TerminateOnNaN"))),
        "metrics": namespace(f"{PACKAGE}.metrics", "tf.keras.metrics", _public(metrics, (
            "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "MeanSquaredError",
            "MeanAbsoluteError", "Metric", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
            "mean_squared_error", "mean_absolute_error", "get"))),
        "utils": namespace(f"{PACKAGE}.utils", "tf.keras.utils", {
            "set_random_seed": learnloop.utils.set_random_seed, "to_categorical": to_categorical,
            "PyDataset": learnloop.utils.PyDataset, "Sequence": learnloop.utils.Sequence,
            "FeatureSpace": learnloop.utils.FeatureSpace}),
        "backend": namespace(f"{PACKAGE}.backend", "tf.keras.backend", {
            "floatx": config.floatx, "set_floatx": config.set_floatx, "epsilon": _epsilon,
            "clear_session": clear_session}),
    }
    mods["optimizers"].legacy = namespace(f"{PACKAGE}.optimizers.legacy", "tf.keras.optimizers.legacy", _public(
        optimizers, ("SGD", "Adam", "RMSprop", "Optimizer")))
    keras = namespace(PACKAGE, "tf.keras", {**mods, "Sequential": Sequential, "Model": Model, "Input": layers.Input,
                                            "__version__": KERAS_VERSION})
    table = {PACKAGE: keras, f"{PACKAGE}.optimizers.legacy": mods["optimizers"].legacy,
             f"{PACKAGE}.layers.experimental": experimental,
             f"{PACKAGE}.layers.experimental.preprocessing": preprocessing}
    table.update({f"{PACKAGE}.{name}": module for name, module in mods.items()})
    for name, module in table.items():
        sys.modules.setdefault(name, module)
    return table


def _public(module, names) -> dict:
    return {name: getattr(module, name) for name in names if hasattr(module, name)}
