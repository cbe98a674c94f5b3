"""The search backend against a real (in-memory) OpenSearch-compatible server: idempotent writes
that keep near-duplicate marks, alias swap on re-index, paging, highlights, errors, and the backend
chosen by settings through ``open_store`` (the API and the ingest pipeline on top of it)."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime, timedelta

import pytest

from skillsignal.core.models import Extraction, OccupationMatch, Posting, SkillMatch
from storage import CursorError, open_store
from storage.filters import PostingFilter
from storage.search import OpenSearchIndex, SearchStoreError, reindex
from storage.sqlite import SQLiteStore
from tests.storage.conformance.servers import drop_search_indices, unique_alias


def _postings(n: int = 30) -> list[Posting]:
    out = []
    for i in range(n):
        p = Posting(
            id=f"s{i:03d}",
            source="boss" if i % 2 else "51job",
            title="机器学习工程师" if i % 3 == 0 else "数据分析师",
            description=f"负责{'机器学习' if i % 3 == 0 else '数据分析'}平台建设，熟悉Python与Spark。第{i}号。",
            posted_at=date(2026, 1, 1) + timedelta(days=i),
            crawled_at="2026-03-01T00:00:00+00:00",
        )
        p.location.province = "江苏" if i % 2 else "浙江"
        p.salary.min, p.salary.max = 10000 + 1000 * (i % 5), 20000
        if i % 4:
            p.extraction = Extraction(
                occupation=OccupationMatch(code="2-02-38-01" if i % 3 == 0 else "2-02-30-09", name="x"),
                level="中级",
                skills=[SkillMatch(id="python", name="Python"), SkillMatch(id="spark", name="Spark")],
                taxonomy_version="t1",
                extractor_version="e1",
            )
        out.append(p)
    return out


@pytest.fixture
def index(osmem_search_url):
    idx = OpenSearchIndex.connect(osmem_search_url, unique_alias("t-search"))
    yield idx
    drop_search_indices(idx)


def test_reindexing_the_same_ids_keeps_counts_and_duplicate_marks(index):
    ps = _postings()
    assert index.index_postings(ps) == 30
    index.set_duplicates({"s001": "s000", "s002": "s000", "missing": "s000"})
    changed = ps[1].model_copy(update={"title": "大数据开发工程师"})
    index.index_postings([changed, ps[2], ps[2]])
    t = index.totals()
    assert (t.total_postings, t.duplicate_postings) == (30, 2)
    assert index.get_posting("s001").title == "大数据开发工程师"
    index.set_duplicates({"s002": None})
    assert index.totals().duplicate_postings == 1
    assert index.fingerprints(["s001", "nope"]) == {"s001": (changed.fingerprint, "t1")}
    assert sorted(p.id for p in index.iter_postings(batch_size=4, only_unextracted=True)) == [
        p.id for p in ps if not p.extraction
    ]
    assert len(list(index.iter_postings(batch_size=7))) == 30
    stats = index.stats()
    assert stats["postings"] == 30 and stats["duplicates"] == 1
    assert stats["extracted"] == sum(1 for p in ps if p.extraction)
    assert stats["skill_mentions"] == 2 * stats["extracted"]
    assert index.count_by("provinces") == [("江苏", 15), ("浙江", 15)]  # tie: code-point order
    assert index.count_postings(PostingFilter(provinces=["江苏"]), unique_only=True) == 14


def test_reindex_builds_a_new_index_and_swaps_the_alias(index, tmp_path):
    ps = _postings()
    index.index_postings(ps)
    index.set_duplicates({"s004": "s003"})
    before = index.current_indices()
    ranking = index.ranking("skills", metric="median_salary").model_dump()
    new = reindex(index)
    now = index.current_indices()
    assert now and all(name.startswith(f"{new}-") for name in now) and not set(now) & set(before)
    # one index per posting year: the 30 postings are all of 2026
    assert now == [f"{new}-2026"]
    assert not any(index.client.indices.exists(index=name) for name in before)  # old index deleted
    assert index.ranking("skills", metric="median_salary").model_dump() == ranking
    assert index.totals().duplicate_postings == 1
    assert index.search_postings("机器学习").total == 10

    # from another store: the SQLite file's postings replace the index's
    sqlite = SQLiteStore(tmp_path / "s.sqlite3")
    sqlite.upsert_postings(ps[:5])
    reindex(index, sqlite.iter_postings(), batch_size=2)
    assert index.totals().total_postings == 5 and index.totals().duplicate_postings == 0


def test_a_failed_reindex_leaves_the_alias_alone(index):
    index.index_postings(_postings(5))
    before = index.current_indices()

    def broken():
        yield from _postings(3)
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        reindex(index, broken(), batch_size=2)
    assert index.current_indices() == before
    assert index.totals().total_postings == 5
    all_indices = index.client.indices.get(index=f"{index.alias}-v*")
    assert sorted(all_indices) == before  # the half-built index is gone


def test_listing_pages_newest_first_and_search_highlights(index):
    index.index_postings(_postings())
    seen, cursor = [], None
    while True:
        page = index.search_postings(None, PostingFilter(provinces=["江苏"]), cursor=cursor, size=4)
        seen += [(h.posted_date, h.id) for h in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == 15 and seen == sorted(seen, reverse=True)
    page = index.search_postings("机器学习 Python", size=3)
    assert page.total == 10
    assert all("<em>机器学习</em>" in (h.highlight.title or "") for h in page.items)
    assert all(h.skills in ([], ["python", "spark"]) for h in page.items)
    with pytest.raises(CursorError):
        index.search_postings("数据分析", cursor=page.next_cursor)
    with pytest.raises(CursorError):
        index.search_postings(None, cursor="not-a-cursor")


def test_unknown_facet_and_empty_index(index):
    from storage import StoreError

    with pytest.raises(StoreError, match="unknown facet"):
        index.ranking("colours")
    assert index.timeseries() == [] and index.date_range() is None
    assert index.totals().total_postings == 0 and list(index.export_series()) == []
    assert index.skill_cooccurrence() == []


def test_unreachable_server_is_a_clear_store_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SearchStoreError, match="SKILLSIGNAL_SEARCH_URL"):
        OpenSearchIndex.connect(f"http://127.0.0.1:{port}", "x", timeout=2)


def test_settings_select_the_backend_for_store_pipeline_and_api(settings, osmem_search_url, monkeypatch):
    from fastapi.testclient import TestClient

    from skillsignal.pipeline import IngestPipeline
    from skillsignal.server import build_app

    alias = unique_alias("t-settings")
    cfg = settings.model_copy(update={"backend": "opensearch", "search_url": osmem_search_url, "search_index": alias})
    store = open_store(cfg)
    assert isinstance(store, OpenSearchIndex) and store.alias == alias
    assert isinstance(open_store(settings), SQLiteStore)

    store.upsert_postings(_postings(8))
    with TestClient(build_app(cfg)) as client:
        r = client.get("/v1/totals")
        assert r.status_code == 200, r.text
        assert r.json()["total_postings"] == 8
        r = client.get("/v1/postings/search", params={"q": "机器学习"})
        assert r.status_code == 200 and r.json()["total"] == 3
        assert client.get("/v1/rankings/colours").status_code in (400, 422)

    pipeline = IngestPipeline(cfg, extract=False)
    stats = pipeline.process(_postings(12))
    assert 4 <= stats.stored <= 12
    pipeline.close()
    assert store.totals().total_postings == 12
    for name in store.current_indices():
        store.delete_index(name)


def test_reindex_carries_the_seen_dates_and_reads_an_older_index_by_its_crawl_dates(index, tmp_path):
    ps = _postings(6)
    index.index_postings(ps)
    later = [p.model_copy(update={"crawled_at": datetime(2026, 3, 9, tzinfo=UTC)}) for p in ps[:4]]
    index.index_postings(later)
    assert index.close_unseen("51job", date(2026, 3, 9)) == 1  # s004: 51job, not in the later crawl
    lives = {p.id: (p.first_seen, p.last_seen, p.closed_on) for p in index.iter_postings()}
    assert lives["s004"] == (date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 1))
    assert lives["s000"] == (date(2026, 3, 1), date(2026, 3, 9), None)
    reindex(index)
    assert {p.id: (p.first_seen, p.last_seen, p.closed_on) for p in index.iter_postings()} == lives

    # a document indexed before the seen fields existed (mapping v2) reads as seen on its crawl date
    src = {"doc": ps[5].model_dump(mode="json"), "crawled_at": "2026-02-03T23:30:00-02:00"}
    from storage.search.documents import posting_of

    old = posting_of(src)
    assert (old.first_seen, old.last_seen, old.closed_on) == (date(2026, 2, 3), date(2026, 2, 3), None)

    # from the SQLite store, dates included
    sqlite = SQLiteStore(tmp_path / "s.sqlite3")
    sqlite.index_postings(later[:1])
    sqlite.index_postings(ps[:1])
    reindex(index, sqlite.iter_postings())
    assert [(p.first_seen, p.last_seen) for p in index.iter_postings()] == [(date(2026, 3, 1), date(2026, 3, 9))]


def test_an_extraction_never_overwrites_a_version_stored_between_its_check_and_its_write(index):
    """The race the fingerprint check alone leaves open: another writer stores new content after
    save_extractions has read the stored copy and before its bulk write. The write names the copy it
    checked (if_seq_no), so the server refuses it and the newer version stays, unextracted."""
    ps = _postings(4)
    ps[0].extraction = ps[1].extraction = None
    index.index_postings(ps)
    extraction = ps[3].extraction
    newer = ps[0].model_copy(update={"description": ps[0].description + "（岗位已调整）", "fingerprint": ""})
    newer.fingerprint = newer.compute_fingerprint()
    read_stored = index._stored

    def read_then_another_writer_stores(ids):
        held = read_stored(ids)
        index._stored = read_stored  # once
        index.index_postings([newer])  # lands between the check and the write
        return held

    index._stored = read_then_another_writer_stores
    saved = index.save_extractions(
        [(ps[0], extraction, None), (ps[1], extraction, None)],
        expected={ps[0].id: ps[0].fingerprint, ps[1].id: ps[1].fingerprint},
    )
    assert index._stored == read_stored and saved == 1  # ps[1], whose copy nobody touched
    stored = index.get_posting(ps[0].id)
    assert stored.description == newer.description and stored.extraction is None
    assert index.get_posting(ps[1].id).extraction == extraction
    # seen dates and near-duplicate marks ride along as before on the conditional path
    index.set_duplicates({ps[2].id: ps[1].id})
    assert index.save_extractions([(ps[2], extraction, None)], expected={ps[2].id: ps[2].fingerprint}) == 1
    again = index.get_posting(ps[2].id)
    assert again.extraction == extraction and index.totals().duplicate_postings == 1
    assert (again.first_seen, again.last_seen) == (date(2026, 3, 1), date(2026, 3, 1))
