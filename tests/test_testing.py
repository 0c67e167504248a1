"""The gradient-check helpers themselves."""

import numpy as np

from learnloop.testing import max_relative_error


def test_gradient_check_catches_a_wrong_gradient_and_tolerates_tiny_entries():
    assert max_relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.1])) > 1e-2
    assert max_relative_error(np.array([1.0, 6.7e-6]), np.array([1.0, 6.7e-6 + 5e-11])) < 1e-6
