"""Deterministic demo postings, filled from the YAML templates (see :mod:`skillsignal.demo.schema`).

The same template files always give the same postings, in the same order, with the same ids:
one seeded :class:`random.Random` drives every choice, and templates are read in a fixed order.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from skillsignal.core.models import LEVELS, Level

from .schema import (
    DATA_DIR,
    CommonTemplate,
    Direction,
    OccupationTemplate,
    load_templates,
    marked_skills,
    title_cue,
    unmark,
)

VALID_DAYS = 60


class DemoPosting(BaseModel):
    """One posting on the demo board, with what it was written to be (``expected_*``)."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    company: str
    city: str
    province: str
    region: str
    district: str
    street: str
    salary: str = Field(description="Salary as written on the board.")
    salary_min: float | None = Field(default=None, description="Lower bound in salary_unit CNY, None if 面议.")
    salary_max: float | None = None
    salary_unit: str | None = Field(default=None, description="MONTH, DAY or YEAR (schema.org unitText).")
    experience: str
    education: str
    industry: str
    company_size: str
    employment_type: str = Field(description="全职 or 实习.")
    description: str = Field(description="Duties, requirements, pluses and benefits; lines joined by newlines.")
    tags: tuple[str, ...]
    posted: date
    valid_through: date
    expected_occupation: str
    expected_direction: str
    expected_level: Level
    expected_skills: tuple[str, ...]


def _years_lower_bound(experience: str) -> int | None:
    m = re.search(r"(\d+)", experience)
    return int(m.group(1)) if m else None


def _sample_in_order(rng: random.Random, items: list[str], k: int) -> list[str]:
    k = min(k, len(items))
    picked = sorted(rng.sample(range(len(items)), k))
    return [items[i] for i in picked]


