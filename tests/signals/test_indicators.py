"""Indicators on a tiny hand-made SQLite store, and the seasonally adjusted series."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time
from pathlib import Path

import numpy as np
import pytest

from signals.indicators import (
    MIN_STL_MONTHS,
    Aggregate,
    CellTable,
    indicators,
    median_interval,
    median_salary,
    seasonally_adjusted,
    seasonally_adjusted_series,
)
from signals.periods import add_months, parse_period
from skillsignal.core.models import Education, Experience, Extraction, Location, OccupationMatch, Posting, Salary
from storage import PostingFilter, SQLiteStore
from storage.results import SignalCell

AI, BD = "2-02-38-01", "2-02-38-03"


def _posting(
    pid: str,
    occ: str,
    level: str,
    day: date,
    pay: tuple[float, float] | None,
    years: float | None,
    edu: str | None,
    seen: tuple[date, date, bool] | None = None,
    province: str = "广东",
) -> Posting:
    first, last, closed = seen or (day, day, False)
    return Posting(
        id=pid,
        source="hand",
        title=f"posting {pid}",
        description=f"posting {pid}",
        location=Location(province=province, region="east"),
        salary=Salary(min=pay[0], max=pay[1]) if pay else Salary(),
        experience=Experience(years_min=years),
        education=Education(level=edu),
        posted_at=day,
        crawled_at=datetime.combine(last, time(9), tzinfo=UTC),
        first_seen=first,
        last_seen=last,
        closed_on=last if closed else None,
        extraction=Extraction(
            occupation=OccupationMatch(code=occ, name=occ),
            level=level,  # type: ignore[arg-type]
            taxonomy_version="hand",
            extractor_version="hand",
        ),
    )


@pytest.fixture
def tiny(tmp_path: Path) -> SQLiteStore:
    jul = date(2026, 7, 1)
    postings = [
        # the cell: 人工智能 in July 2026 — three unique postings and one repost
        _posting(
            "a1", AI, "初级", date(2026, 7, 3), (10000, 14000), 1, "大专", (date(2026, 7, 3), date(2026, 7, 10), True)
        ),
        _posting(
            "a2", AI, "中级", date(2026, 7, 5), (18000, 22000), 3, "本科", (date(2026, 7, 5), date(2026, 7, 25), True)
        ),
        _posting(
            "a3",
            AI,
            "高级",
            date(2026, 7, 10),
            (28000, 32000),
            5,
            "硕士",
            (date(2026, 7, 10), date(2026, 7, 31), False),
        ),
        _posting("a2-repost", AI, "中级", date(2026, 7, 6), (18000, 22000), 3, "本科"),
        # another digital occupation in July (the share and premium denominators)
        _posting("b1", BD, "中级", date(2026, 7, 12), (14000, 18000), None, "本科"),
        # the previous month and the same month a year before
        _posting("a-jun", AI, "中级", date(2026, 6, 10), (16000, 20000), 2, "本科"),
        _posting("a-y1", AI, "中级", date(2025, 7, 15), (13000, 17000), 2, "本科"),
        _posting("a-y2", AI, "中级", date(2025, 7, 20), (15000, 19000), 2, "本科"),
        # not a core occupation: not a digital posting
        _posting("x1", "2-02-10-03", "中级", jul, (50000, 60000), 3, "本科"),
    ]
    store = SQLiteStore(tmp_path / "tiny.sqlite3")
    store.index_postings(postings)
    store.set_duplicates({"a2-repost": "a2"})
    return store


def test_indicators_of_a_hand_made_cell(tiny: SQLiteStore) -> None:
    rows = indicators(tiny, parse_period("2026-07"), ("occupation",), core_occupations=[AI, BD], min_sample=1)
    ai = next(r for r in rows if r.occupation == AI)
    # demand: 3 unique (a1 a2 a3), 4 in all; digital = AI 3 + BD 1 (the non-core x1 is not digital)
    assert (ai.unique_postings, ai.total_postings) == (3, 4)
    assert ai.share_of_digital == pytest.approx(3 / 4)
    assert ai.growth_previous == pytest.approx(3 / 1 - 1)  # June: a-jun
    assert ai.growth_year == pytest.approx(3 / 2 - 1)  # July 2025: a-y1, a-y2
    assert ai.repost_intensity == pytest.approx(4 / 3)
    # duration: 7 d closed, 20 d closed, 21 d open. S(7) = 2/3, S(20) = 2/3 × 1/2 = 1/3 < 0.5 → median 20;
    # S never falls below 0.25 → no 75th percentile. (The repost a2-repost is not unique: not counted.)
    assert (ai.duration_sample, ai.duration_closed) == (3, 2)
    assert ai.duration_median_days == 20 and ai.duration_p75_days is None
    # pay: midpoints 12000, 20000, 30000 → median 20000; digital July: + 16000 → median (16000+20000)/2
    assert ai.median_salary == 20000
    assert ai.salary_premium == pytest.approx(20000 / 18000 - 1)
    # a year before: 15000 and 17000 → 16000
    assert ai.salary_growth == pytest.approx(20000 / 16000 - 1)
    # requirement mix: ≥3 years a2 a3, ≥5 a3; 本科+ a2 a3, 硕士+ a3; 高级 a3
    assert ai.share_experience_3plus == pytest.approx(2 / 3)
    assert ai.share_experience_5plus == pytest.approx(1 / 3)
    assert ai.share_bachelor_plus == pytest.approx(2 / 3)
    assert ai.share_master_plus == pytest.approx(1 / 3)
    assert ai.share_senior == pytest.approx(1 / 3)
    other = next(r for r in rows if r.occupation == "2-02-10-03")
    assert other.share_of_digital == pytest.approx(1 / 4)  # a share of the digital count, itself outside it


def test_figures_below_the_minimum_sample_are_suppressed(tiny: SQLiteStore) -> None:
    rows = indicators(tiny, parse_period("2026-07"), ("occupation",), core_occupations=[AI, BD], min_sample=4)
    ai = next(r for r in rows if r.occupation == AI)
    assert ai.unique_postings == 3  # sample sizes are always given
    assert ai.share_of_digital is None and ai.growth_previous is None and ai.repost_intensity is None
    assert ai.median_salary is None and ai.duration_median_days is None and ai.share_senior is None


def test_quarter_sums_its_months_and_regions_sum_provinces(tiny: SQLiteStore) -> None:
    q = parse_period("2026Q3")
    rows = indicators(tiny, q, ("occupation", "level"), core_occupations=[AI, BD], min_sample=1)
    assert {(r.occupation, r.level): r.unique_postings for r in rows} == {
        (AI, "初级"): 1,
        (AI, "中级"): 1,
        (AI, "高级"): 1,
        (BD, "中级"): 1,
        ("2-02-10-03", "中级"): 1,
    }
    table = CellTable.from_store(tiny, PostingFilter(), ("occupation",), date(2025, 7, 1), date(2026, 7, 31))
    assert table.sum((AI,), [date(2025, 7, 1), date(2026, 6, 1), date(2026, 7, 1)]).unique_postings == 6


def test_median_and_its_interval_from_a_histogram() -> None:
    hist = [(10.0, 2), (20.0, 1), (30.0, 3)]
    assert median_salary(hist) == 25.0  # 10 10 20 30 30 30 → (20+30)/2
    rng = np.random.default_rng(0)
    values = np.round(rng.lognormal(np.log(20000), 0.3, 2000), -2)
    uniq, counts = np.unique(values, return_counts=True)
    hist2 = [(float(v), int(c)) for v, c in zip(uniq, counts, strict=True)]
    med = median_salary(hist2)
    bounds = median_interval(hist2)
    assert med == pytest.approx(float(np.median(values)))
    assert bounds is not None and bounds[0] < med < bounds[1]
    # the width: about ±1.96 × 1.2533 σ/√n on the log scale for a lognormal
    assert math.log(bounds[1] / bounds[0]) / 2 == pytest.approx(1.96 * 1.2533 * 0.3 / math.sqrt(2000), rel=0.35)


def test_aggregate_adds_cells_and_aggregates() -> None:
    a = SignalCell(key=("x",), period=date(2026, 7, 1), total_postings=3, unique_postings=2, salaries=[(1.0, 2)])
    b = SignalCell(key=("x",), period=date(2026, 8, 1), total_postings=1, unique_postings=1, durations=[(3, True, 1)])
    agg = Aggregate.of([a, b])
    both = Aggregate.of([agg, agg])
    assert (both.total_postings, both.unique_postings, both.salary_sample) == (8, 6, 4)
    assert both.duration_histogram() == [(3, True, 2)]


def test_stl_removes_the_seasonal_pattern() -> None:
    rng = np.random.default_rng(7)
    start = date(2023, 1, 1)
    season = np.array([0.9, 0.6, 1.3, 1.1, 1.0, 1.0, 1.0, 0.95, 1.1, 1.0, 1.0, 0.95])
    months = [add_months(start, i) for i in range(36)]
    trend = 1000 * 1.01 ** np.arange(36)
    counts = rng.poisson(trend * season[[m.month - 1 for m in months]])
    adjusted = seasonally_adjusted(list(zip(months, (int(c) for c in counts), strict=True)))
    assert adjusted is not None and len(adjusted) == 36
    raw_dev = np.std(np.log(counts / trend))
    adj_dev = np.std(np.log(np.array([p.adjusted for p in adjusted]) / trend))
    assert adj_dev < raw_dev / 3  # the seasonal swing (±30 %) is gone; the Poisson noise (±3 %) stays
    # the estimated February dip is near the planted one
    feb = [p.seasonal / p.trend for p in adjusted if p.month.month == 2]
    assert np.mean(feb) == pytest.approx(-0.4, abs=0.1)


def test_stl_needs_24_months(tiny: SQLiteStore) -> None:
    months = [(add_months(date(2024, 1, 1), i), 100) for i in range(MIN_STL_MONTHS - 1)]
    assert seasonally_adjusted(months) is None
    assert seasonally_adjusted(months + [(add_months(date(2024, 1, 1), MIN_STL_MONTHS - 1), 100)]) is not None
    assert seasonally_adjusted_series(tiny) is None  # July 2025 – July 2026: 13 months
