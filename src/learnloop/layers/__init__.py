"""Layers with Keras's names. ``REGISTRY`` maps class names to classes: the only classes a saved model may name."""

from learnloop.layers.activation import Activation, LeakyReLU, ReLU, Softmax
from learnloop.layers.augmentation import GaussianNoise, RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from learnloop.layers.base import Layer
from learnloop.layers.category_encoding import CategoryEncoding
from learnloop.layers.conv import Conv1D, Conv2D
from learnloop.layers.dense import Dense
from learnloop.layers.discretization import Discretization
from learnloop.layers.dropout import Dropout
from learnloop.layers.hashing import HashedCrossing, Hashing
from learnloop.layers.input_layer import Input, InputLayer
from learnloop.layers.lookup import IntegerLookup, StringLookup
from learnloop.layers.normalization import Normalization
from learnloop.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from learnloop.layers.rescaling import Rescaling
from learnloop.layers.reshape import Flatten, Reshape

REGISTRY: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (Activation, Dense, Dropout, Flatten, InputLayer, LeakyReLU, Normalization, ReLU, Rescaling, Reshape,
                Softmax)
}

_CNN = (AveragePooling1D, AveragePooling2D, Conv1D, Conv2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
        GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
REGISTRY.update({cls.__name__: cls for cls in _CNN})


def register(cls: type[Layer]) -> type[Layer]:
    """Add a layer class to the registry so saved models can name it (usable as a decorator)."""
    REGISTRY[cls.__name__] = cls
    return cls


__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Layer", "LeakyReLU",
           "Normalization", "REGISTRY", "ReLU", "Rescaling", "Reshape", "Softmax", "register"]
__all__ += [cls.__name__ for cls in _CNN]

_AUGMENTATION = (GaussianNoise, RandomFlip, RandomRotation, RandomTranslation, RandomZoom)
REGISTRY.update({cls.__name__: cls for cls in _AUGMENTATION})
__all__ += [cls.__name__ for cls in _AUGMENTATION]

from learnloop.layers.feature_space import FeatureSpace  # noqa: E402  (structured data: the raw-column stage)

REGISTRY[FeatureSpace.__name__] = FeatureSpace
__all__ += ["FeatureSpace"]

_PREPROCESSING = (CategoryEncoding, Discretization, HashedCrossing, Hashing, IntegerLookup, StringLookup)
REGISTRY.update({cls.__name__: cls for cls in _PREPROCESSING})
__all__ += [cls.__name__ for cls in _PREPROCESSING]
