import numpy as np
import pytest
from numpy.testing import assert_allclose

from learnloop import optimizers
from learnloop.errors import LearnloopError


def test_adam_first_step_moves_each_weight_by_the_learning_rate():
    w = np.array([1.0, 2.0, 3.0, 4.0])
    optimizers.Adam(learning_rate=0.5).apply([(w, np.array([1.0, 6.0, 7.0, 2.0]))])
    assert_allclose(w, [0.5, 1.5, 2.5, 3.5], atol=2e-6)   # epsilon = 1e-7 against sqrt(v) = 0.0316 |g|
    w = np.array([1.0, 2.0, 3.0, 4.0])
    optimizers.Adam(learning_rate=0.5, epsilon=0.0).apply([(w, np.array([1.0, -6.0, 7.0, 2.0]))])
    assert_allclose(w, [0.5, 2.5, 2.5, 3.5], rtol=1e-12)


def test_adam_matches_the_textbook_update_over_several_steps(rng):
    w = rng.normal(size=5)
    ref, m, v = w.copy(), np.zeros(5), np.zeros(5)
    opt = optimizers.Adam(0.01)
    for t in range(1, 6):
        g = rng.normal(size=5)
        opt.apply([(w, g)])
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        ref -= 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-7)
    assert_allclose(w, ref, rtol=1e-12)


def test_sgd_plain_momentum_and_nesterov():
    w = np.array([1.0])
    optimizers.SGD(0.1).apply([(w, np.array([2.0]))])
    assert_allclose(w, [0.8])
    w, opt = np.array([1.0]), optimizers.SGD(0.1, momentum=0.9)
    opt.apply([(w, np.array([1.0]))])
    opt.apply([(w, np.array([1.0]))])
    assert_allclose(w, [1.0 - 0.1 - (0.09 + 0.1)])
    w, opt = np.array([1.0]), optimizers.SGD(0.1, momentum=0.9, nesterov=True)
    opt.apply([(w, np.array([1.0]))])
    assert_allclose(w, [1.0 + 0.9 * -0.1 - 0.1])


def test_rmsprop_first_step():
    w = np.array([1.0])
    optimizers.RMSprop(0.01).apply([(w, np.array([2.0]))])
    assert_allclose(w, [1.0 - 0.01 * 2.0 / np.sqrt(0.1 * 4.0 + 1e-7)])


def test_adamw_decays_weights():
    w = np.array([1.0])
    optimizers.AdamW(0.1, weight_decay=0.5).apply([(w, np.array([0.0]))])
    assert_allclose(w, [1.0 - 0.1 * 0.5])


def test_learning_rate_positional_keyword_and_readback():
    assert optimizers.Adam(0.01).learning_rate.numpy() == pytest.approx(0.01)
    assert float(optimizers.SGD(learning_rate=0.2).learning_rate) == pytest.approx(0.2)
    opt = optimizers.Adam()
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5


def test_old_lr_alias_warns_and_works():
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = optimizers.Adam(lr=0.02)
    assert opt.learning_rate.numpy() == pytest.approx(0.02)


def test_keras_apply_gradients_form():
    w = np.array([1.0])
    optimizers.SGD(0.5).apply_gradients(zip([np.array([1.0])], [w]))
    assert_allclose(w, [0.5])


def test_clipnorm_limits_the_step():
    w = np.array([0.0, 0.0])
    optimizers.SGD(1.0, clipnorm=1.0).apply([(w, np.array([3.0, 4.0]))])
    assert_allclose(w, [-0.6, -0.8])


@pytest.mark.parametrize("kwargs,match", [
    ({"learning_rate": -1}, "learning_rate must be >= 0"),
    ({"beta_1": 1.0}, "beta_1 must be >= 0.0 and < 1.0"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(LearnloopError, match=match):
        optimizers.Adam(**kwargs)


def test_unknown_optimizer_name():
    with pytest.raises(LearnloopError, match="Did you mean 'adam'"):
        optimizers.get("adma")

