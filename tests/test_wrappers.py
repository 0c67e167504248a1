"""learnloop models as scikit-learn estimators: model selection, pipelines, label handling, errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import NotFittedError as SKLearnNotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import learnloop
from learnloop import Input, Sequential
from learnloop.errors import LearnloopError
from learnloop.layers import Conv2D, Dense, Flatten, MaxPooling2D, Normalization
from learnloop.losses import BinaryCrossentropy, SparseCategoricalCrossentropy
from learnloop.optimizers import Adam
from learnloop.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer


def digits_mlp(X, y, units=32, loss="sparse_categorical_crossentropy"):
    """Sized from the data: as many inputs as features, one softmax unit per class."""
    model = Sequential([Input((X.shape[1],)), Dense(units, activation="relu"),
                        Dense(len(np.unique(y)), activation="softmax")])
    model.compile(optimizer=Adam(0.01), loss=loss, metrics=["accuracy"])
    return model


def cancer_net(X, y):
    norm = Normalization()
    norm.adapt(X)
    model = Sequential([Input((X.shape[1],)), norm, Dense(8, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizer=Adam(0.01), loss="binary_crossentropy")
    return model


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return x / 16.0, y


def test_cross_val_score_on_digits_reaches_real_accuracy(digits):
    x, y = digits
    learnloop.set_seed(0)
    est = SKLearnClassifier(digits_mlp, fit_kwargs={"epochs": 15, "batch_size": 32})
    scores = cross_val_score(est, x, y, cv=3)
    assert scores.min() >= 0.88, scores


def test_grid_search_tunes_model_kwargs_and_refits_the_best(digits):
    x, y = digits
    learnloop.set_seed(0)
    search = GridSearchCV(SKLearnClassifier(digits_mlp, fit_kwargs={"epochs": 5}),
                          {"model_kwargs": [{"units": 2}, {"units": 32}]}, cv=2)
    search.fit(x, y)
    assert search.best_params_ == {"model_kwargs": {"units": 32}}        # 2 hidden units cannot separate 10 digits
    assert search.best_estimator_.model_.layers[0].units == 32
    assert search.score(x, y) >= 0.9


def test_binary_labels_of_any_type_with_one_sigmoid_unit():
    x, y = load_breast_cancer(return_X_y=True)
    names = np.array(["malignant", "benign"])[y]
    x_tr, x_te, y_tr, y_te = train_test_split(x, names, test_size=0.3, random_state=0, stratify=names)
    learnloop.set_seed(0)
    est = SKLearnClassifier(cancer_net, fit_kwargs={"epochs": 30}).fit(x_tr, y_tr)
    assert_array_equal(est.classes_, ["benign", "malignant"])
    proba = est.predict_proba(x_te)
    assert proba.shape == (len(x_te), 2)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert set(est.predict(x_te)) <= {"benign", "malignant"}
    assert est.score(x_te, y_te) >= 0.93
    assert est.decision_function(x_te).shape == (len(x_te),)


@pytest.mark.parametrize("loss", [SparseCategoricalCrossentropy(from_logits=True), "categorical_crossentropy"])
def test_logits_and_one_hot_losses_get_the_targets_they_need(digits, loss):
    x, y = digits
    labels = y + 10                                                     # not 0..9: the wrapper encodes them

    def build(X, y):
        last = Dense(10) if not isinstance(loss, str) else Dense(10, activation="softmax")
        model = Sequential([Input((64,)), Dense(16, activation="relu"), last])
        model.compile(optimizer=Adam(0.01), loss=loss)
        return model

    learnloop.set_seed(0)
    est = SKLearnClassifier(build, fit_kwargs={"epochs": 10}).fit(x[:1200], labels[:1200])
    proba = est.predict_proba(x[1200:])
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert np.all(proba >= 0)
    assert np.mean(est.predict(x[1200:]) == labels[1200:]) >= 0.85


def test_a_model_instance_is_cloned_with_its_compile_settings_and_left_untouched(digits):
    x, y = digits
    template = digits_mlp(x, y)
    before = [w.copy() for w in template.get_weights()]
    est = SKLearnClassifier(template, fit_kwargs={"epochs": 3}).fit(x, y)
    assert est.model_ is not template and est.model_.optimizer is not template.optimizer
    assert isinstance(est.model_.optimizer, Adam) and est.model_.optimizer.learning_rate == pytest.approx(0.01)
    for a, b in zip(template.get_weights(), before):
        assert_array_equal(a, b)
    assert est.epoch_ == 3 and len(est.history_["loss"]) == 3
    copied = clone(est)                                                 # scikit-learn's clone: unfitted, same params
    assert not hasattr(copied, "model_") and copied.get_params()["fit_kwargs"] == {"epochs": 3}


def test_adapted_normalization_statistics_survive_the_clone():
    x, _ = load_breast_cancer(return_X_y=True)
    norm = Normalization()
    norm.adapt(x)
    template = Sequential([Input((30,)), norm, Dense(1, activation="sigmoid")])
    template.compile(optimizer="adam", loss="binary_crossentropy")
    clone_ = learnloop.wrappers.clone_compiled(template)
    assert_allclose(clone_.layers[0].mean, norm.mean)
    assert_allclose(clone_.layers[0].variance, norm.variance)


def test_warm_start_keeps_training_the_same_model(digits):
    x, y = digits
    est = SKLearnClassifier(digits_mlp, warm_start=True, fit_kwargs={"epochs": 2})
    first = est.fit(x, y).model_
    weights = [w.copy() for w in first.get_weights()]
    assert est.fit(x, y).model_ is first
    assert not all(np.array_equal(a, b) for a, b in zip(first.get_weights(), weights))


def linear_model(X, y):
    model = Sequential([Input((X.shape[1],)), Dense(1)])
    model.compile(optimizer=Adam(0.5), loss="mse")
    return model


def test_regressor_in_a_pipeline_matches_linear_regression_on_diabetes():
    x, y = load_diabetes(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=0)
    learnloop.set_seed(0)
    pipe = make_pipeline(StandardScaler(), SKLearnRegressor(linear_model, fit_kwargs={"epochs": 200,
                                                                                     "batch_size": 64}))
    pipe.fit(x_tr, y_tr)
    assert pipe.predict(x_te).shape == (len(x_te),)
    expected = LinearRegression().fit(x_tr, y_tr).score(x_te, y_te)           # 0.359
    assert pipe.score(x_te, y_te) == pytest.approx(expected, abs=0.02)


def small_cnn(X, y):
    model = Sequential([Input(X.shape[1:]), Conv2D(8, 3, activation="relu"), MaxPooling2D(2), Flatten(),
                        Dense(10, activation="softmax")])
    model.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy")
    return model


def test_images_keep_their_shape_and_a_fitted_estimator_pickles(digits):
    x, y = digits
    images = x.reshape(-1, 8, 8, 1)
    learnloop.set_seed(0)
    est = SKLearnClassifier(small_cnn, fit_kwargs={"epochs": 3}).fit(images[:1000], y[:1000])
    assert not hasattr(est, "n_features_in_")
    assert est.score(images[1000:], y[1000:]) >= 0.8
    restored = pickle.loads(pickle.dumps(est))
    assert_array_equal(restored.predict_proba(images[1000:]), est.predict_proba(images[1000:]))
    with pytest.raises(ValueError, match=r"samples of shape \(8, 8\), but SKLearnClassifier is expecting samples "
                                         r"of shape \(8, 8, 1\)"):
        est.predict(x.reshape(-1, 8, 8)[:5])


def test_transformer_outputs_the_model_predictions(digits):
    x, y = digits
    est = SKLearnTransformer(digits_mlp, fit_kwargs={"epochs": 1}).fit(x, y)
    out = est.transform(x[:7])
    assert out.shape == (7, 10)
    assert_array_equal(out, est.model_.predict(x[:7]))


# ---- errors ---------------------------------------------------------------------------------------------------
def test_unfitted_and_wrong_width_inputs_are_refused_like_scikit_learn(digits):
    x, y = digits
    est = SKLearnClassifier(digits_mlp)
    with pytest.raises(SKLearnNotFittedError):
        est.predict(x)
    est.set_params(fit_kwargs={"epochs": 1}).fit(x, y)
    assert est.n_features_in_ == 64
    with pytest.raises(ValueError, match="X has 10 features, but SKLearnClassifier is expecting 64 features"):
        est.predict(x[:, :10])


def test_model_problems_say_what_is_wrong(digits):
    x, y = digits
    uncompiled = Sequential([Input((64,)), Dense(10)])
    with pytest.raises(LearnloopError, match="must be compiled"):
        SKLearnClassifier(uncompiled).fit(x, y)
    with pytest.raises(LearnloopError, match="must return a compiled learnloop Sequential; got dict"):
        SKLearnClassifier(lambda: {}).fit(x, y)
    with pytest.raises(LearnloopError, match="expects model to be a compiled learnloop Sequential"):
        SKLearnRegressor("adam").fit(x, y)

    def three_units(X, y):
        model = Sequential([Input((64,)), Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss=BinaryCrossentropy())
        return model

    with pytest.raises(LearnloopError, match=r"has 3 unit\(s\) but y has 10 classes"):
        SKLearnClassifier(three_units).fit(x, y)


def test_targets_a_classifier_cannot_learn_are_refused(digits):
    x, y = digits
    with pytest.raises(ValueError, match="at least 2 classes"):
        SKLearnClassifier(digits_mlp).fit(x, np.zeros(len(x)))
    with pytest.raises(ValueError, match="binary and multiclass targets; got continuous"):
        SKLearnClassifier(digits_mlp).fit(x, x[:, 10] + 0.5)


# ---- scikit-learn's own estimator checks ----------------------------------------------------------------------
def small_classifier(X, y):
    model = Sequential([Input(X.shape[1:]), Dense(8, activation="relu"),
                        Dense(len(np.unique(y)), activation="softmax")])
    model.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy")
    return model


def small_regressor(X, y):
    model = Sequential([Input(X.shape[1:]), Dense(1 if y.ndim == 1 else y.shape[1])])
    model.compile(optimizer=Adam(0.01), loss="mse")
    return model


@pytest.mark.parametrize("estimator", [
    SKLearnClassifier(small_classifier, fit_kwargs={"epochs": 3}, random_state=0),
    SKLearnRegressor(small_regressor, fit_kwargs={"epochs": 3}, random_state=0),
    SKLearnTransformer(small_regressor, fit_kwargs={"epochs": 3}, random_state=0),
], ids=lambda est: type(est).__name__)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")   # how it reports the expected failure
def test_wrappers_pass_scikit_learns_estimator_checks(estimator):
    pytest.importorskip("sklearn", minversion="1.6")
    from sklearn.utils.estimator_checks import check_estimator

    # Mini-batch training is not the same as training on repeated rows (batches and step counts differ), as for
    # scikit-learn's own SGD-trained estimators.
    expected = {"check_sample_weight_equivalence_on_dense_data": "mini-batch training"}
    results = check_estimator(estimator, on_fail=None, expected_failed_checks=expected)
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results if r["status"] == "failed"}
    assert not failed
    assert len(results) > 40


def test_random_state_makes_fits_repeatable_and_leaves_the_global_generator_alone(digits):
    x, y = digits
    est = SKLearnClassifier(digits_mlp, fit_kwargs={"epochs": 2}, random_state=7)
    learnloop.set_seed(1)
    first = est.fit(x, y).predict_proba(x[:20])
    after = learnloop.utils.global_rng().random()
    learnloop.set_seed(1)
    assert learnloop.utils.global_rng().random() == after                # the fit drew nothing from it
    assert_array_equal(est.fit(x, y).predict_proba(x[:20]), first)
    with pytest.raises(ValueError, match="random_state must be None, an int or a NumPy generator"):
        SKLearnClassifier(digits_mlp, random_state="seven").fit(x, y)


# ---- partial_fit --------------------------------------------------------------------------------------------------
def test_partial_fit_trains_one_epoch_per_call_and_keeps_the_model(digits):
    x, y = digits
    est = SKLearnClassifier(digits_mlp, fit_kwargs={"batch_size": 64, "epochs": 50}, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        est.partial_fit(x[:100], y[:100])
    first = est.partial_fit(x[:600], y[:600], classes=np.arange(10)).model_
    for start in range(600, 1500, 300):
        est.partial_fit(x[start:start + 300], y[start:start + 300])
    assert est.model_ is first and est.partial_fit_calls_ == 4 and len(est.history_["loss"]) == 4
    assert est.score(x[1500:], y[1500:]) > 0.8                  # four passes over a batch each: it learned
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        est.partial_fit(x[:50], y[:50], classes=np.arange(9))
    with pytest.raises(ValueError, match=r"X has 63 features, but SKLearnClassifier is expecting 64 features"):
        est.partial_fit(x[:50, :63], y[:50])
    with pytest.raises(ValueError, match=r"labels \[11\] that are not in classes"):
        est.partial_fit(x[:2], np.array([1, 11]))


def test_partial_fit_is_repeatable_and_a_batch_without_some_classes_is_fine(digits):
    x, y = digits
    runs = []
    for _ in range(2):
        est = SKLearnClassifier(digits_mlp, random_state=3)
        est.partial_fit(x[:400], y[:400], classes=np.arange(10))
        est.partial_fit(x[400:500][y[400:500] < 5], y[400:500][y[400:500] < 5])       # classes 5-9 absent
        runs.append(est.predict_proba(x[-20:]))
    assert_array_equal(runs[0], runs[1])
    assert runs[0].shape == (20, 10)


def test_partial_fit_of_a_regressor_continues_after_fit():
    x, y = load_diabetes(return_X_y=True)
    est = SKLearnRegressor(linear_model, fit_kwargs={"epochs": 5}, random_state=0).fit(x, y)
    model = est.model_
    before = est.score(x, y)
    for _ in range(20):
        est.partial_fit(x, y)
    assert est.model_ is model and len(est.history_["loss"]) == 25 and est.score(x, y) > before


@pytest.fixture
def dask_client():
    pytest.importorskip("dask_ml")
    distributed = pytest.importorskip("dask.distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0") as client:
        yield client


def test_dask_ml_incremental_trains_a_learnloop_model_block_by_block(digits, dask_client):
    import dask.array as da
    from dask_ml.wrappers import Incremental

    x, y = digits
    X, Y = da.from_array(x[:1500], chunks=300), da.from_array(y[:1500], chunks=300)
    inc = Incremental(SKLearnClassifier(digits_mlp, random_state=0), scoring="accuracy")
    inc.fit(X, Y, classes=np.arange(10))
    assert inc.estimator_.partial_fit_calls_ == 5                     # one call per block
    assert inc.score(x[1500:], y[1500:]) > 0.5                        # chance: 0.1
    assert inc.predict(da.from_array(x[1500:1600], chunks=50)).compute().shape == (100,)


def test_dask_ml_hyperband_searches_learnloop_models(digits, dask_client):
    import dask.array as da
    from dask_ml.model_selection import HyperbandSearchCV

    x, y = digits
    X, Y = da.from_array(x[:1500], chunks=300), da.from_array(y[:1500], chunks=300)
    search = HyperbandSearchCV(SKLearnClassifier(digits_mlp, random_state=0),
                               {"model_kwargs": [{"units": 4}, {"units": 16}, {"units": 64}]}, max_iter=6,
                               random_state=0)
    try:
        search.fit(X, Y, classes=np.arange(10))
    except RuntimeError as err:
        if "asynchronous Client in a synchronous context" not in str(err):
            raise
        pytest.xfail("dask-ml's adaptive searches call dask.persist inside the client's event loop, which dask "
                     "refuses since 2025.3; Incremental (above) drives the same partial_fit")
    assert search.best_params_["model_kwargs"]["units"] in (16, 64)
    assert search.best_estimator_.partial_fit_calls_ >= 1 and search.best_score_ > 0.5
