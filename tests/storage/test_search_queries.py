"""The search backend's request bodies and documents, checked without a server: the query builder
(filters, composite facets, series, text search), the index template and the document builder, and
what the official Elasticsearch client really sends (a recording HTTP server on 127.0.0.1 that
answers as Elasticsearch does, headers included)."""

from __future__ import annotations

import json
import re
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import ValidationError

from skillsignal.core.models import Extraction, OccupationMatch, Posting, SkillMatch
from storage import fts
from storage.filters import PostingFilter
from storage.search import ElasticsearchIndex, Layout, ShardPlan, mapping, median_of_histogram
from storage.search import queries as q
from storage.search.documents import query_phrases, to_document, to_hit


def _posting(i: int = 1, **kw) -> Posting:
    p = Posting(
        id=f"p{i}",
        source="boss",
        title="机器学习工程师",
        description="负责机器学习平台，熟悉Python。",
        posted_at=date(2026, 3, 4),
        crawled_at="2026-03-05T00:00:00+00:00",
        **kw,
    )
    p.salary.min, p.salary.max = 10000, 20000
    p.experience.years_min = 3
    p.extraction = Extraction(
        occupation=OccupationMatch(code="2-02-38-01", name="AI", direction="ml"),
        level="中级",
        skills=[
            SkillMatch(id="python", name="Python", score=0.5),
            SkillMatch(id="pytorch", name="PyTorch", score=0.9),
            SkillMatch(id="python", name="Python"),
        ],
        taxonomy_version="t1",
        extractor_version="e1",
    )
    return p


def test_filter_becomes_bool_filter_with_sqlite_semantics():
    flt = PostingFilter(
        start=date(2026, 1, 1),
        end=date(2026, 2, 1),
        occupations=["2-02-38-01", "other"],
        skills=["python"],
        regions=["east"],
        experience_min=1,
        experience_max=5,
        salary_min=8000,
        salary_max=30000,
    )
    clauses = q.filter_clauses(flt)
    assert {"range": {"posted_date": {"format": "strict_date", "gte": "2026-01-01", "lte": "2026-02-01"}}} in clauses
    assert {"terms": {"occupation": ["2-02-38-01", "other"]}} in clauses
    assert {"terms": {"skill_ids": ["python"]}} in clauses  # any of the listed skills
    assert {"terms": {"region": ["east"]}} in clauses
    # experience bounds both apply to years_min; salary bounds overlap the posting's range
    assert {"range": {"experience_min": {"gte": 1}}} in clauses
    assert {"range": {"experience_min": {"lte": 5}}} in clauses
    assert {"range": {"salary_max": {"gte": 8000}}} in clauses
    assert {"range": {"salary_min": {"lte": 30000}}} in clauses
    assert len(clauses) == 8
    assert q.filter_query(None) == {"match_all": {}}
    assert q.filter_query(PostingFilter(), q.UNIQUE) == {"bool": {"filter": [q.UNIQUE]}}


def test_every_facet_and_export_dimension_maps_to_a_mapped_keyword_field():
    props = mapping.load_template().mappings["properties"]
    from storage.results import EXPORT_DIMENSIONS, FACETS

    assert set(q.FACET_FIELDS) == set(FACETS)
    assert set(q.EXPORT_FIELDS) == set(EXPORT_DIMENSIONS)
    for field in [*q.FACET_FIELDS.values(), *q.EXPORT_FIELDS.values()]:
        assert props[field]["type"] == "keyword", field


def test_series_and_facets_are_exact_composites_and_calendar_histograms():
    body = q.timeseries_body(PostingFilter(levels=["高级"]), "week")
    hist = body["aggs"]["per"]["date_histogram"]
    assert hist["calendar_interval"] == "week" and hist["field"] == "posted_date"
    assert body["aggs"]["per"]["aggs"] == q.DUP_AGG
    with pytest.raises(ValueError):
        q.timeseries_body(None, "year")  # type: ignore[arg-type]  # a wrong interval on purpose
    page = q.composite_body({"match_all": {}}, q.ranking_sources("skills"), 100, after={"k": "java"}, aggs=q.DUP_AGG)
    comp = page["aggs"]["c"]["composite"]
    assert comp == {"size": 100, "sources": [{"k": {"terms": {"field": "skill_ids"}}}], "after": {"k": "java"}}
    assert page["size"] == 0 and page["aggs"]["c"]["aggs"] == q.DUP_AGG
    exp = dict(q.export_sources(["occupation", "skill"], "month"))
    assert exp["d0"]["terms"]["missing_bucket"] is True  # postings without an occupation form a None series
    assert "missing_bucket" not in exp["d1"]["terms"]  # postings without skills have no skill rows
    assert [n for n, _ in q.cooccurrence_sources()] == ["a", "b"]
    sal = q.salary_query(None)["bool"]["filter"]
    assert q.UNIQUE in sal and {"exists": {"field": "salary_mid"}} in sal


