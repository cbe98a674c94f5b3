"""``skillsignal ingest --bulk``: a real process on a real SQLite file, killed inside its bulk load.

The kill leaves the load unfinished (its row in ``meta``, the date-keyed indexes dropped, the
roll-ups stale); the next command that opens the store finishes it, and the re-run leaves every
posting once, with indexes and roll-ups as a store that never bulk-loaded has them.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.sqlite.bulk import bulk_load_pending
from storage.sqlite.schema import DEFERRABLE_INDEXES
from tests.pipeline.killing import kill_once_stored
from tests.storage.test_sqlite_rollups import _indexes, assert_rollups_equal_a_rebuild

CITIES = ["杭州", "成都", "北京", "武汉", "西安"]


def _write_shuffled_jsonl(path: Path, n: int, first: int = 0) -> None:
    """``n`` postings (ids from ``first``) dated over two years in no order (a historical dump)."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(first, first + n):
            k = (i * 7919) % 730  # a permutation of the days, not date order
            fh.write(
                json.dumps(
                    {
                        "id": f"dump-{i:06d}",
                        "source": "dump",
                        "title": ("大数据开发工程师", "嵌入式软件工程师", "数据分析师")[i % 3],
                        "company": f"公司{i % 97}",
                        "city": CITIES[i % len(CITIES)],
                        "salary": f"{10 + i % 20}-{20 + i % 20}K",
                        "description": f"负责数据平台开发，熟悉Python、SQL和Spark。第{i}号岗位。",
                        "posted": f"{2024 + k // 365}-{1 + (k % 365) // 31:02d}-{1 + (k % 365) % 28:02d}",
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


@pytest.mark.slow
def test_bulk_ingest_killed_inside_its_load_is_finished_and_counts_each_posting_once(tmp_path: Path) -> None:
    total = 20_000
    data_dir = tmp_path / "data"
    src = tmp_path / "dump.jsonl"
    _write_shuffled_jsonl(src, total)
    env = {"SKILLSIGNAL_DATA_DIR": str(data_dir), "SKILLSIGNAL_USE_EMBEDDINGS": "false", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "skillsignal.cli", "ingest", "--no-extract", str(src)]
    db = data_dir / "skillsignal.sqlite3"
    stored = kill_once_stored([*cmd, "--bulk"], env, db, at_least=2000)
    conn = sqlite3.connect(db)
    assert 0 < stored < total
    assert bulk_load_pending(conn) and not _indexes(conn) & set(DEFERRABLE_INDEXES)  # killed inside the load
    conn.close()

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["received"] == total
    conn = sqlite3.connect(db)
    assert not bulk_load_pending(conn) and set(DEFERRABLE_INDEXES) <= _indexes(conn)
    assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM postings").fetchone() == (total, total)
    assert_rollups_equal_a_rebuild(conn)  # the finished load and the re-run left the roll-ups exact
    assert conn.execute("SELECT SUM(n) FROM ru_all_m").fetchone()[0] == total


def test_ingest_bulk_loads_a_large_first_file_by_default_but_not_a_top_up(tmp_path: Path) -> None:
    """Without --bulk/--no-bulk: a file of at least SKILLSIGNAL_BULK_LOAD_MIN_POSTINGS records that
    is at least the store's size is bulk-loaded; a smaller top-up is not, unless asked."""
    env = {
        "SKILLSIGNAL_DATA_DIR": str(tmp_path / "data"),
        "SKILLSIGNAL_USE_EMBEDDINGS": "false",
        "SKILLSIGNAL_BULK_LOAD_MIN_POSTINGS": "100",
        "PATH": "/usr/bin:/bin",
    }

    def ingest(n: int, first: int, *flags: str) -> dict:
        src = tmp_path / f"part-{first}.jsonl"
        _write_shuffled_jsonl(src, n, first)
        cmd = [sys.executable, "-m", "skillsignal.cli", "ingest", "--no-extract", str(src), *flags]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        assert ("bulk load: finished" in done.stderr) == json.loads(done.stdout)["bulk_load"]
        return json.loads(done.stdout)

    assert not ingest(99, 0)["bulk_load"]  # below the minimum
    assert ingest(300, 99)["bulk_load"]  # larger than the store
    assert not ingest(150, 399)["bulk_load"]  # a top-up, smaller than the store
    assert ingest(50, 549, "--bulk")["bulk_load"]  # asked for
    conn = sqlite3.connect(tmp_path / "data" / "skillsignal.sqlite3")
    assert conn.execute("SELECT COUNT(*) FROM postings").fetchone()[0] == 599
    assert not bulk_load_pending(conn)
    assert_rollups_equal_a_rebuild(conn)
