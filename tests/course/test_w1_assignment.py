"""Week 1 assignment: neural networks for handwritten digit recognition, binary (0 or 1).

The course's X.npy (1000 digit images of 20x20 here) is not in the shared data; the checks below print what does
not depend on the images: shapes, parameter counts, the model summary, the NumPy model on the course's test arrays.
"""

import numpy as np
import pytest


def printed(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


def build_model(tf):
    Sequential, Dense = tf.keras.models.Sequential, tf.keras.layers.Dense
    return Sequential([tf.keras.Input(shape=(400,)),
                       Dense(25, activation="sigmoid"),
                       Dense(15, activation="sigmoid"),
                       Dense(1, activation="sigmoid")], name="my_model")


def check_model(target, tf):
    """The assignment's checks on the model (layer types, output shapes, activations), in its own words."""
    Dense, sigmoid = tf.keras.layers.Dense, tf.keras.activations.sigmoid
    assert len(target.layers) == 3, f"Wrong number of layers. Expected 3 but got {len(target.layers)}"
    assert target.input.shape.as_list() == [None, 400], "Wrong input shape"
    expected = [[Dense, [None, 25], sigmoid], [Dense, [None, 15], sigmoid], [Dense, [None, 1], sigmoid]]
    for i, layer in enumerate(target.layers):
        assert type(layer) == expected[i][0], f"Wrong type in layer {i}"                    # noqa: E721
        assert layer.output.shape.as_list() == expected[i][1], f"Wrong number of units in layer {i}"
        assert layer.activation == expected[i][2], f"Wrong activation in layer {i}"


def test_model_summary_and_parameters(tf, capsys):
    model = build_model(tf)
    model.summary()
    check_model(model, tf)
    [layer1, layer2, layer3] = model.layers
    W1, b1 = layer1.get_weights()
    W2, b2 = layer2.get_weights()
    W3, b3 = layer3.get_weights()
    print(f"W1 shape = {W1.shape}, b1 shape = {b1.shape}")
    print(f"W2 shape = {W2.shape}, b2 shape = {b2.shape}")
    print(f"W3 shape = {W3.shape}, b3 shape = {b3.shape}")
    lines = printed(capsys)
    assert lines[4:10] == [" dense (Dense)               (None, 25)                10025     ",
                           "                                                                 ",
                           " dense_1 (Dense)             (None, 15)                390       ",
                           "                                                                 ",
                           " dense_2 (Dense)             (None, 1)                 16        ",
                           "                                                                 "]
    assert lines[11:14] == ["Total params: 10,431", "Trainable params: 10,431", "Non-trainable params: 0"]
    assert lines[15:] == ["W1 shape = (400, 25), b1 shape = (25,)", "W2 shape = (25, 15), b2 shape = (15,)",
                          "W3 shape = (15, 1), b3 shape = (1,)"]


def test_weights_print_as_named_variables(tf, capsys):
    model = build_model(tf)
    print(model.layers[2].weights)
    out = capsys.readouterr().out
    assert out.startswith("[<tf.Variable 'dense_2/kernel:0' shape=(15, 1) dtype=float32, numpy=\narray([[")
    assert out.endswith("dtype=float32)>, <tf.Variable 'dense_2/bias:0' shape=(1,) dtype=float32, "
                        "numpy=array([0.], dtype=float32)>]\n")


def my_dense(a_in, W, b, g):
    units = W.shape[1]
    a_out = np.zeros(units)
    for j in range(units):
        w = W[:, j]
        z = np.dot(w, a_in) + b[j]
        a_out[j] = g(z)
    return a_out


def my_dense_v(A_in, W, b, g):
    Z = np.matmul(A_in, W) + b
    return g(Z)


def test_numpy_dense_layers_with_tensorflows_sigmoid(tf, capsys):
    sigmoid = tf.keras.activations.sigmoid
    x_tst = 0.1 * np.arange(1, 3, 1).reshape(2,)
    W_tst = 0.1 * np.arange(1, 7, 1).reshape(2, 3)
    b_tst = 0.1 * np.arange(1, 4, 1).reshape(3,)
    print(my_dense(x_tst, W_tst, b_tst, sigmoid))
    X_tst = 0.1 * np.arange(1, 9, 1).reshape(4, 2)
    b_tst = 0.1 * np.arange(1, 4, 1).reshape(1, 3)
    print(my_dense_v(X_tst, W_tst, b_tst, sigmoid))
    assert printed(capsys) == [
        "[0.54735762 0.57932425 0.61063923]",
        "tf.Tensor(",
        "[[0.54735762 0.57932425 0.61063923]",
        " [0.57199613 0.61301418 0.65248946]",
        " [0.5962827  0.64565631 0.6921095 ]",
        " [0.62010643 0.67699586 0.72908792]], shape=(4, 3), dtype=float64)",
    ]


def test_vectorized_numpy_model_on_all_examples(tf, shared_data, capsys):
    y = np.load(shared_data / "course" / "C2_W1" / "y.npy")[0:1000]
    X = np.random.default_rng(0).random((1000, 400))            # stands in for the course's images
    sigmoid = tf.keras.activations.sigmoid
    model = build_model(tf)
    model.compile(loss=tf.keras.losses.BinaryCrossentropy(), optimizer=tf.keras.optimizers.Adam(0.001))
    model.fit(X, y, epochs=1, verbose=0)
    prediction = model.predict(X[0].reshape(1, 400))
    yhat = 1 if prediction >= 0.5 else 0
    assert prediction.shape == (1, 1) and yhat in (0, 1)

    W1, b1 = model.layers[0].get_weights()
    W2, b2 = model.layers[1].get_weights()
    W3, b3 = model.layers[2].get_weights()
    x = X[0].reshape(-1, 1)
    print(sigmoid(np.matmul(x.T, W1) + b1).shape)
    Prediction = my_dense_v(my_dense_v(my_dense_v(X, W1, b1, sigmoid), W2, b2, sigmoid), W3, b3, sigmoid)
    print(repr(Prediction.shape))
    Yhat = (Prediction >= 0.5).numpy().astype(int)
    assert printed(capsys) == ["(1, 25)", "TensorShape([1000, 1])"]
    assert Yhat.shape == (1000, 1) and set(np.unique(Yhat)) <= {0, 1}
    assert np.allclose(Prediction, model.predict(X), atol=1e-6), "The NumPy model and the TensorFlow model disagree"
    errors = np.where(y != Yhat)
    assert len(errors) == 2


@pytest.mark.parametrize("z", [-18.0, -20.0])
def test_tensorflows_sigmoid_keeps_small_outputs_in_float32(tf, z):
    expected = {-18.0: 1.522997951276035e-08, -20.0: 2.061153618190204e-09}[z]
    got = tf.keras.activations.sigmoid(np.array([z], dtype=np.float32)).numpy()[0]
    assert abs(got - expected) <= 1e-6 * expected, f"sigmoid({z}) = {got}, expected {expected}"
