"""TensorFlow's names, over learnloop: the course's TensorFlow code runs with one added line.

::

    import learnloop.compat.tensorflow as _tf; _tf.install()     # or, in Jupyter: %load_ext learnloop.compat.tensorflow
    import tensorflow as tf                                      # now learnloop, here and in every helper module
    from tensorflow.keras.layers import Dense

Or use the names directly, without touching ``import tensorflow``: ``from learnloop.compat import tensorflow as tf``.

Covered: ``tf.keras`` (learnloop's Keras names: layers, models, activations, losses, optimizers, regularizers,
initializers, callbacks, metrics, utils, backend), ``tf.nn``, ``tf.math``, ``tf.linalg``, ``tf.random``, tensors
(``constant``, ``convert_to_tensor``, ``cast``, ``reshape``, ``one_hot``, ``argmax``, ``reduce_*``, ``matmul``,
``Variable``...), ``get_logger``, ``autograph.set_verbosity``, ``config`` (threads, devices). Tensors are a thin
NumPy subclass with ``.numpy()`` and TensorFlow's printout; the engine itself computes on plain arrays. A name
outside the subset (``tf.GradientTape``, ``tf.data``, ``tf.keras.layers.LSTM``...) raises an error that names it and
says what to use instead.
"""

from __future__ import annotations

import builtins as _builtins
import logging as _logging
import sys as _sys
from collections import namedtuple as _namedtuple

import learnloop as _learnloop
from learnloop.compat.tensorflow import _install, _keras, _ops
from learnloop.compat.tensorflow._missing import namespace as _namespace
from learnloop.compat.tensorflow._ops import *  # noqa: F403  (tf.constant, tf.reshape, tf.argmax, ...)
from learnloop.compat.tensorflow._ops import ELEMENTWISE as _ELEMENTWISE
from learnloop.compat.tensorflow._ops import REDUCTIONS as _REDUCTIONS
from learnloop.compat.tensorflow._tensor import DTYPES as _DTYPES
from learnloop.compat.tensorflow._tensor import DType, Tensor, Variable  # noqa: F401  (tf.DType, tf.Tensor, ...)
from learnloop.compat.tensorflow._tensor import plain as _plain
from learnloop.shapes import TensorShape  # noqa: F401  (tf.TensorShape)

__version__ = f"2.15.0+learnloop.{_learnloop.__version__}"
_PACKAGE = __name__

# tf.exp, tf.reduce_sum, tf.float32...: TensorFlow's top-level names (some shadow builtins here, as in TensorFlow,
# so this module's own code reaches the builtins through _builtins).
globals().update(_ELEMENTWISE)
globals().update(_REDUCTIONS)
globals().update(_DTYPES)
range = _ops.range_  # noqa: A001
newaxis = None


# ---- small namespaces ------------------------------------------------------------------------------------------
def get_logger() -> _logging.Logger:
    """TensorFlow's logger: the standard ``logging`` logger named "tensorflow"."""
    return _logging.getLogger("tensorflow")


_verbosity = {"autograph": 0}


def _set_autograph_verbosity(level, alsologtostdout: bool = False) -> None:
    _verbosity["autograph"] = level               # learnloop has no graph conversion, so nothing to log


def _identity_decorator(func=None, **kwargs):
    """``@tf.function`` (with or without arguments): the function runs eagerly, unchanged."""
    return (lambda f: f) if func is None else func


def executing_eagerly() -> bool:
    return True


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def print(*inputs, output_stream=_sys.stderr, sep=" ", end="\n", **kwargs) -> None:  # noqa: A001
    """``tf.print``: the values (NumPy's printout), to stderr by default as in TensorFlow."""
    stream = {"stdout": _sys.stdout, "stderr": _sys.stderr}.get(output_stream, output_stream) \
        if isinstance(output_stream, str) else output_stream
    _builtins.print(*(_plain(v) for v in inputs), sep=sep, end=end, file=stream)