class _Writer:
    def __init__(self, common: CommonTemplate) -> None:
        self.common = common
        self.rng = random.Random(common.seed)
        self.start = date.fromisoformat(common.start)
        self.end = date.fromisoformat(common.end)
        self.months = sorted({(d.year, d.month) for d in self._days()})
        self.n = 0

    def _days(self):
        d = self.start
        while d <= self.end:
            yield d
            d += timedelta(days=1)

    def posted_date(self) -> date:
        # months in turn, so every month of the window has postings; the day is drawn
        year, month = self.months[self.n % len(self.months)]
        days = [d for d in self._days() if (d.year, d.month) == (year, month)]
        return self.rng.choice(days)

    def title(self, direction: Direction, level: Level) -> tuple[str, str, bool]:
        """(title, experience text, is internship) for a posting of this level."""
        rng, prof = self.rng, self.common.levels[level]
        base = rng.choice(direction.titles)
        if level == "高级":
            style = rng.choice(["senior", "prefix", "prefix", "plain"])
            if style == "senior" and direction.senior_titles:
                return rng.choice(direction.senior_titles), rng.choice(prof.cue_experience), False
            if style in ("senior", "prefix"):
                return rng.choice(prof.title_prefixes) + base, rng.choice(prof.cue_experience), False
            return base, rng.choice(prof.experience), False
        if level == "初级":
            style = rng.choice(["intern", "prefix", "suffix", "plain", "plain"])
            if style == "intern":
                return base + rng.choice(["实习生", "（实习）"]), rng.choice(["在校生", "经验不限"]), True
            if style == "prefix":
                return rng.choice(prof.title_prefixes) + base, rng.choice(prof.cue_experience), False
            if style == "suffix":
                return base + rng.choice(prof.title_suffixes), rng.choice(["应届生", "经验不限"]), False
            return base, rng.choice(prof.experience), False
        if rng.random() < 0.2:
            return rng.choice(prof.title_prefixes) + base, rng.choice(prof.cue_experience), False
        return base, rng.choice(prof.experience), False

    def salary(self, level: Level, tier: int, intern: bool) -> tuple[str, float | None, float | None, str | None]:
        rng = self.rng
        if intern:
            text = rng.choice(self.common.intern_salaries)
            value = float(re.findall(r"\d+", text)[0])
            return text, value, value, "DAY"
        if rng.random() < 0.06:
            return "面议", None, None, None
        lo_k, hi_k = self.common.levels[level].salary_k
        lo = rng.randint(lo_k, hi_k) * (1.2 if tier == 1 else 1.0)
        lo = max(3, round(lo))
        hi = round(lo * rng.choice([1.4, 1.5, 1.6, 1.8, 2.0]))
        style = rng.choice(["K", "K薪", "K薪", "万", "万月"] + (["年薪"] if level == "高级" else []))
        if style == "年薪":
            months = rng.choice(self.common.month_bonus)
            ylo, yhi = round(lo * months / 10), round(hi * months / 10)
            return f"{ylo}-{yhi}万/年", ylo * 10000.0, yhi * 10000.0, "YEAR"
        if style == "K":
            return f"{lo}-{hi}K", lo * 1000.0, hi * 1000.0, "MONTH"
        if style == "K薪":
            return f"{lo}-{hi}K·{rng.choice(self.common.month_bonus)}薪", lo * 1000.0, hi * 1000.0, "MONTH"
        # 万 needs one decimal at most: round to 500 CNY
        wlo, whi = round(lo / 5) * 5 / 10, round(hi / 5) * 5 / 10
        whi = max(whi, wlo + 0.5)
        suffix = "/月" if style == "万月" else ""
        return f"{wlo:g}-{whi:g}万{suffix}", wlo * 10000, whi * 10000, "MONTH"

    def description(
        self, occ: OccupationTemplate, direction: Direction, experience: str, education: str, place: str
    ) -> tuple[str, list[str]]:
        rng = self.rng
        duties = _sample_in_order(rng, direction.duties, rng.randint(4, min(6, len(direction.duties))))
        reqs = _sample_in_order(rng, direction.requirements, rng.randint(3, min(5, len(direction.requirements))))
        pluses = _sample_in_order(rng, direction.pluses, rng.randint(0, min(2, len(direction.pluses))))
        skills: list[str] = []
        for s in duties + reqs + pluses:
            for sk in marked_skills(s):
                if sk not in skills:
                    skills.append(sk)
        edu_line = (
            f"{education}及以上学历，{rng.choice(occ.majors)}等相关专业；"
            if education not in ("学历不限",)
            else f"{rng.choice(occ.majors)}等相关专业优先，学历不限；"
        )
        req_lines = [edu_line]
        years = _years_lower_bound(experience)
        if years:
            req_lines.append(f"{years}年以上{occ.domain}相关工作经验；")
        req_lines += [unmark(r) for r in reqs]
        req_lines.append(rng.choice(self.common.soft_requirements))
        lines = ["岗位职责："] + [f"{i}. {unmark(d)}" for i, d in enumerate(duties, 1)]
        lines += ["任职要求："] + [f"{i}. {r}" for i, r in enumerate(req_lines, 1)]
        if pluses:
            lines += ["加分项："] + [f"{i}. {unmark(p)}" for i, p in enumerate(pluses, 1)]
        lines.append(f"工作地点：{place}")
        benefits = _sample_in_order(rng, self.common.benefits, rng.randint(3, 6))
        lines.append("福利待遇：" + "、".join(benefits))
        return "\n".join(lines), skills

    def posting(self, occ: OccupationTemplate, index: int) -> dict:
        rng = self.rng
        level = LEVELS[index % len(LEVELS)]
        direction = rng.choice(occ.directions)
        company = rng.choice(occ.companies)
        title, experience, intern = self.title(direction, level)
        assert title_cue(title) in (None, level), (title, level)
        city = rng.choice(self.common.cities)
        education = rng.choice(["本科", "硕士"]) if intern else rng.choice(self.common.levels[level].education)
        salary, smin, smax, unit = self.salary(level, city.tier, intern)
        where = rng.randrange(len(city.districts))
        district, street = city.districts[where], city.streets[where]
        description, skills = self.description(occ, direction, experience, education, f"{city.city}{district}{street}")
        posted = self.posted_date()
        self.n += 1
        tags = list(dict.fromkeys(_sample_in_order(rng, direction.tags, min(4, len(direction.tags)))))
        return dict(
            title=title,
            company=company,
            city=city.city,
            province=city.province,
            region=city.region,
            district=district,
            street=street,
            salary=salary,
            salary_min=smin,
            salary_max=smax,
            salary_unit=unit,
            experience=experience,
            education=education,
            industry=rng.choice(occ.industries),
            company_size=rng.choice(self.common.company_sizes),
            employment_type="实习" if intern else "全职",
            description=description,
            tags=tuple(tags),
            posted=posted,
            valid_through=posted + timedelta(days=VALID_DAYS),
            expected_occupation=occ.code,
            expected_direction=direction.name,
            expected_level=level,
            expected_skills=tuple(skills),
        )


def generate_postings_from(data_dir: Path) -> list[DemoPosting]:
    """Postings from the template files in ``data_dir`` (validated first)."""
    templates = load_templates(data_dir)
    writer = _Writer(templates.common)
    drafts: list[dict] = []
    for occ in templates.occupations:
        for i in range(occ.count):
            drafts.append(writer.posting(occ, i))
    writer.rng.shuffle(drafts)
    # newest first, as boards list them; ids follow that order
    drafts.sort(key=lambda d: d["posted"], reverse=True)
    return [DemoPosting(id=f"demo-{i:04d}", **d) for i, d in enumerate(drafts, 1)]


@lru_cache(maxsize=1)
def _bundled() -> tuple[DemoPosting, ...]:
    return tuple(generate_postings_from(DATA_DIR))


def generate_postings() -> list[DemoPosting]:
    """The demo board's postings: the same list, in the same order, on every call and in every process."""
    return list(_bundled())
