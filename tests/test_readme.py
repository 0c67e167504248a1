"""Every command in README.md's code blocks runs as written, in README order, in one temporary working directory.

The ``learnloop run`` lines on other data than the bundled digits run in a folder of their own: as written they all
write to the default ``learnloop-report/``, and the errors and serve lines expect the digits model there. The files a
command names are made first: ``my.csv`` (a small table with a ``price`` column), ``adult.csv`` (UCI
Adult with its header, from ../shared/data: skipped when absent), ``cv.npz`` (the bundled digits' cv split, as
``learnloop run`` splits them), ``model.zip`` and ``test.csv`` (a table model with the columns ``y`` and ``sex``, and
rows it has not seen). ``learnloop serve`` runs in a subprocess on a free port, is checked with /healthz and a
predict, then stopped. ``pip install`` lines are checked against pyproject's extras; the test-suite command is not
run from inside the test suite, nor is the documentation build (tests/docs/test_site_builds.py runs it). A block
marked ``<!-- not run: REASON -->`` on the line above its fence is not run; every other block is shell or Python.
Python blocks run in a fresh interpreter, after a prelude that defines the data
names they use (``x_train``, ``splits``' inputs, ``build``...).
"""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHARED_DATA = ROOT.parent / "shared" / "data"
ADULT_ROWS = 4000           # the first rows of adult.data: the README's full (not --quick) run stays short
ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
                 "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
                 "income"]

pytestmark = pytest.mark.slow


# ---- the README's blocks ---------------------------------------------------------------------------------------
SHELL = ("bash", "sh", "shell", "console")
PYTHON = ("python", "py")
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.*?)\s*-->[ \t]*\n$")


def fenced_blocks(text: str) -> list[tuple[str, str, str | None]]:
    """(language, code, reason) of each fenced block; reason is given by ``<!-- not run: REASON -->`` on the line
    right above the fence, else None."""
    out = []
    for m in re.finditer(r"^```([^\n]*)\n(.*?)^```", text, re.M | re.S):
        before = text[:m.start()].rsplit("\n", 2)
        mark = NOT_RUN.search(before[-2] + "\n") if len(before) >= 2 else None
        out.append((m[1].strip().lower(), m[2], mark[1] if mark else None))
    return out


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of each block this test runs: the shell and Python blocks not marked as not run."""
    return [(lang, code) for lang, code, reason in fenced_blocks(text) if reason is None]


def shell_commands(text: str) -> list[list[str]]:
    """Each command of the shell blocks as its words: comments dropped, ``a && b`` split into two commands."""
    out: list[list[str]] = []
    for lang, code in code_blocks(text):
        if lang not in SHELL:
            continue
        for line in code.splitlines():
            words = shlex.split(line, comments=True)
            command: list[str] = []
            for word in [*words, "&&"]:
                if word == "&&":
                    if command:
                        out.append(command)
                    command = []
                else:
                    command.append(word)
    return out


def python_blocks(text: str) -> list[str]:
    return [code for lang, code in code_blocks(text) if lang in PYTHON]


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _steps() -> list:
    seen, steps = set(), []
    for words in shell_commands(_readme()):
        key = shlex.join(words)
        if key not in seen:                       # `learnloop run` appears twice: it runs once
            seen.add(key)
            steps.append(pytest.param(words, id=key[:70]))
    return steps


# ---- the files the commands name -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("readme")


def _learnloop() -> list[str]:
    script = Path(sys.executable).with_name("learnloop")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "learnloop.cli"]


def _run(args: list[str], cwd: Path, timeout: float = 1200) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{shlex.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n" \
                                 f"{proc.stderr[-3000:]}"
    return proc


def _write_table(columns: dict, path: Path) -> Path:
    from learnloop.data.tables import write_table

    return write_table(columns, path)


def _people(n: int, seed: int) -> dict:
    """A table with a 0/1 target ``y`` and a ``sex`` column, for the audit, serve and export lines."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 70, size=n)
    hours = rng.normal(40, 8, size=n).round(1)
    job = rng.choice(["clerk", "driver", "nurse", "teacher"], size=n)
    sex = rng.choice(["female", "male"], size=n)
    score = 0.05 * (age - 40) + 0.08 * (hours - 40) + (job == "nurse") + rng.normal(scale=0.8, size=n)
    return {"age": age, "hours": hours, "job": job, "sex": sex, "y": (score > 0).astype(int)}


