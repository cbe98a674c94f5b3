"""Emerging skills: growth of a skill's share of postings against the previous window of equal length.

For each skill, ``current``/``previous`` count the unique postings naming it in the window and in
the window just before; ``n_current``/``n_previous`` count all unique postings (same filter). The
share change is tested with a one-sided two-proportion z-test (pooled), once per skill with at
least ``min_count`` postings now: those skills are the family of tests. Many skills tested at once
at a fixed level would flag some every time by chance (on a 30-month history whose skill mix never
changes, p < 0.01 flagged two), so the false-discovery rate over the family is controlled with the
Benjamini–Hochberg step-up procedure at level ``q`` (the ``alpha`` parameter): a skill is emerging
when its BH-adjusted p-value is below ``q`` and its share grew. The answer says so (``fdr``: the
method, ``q``, the number of skills tested) and gives each skill its raw and adjusted p-value.
So 1 → 3 postings is never emerging on its own: the count is below the minimum and the test cannot
reach significance.

``within_noise=True`` also lists the skills whose share grew but not significantly after the
control (``significant`` false), after the significant ones: the dashboard greys them.

The previous window is cut short at 0001-01-01 when the current one starts that early.

Without a start date the window is the last ``default_days`` (90) — or, when fewer than twice that
many days are stored, the later half of what is stored, so that the previous window is not empty.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from storage import PostingFilter, PostingIndex

FDR_METHOD: Literal["benjamini-hochberg"] = "benjamini-hochberg"


class EmergingSkill(BaseModel):
    skill_id: str
    name: str | None = None
    current: int
    previous: int
    share_current: float
    share_previous: float
    growth: float | None = Field(description="Relative change of the share (0.5 = +50 %); None when new.")
    z: float
    p_value: float = Field(description="One-sided p-value of this skill's z-test alone (uncorrected).")
    p_adjusted: float = Field(
        description="Benjamini–Hochberg adjusted p-value over every skill tested: emerging when below q."
    )
    significant: bool = Field(description="Emerging after the false-discovery-rate control (p_adjusted < q).")


class FdrControl(BaseModel):
    """How the many tests were corrected: which skills were tested, the method and its level."""

    method: Literal["benjamini-hochberg"] = FDR_METHOD
    q: float = Field(description="The false-discovery rate controlled (the request's alpha).")
    tested: int = Field(description="Skills tested: those with at least min_count postings in the window.")
    significant: int = Field(description="Skills whose adjusted p-value is below q and whose share grew.")


class EmergingSkills(BaseModel):
    start: date
    end: date
    previous_start: date
    previous_end: date
    n_current: int
    n_previous: int
    min_count: int
    alpha: float = Field(description="The q of the false-discovery-rate control (see fdr).")
    fdr: FdrControl
    skills: list[EmergingSkill]


def two_proportion_z(c1: int, n1: int, c0: int, n0: int) -> tuple[float, float]:
    """(z, one-sided p-value for share1 > share0)."""
    if n1 == 0 or n0 == 0:
        return 0.0, 1.0
    pooled = (c1 + c0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    if se == 0:
        return 0.0, 1.0
    z = (c1 / n1 - c0 / n0) / se
    return z, 0.5 * math.erfc(z / math.sqrt(2))


def bh_adjust(p_values: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values, in the order given (statsmodels' ``fdr_bh``)."""
    if not p_values:
        return []
    # lazy: statsmodels costs 0.8 s at API start-up and only this answer needs it
    from statsmodels.stats.multitest import multipletests

    adjusted = multipletests(p_values, method="fdr_bh")[1]
    return [float(p) for p in adjusted]


def _day(ordinal: int) -> date:
    return date.fromordinal(min(max(ordinal, 1), date.max.toordinal()))


def emerging_skills(
    store: PostingIndex,
    flt: PostingFilter,
    *,
    min_count: int = 10,
    alpha: float = 0.01,
    limit: int = 20,
    default_days: int = 90,
    within_noise: bool = False,
) -> EmergingSkills:
    stored = store.date_range()
    end = flt.end or (stored[1] if stored else date.today())
    if flt.start is None and stored is not None:
        default_days = max(1, min(default_days, ((end - stored[0]).days + 1) // 2))
    start = flt.start or _day(end.toordinal() - (default_days - 1))
    length = max(1, (end - start).days + 1)
    # the previous window ends the day before start; near the first representable date it is cut
    # short at date.min rather than overflowing
    prev_end = _day(start.toordinal() - 1)
    prev_start = _day(prev_end.toordinal() - (length - 1))
    now_flt = flt.model_copy(update={"start": start, "end": end})
    before_flt = flt.model_copy(update={"start": prev_start, "end": prev_end})
    now = store.ranking("skills", now_flt, limit=100_000)
    before = {b.key: b.unique_postings for b in store.ranking("skills", before_flt, limit=100_000).buckets}
    n1, n0 = now.totals.unique_postings, store.totals(before_flt).unique_postings
    # the family: every skill with at least min_count postings now (none when nothing came before)
    tested = [(b.key, b.unique_postings, before.get(b.key, 0)) for b in now.buckets]
    tested = [t for t in tested if t[1] >= min_count and n0 > 0]
    tests = [two_proportion_z(c1, n1, c0, n0) for _, c1, c0 in tested]
    adjusted = bh_adjust([p for _, p in tests])
    out = []
    for (key, c1, c0), (z, p), p_adj in zip(tested, tests, adjusted, strict=True):
        significant = z > 0 and p_adj < alpha
        if not (significant or (within_noise and z > 0)):
            continue
        s1, s0 = c1 / n1, c0 / n0
        out.append(
            EmergingSkill(
                skill_id=key,
                current=c1,
                previous=c0,
                share_current=round(s1, 6),
                share_previous=round(s0, 6),
                growth=round(s1 / s0 - 1, 4) if c0 else None,
                z=round(z, 4),
                p_value=p,
                p_adjusted=p_adj,
                significant=significant,
            )
        )
    out.sort(key=lambda s: (not s.significant, -s.z, s.skill_id))
    return EmergingSkills(
        start=start,
        end=end,
        previous_start=prev_start,
        previous_end=prev_end,
        n_current=n1,
        n_previous=n0,
        min_count=min_count,
        alpha=alpha,
        fdr=FdrControl(q=alpha, tested=len(tested), significant=sum(s.significant for s in out)),
        skills=out[:limit],
    )
