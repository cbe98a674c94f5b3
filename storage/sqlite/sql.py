"""The SQL a :class:`PostingFilter`, a facet and a period become (schema v3, see ``schema.py``).

Dates are stored as integer ``day`` (days since 1970-01-01) and ``month`` (year*12 + month-1)
columns; the skill and competency link tables copy the hot filter columns, so a query whose filter
they can answer alone never reads ``postings``.
"""

from __future__ import annotations

from datetime import date

from skillsignal.core.state_files import StoreError

from ..filters import PostingFilter
from ..results import Interval
from ..shared import EXPORT_VALUES, FACET_VALUES

_EPOCH = date(1970, 1, 1).toordinal()

#: derived value (``storage.shared.posting_values``) -> its column in ``postings``, where the names differ
SQL_COLUMNS = {"education": "education_level", "occupation": "occupation_code", "direction": "occupation_direction"}
#: facet name -> SQL column of ``postings`` it groups by (``skills`` and ``competencies`` are link tables)
FACET_COLUMNS = {facet: SQL_COLUMNS.get(value, value) for facet, value in FACET_VALUES.items()}
#: export dimension -> SQL column of ``postings`` (``skill`` is the link table)
EXPORT_COLUMNS = {dim: SQL_COLUMNS.get(value, value) for dim, value in EXPORT_VALUES.items()}

#: filter list field -> column (same name in ``postings`` and, for the hot ones, ``posting_skills``);
#: experience is filtered by years (experience_min/max), not by band
_LIST_FILTERS = {k: v for k, v in FACET_COLUMNS.items() if k != "experience"}
#: date filter field -> comparison of the posting day with it
_DATE_BOUNDS = (("start", ">="), ("end", "<="))
#: numeric filter field -> (column, comparison): experience by its lower bound; a salary range
#: matches when it overlaps the filter's
_NUMBER_BOUNDS = (
    ("experience_min", "experience_min", ">="),
    ("experience_max", "experience_min", "<="),
    ("salary_min", "salary_max", ">="),
    ("salary_max", "salary_min", "<="),
)
#: filter fields the skill-link table can answer alone
_SKILL_TABLE_FIELDS = {"start", "end", "occupations", "directions", "levels", "provinces", "regions", "skills"}
#: the columns of ``postings`` the link tables copy
LINK_COPIED = (
    "day",
    "month",
    "is_dup",
    "occupation_code",
    "occupation_direction",
    "level",
    "province",
    "region",
    "salary_mid",
)


def day_number(d: date) -> int:
    return d.toordinal() - _EPOCH


def from_day(n: int) -> date:
    return date.fromordinal(n + _EPOCH)


def month_number(d: date) -> int:
    return d.year * 12 + d.month - 1


