"""The Job-SDF backtest over the stored series: every candidate against the baselines, rolling origins.

Job-SDF (Job-SDF/benchmark, NeurIPS 2024) tests on the last 6 months of its monthly series, with
samples of 6 months in and 3 months out: the 3-month output windows that fit in the 6 test months
start at 4 origins one month apart. Here, for the total and each occupation under the filter:

* origins: the last ``origins`` months at which a 3-month window still fits (default 4, Job-SDF's);
* in: every month before the origin (expanding, as Job-SDF's own ARIMA and Prophet baselines are
  fitted on the whole history before the window), or with ``window=6`` only the last 6 months
  (its deep models' input window; ETS/ARIMA often cannot be fitted on so few and count as failed);
  at least 6 months must precede the first origin;
* every model is refitted at every origin;
* SeasonalNaive(12) and the 12-month-season ETS/ARIMA search only for series whose first origin
  has two full seasons (24 months) before it; shorter series run the other three;
* the metrics (:mod:`signals.backtest`): MAE, RMSE, SMAPE, RRMSE pooled over origins × steps, per
  series, and pooled over all occupations as Job-SDF pools its test matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, Field

from storage import PostingFilter, PostingIndex

from .backtest import SEASON, Backtest, Scores, candidates, origin_indices, pooled_scores, rolling_origin
from .forecast import BACKTEST_HORIZON, ForecastMetric, monthly_series

#: Job-SDF: 6 months in
MIN_INPUT = 6
#: Job-SDF: a 6-month test split holds 4 windows of 3 months
DEFAULT_ORIGINS = 4


class SeriesBacktest(BaseModel):
    series: str = Field(description="total, or an occupation code.")
    months: int
    seasonal: bool = Field(description="Seasonal models ran (24 months before the first origin).")
    scores: list[Scores]


class BacktestReport(BaseModel):
    metric: ForecastMetric
    horizon: int = BACKTEST_HORIZON
    origins: int
    window: int | None = Field(description="Months of input at each origin; None: all before it.")
    first_month: str | None = None
    last_month: str | None = None
    total: SeriesBacktest | None = None
    occupations: list[SeriesBacktest] = Field(default_factory=list)
    occupations_pooled: list[Scores] = Field(default_factory=list, description="Pooled over every occupation.")
    skipped: list[str] = Field(default_factory=list, description="Series too short for the protocol.")


def series_backtest(
    y: np.ndarray, origins: int, window: int | None = None, horizon: int = BACKTEST_HORIZON
) -> tuple[Backtest, bool] | None:
    """The backtest of one series, and whether seasonal models ran; None when too short."""
    cuts = origin_indices(len(y), horizon, origins, MIN_INPUT)
    if len(cuts) < origins or not cuts:
        return None
    seasonal = cuts[0] >= 2 * SEASON and (window is None or window >= 2 * SEASON)
    return rolling_origin(y, candidates(seasonal), seasonal, cuts, horizon, window=window, refit=True), seasonal


def run_backtest(
    store: PostingIndex,
    flt: PostingFilter,
    origins: int = DEFAULT_ORIGINS,
    window: int | None = None,
    metric: ForecastMetric = "unique_postings",
    per_occupation: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BacktestReport:
    """The Job-SDF backtest of the filter's total series and of each occupation's (see the module doc)."""
    periods, values, _ = monthly_series(store, flt, metric)
    report = BacktestReport(
        metric=metric,
        origins=origins,
        window=window,
        first_month=f"{periods[0]:%Y-%m}" if periods else None,
        last_month=f"{periods[-1]:%Y-%m}" if periods else None,
    )
    done = series_backtest(np.asarray(values, dtype=float), origins, window)
    if done is None:
        report.skipped.append(f"total ({len(values)} months)")
    else:
        report.total = SeriesBacktest(series="total", months=len(values), seasonal=done[1], scores=done[0].scores())
    if not per_occupation:
        return report
    backtests: list[Backtest] = []
    codes = [key for key, _ in store.count_by("occupations", flt, limit=1000)]
    for code in sorted(codes):
        if progress is not None:
            progress(code)
        occ_flt = flt.model_copy(update={"occupations": [code]})
        _, occ_values, _ = monthly_series(store, occ_flt, metric)
        occ = series_backtest(np.asarray(occ_values, dtype=float), origins, window)
        if occ is None:
            report.skipped.append(f"{code} ({len(occ_values)} months)")
            continue
        backtests.append(occ[0])
        report.occupations.append(
            SeriesBacktest(series=code, months=len(occ_values), seasonal=occ[1], scores=occ[0].scores())
        )
    # pool only the models every occupation ran, so each row scores the same points
    common = set.intersection(*(set(bt.predictions) for bt in backtests)) if backtests else set()
    report.occupations_pooled = [s for s in pooled_scores(backtests) if s.model in common]
    return report


def format_table(report: BacktestReport) -> str:
    """The report as plain-text tables: one per series group, one row per model."""
    lines = [
        f"Job-SDF backtest: {report.metric}, {report.origins} rolling origins × {report.horizon} months out, "
        f"input {'all months before each origin' if report.window is None else f'the last {report.window} months'}"
        f" ({report.first_month} .. {report.last_month})",
    ]

    def table(title: str, scores: list[Scores]) -> None:
        lines.append("")
        lines.append(title)
        lines.append(f"{'model':16s} {'MAE':>10s} {'RMSE':>10s} {'SMAPE %':>8s} {'RRMSE %':>8s} {'points':>7s}")
        for s in scores:
            cells = [_num(s.mae, 10), _num(s.rmse, 10), _num(s.smape, 8), _num(s.rrmse, 8)]
            name = s.model + (" *" if s.baseline else "")
            lines.append(f"{name:16s} {' '.join(cells)} {s.points:7d}" + (f"  ({s.failed} failed)" if s.failed else ""))

    if report.total is not None:
        table(f"total ({report.total.months} months)", report.total.scores)
    if report.occupations:
        table(f"occupations, pooled over {len(report.occupations)}", report.occupations_pooled)
    lines.append("")
    lines.append(
        "* baseline. MAE, RMSE in postings/month; SMAPE = 100·mean(|p−g|/(|p|+|g|)); RRMSE = 100·√(Σ(p−g)²/Σp²)."
    )
    if report.skipped:
        needed = MIN_INPUT + report.origins - 1 + report.horizon
        lines.append(f"too short for the protocol (it needs {needed} complete months): {', '.join(report.skipped)}")
    return "\n".join(lines)


def _num(v: float | None, width: int) -> str:
    return f"{v:{width}.2f}" if v is not None else f"{'n/a':>{width}s}"
