"""``GET /v1/forecast`` over a real SQLite store holding a generated 30-month seasonal history."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from signals.forecast import clear_cache
from tests.signals import forecast_data

from .conftest import make_settings


@pytest.fixture(scope="module")
def history():
    return forecast_data.generate()


@pytest.fixture(scope="module")
def forecast_client(tmp_path_factory, history):
    from skillsignal.server import build_app

    app = build_app(make_settings(tmp_path_factory.mktemp("forecast")))
    app.state.store.index_postings(history[0])
    with TestClient(app) as c:
        yield c


def _months(n: int, first: int = 0) -> list[str]:
    return [forecast_data.month(first + i).isoformat() for i in range(n)]


def test_forecast_of_the_total_has_history_intervals_and_every_candidates_scores(forecast_client, history):
    r = forecast_client.get("/v1/forecast", params={"horizon": 6})
    assert r.status_code == 200, r.text
    body = r.json()
    counts = history[1]
    assert [p["period"] for p in body["history"]] == _months(30)
    assert [p["value"] for p in body["history"]] == forecast_data.total(counts)
    assert [p["period"] for p in body["forecast"]] == _months(6, first=30)
    for p in body["forecast"]:
        assert 0 <= p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"]
        assert p["hi95"] > p["lo95"]
    assert body["seasonal_candidates"] is True
    assert [s["model"] for s in body["backtest"]] == ["Naive", "SeasonalNaive", "AutoETS", "AutoARIMA"]
    assert [s["model"] for s in body["backtest"] if s["chosen"]] == [body["model"]]
    assert all(s["mae"] is not None and s["points"] == body["backtest_origins"] * 3 for s in body["backtest"])
    # a strongly seasonal series: the chosen model carries the season, and beats plain Naive in the backtest
    assert body["seasonal"] is True
    scores = {s["model"]: s["mae"] for s in body["backtest"]}
    assert scores[body["model"]] < scores["Naive"]
    # the forecast follows the cycle: March (peak) above September (trough) is not in a 6-month horizon,
    # but July–December falls towards September and rises after: the September forecast is the lowest
    means = [p["mean"] for p in body["forecast"]]
    assert min(range(6), key=means.__getitem__) in (1, 2, 3)  # Aug, Sep or Oct


def test_forecast_under_a_filter_reads_that_cell(forecast_client, history):
    r = forecast_client.get(
        "/v1/forecast",
        params={"occupations": "2-02-38-03", "regions": "west", "horizon": 2, "metric": "total_postings"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["value"] for p in body["history"]] == history[1][("2-02-38-03", "west")]
    assert len(body["forecast"]) == 2 and body["metric"] == "total_postings"


@pytest.mark.parametrize("horizon", [0, 13, -1])
def test_horizon_outside_1_to_12_is_422(forecast_client, horizon):
    r = forecast_client.get("/v1/forecast", params={"horizon": horizon})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "horizon"]


def test_too_little_history_is_422_saying_how_many_months_are_needed(forecast_client):
    r = forecast_client.get("/v1/forecast", params={"start": "2025-10-01"})
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["type"] == "too_little_history"
    assert "9 complete months" in problem["msg"] and "at least 12" in problem["msg"]


def test_a_partly_covered_month_is_left_out_and_said(forecast_client, history):
    r = forecast_client.get("/v1/forecast", params={"end": "2026-06-15", "horizon": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["period"] for p in body["history"]] == _months(29)
    assert any("2026-06 is left out" in n for n in body["notes"])
    assert body["forecast"][0]["period"] == "2026-06-01"


def test_short_series_gets_no_seasonal_models_and_says_so(forecast_client):
    r = forecast_client.get("/v1/forecast", params={"start": "2025-01-01", "horizon": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["history"]) == 18
    assert body["seasonal_candidates"] is False
    assert "SeasonalNaive" not in [s["model"] for s in body["backtest"]]
    assert any("non-seasonal" in n for n in body["notes"])


def test_same_series_same_forecast_with_and_without_the_cache(forecast_client):
    first = forecast_client.get("/v1/forecast", params={"horizon": 12}).json()
    clear_cache()
    again = forecast_client.get("/v1/forecast", params={"horizon": 12}).json()
    assert first == again


def test_reconciled_occupations_and_regions_add_up_to_the_total(forecast_client, history):
    r = forecast_client.get("/v1/forecast", params={"horizon": 4, "reconcile": "true"})
    assert r.status_code == 200, r.text
    rec = r.json()["reconciled"]
    assert rec["method"] == "MinTrace(mint_shrink)"
    nodes = rec["nodes"]
    total = next(n for n in nodes if n["level"] == "total")
    occupations = [n for n in nodes if n["level"] == "occupation"]
    bottoms = [n for n in nodes if n["level"] == "occupation/region"]
    assert {n["occupation"] for n in occupations} == set(forecast_data.OCCUPATIONS)
    assert {(n["occupation"], n["region"]) for n in bottoms} == set(forecast_data.BASE)
    assert total["history"] == forecast_data.total(history[1])
    for h in range(4):
        assert sum(n["forecast"][h]["mean"] for n in occupations) == pytest.approx(
            total["forecast"][h]["mean"], abs=0.05
        )
        for occ in occupations:
            children = [n for n in bottoms if n["occupation"] == occ["occupation"]]
            assert sum(c["forecast"][h]["mean"] for c in children) == pytest.approx(
                occ["forecast"][h]["mean"], abs=0.05
            )
        # reconciliation moved something: the base forecasts did not add up on their own
    base_gap = max(
        abs(sum(n["forecast"][h]["base"] for n in occupations) - total["forecast"][h]["base"]) for h in range(4)
    )
    assert base_gap > 0.05
    for n in nodes:
        for p in n["forecast"]:
            assert 0 <= p["lo95"] <= p["lo80"] <= p["hi80"] <= p["hi95"]
            assert p["lo80"] <= max(p["mean"], 0) <= p["hi80"]


def test_the_long_format_export_carries_each_series_forecast_beside_its_history(forecast_client, history):
    import csv
    import io

    r = forecast_client.get("/v1/exports/series", params={"dimensions": "occupation,region", "forecast_horizon": 3})
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == [
        "period",
        "occupation",
        "region",
        "count",
        "unique_count",
        "kind",
        "forecast",
        "lo80",
        "hi80",
        "lo95",
        "hi95",
    ]
    for cell, counts in history[1].items():
        mine = [row for row in rows if (row["occupation"], row["region"]) == cell]
        past = [row for row in mine if row["kind"] == "history"]
        ahead = [row for row in mine if row["kind"] == "forecast"]
        assert [int(row["unique_count"]) for row in past] == counts
        assert [row["period"] for row in ahead] == _months(3, first=30)
        assert mine[-3:] == ahead  # the forecast follows its series' history
        one = forecast_client.get(
            "/v1/forecast", params={"occupations": cell[0], "regions": cell[1], "horizon": 3}
        ).json()
        for row, p in zip(ahead, one["forecast"], strict=True):
            assert row["count"] == row["unique_count"] == ""
            assert float(row["forecast"]) == p["mean"]
            assert (float(row["lo95"]), float(row["hi95"])) == (p["lo95"], p["hi95"])


def test_export_forecasts_are_monthly_and_bounded(forecast_client):
    r = forecast_client.get("/v1/exports/series", params={"interval": "week", "forecast_horizon": 2})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "interval"]
    r = forecast_client.get("/v1/exports/series", params={"forecast_horizon": 13})
    assert r.status_code == 422
    # without forecast_horizon the export is as before: no forecast columns
    r = forecast_client.get("/v1/exports/series", params={"dimensions": "occupation"})
    assert r.text.splitlines()[0] == "period,occupation,count,unique_count"


def test_export_forecasts_in_parquet_and_by_post(forecast_client):
    import io

    import pyarrow.parquet as pq

    r = forecast_client.post(
        "/v1/exports/series",
        json={"dimensions": ["occupation"], "format": "parquet", "forecast_horizon": 2},
    )
    assert r.status_code == 200, r.text
    table = pq.read_table(io.BytesIO(r.content)).to_pylist()
    ahead = [row for row in table if row["kind"] == "forecast"]
    assert len(ahead) == 2 * len(forecast_data.OCCUPATIONS)
    assert all(row["unique_count"] is None and row["lo80"] <= row["forecast"] <= row["hi80"] for row in ahead)


def test_new_postings_are_forecast_from_at_once(tmp_path, history):
    """The series cache is keyed by the store file's data version: a commit shows in the next answer."""
    from skillsignal.server import build_app

    app = build_app(make_settings(tmp_path))
    last_month = forecast_data.month(29).isoformat()[:7]
    older = [p for p in history[0] if not p.posted_at.isoformat().startswith(last_month)]
    app.state.store.index_postings(older)
    with TestClient(app) as c:
        before = c.get("/v1/forecast", params={"horizon": 1}).json()
        assert len(before["history"]) == 29
        assert c.get("/v1/forecast", params={"horizon": 1}).json() == before  # cached, same answer
        app.state.store.index_postings([p for p in history[0] if p.posted_at.isoformat().startswith(last_month)])
        after = c.get("/v1/forecast", params={"horizon": 1}).json()
    assert len(after["history"]) == 30
    assert after["history"][-1]["value"] == forecast_data.total(history[1])[-1]