def from_month(n: int) -> date:
    return date(n // 12, n % 12 + 1, 1)


def period_sql(alias: str, interval: Interval) -> str:
    if interval == "day":
        return f"{alias}.day"
    if interval == "week":  # 1970-01-01 was a Thursday: Monday = day - (day + 3) % 7
        return f"({alias}.day - ({alias}.day + 3) % 7)"
    if interval == "month":
        return f"{alias}.month"
    raise StoreError(f"unknown interval {interval!r}; one of day, week, month")


def period_date(value: int, interval: Interval) -> date:
    return from_month(value) if interval == "month" else from_day(value)


def _uses_only_link_table(flt: PostingFilter | None) -> bool:
    if flt is None:
        return True
    return set(flt.model_dump(exclude_defaults=True)) <= _SKILL_TABLE_FIELDS


def _conditions(flt: PostingFilter | None, alias: str, link_id: str) -> tuple[list[str], list[object]]:
    """SQL conditions over ``alias`` (postings or posting_skills columns) and their parameters.

    ``link_id`` is the expression of the posting's row id (``p.rid`` or ``s.pid``).
    """
    clauses: list[str] = []
    params: list[object] = []
    if flt is None:
        return clauses, params
    for field, op in _DATE_BOUNDS:
        day = getattr(flt, field)
        if day:
            clauses.append(f"{alias}.day {op} ?")
            params.append(day_number(day))
    for field, column in _LIST_FILTERS.items():
        values = getattr(flt, field)
        if values:
            clauses.append(f"{alias}.{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if flt.skills:
        clauses.append(
            f"{link_id} IN (SELECT pid FROM posting_skills WHERE skill_id IN ({','.join('?' * len(flt.skills))}))"
        )
        params.extend(flt.skills)
    for field, column, op in _NUMBER_BOUNDS:
        value = getattr(flt, field)
        if value is not None:
            clauses.append(f"{alias}.{column} {op} ?")
            params.append(value)
    return clauses, params


def where_clause(flt: PostingFilter | None) -> tuple[str, list[object]]:
    """SQL ``WHERE`` text (over ``postings`` as alias ``p``) and its parameters for a filter."""
    clauses, params = _conditions(flt, "p", "p.rid")
    return (" AND ".join(clauses) or "1=1"), params


def month_bounds(flt: PostingFilter | None, alias: str = "p") -> tuple[str, list[object]]:
    """`` AND ``-prefixed conditions on ``alias.month`` implied by the filter's day bounds, and their
    parameters ("" when it has none). Redundant with the day conditions (a posting's month is its
    day's month), so they change no answer; they let an index that leads with ``month``
    (``p_signal``) read only the months in the window instead of every entry."""
    clauses: list[str] = []
    params: list[object] = []
    if flt is not None and flt.start:
        clauses.append(f"{alias}.month >= ?")
        params.append(month_number(flt.start))
    if flt is not None and flt.end:
        clauses.append(f"{alias}.month <= ?")
        params.append(month_number(flt.end))
    return "".join(f" AND {c}" for c in clauses), params


def one_skill_source(flt: PostingFilter | None) -> tuple[str, list[object]] | None:
    """WHERE text over ``posting_skills s`` alone for a filter naming exactly one skill and
    otherwise only columns the link table copies, else None. Each posting has at most one link row
    per skill, so the rows it selects are the filter's postings, one each: counted per period they
    give the postings' counts without reading ``postings``."""
    if flt is None or len(flt.skills) != 1 or not _uses_only_link_table(flt):
        return None
    clauses, params = _conditions(flt.model_copy(update={"skills": []}), "s", "s.pid")
    return " AND ".join([*clauses, "s.skill_id = ?"]), [*params, flt.skills[0]]


def link_source(
    flt: PostingFilter | None, table: str, alias: str, occ_index: str | None
) -> tuple[str, str, list[object]]:
    """FROM text and WHERE text (alias ``alias`` = the link table ``table``) for skill- or competency-level
    queries: the link table alone when it can answer the filter, else joined to ``postings``.
    ``occ_index``: the link table's occupation index, None while a bulk load has dropped it."""
    if _uses_only_link_table(flt):
        clauses, params = _conditions(flt, alias, f"{alias}.pid")
        # With an occupation filter the occupation index is the one to walk; SQLite's planner
        # otherwise tends to skip-scan the skill index and read every link row.
        source = f"{table} {alias}"
        if flt is not None and flt.occupations and occ_index:
            source += f" INDEXED BY {occ_index}"
        return source, " AND ".join(clauses) or "1=1", params
    clauses, params = _conditions(flt, "p", "p.rid")
    return f"{table} {alias} JOIN postings p ON p.rid = {alias}.pid", " AND ".join(clauses) or "1=1", params


def skill_source(flt: PostingFilter | None, hint: bool = True) -> tuple[str, str, list[object]]:
    """FROM text and WHERE text (alias ``s`` = posting_skills) for skill-level queries; ``hint``:
    name the occupation index (False while a bulk load has dropped it)."""
    return link_source(flt, "posting_skills", "s", "ps_occ" if hint else None)


def facet_source(facet: str, flt: PostingFilter | None, hint: bool = True) -> tuple[str, str, str, list[object], str]:
    """(key expression, FROM, WHERE, params, row alias) for grouping by ``facet``; ``hint`` as in
    :func:`skill_source`."""
    if facet == "skills":
        src, where, params = skill_source(flt, hint)
        return "s.skill_id", src, where, params, "s"
    if facet == "competencies":
        src, where, params = link_source(flt, "posting_competencies", "c", "pc_occ" if hint else None)
        return "c.competency_id", src, where, params, "c"
    column = FACET_COLUMNS[facet]
    where, params = where_clause(flt)
    return f"p.{column}", "postings p", f"{where} AND p.{column} IS NOT NULL", params, "p"
