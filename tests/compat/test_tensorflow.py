"""learnloop.compat.tensorflow: TensorFlow's names over learnloop, and install() for notebooks."""

import logging
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest
from learnloop.compat.tensorflow.keras.activations import relu, sigmoid
from learnloop.compat.tensorflow.keras.layers import Dense
from numpy.testing import assert_allclose

import learnloop
from learnloop.compat import tensorflow as tf
from learnloop.errors import LearnloopError


@pytest.fixture(autouse=True)
def _fresh_names():
    tf.keras.backend.clear_session()
    yield
    tf.keras.backend.set_floatx("float32")


# ---- tensors -----------------------------------------------------------------------------------------------------
def test_tensor_prints_like_an_eager_tensor():
    t = tf.constant([[300.0]])
    assert str(t) == "tf.Tensor([[300.]], shape=(1, 1), dtype=float32)"
    assert repr(t) == "<tf.Tensor: shape=(1, 1), dtype=float32, numpy=array([[300.]], dtype=float32)>"
    assert str(tf.constant([1, 2, 3])) == "tf.Tensor([1 2 3], shape=(3,), dtype=int32)"
    assert str(tf.constant(2.5)) == "tf.Tensor(2.5, shape=(), dtype=float32)"
    two_rows = str(tf.constant(np.eye(2)))
    assert two_rows == "tf.Tensor(\n[[1. 0.]\n [0. 1.]], shape=(2, 2), dtype=float64)"


def test_f_strings_show_the_values_as_numpy_does():
    t = tf.nn.softmax(np.array([1.0, 2.0, 3.0, 4.0]))
    with np.printoptions(precision=2):
        assert f"{t}" == "[0.03 0.09 0.24 0.64]"
    assert f"{tf.reduce_sum(t):0.3f}" == "1.000"


def test_shape_is_a_tensor_shape_and_numpy_gives_plain_values():
    t = tf.zeros((1000, 1))
    assert repr(t.shape) == "TensorShape([1000, 1])" and t.shape.as_list() == [1000, 1]
    assert type(t.numpy()) is np.ndarray
    assert type(tf.constant(1.5).numpy()) is np.float32


def test_operators_give_tensors_and_numpy_functions_give_arrays():
    p = tf.keras.activations.sigmoid(np.array([[-1.0], [2.0]]))
    decided = (p >= 0.5).numpy().astype(int)
    assert decided.tolist() == [[0], [1]]
    assert isinstance(p + 1, tf.Tensor) and isinstance(2 * p, tf.Tensor) and isinstance(p @ np.ones((1, 1)), tf.Tensor)
    assert type(np.argmax(p, axis=1)) is np.ndarray
    assert type(np.exp(p)) is np.ndarray
    assert type(np.max(p)) is np.float64


def test_tensors_are_immutable_under_augmented_assignment():
    t = tf.constant([1.0, 2.0])
    u = t
    u += 1
    assert t.numpy().tolist() == [1.0, 2.0] and u.numpy().tolist() == [2.0, 3.0]


def test_constant_and_convert_to_tensor_follow_tensorflows_dtypes():
    assert tf.constant([1.0, 2.0]).dtype == np.float32
    assert tf.constant([1, 2]).dtype == np.int32
    assert tf.convert_to_tensor(np.array([1.0, 2.0])).dtype == np.float64
    assert tf.constant(3.0, shape=(2, 2)).numpy().tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert tf.cast(tf.constant([1.7, -0.2]), tf.int32).numpy().tolist() == [1, 0]
    assert tf.float32 == np.float32 and np.dtype(tf.float64) == np.float64 and repr(tf.float32) == "tf.float32"


