"""The posting normaliser the ingest pipeline runs before storing: clean text, parse fields.

:func:`normalise_posting` returns a new :class:`Posting` with

* title, company and description cleaned (:func:`nlp.cleaning.clean_text`),
* salary / experience / education parsed from their text where not parsed already
  (the text is kept), the education level normalised, the location resolved to
  province/city/district/region,
* the fingerprint recomputed over the cleaned text.

Each step is guarded on its own: a value that cannot be parsed stays as it was, and the
function does not raise on bad values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from skillsignal.core.models import Education, Experience, Location, Posting, Salary

from ..cleaning import clean_text
from .education import education_level, parse_education
from .experience import parse_experience
from .location import resolve_location
from .salary import parse_salary

log = logging.getLogger(__name__)

T = TypeVar("T")


def _guard(posting: Posting, what: str, fn: Callable[[], T], fallback: T) -> T:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - one bad field must not lose the others
        log.warning("posting %s: %s not normalised (%s: %s)", posting.id, what, type(exc).__name__, exc)
        return fallback


def _title(title: str) -> str:
    cleaned = " ".join(clean_text(title).split())
    return cleaned[:500] or title


def _optional_text(value: str | None) -> str | None:
    if value is None:
        return None
    return " ".join(clean_text(value).split()) or None


def _salary(s: Salary, source: str) -> Salary:
    if s.min is not None or s.max is not None or s.negotiable or not s.text:
        return s
    return parse_salary(s.text, source=source)


def _experience(e: Experience) -> Experience:
    if e.years_min is not None or e.years_max is not None or not e.text:
        return e
    return parse_experience(e.text)


def _education(e: Education) -> Education:
    if e.level:
        level = education_level(e.level)
        return e if level in (None, e.level) else e.model_copy(update={"level": level})
    if not e.text:
        return e
    return parse_education(e.text)


def _location(loc: Location) -> Location:
    return resolve_location(loc)


def normalise_posting(posting: Posting) -> Posting:
    """A cleaned, parsed copy of ``posting`` (see the module doc). Never raises on bad values."""
    update: dict[str, Any] = {
        "title": _guard(posting, "title", lambda: _title(posting.title), posting.title),
        "company": _guard(posting, "company", lambda: _optional_text(posting.company), posting.company),
        "description": _guard(posting, "description", lambda: clean_text(posting.description), posting.description),
        "salary": _guard(posting, "salary", lambda: _salary(posting.salary, posting.source), posting.salary),
        "experience": _guard(posting, "experience", lambda: _experience(posting.experience), posting.experience),
        "education": _guard(posting, "education", lambda: _education(posting.education), posting.education),
        "location": _guard(posting, "location", lambda: _location(posting.location), posting.location),
        "tags": _guard(
            posting, "tags", lambda: [t for t in (_optional_text(x) for x in posting.tags) if t], posting.tags
        ),
    }
    out = posting.model_copy(update=update, deep=True)
    out.fingerprint = _guard(posting, "fingerprint", out.compute_fingerprint, posting.fingerprint)
    return out
