from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, date

import pytest

from skillsignal.core.models import Extraction, OccupationMatch, Posting, SkillMatch
from storage import PostingFilter, SQLiteStore, StoreError


def make_posting(
    pid: str,
    *,
    posted: date,
    occ: str | None = None,
    level: str = "中级",
    skills: tuple[str, ...] = (),
    province: str = "江苏",
    description: str = "d",
) -> Posting:
    p = Posting(
        id=pid, source="test", title=f"工程师 {pid}", company="示例科技", description=description, posted_at=posted
    )
    p.location.province = province
    if occ:
        p.extraction = Extraction(
            occupation=OccupationMatch(code=occ, name=occ),
            level=level,
            skills=[SkillMatch(id=s, name=s) for s in skills],
            taxonomy_version="t1",
            extractor_version="e1",
        )
    return p


def test_creates_versioned_wal_database(tmp_path):
    path = tmp_path / "sub" / "s.sqlite3"
    store = SQLiteStore(path)
    assert path.exists()
    from storage.schema import SCHEMA_VERSION

    assert store.schema_version == SCHEMA_VERSION
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_commits_leave_the_wal_to_grow_past_sqlites_default_checkpoint(tmp_path):
    """A bulk ingest is not copied into the database file after every commit (SQLite's default
    checkpoints once the WAL holds 1,000 pages): three commits of ~3 MB each stay in the WAL, the
    file keeps its size, and a reopened store reads them all."""
    path = tmp_path / "s.sqlite3"
    store = SQLiteStore(path)
    empty = path.stat().st_size
    text = "数据分析 " * 4000  # ~20 KB of description per posting (its document and its full text)
    for batch in range(3):
        store.index_postings(
            [make_posting(f"b{batch}-{i}", posted=date(2026, 9, 1), description=text) for i in range(150)]
        )
    wal = path.with_name(path.name + "-wal").stat().st_size
    assert wal > 2 * 1000 * 4096 and path.stat().st_size == empty
    store.close()
    assert SQLiteStore(path).count_postings() == 450


