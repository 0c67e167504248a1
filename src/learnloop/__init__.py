"""learnloop: neural networks in plain NumPy with the Keras API, and the machine-learning loop built in."""

from learnloop import activations, initializers, layers, losses, optimizers, regularizers, utils
from learnloop.config import floatx, set_floatx
from learnloop.errors import LearnloopError, ModelFileError, NotFittedError
from learnloop.layers import Input, InputLayer
from learnloop.utils import set_random_seed, set_seed

__version__ = "0.1.0"
