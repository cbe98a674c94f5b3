"""Rate a cell against its own history and its peers: critical / elevated / normal, 1–5 stars.

Three tightening signals, each a ratio of the period against the cell's **own history** (the
``history_months`` months just before the period) and made relative to its **peers** (all digital
postings of the same geography over the same months), each with an interval:

* **demand** — the cell's share of digital postings now ÷ its share over the history. Counts are
  taken as Poisson with the digital postings as exposure; interval: the ratio of two Poisson
  rates, Wald on the log scale (statsmodels ``confint_poisson_2indep``, ``method="wald-log"``).
* **duration** — how much longer postings stay open. Under a constant closing hazard the rate
  λ = closed ÷ posting-days open (censored postings add their days, no event) estimates 1/mean
  days open; the ratio λ_history ÷ λ_now (> 1: open longer) divided by the same ratio of the
  digital postings; interval: normal on the log scale, the cell's and the market's standard errors
  read from their ``confint_poisson_2indep`` intervals (closed counts, posting-days as exposure).
  The Kaplan–Meier medians are reported beside it.
* **pay** — median salary now ÷ over the history, divided by the same ratio of the digital
  postings; interval: normal on the log scale, each median's standard error read from its
  distribution-free order-statistic interval (:func:`signals.indicators.median_interval`).

Each tested signal gets a one-sided p-value (H1: ratio > 1, from the same log-scale normal
approximation as its interval); the p-values of all signals a catalogue tests form one family and
are adjusted for the false-discovery rate (Benjamini–Hochberg, statsmodels ``multipletests``), so
testing many cells does not manufacture tightening. A signal *fires* when its interval lies above 1,
its q-value is within 1 − confidence (the change is not noise, across the family) **and** its ratio
reaches the material threshold. A cell is *critical* with two or more fired signals or one fired signal at
the critical ratio, *elevated* with one, *normal* with none, *suppressed* when the cell or its
history has fewer unique postings than the minimum sample. Stars: normal 1 (score < 0.5) or 2,
elevated 3, critical 4, critical with two or more signals 5.

The score is Σ max(0, log ratio ÷ log material) over the tested signals (1.0 = one signal exactly
at its material threshold); its interval adds the signals' interval ends the same way (a
conservative band: each end is reached only if every signal sits at its own end).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from scipy.stats import norm
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.rates import confint_poisson_2indep

from .indicators import Aggregate, median_interval, median_salary
from .models import Interval95, Rating, RatingLabel, SignalCheck, SignalName, Thresholds

THRESHOLDS_TEXT = (
    "Each occupation cell is compared with its own previous {history} months and with all digital "
    "postings of the same geography (peer-adjusted ratios). A signal counts when its {conf:.0%} "
    "interval lies above 1 and the ratio reaches the material threshold: demand (share of digital "
    "postings) ×{dm:.2f}, posting duration (days open) ×{um:.2f}, median pay ×{pm:.2f}. Critical: two "
    "or more signals, or one at ×{dc:.2f} (demand) / ×{uc:.2f} (duration) / ×{pc:.2f} (pay); "
    "elevated: one signal; normal: none. Stars: normal 1–2, elevated 3, critical 4, critical with two "
    "or more signals 5. Cells with fewer than {ms} unique postings in the period or in the history are "
    "suppressed. Postings alone measure demand tightness (需求紧张度), not a shortage."
)


def describe(thresholds: Thresholds) -> Thresholds:
    """``thresholds`` with its ``description`` written out from its numbers."""
    text = THRESHOLDS_TEXT.format(
        history=thresholds.history_months,
        conf=thresholds.confidence,
        dm=thresholds.demand_material,
        um=thresholds.duration_material,
        pm=thresholds.pay_material,
        dc=thresholds.demand_critical,
        uc=thresholds.duration_critical,
        pc=thresholds.pay_critical,
        ms=thresholds.min_sample,
    )
    return thresholds.model_copy(update={"description": text})


def _poisson_ratio(
    count1: int, exposure1: float, count2: int, exposure2: float, alpha: float
) -> tuple[float, float, float]:
    """(count1/exposure1) ÷ (count2/exposure2) with its Wald interval on the log scale (counts ≥ 1)."""
    ratio = (count1 / exposure1) / (count2 / exposure2)
    low, high = confint_poisson_2indep(
        count1, exposure1, count2, exposure2, method="wald-log", compare="ratio", alpha=alpha
    )
    return ratio, float(low), float(high)


def _z(t: Thresholds) -> float:
    """The normal quantile of the two-sided interval at ``t.confidence``."""
    return _normal_quantile(0.5 + t.confidence / 2)


@lru_cache(maxsize=16)
def _normal_quantile(p: float) -> float:
    return float(norm.ppf(p))


def _check(
    signal: SignalName,
    material: float,
    *,
    now: float | None,
    before: float | None,
    sample_now: int,
    sample_before: int,
    ratio: float | None = None,
    low: float | None = None,
    high: float | None = None,
    suppressed: bool = False,
    z: float = 1.96,
) -> SignalCheck:
    """A signal's numbers; ``fired`` is decided later, over the family (:func:`decide`)."""
    if suppressed or ratio is None or low is None or high is None or ratio <= 0 or low <= 0:
        return SignalCheck(
            signal=signal, now=now, before=before, sample_now=sample_now, sample_before=sample_before,
            material=material, suppressed=True,
        )  # fmt: skip
    # the one-sided p-value of the log-scale normal approximation the interval came from
    se = (math.log(high) - math.log(low)) / (2 * z)
    p_value = float(norm.sf(math.log(ratio) / se)) if se > 0 else (0.0 if ratio > 1 else 1.0)
    return SignalCheck(
        signal=signal, now=now, before=before, sample_now=sample_now, sample_before=sample_before,
        ratio=ratio, interval=Interval95(low=low, high=high), material=material, p_value=p_value,
    )  # fmt: skip


