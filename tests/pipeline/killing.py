"""Killing a real ``skillsignal`` process part-way through storing postings."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path


def kill_once_stored(cmd: list[str], env: dict[str, str], db: Path, at_least: int, timeout: float = 300) -> int:
    """Start ``cmd``, SIGKILL it once ``db`` holds ``at_least`` postings; returns how many it held.
    Fails the test when the command finished first (the input is too small to be interrupted)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        if db.exists():
            try:
                stored = sqlite3.connect(db, timeout=1).execute("SELECT COUNT(*) FROM postings").fetchone()[0]
            except sqlite3.Error:
                continue
            if stored >= at_least:
                break
    assert proc.poll() is None, "the command finished before it could be killed; make the input bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return stored
