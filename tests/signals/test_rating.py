"""The rating's signals: intervals that cover the truth at their nominal rate on simulated cells,
the false-discovery-rate family, materiality and suppression."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from signals.indicators import Aggregate
from signals.models import SignalCheck, Thresholds
from signals.rating import checks, decide, demand_check, describe, duration_check, pay_check, rate

T = Thresholds()
#: 2,000 simulated cells per case: a 95 % interval's coverage has a binomial sd of 0.5 %; the test
#: accepts 93–97 % (4 sd), which still catches a wrong standard error (e.g. one that forgets the
#: baseline's own noise covers ~85 %).
N_SIM, LOW, HIGH = 2000, 0.93, 0.97


def _agg(
    unique: int = 0, salaries: dict[float, int] | None = None, durations: dict[tuple[int, bool], int] | None = None
) -> Aggregate:
    agg = Aggregate(total_postings=unique, unique_postings=unique)
    for value, n in (salaries or {}).items():
        agg.salaries[value] += n
    for key, n in (durations or {}).items():
        agg.durations[key] += n
    return agg


def _coverage(simulate: Callable[[np.random.Generator], tuple[SignalCheck, float]]) -> float:
    rng = np.random.default_rng(2026)
    hits = 0
    for _ in range(N_SIM):
        check, truth = simulate(rng)
        assert check.interval.low is not None and check.interval.high is not None
        hits += check.interval.low <= truth <= check.interval.high
    return hits / N_SIM


@pytest.mark.parametrize("true_ratio", [1.0, 1.6])
def test_demand_interval_covers_the_true_share_ratio(true_ratio: float) -> None:
    share, digital_now, digital_before = 0.1, 2000, 8000

    def simulate(rng: np.random.Generator) -> tuple[SignalCheck, float]:
        now = int(rng.binomial(digital_now, share * true_ratio))
        before = int(rng.binomial(digital_before, share))
        return demand_check(_agg(now), _agg(before), _agg(digital_now), _agg(digital_before), T), true_ratio

    assert LOW <= _coverage(simulate) <= HIGH


def _salaries(rng: np.random.Generator, n: int, median: float) -> dict[float, int]:
    values = np.round(rng.lognormal(np.log(median), 0.3, n) / 100) * 100
    uniq, counts = np.unique(values, return_counts=True)
    return {float(v): int(c) for v, c in zip(uniq, counts, strict=True)}


@pytest.mark.parametrize("true_ratio", [1.0, 1.3])
def test_pay_interval_covers_the_true_relative_pay_change(true_ratio: float) -> None:
    def simulate(rng: np.random.Generator) -> tuple[SignalCheck, float]:
        now = _agg(300, _salaries(rng, 300, 20000 * true_ratio * 1.05))
        before = _agg(1200, _salaries(rng, 1200, 20000))
        market_now = _agg(1500, _salaries(rng, 1500, 18000 * 1.05))  # the market rose 5 %
        market_before = _agg(6000, _salaries(rng, 6000, 18000))
        return pay_check(now, before, market_now, market_before, T), true_ratio

    assert LOW <= _coverage(simulate) <= HIGH


def _durations(rng: np.random.Generator, n: int, mean_days: float, window: int) -> dict[tuple[int, bool], int]:
    """Postings opening uniformly over ``window`` days, open an exponential time, censored at its end."""
    left = window - rng.integers(0, window, n)
    days = np.floor(rng.exponential(mean_days, n)).astype(int)
    closed = days < left
    seen = np.where(closed, days, left)
    codes, counts = np.unique(seen * 2 + closed, return_counts=True)
    return {(int(c) // 2, bool(c % 2)): int(k) for c, k in zip(codes, counts, strict=True)}


@pytest.mark.parametrize("true_ratio", [1.0, 2.0])
def test_duration_interval_covers_the_true_relative_lengthening(true_ratio: float) -> None:
    def simulate(rng: np.random.Generator) -> tuple[SignalCheck, float]:
        now = _agg(300, durations=_durations(rng, 300, 20 * true_ratio, 90))
        before = _agg(1200, durations=_durations(rng, 1200, 20, 360))
        market_now = _agg(3000, durations=_durations(rng, 3000, 20, 90))
        market_before = _agg(12000, durations=_durations(rng, 12000, 20, 360))
        # the exponential model's rate counts d + 1 days for a posting seen on d + 1 days: the truth
        # in those units is (20 × r + 1) / (20 + 1) over the market's 1
        return duration_check(now, before, market_now, market_before, T), (20 * true_ratio + 0.5) / 20.5

    assert LOW <= _coverage(simulate) <= HIGH


def test_a_doubling_fires_and_no_change_does_not() -> None:
    up = rate(_agg(200), _agg(400), _agg(1000), _agg(4000), T)  # share 0.2 vs 0.1
    assert up.signals == ["demand"] and up.label == "critical" and up.stars == 4
    assert up.checks[0].ratio == pytest.approx(2.0)
    flat = rate(_agg(100), _agg(400), _agg(1000), _agg(4000), T)
    assert flat.label == "normal" and flat.signals == [] and flat.stars == 1


def test_a_significant_but_small_change_is_not_material() -> None:
    # share 0.11 vs 0.10 on a huge sample: the interval excludes 1, the change (×1.1) is below ×1.25
    r = rate(_agg(110_000), _agg(400_000), _agg(1_000_000), _agg(4_000_000), T)
    demand = r.checks[0]
    assert demand.interval.low is not None and demand.interval.low > 1
    assert not demand.fired and r.label == "normal"
    assert "not material" in r.reasons[0]


def test_a_small_cell_is_suppressed() -> None:
    r = rate(_agg(29), _agg(400), _agg(1000), _agg(4000), T)
    assert r.label == "suppressed" and r.stars is None
    assert r.checks[0].suppressed and "not tested" in r.reasons[0]


def test_the_false_discovery_rate_family_keeps_noise_out() -> None:
    """400 cells without any change: tested one by one at 95 %, some would pass by chance; as one
    family (Benjamini–Hochberg) none may fire."""
    rng = np.random.default_rng(11)
    family: list[SignalCheck] = []
    uncorrected = 0
    t = T.model_copy(update={"demand_material": 1.0})  # materiality off: only the statistics decide
    for _ in range(400):
        now, before = int(rng.binomial(1000, 0.1)), int(rng.binomial(4000, 0.1))
        cell = checks(_agg(now), _agg(before), _agg(1000), _agg(4000), t)
        uncorrected += cell[0].p_value is not None and cell[0].p_value < 0.05
        family.extend(cell)
    decide(family, t)
    assert uncorrected > 5  # what testing each alone would have flagged
    assert not any(c.fired for c in family)


def test_thresholds_are_published_in_words() -> None:
    text = describe(Thresholds(min_sample=50)).description
    assert "×1.25" in text and "×1.10" in text and "50 unique postings" in text and "需求紧张度" in text