def demand_check(
    now: Aggregate, before: Aggregate, digital_now: Aggregate, digital_before: Aggregate, t: Thresholds
) -> SignalCheck:
    """The cell's share of digital postings now against over its history."""
    n1, n0 = now.unique_postings, before.unique_postings
    d1, d0 = digital_now.unique_postings, digital_before.unique_postings
    share_now = n1 / d1 if d1 else None
    share_before = n0 / d0 if d0 else None
    if n1 < t.min_sample or n0 < t.min_sample or not d1 or not d0:
        return _check(
            "demand", t.demand_material, now=share_now, before=share_before, sample_now=n1,
            sample_before=n0, suppressed=True,
        )  # fmt: skip
    ratio, low, high = _poisson_ratio(n1, d1, n0, d0, 1 - t.confidence)
    return _check(
        "demand", t.demand_material, now=share_now, before=share_before, sample_now=n1, sample_before=n0,
        ratio=ratio, low=low, high=high, z=_z(t),
    )  # fmt: skip


def _rate(agg: Aggregate) -> tuple[int, int]:
    """(closed postings, posting-days open) — a posting seen on d+1 days counts d+1 days."""
    if agg.memo_closure is None:
        closed = sum(n for (_, c), n in agg.durations.items() if c)
        exposure = sum((d + 1) * n for (d, _), n in agg.durations.items())
        agg.memo_closure = (closed, exposure)
    return agg.memo_closure


def duration_check(
    now: Aggregate, before: Aggregate, digital_now: Aggregate, digital_before: Aggregate, t: Thresholds
) -> SignalCheck:
    """How much longer the cell's postings stay open than over its history, relative to the market."""
    km_now, km_before = now.duration(), before.duration()
    c1, e1 = _rate(now)
    c0, e0 = _rate(before)
    m1, x1 = _rate(digital_now)
    m0, x0 = _rate(digital_before)
    small = km_now.sample < t.min_sample or km_before.sample < t.min_sample
    if small or min(c1, c0, m1, m0) == 0:
        return _check(
            "duration", t.duration_material, now=km_now.median_days, before=km_before.median_days,
            sample_now=km_now.sample, sample_before=km_before.sample, suppressed=True,
        )  # fmt: skip
    z = _z(t)
    cell, cell_low, cell_high = _poisson_ratio(c0, e0, c1, e1, 1 - t.confidence)
    market, market_low, market_high = _poisson_ratio(m0, x0, m1, x1, 1 - t.confidence)
    log_ratio = math.log(cell) - math.log(market)
    se = math.hypot(math.log(cell_high / cell_low), math.log(market_high / market_low)) / (2 * z)
    return _check(
        "duration", t.duration_material, now=km_now.median_days, before=km_before.median_days,
        sample_now=km_now.sample, sample_before=km_before.sample,
        ratio=math.exp(log_ratio), low=math.exp(log_ratio - z * se), high=math.exp(log_ratio + z * se), z=z,
    )  # fmt: skip


def _log_median_se(agg: Aggregate, z: float) -> tuple[float, float] | None:
    """(log median pay, its standard error) from the order-statistic interval (memoised: the
    digital postings' aggregates serve every cell of their geography)."""
    if z not in agg.memo_log_median:
        hist = agg.salary_histogram()
        med = median_salary(hist)
        bounds = median_interval(hist, z)
        fit = None
        if med is not None and bounds is not None and med > 0 and bounds[0] > 0:
            fit = (math.log(med), (math.log(bounds[1]) - math.log(bounds[0])) / (2 * z))
        agg.memo_log_median[z] = fit
    return agg.memo_log_median[z]


def pay_check(
    now: Aggregate, before: Aggregate, digital_now: Aggregate, digital_before: Aggregate, t: Thresholds
) -> SignalCheck:
    """The cell's median pay now against over its history, relative to the market's."""
    z = _z(t)
    hists = [a.salary_histogram() for a in (now, before, digital_now, digital_before)]
    n1, n0 = sum(c for _, c in hists[0]), sum(c for _, c in hists[1])
    med_now, med_before = median_salary(hists[0]), median_salary(hists[1])
    fits = [_log_median_se(a, z) for a in (now, before, digital_now, digital_before)]
    if n1 < t.min_sample or n0 < t.min_sample or any(f is None for f in fits):
        return _check(
            "pay", t.pay_material, now=med_now, before=med_before, sample_now=n1, sample_before=n0,
            suppressed=True,
        )  # fmt: skip
    (l1, s1), (l0, s0), (k1, r1), (k0, r0) = [f for f in fits if f is not None]
    log_ratio = (l1 - l0) - (k1 - k0)
    se = math.sqrt(s1 * s1 + s0 * s0 + r1 * r1 + r0 * r0)
    return _check(
        "pay", t.pay_material, now=med_now, before=med_before, sample_now=n1, sample_before=n0,
        ratio=math.exp(log_ratio), low=math.exp(log_ratio - z * se), high=math.exp(log_ratio + z * se), z=z,
    )  # fmt: skip


