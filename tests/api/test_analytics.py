"""Totals, series and rankings through the API: exact counts, GET == POST, and 422s naming the parameter."""

from __future__ import annotations

from datetime import date

import pytest

from storage import PostingFilter
from tests.storage.conformance import data

OCC = "2-02-38-01"


def test_totals_get_and_post_agree_and_are_exact(client, dataset):
    postings, dups = dataset
    flt = PostingFilter(occupations=[OCC], levels=["中级", "高级"], start=date(2026, 2, 1))
    want = data.totals(postings, dups, flt)
    got = client.get("/v1/totals", params={"occupations": OCC, "levels": "中级,高级", "start": "2026-02-01"}).json()
    body = client.post("/v1/totals", json={"filter": flt.model_dump(mode="json")}).json()
    for result in (got, body):
        assert result["total_postings"] == want["total_postings"] > 0
        assert result["unique_postings"] == want["unique_postings"]
        assert result["median_salary"] == want["median_salary"]
    # repeated parameters work like comma-separated ones
    again = client.get(
        "/v1/totals", params=[("occupations", OCC), ("levels", "中级"), ("levels", "高级"), ("start", "2026-02-01")]
    ).json()
    assert again["total_postings"] == want["total_postings"]


def test_timeseries_is_zero_filled_per_week(client, dataset):
    postings, dups = dataset
    flt = PostingFilter(skills=["pytorch"], provinces=["四川"], start=date(2026, 1, 1), end=date(2026, 4, 30))
    want = data.timeseries(postings, dups, flt, "week")
    got = client.get(
        "/v1/timeseries",
        params={
            "interval": "week",
            "skills": "pytorch",
            "provinces": "四川",
            "start": "2026-01-01",
            "end": "2026-04-30",
        },
    ).json()
    assert [(p["period"], p["total_postings"]) for p in got["points"]] == [(d.isoformat(), t) for d, _, _, t in want]
    assert any(t == 0 for *_, t in want) and any(t > 0 for *_, t in want)
    post = client.post("/v1/timeseries", json={"filter": flt.model_dump(mode="json"), "interval": "week"}).json()
    assert post["points"] == got["points"]


def test_rankings_skills_with_occupation_filter(client, dataset):
    postings, dups = dataset
    flt = PostingFilter(occupations=[OCC])
    want = data.ranking(postings, dups, "skills", flt, "unique_postings", 3)
    got = client.get("/v1/rankings/skills", params={"occupations": OCC, "limit": 3}).json()
    assert [(b["key"], b["unique_postings"]) for b in got["buckets"]] == want
    post = client.post("/v1/rankings/skills", json={"filter": {"occupations": [OCC]}, "limit": 3}).json()
    assert post["buckets"] == got["buckets"]


def test_ranking_names_occupations_from_taxonomy_and_ranks_by_metric(client, dataset):
    postings, dups = dataset
    got = client.get("/v1/rankings/occupations", params={"metric": "median_salary"}).json()
    want = data.ranking(postings, dups, "occupations", PostingFilter(), "median_salary", 10)
    assert [(b["key"], b["value"]) for b in got["buckets"]] == want
    names = {b["key"]: b["name"] for b in got["buckets"]}
    assert names[OCC] == "人工智能工程技术人员" and names["other"] == "其他"
    info = client.get("/v1/rankings").json()
    assert "skills" in info["facets"] and "posting_intensity" in info["metrics"]


def test_ranking_timeseries_for_given_keys(client, dataset):
    postings, dups = dataset
    got = client.post(
        "/v1/rankings/provinces/timeseries",
        json={"filter": {"start": "2026-01-01", "end": "2026-03-31"}, "keys": ["浙江", "湖北"]},
    ).json()
    assert [s["key"] for s in got["series"]] == ["浙江", "湖北"]
    for s in got["series"]:
        flt = PostingFilter(provinces=[s["key"]], start=date(2026, 1, 1), end=date(2026, 3, 31))
        assert [p["total_postings"] for p in s["points"]] == [
            t for *_, t in data.timeseries(postings, dups, flt, "month")
        ]
    top = client.get("/v1/rankings/levels/timeseries", params={"limit": 2}).json()
    assert len(top["series"]) == 2


