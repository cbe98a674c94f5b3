"""The planted-signal history of :mod:`skillsignal.demo.history` as the signals tests use it (30
months, April 2024 – September 2026, crawled until 2026-09-30, signals planted in 2026Q3), and a
plain-Python reference aggregation of postings into :class:`SignalCell` (what any store must answer
for them).

Planted in the last quarter (2026Q3), each in one occupation only: ``DEMAND`` (人工智能) doubles in
the east region, ``DURATION`` (大数据) postings stay open twice as long, ``PAY`` (集成电路) pay jumps
by 40 %; the two ``CONTROLS`` change only with the market.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from skillsignal.core.models import Posting
from skillsignal.demo.history import (
    CONTROLS,
    DEMAND,
    DURATION,
    OCCUPATIONS,
    PAY,
    PLANTED,
    SKILLS,
    History,
    HistorySpec,
)
from skillsignal.demo.history import generate as generate_history
from storage.base import posted_date, salary_mid
from storage.results import SignalCell

__all__ = ["CONTROLS", "DEMAND", "DURATION", "OCCUPATIONS", "PAY", "PERIOD", "PLANTED", "SKILLS", "History"]

PERIOD = "2026Q3"


def spec(seed: int, base: float = 200.0, duplicate_rate: float = 0.1) -> HistorySpec:
    return HistorySpec(
        first_month=date(2024, 4, 1),
        n_months=30,
        crawl_end=date(2026, 9, 30),
        plant_from=date(2026, 7, 1),
        source="synthetic",
        seed=seed,
        base=base,
        duplicate_rate=duplicate_rate,
    )


def generate(seed: int, base: float = 200.0, duplicate_rate: float = 0.1) -> History:
    """The history for ``seed``: ``base`` postings per occupation per month before season and trend."""
    return generate_history(spec(seed, base, duplicate_rate))


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
