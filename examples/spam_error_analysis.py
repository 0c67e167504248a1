"""Spam filtering and error analysis on the SMS Spam Collection (the notes' spam example).

1. Bag-of-words features (scikit-learn's CountVectorizer): word presence (binary) vs word counts, chosen on the cv set.
2. A small network: Dense(16, relu) -> Dense(1) logits, trained with BinaryCrossentropy(from_logits=True).
3. Error analysis on the cv set: every misclassified message (a seeded sample of at most 100), tagged by
   predicates (URLs, money amounts, phone numbers and shortcodes, unusual spellings such as "2nite", shouting,
   prize words), counted, and written out for a person to read and tag by hand.

Run:  python examples/spam_error_analysis.py [--data ../shared/data/spam/SMSSpamCollection] [--out DIR] [--fast]

``--fast`` (or LEARNLOOP_FAST=1) keeps a 1,000-word vocabulary: a few seconds, for CI.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import _figures as figures
import numpy as np

import learnloop
from learnloop import Input, Sequential
from learnloop.data import train_cv_test_split
from learnloop.diagnostics import ErrorAnalysis
from learnloop.layers import Dense
from learnloop.losses import BinaryCrossentropy

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "spam" / "SMSSpamCollection"

# Categories of spam the notes suggest looking for, written as predicates on the message text.
TAGS = {
    "URL": lambda s: bool(re.search(r"https?://|www\.|\.(com|net|org|co\.uk)\b", s, re.I)),
    "money amount": lambda s: bool(re.search(r"[£$€]\s?\d|\b\d+\s?p\b|\bpounds?\b|\bcash\b", s, re.I)),
    "phone number or shortcode": lambda s: bool(re.search(r"\b0\d{9,10}\b|\b\d{5}\b", s)),
    "unusual spelling (letters+digits)": lambda s: bool(re.search(r"\b(?=\w*\d)(?=\w*[a-z])\w+\b", s, re.I)),
    "shouting (2+ words in capitals)": lambda s: len(re.findall(r"\b[A-Z]{3,}\b", s)) >= 2,
    "prize words (win, free, claim)": lambda s: bool(re.search(r"\b(win|won|winner|prize|free|claim|award)",
                                                               s, re.I)),
}


def load_sms_spam(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(texts (n,) object, labels (n,) 1 = spam) from the tab-separated ``label<TAB>text`` file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    labels, texts = zip(*(line.split("\t", 1) for line in lines if line))
    return np.array(texts, dtype=object), (np.array(labels) == "spam").astype(np.int64)


def train_spam_model(x_train: np.ndarray, y_train: np.ndarray, seed: int = 0, epochs: int = 10) -> Sequential:
    learnloop.set_seed(seed)
    model = Sequential([Input((x_train.shape[1],)), Dense(16, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss=BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=128, verbose=0)
    return model


def accuracy(model: Sequential, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((model.predict(x)[:, 0] > 0) == y))


def main(argv: list[str] | None = None) -> int:
    from sklearn.feature_extraction.text import CountVectorizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "learnloop_spam")
    parser.add_argument("--max-features", type=int, default=3000)
    parser.add_argument("--fast", action="store_true", default=os.environ.get("LEARNLOOP_FAST") == "1",
                        help="a 1,000-word vocabulary (a few seconds)")
    figures.add_argument(parser)
    args = parser.parse_args(argv)
    if args.fast:
        args.max_features = min(args.max_features, 1000)
    if not args.data.is_file():
        print(f"skipped: SMS Spam Collection not found at {args.data}")
        return 0

    texts, y = load_sms_spam(args.data)
    splits = train_cv_test_split(np.arange(len(y))[:, None], y, sizes=(0.6, 0.2, 0.2), stratify=True, seed=0)
    train, cv, test = splits.train.indices, splits.cv.indices, splits.test.indices
    print(f"{len(y)} messages, {y.mean():.1%} spam; train/cv/test = {splits.sizes}")

    best = None
    for binary in (True, False):
        vectorizer = CountVectorizer(binary=binary, max_features=args.max_features)
        x_train = vectorizer.fit_transform(texts[train]).toarray().astype(np.float32)
        x_cv = vectorizer.transform(texts[cv]).toarray().astype(np.float32)
        model = train_spam_model(x_train, y[train])
        acc_cv = accuracy(model, x_cv, y[cv])
        print(f"  features = word {'presence' if binary else 'counts'}: train {accuracy(model, x_train, y[train]):.4f}"
              f"  cv {acc_cv:.4f}")
        if best is None or acc_cv > best[0]:
            best = (acc_cv, binary, vectorizer, model, x_cv)
    _, binary, vectorizer, model, x_cv = best
    x_test = vectorizer.transform(texts[test]).toarray().astype(np.float32)
    test_accuracy = accuracy(model, x_test, y[test])
    print(f"chosen: word {'presence' if binary else 'counts'}; test accuracy {test_accuracy:.4f}")
    print(f"spam filter: the notes expect a simple bag-of-words network to get about 97-98% of messages right; "
          f"got {test_accuracy:.1%} on the test set")

    analysis = ErrorAnalysis.from_model(model, x_cv, y[cv], texts=list(texts[cv]), ids=cv.tolist(), tags=TAGS,
                                        class_names=["ham", "spam"], sample_size=100, seed=0)
    print()
    print(analysis)
    print("\nsome misclassified messages (id, true, predicted, text):")
    for row in analysis.misclassified_texts(8):
        print(f"  {row[0]:>5}  {row[1]:>4} -> {row[2]:<4}  {row[3][:100]}")
    template = analysis.write_tag_template(args.out / "spam_errors_to_tag.csv")
    print(f"\nthe sampled errors are in {template}: fill the 'tag' column by hand and pass the file as tags=.")
    if args.figures:
        save_figures(args.figures, analysis)
    return 0


def save_figures(folder: Path, analysis: ErrorAnalysis) -> None:
    """The cv confusion matrix (ErrorAnalysis draws it) and how many sampled errors carry each tag."""
    folder.mkdir(parents=True, exist_ok=True)
    analysis.plot_confusion_matrix(folder / "spam_confusion.png")
    plt = figures.pyplot()
    rows = analysis.tag_table()
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(rows) + 1))
    ax.barh([r.tag for r in rows], [r.count for r in rows], color="tab:orange")
    ax.invert_yaxis()
    ax.set_xlabel("sampled misclassified cv messages carrying the tag (a message can carry several)")
    ax.set_title("Error analysis: what the spam filter gets wrong")
    figures.save(fig, folder, "spam_error_tags")


if __name__ == "__main__":
    sys.exit(main())