_CRITICAL = {"demand": "demand_critical", "duration": "duration_critical", "pay": "pay_critical"}
_UNITS = {"demand": "share of digital postings", "duration": "median days open", "pay": "median monthly pay"}


def _fmt(signal: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if signal == "demand":
        return f"{value:.2%}"
    if signal == "duration":
        return f"{value:.0f} d"
    return f"{value:,.0f} CNY"


def reason(check: SignalCheck, t: Thresholds) -> str:
    """One check in words: the values, the peer-adjusted ratio and its interval, the verdict."""
    head = f"{check.signal}: {_UNITS[check.signal]} {_fmt(check.signal, check.now)} (n={check.sample_now})"
    head += (
        f" vs {_fmt(check.signal, check.before)} over the previous {t.history_months} months (n={check.sample_before})"
    )
    if check.suppressed or check.ratio is None:
        return head + f"; not tested (sample below {t.min_sample} or no events)"
    verdict = "tightening" if check.fired else "within noise or not material"
    q_text = f", q={check.q_value:.3g}" if check.q_value is not None else ""
    return (
        head
        + f"; ×{check.ratio:.2f} relative to all digital postings, {t.confidence:.0%} interval "
        + f"{check.interval.low:.2f}–{check.interval.high:.2f}{q_text}, material ×{check.material:.2f}: {verdict}"
    )


def checks(
    now: Aggregate, before: Aggregate, digital_now: Aggregate, digital_before: Aggregate, t: Thresholds
) -> list[SignalCheck]:
    """The three signals of one cell (not yet decided: see :func:`decide`)."""
    return [
        demand_check(now, before, digital_now, digital_before, t),
        duration_check(now, before, digital_now, digital_before, t),
        pay_check(now, before, digital_now, digital_before, t),
    ]


def decide(family: Sequence[SignalCheck], t: Thresholds) -> None:
    """Benjamini–Hochberg over the family's tested signals, then each signal's verdict (in place)."""
    tested = [c for c in family if not c.suppressed and c.p_value is not None]
    if not tested:
        return
    q = 1 - t.confidence
    _, q_values, _, _ = multipletests([c.p_value for c in tested], alpha=q, method="fdr_bh")
    for check, q_value in zip(tested, q_values, strict=True):
        check.q_value = float(q_value)
        check.fired = (
            check.q_value <= q
            and check.interval.low is not None
            and check.interval.low > 1.0
            and check.ratio is not None
            and check.ratio >= check.material
        )


def _units(value: float | None, material: float) -> float:
    """A ratio in material units: 1.0 = exactly the material threshold; no tightening = 0."""
    return max(0.0, math.log(value) / math.log(material)) if value and value > 0 else 0.0


def rating_of(cell_checks: list[SignalCheck], t: Thresholds) -> Rating:
    """The label, stars, score and reasons of one cell from its decided checks."""
    reasons = [reason(c, t) for c in cell_checks]
    if cell_checks[0].suppressed:  # the demand sample: the cell or its history is too small
        return Rating(label="suppressed", checks=cell_checks, reasons=reasons)
    tested = [c for c in cell_checks if not c.suppressed]
    score = sum(_units(c.ratio, c.material) for c in tested)
    low = sum(_units(c.interval.low, c.material) for c in tested)
    high = sum(_units(c.interval.high, c.material) for c in tested)
    fired = [c for c in cell_checks if c.fired]
    critical = len(fired) >= 2 or any((c.ratio or 0) >= getattr(t, _CRITICAL[c.signal]) for c in fired)
    label: RatingLabel
    if critical:
        label, stars = "critical", 5 if len(fired) >= 2 else 4
    elif fired:
        label, stars = "elevated", 3
    else:
        label, stars = "normal", 1 if score < 0.5 else 2
    return Rating(
        label=label,
        stars=stars,
        score=score,
        score_interval=Interval95(low=low, high=high),
        signals=[c.signal for c in fired],
        reasons=reasons,
        checks=cell_checks,
    )


def rate(now: Aggregate, before: Aggregate, digital_now: Aggregate, digital_before: Aggregate, t: Thresholds) -> Rating:
    """The rating of one cell on its own (its three signals are the family) from its sums in the
    period and over its history, and the same sums of the digital postings of its geography."""
    cell_checks = checks(now, before, digital_now, digital_before, t)
    decide(cell_checks, t)
    return rating_of(cell_checks, t)


__all__ = ["checks", "decide", "describe", "rate", "rating_of", "reason"]
