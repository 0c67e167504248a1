"""Runs one page's code blocks in order, in one process, as a reader would.

    python driver.py BLOCKS.json RESULT.json


Python blocks share one namespace (like notebook cells); shell blocks run line by line with bash in the same folder.
After each block the figures it drew (matplotlib) or the image files it wrote are saved. A ``learnloop serve`` line
runs in the background on a free port (the port the page wrote is replaced in this and every later block) and is
stopped when the page ends. The first failing block stops the page; its traceback or output is the result's
``error``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.request
from pathlib import Path

IMAGES = (".png", ".svg", ".jpg", ".jpeg", ".gif")
TIMEOUT = 600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _images(folder: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime for p in folder.rglob("*") if p.suffix.lower() in IMAGES and p.is_file()}


class Page:
    def __init__(self, out: Path):
        self.out = out
        self.namespace: dict = {"__name__": "__main__"}
        self.ports: dict[str, str] = {}
        self.servers: list[subprocess.Popen] = []
        self.figure = 0

    # ---- ports: the page's port -> the free one this run uses ---------------------------------------------------
    def substitute(self, code: str) -> str:
        for theirs, ours in self.ports.items():
            code = re.sub(rf"(localhost|127\.0\.0\.1):{theirs}\b", rf"\g<1>:{ours}", code)
        return code

    # ---- figures ---------------------------------------------------------------------------------------------------
    def _save_figures(self, before: dict[Path, float]) -> list[str]:
        saved = []
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            for number in plt.get_fignums():
                self.figure += 1
                path = self.out / f"figure-{self.figure}.png"
                plt.figure(number).savefig(path, dpi=96, bbox_inches="tight")
                saved.append(str(path))
            plt.close("all")
        for path, mtime in sorted(_images(Path.cwd()).items()):
            if before.get(path) != mtime:
                self.figure += 1
                target = self.out / f"figure-{self.figure}{path.suffix.lower()}"
                target.write_bytes(path.read_bytes())
                saved.append(str(target))
        return saved

    # ---- blocks ------------------------------------------------------------------------------------------------
    def python(self, code: str, label: str) -> tuple[str, str | None]:
        buffer = io.StringIO()
        error = None
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            try:
                exec(compile(code, label, "exec"), self.namespace)      # noqa: S102 - the page's own code
            except BaseException:                                          # noqa: BLE001 - reported, page stops
                error = traceback.format_exc()
        return buffer.getvalue(), error

    def _serve(self, words: list[str]) -> tuple[str, str | None]:
        port = _free_port()
        if "--port" in words:
            i = words.index("--port") + 1
            self.ports[words[i]] = str(port)
            words[i] = str(port)
        else:
            self.ports["8000"] = str(port)
            words += ["--port", str(port)]
        log = Path.cwd() / f".serve-{port}.log"
        with log.open("wb") as sink:
            server = subprocess.Popen(words, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        self.servers.append(server)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                return log.read_text(), f"{shlex.join(words)} exited with {server.returncode}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            return log.read_text(), "the server did not answer /healthz within 60 s"
        time.sleep(0.3)
        return log.read_text(), None

    def shell(self, code: str) -> tuple[str, str | None]:
        commands = [c for c in re.sub(r"\\\n", " ", code).splitlines() if c.strip() and not c.lstrip().startswith("#")]
        shown = []
        for command in commands:
            command = self.substitute(command)
            if len(commands) > 1:
                shown.append(f"$ {command.split(' #')[0].strip()}")
            words = shlex.split(command, comments=True)
            if words[:2] == ["learnloop", "serve"]:
                output, error = self._serve(words)
                shown.append(output.rstrip() + "\n(the server keeps running in the background)")
            else:
                proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
                output = proc.stdout
                error = None if proc.returncode == 0 else f"`{command}` exited with {proc.returncode}"
                shown.append(output.rstrip())
            if error:
                return "\n".join(s for s in shown if s), error
        return "\n".join(s for s in shown if s), None

    def stop(self) -> None:
        for server in self.servers:
            if server.poll() is None:
                server.send_signal(signal.SIGINT)
                try:
                    server.wait(15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def main(blocks_path: str, result_path: str) -> int:
    spec = json.loads(Path(blocks_path).read_text(encoding="utf-8"))
    out = Path(spec["figures"])
    out.mkdir(parents=True, exist_ok=True)
    page = Page(out)
    results = []
    try:
        for block in spec["blocks"]:
            before = _images(Path.cwd())
            code = page.substitute(block["code"])
            if block["lang"] == "python":
                output, error = page.python(code, f"<{spec['page']}, block at line {block['line']}>")
            else:
                output, error = page.shell(code)
            results.append({"output": output, "figures": page._save_figures(before), "error": error})
            Path(result_path).write_text(json.dumps(results), encoding="utf-8")
            if error:
                break
    finally:
        page.stop()
        Path(result_path).write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.exit(main(*sys.argv[1:3]))
