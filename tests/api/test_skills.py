"""Skill search (names, aliases, typos), a skill's demand and series, comparison, emerging skills, 404s."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from skillsignal.core.models import Extraction, OccupationMatch, Posting, SkillMatch
from storage import PostingFilter
from tests.storage.conformance import data

from .conftest import make_settings


@pytest.mark.parametrize(
    "query,expected",
    [
        ("pytorch", "pytorch"),
        ("PyTorch", "pytorch"),
        ("torch", "pytorch"),
        ("pytroch", "pytorch"),
        ("深度学习", "deep-learning"),
        ("深度学", "deep-learning"),
        ("deep learnin", "deep-learning"),
        ("python3", "python"),
    ],
)
def test_skill_search_finds_names_aliases_and_typos(client, query, expected):
    res = client.get("/v1/skills/search", params={"q": query}).json()
    assert res["results"][0]["id"] == expected, res


def test_skill_search_gives_nothing_for_unrelated_text(client):
    assert client.get("/v1/skills/search", params={"q": "烹饪厨师"}).json()["results"] == []


def test_unknown_skill_is_404_with_suggestions(client):
    res = client.get("/v1/skills/pytroch")
    assert res.status_code == 404 and "pytorch" in res.json()["detail"]
    assert client.get("/v1/skills/nonsense/timeseries").status_code == 404
    assert client.get("/v1/skills/compare", params={"skills": "python,nonsense"}).status_code == 404


def test_skill_demand_and_series_are_exact(client, dataset):
    postings, dups = dataset
    got = client.get("/v1/skills/Python", params={"start": "2026-02-01"}).json()  # a name resolves too
    flt = PostingFilter(skills=["python"], start=date(2026, 2, 1))
    assert got["id"] == "python"
    assert got["totals"]["unique_postings"] == data.totals(postings, dups, flt)["unique_postings"] > 0
    series = client.get("/v1/skills/python/timeseries", params={"interval": "month"}).json()
    want = data.timeseries(postings, dups, PostingFilter(skills=["python"]), "month")
    assert [p["unique_postings"] for p in series["points"]] == [u for _, u, _, _ in want]
    everything = data.timeseries(postings, dups, PostingFilter(), "month")
    assert series["share"] == pytest.approx(
        [u / a[1] for (_, u, _, _), a in zip(want, everything, strict=True)], abs=1e-6
    )


def test_compare_several_skills(client, dataset):
    postings, dups = dataset
    got = client.post(
        "/v1/skills/compare", json={"skills": ["python", "torch"], "interval": "month", "filter": {"levels": ["初级"]}}
    ).json()
    assert [s["key"] for s in got["series"]] == ["python", "pytorch"]
    for s in got["series"]:
        flt = PostingFilter(skills=[s["key"]], levels=["初级"])
        assert [p["total_postings"] for p in s["points"]] == [
            t for *_, t in data.timeseries(postings, dups, flt, "month")
        ]


def test_cooccurrence_endpoint(client, dataset):
    postings, dups = dataset
    pairs = client.get("/v1/skills/cooccurrence", params={"limit": 3}).json()["pairs"]
    want = sorted(data.cooccurrence(postings, dups, PostingFilter()).items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [((p["skill_a"], p["skill_b"]), p["count"]) for p in pairs] == want


def _posting(i: int, day: date, skills: list[str]) -> Posting:
    return Posting(
        id=f"e{i}",
        source="t",
        title="工程师",
        posted_at=day,
        extraction=Extraction(
            occupation=OccupationMatch(code="2-02-38-01", name="x"),
            level="中级",
            skills=[SkillMatch(id=s, name=s) for s in skills],
            taxonomy_version="t",
            extractor_version="e",
        ),
    )


def test_emerging_skills_need_significance_and_a_minimum_count(tmp_path):
    from skillsignal.server import build_app

    app = build_app(make_settings(tmp_path))
    # previous window May 2..31: 300 postings, 20 name spark, 1 names hive, 30 name python
    # current window June 1..30: 300 postings, 60 name spark, 3 name hive (1 -> 3), 30 name python
    postings, i = [], 0
    for first, spark, hive in ((date(2026, 5, 2), 20, 1), (date(2026, 6, 1), 60, 3)):
        for k in range(300):
            skills = (
                (["spark"] if k < spark else [])
                + (["hive"] if 290 <= k < 290 + hive else [])
                + (["python"] if 100 <= k < 130 else [])
            )
            postings.append(_posting(i, first + timedelta(days=k % 30), skills))
            i += 1
    app.state.store.index_postings(postings)
    with TestClient(app) as c:
        res = c.get("/v1/skills/emerging", params={"start": "2026-06-01", "end": "2026-06-30", "min_count": 3}).json()
        assert (res["previous_start"], res["previous_end"]) == ("2026-05-02", "2026-05-31")
        assert res["n_current"] == res["n_previous"] == 300
        assert [s["skill_id"] for s in res["skills"]] == ["spark"], res  # hive 1 -> 3 ("+200 %") is not
        spark = res["skills"][0]
        assert (spark["current"], spark["previous"], spark["growth"]) == (60, 20, 2.0)
        assert spark["p_value"] < 0.01
        # even with a lax significance level, hive stays out below the minimum count
        lax = c.post(
            "/v1/skills/emerging",
            json={"filter": {"start": "2026-06-01", "end": "2026-06-30"}, "min_count": 5, "alpha": 0.4},
        ).json()
        assert [s["skill_id"] for s in lax["skills"]] == ["spark"]
        lax_low = c.post(
            "/v1/skills/emerging",
            json={"filter": {"start": "2026-06-01", "end": "2026-06-30"}, "min_count": 1, "alpha": 0.4},
        ).json()
        assert [s["skill_id"] for s in lax_low["skills"]] == ["spark", "hive"]


def test_emerging_default_window_is_the_later_half_of_a_short_history(tmp_path):
    from skillsignal.server import build_app

    app = build_app(make_settings(tmp_path))
    # 60 days stored (May 2 .. June 30): the default compares June 1..30 with May 2..31, not the
    # last 90 days with an empty window before them
    app.state.store.index_postings(
        [_posting(k, date(2026, 5, 2) + timedelta(days=k % 60), ["spark"] if k % 60 >= 30 else []) for k in range(600)]
    )
    with TestClient(app) as c:
        res = c.get("/v1/skills/emerging", params={"min_count": 3}).json()
    assert (res["start"], res["end"]) == ("2026-06-01", "2026-06-30")
    assert (res["previous_start"], res["previous_end"]) == ("2026-05-02", "2026-05-31")
    assert res["n_current"] == res["n_previous"] == 300
    assert [(s["skill_id"], s["current"], s["previous"]) for s in res["skills"]] == [("spark", 300, 0)]