def test_upsert_by_id_never_double_counts(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite3")
    batch = [make_posting(f"p{i}", posted=date(2026, 9, 1 + i), occ="2-02-38-01", skills=("python",)) for i in range(5)]
    store.upsert_postings(batch)
    store.upsert_postings(batch)
    # a reopened store (a second run) upserts again
    SQLiteStore(tmp_path / "s.sqlite3").upsert_postings(batch)
    assert store.count_postings() == 5
    assert store.count_by("skills") == [("python", 5)]


def test_extraction_replaces_skills_and_raw_posting_survives(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite3")
    raw = make_posting("p1", posted=date(2026, 9, 1))
    store.upsert_postings([raw])
    assert store.get_posting("p1").extraction is None
    done = make_posting("p1", posted=date(2026, 9, 1), occ="2-02-38-03", skills=("spark", "hive"))
    store.save_extractions([(raw, done.extraction, None)])
    assert sorted(k for k, _ in store.count_by("skills")) == ["hive", "spark"]
    store.save_extractions([(raw, None, "boom")])
    assert store.count_by("skills") == []
    kept = store.get_posting("p1")
    assert kept.title == raw.title and kept.extraction_error == "boom"


def test_counts_respect_time_window_and_facets(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.upsert_postings(
        [
            make_posting("a", posted=date(2026, 8, 31), occ="2-02-38-01", level="高级"),
            make_posting("b", posted=date(2026, 9, 1), occ="2-02-38-01", level="初级", province="浙江"),
            make_posting("c", posted=date(2026, 9, 30), occ="2-02-38-09", level="初级"),
            make_posting("d", posted=date(2026, 10, 1), occ="2-02-38-09", level="中级"),
        ]
    )
    sept = PostingFilter(start=date(2026, 9, 1), end=date(2026, 9, 30))
    assert store.count_postings(sept) == 2
    assert dict(store.count_by("occupations", sept)) == {"2-02-38-01": 1, "2-02-38-09": 1}
    assert store.count_by("levels", sept) == [("初级", 2)]
    assert store.count_postings(PostingFilter(provinces=["浙江"])) == 1
    with pytest.raises(StoreError, match="unknown facet"):
        store.count_by("colours")


def test_filter_rejects_reversed_window():
    with pytest.raises(ValueError, match="after end"):
        PostingFilter(start=date(2026, 10, 1), end=date(2026, 9, 1))


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    SQLiteStore(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.commit()
    with pytest.raises(StoreError, match="newer than this SkillSignal"):
        SQLiteStore(path)


def test_concurrent_writers_from_threads(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite3")

    def write(offset: int) -> None:
        store.upsert_postings([make_posting(f"t{offset}-{i}", posted=date(2026, 9, 1)) for i in range(50)])

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count_postings() == 200


def test_iter_postings_and_unextracted(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.upsert_postings(
        [make_posting(f"p{i:03d}", posted=date(2026, 9, 1), occ="other" if i % 2 else None) for i in range(25)]
    )
    assert len(list(store.iter_postings(batch_size=7))) == 25
    assert len(list(store.iter_postings(batch_size=7, only_unextracted=True))) == 13


def test_duplicate_marks_survive_reindex_and_feed_unique_counts(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite3")
    batch = [make_posting(f"p{i}", posted=date(2026, 9, 1), occ="2-02-38-01", skills=("python",)) for i in range(4)]
    store.upsert_postings(batch)
    store.set_duplicates({"p1": "p0", "p2": "p0"})
    store.upsert_postings(batch)  # a re-crawl of the same ids keeps the marks
    t = store.totals()
    assert (t.unique_postings, t.duplicate_postings, t.posting_intensity) == (2, 2, 2.0)
    assert store.ranking("skills").buckets[0].unique_postings == 2
    store.set_duplicates({"p1": None})
    assert store.totals().unique_postings == 3
    assert store.count_postings(unique_only=True) == 3


def test_fts_follows_upserts(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.upsert_postings([make_posting("a", posted=date(2026, 9, 1), description="负责机器学习平台")])
    assert store.search_postings("机器学习").total == 1
    store.upsert_postings([make_posting("a", posted=date(2026, 9, 1), description="负责前端页面开发")])
    assert store.search_postings("机器学习").total == 0
    hit = store.search_postings("前端").items[0]
    assert hit.highlight.description == "负责<em>前端</em>页面开发"


def _with_competencies(p: Posting, *ids: str) -> Posting:
    from skillsignal.core.models import CompetencyMatch

    p.extraction.competencies = [CompetencyMatch(id=i, text=i) for i in ids]
    return p


def test_v2_store_gets_its_competency_links_on_upgrade(tmp_path):
    """A store written before the competencies facet (schema v2) is upgraded in place: the links are
    read from the stored documents, and re-extraction replaces them."""
    path = tmp_path / "s.sqlite3"
    store = SQLiteStore(path)
    store.upsert_postings(
        [
            _with_competencies(make_posting("a", posted=date(2026, 9, 1), occ="2-02-38-01"), "ai.j.1.1", "ai.m.1.1"),
            _with_competencies(make_posting("b", posted=date(2026, 9, 2), occ="2-02-38-01"), "ai.j.1.1"),
            make_posting("c", posted=date(2026, 9, 3)),
        ]
    )
    store.set_duplicates({"b": "a"})
    store.close()
    conn = sqlite3.connect(path)  # back to v2: the table did not exist then
    conn.execute("DROP TABLE posting_competencies")
    conn.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    upgraded = SQLiteStore(path)
    from storage.schema import SCHEMA_VERSION

    assert upgraded.schema_version == SCHEMA_VERSION
    ranking = upgraded.ranking("competencies", metric="total_postings")
    assert [(b.key, b.total_postings, b.duplicate_postings) for b in ranking.buckets] == [
        ("ai.j.1.1", 2, 1),
        ("ai.m.1.1", 1, 0),
    ]
    again = _with_competencies(make_posting("a", posted=date(2026, 9, 1), occ="2-02-38-01"), "ai.s.3.5")
    upgraded.upsert_postings([again])
    assert dict(upgraded.count_by("competencies")) == {"ai.j.1.1": 1, "ai.s.3.5": 1}


def test_v3_store_gets_seen_dates_from_its_documents_on_upgrade(tmp_path):
    """A store written before posting lives (schema v3) is upgraded in place: each posting is first and
    last seen on the crawl date of its document (the date as written, whatever its offset), open."""
    from datetime import datetime, timedelta, timezone

    path = tmp_path / "s.sqlite3"
    store = SQLiteStore(path)
    a = make_posting("a", posted=date(2026, 9, 1), occ="2-02-38-01", skills=("python",))
    a.crawled_at = datetime(2026, 9, 2, 1, 30, tzinfo=timezone(timedelta(hours=8)))  # 2026-09-01 in UTC
    b = make_posting("b", posted=date(2026, 9, 3))
    b.crawled_at = datetime(2026, 9, 5, 12, tzinfo=UTC)
    store.upsert_postings([a, b])
    store.set_duplicates({"b": "a"})
    store.close()
    conn = sqlite3.connect(path)  # back to v3: no seen columns then
    conn.execute("DROP INDEX p_open")
    conn.execute("DROP INDEX p_signal")
    for column in ("first_seen", "last_seen", "closed_on"):
        conn.execute(f"ALTER TABLE postings DROP COLUMN {column}")
    conn.execute("UPDATE meta SET value='3' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    upgraded = SQLiteStore(path)
    from storage.schema import SCHEMA_VERSION

    assert upgraded.schema_version == SCHEMA_VERSION == 7
    got = {p.id: (p.first_seen, p.last_seen, p.closed_on) for p in upgraded.iter_postings()}
    assert got == {"a": (date(2026, 9, 2), date(2026, 9, 2), None), "b": (date(2026, 9, 5), date(2026, 9, 5), None)}
    assert upgraded.close_unseen("test", date(2026, 9, 3)) == 1  # a: last seen before that crawl
    assert upgraded.totals().duplicate_postings == 1 and upgraded.count_by("skills") == [("python", 1)]
