"""The main job end to end: `skillsignal demo` serves the demo board on 127.0.0.1, crawls it with
the real Scrapy spider, extracts, stores into a real SQLite file, loads the generated history (its
own source, ``demo-history``) and leaves the API answering. Counts of the crawled source are asserted
exactly against the board's own postings, and a second run must not change any count."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections import Counter

import httpx
import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    env = dict(
        os.environ,
        SKILLSIGNAL_DATA_DIR=str(data_dir),
        SKILLSIGNAL_API_PORT=str(free_port()),
        SKILLSIGNAL_DEMO_BOARD_PORT=str(free_port()),
        SKILLSIGNAL_USE_EMBEDDINGS="false",
    )
    yield env, data_dir
    subprocess.run([sys.executable, "-m", "skillsignal.cli", "stop"], env=env, timeout=60)


def run_demo(env) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "skillsignal.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


CRAWLED = {"sources": "skillsignal-demo"}  # the board's postings, not the generated history


def api_counts(env, facet: str, params: dict[str, str] | None = None) -> dict[str, int]:
    url = f"http://127.0.0.1:{env['SKILLSIGNAL_API_PORT']}/v1/counts/{facet}"
    body = httpx.get(url, params=params, timeout=10).json()
    return {b["key"]: b["count"] for b in body["buckets"]}


def test_demo_crawls_extracts_indexes_and_serves(demo_env):
    from skillsignal.demo.board import DemoBoard

    env, data_dir = demo_env
    out = run_demo(env)
    board_postings = DemoBoard(port=0).postings
    n = len(board_postings)
    assert f"SkillSignal demo: {n} postings" in out
    assert f"http://127.0.0.1:{env['SKILLSIGNAL_API_PORT']}/health" in out
    generated = re.search(r"history: +(\d+) generated postings, 2024-05 \.\. 2026-10, source demo-history", out)
    assert generated, out
    history = int(generated.group(1))

    health = httpx.get(f"http://127.0.0.1:{env['SKILLSIGNAL_API_PORT']}/health", timeout=10).json()
    assert health["postings"] == n + history

    # the API agrees exactly with the SQLite file it serves
    db = sqlite3.connect(data_dir / "skillsignal.sqlite3")
    in_db = dict(
        db.execute(
            "SELECT occupation_code, COUNT(*) FROM postings WHERE source = 'skillsignal-demo' GROUP BY occupation_code"
        )
    )
    by_occupation = api_counts(env, "occupations", CRAWLED)
    assert by_occupation == in_db
    assert sum(by_occupation.values()) == n
    assert db.execute("SELECT COUNT(*) FROM postings WHERE source = 'demo-history'").fetchone()[0] == history
    by_level = api_counts(env, "levels", CRAWLED)
    assert sum(by_level.values()) == n and set(by_level) == {"初级", "中级", "高级"}

    core = {k: v for k, v in by_occupation.items() if k.startswith("2-02-38") or k == "2-06-07-13"}
    assert len(core) >= 5, by_occupation

    # the extractor recovers what the board's postings were written to be
    expected = Counter(p.expected_occupation for p in board_postings)
    agree = sum(min(expected[k], by_occupation.get(k, 0)) for k in expected)
    assert agree / n >= 0.85, (expected, by_occupation)

    # a time window narrows the counts
    month = httpx.get(
        f"http://127.0.0.1:{env['SKILLSIGNAL_API_PORT']}/v1/counts/occupations",
        params={"start": "2026-09-01", "end": "2026-09-30", **CRAWLED},
        timeout=10,
    ).json()
    in_sept = sum(1 for p in board_postings if p.posted.isoformat().startswith("2026-09"))
    assert month["total"] == in_sept

    # a second run of the main job leaves every count unchanged, the history's included
    everything = api_counts(env, "occupations")
    run_demo(env)
    assert api_counts(env, "occupations", CRAWLED) == by_occupation
    assert api_counts(env, "levels", CRAWLED) == by_level
    assert api_counts(env, "occupations") == everything


def test_bad_query_parameter_is_named(demo_env):
    env, _ = demo_env
    r = httpx.get(
        f"http://127.0.0.1:{env['SKILLSIGNAL_API_PORT']}/v1/counts/levels",
        params={"start": "last-tuesday"},
        timeout=10,
    )
    assert r.status_code == 422
    assert any(p["loc"] == ["query", "start"] and p["msg"].startswith("start") for p in r.json()["detail"])