def test_search_body_matches_jieba_phrases_and_scores_bigrams():
    phrases = query_phrases("机器学习  Python")
    assert len(phrases) == 2
    assert all(fts.SEP not in ph or ph.replace(fts.SEP, "") in ("机器学习",) for ph in phrases)
    body = q.search_body(phrases, "机器学习 Python", PostingFilter(provinces=["江苏"]), 11, offset=20, source=["id"])
    must = body["query"]["bool"]["must"]
    assert len(must) == 2 and all(m["bool"]["minimum_should_match"] == 1 for m in must)
    assert {"match_phrase": {"body_seg": {"query": phrases[0]}}} in must[0]["bool"]["should"]
    assert body["query"]["bool"]["filter"] == [{"terms": {"province": ["江苏"]}}]
    assert {s_field for s in body["query"]["bool"]["should"] for s_field in s["match"]} == {"title_cjk", "body_cjk"}
    assert body["from"] == 20 and body["size"] == 11 and body["track_total_hits"] is True
    assert set(body["highlight"]["fields"]) == {"title_seg", "body_seg"}
    listing = q.search_body([], None, None, 5, search_after=["2026-01-01", "p9"])
    assert listing["search_after"] == ["2026-01-01", "p9"] and "highlight" not in listing
    assert listing["sort"][0] == {"posted_date": {"order": "desc"}}
    assert query_phrases(" ，。 ") == []


def test_document_carries_shared_derived_values_and_matches_the_mapping():
    p = _posting()
    doc = to_document(p, is_dup=True, dup_of="p0")
    assert set(doc) == mapping.DOCUMENT_FIELDS
    assert doc["salary_mid"] == 15000 and doc["experience_band"] == "3-5年" and doc["posted_date"] == "2026-03-04"
    assert doc["skill_ids"] == ["python", "pytorch"]  # each skill once
    assert [s["id"] for s in doc["skills"]] == ["python", "pytorch"] and doc["skills"][0]["required"] is True
    assert doc["title_seg"].replace(fts.SEP, "") == p.title and fts.SEP in doc["title_seg"]
    assert Posting.model_validate(doc["doc"]) == p
    hit = to_hit(
        {"_source": doc, "highlight": {"title_seg": [f"<em>机器</em>{fts.SEP}<em>学习</em>{fts.SEP}工程师"]}},
        searched=True,
    )
    assert hit.highlight.title == "<em>机器学习</em>工程师"
    assert hit.skills == ["pytorch", "python"]  # best score first, as SQLite orders them
    assert hit.duplicate is True


def test_template_schema_rejects_a_mapping_that_misses_document_fields():
    t = mapping.load_template()
    assert t.mappings["properties"]["skills"]["type"] == "nested"
    broken = t.model_dump()
    del broken["mappings"]["properties"]["salary_mid"]
    with pytest.raises(ValidationError, match="salary_mid"):
        mapping.IndexTemplate.model_validate(broken)
    name = Layout("skillsignal-postings", mapping.new_generation(), "month").index_for(date(2026, 3, 9))
    pattern = mapping.template_body("skillsignal-postings")["index_patterns"][0]
    assert re.fullmatch(pattern.replace("*", ".*"), name) and f"-v{t.version}-" in name and name.endswith("-2026-03")


