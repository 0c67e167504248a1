"""Week 3: the assignment's neural networks (in float64, with and without L2) and the model-selection lab."""

import numpy as np
import pytest


def printed(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


@pytest.fixture
def blobs(shared_data):
    from sklearn.model_selection import train_test_split

    data = np.load(shared_data / "course" / "derived" / "C2_W3_assignment_blobs800.npz")
    X_train, X_, y_train, y_ = train_test_split(data["X"], data["y"], test_size=0.50, random_state=1)
    X_cv, X_test, y_cv, y_test = train_test_split(X_, y_, test_size=0.20, random_state=1)
    return X_train, y_train, X_cv, y_cv


def eval_cat_err(y, yhat):
    m = len(y)
    incorrect = 0
    for i in range(m):
        if yhat[i] != y[i]:
            incorrect += 1
    return incorrect / m


def check_model(target, classes, input_size, units, regularized, tf):
    """The assignment's checks on its models, in its own words."""
    Dense, relu, linear = tf.keras.layers.Dense, tf.keras.activations.relu, tf.keras.activations.linear
    target.build(input_shape=(None, input_size))
    assert target.input.shape.as_list() == [None, input_size], "Wrong input shape"
    expected = [[Dense, [None, u], relu] for u in units] + [[Dense, [None, classes], linear]]
    assert len(target.layers) == len(expected), "Wrong number of layers"
    for i, layer in enumerate(target.layers):
        assert type(layer) == expected[i][0], f"Wrong type in layer {i}"                    # noqa: E721
        assert layer.output.shape.as_list() == expected[i][1], f"Wrong number of units in layer {i}"
        assert layer.activation == expected[i][2], f"Wrong activation in layer {i}"
        if regularized and i < len(units):
            assert type(layer.kernel_regularizer) == tf.keras.regularizers.l2, "Wrong regularizer"  # noqa: E721
            assert np.isclose(layer.kernel_regularizer.l2, 0.1), "Wrong regularization factor"
        else:
            assert layer.kernel_regularizer is None, "This layer takes no regularizer"
    assert type(target.loss) == tf.keras.losses.SparseCategoricalCrossentropy, "Wrong loss"    # noqa: E721
    assert type(target.optimizer) == tf.keras.optimizers.Adam, "Wrong optimizer"                # noqa: E721
    assert np.isclose(target.optimizer.learning_rate.numpy(), 0.01), "Wrong learning rate"
    assert target.loss.get_config()["from_logits"], "Set from_logits=True in the loss"


def complex_model(tf, regularizer=None, name="Complex"):
    Dense = tf.keras.layers.Dense
    tf.random.set_seed(1234)
    return tf.keras.models.Sequential([Dense(120, activation="relu", kernel_regularizer=regularizer, name="L1"),
                                       Dense(40, activation="relu", kernel_regularizer=regularizer, name="L2"),
                                       Dense(6, activation="linear", name="L3")], name=name)


def compile_and_fit(tf, model, X, y, epochs=2):
    model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=tf.keras.optimizers.Adam(0.01))
    model.fit(X, y, epochs=epochs, verbose=0)
    return model


def test_complex_simple_and_regularized_models_in_float64(tf, blobs, capsys):
    tf.keras.backend.set_floatx("float64")
    X_train, y_train, X_cv, y_cv = blobs
    print("X_train.shape:", X_train.shape, "X_cv.shape:", X_cv.shape)
    model = compile_and_fit(tf, complex_model(tf), X_train, y_train)
    model.summary()
    check_model(model, 6, 2, [120, 40], False, tf)
    assert model.layers[0].kernel.dtype == np.float64, "set_floatx('float64') makes float64 weights"

    tf.random.set_seed(1234)
    model_s = tf.keras.models.Sequential([tf.keras.layers.Dense(6, activation="relu", name="L1"),
                                          tf.keras.layers.Dense(6, activation="linear", name="L2")], name="Simple")
    compile_and_fit(tf, model_s, X_train, y_train).summary()
    check_model(model_s, 6, 2, [6], False, tf)

    model_r = compile_and_fit(tf, complex_model(tf, tf.keras.regularizers.l2(0.1), "ComplexRegularized"),
                              X_train, y_train)
    check_model(model_r, 6, 2, [120, 40], True, tf)
    lines = printed(capsys)
    assert lines[0] == "X_train.shape: (400, 2) X_cv.shape: (320, 2)"
    complex_summary, simple_summary = lines[1:16], lines[16:]
    assert complex_summary[0] == 'Model: "Complex"'
    assert complex_summary[4:9:2] == [" L1 (Dense)                  (None, 120)               360       ",
                                      " L2 (Dense)                  (None, 40)                4840      ",
                                      " L3 (Dense)                  (None, 6)                 246       "]
    assert complex_summary[11:14] == ["Total params: 5,446", "Trainable params: 5,446", "Non-trainable params: 0"]
    assert simple_summary[0] == 'Model: "Simple"' and simple_summary[9] == "Total params: 60"

    model_predict = lambda Xl: np.argmax(tf.nn.softmax(model.predict(Xl)).numpy(), axis=1)  # noqa: E731
    training_cerr = eval_cat_err(y_train, model_predict(X_train))
    assert 0 <= training_cerr <= 1 and model_predict(X_cv).shape == (320,)


