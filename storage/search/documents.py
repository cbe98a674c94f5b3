"""Posting -> search document (the derived values come from ``storage.shared.posting_values``),
and search hit -> :class:`PostingHit`."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Any

from skillsignal.core.models import Posting

from .. import fts
from ..base import SeenDates, incoming_seen, with_seen
from ..results import Highlight, PostingHit
from ..values import competency_ids, posting_values, unique_skills

_WORD = re.compile(r"\w", re.UNICODE)


#: the document fields of a posting's life across crawls (:func:`seen_fields`); ``days_open`` and
#: ``closed`` are derived, so the signal aggregations group by them directly
SEEN_FIELDS = ("first_seen", "last_seen", "closed_on", "days_open", "closed")


def seen_fields(seen: SeenDates) -> dict[str, Any]:
    """The document fields of the stored seen dates."""
    return {
        "first_seen": seen.first_seen.isoformat(),
        "last_seen": seen.last_seen.isoformat(),
        "closed_on": seen.closed_on.isoformat() if seen.closed_on else None,
        "days_open": (seen.last_seen - seen.first_seen).days,
        "closed": seen.closed_on is not None,
    }


def stored_seen(src: dict[str, Any]) -> SeenDates:
    """The seen dates of a document's ``_source`` (one indexed before they existed: its crawl date)."""
    if src.get("first_seen") and src.get("last_seen"):
        closed = src.get("closed_on")
        return SeenDates(
            date.fromisoformat(src["first_seen"]),
            date.fromisoformat(src["last_seen"]),
            date.fromisoformat(closed) if closed else None,
        )
    crawl = date.fromisoformat(str(src["crawled_at"])[:10])  # the date as written: Posting.crawled_at.date()
    return SeenDates(crawl, crawl)


#: the ``_source`` fields a stored posting is read back from
POSTING_SOURCE = ["doc", "crawled_at", *SEEN_FIELDS]


def posting_of(src: dict[str, Any]) -> Posting:
    """The posting of a document's ``_source`` (:data:`POSTING_SOURCE`), with its stored seen dates."""
    return with_seen(Posting.model_validate(src["doc"]), stored_seen(src))


def to_document(
    p: Posting,
    *,
    seen: SeenDates | None = None,
    is_dup: bool = False,
    dup_of: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The indexed document of a posting (``seen``: its stored seen dates, by default those it
    brings). Titles and descriptions are indexed twice: jieba tokens joined by U+200B (``*_seg``,
    the same text the SQLite FTS table holds) and the raw text for the CJK bigram analyzer (``*_cjk``)."""
    skills = [
        {"id": s.id, "name": s.name, "required": s.required, "score": s.score} for s in unique_skills(p.extraction)
    ]
    return {
        **posting_values(p),
        "title_seg": fts.segment(p.title),
        "title_cjk": p.title,
        "body_seg": fts.segment(p.description),
        "body_cjk": p.description,
        "crawled_at": p.crawled_at.isoformat(),
        **seen_fields(seen or incoming_seen(p)),
        "dup_of": dup_of,
        "is_dup": is_dup,
        "has_error": p.extraction_error is not None,
        "skill_ids": [s["id"] for s in skills],
        "skills": skills,
        "competency_ids": competency_ids(p.extraction),
        "updated_at": (now or datetime.now(UTC)).isoformat(),
        "doc": p.model_dump(mode="json"),
    }


def query_phrases(query: str) -> list[str]:
    """One phrase per whitespace-separated term: its jieba word tokens joined by U+200B (the
    SQLite FTS semantics: every term must occur as a token phrase). Empty when nothing is searchable."""
    phrases = []
    for term in unicodedata.normalize("NFKC", query).split():
        tokens = [t for t in fts.segment(term).split(fts.SEP) if _WORD.search(t)]
        if tokens:
            phrases.append(fts.SEP.join(tokens))
    return phrases


#: _source fields a hit needs (never the whole posting)
HIT_SOURCE = [
    "id",
    "title",
    "company",
    "province",
    "city",
    "posted_date",
    "source",
    "url",
    "occupation",
    "direction",
    "level",
    "skills",
    "salary_min",
    "salary_max",
    "is_dup",
]


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
