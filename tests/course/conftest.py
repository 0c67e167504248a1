"""The course's notebooks, cell by cell, through learnloop's TensorFlow names (``tf`` below).

Each test reproduces the cells of one notebook section and checks what they print where it does not depend on the
random seed: shapes, parameter counts, summaries, the values of fixed weights, ``tf.Tensor(...)`` printouts.
"""

import numpy as np
import pytest

from learnloop.compat import tensorflow as _tf


@pytest.fixture
def tf():
    """``import tensorflow as tf`` as a notebook sees it after install(), from a fresh kernel's state."""
    _tf.keras.backend.clear_session()
    with np.printoptions():
        yield _tf
    _tf.keras.backend.set_floatx("float32")


@pytest.fixture
def lab_printing():
    """The labs' helper modules set ``np.set_printoptions(precision=2)`` on import."""
    with np.printoptions(precision=2):
        yield
