"""Postings search (Chinese full text, highlights, filters, cursor pages), one posting, extract, ingest key."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.storage.conformance import data

from .conftest import make_settings


def test_chinese_search_with_highlights_filters_and_cursor_pages(client, dataset):
    postings, _ = dataset
    want = {p.id for p in postings if "大数据平台" in p.title and p.location.region == "east"}
    assert len(want) > 10
    seen, cursor = [], None
    while True:
        params = {"q": "大数据", "regions": "east", "size": 10}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/postings/search", params=params).json()
        assert page["total"] == len(want)
        for hit in page["items"]:
            assert "<em>大数据</em>" in hit["highlight"]["title"]
            assert "\u200b" not in hit["highlight"]["title"]
        seen += [h["id"] for h in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) and set(seen) == want


def test_search_ands_terms_and_lists_skills(client, dataset):
    postings, _ = dataset
    got = client.post("/v1/postings/search", json={"query": "深度学习 python", "size": 50}).json()
    want = {p.id for p in postings if "深度学习" in p.title and "python" in p.description}
    assert {h["id"] for h in got["items"]} == want and want
    assert all("python" in h["skills"] for h in got["items"] if h["occupation"])


def test_search_without_query_is_newest_first_and_cursor_is_bound_to_its_query(client):
    first = client.get("/v1/postings/search", params={"size": 5}).json()
    dates = [h["posted_date"] for h in first["items"]]
    assert dates == sorted(dates, reverse=True) and first["total"] == 400
    second = client.get("/v1/postings/search", params={"size": 5, "cursor": first["next_cursor"]}).json()
    assert second["items"][0]["posted_date"] <= dates[-1]
    assert not {h["id"] for h in first["items"]} & {h["id"] for h in second["items"]}
    other = client.get("/v1/postings/search", params={"q": "数据", "cursor": first["next_cursor"]})
    assert other.status_code == 422 and other.json()["detail"][0]["loc"] == ["query", "cursor"]
    assert other.json()["detail"][0]["msg"].startswith("cursor")


def test_search_total_is_exact_up_to_the_cap_then_flagged_gte(client, tmp_path, dataset):
    """Every title has 工程师: 400 matches, exact under the default cap; an app capped at 100 says
    'at least 100' and serves the same first page."""
    postings, dups = dataset
    full = client.get("/v1/postings/search", params={"q": "工程师", "size": 5}).json()
    assert (full["total"], full["total_relation"]) == (400, "eq")
    from skillsignal.server import build_app

    settings = make_settings(tmp_path).model_copy(update={"search_total_cap": 100})
    app = build_app(settings)
    app.state.store.index_postings(postings)
    app.state.store.set_duplicates(dups)
    with TestClient(app) as capped:
        got = capped.get("/v1/postings/search", params={"q": "工程师", "size": 5}).json()
        assert (got["total"], got["total_relation"]) == (100, "gte")
        assert [h["id"] for h in got["items"]] == [h["id"] for h in full["items"]]
        body = capped.post("/v1/postings/search", json={"query": "机器学习", "size": 5}).json()
        want = sum("机器学习" in p.title for p in postings)
        assert 0 < want < 100 and (body["total"], body["total_relation"]) == (want, "eq")
        schema = capped.get("/openapi.json").json()["components"]["schemas"]["Page"]["properties"]
        assert schema["total_relation"]["enum"] == ["eq", "gte"]


def test_get_posting_and_404(client, dataset):
    postings, _ = dataset
    assert client.get(f"/v1/postings/{postings[0].id}").json()["title"] == postings[0].title
    assert client.get("/v1/postings/nope").status_code == 404


def test_writes_need_the_api_key(client):
    body = [{"id": "k1", "source": "api", "title": "Python工程师"}]
    assert client.post("/v1/postings", json=body).status_code == 401
    assert client.post("/v1/postings", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/v1/postings/k1").status_code == 404


def test_extract_calls_the_apps_extractor(client):
    res = client.post(
        "/v1/extract", json={"id": "x", "source": "api", "title": "Python开发", "description": "熟悉python"}
    )
    assert res.status_code == 200
    assert [s["id"] for s in res.json()["skills"]] == ["python"]
    bad = client.post("/v1/extract", json={"id": "x", "source": "api"})
    assert bad.status_code == 422 and "title" in bad.json()["detail"][0]["msg"]


def test_taxonomy_endpoints(client):
    occ = client.get("/v1/taxonomy/occupations").json()
    codes = [o["code"] for o in occ["occupations"]]
    assert "2-02-38-01" in codes and occ["version"]
    detail = client.get("/v1/taxonomy/occupations/2-02-38-01").json()
    assert detail["name_zh"] == "人工智能工程技术人员"
    assert client.get("/v1/taxonomy/occupations/9-99").status_code == 404
    assert client.get("/v1/taxonomy/skills/pytorch").json()["name_en"] == "PyTorch"
    assert client.get("/v1/taxonomy/skills/nope").status_code == 404
    assert any(s["id"] == "python" for s in client.get("/v1/taxonomy/skills").json()["skills"])


def test_migrated_v1_database_keeps_serving(tmp_path):
    """A store written by schema v1 is migrated on open and counted the same."""
    import sqlite3

    from skillsignal.server import build_app
    from storage.schema import SCHEMA_VERSION

    settings = make_settings(tmp_path)
    settings.ensure_dirs()
    postings, dups = data.generate(n=60, seed=3)
    _write_v1(settings.db_path, postings, dups)
    app = build_app(settings)
    with TestClient(app) as c:
        got = c.get("/v1/totals").json()
        want = data.totals(postings, dups, data.PostingFilter())
        assert (got["total_postings"], got["unique_postings"]) == (want["total_postings"], want["unique_postings"])
        ranking = c.get("/v1/rankings/skills", params={"limit": 3}).json()["buckets"]
        assert [(b["key"], b["unique_postings"]) for b in ranking] == data.ranking(
            postings, dups, "skills", data.PostingFilter(), "unique_postings", 3
        )
    assert sqlite3.connect(settings.db_path).execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[
        0
    ] == str(SCHEMA_VERSION)


def _write_v1(path, postings, dups) -> None:
    """The v1 layout exactly as the first store wrote it (tables, one row per posting and skill)."""
    import sqlite3

    from storage.base import posted_date

    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE postings (id TEXT PRIMARY KEY, source TEXT NOT NULL, url TEXT, title TEXT NOT NULL,
            company TEXT, province TEXT, city TEXT, district TEXT, region TEXT, industry TEXT, education_level TEXT,
            experience_min REAL, salary_min REAL, salary_max REAL, posted_date TEXT NOT NULL,
            fingerprint TEXT NOT NULL, dup_of TEXT, occupation_code TEXT, occupation_direction TEXT, level TEXT,
            taxonomy_version TEXT, extraction_error TEXT, doc TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE INDEX postings_date ON postings(posted_date);
        CREATE TABLE posting_skills (posting_id TEXT NOT NULL REFERENCES postings(id) ON DELETE CASCADE,
            skill_id TEXT NOT NULL, required INTEGER NOT NULL, score REAL NOT NULL,
            PRIMARY KEY (posting_id, skill_id)) WITHOUT ROWID;
        CREATE INDEX posting_skills_skill ON posting_skills(skill_id, posting_id);
    """)
    for p in postings:
        conn.execute(
            "INSERT INTO postings (id, source, title, posted_date, fingerprint, dup_of, doc, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (
                p.id,
                p.source,
                p.title,
                posted_date(p).isoformat(),
                p.fingerprint,
                dups.get(p.id),
                p.model_dump_json(),
                "x",
            ),
        )
        for s in p.extraction.skills if p.extraction else []:
            conn.execute("INSERT INTO posting_skills VALUES (?,?,?,?)", (p.id, s.id, 1, 1.0))
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Python开发工程师"},
        {"description": "负责数据平台开发，熟悉python"},
        {"title": "Python开发", "description": "熟悉python", "posted_at": "2019-05"},
    ],
)
def test_extract_needs_only_a_title_or_a_description(client, body):
    res = client.post("/v1/extract", json=body)
    assert res.status_code == 200, res.text
    assert [s["id"] for s in res.json()["skills"]] == ["python"]


