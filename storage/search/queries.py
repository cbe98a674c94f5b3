"""The one query builder both adapters share: a :class:`PostingFilter` becomes a ``bool`` filter,
facets become ``composite`` aggregations (paged exactly, never approximate ``terms`` top-N),
series become ``date_histogram`` with ``calendar_interval`` (zero-filled in Python), and text
search becomes jieba-token phrase queries (plus CJK bigram scoring) with highlights.

Every function returns a plain request body (a dict), so the generated requests can be checked
without a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from ..base import BACHELOR_PLUS, EXPERIENCE_THRESHOLDS, MASTER_PLUS, SENIOR_LEVEL
from ..filters import PostingFilter
from ..results import EXPORT_DIMENSIONS, Interval
from ..shared import EXPORT_VALUES, FACET_VALUES

#: facet -> keyword field it groups by (documents name the derived values as ``posting_values`` does)
FACET_FIELDS: dict[str, str] = {"skills": "skill_ids", **FACET_VALUES, "competencies": "competency_ids"}
#: filter list field -> keyword field (every facet but experience and competencies is also a filter)
LIST_FILTER_FIELDS: dict[str, str] = {k: v for k, v in FACET_FIELDS.items() if k not in ("experience", "competencies")}
#: export dimension -> keyword field
EXPORT_FIELDS: dict[str, str] = {d: EXPORT_VALUES.get(d, "skill_ids") for d in EXPORT_DIMENSIONS}
DATE_FORMAT = "yyyy-MM-dd"
IS_DUP = {"term": {"is_dup": True}}
UNIQUE = {"term": {"is_dup": False}}
#: sub-aggregation counting the duplicates of a bucket (unique = doc_count - dup)
DUP_AGG: dict[str, Any] = {"dup": {"filter": IS_DUP}}


def filter_clauses(flt: PostingFilter | None) -> list[dict[str, Any]]:
    """``bool.filter`` clauses for a filter (same semantics as the SQLite ``WHERE``)."""
    if flt is None:
        return []
    out: list[dict[str, Any]] = []
    if flt.start or flt.end:
        rng: dict[str, str] = {"format": "strict_date"}
        if flt.start:
            rng["gte"] = flt.start.isoformat()
        if flt.end:
            rng["lte"] = flt.end.isoformat()
        out.append({"range": {"posted_date": rng}})
    for name, field in LIST_FILTER_FIELDS.items():
        values = getattr(flt, name)
        if values:
            out.append({"terms": {field: list(values)}})
    numeric = (
        ("experience_min", "experience_min", "gte"),
        ("experience_max", "experience_min", "lte"),
        ("salary_min", "salary_max", "gte"),
        ("salary_max", "salary_min", "lte"),
    )
    for attr, field, op in numeric:
        value = getattr(flt, attr)
        if value is not None:
            out.append({"range": {field: {op: value}}})
    return out


def filter_query(flt: PostingFilter | None, *extra: dict[str, Any]) -> dict[str, Any]:
    clauses = [*filter_clauses(flt), *extra]
    return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}


def count_body(flt: PostingFilter | None, *extra: dict[str, Any]) -> dict[str, Any]:
    """Total and duplicate counts in one request."""
    return {"size": 0, "track_total_hits": True, "query": filter_query(flt, *extra), "aggs": DUP_AGG}


def date_range_body() -> dict[str, Any]:
    """Earliest and latest posting date over the whole index (the default series window)."""
    return {
        "size": 0,
        "query": {"match_all": {}},
        "aggs": {
            "first": {"min": {"field": "posted_date", "format": DATE_FORMAT}},
            "last": {"max": {"field": "posted_date", "format": DATE_FORMAT}},
        },
    }


def period_source(interval: Interval) -> dict[str, Any]:
    if interval not in ("day", "week", "month"):
        raise ValueError(f"unknown interval {interval!r}; one of day, week, month")
    # calendar weeks start on Monday, as ISO weeks (and storage.base.period_start) do
    return {"field": "posted_date", "calendar_interval": interval, "format": DATE_FORMAT}


def timeseries_body(flt: PostingFilter | None, interval: Interval) -> dict[str, Any]:
    """Counts per period that has postings; empty periods are filled in Python."""
    return {
        "size": 0,
        "query": filter_query(flt),
        "aggs": {"per": {"date_histogram": {**period_source(interval), "min_doc_count": 1}, "aggs": DUP_AGG}},
    }


def terms_source(field: str, missing_bucket: bool = False) -> dict[str, Any]:
    src: dict[str, Any] = {"terms": {"field": field}}
    if missing_bucket:
        src["terms"]["missing_bucket"] = True
    return src


def composite_body(
    query: dict[str, Any],
    sources: Sequence[tuple[str, dict[str, Any]]],
    size: int,
    after: dict[str, Any] | None = None,
    aggs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One page of a composite aggregation named ``c`` (page on with ``after_key``)."""
    comp: dict[str, Any] = {"size": size, "sources": [{name: src} for name, src in sources]}
    if after:
        comp["after"] = after
    agg: dict[str, Any] = {"composite": comp}
    if aggs:
        agg["aggs"] = aggs
    return {"size": 0, "query": query, "aggs": {"c": agg}}


