"""Start and stop the API server that ``skillsignal demo`` leaves running in the background."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .core.config import Settings

log = logging.getLogger(__name__)


def _pid_file(settings: Settings) -> Path:
    return settings.data_dir / "api-server.json"


def wait_for_http(url: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop_background_server(settings: Settings) -> bool:
    """Stop the recorded background server; True if one was running."""
    path = _pid_file(settings)
    if not path.exists():
        return False
    info = json.loads(path.read_text())
    pid = int(info["pid"])
    running = _alive(pid)
    if running:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return running


def start_background_server(settings: Settings, host: str, port: int) -> str:
    """Start ``skillsignal serve`` detached from this process; return its base URL once it answers."""
    stop_background_server(settings)
    log_path = settings.data_dir / "api-server.log"
    env = dict(os.environ, SKILLSIGNAL_DATA_DIR=str(settings.data_dir.resolve()))
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "skillsignal.cli", "serve", "--host", host, "--port", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    _pid_file(settings).write_text(json.dumps({"pid": proc.pid, "host": host, "port": port}))
    url = f"http://{host}:{port}"
    if not wait_for_http(f"{url}/health"):
        stop_background_server(settings)
        raise RuntimeError(
            f"the API server did not answer on {url} within 60 s; see {log_path} "
            f"(is port {port} taken? set SKILLSIGNAL_API_PORT)"
        )
    return url
