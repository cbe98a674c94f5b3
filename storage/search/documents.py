"""Posting -> search document (the derived values come from the shared helpers in ``storage.base``),
and search hit -> :class:`PostingHit`."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

from skillsignal.core.models import Posting

from .. import fts
from ..base import experience_band, posted_date, salary_mid
from ..results import Highlight, PostingHit

_WORD = re.compile(r"\w", re.UNICODE)


def to_document(p: Posting, *, is_dup: bool = False, dup_of: str | None = None,
                now: datetime | None = None) -> dict[str, Any]:
    """The indexed document of a posting. Titles and descriptions are indexed twice: jieba tokens
    joined by U+200B (``*_seg``, the same text the SQLite FTS table holds) and the raw text for the
    CJK bigram analyzer (``*_cjk``)."""
    ext = p.extraction
    skills: list[dict[str, Any]] = []
    seen: set[str] = set()
    if ext:
        for s in ext.skills:
            if s.id not in seen:
                seen.add(s.id)
                skills.append({"id": s.id, "name": s.name, "required": s.required, "score": s.score})
    competency_ids = list(dict.fromkeys(c.id for c in ext.competencies)) if ext else []
    return {
        "id": p.id,
        "source": p.source,
        "url": p.url,
        "title": p.title,
        "title_seg": fts.segment(p.title),
        "title_cjk": p.title,
        "body_seg": fts.segment(p.description),
        "body_cjk": p.description,
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
        "crawled_at": p.crawled_at.isoformat(),
        "fingerprint": p.fingerprint,
        "dup_of": dup_of,
        "is_dup": is_dup,
        "occupation": ext.occupation.code if ext else None,
        "direction": ext.occupation.direction if ext else None,
        "level": ext.level if ext else None,
        "taxonomy_version": ext.taxonomy_version if ext else None,
        "has_error": p.extraction_error is not None,
        "skill_ids": [s["id"] for s in skills],
        "skills": skills,
        "competency_ids": competency_ids,
        "updated_at": (now or datetime.now(timezone.utc)).isoformat(),
        "doc": p.model_dump(mode="json"),
    }


def query_phrases(query: str) -> list[str]:
    """One phrase per whitespace-separated term: its jieba word tokens joined by U+200B (the
    SQLite FTS semantics: every term must occur as a token phrase). Empty when nothing is searchable."""
    import unicodedata

    phrases = []
    for term in unicodedata.normalize("NFKC", query).split():
        tokens = [t for t in fts.segment(term).split(fts.SEP) if _WORD.search(t)]
        if tokens:
            phrases.append(fts.SEP.join(tokens))
    return phrases


#: _source fields a hit needs (never the whole posting)
HIT_SOURCE = ["id", "title", "company", "province", "city", "posted_date", "source", "url", "occupation",
              "direction", "level", "skills", "salary_min", "salary_max", "is_dup"]


def _unsegment(fragment: str) -> str:
    """Highlight text without the U+200B token separators; tags around adjacent tokens of one
    phrase are merged (``<em>机器</em><em>学习</em>`` -> ``<em>机器学习</em>``, as SQLite's FTS gives)."""
    return (fts.unsegment(fragment) or "").replace("</em><em>", "")


def to_hit(hit: dict[str, Any], searched: bool = False) -> PostingHit:
    """A hit as the API serves it; with ``searched`` the title is always filled in the highlight
    (SQLite's ``highlight()`` returns the whole title even when only the description matched)."""
    src = hit["_source"]
    hl = hit.get("highlight") or {}
    title_hl = hl.get("title_seg")
    body_hl = hl.get("body_seg")
    skills = sorted(src.get("skills") or [], key=lambda s: (-float(s.get("score", 0)), s["id"]))
    return PostingHit(
        id=src["id"],
        title=src["title"],
        company=src.get("company"),
        province=src.get("province"),
        city=src.get("city"),
        posted_date=date.fromisoformat(src["posted_date"]),
        source=src["source"],
        url=src.get("url"),
        occupation=src.get("occupation"),
        direction=src.get("direction"),
        level=src.get("level"),
        skills=[s["id"] for s in skills],
        salary_min=src.get("salary_min"),
        salary_max=src.get("salary_max"),
        duplicate=bool(src.get("is_dup")),
        highlight=Highlight(
            title=_unsegment(title_hl[0]) if title_hl else (src["title"] if searched else None),
            description=_unsegment(" … ".join(body_hl)) if body_hl else None,
        ),
    )
