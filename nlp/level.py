"""The posting's level (初级 / 中级 / 高级): the project's rule, the one the gold labels follow.

Apply in order; the first rule that fires wins.

1. The title says 高级/资深/专家/架构师/总监/负责人/主管/首席/技术经理/Tech Lead/Leader/Senior/
   Sr./Staff/Principal → 高级.
2. The title says 初级/助理/实习/实习生/应届/校招/管培 → 初级; the title says 中级 → 中级.
3. Required experience, taking the LOWER bound of the years asked: the ``experience`` field when
   it gives a number (``3-5年`` → 3, ``1年以下`` → 0); when it gives none (empty, 经验不限, 无经验),
   the first number of years the description asks for (``3年以上`` → 3, ``三年以上`` → 3,
   ``3-5年`` → 3). ≥ 5 → 高级; 3–4 → 中级; 0–2 → 初级.
4. No number of years anywhere (or only 经验不限/无经验/在校生/应届) → 初级.

Only the title is read for rules 1–2 (a 高级 in a description heading does not count). Years
come from :mod:`nlp.fields` (``parse_experience``, ``first_required_years``).
"""

from __future__ import annotations

import re

from nlp.fields import first_required_years, parse_experience
from skillsignal.core.models import Level

SENIOR_TITLE = re.compile(
    r"高级|资深|专家|架构师|总监|负责人|主管|首席|技术经理|tech\s*lead|leader|senior|\bsr\.?(?![a-z])|"
    r"\bstaff\b|principal",
    re.IGNORECASE,
)
JUNIOR_TITLE = re.compile(r"初级|助理|实习|应届|校招|管培|junior|intern", re.IGNORECASE)
MIDDLE_TITLE = re.compile(r"中级")

_EN_YEARS = re.compile(r"(?<![\d.])(\d{1,2})\s*\+?\s*(?:-\s*\d{1,2}\s*)?(?:years?|yrs?)\b", re.IGNORECASE)


def field_years_min(experience_text: str | None, years_min: float | None = None) -> float | None:
    """Lower bound of the experience field, or None when it gives no number."""
    if years_min is not None:
        return float(years_min)
    text = (experience_text or "").strip()
    if not text:
        return None
    parsed = parse_experience(text)
    return float(parsed.years_min) if parsed.years_min is not None else None


def description_years(description: str) -> float | None:
    """First number of years the description asks for (lower bound)."""
    if not description:
        return None
    years = first_required_years(description)
    if years is not None:
        return years
    # English postings: "3+ years", "2-3 years of experience"
    m = _EN_YEARS.search(description)
    return float(m.group(1)) if m else None


def level_from_years(years: float) -> Level:
    if years >= 5:
        return "高级"
    if years >= 3:
        return "中级"
    return "初级"


def infer_level(
    title: str,
    experience_text: str | None = None,
    description: str = "",
    years_min: float | None = None,
) -> Level:
    """The level by the rule in this module's docstring."""
    title = title or ""
    if SENIOR_TITLE.search(title):
        return "高级"
    if JUNIOR_TITLE.search(title):
        return "初级"
    if MIDDLE_TITLE.search(title):
        return "中级"
    years = field_years_min(experience_text, years_min)
    if years is None:
        years = description_years(description)
    if years is None:
        return "初级"
    return level_from_years(years)