@pytest.mark.parametrize(
    ("params", "cells"),
    [
        ({"occupations": "2-02-38-01"}, [("2-02-38-01", "east"), ("2-02-38-01", "west")]),
        ({"regions": "east"}, [("2-02-38-01", "east"), ("2-02-38-03", "east")]),
        ({"provinces": "四川"}, [("2-02-38-01", "west"), ("2-02-38-03", "west")]),
        ({"cities": "深圳", "occupations": "2-02-38-03"}, [("2-02-38-03", "east")]),
        ({"levels": "中级", "sources": "boss"}, list(forecast_data.BASE)),
        ({"levels": "高级"}, []),
    ],
)
def test_the_forecast_reads_the_series_of_the_whole_filter(forecast_client, history, params, cells):
    """The filter fields reach the forecast's series (the conformance suite's world is too short)."""
    r = forecast_client.get("/v1/forecast", params={**params, "horizon": 1})
    assert r.status_code == 200, r.text
    want = [sum(history[1][c][i] for c in cells) for i in range(forecast_data.MONTHS)]
    assert [p["value"] for p in r.json()["history"]] == want


WARM_UP = """
import sys, time
from fastapi.testclient import TestClient
from api.app import create_app
from signals import forecast
from skillsignal.core.config import Settings

on = sys.argv[2] == "1"
app = create_app(Settings(data_dir=sys.argv[1], use_embeddings=False, forecast_warm_up=on))
before = "statsforecast.models" in sys.modules
with TestClient(app):
    deadline = time.monotonic() + 120
    while on and not forecast.warmed() and time.monotonic() < deadline:
        time.sleep(0.05)
    print(before, forecast.warmed(), "statsforecast.models" in sys.modules)
"""


@pytest.mark.parametrize("on", [True, False])
def test_start_up_warms_the_forecast_models_in_the_background(tmp_path, on):
    """A fresh process: the app imports no statsforecast until its lifespan starts; then a background
    thread imports it and runs one forecast (the first request's 2–4 s otherwise); switched off, nothing."""
    out = subprocess.run(
        [sys.executable, "-c", WARM_UP, str(tmp_path / "data"), "1" if on else "0"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", str(on), str(on)]