def test_array_functions():
    x = np.arange(6.0).reshape(2, 3)
    assert tf.reduce_sum(x).numpy() == 15.0
    assert tf.reduce_mean(x, axis=1).numpy().tolist() == [1.0, 4.0]
    assert tf.reduce_max(x, axis=0, keepdims=True).shape == (1, 3)
    assert tf.argmax(x).numpy().tolist() == [1, 1, 1]                        # TensorFlow's default axis is 0
    assert tf.argmax(x, axis=1).dtype == np.int64
    assert tf.one_hot([0, 2], 3).numpy().tolist() == [[1, 0, 0], [0, 0, 1]]
    assert tf.reshape(x, (3, 2)).shape == (3, 2)
    assert_allclose(tf.linalg.matmul(x, x, transpose_b=True), x @ x.T)
    assert_allclose(tf.matmul(x.T, x), x.T @ x)
    assert_allclose(tf.math.exp(x), np.exp(x))
    assert_allclose(tf.math.reduce_logsumexp(x, axis=1), np.log(np.exp(x).sum(axis=1)))
    assert tf.where(x > 2, x, 0).numpy().tolist() == [[0, 0, 0], [3, 4, 5]]
    assert tf.concat([x, x], axis=0).shape == (4, 3)


def test_nn_functions_match_learnloops_activations_and_losses():
    z = np.array([[2.0, -1.0, 0.5], [-3.0, 4.0, 1.0]])
    assert_allclose(tf.nn.softmax(z), learnloop.activations.softmax(z))
    assert_allclose(tf.nn.log_softmax(z), np.log(learnloop.activations.softmax(z)), rtol=1e-12)
    assert_allclose(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 1], logits=z),
                    learnloop.losses.sparse_categorical_crossentropy([0, 1], z, from_logits=True))
    assert_allclose(tf.nn.sigmoid_cross_entropy_with_logits(labels=np.ones_like(z), logits=z),
                    -np.log(learnloop.activations.sigmoid(z)), rtol=1e-12)
    assert_allclose(tf.nn.relu(z), np.maximum(z, 0))
    assert_allclose(tf.math.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12)


def test_variable_assigns_in_place_and_prints_its_name():
    v = tf.Variable([1.0, 2.0], name="w")
    v.assign([3.0, 4.0])
    v.assign_add([1.0, 1.0])
    assert v.numpy().tolist() == [4.0, 5.0] and v.dtype == np.float32
    assert repr(v) == "<tf.Variable 'w:0' shape=(2,) dtype=float32, numpy=array([4., 5.], dtype=float32)>"


def test_random_set_seed_leaves_numpys_global_generator_alone():
    np.random.seed(7)
    expected = np.random.rand()
    np.random.seed(7)
    tf.random.set_seed(1234)
    assert np.random.rand() == expected
    tf.random.set_seed(1234)
    first = Dense(3).__call__(np.ones((1, 2))).numpy()
    tf.random.set_seed(1234)
    assert_allclose(Dense(3)(np.ones((1, 2))), first)


def test_logging_autograph_and_config():
    assert isinstance(tf.get_logger(), logging.Logger) and tf.get_logger().name == "tensorflow"
    tf.get_logger().setLevel("ERROR")
    tf.autograph.set_verbosity(0)
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
    assert tf.config.list_physical_devices("GPU") == []
    assert tf.config.list_physical_devices()[0].device_type == "CPU"
    tf.config.threading.set_inter_op_parallelism_threads(1)
    assert tf.config.threading.get_inter_op_parallelism_threads() == 1
    tf.config.threading.set_intra_op_parallelism_threads(1)
    assert tf.config.threading.get_intra_op_parallelism_threads() == 1
    tf.config.threading.set_intra_op_parallelism_threads(0)

    @tf.function
    def double(x):
        return 2 * x
    assert double(2) == 4 and tf.executing_eagerly()


def test_floatx_is_learnloops():
    tf.keras.backend.set_floatx("float64")
    assert tf.keras.backend.floatx() == "float64" == learnloop.floatx()
    assert Dense(2)(np.ones((1, 3))).dtype == np.float64


# ---- keras ---------------------------------------------------------------------------------------------------
def test_layer_call_returns_a_tensor_and_weights_are_named_views():
    layer = Dense(units=1, activation="linear")
    assert layer.get_weights() == []
    layer(np.array([[1.0]], dtype=np.float32))
    layer.set_weights([np.array([[200]]), np.array([100])])
    assert str(layer(np.array([[1.0]]))) == "tf.Tensor([[300.]], shape=(1, 1), dtype=float32)"
    kernel, bias = layer.weights
    assert kernel.name == "dense/kernel:0" and bias.name == "dense/bias:0"
    assert np.shares_memory(kernel, layer.kernel)
    assert repr(bias) == "<tf.Variable 'dense/bias:0' shape=(1,) dtype=float32, numpy=array([100.], dtype=float32)>"
    assert all(type(w) is np.ndarray for w in layer.get_weights())


