"""The course assignments' own checks (weeks 1-3), written the same way against learnloop.

Only the imports differ from the course: ``tensorflow.keras.X`` -> ``learnloop.X``, ``tf.nn.softmax`` ->
``learnloop.activations.softmax``, ``tf.random.set_seed`` -> ``learnloop.utils.set_random_seed``.
"""

import numpy as np
import pytest

import learnloop
from learnloop.activations import linear, relu, sigmoid
from learnloop.diagnostics import classification_error, mse_cost
from learnloop.layers import Dense
from learnloop.losses import SparseCategoricalCrossentropy
from learnloop.models import Sequential
from learnloop.optimizers import Adam
from learnloop.regularizers import l2


# ---- week 1: 400-25-15-1 sigmoid ----------------------------------------------------------------------------
def week1_model():
    return Sequential([learnloop.Input(shape=(400,)),
                       Dense(25, activation="sigmoid", name="layer1"),
                       Dense(15, activation="sigmoid", name="layer2"),
                       Dense(1, activation="sigmoid", name="layer3")], name="my_model")


def check_week1(target):
    assert len(target.layers) == 3, f"Wrong number of layers. Expected 3 but got {len(target.layers)}"
    assert target.input.shape.as_list() == [None, 400], "Wrong input shape"
    expected = [[Dense, [None, 25], sigmoid], [Dense, [None, 15], sigmoid], [Dense, [None, 1], sigmoid]]
    for i, layer in enumerate(target.layers):
        assert type(layer) == expected[i][0]                                      # noqa: E721
        assert layer.output.shape.as_list() == expected[i][1]
        assert layer.activation == expected[i][2]


def test_week1_model():
    check_week1(week1_model())


def test_week1_model_summary_counts():
    assert [layer.count_params() for layer in week1_model().layers] == [10025, 390, 16]


def my_dense(a_in, W, b, g):
    units = W.shape[1]
    a_out = np.zeros(units)
    for j in range(units):
        w = W[:, j]
        z = np.dot(w, a_in) + b[j]
        a_out[j] = g(z)
    return a_out


def my_dense_v(A_in, W, b, g):
    return g(np.matmul(A_in, W) + b)


def test_my_dense_loop_golden_values():
    x = np.array([1, 2, 3, 4])
    W = np.array([[1, 2], [1, 2], [1, 2], [1, 2]])
    assert np.allclose(my_dense(x, W, np.array([0, 0]), linear), [10, 20])
    assert np.allclose(my_dense(x, W, np.array([3, 5]), linear), [13, 25])
    assert np.allclose(my_dense(x, W, np.array([0, 0]), sigmoid), sigmoid(np.array([10, 20])))


def test_my_dense_vectorized_golden_values():
    A = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    W = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]])
    assert np.allclose(my_dense_v(A, W, np.array([0, 0, 0]), linear), [[70, 80, 90], [158, 184, 210]])


# ---- week 2: 400-25-15-10 relu/relu/linear, built by build() ------------------------------------------------
def check_week2(target, classes, input_size):
    target.build(input_shape=(None, input_size))
    assert len(target.layers) == 3
    assert target.input.shape.as_list() == [None, input_size]
    expected = [[Dense, [None, 25], relu], [Dense, [None, 15], relu], [Dense, [None, classes], linear]]
    for i, layer in enumerate(target.layers):
        assert type(layer) == expected[i][0]                                      # noqa: E721
        assert layer.output.shape.as_list() == expected[i][1]
        assert layer.activation == expected[i][2]


def test_week2_model_built_by_build():
    learnloop.utils.set_random_seed(1234)
    model = Sequential([Dense(25, activation="relu", name="L1"), Dense(15, activation="relu", name="L2"),
                        Dense(10, activation="linear", name="L3")], name="my_model")
    model.compile(loss=SparseCategoricalCrossentropy(from_logits=True), optimizer=Adam(learning_rate=0.001))
    check_week2(model, 10, 400)


def my_softmax(z):
    ez = np.exp(z)
    return ez / np.sum(ez)


def test_softmax_matches_the_course_function():
    z = np.array([1.0, 2.0, 3.0, 4.0])
    assert np.allclose(learnloop.activations.softmax(z), my_softmax(z), atol=1e-10)
    z = np.array([np.log(0.1)] * 10)
    assert np.allclose(learnloop.activations.softmax(z), my_softmax(z), atol=1e-10)
    z = np.array([-2.0, -1.0, 0.5, 1e-3, 7.3])
    out = learnloop.activations.softmax(z)
    assert out.dtype == np.float64 and np.allclose(out, my_softmax(z), atol=1e-10)


