"""The one filter object, read from query parameters (GET) or a JSON body (POST), and checked once.

On GET every list parameter may be repeated (``levels=初级&levels=中级``) or comma-separated
(``levels=初级,中级``). Parameters with a closed set of values (levels, regions, occupation codes,
export dimensions) say so in the OpenAPI document: a ``pattern`` of one value or several
comma-separated ones (the occupation codes are filled in from the app's taxonomy by
:mod:`api.openapi`). Invalid values answer 422 naming the parameter.
"""

from __future__ import annotations

import re
from typing import Iterable

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from skill_taxonomy import Taxonomy
from skillsignal.core.models import LEVELS, REGIONS
from storage import PostingFilter
from storage.base import check_series_size, period_count
from storage.filters import OCCUPATION_CODES_MARK, IsoDate

from .deps import get_taxonomy

_LIST_HELP = "Repeat the parameter or separate values with commas."


def _escape(value: str) -> str:
    """Regex metacharacters escaped for ECMA-262 (JSON Schema) as well as Python: ``re.escape`` would
    also escape ``-``, which ECMA-262's unicode mode rejects outside a class."""
    return re.sub(r"([.^$*+?()\[\]{}|\\/])", r"\\\1", value)


def csv_pattern(values: Iterable[str]) -> str:
    """A regular expression for one of ``values`` or several of them separated by commas."""
    one = "|".join(_escape(v) for v in values)
    return f"^(?:{one})(?:,(?:{one}))*$"


def csv_items(values: Iterable[str]) -> dict:
    """``json_schema_extra`` for a list query parameter whose items are ``values`` (comma-separated allowed)."""
    return {"items": {"type": "string", "pattern": csv_pattern(values)}}


def split_values(values: list[str]) -> list[str]:
    """Free-text list values: split on commas, trimmed, empty ones dropped."""
    return [v.strip() for raw in values for v in raw.split(",") if v.strip()]


def split_closed(values: list[str]) -> list[str]:
    """Closed-set list values: split on commas, exactly as the OpenAPI pattern reads them (each piece
    is then checked against the set, so an empty or padded piece is an error, not "any")."""
    return [v for raw in values for v in raw.split(",")]


def validation_error(exc: ValidationError, where: str) -> RequestValidationError:
    """A pydantic error re-raised as FastAPI's, located at ``where`` (query/body) + field."""
    errors = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ())) or (("start",) if "after end" in err.get("msg", "") else ())
        errors.append({**err, "loc": (where, *loc)})
    return RequestValidationError(errors)


def check_occupations(flt: PostingFilter, taxonomy: Taxonomy, loc: tuple[str, ...]) -> PostingFilter:
    """422 naming the valid codes when the filter names an occupation code the taxonomy does not have.

    Counting an unknown code would silently answer 0, which reads as "no demand" rather than "typo".
    """
    valid = [*sorted(taxonomy.occupations), "other"]
    unknown = [c for c in flt.occupations if c not in taxonomy.occupations and c != "other"]
    if unknown:
        raise RequestValidationError([{
            "loc": (*loc, "occupations"), "type": "unknown_occupation", "input": unknown[0],
            "msg": f"unknown occupation code {unknown[0]!r}; valid codes: {', '.join(valid)}",
        }])
    return flt


def filter_query(
    start: IsoDate | None = Query(None, description="First posting date included, YYYY-MM-DD."),
    end: IsoDate | None = Query(None, description="Last posting date included, YYYY-MM-DD (not before start)."),
    occupations: list[str] = Query([], description="Occupation codes of the taxonomy (2-02-38-01) or 'other'. "
                                   + _LIST_HELP, json_schema_extra=OCCUPATION_CODES_MARK),
    directions: list[str] = Query([], description="Occupation direction ids. " + _LIST_HELP),
    levels: list[str] = Query([], description="初级, 中级, 高级. " + _LIST_HELP, json_schema_extra=csv_items(LEVELS)),
    skills: list[str] = Query([], description="Skill ids; a posting needs any of them. " + _LIST_HELP),
    provinces: list[str] = Query([], description=_LIST_HELP),
    cities: list[str] = Query([], description=_LIST_HELP),
    regions: list[str] = Query([], description="east, central, west, northeast. " + _LIST_HELP,
                               json_schema_extra=csv_items(REGIONS)),
    companies: list[str] = Query([], description=_LIST_HELP),
    industries: list[str] = Query([], description=_LIST_HELP),
    education: list[str] = Query([], description="不限, 大专, 本科, 硕士, 博士, ... " + _LIST_HELP),
    sources: list[str] = Query([], description=_LIST_HELP),
    experience_min: float | None = Query(None, ge=0, description="Years required at least."),
    experience_max: float | None = Query(None, ge=0, description="Years required at most."),
    salary_min: float | None = Query(None, ge=0, description="Monthly CNY: posting's upper bound ≥ this."),
    salary_max: float | None = Query(None, ge=0, description="Monthly CNY: posting's lower bound ≤ this."),
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> PostingFilter:
    raw = dict(
        start=start, end=end, occupations=split_closed(occupations), directions=split_values(directions),
        levels=split_closed(levels), skills=split_values(skills), provinces=split_values(provinces),
        cities=split_values(cities), regions=split_closed(regions), companies=split_values(companies),
        industries=split_values(industries), education=split_values(education), sources=split_values(sources),
        experience_min=experience_min, experience_max=experience_max, salary_min=salary_min,
        salary_max=salary_max,
    )
    try:
        flt = PostingFilter(**raw)
    except ValidationError as exc:
        raise validation_error(exc, "query") from None
    return check_occupations(flt, taxonomy, ("query",))


def known_filter(body: object, taxonomy: Taxonomy) -> None:
    """The occupation check of :func:`filter_query` for a POST body's ``filter``."""
    check_occupations(body.filter, taxonomy, ("body", "filter"))  # type: ignore[attr-defined]


def check_series_points(store, flt: PostingFilter, interval: str, n_series: int, limit: int) -> None:
    """Raise :class:`storage.SeriesLimitError` (422) before querying when a series answer would hold more
    than ``limit`` points: the periods of the window (start/end, else the stored dates) × ``n_series``."""
    if n_series <= 0:
        return
    first, last = flt.start, flt.end
    if first is None or last is None:
        stored = store.date_range()
        if stored is None:
            return
        first, last = first or stored[0], last or stored[1]
    check_series_size(interval, period_count(first, last, interval), n_series, limit)
