"""A generated multi-year posting history with planted demand signals, for the demo and the tests.

The demo board holds a few hundred postings over three months: too few for the catalogue (a rated
cell needs ≥ 30 unique postings and a year of history) and for forecasts (≥ 12 months). So
``skillsignal demo`` also loads this history, under its own source (:data:`SOURCE`), into the same
store. It is **generated**, not crawled: every number comes from a seeded ``numpy`` generator, so a
seed gives the same postings (same ids) on every machine and a reload replaces them in place.

The history (:class:`HistorySpec`): five core occupations, four provinces in three regions, three
levels, a common seasonal pattern and a 1 %/month market trend. From ``plant_from`` on three signals
are planted, each in one occupation only:

* ``DEMAND`` (人工智能): postings in the east region double;
* ``DURATION`` (大数据): postings stay open twice as long (mean 40 instead of 20 days);
* ``PAY`` (集成电路): advertised pay jumps by 40 %.

The two other occupations (``CONTROLS``) change only with the market. Each posting carries its
extraction (so it is indexed as is, never re-extracted) - its competencies are statements of the
bundled standards, of its occupation and level, so the dashboard names them -, its first / last seen dates and, when it
closed before ``crawl_end``, its closing day; about ``duplicate_rate`` of them are reposts, marked
as near-duplicates of the posting they repeat.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from signals.periods import add_months
from skill_taxonomy import default_taxonomy
from skillsignal.core.models import Posting
from storage.base import PostingIndex

DEMAND, DURATION, PAY = "2-02-38-01", "2-02-38-03", "2-02-38-09"
CONTROLS = ("2-02-38-04", "2-02-38-12")
OCCUPATIONS = (DEMAND, DURATION, PAY, *CONTROLS)
#: occupation -> the signal planted in it
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

#: the source name of the demo's generated history: never confused with crawled postings
SOURCE = "demo-history"


@dataclass(frozen=True)
class HistorySpec:
    """What to generate: ``n_months`` months from ``first_month``, crawled until ``crawl_end``,
    signals planted from ``plant_from`` on; ``base`` postings per occupation a month before season
    and trend."""

    first_month: date
    n_months: int
    crawl_end: date
    plant_from: date
    source: str
    seed: int = 1
    base: float = 200.0
    duplicate_rate: float = 0.1

    @property
    def last_month(self) -> date:
        return add_months(self.first_month, self.n_months - 1)


#: the demo's history: 30 months ending with the demo board's last month (2026-10), the signals
#: planted from 2026Q3 (the quarter the README's catalogue shows)
DEMO_SPEC = HistorySpec(
    first_month=date(2024, 5, 1),
    n_months=30,
    crawl_end=date(2026, 10, 31),
    plant_from=date(2026, 7, 1),
    source=SOURCE,
)


@dataclass
class History:
    postings: list[Posting]
    #: duplicate id -> the id of the posting it reposts
    duplicates: dict[str, str] = field(default_factory=dict)


#: competency statements a generated posting may carry: the first few of its occupation and level
STATEMENTS_PER_LEVEL = 3


def _statements() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(occupation, level) -> the first :data:`STATEMENTS_PER_LEVEL` (id, text) statements of the
    bundled taxonomy."""
    occupations = default_taxonomy().occupations
    return {
        (occ, str(level)): [(c.id, c.text) for c in comps[:STATEMENTS_PER_LEVEL]]
        for occ in OCCUPATIONS
        for level, comps in occupations[occ].levels.items()
    }


