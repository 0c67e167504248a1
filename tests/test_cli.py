import subprocess
import sys

from learnloop.cli import main

HEAVY = ("fastapi", "uvicorn", "matplotlib", "onnx", "onnxruntime", "sklearn", "scipy", "dask", "tqdm")


def _imported_after(code: str) -> list[str]:
    probe = f"import sys; {code}; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return eval(out.strip().splitlines()[-1])


def test_import_learnloop_stays_light():
    assert _imported_after("import learnloop") == []


def test_the_command_line_builds_without_optional_dependencies():
    assert _imported_after("import learnloop.cli as c; c.build_parser()") == []


def test_help_lists_every_command(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    text = capsys.readouterr().out
    for command in ("run", "errors", "serve", "logs", "audit", "export"):
        assert command in text


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
