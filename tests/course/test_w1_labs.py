"""Week 1 labs: neurons and layers, coffee roasting with TensorFlow."""

import numpy as np
import pytest


def printed(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


# ---- Neurons and layers ------------------------------------------------------------------------------------------
def test_linear_neuron_matches_the_numpy_model(tf, lab_printing, capsys):
    X_train = np.array([[1.0], [2.0]], dtype=np.float32)
    linear_layer = tf.keras.layers.Dense(units=1, activation="linear", )
    assert linear_layer.get_weights() == [], "A layer has no weights before it is built"
    a1 = linear_layer(X_train[0].reshape(1, 1))
    w, b = linear_layer.get_weights()
    assert a1.shape == (1, 1) and w.shape == (1, 1) and b.tolist() == [0.0], "Wrong shapes or initial bias"

    set_w = np.array([[200]])
    set_b = np.array([100])
    linear_layer.set_weights([set_w, set_b])
    print(linear_layer.get_weights())
    a1 = linear_layer(X_train[0].reshape(1, 1))
    print(a1)
    alin = np.dot(set_w, X_train[0].reshape(1, 1)) + set_b
    print(alin)
    assert printed(capsys) == ["[array([[200.]], dtype=float32), array([100.], dtype=float32)]",
                               "tf.Tensor([[300.]], shape=(1, 1), dtype=float32)",
                               "[[300.]]"]
    prediction_tf = linear_layer(X_train)
    prediction_np = np.dot(X_train, set_w) + set_b
    assert np.allclose(prediction_tf, prediction_np), "The layer and the NumPy model disagree"


def test_logistic_neuron_summary_and_prediction(tf, lab_printing, capsys):
    Sequential = tf.keras.Sequential
    X_train = np.array([0., 1, 2, 3, 4, 5], dtype=np.float32).reshape(-1, 1)
    model = Sequential([tf.keras.layers.Dense(1, input_dim=1, activation="sigmoid", name="L1")])
    model.summary()
    assert printed(capsys) == [
        'Model: "sequential"',
        "_________________________________________________________________",
        " Layer (type)                Output Shape              Param #   ",
        "=================================================================",
        " L1 (Dense)                  (None, 1)                 2         ",
        "                                                                 ",
        "=================================================================",
        "Total params: 2",
        "Trainable params: 2",
        "Non-trainable params: 0",
        "_________________________________________________________________",
    ]
    logistic_layer = model.get_layer("L1")
    w, b = logistic_layer.get_weights()
    print(w.shape, b.shape)
    set_w = np.array([[2]])
    set_b = np.array([-4.5])
    logistic_layer.set_weights([set_w, set_b])
    print(logistic_layer.get_weights())
    a1 = model.predict(X_train[0].reshape(1, 1))
    print(a1)
    alog = 1 / (1 + np.exp(-(np.dot(set_w, X_train[0].reshape(1, 1)) + set_b)))
    print(alog)
    assert printed(capsys) == ["(1, 1) (1,)", "[array([[2.]], dtype=float32), array([-4.5], dtype=float32)]",
                               "[[0.01]]", "[[0.01]]"]


# ---- Coffee roasting in TensorFlow -------------------------------------------------------------------------------
@pytest.fixture
def coffee(shared_data):
    data = np.load(shared_data / "course" / "derived" / "C2_W1_coffee.npz")
    return data["X"], data["Y"]


def test_coffee_normalization_statistics(tf, coffee, capsys):
    X, Y = coffee
    print(X.shape, Y.shape)
    print(f"Temperature Max, Min pre normalization: {np.max(X[:,0]):0.2f}, {np.min(X[:,0]):0.2f}")
    print(f"Duration    Max, Min pre normalization: {np.max(X[:,1]):0.2f}, {np.min(X[:,1]):0.2f}")
    norm_l = tf.keras.layers.Normalization(axis=-1)
    norm_l.adapt(X)
    Xn = norm_l(X)
    print(f"Temperature Max, Min post normalization: {np.max(Xn[:,0]):0.2f}, {np.min(Xn[:,0]):0.2f}")
    print(f"Duration    Max, Min post normalization: {np.max(Xn[:,1]):0.2f}, {np.min(Xn[:,1]):0.2f}")
    Xt = np.tile(Xn, (1000, 1))
    Yt = np.tile(Y, (1000, 1))
    print(Xt.shape, Yt.shape)
    assert printed(capsys) == ["(200, 2) (200, 1)",
                               "Temperature Max, Min pre normalization: 284.99, 151.32",
                               "Duration    Max, Min pre normalization: 15.45, 11.51",
                               "Temperature Max, Min post normalization: 1.66, -1.69",
                               "Duration    Max, Min post normalization: 1.79, -1.70",
                               "(200000, 2) (200000, 1)"]


def coffee_model(tf):
    tf.random.set_seed(1234)
    return tf.keras.Sequential([tf.keras.Input(shape=(2,)),
                                tf.keras.layers.Dense(3, activation="sigmoid", name="layer1"),
                                tf.keras.layers.Dense(1, activation="sigmoid", name="layer2")])


def test_coffee_model_parameters(tf, capsys):
    model = coffee_model(tf)
    model.summary()
    lines = printed(capsys)
    assert lines[4:7] == [" layer1 (Dense)              (None, 3)                 9         ",
                          "                                                                 ",
                          " layer2 (Dense)              (None, 1)                 4         "]
    assert lines[-4:-1] == ["Total params: 13", "Trainable params: 13", "Non-trainable params: 0"]
    W1, b1 = model.get_layer("layer1").get_weights()
    W2, b2 = model.get_layer("layer2").get_weights()
    assert (W1.shape, b1.shape, W2.shape, b2.shape) == ((2, 3), (3,), (3, 1), (1,)), "Wrong weight shapes"


def test_coffee_model_with_the_labs_weights_predicts_what_the_lab_shows(tf, coffee, lab_printing, capsys):
    X, Y = coffee
    norm_l = tf.keras.layers.Normalization(axis=-1)
    norm_l.adapt(X)
    model = coffee_model(tf)
    model.compile(loss=tf.keras.losses.BinaryCrossentropy(), optimizer=tf.keras.optimizers.Adam(learning_rate=0.01))
    W1 = np.array([[-8.94, 0.29, 12.89], [-0.17, -7.34, 10.79]])
    b1 = np.array([-9.87, -9.28, 1.01])
    W2 = np.array([[-31.38], [-27.86], [-32.79]])
    b2 = np.array([15.54])
    model.get_layer("layer1").set_weights([W1, b1])
    model.get_layer("layer2").set_weights([W2, b2])

    X_test = np.array([[200, 13.9], [200, 17]])
    X_testn = norm_l(X_test)
    predictions = model.predict(X_testn)
    print("predictions = \n", predictions)
    yhat = (predictions >= 0.5).astype(int)
    print(f"decisions = \n{yhat}")
    assert printed(capsys) == ["predictions = ", " [[9.63e-01]", " [3.03e-08]]", "decisions = ", "[[1]", " [0]]"]

    # the cost of this fixed model on the data, against the course's formula
    Xn = norm_l(X).numpy()
    f = 1 / (1 + np.exp(-(1 / (1 + np.exp(-(Xn @ W1 + b1))) @ W2 + b2)))
    f = np.clip(f, 1e-7, 1 - 1e-7)
    cost = float(np.mean(-Y * np.log(f) - (1 - Y) * np.log(1 - f)))
    assert np.isclose(model.evaluate(Xn, Y, verbose=0), cost, rtol=1e-4), "Wrong cost of the fixed model"


def test_coffee_plotting_helpers_patterns(tf, coffee):
    """What lab_coffee_utils does with the layer and activations: sigmoid(...).numpy(), norm_l on one row."""
    X, _ = coffee
    norm_l = tf.keras.layers.Normalization(axis=-1)
    norm_l.adapt(X)
    W1 = np.array([[-8.94, 0.29, 12.89], [-0.17, -7.34, 10.79]])
    b1 = np.array([-9.87, -9.28, 1.01])
    layerf = lambda x: tf.keras.activations.sigmoid(np.dot(norm_l(x), W1[:, 0]) + b1[0])  # noqa: E731
    z = np.zeros((2, 2))
    z[0, 0] = layerf(np.array([[200.0, 13.9]]))[0]
    v = np.array([0.2, 0.4, 0.6])
    d = tf.keras.activations.sigmoid(np.dot(v, np.array([-31.38, -27.86, -32.79])) + np.array([15.54])).numpy()
    assert d.shape == (1,) and 0 < d[0] < 1 and 0 < z[0, 0] < 1
