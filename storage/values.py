"""What every backend stores of a posting: its scalar values (filters and facets read them), its
skills and its competencies, each derived once from the posting model."""

from __future__ import annotations

from typing import Any

from skillsignal.core.models import Extraction, Posting, SkillMatch

from .base import experience_band, posted_date, salary_mid


def posting_values(p: Posting) -> dict[str, Any]:
    """The scalar values every backend indexes for a posting (filters and facets read them)."""
    ext = p.extraction
    return {
        "id": p.id,
        "source": p.source,
        "url": p.url,
        "title": p.title,
        "company": p.company,
        "province": p.location.province,
        "city": p.location.city,
        "district": p.location.district,
        "region": p.location.region,
        "industry": p.industry,
        "education": p.education.level,
        "experience_min": p.experience.years_min,
        "experience_band": experience_band(p.experience.years_min),
        "salary_min": p.salary.min,
        "salary_max": p.salary.max,
        "salary_mid": salary_mid(p),
        "posted_date": posted_date(p).isoformat(),
        "fingerprint": p.fingerprint,
        "occupation": ext.occupation.code if ext else None,
        "direction": ext.occupation.direction if ext else None,
        "level": ext.level if ext else None,
        "taxonomy_version": ext.taxonomy_version if ext else None,
    }


#: the fields :func:`posting_values` gives, in its order (what every backend stores of a posting)
POSTING_VALUE_FIELDS: tuple[str, ...] = tuple(posting_values(Posting(id="-", source="-", title="-")))


def unique_skills(ext: Extraction | None) -> list[SkillMatch]:
    """The skills an extraction names, the first of each id (a posting counts once per skill)."""
    seen: dict[str, SkillMatch] = {}
    for s in ext.skills if ext else []:
        seen.setdefault(s.id, s)
    return list(seen.values())


def competency_ids(ext: Extraction | None) -> list[str]:
    """The competency statement ids an extraction lists, each once, in order."""
    return list(dict.fromkeys(c.id for c in ext.competencies)) if ext else []
