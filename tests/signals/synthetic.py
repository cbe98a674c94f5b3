"""A generated 30-month posting history with planted demand signals, and a plain-Python reference
aggregation of postings into :class:`SignalCell` (what any store must answer for them).

The history (April 2024 – September 2026, crawled until 2026-09-30): five core occupations, four
provinces in three regions, three levels, a common seasonal pattern and a 1 %/month market trend.
In the last quarter (2026Q3) three signals are planted, each in one occupation only:

* ``DEMAND`` (人工智能): postings in the east region double;
* ``DURATION`` (大数据): postings stay open twice as long (mean 40 instead of 20 days);
* ``PAY`` (集成电路): advertised pay jumps by 40 %.

The two other occupations (``CONTROLS``) change only with the market. Every number comes from a
seeded ``numpy`` generator: a seed gives the same postings on every machine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from signals.periods import add_months
from skillsignal.core.models import (
    CompetencyMatch,
    Education,
    Experience,
    Extraction,
    Location,
    OccupationMatch,
    Posting,
    Salary,
    SkillMatch,
)
from storage.base import posted_date, salary_mid
from storage.results import SignalCell

FIRST_MONTH = date(2024, 4, 1)
N_MONTHS = 30
CRAWL_END = date(2026, 9, 30)
PERIOD = "2026Q3"
PLANT_FROM = date(2026, 7, 1)

DEMAND, DURATION, PAY = "2-02-38-01", "2-02-38-03", "2-02-38-09"
CONTROLS = ("2-02-38-04", "2-02-38-12")
OCCUPATIONS = (DEMAND, DURATION, PAY, *CONTROLS)
PLANTED = {DEMAND: "demand", DURATION: "duration", PAY: "pay"}
NAMES = {
    DEMAND: "人工智能工程技术人员",
    DURATION: "大数据工程技术人员",
    PAY: "集成电路工程技术人员",
    "2-02-38-04": "云计算工程技术人员",
    "2-02-38-12": "数据安全工程技术人员",
}
SKILLS = {
    DEMAND: ("machine-learning", "deep-learning", "transformer"),
    DURATION: ("hadoop", "spark", "flink"),
    PAY: ("verilog", "rtl-design", "ic-verification"),
    "2-02-38-04": ("docker", "kubernetes", "aws"),
    "2-02-38-12": ("cryptography", "data-security", "data-masking"),
}
PROVINCES = (("广东", "广州", "east"), ("北京", "北京", "east"), ("湖北", "武汉", "central"), ("四川", "成都", "west"))
PROVINCE_WEIGHTS = (0.3, 0.2, 0.25, 0.25)
LEVELS = ("初级", "中级", "高级")
LEVEL_PAY = {"初级": 0.7, "中级": 1.0, "高级": 1.5}
OCCUPATION_PAY = {DEMAND: 25000, DURATION: 22000, PAY: 24000, "2-02-38-04": 20000, "2-02-38-12": 21000}
#: the common seasonal pattern (January … December): a slow Spring Festival, a March peak
SEASON = (0.9, 0.6, 1.3, 1.1, 1.0, 1.0, 1.0, 0.95, 1.1, 1.0, 1.0, 0.95)
EXPERIENCE = {
    "初级": ((0, 1, 3), (0.5, 0.4, 0.1)),
    "中级": ((1, 3, 5), (0.2, 0.6, 0.2)),
    "高级": ((3, 5, 8), (0.2, 0.5, 0.3)),
}
EDUCATION = ("大专", "本科", "硕士", "博士")
EDUCATION_P = (0.2, 0.6, 0.17, 0.03)


@dataclass
class History:
    postings: list[Posting]
    #: duplicate id -> the id of the posting it reposts
    duplicates: dict[str, str] = field(default_factory=dict)


def month_index(month: date) -> int:
    return (month.year - FIRST_MONTH.year) * 12 + month.month - FIRST_MONTH.month


def generate(seed: int, base: float = 200.0, duplicate_rate: float = 0.1) -> History:
    """The history for ``seed``: ``base`` postings per occupation per month before season and trend."""
    rng = np.random.default_rng(seed)
    history = History(postings=[])
    serial = 0
    for m in range(N_MONTHS):
        month = add_months(FIRST_MONTH, m)
        days = (add_months(month, 1) - month).days
        expected = base * SEASON[month.month - 1] * 1.01**m
        planted = month >= PLANT_FROM
        for occ in OCCUPATIONS:
            n = int(rng.poisson(expected))
            provinces = list(rng.choice(len(PROVINCES), size=n, p=PROVINCE_WEIGHTS))
            if planted and occ == DEMAND:  # the east doubles: as many again, east only
                east = [i for i, (_, _, r) in enumerate(PROVINCES) if r == "east"]
                east_p = np.array([PROVINCE_WEIGHTS[i] for i in east]) / sum(PROVINCE_WEIGHTS[i] for i in east)
                extra = int(rng.poisson(expected * sum(PROVINCE_WEIGHTS[i] for i in east)))
                provinces += [east[i] for i in rng.choice(len(east), size=extra, p=east_p)]
            for prov in provinces:
                serial += 1
                posting = _posting(rng, serial, occ, PROVINCES[prov], month, days, planted)
                history.postings.append(posting)
                if rng.random() < duplicate_rate:
                    serial += 1
                    dup = posting.model_copy(update={"id": f"syn-{serial:06d}", "url": None})
                    history.postings.append(dup)
                    history.duplicates[dup.id] = posting.id
    return history


def _posting(
    rng: np.random.Generator,
    serial: int,
    occ: str,
    place: tuple[str, str, str],
    month: date,
    days: int,
    planted: bool,
) -> Posting:
    level = LEVELS[int(rng.integers(0, 3))]
    posted = month + timedelta(days=int(rng.integers(0, days)))
    mean_days = 40.0 if planted and occ == DURATION else 20.0
    open_days = int(rng.exponential(mean_days))
    closes = posted + timedelta(days=open_days)
    last_seen, closed_on = (closes, closes) if closes <= CRAWL_END else (CRAWL_END, None)
    pay = OCCUPATION_PAY[occ] * LEVEL_PAY[level] * (1.4 if planted and occ == PAY else 1.0)
    mid = round(pay * float(np.exp(rng.normal(0.0, 0.25))) / 500) * 500
    years_choices, years_p = EXPERIENCE[level]
    years = float(rng.choice(years_choices, p=years_p))
    education = str(rng.choice(EDUCATION, p=EDUCATION_P))
    skills = [SkillMatch(id=s, name=s) for s in SKILLS[occ] if rng.random() < 0.6]
    code = occ.split("-")[-1]
    comp_ids = [f"stmt.{code}.{i}" for i in range(3) if rng.random() < 0.5]
    province, city, region = place
    return Posting(
        id=f"syn-{serial:06d}",
        source="synthetic",
        url=f"https://example.test/jobs/{serial}",
        title=f"{NAMES[occ]}（{level}）",
        company=f"公司{serial % 97}",
        location=Location(province=province, city=city, region=region),  # type: ignore[arg-type]
        salary=Salary(min=mid * 0.8, max=mid * 1.2, period="month"),
        experience=Experience(years_min=years),
        education=Education(level=education),
        description=f"{NAMES[occ]} 岗位 {serial}",
        posted_at=posted,
        crawled_at=datetime.combine(last_seen, time(12), tzinfo=UTC),
        first_seen=posted,
        last_seen=last_seen,
        closed_on=closed_on,
        extraction=Extraction(
            occupation=OccupationMatch(code=occ, name=NAMES[occ], score=1.0),
            level=level,  # type: ignore[arg-type]
            skills=skills,
            competencies=[CompetencyMatch(id=c, text=c, level=level) for c in comp_ids],  # type: ignore[arg-type]
            taxonomy_version="synthetic",
            extractor_version="synthetic",
        ),
    )


# -- the reference aggregation ------------------------------------------------------------------

_BACHELOR_PLUS = {"本科", "硕士", "博士"}
_MASTER_PLUS = {"硕士", "博士"}


def _value(posting: Posting, dim: str) -> str | None:
    ex = posting.extraction
    if dim == "occupation":
        return ex.occupation.code if ex else None
    if dim == "direction":
        return ex.occupation.direction if ex else None
    if dim == "level":
        return ex.level if ex else None
    if dim == "region":
        return posting.location.region
    return posting.location.province


def reference_cells(
    postings: Iterable[Posting],
    duplicates: dict[str, str],
    dims: Sequence[str],
    start: date | None = None,
    end: date | None = None,
    regions: Sequence[str] = (),
) -> list[SignalCell]:
    """:class:`SignalCell` per key and month, computed posting by posting (the definition)."""
    cells: dict[tuple[tuple[str | None, ...], date], SignalCell] = {}
    salaries: dict[tuple[tuple[str | None, ...], date], dict[float, int]] = defaultdict(lambda: defaultdict(int))
    durations: dict[tuple[tuple[str | None, ...], date], dict[tuple[int, bool], int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for p in postings:
        day = posted_date(p)
        if (start and day < start) or (end and day > end) or (regions and p.location.region not in regions):
            continue
        key = tuple(_value(p, d) for d in dims)
        ck = (key, day.replace(day=1))
        cell = cells.setdefault(ck, SignalCell(key=key, period=day.replace(day=1)))
        cell.total_postings += 1
        if p.id in duplicates:
            continue
        cell.unique_postings += 1
        mid = salary_mid(p)
        if mid is not None:
            salaries[ck][mid] += 1
        years = p.experience.years_min
        cell.experience_3plus += int(years is not None and years >= 3)
        cell.experience_5plus += int(years is not None and years >= 5)
        cell.bachelor_plus += int(p.education.level in _BACHELOR_PLUS)
        cell.master_plus += int(p.education.level in _MASTER_PLUS)
        cell.senior += int(p.extraction is not None and p.extraction.level == "高级")
        if p.first_seen and p.last_seen:
            durations[ck][((p.last_seen - p.first_seen).days, p.closed_on is not None)] += 1
    for ck, cell in cells.items():
        cell.salaries = sorted(salaries[ck].items())
        cell.durations = [(d, c, n) for (d, c), n in sorted(durations[ck].items())]
    return sorted(cells.values(), key=lambda c: (tuple("" if v is None else v for v in c.key), c.period))
