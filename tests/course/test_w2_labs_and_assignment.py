"""Week 2: the ReLU, softmax and multiclass labs, and the multiclass digits assignment."""

import numpy as np
import pytest


def printed(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


def my_softmax(z):
    N = len(z)
    a = np.zeros(N)
    ez_sum = 0
    for k in range(N):
        ez_sum += np.exp(z[k])
    for j in range(N):
        a[j] = np.exp(z[j]) / ez_sum
    return a


# ---- ReLU lab: the activations plotted on a NumPy grid --------------------------------------------------------------
def test_activations_plot_from_a_numpy_grid(tf):
    from matplotlib.figure import Figure

    X = np.linspace(-5, 5, 100)
    ax = Figure().subplots(1, 3)
    for i, g in enumerate((tf.keras.activations.linear, tf.keras.activations.sigmoid, tf.keras.activations.relu)):
        line, = ax[i].plot(X, g(X))
        assert np.allclose(line.get_ydata(), {0: X, 1: 1 / (1 + np.exp(-X)), 2: np.maximum(X, 0)}[i])


# ---- Softmax ---------------------------------------------------------------------------------------------------------
def test_my_softmax_agrees_with_tensorflows(tf, lab_printing, capsys):
    z = np.array([1., 2., 3., 4.])
    a = my_softmax(z)
    atf = tf.nn.softmax(z)
    print(f"my_softmax(z):         {a}")
    print(f"tensorflow softmax(z): {atf}")
    assert printed(capsys) == ["my_softmax(z):         [0.03 0.09 0.24 0.64]",
                               "tensorflow softmax(z): [0.03 0.09 0.24 0.64]"]
    for z in (np.array([1., 2., 3., 4.]), np.array([np.log(0.1)] * 10), np.array([-2., -1., 0.5, 1e-3, 7.3])):
        assert np.allclose(my_softmax(z), tf.nn.softmax(z), atol=1e-10), "Wrong values"


@pytest.fixture
def blobs2000(shared_data):
    data = np.load(shared_data / "course" / "derived" / "C2_W2_softmax_blobs2000.npz")
    return data["X"], data["y"]


def test_softmax_output_and_preferred_logits_models(tf, blobs2000):
    X_train, y_train = blobs2000
    Sequential, Dense = tf.keras.models.Sequential, tf.keras.layers.Dense
    model = Sequential([Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(4, activation="softmax")])
    model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(), optimizer=tf.keras.optimizers.Adam(0.001))
    model.fit(X_train, y_train, epochs=1, verbose=0)
    p_nonpreferred = model.predict(X_train)
    assert p_nonpreferred.shape == (2000, 4) and np.allclose(p_nonpreferred.sum(axis=1), 1, atol=1e-5)

    preferred_model = Sequential([Dense(25, activation="relu"), Dense(15, activation="relu"),
                                  Dense(4, activation="linear")])
    preferred_model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                            optimizer=tf.keras.optimizers.Adam(0.001))
    preferred_model.fit(X_train, y_train, epochs=1, verbose=0)
    p_preferred = preferred_model.predict(X_train)
    sm_preferred = tf.nn.softmax(p_preferred).numpy()
    assert type(sm_preferred) is np.ndarray and np.allclose(sm_preferred.sum(axis=1), 1, atol=1e-5)
    assert f"{np.argmax(p_preferred[0])}" in "0123"


# ---- Multiclass ------------------------------------------------------------------------------------------------------
def test_multiclass_model_layers(tf, shared_data):
    data = np.load(shared_data / "course" / "derived" / "C2_W2_multiclass_blobs100.npz")
    X_train, y_train = data["X"], data["y"]
    tf.random.set_seed(1234)
    model = tf.keras.Sequential([tf.keras.layers.Dense(2, activation="relu", name="L1"),
                                 tf.keras.layers.Dense(4, activation="linear", name="L2")])
    model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=tf.keras.optimizers.Adam(0.01))
    model.fit(X_train, y_train, epochs=2, verbose=0)
    W1, b1 = model.get_layer("L1").get_weights()
    W2, b2 = model.get_layer("L2").get_weights()
    assert (W1.shape, b1.shape, W2.shape, b2.shape) == ((2, 2), (2,), (2, 4), (4,))
    Xl2 = np.maximum(0, np.dot(X_train, W1) + b1)
    assert np.allclose(Xl2 @ W2 + b2, model.predict(X_train), atol=1e-4), "Layer-by-layer NumPy != the model"
    assert np.argmax(model.predict(X_train), axis=1).shape == (100,)


