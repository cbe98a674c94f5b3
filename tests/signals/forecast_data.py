"""A generated 30-month posting history for the forecast tests: seasonal demand per occupation × region.

Months 2024-01 .. 2026-06, every month complete (postings on its first and last day too). Each
cell's expected monthly count follows a 12-month cycle (peak in March, trough in September, as
Chinese hiring does around the spring festival) on a slow upward trend; the counts are Poisson
draws from a seeded generator, so the history is the same on every machine. :data:`COUNTS` holds
what was generated (unique postings per cell and month) for the tests to check answers against.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np

from skillsignal.core.models import Extraction, OccupationMatch, Posting

FIRST = date(2024, 1, 1)
MONTHS = 30
OCCUPATIONS = ("2-02-38-01", "2-02-38-03")
REGIONS = (("东部", "广东", "深圳", "east"), ("西部", "四川", "成都", "west"))
#: base postings per month of each (occupation, region) cell
BASE = {
    ("2-02-38-01", "east"): 60,
    ("2-02-38-01", "west"): 20,
    ("2-02-38-03", "east"): 40,
    ("2-02-38-03", "west"): 12,
}


def month(i: int) -> date:
    return date(FIRST.year + (FIRST.month - 1 + i) // 12, (FIRST.month - 1 + i) % 12 + 1, 1)


def month_end(i: int) -> date:
    return month(i + 1) - timedelta(days=1)


def expected(cell: tuple[str, str], i: int) -> float:
    season = 1 + 0.45 * math.cos(2 * math.pi * (i - 2) / 12)  # peak in March (i % 12 == 2)
    return BASE[cell] * season * (1 + 0.01 * i)


def generate(seed: int = 15) -> tuple[list[Posting], dict[tuple[str, str], list[int]]]:
    """The postings and the unique count per (occupation, region) and month."""
    rng = np.random.default_rng(seed)
    postings: list[Posting] = []
    counts: dict[tuple[str, str], list[int]] = {cell: [] for cell in BASE}
    for i in range(MONTHS):
        start, end = month(i), month_end(i)
        days = (end - start).days + 1
        for (occ, region), _ in BASE.items():
            k = int(rng.poisson(expected((occ, region), i)))
            counts[(occ, region)].append(k)
            _, province, city, reg = next(r for r in REGIONS if r[3] == region)
            for j in range(k):
                # the first and last posting of a cell-month on the month's first and last day
                day = start if j == 0 else end if j == k - 1 else start + timedelta(days=int(rng.integers(days)))
                p = Posting(
                    id=f"f-{occ}-{region}-{i}-{j}",
                    source="boss",
                    title="数据工程师",
                    description="负责数据平台开发。",
                    posted_at=day,
                    crawled_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
                )
                p.location.province, p.location.city, p.location.region = province, city, reg
                p.extraction = Extraction(
                    occupation=OccupationMatch(code=occ, name=occ),
                    level="中级",
                    taxonomy_version="t",
                    extractor_version="t",
                )
                postings.append(p)
    return postings, counts


def total(
    counts: dict[tuple[str, str], list[int]], occupation: str | None = None, region: str | None = None
) -> list[int]:
    """Monthly sums over the cells matching ``occupation`` / ``region`` (None: all)."""
    cells = [c for c in counts if (occupation is None or c[0] == occupation) and (region is None or c[1] == region)]
    return [sum(counts[c][i] for c in cells) for i in range(MONTHS)]
