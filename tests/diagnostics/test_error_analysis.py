"""Error analysis: errors and their seeded sample, predicate and manual tags, tables, pictures, and real spam."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from learnloop.diagnostics import ErrorAnalysis
from learnloop.diagnostics.error_analysis import TagRow, predicted_labels
from learnloop.errors import LearnloopError


def _spam_like():
    """300 messages, 100 misclassified: 21 pharma, 18 phishing (6 of which also pharma), 3 misspelled."""
    y = np.zeros(300, dtype=int)
    y[:150] = 1
    pred = y.copy()
    pred[:100] = 0                                     # the first 100 spam messages are missed
    texts = ["hello there"] * 300
    for i in range(21):
        texts[i] = "buy cheap meds"
    for i in range(15, 33):
        texts[i] = texts[i] + " click http://bank.example" if i < 21 else "verify at http://bank.example"
    for i in range(40, 43):
        texts[i] = "w4tches fr33"
    return y, pred, texts


TAGS = {"pharma": lambda t: "meds" in t, "phishing": lambda t: "http" in t,
        "misspelled": lambda t: bool(re.search(r"\w\d\w", t))}


def test_tag_table_counts_each_tag_and_allows_several_per_example():
    y, pred, texts = _spam_like()
    ea = ErrorAnalysis(y, pred, texts=texts, tags=TAGS, sample_size=100)
    assert len(ea.errors) == 100 and len(ea.sample) == 100
    assert ea.tag_table() == [TagRow("pharma", 21, 0.21), TagRow("phishing", 18, 0.18),
                              TagRow("misspelled", 3, 0.03)]
    assert sum(1 for names in ea.tags.values() if {"pharma", "phishing"} <= names) == 6
    assert len(ea.untagged) == 100 - 21 - 12 - 3
    text = str(ea)
    assert "100 of 300 cv examples misclassified (33.3%)" in text
    assert re.search(r"pharma\s+21\s+21%", text)


def test_sample_is_seeded_and_bounded():
    y, pred, texts = _spam_like()
    a = ErrorAnalysis(y, pred, texts=texts, sample_size=30, seed=4)
    b = ErrorAnalysis(y, pred, texts=texts, sample_size=30, seed=4)
    c = ErrorAnalysis(y, pred, texts=texts, sample_size=30, seed=5)
    assert len(a.sample) == 30 and set(a.sample) <= set(a.errors)
    assert_array_equal(a.sample, b.sample)
    assert not np.array_equal(a.sample, c.sample)


def test_manual_tags_from_a_csv_template_round_trip(tmp_path):
    y, pred, texts = _spam_like()
    ids = [f"msg{i:03d}" for i in range(300)]
    ea = ErrorAnalysis(y, pred, texts=texts, ids=ids, sample_size=40, seed=1)
    template = ea.write_tag_template(tmp_path / "to_tag.csv")
    with template.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["id", "tag"] and len(rows) == 41
    # A person reads each message and fills the tag column (here: by what the message says).
    filled = tmp_path / "tags.csv"
    with filled.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["example id", "tag"])
        for row in rows[1:]:
            tag = "pharma;phishing" if "meds" in row[4] and "http" in row[4] else \
                "pharma" if "meds" in row[4] else "phishing" if "http" in row[4] else ""
            if tag:
                out.writerow([row[0], tag])
    manual = ErrorAnalysis(y, pred, texts=texts, ids=ids, sample_size=40, seed=1, tags=filled)
    auto = ErrorAnalysis(y, pred, texts=texts, ids=ids, sample_size=40, seed=1,
                         tags={k: TAGS[k] for k in ("pharma", "phishing")})
    assert manual.tag_table() == auto.tag_table()
    with filled.open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(["msg299", "pharma"])            # a correctly classified message
    with pytest.raises(LearnloopError, match=r"\['msg299'\] are not among the 40 sampled errors"):
        ErrorAnalysis(y, pred, texts=texts, ids=ids, sample_size=40, seed=1, tags=filled)


def test_confusion_matrix_and_per_class_error_match_scikit_learn(rng):
    from sklearn.metrics import confusion_matrix

    y = rng.integers(0, 4, 400)
    pred = np.where(rng.random(400) < 0.2, rng.integers(0, 4, 400), y)
    ea = ErrorAnalysis(y, pred)
    assert_array_equal(ea.confusion_matrix(), confusion_matrix(y, pred))
    for row in ea.per_class_error():
        mask = y == row.label
        assert row.n == mask.sum() and row.errors == np.sum(pred[mask] != row.label)
    assert ea.error_rate == pytest.approx(np.mean(y != pred))


def test_regression_takes_the_worst_residuals(rng):
    y = rng.normal(size=200)
    pred = y + rng.normal(scale=0.1, size=200)
    pred[[3, 50, 120]] += 5.0
    ea = ErrorAnalysis(y, pred, x=rng.normal(size=(200, 2)), worst_fraction=0.05,
                       tags={"first feature > 0": lambda row: row[0] > 0})
    assert ea.task == "regression" and len(ea.errors) == 10
    assert set(ea.errors[:3].tolist()) == {3, 50, 120}
    assert "worst" in str(ea) and ea.tag_table()[0].tag == "first feature > 0"
    with pytest.raises(LearnloopError, match="applies to classification"):
        ea.confusion_matrix()


def test_plot_misclassified_writes_a_png_grid(tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    pred = digits.target.copy()
    pred[::40] = (pred[::40] + 1) % 10
    ea = ErrorAnalysis(digits.target, pred, x=digits.data, images=digits.images)
    path = ea.plot_misclassified(tmp_path / "errors.png", n=12)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    assert ErrorAnalysis(digits.target, pred, x=digits.images).has_images          # x of rank 3 is pictures


@pytest.mark.parametrize("width", [9, 16, 64])
def test_square_rows_of_a_table_are_not_taken_for_pictures(tmp_path, rng, width):
    ea = ErrorAnalysis(rng.integers(0, 2, 50), rng.integers(0, 2, 50), x=rng.normal(size=(50, width)))
    assert not ea.has_images
    with pytest.raises(LearnloopError, match="plot_misclassified\\(\\) needs pictures: pass images="):
        ea.plot_misclassified(tmp_path / "no.png")


def _table_case(rng, n=600):
    """A table where the errors gather in color 'red' and at high ages."""
    color = rng.choice(["red", "green", "blue"], size=n)
    age = rng.integers(18, 80, size=n).astype(float)
    age[:12] = np.nan
    city = np.array([f"c{i}" for i in rng.integers(0, 200, size=n)], dtype=object)     # too rare to slice
    wrong = rng.random(n) < np.where(color == "red", 0.4, 0.1) + (age > 65) * 0.2
    y = rng.integers(0, 2, size=n)
    pred = np.where(wrong, 1 - y, y)
    return {"color": color, "age": age, "city": city}, y, pred


def test_slices_rank_column_values_by_their_error_gap(rng):
    from learnloop.diagnostics.error_slices import error_slices

    rows, y, pred = _table_case(rng)
    ea = ErrorAnalysis(y, pred, rows=rows, class_names=["no", "yes"])
    slices = ea.slices()
    assert (slices[0].column, slices[0].value) == ("color", "red") and slices[0].beyond_noise
    tiers = [0 if s.beyond_noise and s.gap > 0 else 2 if s.beyond_noise else 1 for s in slices]
    assert tiers == sorted(tiers)                      # errors gather here / within noise / fewer errors here
    for tier in set(tiers):
        gaps = [s.gap for s, t in zip(slices, tiers) if t == tier]
        assert gaps == sorted(gaps, reverse=True)
    wrong = y != pred
    red = rows["color"] == "red"
    assert slices[0].n == red.sum() and slices[0].rate == pytest.approx(wrong[red].mean())
    assert slices[0].gap == pytest.approx(wrong[red].mean() - wrong.mean())
    ages = {s.value: s for s in slices if s.column == "age"}
    assert "(missing)" in ages and ages["(missing)"].n == 12
    assert sum(s.n for s in ages.values()) == 600 and len(ages) == 5                   # 4 quartile bins + missing
    assert not [s for s in slices if s.column == "city"]      # every city under 10 rows: one pooled slice, no gap
    assert error_slices(rows, wrong.astype(float), kinds={"color": "skip", "age": "skip"}) == []
    # the gap's interval is the interval of (slice - rest) scaled by the share of the other rows
    lo, hi = slices[0].interval
    assert lo < slices[0].gap < hi and lo > 0


def test_error_rows_and_the_json_carry_the_raw_values_and_original_labels(rng, tmp_path):
    rows, y, pred = _table_case(rng)
    ea = ErrorAnalysis(y, pred, rows=rows, class_names=["no", "yes"], ids=list(range(100, 700)), sample_size=30)
    first = ea.error_rows(5)[0]
    i = int(ea.sample[0])
    assert first == {"id": 100 + i, "true": ["no", "yes"][y[i]], "predicted": ["no", "yes"][pred[i]],
                     "color": rows["color"][i], "age": None if np.isnan(rows["age"][i]) else rows["age"][i],
                     "city": rows["city"][i]}
    doc = ea.to_dict()
    assert len(doc["error_rows"]) == 20 and doc["slices"][0]["value"] == "red" and doc["slice_measure"] == "error rate"
    assert "error rate by column value (largest gaps first)" in str(ea) and "color = red" in str(ea)
    header = (ea.write_tag_template(tmp_path / "t.csv")).read_text().splitlines()[0]
    assert header == "id,tag,true,predicted,color,age,city"


def test_regression_rows_come_largest_error_first_and_slices_use_the_mean_absolute_error(rng):
    n = 400
    color = rng.choice(["red", "blue"], size=n)
    y = rng.normal(size=n)
    pred = y + rng.normal(scale=np.where(color == "red", 2.0, 0.2))
    ea = ErrorAnalysis(y, pred, task="regression", rows={"color": color})
    top = ea.error_rows(3)
    assert [abs(r["error"]) for r in top] == sorted((abs(r["error"]) for r in top), reverse=True)
    assert abs(top[0]["error"]) == pytest.approx(np.abs(pred - y).max())
    first = ea.slices()[0]
    assert (first.column, first.value) == ("color", "red")
    assert first.rate == pytest.approx(np.abs(pred - y)[color == "red"].mean()) and first.beyond_noise
    assert ea.to_dict()["slice_measure"] == "mean |error|"


def test_predicted_labels_reads_probabilities_logits_and_scores():
    assert_array_equal(predicted_labels(np.array([[0.2], [0.7]])), [0, 1])
    assert_array_equal(predicted_labels(np.array([-0.3, 0.4, 2.0])), [0, 1, 1])            # outside [0, 1]: logits
    assert_array_equal(predicted_labels(np.array([0.3, 0.6]), from_logits=True), [1, 1])
    assert_array_equal(predicted_labels(np.array([[0.1, 0.7, 0.2], [3.0, 0.0, 1.0]])), [1, 0])
    assert_array_equal(predicted_labels(np.array(["ham", "spam"])), ["ham", "spam"])


def test_from_model_accepts_a_scikit_learn_estimator():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import RidgeClassifier

    digits = load_digits()
    model = RidgeClassifier().fit(digits.data[:1000], digits.target[:1000])
    ea = ErrorAnalysis.from_model(model, digits.data[1000:], digits.target[1000:], sample_size=20)
    assert len(ea.errors) == np.sum(model.predict(digits.data[1000:]) != digits.target[1000:])
    assert len(ea.sample) == 20


def test_bad_input_is_reported():
    with pytest.raises(LearnloopError, match="got 3 true values and 2 predictions"):
        ErrorAnalysis([0, 1, 1], [0, 1])
    with pytest.raises(LearnloopError, match="texts has 1 entries but y_true has 2"):
        ErrorAnalysis([0, 1], [1, 1], texts=["a"])
    with pytest.raises(LearnloopError, match="Tag 'boom' failed on example 0: ZeroDivisionError"):
        ErrorAnalysis([0, 1], [1, 1], texts=["a", "b"], tags={"boom": lambda t: 1 / 0})
    with pytest.raises(LearnloopError, match="not found; expected a CSV"):
        ErrorAnalysis([0, 1], [1, 1], tags="/nonexistent/tags.csv")


# ---- real data: a spam classifier on the SMS Spam Collection --------------------------------------------------
def test_spam_classifier_reaches_97_percent_and_its_errors_are_tagged(shared_data):
    from sklearn.feature_extraction.text import CountVectorizer

    import learnloop
    from learnloop import Input, Sequential
    from learnloop.data import train_cv_test_split
    from learnloop.layers import Dense
    from learnloop.losses import BinaryCrossentropy

    path = shared_data / "spam" / "SMSSpamCollection"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    labels, texts = zip(*(line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines()))
    texts, y = np.array(texts, dtype=object), (np.array(labels) == "spam").astype(np.int64)
    assert len(y) == 5574 and y.sum() == 747
    splits = train_cv_test_split(np.arange(len(y))[:, None], y, stratify=True, seed=0)
    train, cv, test = splits.train.indices, splits.cv.indices, splits.test.indices
    vectorizer = CountVectorizer(binary=True, max_features=1000)               # word presence, as in the notes
    x_train = vectorizer.fit_transform(texts[train]).toarray().astype(np.float32)
    x_cv, x_test = (vectorizer.transform(texts[i]).toarray().astype(np.float32) for i in (cv, test))

    learnloop.set_seed(0)
    model = Sequential([Input((x_train.shape[1],)), Dense(16, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss=BinaryCrossentropy(from_logits=True))
    model.fit(x_train, y[train], epochs=10, batch_size=128, verbose=0)
    assert np.mean((model.predict(x_test)[:, 0] > 0) == y[test]) >= 0.97

    tags = {"URL": lambda s: bool(re.search(r"https?://|www\.|\.(com|net|co\.uk)\b", s, re.I)),
            "money": lambda s: bool(re.search(r"[£$€]\s?\d|\b\d+\s?p\b|\bpounds?\b|\bcash\b", s, re.I)),
            "phone or shortcode": lambda s: bool(re.search(r"\b0\d{9,10}\b|\b\d{5}\b", s)),
            "letters+digits": lambda s: bool(re.search(r"\b(?=\w*\d)(?=\w*[a-z])\w+\b", s, re.I))}
    ea = ErrorAnalysis.from_model(model, x_cv, y[cv], texts=list(texts[cv]), tags=tags, ids=cv.tolist(),
                                  class_names=["ham", "spam"])
    predicted = (model.predict(x_cv)[:, 0] > 0).astype(int)                   # logits: the loss says so
    assert_array_equal(ea.errors, np.flatnonzero(predicted != y[cv]))
    table = ea.tag_table()
    assert [r.count for r in table] == sorted((r.count for r in table), reverse=True)
    for row in table:                                                         # counts are what the predicates say
        assert row.count == sum(tags[row.tag](texts[cv][i]) for i in ea.sample)
    # Missed spam dominates the errors and most of it carries money amounts or numbers to call.
    missed_spam = [i for i in ea.sample if y[cv][i] == 1]
    assert len(missed_spam) > len(ea.sample) / 2
    assert table[0].count >= 0.3 * len(ea.sample)
    first = ea.misclassified_texts(1)[0]
    assert first[0] in cv and first[3] == texts[first[0]]