# ---- Assignment: multiclass digits -----------------------------------------------------------------------------------
def build_digits_model(tf):
    Dense = tf.keras.layers.Dense
    tf.random.set_seed(1234)
    return tf.keras.models.Sequential([tf.keras.Input(shape=(400,)),
                                       Dense(25, activation="relu", name="L1"),
                                       Dense(15, activation="relu", name="L2"),
                                       Dense(10, activation="linear", name="L3")], name="my_model")


def check_digits_model(target, classes, input_size, tf):
    """The assignment's model checks, in its own words: types, shapes and activations after build()."""
    Dense, relu, linear = tf.keras.layers.Dense, tf.keras.activations.relu, tf.keras.activations.linear
    target.build(input_shape=(None, input_size))
    assert len(target.layers) == 3, f"Wrong number of layers. Expected 3 but got {len(target.layers)}"
    assert target.input.shape.as_list() == [None, input_size], "Wrong input shape"
    expected = [[Dense, [None, 25], relu], [Dense, [None, 15], relu], [Dense, [None, classes], linear]]
    for i, layer in enumerate(target.layers):
        assert type(layer) == expected[i][0], f"Wrong type in layer {i}"                    # noqa: E721
        assert layer.output.shape.as_list() == expected[i][1], f"Wrong number of units in layer {i}"
        assert layer.activation == expected[i][2], f"Wrong activation in layer {i}"


def test_digits_model_summary_and_weights(tf, capsys):
    model = build_digits_model(tf)
    model.summary()
    check_digits_model(model, 10, 400, tf)
    [layer1, layer2, layer3] = model.layers
    W1, b1 = layer1.get_weights()
    W2, b2 = layer2.get_weights()
    W3, b3 = layer3.get_weights()
    print(f"W1 shape = {W1.shape}, b1 shape = {b1.shape}")
    print(f"W2 shape = {W2.shape}, b2 shape = {b2.shape}")
    print(f"W3 shape = {W3.shape}, b3 shape = {b3.shape}")
    lines = printed(capsys)
    assert lines[4:9:2] == [" L1 (Dense)                  (None, 25)                10025     ",
                            " L2 (Dense)                  (None, 15)                390       ",
                            " L3 (Dense)                  (None, 10)                160       "]
    assert lines[11:14] == ["Total params: 10,575", "Trainable params: 10,575", "Non-trainable params: 0"]
    assert lines[15:] == ["W1 shape = (400, 25), b1 shape = (25,)", "W2 shape = (25, 15), b2 shape = (15,)",
                          "W3 shape = (15, 10), b3 shape = (10,)"]


def test_digits_training_history_and_probabilities(tf, shared_data, capsys):
    from matplotlib.figure import Figure

    y = np.load(shared_data / "course" / "C2_W2" / "y.npy")
    X = np.random.default_rng(0).random((5000, 400))             # stands in for the course's images
    model = build_digits_model(tf)
    model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=tf.keras.optimizers.Adam(learning_rate=0.001))
    history = model.fit(X, y, epochs=2, verbose=0)
    ax = Figure(figsize=(4, 3)).subplots()
    ax.plot(history.history["loss"], label="loss")
    assert len(history.history["loss"]) == 2

    prediction = model.predict(X[1015].reshape(1, 400))
    prediction_p = tf.nn.softmax(prediction)
    print(f"Total of predictions: {np.sum(prediction_p):0.3f}")
    yhat = np.argmax(prediction_p)
    assert printed(capsys) == ["Total of predictions: 1.000"]
    assert isinstance(yhat, np.integer) and yhat == np.argmax(prediction)
    f = model.predict(X)
    errors = np.where(np.argmax(f, axis=1) != y[:, 0])[0]
    assert errors.ndim == 1
