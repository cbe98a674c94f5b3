"""Real parts for the extraction-worker tests: the session's Redis, ``skillsignal worker`` processes
started as subprocesses, a SQLite file per test, the demo board's postings (embeddings off: these
tests are about delivery, not extraction quality)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from skillsignal.core.config import Settings, get_settings
from skillsignal.core.models import Posting
from skillsignal.demo.generator import generate_postings

ROOT = Path(__file__).resolve().parents[2]


def demo_postings(n: int, prefix: str = "w") -> list[Posting]:
    """``n`` of the demo board's postings under ids of their own."""
    return [
        Posting(
            id=f"{prefix}-{d.id}",
            source="worker-test",
            title=d.title,
            company=d.company,
            description=d.description,
            posted_at=d.posted,
        )
        for d in generate_postings()[:n]
    ]


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def children(self) -> list[int]:
        """The pool processes (the prefork children of the worker's main process, forked by any of its threads)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # the field after the state: the parent's pid
                found.append(int(stat.parent.name))
        return found

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once (a machine going away)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Celery's cold shutdown (SIGQUIT): the test is over, nothing is left running."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker_settings(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings of one test: its own data folder (a fresh SQLite file), the session Redis (emptied),
    no embedding model, a short visibility timeout; also in the environment the workers inherit."""
    env = {
        "SKILLSIGNAL_DATA_DIR": str(tmp_path / "data"),
        "SKILLSIGNAL_REDIS_URL": redis_url,
        "SKILLSIGNAL_USE_EMBEDDINGS": "false",
        "SKILLSIGNAL_WORKER_VISIBILITY_TIMEOUT": "2",
        "SKILLSIGNAL_WORKER_BATCH_SIZE": "10",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    settings = Settings()
    settings.ensure_dirs()
    yield settings
    get_settings.cache_clear()


@pytest.fixture
def start_worker(tmp_path: Path, worker_settings: Settings) -> Iterator[Callable[..., Worker]]:
    """Starts ``skillsignal worker`` processes (each in its own process group); stops them after the test."""
    started: list[Worker] = []

    def start(concurrency: int = 1, **env: str) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
        process = subprocess.Popen(
            [sys.executable, "-m", "skillsignal.cli", "worker", "--concurrency", str(concurrency)],
            env=environ,
            cwd=tmp_path,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = Worker(process, log)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(condition: Callable[[], bool], timeout: float, what: str, logs: list[Path] = ()) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists())
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tails}")
        time.sleep(0.1)


def unacked(redis_url: str) -> int:
    """Tasks a worker took and has not acknowledged (kombu's Redis transport keeps them in ``unacked``)."""
    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.hlen("unacked"))
    finally:
        client.close()


def started_tasks(worker: Worker) -> int:
    """Extraction tasks the worker's pool processes began (each logs "extracting N postings" first)."""
    if not worker.log.exists():
        return 0
    return worker.log.read_text(errors="replace").count("skillsignal.workers: extracting ")
