"""Bounded text search on a real SQLite file: the pages follow the unbounded BM25 order exactly, the
filter is applied as before, and totals are exact up to the cap and flagged as a lower bound above it."""

from __future__ import annotations

from datetime import date

import pytest

from skillsignal.core.state_files import StoreError
from storage import PostingFilter, SQLiteStore, fts
from storage.sqlite import reads
from storage.sqlite.sql import where_clause

from .conformance import data

FILTERS = [
    None,
    PostingFilter(provinces=["江苏"]),
    PostingFilter(start=date(2026, 2, 1), end=date(2026, 3, 15), occupations=["2-02-38-01", "other"]),
    PostingFilter(skills=["python"], salary_min=12000),
    PostingFilter(regions=["west"], levels=["高级"]),
    PostingFilter(experience_min=3),  # no index answers it: looked up per match in every plan
]
#: a word in every title, one in about a seventh of the postings, and two words that must both occur
QUERIES = ["工程师", "机器学习", "负责 python"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    postings, dups = data.generate(400)
    s = SQLiteStore(tmp_path_factory.mktemp("fts") / "store.sqlite3")
    s.index_postings(postings)
    s.set_duplicates(dups)
    yield s
    s.close()


def unbounded(store: SQLiteStore, query: str, flt: PostingFilter | None) -> list[str]:
    """Every match in the order the store ranked them before bounding: a join of each match with
    ``postings``, BM25 then row id."""
    match = fts.match_expression(query)
    where, params = where_clause(flt)
    rows = (
        store._connect()
        .execute(
            "SELECT p.id FROM posting_fts f JOIN postings p ON p.rid = f.rowid "
            f"WHERE posting_fts MATCH ? AND {where} ORDER BY bm25(posting_fts), p.rid",
            [match, *params],
        )
        .fetchall()
    )
    return [r[0] for r in rows]


def all_pages(store: SQLiteStore, query: str, flt: PostingFilter | None, size: int, cap: int | None) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(1000):
        page = store.search_postings(query, flt, cursor=cursor, size=size, total_cap=cap)
        seen += [h.id for h in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


#: the filter plans of ``storage.sqlite.reads._fts_sources``, forced by its limits (the test data is
#: small: left alone, every word here takes the first)
PLANS = {
    "lookup per match (rare word)": (10**9, 10**9),
    "filter's row-id set (common word, narrow filter)": (0, 10**9),
    "row-id set to rank, lookups to count (common word, broad filter)": (0, 1),
}


@pytest.mark.parametrize("plan", list(PLANS))
@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("flt", FILTERS)
def test_pages_follow_the_unbounded_order_and_the_filter(store, query, flt, plan, monkeypatch):
    monkeypatch.setattr(reads, "_PER_MATCH_MAX", PLANS[plan][0])
    monkeypatch.setattr(reads, "_ROWID_SET_MAX", PLANS[plan][1])
    postings, _ = data.generate(400)
    want = unbounded(store, query, flt)
    if flt is not None:  # the filter selects what the plain-Python reference says, among the matches
        every_match = set(unbounded(store, query, None))
        assert set(want) == {p.id for p in postings if p.id in every_match and data.matches(p, flt)}
    assert want, "each case must match something, or it tests nothing"
    assert all_pages(store, query, flt, size=7, cap=None) == want
    assert all_pages(store, query, flt, size=7, cap=3) == want  # the cap bounds the count, never the order
    first = store.search_postings(query, flt, size=5)
    assert [h.id for h in first.items] == want[:5]
    assert all("<em>" in (h.highlight.title or "") + (h.highlight.description or "") for h in first.items)


def test_the_order_breaks_score_ties_by_row(store):
    """The common word of the test data is in every title once: many postings score the same, and
    the order among them is the store's row order, as before."""
    scores = [
        r[0]
        for r in store._connect().execute(
            "SELECT bm25(posting_fts) FROM posting_fts WHERE posting_fts MATCH ?", [fts.match_expression("工程师")]
        )
    ]
    assert len(scores) - len(set(scores)) > 100  # ties to break
    assert all_pages(store, "工程师", None, size=9, cap=None) == unbounded(store, "工程师", None)


@pytest.mark.parametrize("plan", list(PLANS))
@pytest.mark.parametrize("flt", [None, PostingFilter(provinces=["江苏"])])
def test_total_is_exact_up_to_the_cap_and_a_lower_bound_above_it(store, flt, plan, monkeypatch):
    monkeypatch.setattr(reads, "_PER_MATCH_MAX", PLANS[plan][0])
    monkeypatch.setattr(reads, "_ROWID_SET_MAX", PLANS[plan][1])
    n = len(unbounded(store, "工程师", flt))
    assert n > 20
    first = [h.id for h in store.search_postings("工程师", flt, size=10, total_cap=None).items]
    for cap, total, relation in [
        (None, n, "eq"),
        (n + 1, n, "eq"),
        (n, n, "eq"),
        (n - 1, n - 1, "gte"),
        (1, 1, "gte"),
    ]:
        page = store.search_postings("工程师", flt, size=10, total_cap=cap)
        assert (page.total, page.total_relation) == (total, relation), cap
        assert [h.id for h in page.items] == first
    assert store.search_postings("工程师", flt, size=10).total_relation == "eq"  # default cap 10,000


def test_no_match_and_listing_totals_are_exact(store):
    page = store.search_postings("量子计算", PostingFilter(provinces=["江苏"]), total_cap=1)
    assert (page.total, page.total_relation, page.items, page.next_cursor) == (0, "eq", [], None)
    listing = store.search_postings(None, PostingFilter(provinces=["江苏"]), total_cap=1)
    assert listing.total_relation == "eq" and listing.total > 1


def test_cap_must_be_positive(store):
    with pytest.raises(StoreError, match="total_cap"):
        store.search_postings("工程师", total_cap=0)
