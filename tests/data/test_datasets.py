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
    assert data.is_table and data.x is None
    data.fit_features(np.arange(4))
    assert data.x.shape == (4, 6)                       # 2 numbers + 3 colors + the out-of-vocabulary slot
    assert data.feature_names[0] == "age" and "color=red" in data.feature_names
    assert [d.kind for d in data.decisions] == ["numeric", "categorical", "numeric"]


def test_the_feature_pipeline_learns_from_the_training_rows_only(tmp_path):
    path = _write(tmp_path, "x,c,y\n1,a,0\n2,a,1\n3,b,0\n100,z,1\n")
    data = load_dataset(str(path), target="y")
    data.fit_features(np.array([0, 1, 2]))
    assert "c=z" not in data.feature_names               # a level seen only outside the training rows: OOV
    normalization = data.feature_space.preprocessors["x"]
    assert np.isclose(float(normalization.mean[0]), 2.0)


def test_csv_missing_numbers_are_reported_not_dropped(tmp_path):
    path = _write(tmp_path, "a,b,c,y\n1,,u,0\n2,3,,1\n,4,v,0\n5,6,u,1\n7,8,v,0\n9,1,u,1\n")
    with pytest.raises(LearnloopError, match=r"missing values in 2 numeric columns: a \(1\), b \(1\); 2 of 6 "
                                             r"rows are affected. Pass missing=.drop."):
        load_dataset(str(path))
    dropped = load_dataset(str(path), missing="drop")
    assert len(dropped.y) == 4 and any("left out 2 rows" in note for note in dropped.notes)
    imputed = load_dataset(str(path), missing="impute")
    imputed.fit_features(np.arange(6))
    assert imputed.x.shape[0] == 6 and np.isfinite(imputed.x).all()
    assert {"a_missing", "b_missing", "c=[MISSING]"} <= set(imputed.feature_names)


def test_csv_wrong_target_lists_columns(tmp_path):
    path = _write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n")
    with pytest.raises(LearnloopError, match=r"no column named 'z'; the columns are \['a', 'b', 'y'\]"):
        load_dataset(str(path), target="z")


def test_csv_regression_target_and_group_columns(tmp_path):
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{rng.normal():.4f},{'f' if i % 2 else 'm'},{i * 1.5}" for i in range(30))
    path = _write(tmp_path, "x,sex,price\n" + rows + "\n")
    data = load_dataset(str(path), target="price", group_columns=["sex"])
    data.fit_features(np.arange(30))
    assert data.task == "regression" and data.x.shape == (30, 1)
    assert list(data.groups["sex"][:2]) == ["m", "f"]


def test_id_and_constant_columns_are_dropped_with_a_reason(tmp_path):
    rows = "\n".join(f"{i},user{i},same,{i % 7},{i % 2}" for i in range(40))
    path = _write(tmp_path, "row,user,const,x,y\n" + rows + "\n")
    data = load_dataset(str(path), target="y")
    kinds = {d.name: d.kind for d in data.decisions}
    assert kinds == {"row": "dropped", "user": "dropped", "const": "dropped", "x": "numeric"}
    assert data.feature_space.column_names == ["x"]


def test_headerless_latin1_file_of_any_extension(tmp_path):
    path = tmp_path / "people.data"
    path.write_bytes("".join(f"{20 + i},Müller{i % 3},{'café' if i % 2 else 'thé'},{i % 2}\n"
                             for i in range(30)).encode("latin-1"))
    data = load_dataset(str(path))
    assert data.target_name == "column_4" and data.source_columns[0] == "column_1"
    assert any("latin" in note.lower() or "cp1252" in note.lower() for note in data.notes)


def test_integral_float_labels_are_whole_classes(tmp_path):
    rows = "\n".join(f"{i * 0.37:.2f},{float(i % 3)}" for i in range(30))
    data = load_dataset(str(_write(tmp_path, "x,grade\n" + rows + "\n")))
    assert data.classes == [0, 1, 2]


def test_a_folder_and_a_missing_file_are_reported_as_such(tmp_path):
    with pytest.raises(LearnloopError, match="it is a folder"):
        load_dataset(str(tmp_path))
    with pytest.raises(LearnloopError, match="No data file at"):
        load_dataset(str(tmp_path / "nothing.data"))


def test_npz(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((5, 2, 2)), y=np.array([0, 1, 0, 1, 1]))
    data = load_dataset(str(path))
    assert data.x.shape == (5, 4) and data.images.shape == (5, 2, 2)
