"""A small generated posting history for the catalogue's end-to-end tests (API, CLI, dashboard).

24 months (2024-10 .. 2026-09), four occupations × three levels × four provinces (one per region),
steady demand, pay and requirements; in 2026Q3 the postings of 人工智能工程技术人员 (2-02-38-01)
in 广东 double — the one tightening the catalogue has to find.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

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

OCCUPATIONS = {
    "2-02-38-01": ("pytorch", "python", "deep-learning"),
    "2-02-38-03": ("spark", "hive", "python"),
    "2-02-38-09": ("verilog", "fpga"),
    "2-02-10-03": ("java", "mysql"),
}
PROVINCES = {"广东": "east", "湖北": "central", "四川": "west", "辽宁": "northeast"}
LEVELS = ("初级", "中级", "高级")
PLANTED = ("2-02-38-01", "广东")
FIRST_MONTH = date(2024, 10, 1)
MONTHS = 24


def month(i: int) -> date:
    k = FIRST_MONTH.month - 1 + i
    return date(FIRST_MONTH.year + k // 12, k % 12 + 1, 1)


def generated_history(seed: int = 11, per_cell: int = 3) -> list[Posting]:
    """``per_cell`` postings a month per occupation × province × level (twice as many for the
    planted cell in the last quarter)."""
    rng = random.Random(seed)
    out: list[Posting] = []
    for i in range(MONTHS):
        first = month(i)
        for occ, skills in OCCUPATIONS.items():
            for province, region in PROVINCES.items():
                for li, level in enumerate(LEVELS):
                    n = per_cell * (2 if (occ, province) == PLANTED and i >= MONTHS - 3 else 1)
                    for k in range(n):
                        posted = first + timedelta(days=rng.randrange(28))
                        pay = 9000 + 5000 * li + rng.randrange(3000)
                        out.append(
                            Posting(
                                id=f"{occ}-{province}-{level}-{i}-{k}",
                                source="generated",
                                title="工程师",
                                company=f"公司{rng.randrange(40)}",
                                location=Location(province=province, city=province, region=region),
                                salary=Salary(min=pay, max=pay + 4000, period="month"),
                                experience=Experience(years_min=[0, 3, 5][li]),
                                education=Education(level=["大专", "本科", "硕士"][rng.randrange(3)]),
                                posted_at=posted,
                                first_seen=posted,
                                last_seen=posted + timedelta(days=10 + rng.randrange(40)),
                                extraction=Extraction(
                                    occupation=OccupationMatch(code=occ, name=occ),
                                    level=level,
                                    skills=[SkillMatch(id=s, name=s) for s in skills[: 1 + rng.randrange(len(skills))]],
                                    competencies=[CompetencyMatch(id=f"{occ}.c{rng.randrange(3)}", text="能力")],
                                    taxonomy_version="t",
                                    extractor_version="e",
                                ),
                            )
                        )
    return out