# ---- week 3: costs, and the 2-120-40-6 / 2-6-6 models ---------------------------------------------------------
def test_mse_cost_week3_values():
    assert np.isclose(mse_cost(np.array([2.4, 4.2]), np.array([2.3, 4.1])), 0.005)
    assert np.isclose(mse_cost(np.array([3.6]), np.array([3.6])), 0)
    assert np.isclose(mse_cost(np.array([3.0]), np.array([0.0])), 4.5)
    assert np.isclose(mse_cost(np.array([1.0, 2.0]), np.array([2.0, 3.0])), 0.5)


def test_classification_error_week3_values_are_scalars():
    assert np.isclose(classification_error(np.array([0, 1, 2, 0]), np.array([0, 1, 2, 0])), 0)
    assert np.isclose(classification_error(np.array([1, 2, 3]), np.array([1, 2, 0])), 1 / 3)
    assert np.isclose(classification_error(np.array([1, 0, 1, 0]), np.array([0, 0, 1, 1])), 0.5)
    out = classification_error(np.array([[1], [0], [1]]), np.array([[1], [1], [1]]))
    assert np.isscalar(out) and not isinstance(out, np.ndarray)
    out = mse_cost(np.array([[2.4], [4.2]]), np.array([[2.3], [4.1]]))
    assert np.isscalar(out) and not isinstance(out, np.ndarray)


def check_week3(target, classes, input_size, units, activations, lam=None):
    target.build(input_shape=(None, input_size))
    assert len(target.layers) == len(units)
    assert target.input.shape.as_list() == [None, input_size]
    for layer, n, act in zip(target.layers, units, activations):
        assert type(layer) == Dense                                               # noqa: E721
        assert layer.output.shape.as_list() == [None, n]
        assert layer.activation == act
        if lam is None or act == linear:
            assert layer.kernel_regularizer == None                               # noqa: E711
        else:
            assert type(layer.kernel_regularizer) == l2                           # noqa: E721
            assert np.isclose(layer.kernel_regularizer.l2, lam)
    assert type(target.loss) == SparseCategoricalCrossentropy                     # noqa: E721
    assert target.loss.get_config()["from_logits"]
    assert type(target.optimizer) == Adam                                         # noqa: E721
    assert np.isclose(target.optimizer.learning_rate.numpy(), 0.01)


def _compile(model):
    model.compile(loss=SparseCategoricalCrossentropy(from_logits=True), optimizer=Adam(0.01))
    return model


def test_week3_complex_model():
    learnloop.utils.set_random_seed(1234)
    model = _compile(Sequential([Dense(120, activation="relu", name="L1"), Dense(40, activation="relu", name="L2"),
                                 Dense(6, activation="linear", name="L3")], name="Complex"))
    check_week3(model, 6, 2, [120, 40, 6], [relu, relu, linear])


def test_week3_simple_model():
    model = _compile(Sequential([Dense(6, activation="relu", name="L1"), Dense(6, activation="linear", name="L2")],
                                name="Simple"))
    check_week3(model, 6, 2, [6, 6], [relu, linear])


def test_week3_regularized_model():
    model = _compile(Sequential([
        Dense(120, activation="relu", kernel_regularizer=learnloop.regularizers.l2(0.1), name="L1"),
        Dense(40, activation="relu", kernel_regularizer=learnloop.regularizers.l2(0.1), name="L2"),
        Dense(6, activation="linear", name="L3")], name="ComplexRegularized"))
    check_week3(model, 6, 2, [120, 40, 6], [relu, relu, linear], lam=0.1)


def test_week3_models_still_pass_after_training(rng):
    x, y = rng.normal(size=(64, 2)), rng.integers(0, 6, size=64)
    model = _compile(Sequential([Dense(6, activation="relu"), Dense(6, activation="linear")]))
    model.fit(x, y, epochs=2, verbose=0)
    check_week3(model, 6, 2, [6, 6], [relu, linear])


def test_regularizer_class_is_l2_itself():
    reg = l2(0.1)
    assert type(reg) == learnloop.regularizers.l2 and reg.l2 == pytest.approx(0.1)   # noqa: E721
