"""Every backend answers totals, series, rankings, co-occurrence, exports and search identically
on the same generated postings (checked against the plain-Python reference in ``data.py``)."""

from __future__ import annotations

from datetime import date

import pytest

from storage.filters import PostingFilter
from storage.results import FACETS

from . import data

FILTERS = {
    "all": PostingFilter(),
    "window": PostingFilter(start=date(2026, 2, 1), end=date(2026, 3, 15)),
    "occupation": PostingFilter(occupations=["2-02-38-01"], start=date(2026, 1, 10), end=date(2026, 4, 1)),
    "skills+level": PostingFilter(skills=["python", "spark"], levels=["中级", "高级"]),
    "place": PostingFilter(provinces=["江苏"], regions=["east"], cities=["苏州"]),
    "salary+exp": PostingFilter(salary_min=15000, salary_max=22000, experience_min=1, experience_max=5),
    "misc": PostingFilter(companies=["甲科技", "乙数据"], industries=["互联网"], education=["本科"], sources=["boss"]),
    "direction": PostingFilter(directions=["bigdata"], start=date(2026, 3, 1)),
    "empty": PostingFilter(start=date(2030, 1, 1), end=date(2030, 1, 31)),
}


@pytest.mark.parametrize("name", FILTERS)
def test_totals(backend, dataset, name):
    postings, dups = dataset
    got = backend.totals(FILTERS[name]).model_dump()
    want = data.totals(postings, dups, FILTERS[name])
    assert got["total_postings"] == want["total_postings"]
    assert got == pytest.approx(want)


def test_totals_are_not_trivial(backend, dataset):
    t = backend.totals(PostingFilter())
    assert t.total_postings == 400 and 0 < t.duplicate_postings < 100 and t.median_salary


@pytest.mark.parametrize("interval", ["day", "week", "month"])
@pytest.mark.parametrize("name", ["all", "window", "occupation", "skills+level", "empty"])
def test_timeseries(backend, dataset, name, interval):
    postings, dups = dataset
    got = [
        (p.period, p.unique_postings, p.duplicate_postings, p.total_postings)
        for p in backend.timeseries(FILTERS[name], interval)
    ]
    assert got == data.timeseries(postings, dups, FILTERS[name], interval)


@pytest.mark.parametrize(
    "flt",
    [
        PostingFilter(skills=["python"]),
        PostingFilter(skills=["spark"], levels=["中级"], start=date(2026, 1, 20), end=date(2026, 3, 31)),
        PostingFilter(skills=["sql"], occupations=["2-02-38-01", "other"], regions=["east"]),
        PostingFilter(skills=["docker"], salary_min=15000),  # a column the link table lacks: postings read
    ],
    ids=["skill", "skill+level+window", "skill+occupation+region", "skill+salary"],
)
@pytest.mark.parametrize("interval", ["week", "month"])
def test_timeseries_of_one_skill(backend, dataset, flt, interval):
    """One skill's series (SQLite reads it from the link rows alone) equals the reference."""
    postings, dups = dataset
    got = [
        (p.period, p.unique_postings, p.duplicate_postings, p.total_postings) for p in backend.timeseries(flt, interval)
    ]
    want = data.timeseries(postings, dups, flt, interval)
    assert got == want and sum(row[3] for row in want) > 0 and any(row[2] for row in want)


@pytest.mark.parametrize("facet", FACETS)
@pytest.mark.parametrize("name", ["all", "occupation", "salary+exp"])
def test_rankings(backend, dataset, facet, name):
    postings, dups = dataset
    got = backend.ranking(facet, FILTERS[name], metric="unique_postings", limit=5)
    assert [(b.key, b.value) for b in got.buckets] == data.ranking(
        postings, dups, facet, FILTERS[name], "unique_postings", 5
    )
    assert got.totals.total_postings == data.totals(postings, dups, FILTERS[name])["total_postings"]


_NARROW = {"occupation": "occupations", "direction": "directions", "level": "levels", "region": "regions"}


@pytest.mark.parametrize("by", [("occupation", "level"), ("region",), ("occupation", "direction", "level"), ()])
@pytest.mark.parametrize("facet", ["skills", "competencies", "provinces"])
@pytest.mark.parametrize("name", ["all", "window", "occupation", "skills+level", "empty"])
def test_grouped_rankings_equal_a_ranking_per_group(backend, dataset, facet, name, by):
    """The one grouped query the catalogue uses equals a ranking per combination (the old path),
    ties and zero-unique values included; combinations without a value are their own group."""
    postings, dups = dataset
    base = FILTERS[name]
    got = backend.grouped_rankings(facet, base, by, limit=3)
    want_groups = {
        tuple(data._field(p, _NARROW[d])[0] for d in by)
        for p in postings
        if data.matches(p, base) and any(v is not None for v in data._field(p, facet))
    }
    assert set(got) == want_groups
    if name != "empty":
        assert got and any(len(buckets) > 1 for buckets in got.values())
    for group, buckets in got.items():
        if None in group:  # a filter cannot select "no value"
            continue
        narrowed = base.model_copy(update={_NARROW[d]: [v] for d, v in zip(by, group, strict=True)})
        ranking = backend.ranking(facet, narrowed, metric="unique_postings", limit=3)
        assert [b.model_dump() for b in buckets] == [b.model_dump() for b in ranking.buckets], group