def facet_field(facet: str) -> str:
    return FACET_FIELDS[facet]


def ranking_sources(facet: str) -> list[tuple[str, dict[str, Any]]]:
    """Buckets per facet value; a posting without a value is left out (``missing_bucket`` off), and a
    posting counts once in each skill it names (``skill_ids`` holds each skill once)."""
    return [("k", terms_source(facet_field(facet)))]


def salary_sources(facet: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Exact salary histograms (per facet value): medians are computed from them, because the
    ``percentiles`` aggregation is approximate (t-digest) and would not match SQLite's median."""
    keys = ranking_sources(facet) if facet else []
    return [*keys, ("s", {"terms": {"field": "salary_mid"}})]


def salary_query(flt: PostingFilter | None, *extra: dict[str, Any]) -> dict[str, Any]:
    """Unique postings that state a salary (the population of ``median_salary``)."""
    return filter_query(flt, UNIQUE, {"exists": {"field": "salary_mid"}}, *extra)


def keyed_series_sources(facet: str, interval: Interval) -> list[tuple[str, dict[str, Any]]]:
    return [("k", terms_source(facet_field(facet))), ("p", {"date_histogram": period_source(interval)})]


def export_sources(dimensions: Sequence[str], interval: Interval) -> list[tuple[str, dict[str, Any]]]:
    """Period × dimension values; missing values form their own series (``None``) except for skills
    (a posting without skills has no skill row, as in SQLite's join)."""
    out: list[tuple[str, dict[str, Any]]] = [("p", {"date_histogram": period_source(interval)})]
    for i, dim in enumerate(dimensions):
        out.append((f"d{i}", terms_source(EXPORT_FIELDS[dim], missing_bucket=dim != "skill")))
    return out


def cooccurrence_sources() -> list[tuple[str, dict[str, Any]]]:
    """Every (skill, skill) pair a posting names: a composite over the same multi-valued field twice
    yields the per-document cross product; pairs with a < b are kept."""
    return [("a", terms_source("skill_ids")), ("b", terms_source("skill_ids"))]


def search_body(
    phrases: Sequence[str],
    raw_query: str | None,
    flt: PostingFilter | None,
    size: int,
    offset: int = 0,
    search_after: list[Any] | None = None,
    source: Sequence[str] = (),
) -> dict[str, Any]:
    """Full-text search: every phrase must occur in title or description (jieba tokens, the same
    match as SQLite FTS); CJK bigrams of the raw query add to the score only. Without phrases:
    newest first, paged with ``search_after`` on (posted_date, id)."""
    body: dict[str, Any] = {"size": size, "track_total_hits": True, "_source": list(source)}
    if phrases:
        must = [
            {
                "bool": {
                    "should": [
                        {"match_phrase": {"title_seg": {"query": ph, "boost": 2.0}}},
                        {"match_phrase": {"body_seg": {"query": ph}}},
                    ],
                    "minimum_should_match": 1,
                }
            }
            for ph in phrases
        ]
        should = [
            {"match": {"title_cjk": {"query": raw_query or "", "boost": 0.5}}},
            {"match": {"body_cjk": {"query": raw_query or "", "boost": 0.2}}},
        ]
        body["query"] = {"bool": {"must": must, "should": should, "filter": filter_clauses(flt)}}
        # osmem (the test server) ignores search_after when _score is a sort key: relevance pages
        # are addressed by offset, as the SQLite store does (bounded by max_result_window).
        body["sort"] = [{"_score": {"order": "desc"}}, {"posted_date": {"order": "desc"}}, {"id": {"order": "asc"}}]
        body["from"] = offset
        body["highlight"] = {
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
            "fields": {
                "title_seg": {"number_of_fragments": 0},
                "body_seg": {"fragment_size": 160, "number_of_fragments": 1},
            },
        }
    else:
        body["query"] = filter_query(flt)
        body["sort"] = [{"posted_date": {"order": "desc"}}, {"id": {"order": "desc"}}]
        if search_after:
            body["search_after"] = list(search_after)
    return body


def ids_body(ids: Sequence[str], source: Sequence[str]) -> dict[str, Any]:
    return {"size": len(ids), "query": {"ids": {"values": list(ids)}}, "_source": list(source)}


def scan_body(
    size: int,
    after_id: str | None,
    only_unextracted: bool,
    source: Sequence[str],
    query: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Postings (``query``'s, default all) in id order, a page at a time (``search_after`` on ``id``)."""
    if query is None:
        query = (
            {"bool": {"must_not": [{"exists": {"field": "taxonomy_version"}}]}}
            if only_unextracted
            else {"match_all": {}}
        )
    body: dict[str, Any] = {"size": size, "query": query, "sort": [{"id": {"order": "asc"}}], "_source": list(source)}
    if after_id is not None:
        body["search_after"] = [after_id]
    return body


def stats_body() -> dict[str, Any]:
    return {
        "size": 0,
        "track_total_hits": True,
        "query": {"match_all": {}},
        "aggs": {
            "extracted": {"filter": {"exists": {"field": "taxonomy_version"}}},
            "errors": {"filter": {"term": {"has_error": True}}},
            **DUP_AGG,
            "skills": {"nested": {"path": "skills"}},
        },
    }


def open_unseen_query(source: str, crawl_started: date) -> dict[str, Any]:
    """Open postings of ``source`` last seen before ``crawl_started`` (``close_unseen``)."""
    return {
        "bool": {
            "filter": [
                {"term": {"source": source}},
                {"range": {"last_seen": {"lt": crawl_started.isoformat(), "format": "strict_date"}}},
            ],
            "must_not": [{"exists": {"field": "closed_on"}}],
        }
    }


#: sub-aggregations of a signal cell: its unique postings and their requirement mix
SIGNAL_AGGS: dict[str, Any] = {
    "u": {
        "filter": UNIQUE,
        "aggs": {
            "e3": {"filter": {"range": {"experience_min": {"gte": EXPERIENCE_THRESHOLDS[0]}}}},
            "e5": {"filter": {"range": {"experience_min": {"gte": EXPERIENCE_THRESHOLDS[1]}}}},
            "b": {"filter": {"terms": {"education": list(BACHELOR_PLUS)}}},
            "m": {"filter": {"terms": {"education": list(MASTER_PLUS)}}},
            "s": {"filter": {"term": {"level": SENIOR_LEVEL}}},
        },
    }
}


def grouped_facet_sources(facet: str, dimensions: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """Dimension values (a missing value is its own key, None) × facet value (a posting without one
    is left out, as in :func:`ranking_sources`)."""
    out = [(f"d{i}", terms_source(EXPORT_FIELDS[dim], missing_bucket=True)) for i, dim in enumerate(dimensions)]
    return [*out, ("k", terms_source(facet_field(facet)))]


def signal_sources(
    dimensions: Sequence[str], interval: Interval, *extra: tuple[str, dict[str, Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """Period × dimension values (a missing value is its own key, None), then ``extra`` sources."""
    out: list[tuple[str, dict[str, Any]]] = [("p", {"date_histogram": period_source(interval)})]
    out += [(f"d{i}", terms_source(EXPORT_FIELDS[dim], missing_bucket=True)) for i, dim in enumerate(dimensions)]
    return [*out, *extra]