@pytest.mark.parametrize(
    "body,loc,words",
    [
        ({}, ["body"], "title or description"),
        ({"title": "  ", "description": ""}, ["body"], "title or description"),
        ({"id": "x", "source": "api"}, ["body"], "title or description"),
        ({"title": "x", "description": None}, ["body", "description"], "valid string"),
        ({"title": "x", "posted_at": "May 2019"}, ["body", "posted_at"], "YYYY-MM"),
    ],
)
def test_extract_without_text_or_with_a_bad_field_is_422(client, body, loc, words):
    res = client.post("/v1/extract", json=body)
    assert res.status_code == 422, res.text
    (problem,) = res.json()["detail"]
    assert problem["loc"] == loc and words in problem["msg"], problem


def test_api_and_cli_read_posted_dates_with_one_parser(tmp_path):
    """``posted_at: "2019-05"`` is May 1st through the API (ingest) as through an import (the CLI's reader)."""
    from datetime import date

    from skillsignal.core.models import Posting
    from skillsignal.core.records import RecordError, record_to_posting
    from skillsignal.server import build_app

    from .conftest import API_KEY, FakeExtractor

    assert record_to_posting({"title": "x", "posted": "2019-05"}).posted_at == date(2019, 5, 1)
    assert Posting(id="a", source="s", title="x", posted_at="2019-05").posted_at == date(2019, 5, 1)
    assert Posting(id="a", source="s", title="x", posted_at="2019/5/14").posted_at == date(2019, 5, 14)
    for bad in ("May 2019", 2019.5, "2019-13"):
        with pytest.raises(RecordError):
            record_to_posting({"title": "x", "posted": bad})
        with pytest.raises(ValueError):
            Posting(id="a", source="s", title="x", posted_at=bad)
    app = build_app(make_settings(tmp_path))
    app.state.extractor = FakeExtractor()
    with TestClient(app) as c:
        res = c.post(
            "/v1/postings",
            headers={"X-API-Key": API_KEY},
            json=[{"id": "d1", "source": "api", "title": "Python工程师", "posted_at": "2019-05"}],
        )
        assert res.status_code == 200, res.text
        assert c.get("/v1/postings/d1").json()["posted_at"] == "2019-05-01"
        assert c.get("/v1/totals", params={"start": "2019-05-01", "end": "2019-05-31"}).json()["total_postings"] == 1


def test_query_layer_alone_refuses_ingest_with_a_clear_503_and_the_application_wires_it(tmp_path):
    """``api.app.create_app`` knows only the PostingSink interface: without a factory it serves
    reads and answers ingest with 503 saying what to run; the application's app stores the posting."""
    from api.app import create_app
    from skillsignal.server import build_app

    from .conftest import API_KEY, FakeExtractor

    body = [{"id": "w1", "source": "api", "title": "数据分析师"}]
    with TestClient(create_app(make_settings(tmp_path / "bare"))) as c:
        res = c.post("/v1/postings", headers={"X-API-Key": API_KEY}, json=body)
        assert res.status_code == 503 and "skillsignal serve" in res.json()["detail"], res.text
        assert c.get("/v1/totals").status_code == 200
    app = build_app(make_settings(tmp_path / "full"))
    app.state.extractor = FakeExtractor()
    with TestClient(app) as c:
        res = c.post("/v1/postings", headers={"X-API-Key": API_KEY}, json=body)
        assert res.status_code == 200 and res.json()["stored"] == 1, res.text
        assert c.get("/v1/postings/w1").status_code == 200