def test_activations_compare_equal_to_learnloops_and_return_tensors():
    layer = Dense(2, activation=relu)
    assert layer.activation is learnloop.activations.relu                   # the engine keeps its own function
    assert layer.activation == relu and relu == layer.activation
    assert Dense(2, activation="sigmoid").activation == sigmoid
    assert sigmoid != relu
    assert isinstance(sigmoid(np.zeros(2)), tf.Tensor) and sigmoid(np.zeros(2)).dtype == np.float64
    assert sigmoid(0.5).dtype == np.float32 and sigmoid([0.0, 1.0]).dtype == np.float32
    assert tf.keras.activations.relu(np.array([-1.0, 2.0]), alpha=0.5).numpy().tolist() == [-0.5, 2.0]


def test_losses_return_tensors_and_names_compile_to_the_same_classes():
    loss = tf.keras.losses.BinaryCrossentropy()
    value = loss(np.array([[1.0]]), np.array([[0.9]], dtype=np.float32))
    assert isinstance(value, tf.Tensor) and value.shape == () and value.dtype == np.float32
    assert_allclose(value.numpy(), -np.log(0.9), rtol=1e-6)
    model = tf.keras.Sequential([tf.keras.Input((2,)), Dense(3)])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    assert type(model.loss) is tf.keras.losses.SparseCategoricalCrossentropy
    assert type(model.optimizer) is tf.keras.optimizers.Adam
    assert isinstance(model.loss, learnloop.losses.SparseCategoricalCrossentropy)


def test_model_call_returns_a_tensor_and_predict_an_array():
    model = tf.keras.Sequential([tf.keras.Input((2,)), Dense(3, name="L1")])
    assert isinstance(model(np.ones((4, 2))), tf.Tensor)
    assert type(model.predict(np.ones((4, 2)))) is np.ndarray
    assert [w.name for w in model.weights] == ["L1/kernel:0", "L1/bias:0"]


def test_functional_chain_becomes_a_sequential_model():
    inputs = tf.keras.Input(shape=(4,))
    hidden = Dense(3, activation="relu", name="hidden")(inputs)
    outputs = Dense(2, name="out")(hidden)
    model = tf.keras.Model(inputs=inputs, outputs=outputs)
    assert isinstance(model, tf.keras.Model) and [layer.name for layer in model.layers] == ["hidden", "out"]
    assert model.name == "model"
    assert model.count_params() == 4 * 3 + 3 + 3 * 2 + 2
    assert model.predict(np.ones((5, 4))).shape == (5, 2)


def test_subclassed_models_and_call_only_layers_are_refused_with_the_reason():
    with pytest.raises(LearnloopError, match="automatic differentiation.*tf.keras.Sequential"):
        class MyModel(tf.keras.Model):
            def call(self, x):
                return x
    with pytest.raises(LearnloopError, match="forward\\(x, training\\) and backward\\(grad\\)"):
        class MyLayer(tf.keras.layers.Layer):
            def call(self, x):
                return x


def test_saved_models_load_with_the_compat_classes(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((3,)), Dense(2, name="L1")], name="saved")
    model.compile(loss="mse", optimizer="sgd")
    model.save(tmp_path / "m.zip")
    loaded = tf.keras.models.load_model(tmp_path / "m.zip")
    assert type(loaded) is tf.keras.Sequential and type(loaded.layers[0]) is Dense
    assert isinstance(loaded(np.ones((1, 3))), tf.Tensor)


