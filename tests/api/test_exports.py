"""Exports: the long-format series as CSV (read by pandas, fed to a statsmodels forecaster) and Parquet."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from storage import PostingFilter
from tests.storage.conformance import data


def test_series_csv_is_long_format_and_sums_to_totals(client, dataset):
    postings, dups = dataset
    res = client.get("/v1/exports/series", params={"interval": "month", "start": "2026-01-01", "end": "2026-04-30"})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    df = pd.read_csv(io.StringIO(res.text))
    assert list(df.columns) == [
        "period",
        "occupation",
        "direction",
        "level",
        "skill",
        "region",
        "count",
        "unique_count",
    ]
    flt = PostingFilter(start=pd.Timestamp("2026-01-01").date(), end=pd.Timestamp("2026-04-30").date())
    # a posting is counted once per skill it names
    per_skill = dict(data.ranking(postings, dups, "skills", flt, "total_postings", 100))
    assert df.groupby("skill")["count"].sum().to_dict() == per_skill
    assert set(df["period"]) == {"2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"}


def test_series_csv_feeds_a_statsmodels_forecaster(client, dataset):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    postings, dups = dataset
    res = client.get("/v1/exports/series", params={"interval": "week", "dimensions": "occupation"})
    df = pd.read_csv(io.StringIO(res.text), parse_dates=["period"])
    series = df[df["occupation"] == "2-02-38-01"].set_index("period")["unique_count"].asfreq("W-MON")
    want = data.timeseries(postings, dups, PostingFilter(occupations=["2-02-38-01"]), "week")
    assert series.tolist() == [u for _, u, _, _ in want] and len(series) >= 16
    fit = ExponentialSmoothing(series.astype(float), trend="add").fit()
    forecast = fit.forecast(4)
    assert len(forecast) == 4 and np.isfinite(forecast).all()
    assert forecast.index[0] == series.index[-1] + pd.Timedelta(days=7)


def test_series_parquet_matches_csv(client):
    params = {"dimensions": "level,region", "interval": "month"}
    csv = pd.read_csv(io.StringIO(client.get("/v1/exports/series", params=params).text))
    res = client.post("/v1/exports/series", json={"dimensions": ["level", "region"], "format": "parquet"})
    assert res.status_code == 200
    table = pq.read_table(io.BytesIO(res.content))
    assert table.column_names == ["period", "level", "region", "count", "unique_count"]
    pdf = table.to_pandas()
    assert pdf["count"].sum() == csv["count"].sum() == 400
    assert len(pdf) == len(csv)


def test_cooccurrence_csv(client, dataset):
    postings, dups = dataset
    df = pd.read_csv(io.StringIO(client.get("/v1/exports/cooccurrence", params={"occupations": "2-02-38-01"}).text))
    want = data.cooccurrence(postings, dups, PostingFilter(occupations=["2-02-38-01"]))
    assert {(r.skill_a, r.skill_b): r["count"] for _, r in df.iterrows()} == dict(want)
    assert (df["lift"] > 0).all()
