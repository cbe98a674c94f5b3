"""/v1/rankings/competencies: demand per competency statement, described from the taxonomy."""

from __future__ import annotations

import pytest

from storage import PostingFilter
from tests.storage.conformance import data

OCC = "2-02-38-01"


def test_competency_ranking_rows_carry_statement_level_function_occupation_and_share(client, dataset):
    postings, dups = dataset
    flt = PostingFilter(occupations=[OCC])
    want = data.ranking(postings, dups, "competencies", flt, "unique_postings", 3)
    unique = data.totals(postings, dups, flt)["unique_postings"]
    got = client.get("/v1/rankings/competencies", params={"occupations": OCC, "limit": 3}).json()
    assert got["facet"] == "competencies"
    assert [(b["key"], b["unique_postings"]) for b in got["buckets"]] == want
    by_id = {b["key"]: b for b in got["buckets"]}
    assert by_id["ai.j.1.1"]["text"].startswith("能根据分类、回归、聚类等任务类型")
    assert by_id["ai.j.1.1"]["level"] == "初级"
    assert by_id["ai.j.1.1"]["function"] == "人工智能共性技术应用"
    assert by_id["ai.j.1.1"]["work_content"] == "人工智能算法选型及调优"
    assert by_id["ai.j.1.1"]["occupation"] == OCC
    assert by_id["ai.j.1.1"]["occupation_name"] == "人工智能工程技术人员"
    for b in got["buckets"]:
        assert b["name"] == b["text"]
        assert b["share"] == pytest.approx(b["unique_postings"] / unique, abs=1e-6)
    post = client.post("/v1/rankings/competencies", json={"filter": {"occupations": [OCC]}, "limit": 3}).json()
    assert post["buckets"] == got["buckets"]


def test_competency_series_are_named_by_statement(client):
    got = client.get(
        "/v1/rankings/competencies/timeseries", params={"occupations": OCC, "limit": 2, "interval": "month"}
    ).json()
    assert len(got["series"]) == 2
    assert all(s["key"].startswith("ai.") and s["name"].startswith("能") for s in got["series"])


def test_competencies_is_listed_and_documented(client):
    assert "competencies" in client.get("/v1/rankings").json()["facets"]
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/v1/rankings/competencies"]) == {"get", "post"}
    res = client.get("/v1/rankings/competencies", params={"metric": "fame"})
    assert res.status_code == 422 and res.json()["detail"][0]["loc"] == ["query", "metric"]
