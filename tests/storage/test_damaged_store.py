"""A damaged store or crawl state gives one clear line, never a traceback or a lie (issue 12, item 7).

Real files: a store written by SQLiteStore, then truncated, its header garbled, replaced by a
text file, emptied to 0 bytes, or with 10 of its pages overwritten by garbage. The real CLI runs
as a subprocess (``stats``, ``ingest``, ``serve``, ``crawl``); the API runs under uvicorn on
127.0.0.1. Each damaged file must be left exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from skillsignal.core.config import Settings
from storage import SQLiteStore, StoreCorruptError

PAGE = 4096


@pytest.fixture(scope="module")
def intact(tmp_path_factory) -> Path:
    """A real store with 3,000 generated postings (closed, checkpointed)."""
    from tests.storage.conformance import data

    path = tmp_path_factory.mktemp("intact") / "skillsignal.sqlite3"
    store = SQLiteStore(path)
    postings, dups = data.generate(n=3000, seed=5)
    store.index_postings(postings)
    store.set_duplicates(dups)
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _skill_pages(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [
            p
            for (p,) in conn.execute(
                "SELECT pageno FROM dbstat WHERE name IN ('posting_skills', 'ps_skill', 'ps_day', 'ps_occ') "
                "AND pageno > 1 ORDER BY pageno"
            )
        ]


def damage(intact: Path, how: str, into: Path) -> Path:
    """A copy of the intact store under ``into``/skillsignal.sqlite3, damaged ``how``."""
    data = intact.read_bytes()
    rng = random.Random(how)
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "garbled":
        data = rng.randbytes(100) + data[100:]
    elif how == "not sqlite":
        data = "id,title\n1,数据分析师\n".encode() * 50
    elif how == "empty":
        data = b""
    elif how == "garbage pages":  # 10 pages of the skill links and their indexes
        pages = _skill_pages(intact)
        assert len(pages) >= 20
        buf = bytearray(data)
        for page in pages[len(pages) // 2 : len(pages) // 2 + 10]:
            buf[(page - 1) * PAGE : page * PAGE] = rng.randbytes(PAGE)
        data = bytes(buf)
    into.mkdir(parents=True, exist_ok=True)
    path = into / "skillsignal.sqlite3"
    path.write_bytes(data)
    return path


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _cli(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, SKILLSIGNAL_DATA_DIR=str(data_dir), SKILLSIGNAL_USE_EMBEDDINGS="false")
    return subprocess.run(
        [sys.executable, "-m", "skillsignal.cli", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_clear_line(proc: subprocess.CompletedProcess, path: Path, what: str) -> None:
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    line = errors[0]
    assert str(path) in line and what in line and "restore it from a backup" in line and "mv " in line, line


WHAT = {
    "truncated": "is truncated",
    "garbled": "is not an SQLite database",
    "not sqlite": "is not an SQLite database",
    "empty": "is empty (0 bytes)",
}


@pytest.mark.slow
@pytest.mark.parametrize("how", list(WHAT))
def test_stats_ingest_and_serve_say_what_is_wrong_and_touch_nothing(intact, tmp_path, how):
    data_dir = tmp_path / "data"
    path = damage(intact, how, data_dir)
    before = _digest(data_dir)
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "n-1", "source": "t", "title": "数据分析师"}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    for args in (
        ["stats"],
        ["ingest", str(src), "--no-extract"],
        ["reprocess"],
        ["serve", "--port", str(_free_port())],
    ):
        proc = _cli(data_dir, *args)
        _one_clear_line(proc, path, WHAT[how])
        assert _digest(data_dir) == before, f"{args[0]} changed the damaged store"


def test_a_zero_byte_store_is_not_recreated(tmp_path):
    path = tmp_path / "skillsignal.sqlite3"
    path.write_bytes(b"")
    with pytest.raises(StoreCorruptError, match="is empty"):
        SQLiteStore(path)
    assert path.read_bytes() == b""
    assert SQLiteStore(tmp_path / "new.sqlite3").count_postings() == 0  # a missing file is created


def test_check_integrity_finds_garbage_pages(intact, tmp_path):
    assert SQLiteStore(intact).check_integrity() is None
    store = SQLiteStore(damage(intact, "garbage pages", tmp_path / "d"))  # the header is intact: it opens
    assert store.check_integrity()


@pytest.fixture
def serve_app():
    servers = []

    def start(settings: Settings) -> str:
        import uvicorn

        from skillsignal.server import build_app

        app = build_app(settings)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                httpx.get(f"{url}/openapi.json", timeout=1)
                return url
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("uvicorn did not start")

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.slow
def test_garbage_pages_make_health_degraded_and_queries_503(intact, tmp_path, serve_app):
    url = serve_app(Settings(data_dir=tmp_path / "ok", use_embeddings=False))
    shutil.copy(intact, tmp_path / "ok" / "skillsignal.sqlite3")
    health = httpx.get(f"{url}/health")
    assert health.status_code == 200 and health.json()["status"] == "ok" and health.json()["problem"] is None

    data_dir = tmp_path / "damaged"
    damage(intact, "garbage pages", data_dir)
    url = serve_app(Settings(data_dir=data_dir, use_embeddings=False))
    health = httpx.get(f"{url}/health")  # before any query met the damage: quick_check finds it
    assert health.status_code == 503, health.text
    body = health.json()
    assert body["status"] == "degraded" and "damaged" in body["problem"] and "restore" in body["problem"]
    # a query that reads the skill links (the roll-ups answer a plain ranking; skill medians scan the links)
    res = httpx.get(f"{url}/v1/rankings/skills", params={"metric": "median_salary"})
    assert res.status_code == 503, res.text
    assert res.headers["content-type"].startswith("application/json")
    assert "damaged" in res.json()["detail"] and "restore it from a backup" in res.json()["detail"]


@pytest.mark.slow
def test_a_query_that_meets_damage_marks_health_degraded_at_once(intact, tmp_path, serve_app):
    from api.routers import health as health_router

    data_dir = tmp_path / "damaged"
    damage(intact, "garbage pages", data_dir)
    url = serve_app(Settings(data_dir=data_dir, use_embeddings=False))
    original = SQLiteStore.check_integrity
    SQLiteStore.check_integrity = lambda self, max_errors=3: None  # a stale "ok" in the cache
    try:
        assert httpx.get(f"{url}/health").status_code == 200
        # skill medians scan the skill links (a plain ranking comes from the roll-ups)
        assert httpx.get(f"{url}/v1/rankings/skills", params={"metric": "median_salary"}).status_code == 503
        health = httpx.get(f"{url}/health")
        assert health.status_code == 503 and health.json()["status"] == "degraded"
    finally:
        SQLiteStore.check_integrity = original
    assert health_router.INTEGRITY_TTL_S > 0


# --- the crawl state -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("how", ["garbled", "garbage"])
def test_damaged_crawl_state_gives_one_line(tmp_path, how):
    from crawlers.seen import PageRecord, SeenStore

    data_dir = tmp_path / "data"
    seen = data_dir / "crawl" / "seen.sqlite3"
    seen.parent.mkdir(parents=True)
    if how == "garbled":
        seen.write_bytes(random.Random(1).randbytes(8192))
    else:  # a real seen store with garbage over its table pages
        store = SeenStore(seen)
        store.record([PageRecord(f"http://127.0.0.1/job/{i}", f"e{i}", None, "fp") for i in range(2000)], 1)
        store.close()
        with sqlite3.connect(seen) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        buf = bytearray(seen.read_bytes())
        rng = random.Random(2)
        for page in range(3, 13):
            buf[(page - 1) * PAGE : page * PAGE] = rng.randbytes(PAGE)
        seen.write_bytes(bytes(buf))
    before = hashlib.sha256(seen.read_bytes()).hexdigest()
    proc = _cli(data_dir, "crawl", "--no-polite", f"http://127.0.0.1:{_free_port()}/jobs")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(seen) in errors[0] and "mv " in errors[0], proc.stderr
    assert hashlib.sha256(seen.read_bytes()).hexdigest() == before


def test_empty_crawl_state_is_refused(tmp_path):
    from crawlers.seen import SeenStore

    path = tmp_path / "seen.sqlite3"
    path.write_bytes(b"")
    with pytest.raises(StoreCorruptError, match="is empty"):
        SeenStore(path)
    assert path.read_bytes() == b""