def test_summary_prints_keras_2s_layout_by_default(capsys):
    model = tf.keras.Sequential([tf.keras.Input(shape=(400,)), Dense(25, activation="sigmoid"),
                                 Dense(15, activation="sigmoid"), Dense(1, activation="sigmoid")], name="my_model")
    model.summary()
    assert capsys.readouterr().out.splitlines() == [
        'Model: "my_model"',
        "_________________________________________________________________",
        " Layer (type)                Output Shape              Param #   ",
        "=================================================================",
        " dense (Dense)               (None, 25)                10025     ",
        "                                                                 ",
        " dense_1 (Dense)             (None, 15)                390       ",
        "                                                                 ",
        " dense_2 (Dense)             (None, 1)                 16        ",
        "                                                                 ",
        "=================================================================",
        "Total params: 10,431",
        "Trainable params: 10,431",
        "Non-trainable params: 0",
        "_________________________________________________________________",
    ]


def test_to_categorical_and_legacy_optimizers():
    assert tf.keras.utils.to_categorical([0, 2], 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert tf.keras.optimizers.legacy.Adam is learnloop.optimizers.Adam
    assert tf.keras.layers.experimental.preprocessing.Normalization is tf.keras.layers.Normalization


# ---- names outside the subset --------------------------------------------------------------------------------
def test_missing_names_say_which_and_what_to_use_instead():
    with pytest.raises(AttributeError, match="tf.GradientTape is not covered.*model.fit"):
        tf.GradientTape()
    with pytest.raises(AttributeError, match="tf.data is not covered.*NumPy arrays"):
        tf.data.Dataset  # noqa: B018
    with pytest.raises(AttributeError, match=r"Did you mean tf.math.reduce_sum\?"):
        tf.math.reduce_summ  # noqa: B018
    assert not hasattr(tf.keras.layers, "LSTM")


def test_from_import_of_a_missing_name_keeps_the_message():
    with pytest.raises(ImportError, match="tf.keras.layers.Lambda is not covered.*derivative"):
        from learnloop.compat.tensorflow.keras.layers import Lambda  # noqa: F401


# ---- install ------------------------------------------------------------------------------------------------
def _run(code: str, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path)] + sys.path))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=120)


def test_install_makes_tensorflow_imports_resolve_here_including_helper_modules(tmp_path):
    (tmp_path / "lab_helpers.py").write_text(textwrap.dedent("""
        import numpy as np
        import tensorflow as tf
        from tensorflow.keras.activations import sigmoid
        def unit(v, w, b):
            return tf.keras.activations.sigmoid(np.dot(v, w) + b).numpy()
    """))
    result = _run("""
        import learnloop.compat.tensorflow as _tf; _tf.install()
        import tensorflow as tf
        tf.autograph.set_verbosity(0)
        from tensorflow.keras.models import Sequential
        from tensorflow.keras.layers import Dense
        import lab_helpers
        print(tf is _tf, lab_helpers.tf is _tf, lab_helpers.sigmoid is tf.keras.activations.sigmoid)
        print(lab_helpers.unit([0.0, 0.0], [1.0, 1.0], 0.0))
        try:
            import tensorflow.keras.preprocessing.image
        except ImportError as e:
            print("ImportError:", e)
        _tf.uninstall()
        import sys
        print("tensorflow" in sys.modules)
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "True True True" and lines[1] == "0.5"
    assert lines[2].startswith("ImportError: No module named 'tensorflow.keras.preprocessing'")
    assert "ImageDataGenerator" in lines[2] or "augmentation" in lines[2]
    assert lines[3] == "False"


def test_ipython_extension_installs(tmp_path):
    result = _run("""
        import learnloop.compat.tensorflow as ext
        ext.load_ipython_extension(None)
        import tensorflow as tf
        print(tf.__name__)
        ext.unload_ipython_extension(None)
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "learnloop.compat.tensorflow"


def test_install_refuses_when_the_real_tensorflow_is_already_imported(monkeypatch):
    real = types.ModuleType("tensorflow")
    real.__version__, real.__file__ = "2.21.0", "/site-packages/tensorflow/__init__.py"
    monkeypatch.setitem(sys.modules, "tensorflow", real)
    with pytest.raises(LearnloopError,
                       match=r"The real tensorflow 2.21.0 is already imported.*Restart.*before anything imports"):
        tf.install()
    assert sys.modules["tensorflow"] is real and not tf._install.installed()
