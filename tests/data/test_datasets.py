import numpy as np
import pytest

from learnloop.data.datasets import load_dataset
from learnloop.errors import LearnloopError


def test_bundled_digits():
    data = load_dataset("digits")
    assert data.x.shape == (1797, 64) and data.task == "classification" and data.n_classes == 10
    assert data.images.shape == (1797, 8, 8)


def test_bundled_regression():
    data = load_dataset("diabetes")
    assert data.task == "regression" and data.y.dtype == np.float64


def test_unknown_bundled_name_suggests():
    with pytest.raises(LearnloopError, match="Did you mean 'digits'"):
        load_dataset("digit")


def _write(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def test_csv_numeric_and_categorical_columns(tmp_path):
    path = _write(tmp_path, "age,color,income,label\n30,red,1.5,yes\n40,blue,2.5,no\n50,red,3.5,yes\n20,green,1,no\n")
    data = load_dataset(str(path), target="label")
    assert data.task == "classification" and data.classes == ["no", "yes"]
    assert data.x.shape == (4, 5)                       # 2 numeric + 3 one-hot colors
    assert data.feature_names[:2] == ["age", "income"] and "color_red" in data.feature_names
    assert any("one-hot" in note for note in data.notes)


def test_csv_missing_values_are_reported_not_dropped(tmp_path):
    path = _write(tmp_path, "a,b,y\n1,,0\n2,3,1\n,4,0\n5,6,1\n")
    with pytest.raises(LearnloopError, match=r"missing values in 2 columns: a \(1\), b \(1\); 2 of 4 rows"):
        load_dataset(str(path))
    dropped = load_dataset(str(path), missing="drop")
    assert dropped.x.shape == (2, 2) and "dropped 2 rows" in dropped.notes[0]
    imputed = load_dataset(str(path), missing="impute")
    assert imputed.x.shape == (4, 2) and np.isfinite(imputed.x).all()


def test_csv_wrong_target_lists_columns(tmp_path):
    path = _write(tmp_path, "a,b,y\n1,2,0\n")
    with pytest.raises(LearnloopError, match=r"no column named 'z'; the columns are \['a', 'b', 'y'\]"):
        load_dataset(str(path), target="z")


def test_csv_regression_target_and_group_columns(tmp_path):
    rows = "\n".join(f"{i},{'f' if i % 2 else 'm'},{i * 1.5}" for i in range(30))
    path = _write(tmp_path, "x,sex,price\n" + rows + "\n")
    data = load_dataset(str(path), target="price", group_columns=["sex"])
    assert data.task == "regression" and data.x.shape == (30, 1)
    assert list(data.groups["sex"][:2]) == ["m", "f"]


def test_npz(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((5, 2, 2)), y=np.array([0, 1, 0, 1, 1]))
    data = load_dataset(str(path))
    assert data.x.shape == (5, 4) and data.images.shape == (5, 2, 2)
