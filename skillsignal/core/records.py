"""Turn a flat record (a board's fields, one JSONL line, one CSV row) into a :class:`Posting`.

The flat shape is the one job-board dumps use: ``id, source, url, title, company, city,
district, province, education, experience, salary, industry, company_size, description,
tags, posted``. Text is kept as written here; parsing salary, years, education and region
into numbers and codes is the normaliser's job (:func:`nlp.fields.normalise_posting`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from .dates import parse_date
from .models import Education, Experience, Location, Posting, Salary

FLAT_FIELDS = (
    "id",
    "source",
    "url",
    "title",
    "company",
    "province",
    "city",
    "district",
    "education",
    "experience",
    "salary",
    "industry",
    "company_size",
    "employment_type",
    "description",
    "tags",
    "posted",
)


class RecordError(ValueError):
    """A record cannot become a posting; the message says which field and why."""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from spreadsheets
        return None
    text = str(value).strip()
    return text or None


def parse_posted(value: Any) -> date | None:
    """The ``posted`` field: :func:`skillsignal.core.dates.parse_date` (the API reads ``posted_at`` with it too)."""
    try:
        return parse_date(value)
    except ValueError as exc:
        raise RecordError(f"posted: {exc}") from exc


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = re.split(r"[,，;；|/、]", str(value))
    return [t for t in (_text(i) for i in items) if t]


def record_id(source: str, record: Mapping[str, Any]) -> str:
    """A stable id for a record that carries none: source + hash of url or title/company/description."""
    basis = _text(record.get("url")) or "\x1f".join(
        _text(record.get(k)) or "" for k in ("title", "company", "city", "description")
    )
    return f"{source}-{hashlib.sha1(basis.encode('utf-8')).hexdigest()[:12]}"


def record_to_posting(record: Mapping[str, Any], default_source: str = "import") -> Posting:
    """Build a :class:`Posting` from a flat record; raises :class:`RecordError` naming the bad field."""
    title = _text(record.get("title"))
    if not title:
        raise RecordError("title: missing or empty (every posting needs a title)")
    source = _text(record.get("source")) or default_source
    pid = _text(record.get("id")) or record_id(source, record)
    return Posting(
        id=pid,
        source=source,
        url=_text(record.get("url")),
        title=title,
        company=_text(record.get("company")),
        location=Location(
            province=_text(record.get("province")),
            city=_text(record.get("city")),
            district=_text(record.get("district")),
        ),
        salary=Salary(text=_text(record.get("salary"))),
        experience=Experience(text=_text(record.get("experience"))),
        education=Education(text=_text(record.get("education"))),
        industry=_text(record.get("industry")),
        company_size=_text(record.get("company_size")),
        employment_type=_text(record.get("employment_type")),
        description=_text(record.get("description")) or "",
        tags=_tags(record.get("tags")),
        posted_at=parse_posted(record.get("posted")),
    )