def _my_csv(path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 300
    rooms = rng.integers(1, 6, size=n)
    area = rng.normal(80, 25, size=n).round(1)
    town = rng.choice(["north", "south", "east"], size=n)
    price = (2.0 * area + 15 * rooms + np.where(town == "north", 40, 0) + rng.normal(scale=10, size=n)).round(1)
    _write_table({"area": area, "rooms": rooms, "town": town, "price": price}, path)


def _adult_csv(path: Path) -> None:
    source = SHARED_DATA / "fairness" / "adult.data"
    if not source.is_file():
        pytest.skip(f"adult.csv is made from UCI Adult, which is not at {source}")
    lines = source.read_text().splitlines()[:ADULT_ROWS]
    path.write_text(",".join(ADULT_COLUMNS) + "\n" + "\n".join(lines) + "\n")


def _cv_npz(path: Path) -> None:
    from sklearn.datasets import load_digits

    from learnloop.data import train_cv_test_split
    from learnloop.diagnostics.loop import SPLIT_SIZES

    digits = load_digits()
    split = train_cv_test_split(np.arange(len(digits.target)), digits.target, sizes=SPLIT_SIZES, stratify=True,
                                seed=0)
    cv = split.cv.indices
    np.savez(path, x=digits.data[cv], y=digits.target[cv], images=digits.images[cv])


def _digits_report(workdir: Path) -> None:
    """learnloop-report/model.zip, when the README's `learnloop run` has not run first (a test picked alone)."""
    _run([*_learnloop(), "run", "--quick"], workdir)


def _model_zip(workdir: Path) -> None:
    made = workdir / "_people"
    made.mkdir(exist_ok=True)
    _write_table(_people(400, seed=1), made / "people.csv")
    _run([*_learnloop(), "run", "--data", str(made / "people.csv"), "--target", "y", "--group", "sex", "--quick",
          "--out", str(made / "report")], workdir)
    shutil.copy(made / "report" / "model.zip", workdir / "model.zip")


MAKERS = {"my.csv": _my_csv, "adult.csv": _adult_csv, "cv.npz": _cv_npz,
          "test.csv": lambda path: _write_table(_people(300, seed=2), path)}


def _ensure_inputs(words: list[str], workdir: Path) -> None:
    """Make each file the command reads (its --data/--db and model arguments) when it is not there yet."""
    for word in words:
        path = workdir / word
        if path.exists():
            continue
        if word in MAKERS:
            MAKERS[word](path)
        elif word == "learnloop-report/model.zip":
            _digits_report(workdir)
        elif word == "model.zip":
            _model_zip(workdir)


# ---- serving ---------------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _instance(model_path: Path):
    import learnloop

    model = learnloop.load_model(model_path)
    if model.feature_space is not None:
        return {"age": 37, "hours": 45.0, "job": "nurse"}
    return [0.0] * int(np.prod(model.input_shape[1:]))


@contextlib.contextmanager
def _server(words: list[str], workdir: Path):
    """``learnloop serve ...`` as written, on a free port instead of the README's; yields its base URL."""
    import httpx

    port = _free_port()
    args = list(words[1:])
    if "--port" in args:
        args[args.index("--port") + 1] = str(port)          # the README's port may be taken on this machine
    else:
        args += ["--port", str(port)]
    out = workdir / f"serve-{port}.out"
    with out.open("wb") as log:
        proc = subprocess.Popen([*_learnloop(), *args], cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"{shlex.join(words)} exited {proc.returncode}: {out.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not answer /healthz within 60 s"
                time.sleep(0.2)
            yield base
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _serve(words: list[str], workdir: Path) -> None:
    import httpx

    with _server(words, workdir) as base:
        name = Path(words[2]).stem
        r = httpx.post(f"{base}/v1/models/{name}:predict", json={"instances": [_instance(workdir / words[2])]},
                       timeout=30)
        assert r.status_code == 200, r.text
        assert len(r.json()["predictions"]) == 1


def _table_models(workdir: Path) -> list[Path]:
    return sorted(p for p in workdir.glob("**/model.zip") if "_people" not in p.parts)


def _complete(instance: dict, model_path: Path) -> dict:
    """A README instance whose "..." stands for the other fields, completed from a row of the training table."""
    from learnloop.data.tables import read_table

    table = next(model_path.parent.parent.glob("*.csv"), None)
    if table is None:
        pytest.skip(f"no training table beside {model_path} to complete the README's '...'")
    columns = read_table(table).columns
    row = {k: (v[0].item() if isinstance(v[0], np.generic) else v[0]) for k, v in columns.items()}
    return {**row, **instance}


def _curl(words: list[str], workdir: Path) -> None:
    """``curl URL -d BODY`` against ``learnloop serve`` of the model whose raw fields the body names."""
    import json

    import learnloop

    url = next(w for w in words[1:] if "localhost" in w or w.startswith("http"))
    body = words[words.index("-d") + 1]
    elided = re.search(r",\s*\.\.\.\s*}", body) is not None
    instances = json.loads(re.sub(r",\s*\.\.\.\s*}", "}", body))["instances"]
    fields = set().union(*(i.keys() for i in instances))
    name = re.search(r"/v1/models/([^:/]+):predict", url)[1]
    for model_path in _table_models(workdir):
        model = learnloop.load_model(model_path)
        if model.feature_space is not None and fields <= set(model.metadata.get("columns") or []):
            break
    else:
        pytest.skip(f"no model made by the commands above reads the fields {sorted(fields)} (is UCI Adult absent?)")
    if elided:
        instances = [_complete(i, model_path) for i in instances]
    with _server(["learnloop", "serve", str(model_path), "--name", name, "--log-db", "curl.sqlite"], workdir) as base:
        sent = re.sub(r"^(https?://)?localhost:\d+", base, url)
        payload = json.dumps({"instances": instances})
        if shutil.which("curl"):
            proc = subprocess.run(["curl", *[sent if w == url else payload if w == body else w for w in words[1:]]],
                                  capture_output=True, text=True, timeout=60)
            assert proc.returncode == 0, proc.stderr
            answer = proc.stdout
        else:                                               # what curl sends: -H headers, else a form content type
            import httpx

            headers = {"content-type": "application/x-www-form-urlencoded"}
            for flag, header in zip(words, words[1:]):
                if flag == "-H":
                    name, _, value = header.partition(":")
                    headers[name.strip().lower()] = value.strip()
            answer = httpx.post(sent, content=payload, timeout=30, headers=headers).text
    doc = json.loads(answer)
    assert "predictions" in doc, answer
    prediction = doc["predictions"][0]
    classes = model.metadata.get("classes")
    assert not classes or prediction["label"] in classes


# ---- the checks ------------------------------------------------------------------------------------------------
def _extras() -> dict[str, list[str]]:
    """pyproject.toml's optional dependencies (tomllib is Python 3.11+; tomli before)."""
    try:
        import tomllib
    except ImportError:                                     # Python 3.10
        tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml needs Python 3.11 or tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def _check_pip(words: list[str]) -> None:
    """``pip install [-e] ".[a,b]"``: the extras named exist in pyproject.toml (installing is not the test's job)."""
    extras = _extras()
    targets = [w for w in words[2:] if not w.startswith("-")]
    assert targets, f"{shlex.join(words)} installs nothing"
    for target in targets:
        found = re.fullmatch(r"\.(?:\[([\w,\s-]+)\])?", target)
        assert found, f"{shlex.join(words)}: expected the project itself ('.' or '.[extra]'), got {target!r}"
        for extra in (found[1] or "").split(","):
            assert not extra.strip() or extra.strip() in extras, f"no extra {extra!r}; pyproject has {list(extras)}"


def _check_pytest(words: list[str]) -> None:
    """The test-suite command is this suite: it is checked, not run from inside itself."""
    assert words[:3] == ["python", "-m", "pytest"]
    assert "-W" in words and words[words.index("-W") + 1] == "error"
    extras = _extras()
    assert any(req.startswith("pytest") for req in extras["test"])


def _check_docs_build(words: list[str]) -> None:
    """``python docs/build.py ...``: tests/docs/test_site_builds.py builds the site (once a session); here the
    command's options are checked against the script's own parser."""
    assert words[1] == "docs/build.py" and (ROOT / "docs" / "build.py").is_file()
    assert (ROOT / "tests" / "docs" / "test_site_builds.py").is_file()
    proc = _run([sys.executable, str(ROOT / "docs" / "build.py"), "--help"], ROOT, timeout=60)
    for option in (w for w in words[2:] if w.startswith("-")):
        assert re.search(rf"(^|[\s,]){re.escape(option)}\b", proc.stdout), f"docs/build.py has no option {option}"


def _check_outputs(words: list[str], workdir: Path, stdout: str) -> None:
    """What each kind of command must leave behind."""
    if words[1] == "run":
        out = workdir / (words[words.index("--out") + 1] if "--out" in words else "learnloop-report")
        for name in ("report.html", "report.json", "model.zip"):
            assert (out / name).is_file(), f"{shlex.join(words)} did not write {name}"
        if "--data" not in words:                                   # the bundled digits are pictures
            assert (out / "misclassified.png").is_file()
        if "--group" in words:
            assert "fairness audit by" in stdout
    elif words[1] == "errors":
        assert "misclassified" in stdout and (workdir / "errors" / "error_analysis.json").is_file()
    elif words[1] == "audit":
        assert "Fairness audit by" in stdout and "gate:" in stdout
    elif words[1] == "export":
        assert (workdir / words[words.index("-o") + 1]).stat().st_size > 0
    elif words[1:3] == ["logs", "stats"]:
        assert stdout.strip()


@pytest.mark.parametrize("words", _steps())
def test_readme_command(words, workdir):
    if words[:2] == ["pip", "install"]:
        _check_pip(words)
        return
    if words[:3] == ["python", "-m", "pytest"]:
        _check_pytest(words)
        return
    if words[0] == "curl":
        _curl(words, workdir)
        return
    if words[:2] == ["python", "docs/build.py"]:
        _check_docs_build(words)
        return
    assert words[0] == "learnloop", f"README command not covered by this test: {shlex.join(words)}"
    if words[1] == "run" and "--data" in words and "--out" not in words:
        # Every `learnloop run` line writes to the default learnloop-report/; the lines on other data run in a
        # folder of their own, so learnloop-report/model.zip stays the bundled digits' model that the errors and
        # serve lines (and cv.npz) are about.
        workdir = workdir / f"run-{Path(words[words.index('--data') + 1]).stem}"
        workdir.mkdir(exist_ok=True)
    _ensure_inputs(words, workdir)
    if words[1] == "serve":
        _serve(words, workdir)
        return
    if words[1:3] == ["logs", "stats"] and not (workdir / words[words.index("--db") + 1]).exists():
        _serve(["learnloop", "serve", "model.zip" if (workdir / "model.zip").exists() else
                "learnloop-report/model.zip"], workdir)
    proc = subprocess.run([*_learnloop(), *words[1:]], cwd=workdir, capture_output=True, text=True, timeout=1800)
    # The audit's gate may fail on purpose (exit 1, "FAIL: ..."); anything else is a broken command.
    ok = proc.returncode == 0 or (words[1] == "audit" and proc.returncode == 1 and "gate:" in proc.stdout)
    assert ok, f"{shlex.join(words)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    _check_outputs(words, workdir, proc.stdout)


PRELUDE = '''
import numpy as np
from sklearn.datasets import load_digits
from learnloop.data import train_cv_test_split

_digits = load_digits()
x, y = _digits.data / 16.0, _digits.target
_splits = train_cv_test_split(x, y, sizes=(0.6, 0.2, 0.2), stratify=True, seed=0)
x_train, y_train = _splits.train.x, _splits.train.y
x_cv, y_cv = _splits.cv.x, _splits.cv.y
x_test, y_test = _splits.test.x, _splits.test.y


def build(value):
    import learnloop
    from learnloop import Input, Sequential
    from learnloop.layers import Dense

    model = Sequential([Input((64,)), Dense(25, activation="relu", kernel_regularizer=learnloop.regularizers.l2(value)),
                        Dense(10)])
    model.compile(loss=learnloop.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
    return model

'''


@pytest.mark.parametrize("index", range(len(python_blocks(_readme()))))
def test_readme_python_block(index, workdir):
    code = python_blocks(_readme())[index]
    script = workdir / f"block_{index}.py"
    script.write_text(PRELUDE + code)
    _run([sys.executable, str(script)], workdir, timeout=600)


def test_the_readme_has_commands_and_python_blocks():
    text = _readme()
    assert len(shell_commands(text)) >= 10 and len(python_blocks(text)) >= 2
    assert shell_commands("```bash\na --x 1 && b  # c\n```\n") == [["a", "--x", "1"], ["b"]]


def test_every_readme_block_runs_here_or_says_why_not():
    for lang, code, reason in fenced_blocks(_readme()):
        where = f"the README block starting {code.splitlines()[0][:60]!r}"
        if reason is not None:
            assert reason.strip(), f"{where} is marked not run without a reason"
        else:
            assert lang in SHELL + PYTHON, f"{where} ({lang or 'no language'}) is neither run by this test nor " \
                                           "marked <!-- not run: REASON -->"


def test_a_marked_block_is_not_run():
    text = "```bash\nlearnloop run\n```\n<!-- not run: needs a cluster -->\n```bash\nlearnloop run --scheduler x\n```\n"
    assert [reason for _, _, reason in fenced_blocks(text)] == [None, "needs a cluster"]
    assert shell_commands(text) == [["learnloop", "run"]]
