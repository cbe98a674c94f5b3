"""Posting life across crawls and the demand-signal cells, identically on every backend.

The life tests drive one small store through the writes that move seen dates; the cell tests
compare ``signal_cells`` with a plain-Python computation over the generated postings
(``data.signal_cells``), after every kind of seen-date write (``life_backend``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from skillsignal.core.models import Posting
from storage.filters import PostingFilter
from storage.shared import StoreError

from . import data


def _posting(pid: str, crawl: date, source: str = "boss", **kw) -> Posting:
    return Posting(
        id=pid,
        source=source,
        title=f"数据工程师 {pid}",
        description=f"负责数据平台 {kw.pop('text', '')}",
        crawled_at=datetime(crawl.year, crawl.month, crawl.day, 9, tzinfo=UTC),
        **kw,
    )


def _life(store, pid: str) -> tuple[date | None, date | None, date | None]:
    got = store.get_posting(pid)
    assert got is not None
    return got.first_seen, got.last_seen, got.closed_on


D1, D2, D3, D4 = date(2026, 3, 1), date(2026, 3, 8), date(2026, 3, 15), date(2026, 3, 22)


def test_seen_dates_follow_the_crawls_and_never_move_back(empty_backend):
    s = empty_backend
    s.index_postings([_posting("a", D2), _posting("b", D2)])
    s.refresh()
    assert _life(s, "a") == (D2, D2, None)
    s.index_postings([_posting("a", D3)])  # a later crawl
    s.refresh()
    assert _life(s, "a") == (D2, D3, None)
    s.index_postings([_posting("a", D1)])  # an older file replayed: first seen earlier, last stays
    s.refresh()
    assert _life(s, "a") == (D1, D3, None)
    before = [(p.id, p.first_seen, p.last_seen, p.closed_on) for p in s.iter_postings()]
    s.index_postings([_posting("a", D1), _posting("b", D2)])  # the same file again: nothing changes
    s.refresh()
    assert [(p.id, p.first_seen, p.last_seen, p.closed_on) for p in s.iter_postings()] == before
    # dates a posting carries (a copy from another store) are merged the same way
    s.index_postings([_posting("b", D2, first_seen=D1, last_seen=D4)])
    s.refresh()
    assert _life(s, "b") == (D1, D4, None)


def test_close_unseen_closes_what_a_complete_crawl_missed_and_a_later_sighting_reopens(empty_backend):
    s = empty_backend
    s.index_postings([_posting("a", D1), _posting("b", D1), _posting("c", D1), _posting("x", D1, source="51job")])
    s.index_postings([_posting("a", D2), _posting("b", D2)])
    s.set_duplicates({"b": "a"})
    s.refresh()
    assert s.close_unseen("boss", D2) == 1  # c only: a and b were seen that day, x is another source
    s.refresh()
    assert [_life(s, i) for i in "abcx"] == [(D1, D2, None), (D1, D2, None), (D1, D1, D1), (D1, D1, None)]
    assert s.close_unseen("boss", D2) == 0  # already closed
    s.index_postings([_posting("c", D1)])  # replaying the old file does not reopen it
    s.refresh()
    assert _life(s, "c") == (D1, D1, D1)
    assert s.close_unseen("boss", D3) == 2  # a, b: not seen by the crawl of D3
    s.refresh()
    assert _life(s, "a") == (D1, D2, D2)
    s.index_postings([_posting("c", D3)])  # back in a later crawl: open again
    s.refresh()
    assert _life(s, "c") == (D1, D3, None)
    assert s.totals().duplicate_postings == 1  # the near-duplicate mark survived it all


def test_mark_seen_advances_unchanged_postings_without_reindexing_them(empty_backend):
    s = empty_backend
    s.index_postings([_posting("a", D1), _posting("b", D1)])
    s.set_duplicates({"b": "a"})
    s.refresh()
    assert s.close_unseen("boss", D2) == 2
    s.refresh()
    assert s.mark_seen({"a": D3, "nope": D3}) == {"a": "boss"}  # unknown ids are ignored
    s.refresh()
    assert s.mark_seen({"a": D1}) == {"a": "boss"}  # an older sighting moves nothing
    s.refresh()
    assert [_life(s, i) for i in "ab"] == [(D1, D3, None), (D1, D1, D1)]
    assert s.get_posting("a").title == "数据工程师 a"
    assert s.totals().duplicate_postings == 1


def test_signal_cells_of_a_small_store_by_hand(empty_backend):
    s = empty_backend
    a = _posting("a", D1, posted_at=date(2026, 2, 3))
    a.salary.min, a.salary.max = 10000, 20000
    a.experience.years_min, a.education.level = 5, "硕士"
    a.location.province, a.location.region = "江苏", "east"
    b = _posting("b", D1, posted_at=date(2026, 2, 20))
    b.salary.min = 15000
    b.experience.years_min, b.education.level = 3, "本科"
    b.location.province, b.location.region = "江苏", "east"
    c = _posting("c", D1, posted_at=date(2026, 2, 21))  # a near-duplicate of b
    c.location.province, c.location.region = "江苏", "east"
    d = _posting("d", D2, posted_at=date(2026, 3, 2))  # no province
    s.index_postings([a, b, c, d])
    s.set_duplicates({"c": "b"})
    s.index_postings([a.model_copy(update={"crawled_at": datetime(2026, 3, 15, 9, tzinfo=UTC)})])  # a re-crawl
    s.refresh()
    s.close_unseen("boss", D3)  # b, c, d closed on their last_seen
    s.refresh()
    cells = s.signal_cells(None, ("province",), "month")
    assert [(c.key, c.period, c.total_postings, c.unique_postings) for c in cells] == [
        ((None,), date(2026, 3, 1), 1, 1),
        (("江苏",), date(2026, 2, 1), 3, 2),
    ]
    jiangsu = cells[1]
    assert jiangsu.salaries == [(15000.0, 2)]
    assert (jiangsu.experience_3plus, jiangsu.experience_5plus) == (2, 1)
    assert (jiangsu.bachelor_plus, jiangsu.master_plus, jiangsu.senior) == (2, 1, 0)
    assert jiangsu.durations == [(0, True, 1), (14, False, 1)]
    assert cells[0].durations == [(0, True, 1)]
    assert s.signal_cells(PostingFilter(provinces=["浙江"]), ("province",)) == []
    whole = s.signal_cells(None, (), "month")
    assert [(c.key, c.period, c.total_postings) for c in whole] == [
        ((), date(2026, 2, 1), 3),
        ((), date(2026, 3, 1), 1),
    ]
    with pytest.raises(StoreError, match="unknown signal dimension"):
        s.signal_cells(None, ("skill",))


# -- every backend against the reference, after every kind of seen-date write -------------------------
SIGNAL_FILTERS = {
    "all": PostingFilter(),
    "window": PostingFilter(start=date(2026, 2, 1), end=date(2026, 3, 15)),
    "occupation": PostingFilter(occupations=["2-02-38-01", "2-02-38-03"], levels=["中级", "高级"]),
    "place+salary": PostingFilter(regions=["east", "west"], salary_min=12000),
    "empty": PostingFilter(start=date(2030, 1, 1)),
}
SIGNAL_DIMS = [(), ("occupation", "level", "province"), ("region",), ("direction", "level"), ("province", "occupation")]


def _plain(cells) -> list[tuple]:
    return [
        (
            c.key,
            c.period,
            c.total_postings,
            c.unique_postings,
            c.salaries,
            c.experience_3plus,
            c.experience_5plus,
            c.bachelor_plus,
            c.master_plus,
            c.senior,
            c.durations,
        )
        for c in cells
    ]


def test_the_stored_lives_are_the_expected_ones(life_backend, life_dataset):
    postings, _, _, seen, close = life_dataset
    lives = data.final_lives(postings, seen, close)
    got = {p.id: (p.first_seen, p.last_seen, p.closed_on) for p in life_backend.iter_postings()}
    assert got == lives
    closed = sum(1 for _, _, c in lives.values() if c)
    assert 100 < closed < 350 and sum(1 for i in seen if lives[i][2] is None) == len(seen)


@pytest.mark.parametrize("dims", SIGNAL_DIMS, ids=lambda d: "+".join(d) or "none")
@pytest.mark.parametrize("name", SIGNAL_FILTERS)
def test_signal_cells_match_the_reference(life_backend, life_dataset, name, dims):
    postings, dups, _, seen, close = life_dataset
    lives = data.final_lives(postings, seen, close)
    want = data.signal_cells(postings, dups, lives, SIGNAL_FILTERS[name], dims, "month")
    got = _plain(life_backend.signal_cells(SIGNAL_FILTERS[name], dims, "month"))
    assert got == want
    if name != "empty":
        assert want and any(row[4] for row in want) and any(len(row[10]) > 1 for row in want)


@pytest.mark.parametrize("interval", ["day", "week"])
def test_signal_cells_by_day_and_week(life_backend, life_dataset, interval):
    postings, dups, _, seen, close = life_dataset
    lives = data.final_lives(postings, seen, close)
    flt = PostingFilter(start=date(2026, 2, 1), end=date(2026, 2, 28))
    want = data.signal_cells(postings, dups, lives, flt, ("region",), interval)
    assert _plain(life_backend.signal_cells(flt, ("region",), interval)) == want