PhysicalDevice = _namedtuple("PhysicalDevice", ["name", "device_type"])
LogicalDevice = _namedtuple("LogicalDevice", ["name", "device_type"])
_threads = {"intra": 0, "inter": 0, "limiter": None}


def _list_devices(kind: type, prefix: str):
    def list_devices(device_type=None):
        """learnloop computes with NumPy on the CPU: one CPU, no GPU or TPU."""
        if device_type not in (None, "CPU"):
            return []
        return [kind(f"/{prefix}:CPU:0", "CPU")]
    return list_devices


def _set_intra(num_threads) -> None:
    """Threads for one operation: the BLAS thread pool's size (0: the library's default)."""
    from threadpoolctl import threadpool_limits

    if _threads["limiter"] is not None:
        _threads["limiter"].restore_original_limits()
    _threads["limiter"] = threadpool_limits(limits=num_threads, user_api="blas") if num_threads else None
    _threads["intra"] = _builtins.int(num_threads)


def _set_inter(num_threads) -> None:
    """Kept for ``get_inter_op_parallelism_threads``: learnloop runs one operation at a time."""
    _threads["inter"] = _builtins.int(num_threads)


def _set_visible_devices(devices, device_type=None) -> None:
    if _builtins.list(devices) and device_type not in (None, "CPU"):
        raise _learnloop.LearnloopError(f"learnloop runs on the CPU; there are no {device_type} devices to show.")


def _no_op(*args, **kwargs) -> None:
    """Accepted and ignored: learnloop is eager, deterministic under a seed, and CPU-only."""


math = _namespace(f"{_PACKAGE}.math", "tf.math", {
    **_ELEMENTWISE, **_REDUCTIONS, "argmax": _ops.argmax, "argmin": _ops.argmin,
    "count_nonzero": _ops.count_nonzero, "cumsum": _ops.cumsum, "softmax": _ops.softmax,
    "log_softmax": _ops.log_softmax, "log_sigmoid": _ops.log_sigmoid})
nn = _namespace(f"{_PACKAGE}.nn", "tf.nn", {
    "softmax": _ops.softmax, "log_softmax": _ops.log_softmax, "sigmoid": _ELEMENTWISE["sigmoid"],
    "tanh": _ELEMENTWISE["tanh"], "softplus": _ELEMENTWISE["softplus"], "relu": _ops.relu, "relu6": _ops.relu6,
    "leaky_relu": _ops.leaky_relu, "elu": _ops.elu, "gelu": _ops.gelu, "silu": _ops.silu, "swish": _ops.silu,
    "sigmoid_cross_entropy_with_logits": _ops.sigmoid_cross_entropy_with_logits,
    "softmax_cross_entropy_with_logits": _ops.softmax_cross_entropy_with_logits,
    "sparse_softmax_cross_entropy_with_logits": _ops.sparse_softmax_cross_entropy_with_logits,
    "l2_loss": _ops.l2_loss})
linalg = _namespace(f"{_PACKAGE}.linalg", "tf.linalg", {
    "matmul": _ops.matmul, "norm": _ops.norm, "matrix_transpose": _ops.transpose, "transpose": _ops.transpose})
random = _namespace(f"{_PACKAGE}.random", "tf.random", {  # noqa: A001
    "set_seed": _ops.set_seed, "normal": _ops.normal, "uniform": _ops.uniform, "shuffle": _ops.shuffle})
autograph = _namespace(f"{_PACKAGE}.autograph", "tf.autograph", {
    "set_verbosity": _set_autograph_verbosity, "get_verbosity": lambda: _verbosity["autograph"],
    "experimental": _namespace(f"{_PACKAGE}.autograph.experimental", "tf.autograph.experimental",
                               {"do_not_convert": _identity_decorator})})
