"""``skillsignal backtest`` over a real SQLite store holding the generated 30-month history."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from skillsignal.cli import app
from skillsignal.core.config import Settings
from storage import open_store
from tests.signals import forecast_data


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("backtest")
    postings, counts = forecast_data.generate()
    store = open_store(Settings(data_dir=path, use_embeddings=False))
    store.index_postings(postings)
    store.close()
    return path, counts


def _run(data_dir, *args: str):
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), "backtest", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_backtest_json_scores_every_model_on_job_sdf_origins(data_dir):
    path, counts = data_dir
    report = json.loads(_run(path, "--json"))
    assert report["origins"] == 4 and report["horizon"] == 3 and report["window"] is None
    total = report["total"]
    assert total["months"] == 30 and total["seasonal"] is True
    scores = {s["model"]: s for s in total["scores"]}
    assert set(scores) == {"Naive", "SeasonalNaive", "AutoETS", "AutoARIMA"}
    assert all(s["points"] == 12 and s["failed"] == 0 for s in scores.values())
    # the baselines by hand: origins at months 24..27, 3 months out each
    y = np.array(forecast_data.total(counts), dtype=float)
    naive = [(y[o - 1], y[o + s]) for o in range(24, 28) for s in range(3)]
    seasonal = [(y[o + s - 12], y[o + s]) for o in range(24, 28) for s in range(3)]
    assert scores["Naive"]["mae"] == pytest.approx(np.mean([abs(p - g) for p, g in naive]), abs=1e-3)
    assert scores["SeasonalNaive"]["rmse"] == pytest.approx(
        np.sqrt(np.mean([(p - g) ** 2 for p, g in seasonal])), abs=1e-3
    )
    p, g = np.array(naive).T
    assert scores["Naive"]["smape"] == pytest.approx(100 * np.mean(np.abs(p - g) / (p + g)), abs=1e-3)
    assert scores["Naive"]["rrmse"] == pytest.approx(100 * np.sqrt(np.mean((p - g) ** 2) / np.mean(p**2)), abs=1e-3)
    # a seasonal series: the seasonal baseline beats the naive one
    assert scores["SeasonalNaive"]["mae"] < scores["Naive"]["mae"]
    assert [o["series"] for o in report["occupations"]] == sorted(forecast_data.OCCUPATIONS)
    pooled = {s["model"]: s for s in report["occupations_pooled"]}
    assert pooled["Naive"]["points"] == 2 * 12


def test_backtest_prints_a_table_per_series_group(data_dir):
    path, _ = data_dir
    out = _run(path, "--origins", "2", "--region", "east")
    report = json.loads(_run(path, "--origins", "2", "--region", "east", "--json"))
    rows = {}
    for line in out.splitlines():
        parts = line.replace(" *", "").split()
        if parts and parts[0] in ("Naive", "SeasonalNaive", "AutoETS", "AutoARIMA"):
            rows.setdefault(parts[0], []).append([float(v) for v in parts[1:5]])
    assert "total (30 months)" in out and "occupations, pooled over 2" in out
    for s in report["total"]["scores"]:
        assert rows[s["model"]][0] == pytest.approx([s["mae"], s["rmse"], s["smape"], s["rrmse"]], abs=0.006)


def test_backtest_with_a_six_month_window_runs_without_seasonal_models(data_dir):
    path, _ = data_dir
    report = json.loads(_run(path, "--window", "6", "--total-only", "--json"))
    assert report["window"] == 6 and report["occupations"] == []
    assert report["total"]["seasonal"] is False
    assert {s["model"] for s in report["total"]["scores"]} == {"Naive", "AutoETS", "AutoARIMA"}


def test_backtest_says_which_series_are_too_short(data_dir):
    path, _ = data_dir
    out = _run(path, "--start", "2025-07-01", "--origins", "4")
    assert "too short for the protocol (it needs 12 complete months): total (12 months)" not in out
    out = _run(path, "--start", "2025-08-01", "--origins", "4")
    assert "too short for the protocol (it needs 12 complete months): total (11 months)" in out


def test_backtest_help_says_what_it_does():
    result = CliRunner().invoke(app, ["backtest", "--help"])
    assert result.exit_code == 0
    assert "Job-SDF" in result.stdout and "--origins" in result.stdout