@pytest.mark.parametrize(
    "hist, want",
    [
        ([], None),
        ([(10.0, 1)], 10.0),
        ([(10.0, 1), (20.0, 1)], 15.0),
        ([(30.0, 2), (10.0, 1), (20.0, 1)], 25.0),
        ([(10.0, 3), (20.0, 1)], 10.0),
    ],
)
def test_median_of_histogram_is_the_ordinary_median(hist, want):
    from storage.base import median

    assert median_of_histogram(hist) == want
    assert median([v for v, c in hist for _ in range(c)]) == want


# -- the official client on the wire ------------------------------------------------------------
class _Recorder(BaseHTTPRequestHandler):
    requests: list[tuple[str, str, dict[str, str], bytes]] = []

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, raw))
        path = self.path.split("?")[0]
        if path.startswith("/_alias/"):
            return self._answer(404, {"error": "alias missing", "status": 404})
        if self.command == "HEAD":
            return self._answer(404, {})
        if path.endswith("/_bulk"):
            lines = [json.loads(x) for x in raw.decode().splitlines() if x.strip()]
            items = [{next(iter(a)): {"_id": a[next(iter(a))]["_id"], "status": 200}} for a in lines[::2]]
            return self._answer(200, {"errors": False, "took": 1, "items": items})
        if path.endswith("/_search"):
            return self._answer(
                200,
                {
                    "hits": {"total": {"value": 3, "relation": "eq"}, "hits": []},
                    "aggregations": {"dup": {"doc_count": 1}, "c": {"buckets": []}},
                },
            )
        return self._answer(200, {"acknowledged": True})

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


@pytest.fixture
def recording_es():
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    server.shutdown()
    server.server_close()


def test_elasticsearch_adapter_sends_the_builder_bodies_as_elasticsearch_expects(recording_es):
    url, seen = recording_es
    index = ElasticsearchIndex.connect(
        url.replace("http://", "http://elastic:s3cret@"), "jobs", plan=ShardPlan(shards=3, replicas=1)
    )
    created = [(m, p) for m, p, _, _ in seen]
    assert ("PUT", "/_index_template/jobs-template") in created
    template = next(json.loads(b) for m, p, _, b in seen if p == "/_index_template/jobs-template")
    assert template["template"]["settings"]["number_of_shards"] == 3
    assert template["template"]["settings"]["number_of_replicas"] == 1
    put_index = [(p, json.loads(b)) for m, p, _, b in seen if m == "PUT" and p.startswith("/jobs-v")]
    # the index of this year's postings, so that the alias exists before the first write
    assert [p for p, _ in put_index] == [f"/jobs-v{mapping.load_template().version}-0-{date.today().year}"]
    assert put_index[0][1]["settings"]["number_of_shards"] == 3
    alias_call = next(json.loads(b) for m, p, _, b in seen if p.startswith("/_aliases"))
    assert alias_call["actions"][0]["add"] == {"index": put_index[0][0][1:], "alias": "jobs"}
    assert all(h.get("authorization", "").startswith("Basic ") for _, _, h, _ in seen)

    seen.clear()
    index.index_postings([_posting(1), _posting(2)])
    bulk = [r for r in seen if r[1].split("?")[0] == "/_bulk"]
    assert len(bulk) == 1 and "refresh=wait_for" in bulk[0][1]
    assert "compatible-with=9" in bulk[0][2]["content-type"] and "x-ndjson" in bulk[0][2]["content-type"]
    lines = [json.loads(x) for x in bulk[0][3].decode().splitlines()]
    # written to the index of the posting's year (created first), never through the alias
    assert lines[0] == {"update": {"_index": f"jobs-v{mapping.load_template().version}-0-2026", "_id": "p1"}}
    # the partial doc leaves near-duplicate marks alone; the upsert inserts unmarked
    assert "is_dup" not in lines[1]["doc"] and lines[1]["upsert"]["is_dup"] is False
    assert lines[1]["doc"]["salary_mid"] == 15000

    seen.clear()
    flt = PostingFilter(levels=["中级"])
    totals = index.totals(flt)
    assert (totals.total_postings, totals.unique_postings, totals.median_salary) == (3, 2, None)
    searches = [json.loads(b) for _, p, _, b in seen if p.startswith("/jobs/_search")]
    assert searches == [q.count_body(flt), q.composite_body(q.salary_query(flt), q.salary_sources(), index.page_size)]
