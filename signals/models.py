"""What the demand signals answer: the pydantic models the API serves and the exports write.

One row of indicators is one *cell*: occupation × direction × level × region/province × period
(a dimension left as None means "all"). Every figure carries its sample size; a figure whose
sample is below the minimum is None, not a guess.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

#: the rating labels, tightest first; ``suppressed``: the sample is below the minimum
RatingLabel = Literal["critical", "elevated", "normal", "suppressed"]
#: what a demand figure is: postings only → demand tightness, with supply data → demand ÷ supply
Measure = Literal["demand_tightness", "demand_supply_ratio"]


class Interval95(BaseModel):
    """A 95 % interval of an estimate (bootstrap or analytic, as the field's documentation says)."""

    low: float | None = None
    high: float | None = None


class CellIndicators(BaseModel):
    """The indicators of one cell; shares are 0–1, growths relative (0.5 = +50 %)."""

    occupation: str | None = None
    occupation_name: str | None = None
    direction: str | None = None
    level: str | None = None
    region: str | None = None
    province: str | None = None
    period: str = Field(description="2026-07, 2026Q3 or 2026.")
    # demand
    unique_postings: int = 0
    total_postings: int = 0
    share_of_digital: float | None = None
    growth_previous: float | None = Field(default=None, description="Against the previous period.")
    growth_year: float | None = Field(default=None, description="Against the same period a year before.")
    repost_intensity: float | None = Field(default=None, description="Total ÷ unique postings.")
    # duration (Kaplan–Meier over first seen → last seen, open postings censored)
    duration_sample: int = 0
    duration_closed: int = 0
    duration_median_days: float | None = None
    duration_p75_days: float | None = None
    # pay (monthly CNY, unique postings stating a salary)
    salary_sample: int = 0
    median_salary: float | None = None
    salary_growth: float | None = None
    salary_premium: float | None = Field(default=None, description="Over all digital postings of the region.")
    # requirement mix (shares of unique postings)
    share_experience_3plus: float | None = None
    share_experience_5plus: float | None = None
    share_bachelor_plus: float | None = None
    share_master_plus: float | None = None
    share_senior: float | None = None
    # supply, only where the user brought it
    supply: float | None = None
    demand_supply_ratio: float | None = None


SignalName = Literal["demand", "duration", "pay"]


class SignalCheck(BaseModel):
    """One tightening signal of a cell: its change against the cell's own history, relative to its
    peers (all digital postings of the same geography), with an interval.

    ``ratio`` is peer-adjusted (1.0 = no change relative to the market); the signal *fired* when
    the interval excludes 1 (``low`` > 1), the false-discovery-rate adjusted ``q_value`` is within
    1 − confidence, and ``ratio`` reaches the material threshold.
    """

    signal: SignalName
    now: float | None = Field(default=None, description="The cell's value in the period.")
    before: float | None = Field(default=None, description="Its value over the history baseline.")
    sample_now: int = 0
    sample_before: int = 0
    ratio: float | None = None
    interval: Interval95 = Field(default_factory=Interval95)
    material: float = Field(description="The ratio a change must reach to count.")
    p_value: float | None = Field(default=None, description="One-sided: the ratio is above 1.")
    q_value: float | None = Field(
        default=None, description="Benjamini–Hochberg adjusted over the catalogue's (or cell's) tested signals."
    )
    fired: bool = False
    suppressed: bool = Field(default=False, description="A sample below the minimum: not tested.")


class Rating(BaseModel):
    """A cell's rating against its own history and its peers, with the values behind it."""

    label: RatingLabel
    stars: int | None = Field(default=None, ge=1, le=5, description="1–5, as city catalogues publish.")
    score: float | None = None
    score_interval: Interval95 = Field(default_factory=Interval95)
    signals: list[str] = Field(default_factory=list, description="The indicators that tightened.")
    reasons: list[str] = Field(default_factory=list, description="Each signal's values, in words.")
    checks: list[SignalCheck] = Field(default_factory=list, description="Each signal's numbers.")


class NamedCount(BaseModel):
    id: str
    name: str | None = None
    postings: int


class CatalogueEntry(BaseModel):
    indicators: CellIndicators
    rating: Rating
    top_skills: list[NamedCount] = Field(default_factory=list)
    top_competencies: list[NamedCount] = Field(default_factory=list)
    related_majors: list[str] = Field(default_factory=list)


class Thresholds(BaseModel):
    """The published rating rules (the catalogue prints them beside the entries)."""

    min_sample: int = Field(default=30, description="Unique postings a cell (and its baseline) needs.")
    history_months: int = Field(default=12, description="Months before the period its baseline covers.")
    confidence: float = Field(default=0.95, description="Coverage of each signal's interval.")
    demand_material: float = Field(default=1.25, description="Share-of-digital ratio that is material.")
    duration_material: float = Field(default=1.25, description="Days-open ratio that is material.")
    pay_material: float = Field(default=1.10, description="Median-pay ratio that is material.")
    demand_critical: float = Field(default=1.5, description="A fired demand ratio this high is critical alone.")
    duration_critical: float = Field(default=1.5, description="A fired duration ratio this high is critical alone.")
    pay_critical: float = Field(default=1.2, description="A fired pay ratio this high is critical alone.")
    description: str = ""


class Catalogue(BaseModel):
    """The urgently-needed-talent catalogue (紧缺人才目录) for one period (and region)."""

    period: str
    start: date
    end: date
    region: str | None = None
    province: str | None = None
    measure: Measure = "demand_tightness"
    thresholds: Thresholds = Field(default_factory=Thresholds)
    entries: list[CatalogueEntry]