@pytest.mark.parametrize("metric", ["duplicate_postings", "total_postings", "posting_intensity", "median_salary"])
@pytest.mark.parametrize("facet", ["skills", "provinces", "experience", "competencies"])
def test_ranking_metrics(backend, dataset, facet, metric):
    postings, dups = dataset
    got = backend.ranking(facet, FILTERS["window"], metric=metric, limit=20)
    want = data.ranking(postings, dups, facet, FILTERS["window"], metric, 20)
    assert [b.key for b in got.buckets] == [k for k, _ in want]
    assert [b.value for b in got.buckets] == pytest.approx([v for _, v in want])


@pytest.mark.parametrize("facet", ["skills", "occupations", "cities"])
def test_ranking_timeseries(backend, dataset, facet):
    postings, dups = dataset
    flt = FILTERS["window"]
    got = backend.ranking_timeseries(facet, flt, "week", limit=3)
    top = [k for k, _ in data.ranking(postings, dups, facet, flt, "unique_postings", 3)]
    assert [s.key for s in got.series] == top
    for s in got.series:
        sub = flt.model_copy(update={facet: [s.key]})
        assert [
            (p.period, p.unique_postings, p.duplicate_postings, p.total_postings) for p in s.points
        ] == data.timeseries(postings, dups, sub, "week")
    chosen = backend.ranking_timeseries(facet, flt, "month", keys=["nonexistent", top[0]])
    assert [s.key for s in chosen.series] == ["nonexistent", top[0]]
    assert all(p.total_postings == 0 for p in chosen.series[0].points)


def test_competency_rankings_and_series(backend, dataset):
    """Competencies are not a filter, so their series are checked against the postings naming each."""
    postings, dups = dataset
    flt = FILTERS["occupation"]
    want = data.ranking(postings, dups, "competencies", flt, "unique_postings", 10)
    assert len(want) >= 3 and all(k.startswith("ai.") for k, _ in want)  # only the filtered occupation's
    got = backend.ranking("competencies", flt, limit=10)
    assert [(b.key, b.value) for b in got.buckets] == want
    series = backend.ranking_timeseries("competencies", flt, "week", limit=2)
    assert [s.key for s in series.series] == [k for k, _ in want[:2]]
    for s in series.series:
        naming = [p for p in postings if s.key in data._field(p, "competencies")]
        assert [
            (p.period, p.unique_postings, p.duplicate_postings, p.total_postings) for p in s.points
        ] == data.timeseries(naming, dups, flt, "week")


@pytest.mark.parametrize("name", ["all", "occupation"])
def test_skill_cooccurrence(backend, dataset, name):
    postings, dups = dataset
    want = data.cooccurrence(postings, dups, FILTERS[name])
    got = backend.skill_cooccurrence(FILTERS[name], limit=10)
    expected = sorted(want.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [((p.skill_a, p.skill_b), p.count) for p in got] == expected
    assert all(p.lift > 0 and p.count <= min(p.count_a, p.count_b) for p in got)


def test_export_series_sums_to_totals(backend, dataset):
    postings, dups = dataset
    flt = FILTERS["window"]
    rows = list(backend.export_series(flt, "month", ["occupation", "level"]))
    assert sum(r.count for r in rows) == data.totals(postings, dups, flt)["total_postings"]
    assert sum(r.unique_count for r in rows) == data.totals(postings, dups, flt)["unique_postings"]
    periods = {r.period for r in rows}
    assert periods == {date(2026, 2, 1), date(2026, 3, 1)}
    # zero-filled: every series has every period
    series = {(r.occupation, r.level) for r in rows}
    assert len(rows) == len(series) * len(periods)
    by_skill = list(backend.export_series(flt, "month", ["skill"]))
    want = dict(data.ranking(postings, dups, "skills", flt, "total_postings", 100))
    got: dict[str, int] = {}
    for r in by_skill:
        got[r.skill] = got.get(r.skill, 0) + r.count
    assert got == want


def test_search_finds_chinese_words_with_filters_and_pages(backend, dataset):
    postings, dups = dataset
    flt = PostingFilter(provinces=["江苏"])
    want = {p.id for p in postings if "机器学习" in p.title and data.matches(p, flt)}
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        page = backend.search_postings("机器学习", flt, cursor=cursor, size=7)
        assert page.total == len(want)
        seen += [h.id for h in page.items]
        for h in page.items:
            assert "<em>" in (h.highlight.title or "") + (h.highlight.description or "")
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and set(seen) == want


def test_get_posting_round_trips(backend, dataset):
    postings, _ = dataset
    got = backend.get_posting(postings[3].id)
    assert got is not None and got.title == postings[3].title
    assert backend.get_posting("missing") is None
