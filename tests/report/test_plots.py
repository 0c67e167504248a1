"""The diagnostic pictures are written as real PNG images of the expected size."""

from __future__ import annotations

import numpy as np
import pytest

from learnloop.diagnostics import LearningCurve, ModelSelection, Step, Trail, ValidationCurve

pytest.importorskip("matplotlib")


def _read_png(path):
    from matplotlib.image import imread

    assert path.is_file() and path.stat().st_size > 1000
    image = imread(path)
    assert image.shape[:2] == (480, 640)                 # 6.4 x 4.8 inches at 100 dpi
    assert image[..., :3].std() > 0.05                   # not a blank canvas
    return image


def _vc(name, values, j_cv):
    j_cv = np.array(j_cv, dtype=float)
    values_array = np.empty(len(values), dtype=object) if isinstance(values[0], tuple) else np.array(values)
    if values_array.dtype == object:
        values_array[:] = values
    return ValidationCurve(name=name, values=values_array, j_train=j_cv * 0.5, j_cv=j_cv,
                           best_index=int(np.argmin(j_cv)))


def test_learning_curve_png(tmp_path):
    lc = LearningCurve(sizes=np.array([10, 20, 40, 80]), j_train=np.array([0.0, 0.05, 0.08, 0.1]),
                       j_cv=np.array([0.4, 0.25, 0.18, 0.15]), baseline=0.1)
    ax = lc.plot(tmp_path / "learning.png")
    _read_png(tmp_path / "learning.png")
    assert ax.get_xlabel().startswith("m")
    assert [line.get_label() for line in ax.get_lines()][:2] == ["J_train", "J_cv"]


def test_lambda_curve_uses_a_log_axis_and_marks_the_choice(tmp_path):
    vc = _vc("lambda", [0.0, 0.01, 0.1, 1.0, 10.0], [0.2, 0.15, 0.12, 0.14, 0.3])
    ax = vc.plot(tmp_path / "nested" / "lambda.png")
    _read_png(tmp_path / "nested" / "lambda.png")
    assert ax.get_xscale() == "symlog"                   # 0 among values spanning decades
    assert any("chosen lambda = 0.1" in t.get_text() for t in ax.get_legend().get_texts())
    positive = _vc("lambda", [0.001, 0.1, 10.0], [0.2, 0.1, 0.3]).plot()
    assert positive.get_xscale() == "log"


def test_degree_and_architecture_curves(tmp_path):
    degree = _vc("degree", list(range(1, 11)), [5, 2, 1.5, 1.4, 1.45, 1.3, 2, 2.1, 2.2, 2.4])
    assert degree.plot(tmp_path / "degree.png").get_xscale() == "linear"
    _read_png(tmp_path / "degree.png")
    arch = _vc("architecture", [(8,), (32,), (64, 32)], [0.1, 0.05, 0.06])
    ax = arch.plot(tmp_path / "arch.png")
    _read_png(tmp_path / "arch.png")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "32", "64-32"]


def test_model_selection_and_trail_and_a_given_axes(tmp_path):
    selection = ModelSelection(names=np.array(["linear", "quadratic"], dtype=object),
                               j_train=np.array([406.2, 49.1]), j_cv=np.array([551.8, 87.7]), best_index=1,
                               j_test=107.1, kind="regression")
    selection.plot(tmp_path / "selection.png")
    _read_png(tmp_path / "selection.png")
    steps = (Step((1,), 0.0, 0.8, 0.83, "high bias"), Step((128,), 0.0, 0.14, 0.18, "high variance"),
             Step((128,), 1.0, 0.16, 0.17, "good fit"))
    Trail(steps=steps, chosen_index=2, baseline=0.15, note="").plot(tmp_path / "trail.png")
    _read_png(tmp_path / "trail.png")

    from matplotlib.figure import Figure

    fig = Figure(figsize=(12.8, 4.8), dpi=100)
    left, right = fig.subplots(1, 2)
    assert _vc("lambda", [0.1, 1.0], [0.2, 0.1]).plot(ax=left) is left
    assert selection.plot(ax=right, path=tmp_path / "both.png") is right
    from matplotlib.image import imread

    assert imread(tmp_path / "both.png").shape[:2] == (480, 1280)


def test_intervals_the_power_law_and_the_one_se_line_are_drawn(tmp_path):
    rng = np.random.default_rng(0)
    sizes = np.array([100, 200, 400, 800])
    rates = 0.05 + 1.5 * sizes ** -0.5
    cv = (rng.random((4, 300)) < rates[:, None]).astype(float)
    train = tuple((rng.random(int(m)) < r / 2).astype(float) for m, r in zip(sizes, rates))
    lc = LearningCurve(sizes=sizes, j_train=np.array([t.mean() for t in train]), j_cv=cv.mean(axis=1),
                       train_losses=train, cv_losses=cv)
    ax = lc.plot(tmp_path / "learning.png")
    _read_png(tmp_path / "learning.png")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["J_train", "J_cv"] and any(t.startswith("J_cv = ") for t in labels)
    assert any(t.startswith("10x the data") for t in labels) and len(ax.collections) >= 2   # the bands
    lam_cv = (rng.random((3, 300)) < np.array([0.1, 0.1, 0.3])[:, None]).astype(float)
    vc = ValidationCurve("lambda", np.array([0.0, 1.0, 10.0]), lam_cv.mean(axis=1) / 2, lam_cv.mean(axis=1),
                         int(np.argmin(lam_cv.mean(axis=1))), cv_losses=lam_cv)
    ax = vc.plot(tmp_path / "lambda.png")
    _read_png(tmp_path / "lambda.png")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("lowest J_cv + 1 standard error") for t in labels)
    assert any(t == f"chosen lambda = {vc.chosen_value:g} (one-SE rule)" for t in labels)