config = _namespace(f"{_PACKAGE}.config", "tf.config", {
    "threading": _namespace(f"{_PACKAGE}.config.threading", "tf.config.threading", {
        "set_intra_op_parallelism_threads": _set_intra, "set_inter_op_parallelism_threads": _set_inter,
        "get_intra_op_parallelism_threads": lambda: _threads["intra"],
        "get_inter_op_parallelism_threads": lambda: _threads["inter"]}),
    "list_physical_devices": _list_devices(PhysicalDevice, "physical_device"),
    "list_logical_devices": _list_devices(LogicalDevice, "device"),
    "get_visible_devices": _list_devices(PhysicalDevice, "physical_device"),
    "set_visible_devices": _set_visible_devices, "run_functions_eagerly": _no_op,
    "functions_run_eagerly": executing_eagerly,
    "experimental": _namespace(f"{_PACKAGE}.config.experimental", "tf.config.experimental", {
        "enable_op_determinism": _no_op, "list_physical_devices": _list_devices(PhysicalDevice, "physical_device")}),
})
_v1_logging = _namespace(f"{_PACKAGE}.compat.v1.logging", "tf.compat.v1.logging", {
    "set_verbosity": lambda level: get_logger().setLevel(level), "get_verbosity": lambda: get_logger().level,
    "DEBUG": _logging.DEBUG, "INFO": _logging.INFO, "WARN": _logging.WARNING, "ERROR": _logging.ERROR,
    "FATAL": _logging.FATAL})
compat = _namespace(f"{_PACKAGE}.compat", "tf.compat", {
    "v1": _namespace(f"{_PACKAGE}.compat.v1", "tf.compat.v1", {"logging": _v1_logging})})
function = _identity_decorator
_KERAS = _keras.build()
keras = _KERAS[_keras.PACKAGE]
matmul = _ops.matmul


# ---- install -----------------------------------------------------------------------------------------------------
def _modules() -> dict:
    own = {"tensorflow": _sys.modules[__name__]}
    for name, module in _builtins.list(_sys.modules.items()):
        if name.startswith(__name__ + ".") and not name.split(".")[-1].startswith("_"):
            own["tensorflow" + name[len(__name__):]] = module
    for name, module in _KERAS.items():
        own["keras" + name[len(_keras.PACKAGE):]] = module
    return own


def install(keras: bool = False) -> None:
    """Make ``import tensorflow`` (and ``from tensorflow.keras... import ...``) give these names in this process,
    including inside helper modules imported afterwards. ``keras=True`` also maps ``import keras``.

    Refuses, saying why, when the real TensorFlow is already imported. :func:`uninstall` undoes it.
    """
    _install.install(_modules(), keras=keras)


def uninstall() -> None:
    """Undo :func:`install`: ``import tensorflow`` finds the real one again (in modules imported from now on)."""
    _install.uninstall()


def load_ipython_extension(ipython) -> None:
    """``%load_ext learnloop.compat.tensorflow``: :func:`install` for this kernel."""
    install()


def unload_ipython_extension(ipython) -> None:
    uninstall()


for _name, _module in {"math": math, "nn": nn, "linalg": linalg, "random": random, "autograph": autograph,
                       "autograph.experimental": autograph.experimental, "config": config,
                       "config.threading": config.threading, "config.experimental": config.experimental,
                       "compat": compat, "compat.v1": compat.v1, "compat.v1.logging": _v1_logging}.items():
    _sys.modules.setdefault(f"{__name__}.{_name}", _module)


def __getattr__(name: str):
    from learnloop.compat.tensorflow._missing import NotCovered, NotCoveredImport, _importing_from, message

    if name.startswith("__"):
        raise AttributeError(name)
    text = message("tf", name, __all__)
    raise (NotCoveredImport(text, name=name) if _importing_from(1) else NotCovered(text))


__all__ = sorted(n for n in globals() if not n.startswith("_") and n not in ("annotations",))


def __dir__():
    return __all__