def test_lambda_sweep_calls_models_on_arrays(tf, blobs):
    tf.keras.backend.set_floatx("float64")
    X_train, y_train, X_cv, y_cv = blobs
    tf.random.set_seed(1234)
    lambdas = [0.0, 0.01, 0.1]
    models = [None] * len(lambdas)
    for i, lambda_ in enumerate(lambdas):
        models[i] = compile_and_fit(tf, tf.keras.models.Sequential([
            tf.keras.layers.Dense(120, activation="relu", kernel_regularizer=tf.keras.regularizers.l2(lambda_)),
            tf.keras.layers.Dense(40, activation="relu", kernel_regularizer=tf.keras.regularizers.l2(lambda_)),
            tf.keras.layers.Dense(6, activation="linear")]), X_train, y_train, epochs=1)
    err_train = [eval_cat_err(y_train, np.argmax(m(X_train), axis=1)) for m in models]
    assert len(err_train) == 3 and isinstance(models[0](X_cv), tf.Tensor)
    assert [m.name for m in models] == ["sequential", "sequential_1", "sequential_2"]


# ---- Optional lab: model evaluation and selection --------------------------------------------------------------------
def test_model_selection_lab_neural_networks(tf, shared_data, capsys):
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    tf.get_logger().setLevel("ERROR")
    tf.autograph.set_verbosity(0)
    data = np.loadtxt(shared_data / "course" / "C2_W3" / "data_w3_ex1.csv", delimiter=",")
    x, y = data[:, 0:1], data[:, 1:2]
    x_train, x_, y_train, y_ = train_test_split(x, y, test_size=0.40, random_state=1)
    scaler = StandardScaler()
    X_train_scaled = scaler.fit_transform(x_train)
    print(f"Computed mean of the training set: {scaler.mean_.squeeze():.2f}")

    Dense = tf.keras.layers.Dense
    tf.random.set_seed(20)
    models = [tf.keras.models.Sequential([Dense(25, activation="relu"), Dense(15, activation="relu"),
                                          Dense(1, activation="linear")], name="model_1"),
              tf.keras.models.Sequential([Dense(20, activation="relu"), Dense(12, activation="relu"),
                                          Dense(1, activation="linear")], name="model_2")]
    for model in models:
        model.compile(loss="mse", optimizer=tf.keras.optimizers.Adam(learning_rate=0.1))
        print(f"Training {model.name}...")
        model.fit(X_train_scaled, y_train, epochs=3, verbose=0)
        yhat = model.predict(X_train_scaled)
        assert np.isfinite(mean_squared_error(y_train, yhat) / 2)
    assert printed(capsys) == ["Computed mean of the training set: 2504.06", "Training model_1...",
                               "Training model_2..."]

    data = np.loadtxt(shared_data / "course" / "C2_W3" / "data_w3_ex2.csv", delimiter=",")
    x_bc, y_bc = data[:, :-1], data[:, -1].reshape(-1, 1)
    model = tf.keras.models.Sequential([Dense(12, activation="relu"), Dense(1, activation="linear")], name="bc")
    model.compile(loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                  optimizer=tf.keras.optimizers.Adam(learning_rate=0.01))
    model.fit(x_bc, y_bc, epochs=2, verbose=0)
    yhat = tf.math.sigmoid(model.predict(x_bc))
    yhat = np.where(yhat >= 0.5, 1, 0)
    train_error = np.mean(yhat != y_bc)
    assert yhat.shape == (200, 1) and 0 <= train_error <= 1
