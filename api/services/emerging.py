"""Emerging skills: growth of a skill's share of postings against the previous window of equal length.

For each skill, ``current``/``previous`` count the unique postings naming it in the window and in
the window just before; ``n_current``/``n_previous`` count all unique postings (same filter). The
share change is tested with a one-sided two-proportion z-test (pooled); a skill is emerging when
it has at least ``min_count`` postings now, its share grew, and p < ``alpha``. So 1 → 3 postings
is never emerging on its own: the count is below the minimum and the test cannot reach significance.

The previous window is cut short at 0001-01-01 when the current one starts that early.

Without a start date the window is the last ``default_days`` (90) — or, when fewer than twice that
many days are stored, the later half of what is stored, so that the previous window is not empty.
"""

from __future__ import annotations

import math
from datetime import date

from pydantic import BaseModel, Field

from storage import PostingFilter, PostingIndex


class EmergingSkill(BaseModel):
    skill_id: str
    name: str | None = None
    current: int
    previous: int
    share_current: float
    share_previous: float
    growth: float | None = Field(description="Relative change of the share (0.5 = +50 %); None when new.")
    z: float
    p_value: float


class EmergingSkills(BaseModel):
    start: date
    end: date
    previous_start: date
    previous_end: date
    n_current: int
    n_previous: int
    min_count: int
    alpha: float
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
    out = []
    for b in now.buckets:
        c1, c0 = b.unique_postings, before.get(b.key, 0)
        if c1 < min_count or n0 == 0:
            continue
        z, p = two_proportion_z(c1, n1, c0, n0)
        if z <= 0 or p >= alpha:
            continue
        s1, s0 = c1 / n1, c0 / n0
        out.append(
            EmergingSkill(
                skill_id=b.key,
                current=c1,
                previous=c0,
                share_current=round(s1, 6),
                share_previous=round(s0, 6),
                growth=round(s1 / s0 - 1, 4) if c0 else None,
                z=round(z, 4),
                p_value=p,
            )
        )
    out.sort(key=lambda s: (-s.z, s.skill_id))
    return EmergingSkills(
        start=start,
        end=end,
        previous_start=prev_start,
        previous_end=prev_end,
        n_current=n1,
        n_previous=n0,
        min_count=min_count,
        alpha=alpha,
        skills=out[:limit],
    )
