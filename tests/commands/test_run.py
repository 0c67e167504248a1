"""``learnloop run``: the loop end to end, its report files, and the page as a browser shows it."""

import json
import re
import shutil
import subprocess
from html import escape

import numpy as np
import pytest

import learnloop
from learnloop.cli import main

pytest.importorskip("matplotlib")

REPORT_KEYS = {"dataset", "task", "split_sizes", "baseline_error", "selected", "j_train", "j_cv", "j_test",
               "verdict", "advice", "learning_curve", "validation_curve", "model_path", "seconds", "findings",
               "intervals"}


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["run", "--quick", "--out", str(out)]) == 0
    return out


def test_run_writes_report_plots_and_model(digits_run, capsys):
    report = json.loads((digits_run / "report.json").read_text())
    assert REPORT_KEYS <= set(report)
    assert report["dataset"] == "digits" and report["task"] == "classification"
    assert report["split_sizes"] == {"train": 1078, "cv": 359, "test": 360}
    assert report["verdict"] in {"high bias", "high variance", "high bias and high variance", "good fit", "can't tell"}
    assert report["j_test"] < 0.1 and report["advice"] and all(isinstance(a, str) for a in report["advice"])
    assert set(report["intervals"]) == {"j_train", "j_cv", "j_test", "baseline", "bias_gap", "variance_gap"}
    assert all(low <= high for low, high in report["intervals"].values())
    assert report["intervals"]["j_cv"][0] <= report["j_cv"] <= report["intervals"]["j_cv"][1]
    from learnloop.diagnostics.findings import CODES

    codes = [f["code"] for f in report["findings"]]
    assert codes and all(code in CODES for code in codes)
    assert {"code", "title", "evidence", "actions"} <= set(report["findings"][0])
    for name in ("architecture.png", "lambda.png", "learning_curve.png"):
        assert (digits_run / name).stat().st_size > 5000
    model = learnloop.load_model(report["model_path"])
    assert model.metadata["classes"] == list(range(10)) and "reference_statistics" in model.metadata
    html = (digits_run / "report.html").read_text()
    assert escape(report["verdict"]) in html and html.count("data:image/png;base64,") >= 3
    assert html.index(codes[0]) < html.index("<h2>Plots</h2>")            # the findings come first
    assert "How the intervals were computed" in html


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


CHECK = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  const verdict = document.getElementById("verdict");
  const shown = verdict && verdict.offsetHeight > 0 ? verdict.innerText.split("\\n")[0] : "";
  document.body.setAttribute("data-check", `images=${imgs.length};loaded=${ok};verdict=${shown}`);
});
</script></body>"""


def test_report_page_in_headless_chromium(digits_run, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium not found (Debian package 'chromium'; .ci/run installs it when it can)")
    page = tmp_path / "page.html"
    page.write_text((digits_run / "report.html").read_text().replace("</body>", CHECK))
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'data-check="images=(\d+);loaded=(\d+);verdict=([^"]*)"', dom)
    assert found, f"the page did not report its check; Chromium printed: {dom[:300]!r}"
    images, loaded, verdict = int(found[1]), int(found[2]), found[3]
    expected = json.loads((digits_run / "report.json").read_text())["verdict"]
    assert images >= 3 and loaded == images
    assert verdict == expected


def test_run_on_a_csv_with_missing_values_and_a_group(tmp_path, rng):
    n = 300
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    group = np.where(rng.random(n) < 0.5, "a", "b")
    label = (x1 + 0.5 * x2 + (group == "a") * 0.3 + rng.normal(scale=0.5, size=n) > 0).astype(int)
    lines = ["x1,x2,color,group,label"]
    for i in range(n):
        v1 = "" if i % 10 == 5 else f"{x1[i]:.4f}"
        lines.append(f"{v1},{x2[i]:.4f},{'red' if i % 3 else 'blue'},{group[i]},{label[i]}")
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert main(["run", "--data", str(path), "--target", "label", "--quick", "--out", str(out)]) == 2   # missing
    assert main(["run", "--data", str(path), "--target", "label", "--group", "group", "--missing", "impute",
                 "--quick", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["task"] == "classification" and "fairness" in report
    assert {"LL-FAIRNESS-GAP", "LL-FAIRNESS-NOISE"} & {f["code"] for f in report["findings"]}   # gaps with intervals
    assert any("imputed" in note for note in report["notes"])
    assert [c["kind"] for c in report["columns"]] == ["numeric", "numeric", "categorical"]
    model = learnloop.load_model(out / "model.zip")
    assert model.metadata["feature_columns"] == ["color", "x1", "x2"]
    assert model.metadata["columns"] == ["x1", "x2", "color", "group", "label"]
    assert "x1_missing" in model.metadata["feature_names"]
    rows = [{"x1": 0.5, "x2": -1.0, "color": "red"}, {"x1": None, "x2": 1.0, "color": "green"}]
    assert model.predict(rows).shape == (2, 1)       # raw rows in: a missing number and an unseen color


def test_wrong_target_lists_the_columns(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,0\n2,1\n")
    assert main(["run", "--data", str(path), "--target", "z", "--out", str(tmp_path)]) == 2
    assert "the columns are ['a', 'b']" in capsys.readouterr().err


def test_cli_errors_name_flags_not_python_arguments(tmp_path, capsys):
    path = tmp_path / "gaps.data"
    path.write_text("".join(f"{'' if i % 4 == 0 else i * 0.5},{'ab'[i % 2]},{i % 2}\n" for i in range(40)))
    assert main(["run", "--data", str(path), "--quick", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--missing drop" in err and "--missing impute" in err and "missing='" not in err
    assert main(["run", "--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "it is a folder" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--jobs", "0"], "argument --jobs: expected a positive number of processes, or -1"),
    (["--baseline", "-1"], "argument --baseline: expected an error level >= 0"),
    (["--seed", "-3"], "argument --seed: expected a whole number >= 0"),
    (["--encoding", "klingon"], "argument --encoding: unknown encoding 'klingon'"),
])
def test_bad_arguments_stop_before_any_work(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", *args])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_class_too_rare_to_split_is_said_in_the_cli_words(tmp_path, capsys):
    rows = "".join(f"{i * 0.37:.2f},{'rare' if i == 0 else 'ab'[i % 2]}\n" for i in range(60))
    path = tmp_path / "d.csv"
    path.write_text("x,label\n" + rows)
    assert main(["run", "--data", str(path), "--quick", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "'rare' (1)" in err and "stratify" not in err