@pytest.mark.parametrize(
    "method,url,kwargs,parameter",
    [
        ("get", "/v1/totals", {"params": {"levels": "专家"}}, "levels"),
        ("get", "/v1/totals", {"params": {"start": "2026-13-01"}}, "start"),
        ("get", "/v1/totals", {"params": {"start": "2026-05-01", "end": "2026-04-01"}}, "start"),
        ("get", "/v1/totals", {"params": {"salary_min": "-5"}}, "salary_min"),
        ("get", "/v1/totals", {"params": {"regions": "mars"}}, "regions"),
        ("get", "/v1/timeseries", {"params": {"interval": "year"}}, "interval"),
        ("get", "/v1/rankings/colours", {}, "facet"),
        ("get", "/v1/rankings/skills", {"params": {"metric": "fame"}}, "metric"),
        ("get", "/v1/rankings/skills", {"params": {"limit": 0}}, "limit"),
        ("post", "/v1/totals", {"json": {"filter": {"levels": ["x"]}}}, "filter.levels"),
        ("post", "/v1/totals", {"json": {"filter": {"colour": "red"}}}, "filter.colour"),
        ("post", "/v1/rankings/skills", {"json": {"limit": 5000}}, "limit"),
        ("get", "/v1/postings/search", {"params": {"q": "数据", "size": 51}}, "size"),
        ("post", "/v1/postings/search", {"json": {"query": "数据", "size": 500}}, "size"),
        ("get", "/v1/postings/search", {"params": {"q": "数据", "cursor": "garbage!"}}, "cursor"),
        ("get", "/v1/exports/series", {"params": {"dimensions": "colour"}}, "dimensions"),
        ("get", "/v1/counts/occupations", {"params": {"start": "2026-05-01", "end": "2026-04-01"}}, "start"),
        ("get", "/v1/counts/levels", {"params": {"start": "2026-05-01", "end": "2026-04-01"}}, "start"),
        ("get", "/v1/counts/levels", {"params": {"levels": "专家"}}, "levels"),
        ("post", "/v1/timeseries", {"json": {"filter": {"start": "2026-05-01", "end": "2026-04-01"}}}, "filter"),
        ("get", "/v1/totals", {"params": {"occupations": "2-02-38-01,9-99-99-99"}}, "occupations"),
        ("post", "/v1/rankings/skills", {"json": {"filter": {"occupations": ["9-99-99-99"]}}}, "filter.occupations"),
    ],
)
def test_bad_input_is_422_naming_the_parameter(client, method, url, kwargs, parameter):
    res = getattr(client, method)(url, **kwargs)
    assert res.status_code == 422, res.text
    problems = res.json()["detail"]  # FastAPI's shape, as the OpenAPI document says: [{loc, msg, type}]
    assert any(".".join(map(str, p["loc"][1:])).startswith(parameter) for p in problems), problems
    assert any(p["msg"].startswith(parameter) for p in problems), problems
    assert all(set(p) == {"loc", "msg", "type"} for p in problems), problems


def test_openapi_lists_the_versioned_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/totals",
        "/v1/timeseries",
        "/v1/rankings",
        "/v1/rankings/{facet}",
        "/v1/rankings/{facet}/timeseries",
        "/v1/skills/search",
        "/v1/skills/emerging",
        "/v1/postings/search",
        "/v1/postings",
        "/v1/extract",
        "/v1/exports/series",
        "/v1/taxonomy/occupations",
    ):
        assert path in paths, path
    assert set(paths["/v1/totals"]) == {"get", "post"}
    assert client.get("/docs").status_code == 200


def test_lead_counts_endpoints_still_answer(client, dataset):
    postings, dups = dataset
    flt = PostingFilter(start=date(2026, 2, 1), end=date(2026, 2, 28))
    got = client.get("/v1/counts/levels", params={"start": "2026-02-01", "end": "2026-02-28"}).json()
    assert got["total"] == data.totals(postings, dups, flt)["total_postings"]
    assert {b["key"]: b["count"] for b in got["buckets"]} == dict(
        data.ranking(postings, dups, "levels", flt, "total_postings", 10)
    )


@pytest.mark.parametrize(
    "method,url,kwargs,where",
    [
        ("get", "/v1/totals", {"params": {"occupations": "2-02-99-99"}}, ["query", "occupations"]),
        ("get", "/v1/counts/levels", {"params": {"occupations": "2-02-99-99"}}, ["query", "occupations"]),
        (
            "post",
            "/v1/totals",
            {"json": {"filter": {"occupations": ["2-02-99-99"]}}},
            ["body", "filter", "occupations"],
        ),
        (
            "post",
            "/v1/exports/series",
            {"json": {"filter": {"occupations": ["2-02-99-99"]}}},
            ["body", "filter", "occupations"],
        ),
    ],
)
def test_unknown_occupation_code_is_422_naming_the_valid_codes(client, method, url, kwargs, where):
    res = getattr(client, method)(url, **kwargs)
    assert res.status_code == 422, res.text
    (problem,) = res.json()["detail"]
    assert problem["loc"] == where and problem["type"] == "unknown_occupation"
    codes = [o["code"] for o in client.get("/v1/taxonomy/occupations").json()["occupations"]]
    assert "'2-02-99-99'" in problem["msg"] and problem["msg"].endswith(", ".join([*codes, "other"]))


def test_known_codes_and_other_are_accepted(client, dataset):
    postings, dups = dataset
    got = client.get("/v1/totals", params={"occupations": f"{OCC},other"}).json()["total_postings"]
    assert got == data.totals(postings, dups, PostingFilter(occupations=[OCC, "other"]))["total_postings"] > 0


def test_counts_apply_the_whole_filter(client, dataset):
    """The issue's case: /v1/counts/* answered every posting whatever the filter (conformance checks all)."""
    postings, dups = dataset
    flt = PostingFilter(occupations=[OCC], cities=["苏州"])
    got = client.get("/v1/counts/levels", params={"occupations": OCC, "cities": "苏州"}).json()
    assert got["total"] == data.totals(postings, dups, flt)["total_postings"] < len(postings)
    assert [(b["key"], b["count"]) for b in got["buckets"]] == data.ranking(
        postings, dups, "levels", flt, "total_postings", 10
    )
