"""The one filter object, read from query parameters (GET) or a JSON body (POST).

On GET every list parameter may be repeated (``levels=初级&levels=中级``) or comma-separated
(``levels=初级,中级``). Invalid values answer 422 naming the parameter.
"""

from __future__ import annotations

from datetime import date

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from storage import PostingFilter

_LIST_HELP = "Repeat the parameter or separate values with commas."


def _split(values: list[str]) -> list[str]:
    return [v.strip() for raw in values for v in raw.split(",") if v.strip()]


def validation_error(exc: ValidationError, where: str) -> RequestValidationError:
    """A pydantic error re-raised as FastAPI's, located at ``where`` (query/body) + field."""
    errors = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ())) or (("start",) if "after end" in err.get("msg", "") else ())
        errors.append({**err, "loc": (where, *loc)})
    return RequestValidationError(errors)


def filter_query(
    start: date | None = Query(None, description="First posting date included, YYYY-MM-DD."),
    end: date | None = Query(None, description="Last posting date included, YYYY-MM-DD."),
    occupations: list[str] = Query([], description="Occupation codes (2-02-38-01) or 'other'. " + _LIST_HELP),
    directions: list[str] = Query([], description="Occupation direction ids. " + _LIST_HELP),
    levels: list[str] = Query([], description="初级, 中级, 高级. " + _LIST_HELP),
    skills: list[str] = Query([], description="Skill ids; a posting needs any of them. " + _LIST_HELP),
    provinces: list[str] = Query([], description=_LIST_HELP),
    cities: list[str] = Query([], description=_LIST_HELP),
    regions: list[str] = Query([], description="east, central, west, northeast. " + _LIST_HELP),
    companies: list[str] = Query([], description=_LIST_HELP),
    industries: list[str] = Query([], description=_LIST_HELP),
    education: list[str] = Query([], description="不限, 大专, 本科, 硕士, 博士, ... " + _LIST_HELP),
    sources: list[str] = Query([], description=_LIST_HELP),
    experience_min: float | None = Query(None, ge=0, description="Years required at least."),
    experience_max: float | None = Query(None, ge=0, description="Years required at most."),
    salary_min: float | None = Query(None, ge=0, description="Monthly CNY: posting's upper bound ≥ this."),
    salary_max: float | None = Query(None, ge=0, description="Monthly CNY: posting's lower bound ≤ this."),
) -> PostingFilter:
    raw = dict(
        start=start, end=end, occupations=_split(occupations), directions=_split(directions),
        levels=_split(levels), skills=_split(skills), provinces=_split(provinces), cities=_split(cities),
        regions=_split(regions), companies=_split(companies), industries=_split(industries),
        education=_split(education), sources=_split(sources), experience_min=experience_min,
        experience_max=experience_max, salary_min=salary_min, salary_max=salary_max,
    )
    try:
        return PostingFilter(**raw)
    except ValidationError as exc:
        raise validation_error(exc, "query") from None
