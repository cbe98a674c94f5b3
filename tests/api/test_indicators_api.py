"""GET /v1/indicators and /v1/indicators/seasonal end to end: the generated 24-month history in a
real SQLite store, through the app. Expected counts, shares, growths and requirement mixes are
computed here from the generated postings themselves; the seasonal decomposition must add up to the
store's own monthly counts."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from fastapi.testclient import TestClient

from skill_taxonomy import default_taxonomy

from .catalogue_history import PLANTED, generated_history
from .conftest import make_settings

Q3 = (date(2026, 7, 1), date(2026, 9, 30))
Q2 = (date(2026, 4, 1), date(2026, 6, 30))


@pytest.fixture(scope="module")
def history():
    return generated_history(per_cell=4)


@pytest.fixture(scope="module")
def client(tmp_path_factory, history):
    from skillsignal.server import build_app

    app = build_app(make_settings(tmp_path_factory.mktemp("indicators")))
    app.state.store.index_postings(history)
    with TestClient(app) as c:
        yield c


def _in(p, window):
    return window[0] <= p.posted_at <= window[1]


def test_occupation_by_province_cells_match_the_postings(client, history):
    res = client.get(
        "/v1/indicators", params=[("period", "2026Q3"), ("by", "occupation"), ("by", "province"), ("min_sample", "10")]
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["period"], body["start"], body["end"], body["by"]) == (
        "2026Q3",
        "2026-07-01",
        "2026-09-30",
        ["occupation", "province"],
    )
    assert body["measure"] == "demand_tightness"
    core = {o.code for o in default_taxonomy().core_occupations}
    key = lambda p: (p.extraction.occupation.code, p.location.province)  # noqa: E731
    now = Counter(key(p) for p in history if _in(p, Q3))
    before = Counter(key(p) for p in history if _in(p, Q2))
    digital = Counter(p.location.province for p in history if _in(p, Q3) and p.extraction.occupation.code in core)
    senior = Counter(key(p) for p in history if _in(p, Q3) and p.extraction.level == "高级")
    cells = {(c["occupation"], c["province"]): c for c in body["cells"]}
    assert set(cells) == set(now)
    for k, c in cells.items():
        assert c["unique_postings"] == c["total_postings"] == now[k]
        assert c["growth_previous"] == pytest.approx(now[k] / before[k] - 1)
        assert c["share_senior"] == pytest.approx(senior[k] / now[k])
        if k[0] in core:
            assert c["share_of_digital"] == pytest.approx(now[k] / digital[k[1]])
        assert c["median_salary"] is not None and c["duration_sample"] == now[k]
    # the planted doubling shows as growth on the previous quarter
    assert cells[PLANTED]["growth_previous"] == pytest.approx(1.0)


def test_filter_and_min_sample_reach_the_cells(client, history):
    res = client.get(
        "/v1/indicators", params={"period": "2026-09", "by": "level", "occupations": PLANTED[0], "min_sample": 1000}
    )
    assert res.status_code == 200, res.text
    cells = res.json()["cells"]
    want = Counter(
        p.extraction.level
        for p in history
        if p.posted_at.strftime("%Y-%m") == "2026-09" and p.extraction.occupation.code == PLANTED[0]
    )
    assert {c["level"]: c["unique_postings"] for c in cells} == dict(want)
    # every figure below the minimum sample is withheld, never guessed
    assert all(c["share_of_digital"] is None and c["median_salary"] is None for c in cells)


@pytest.mark.parametrize(
    "params",
    [
        {"period": "2026Q5"},
        {"period": "26"},
        {"period": "2026Q3", "by": "city"},
        {"period": "2026", "min_sample": 0},
    ],
)
def test_bad_parameters_are_a_422_naming_them(client, params):
    res = client.get("/v1/indicators", params=params)
    assert res.status_code == 422, res.text


def test_seasonal_adjustment_adds_up_to_the_stored_months(client, history):
    res = client.get("/v1/indicators/seasonal")
    assert res.status_code == 200, res.text
    points = res.json()["points"]
    months = Counter(p.posted_at.replace(day=1).isoformat() for p in history)
    assert [p["month"] for p in points] == sorted(months)
    for p in points:
        assert p["unique_postings"] == months[p["month"]]
        assert p["adjusted"] + p["seasonal"] == pytest.approx(p["unique_postings"])


def test_seasonal_adjustment_needs_two_years(client):
    res = client.get("/v1/indicators/seasonal", params={"start": "2025-06-01"})
    assert res.status_code == 422
    assert "24 months" in res.text


def test_seasonal_adjustment_takes_the_filter(client, history):
    res = client.get("/v1/indicators/seasonal", params={"occupations": PLANTED[0], "provinces": PLANTED[1]})
    assert res.status_code == 200, res.text
    want = Counter(
        p.posted_at.replace(day=1).isoformat()
        for p in history
        if (p.extraction.occupation.code, p.location.province) == PLANTED
    )
    assert {p["month"]: p["unique_postings"] for p in res.json()["points"]} == dict(want)


def test_filter_dates_narrow_the_period(client, history):
    res = client.get(
        "/v1/indicators", params={"period": "2026Q3", "by": "level", "start": "2026-08-15", "min_sample": 1}
    )
    assert res.status_code == 200, res.text
    want = Counter(p.extraction.level for p in history if date(2026, 8, 15) <= p.posted_at <= Q3[1])
    assert {c["level"]: c["unique_postings"] for c in res.json()["cells"]} == dict(want)
    # a filter window outside the period leaves nothing
    empty = client.get("/v1/indicators", params={"period": "2026Q3", "end": "2026-06-30"})
    assert empty.status_code == 200 and empty.json()["cells"] == []
