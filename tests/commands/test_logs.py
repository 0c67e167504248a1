"""``learnloop logs export|stats|prune`` on a prediction log."""

from __future__ import annotations

import csv
import io
import json

import pytest

from learnloop.cli import main
from learnloop.serving.predlog import PredictionLog


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "predictions.sqlite"
    log = PredictionLog(path)
    for i in range(4):
        log.write((f"id{i}", 1_700_000_000.0 + i, "digits", "abc", 1.0 + i, 1, json.dumps([[i, 0.5]]),
                   json.dumps([{"label": i % 2, "probabilities": [0.5, 0.5]}])))
    log.write(("id1", 0, "1", 1.0), kind="feedback")
    log.close()
    return path


def test_export_jsonl_and_csv(db, tmp_path, capsys):
    assert main(["logs", "export", "--db", str(db)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["request_id"] for r in rows] == ["id0", "id1", "id2", "id3"]
    assert rows[2]["inputs"] == [[2, 0.5]] and rows[2]["time"].startswith("2023-11-14T22:13:22")
    out = tmp_path / "log.csv"
    assert main(["logs", "export", "--db", str(db), "--format", "csv", "-o", str(out)]) == 0
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(table) == 4 and table[3]["model_version"] == "abc" and json.loads(table[3]["outputs"])[0]["label"] == 1


def test_stats_text_and_json(db, capsys):
    assert main(["logs", "stats", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "requests      4 (4 instances)" in text and "feedback      1 labelled, accuracy 1.0" in text
    assert main(["logs", "stats", "--db", str(db), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["predicted_labels"] == {"0": 2, "1": 2} and s["latency_ms"]["max"] == 4.0


def test_a_missing_log_is_a_clear_error(tmp_path, capsys):
    assert main(["logs", "stats", "--db", str(tmp_path / "nope.sqlite")]) == 2
    assert "No prediction log at" in capsys.readouterr().err


def test_prune_keeps_the_newest_rows_and_drops_orphaned_feedback(db, capsys):
    assert main(["logs", "prune", "--db", str(db), "--max-rows", "2"]) == 0
    assert "deleted 2 requests; 2 remain" in capsys.readouterr().out
    assert main(["logs", "export", "--db", str(db)]) == 0
    assert [json.loads(line)["request_id"] for line in capsys.readouterr().out.splitlines()] == ["id2", "id3"]
    assert main(["logs", "stats", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["feedback"]["labelled"] == 0       # id1's label went with it
    assert main(["logs", "prune", "--db", str(db), "--max-age-days", "1"]) == 0  # rows from 2023: all old
    assert "deleted 2 requests; 0 remain" in capsys.readouterr().out


def test_prune_needs_a_bound_and_positive_values(db, capsys):
    assert main(["logs", "prune", "--db", str(db)]) == 2
    assert "needs --max-age-days, --max-rows and/or --max-bytes" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["logs", "prune", "--db", str(db), "--max-rows", "many"])
    assert "expected a positive integer; got many" in capsys.readouterr().err

