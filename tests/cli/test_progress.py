"""``extract``, ``ingest`` and ``reprocess`` draw a progress bar (count, rate, time left) on a
terminal and nothing when piped; ``extract`` follows SKILLSIGNAL_USE_EMBEDDINGS like every other
command (issue 13, item 5). The commands run as real processes, on a pseudo-terminal or a pipe."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from skillsignal.progress import progress_bar, wants_progress

N = 12
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _postings_file(path: Path) -> Path:
    lines = [
        json.dumps(
            {"id": f"p-{i}", "source": "t", "title": "数据分析师", "description": f"熟练使用SQL与Python，第{i}条。"},
            ensure_ascii=False,
        )
        for i in range(N)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SKILLSIGNAL_DATA_DIR": str(tmp_path / "data"),
            "SKILLSIGNAL_USE_EMBEDDINGS": "false",
            "COLUMNS": "160",
            "TERM": "xterm",
            **extra,
        }
    )
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "skillsignal.cli", *args]


def run_on_terminal(cmd: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal; (exit code, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    shown = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    out, _ = proc.communicate(timeout=300)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, out.decode(), ANSI.sub("", shown.decode(errors="replace"))


def run_piped(cmd: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    src = _postings_file(tmp_path / "in.jsonl")
    return {
        "extract": _cli("extract", str(src), "-o", str(tmp_path / "out.jsonl")),
        "ingest": _cli("ingest", str(src)),
        "reprocess": _cli("reprocess"),
    }


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_bar_with_rate_and_time_left_on_a_terminal_and_quiet_when_piped(tmp_path):
    commands = _commands(tmp_path)
    env = _env(tmp_path)
    unit = {"extract": "lines", "ingest": "postings", "reprocess": "postings"}
    for name in ("extract", "ingest", "reprocess"):  # ingest before reprocess: it fills the store
        code, out, shown = run_on_terminal(commands[name], env)
        assert code == 0, shown
        last = shown.replace("\r", "\n").strip().splitlines()[-1] if shown.strip() else ""
        bar_lines = [line for line in shown.replace("\r", "\n").splitlines() if line.startswith(name)]
        assert bar_lines, f"{name}: no bar on the terminal: {shown!r}"
        final = bar_lines[-1]
        assert f"{N}/{N}" in final and f"{unit[name]}/s" in final and "left" in final, final
        assert re.search(rf"\d[\d,]*\.\d {unit[name]}/s", final), final  # a rate, not a placeholder
        assert json.loads(out[out.index("{") :]), last
    for name in ("extract", "ingest", "reprocess"):
        code, out, err = run_piped(commands[name], env)
        assert code == 0, err
        assert "/s" not in err and "\x1b[" not in err and not any(line.startswith(name) for line in err.splitlines()), (
            err
        )
        assert json.loads(out[out.index("{") :])


def test_extract_follows_the_use_embeddings_setting(tmp_path):
    """SKILLSIGNAL_USE_EMBEDDINGS=false: extract runs without the model, as ingest and serve do;
    the flag still overrides (--no-embeddings with the setting on)."""
    src = _postings_file(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    code, stdout, err = run_piped(_cli("extract", str(src), "-o", str(out)), _env(tmp_path))
    assert code == 0, err
    stats = json.loads(stdout[stdout.index("{") :])
    assert stats["embeddings"] is False and stats["extracted"] == N
    assert all("+emb" not in json.loads(line)["extractor_version"] for line in out.read_text().splitlines())
    code, stdout, err = run_piped(
        _cli("extract", str(src), "-o", str(out), "--no-embeddings"), _env(tmp_path, SKILLSIGNAL_USE_EMBEDDINGS="true")
    )
    assert code == 0, err
    assert json.loads(stdout[stdout.index("{") :])["embeddings"] is False


def test_extract_flag_defaults_to_the_setting():
    from typer.main import get_command

    from skillsignal.cli import app

    extract = get_command(app).commands["extract"]
    (option,) = [p for p in extract.params if p.name == "embeddings"]
    assert option.default is None  # None: Extractor.from_settings reads settings.use_embeddings
    assert "SKILLSIGNAL_USE_EMBEDDINGS" in option.help


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_the_terminal_decision(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    assert wants_progress(_Stream(True)) and not wants_progress(_Stream(False))
    with open(os.devnull, "w") as closed:
        pass
    assert not wants_progress(closed)  # isatty() on a closed file raises
    monkeypatch.setenv("TERM", "dumb")
    assert not wants_progress(_Stream(True))


def test_no_bar_writes_nothing(monkeypatch):
    stream = _Stream(False)
    with progress_bar("extract", total=3, stream=stream) as bar:
        bar.advance(3)
    assert stream.getvalue() == ""


def test_bar_on_a_terminal_stream(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    stream = _Stream(True)
    with progress_bar("ingest", total=5, stream=stream) as bar:
        for _ in range(5):
            bar.advance(1)
    shown = ANSI.sub("", stream.getvalue())
    assert "ingest" in shown and "5/5" in shown and "postings/s" in shown
