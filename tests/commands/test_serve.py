"""``learnloop serve``: arguments and errors before the server starts (the running server is tested in
tests/serving/test_durability.py)."""

from __future__ import annotations

import pytest

from learnloop.cli import build_parser, main


def test_defaults():
    args = build_parser().parse_args(["serve", "m.llm"])
    assert (args.host, args.port, args.log_db, args.max_body_bytes, args.max_concurrency, args.synchronous) == (
        "127.0.0.1", 8000, "predictions.sqlite", 1 << 20, 128, "normal")


def test_a_missing_model_file_is_a_clear_error(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "missing.llm")]) == 2
    assert "No model file at" in capsys.readouterr().err


def test_limits_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "m.llm", "--max-concurrency", "0"])
    assert "expected a positive integer" in capsys.readouterr().err
    for flag, value in (("--log-max-age-days", "0"), ("--log-max-age-days", "inf"), ("--log-max-rows", "-3")):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["serve", "m.llm", flag, value])
        assert "expected a positive" in capsys.readouterr().err


def test_log_retention_flags():
    args = build_parser().parse_args(["serve", "m.llm", "--log-max-age-days", "30", "--log-max-rows", "1000000"])
    assert (args.log_max_age_days, args.log_max_rows) == (30.0, 1_000_000)
    assert build_parser().parse_args(["serve", "m.llm"]).log_max_age_days is None