def generate(spec: HistorySpec) -> History:
    """The history of ``spec`` (the same postings, with the same ids, for the same spec)."""
    rng = np.random.default_rng(spec.seed)
    statements = _statements()
    history = History(postings=[])
    serial = 0
    east = [i for i, (_, _, r) in enumerate(PROVINCES) if r == "east"]
    east_share = sum(PROVINCE_WEIGHTS[i] for i in east)
    east_p = np.array([PROVINCE_WEIGHTS[i] for i in east]) / east_share
    for m in range(spec.n_months):
        month = add_months(spec.first_month, m)
        days = (add_months(month, 1) - month).days
        expected = spec.base * SEASON[month.month - 1] * 1.01**m
        planted = month >= spec.plant_from
        for occ in OCCUPATIONS:
            n = int(rng.poisson(expected))
            provinces = list(rng.choice(len(PROVINCES), size=n, p=PROVINCE_WEIGHTS))
            if planted and occ == DEMAND:  # the east doubles: as many again, east only
                extra = int(rng.poisson(expected * east_share))
                provinces += [east[i] for i in rng.choice(len(east), size=extra, p=east_p)]
            for prov in provinces:
                serial += 1
                posting = _posting(rng, spec, serial, occ, PROVINCES[prov], month, days, planted, statements)
                history.postings.append(posting)
                if rng.random() < spec.duplicate_rate:
                    serial += 1
                    dup = posting.model_copy(update={"id": _id(spec, serial), "url": None})
                    history.postings.append(dup)
                    history.duplicates[dup.id] = posting.id
    return history


def _id(spec: HistorySpec, serial: int) -> str:
    return f"{spec.source}-{serial:06d}"


def _posting(
    rng: np.random.Generator,
    spec: HistorySpec,
    serial: int,
    occ: str,
    place: tuple[str, str, str],
    month: date,
    days: int,
    planted: bool,
    statements: dict[tuple[str, str], list[tuple[str, str]]],
) -> Posting:
    level = LEVELS[int(rng.integers(0, 3))]
    posted = month + timedelta(days=int(rng.integers(0, days)))
    mean_days = 40.0 if planted and occ == DURATION else 20.0
    open_days = int(rng.exponential(mean_days))
    closes = posted + timedelta(days=open_days)
    last_seen, closed_on = (closes, closes) if closes <= spec.crawl_end else (spec.crawl_end, None)
    pay = OCCUPATION_PAY[occ] * LEVEL_PAY[level] * (1.4 if planted and occ == PAY else 1.0)
    mid = round(pay * float(np.exp(rng.normal(0.0, 0.25))) / 500) * 500
    years_choices, years_p = EXPERIENCE[level]
    years = float(rng.choice(years_choices, p=years_p))
    education = str(rng.choice(EDUCATION, p=EDUCATION_P))
    skills = [{"id": s, "name": s} for s in SKILLS[occ] if rng.random() < 0.6]
    offered = statements.get((occ, level), [])
    picks = [i for i in range(STATEMENTS_PER_LEVEL) if rng.random() < 0.5]  # the draws whatever the taxonomy holds
    comps = [offered[i] for i in picks if i < len(offered)]
    province, city, region = place
    crawled = datetime.combine(last_seen, time(12), tzinfo=UTC)
    # one validation of the whole record (nested dicts), not one per nested model: ~2x faster
    return Posting.model_validate(
        {
            "id": _id(spec, serial),
            "source": spec.source,
            "url": f"https://example.test/{spec.source}/{serial}",
            "title": f"{NAMES[occ]}（{level}）",
            "company": f"公司{serial % 97}",
            "location": {"province": province, "city": city, "region": region},
            "salary": {"min": mid * 0.8, "max": mid * 1.2, "period": "month"},
            "experience": {"years_min": years},
            "education": {"level": education},
            "description": f"{NAMES[occ]} 岗位 {serial}",
            "posted_at": posted,
            "crawled_at": crawled,
            "first_seen": posted,
            "last_seen": last_seen,
            "closed_on": closed_on,
            "extraction": {
                "occupation": {"code": occ, "name": NAMES[occ], "score": 1.0},
                "level": level,
                "skills": skills,
                "competencies": [{"id": cid, "text": text, "level": level} for cid, text in comps],
                "taxonomy_version": spec.source,
                "extractor_version": spec.source,
                "extracted_at": crawled,  # not the clock: the same spec gives the same records
            },
        }
    )


def _batches(postings: list[Posting], size: int) -> Iterator[list[Posting]]:
    for i in range(0, len(postings), size):
        yield postings[i : i + size]


def load_history(store: PostingIndex, history: History, batch_size: int = 5000) -> int:
    """Index ``history`` (postings with their extraction, in batches) and mark its reposts;
    returns how many postings. Idempotent: the same ids replace the same records."""
    n = sum(store.index_postings(batch) for batch in _batches(history.postings, batch_size))
    store.set_duplicates(dict(history.duplicates))
    store.refresh()
    return n
