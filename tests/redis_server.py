"""A real Redis for the distributed tests: Debian's ``redis-server`` on a free 127.0.0.1 port.

``redis_server`` (session) starts one server in a temporary folder (no persistence, no other
clients); ``redis_url`` (per test) hands out that server with every database emptied first, so no
test sees another's queue or duplicate filter. Without ``redis-server`` the tests skip, except on CI
(``CI=true``), where a missing Redis is a setup failure: ``scripts/setup.sh test`` installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int
    process: subprocess.Popen[bytes]

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(workdir: Path, timeout: float = 10.0) -> RedisServer:
    """Start ``redis-server`` in ``workdir`` and wait until it answers PING."""
    import redis

    exe = shutil.which("redis-server")
    if exe is None:
        message = "redis-server is not installed (scripts/setup.sh test installs Debian's redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    args = [exe, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir)]
    args += ["--save", "", "--appendonly", "no", "--protected-mode", "yes", "--databases", "16"]
    log = (workdir / "redis.log").open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"redis-server did not start: see {workdir / 'redis.log'}") from None
            time.sleep(0.05)
    client.close()
    return RedisServer("127.0.0.1", port, process)


def stop_redis(server: RedisServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    stop_redis(server)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied: a test starts with no queue, filter or result left by another."""
    import redis

    client = redis.Redis(host=redis_server.host, port=redis_server.port)
    client.flushall()
    client.close()
    return redis_server.url()
