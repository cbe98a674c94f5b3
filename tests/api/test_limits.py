"""Series and exports are bounded: periods × series over the configured limit is a 422 naming the limit,
checked before any query runs; a window inside the limit is answered whole."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from skillsignal.core.config import Settings
from storage.base import posted_date
from tests.storage.conformance import data


@pytest.fixture(scope="module")
def small_limits(tmp_path_factory):
    from skillsignal.server import build_app

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("limits"), max_series_points=500, max_export_rows=1000, use_embeddings=False
    )
    app = build_app(settings)
    postings, dups = data.generate(n=120, seed=3)
    app.state.store.index_postings(postings)
    app.state.store.set_duplicates(dups)
    return TestClient(app)


def _days(first: date, last: date) -> int:
    return (last - first).days + 1


def _one_problem(res, loc):
    assert res.status_code == 422, res.text[:300]
    (problem,) = res.json()["detail"]
    assert problem["loc"] == loc and problem["type"] == "series_limit"
    return problem["msg"]


def test_the_71_mb_request_is_now_a_422_naming_the_limit(client, dataset):
    """The request of the issue (default limits: 20,000 points); the window ends at the latest posting."""
    last = max(posted_date(p) for p in dataset[0])
    res = client.get("/v1/rankings/skills/timeseries", params={"interval": "day", "start": "1800-01-01"})
    msg = _one_problem(res, ["query", "interval"])
    assert msg == (
        f"interval=day over {_days(date(1800, 1, 1), last):,} periods × 5 series exceeds the limit "
        "of 20,000 points; narrow start/end or use interval=month"
    )
    assert len(res.content) < 1000


@pytest.mark.parametrize(
    "method,url,kwargs,series",
    [
        ("get", "/v1/timeseries", {"params": {"interval": "day", "start": "2024-01-01"}}, 1),
        ("post", "/v1/timeseries", {"json": {"interval": "week", "filter": {"start": "2010-01-04"}}}, 1),
        (
            "get",
            "/v1/rankings/cities/timeseries",
            {"params": {"interval": "month", "limit": 50, "start": "2026-01-01", "end": "2026-12-31"}},
            50,
        ),
        (
            "post",
            "/v1/rankings/levels/timeseries",
            {"json": {"interval": "day", "keys": ["初级", "中级", "高级"], "filter": {"start": "2025-01-01"}}},
            3,
        ),
        (
            "get",
            "/v1/skills/compare",
            {"params": {"skills": "python,spark", "interval": "day", "start": "2025-01-01"}},
            2,
        ),
        ("get", "/v1/skills/python/timeseries", {"params": {"interval": "day", "start": "2025-01-01"}}, 2),
    ],
)
def test_series_over_the_limit_are_422(small_limits, method, url, kwargs, series):
    res = getattr(small_limits, method)(url, **kwargs)
    msg = _one_problem(res, ["query" if method == "get" else "body", "interval"])
    assert f"× {series} series exceeds the limit of 500 points" in msg, msg


def test_series_inside_the_limit_are_answered(small_limits):
    res = small_limits.get("/v1/timeseries", params={"interval": "day", "start": "2025-06-01", "end": "2026-05-31"})
    assert res.status_code == 200 and len(res.json()["points"]) == 365
    res = small_limits.get("/v1/rankings/levels/timeseries", params={"interval": "week", "limit": 3})
    assert res.status_code == 200 and len(res.json()["series"]) == 3


def test_exports_over_the_row_limit_are_422_before_any_row(small_limits):
    res = small_limits.get(
        "/v1/exports/series", params={"interval": "day", "dimensions": "level", "start": "2020-01-01"}
    )
    msg = _one_problem(res, ["query", "interval"])
    assert "exceeds the limit of 1,000 points" in msg and "4 series" in msg  # 3 levels and postings without one
    res = small_limits.post(
        "/v1/exports/series", json={"interval": "month", "dimensions": ["level"], "filter": {"start": "2020-01-01"}}
    )
    assert res.status_code == 200 and res.text.count("\n") == 1 + 4 * 76  # header + 4 series × 76 months


def test_emerging_skills_window_near_year_one_is_answered(client):
    res = client.get("/v1/skills/emerging", params={"start": "0001-01-01", "end": "2026-04-30"})
    assert res.status_code == 200, res.text
    assert res.json()["previous_start"] == res.json()["previous_end"] == "0001-01-01"
