"""The one filter object, read from query parameters (GET) or a JSON body (POST), and checked once.

On GET every list parameter may be repeated (``levels=初级&levels=中级``) or comma-separated
(``levels=初级,中级``). Parameters with a closed set of values (levels, regions, occupation codes,
export dimensions) say so in the OpenAPI document: a ``pattern`` of one value or several
comma-separated ones (the occupation codes are filled in from the app's taxonomy by
:mod:`api.openapi`). Invalid values answer 422 naming the parameter.

The filter is declared once, :class:`storage.filters.PostingFilter`: a POST body's ``filter`` is that
model, and the GET query parameters are :data:`FilterQuery`, built from its fields (same names, order,
types, bounds and descriptions; lists as text, numbers read from text), then checked as a body is.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from functools import reduce
from types import UnionType
from typing import Annotated, Any, Literal, Protocol, Union, get_args, get_origin

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from skill_taxonomy import Taxonomy
from storage import PostingFilter, PostingIndex
from storage.base import check_series_size, period_count
from storage.filters import JSON_NUMBER, OCCUPATION_CODES_MARK
from storage.results import Interval

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


def csv_items(values: Iterable[str]) -> dict[str, Any]:
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
        raise RequestValidationError(
            [
                {
                    "loc": (*loc, "occupations"),
                    "type": "unknown_occupation",
                    "input": unknown[0],
                    "msg": f"unknown occupation code {unknown[0]!r}; valid codes: {', '.join(valid)}",
                }
            ]
        )
    return flt


def _from_text(annotation: Any) -> Any:
    """``annotation`` without the JSON-only number check: a query parameter's number arrives as text."""
    if get_origin(annotation) in (Union, UnionType):
        return reduce(operator.or_, (_from_text(a) for a in get_args(annotation)))
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        kept = [m for m in metadata if m is not JSON_NUMBER]
        return Annotated[(base, *kept)] if kept else base
    return annotation


def _closed_values(field: FieldInfo) -> tuple[str, ...] | None:
    """The values a list field's items are limited to (a ``Literal``), ``()`` when the app's taxonomy
    fills them in (occupation codes), None for free text."""
    (item,) = get_args(field.annotation)
    if get_origin(item) is Literal:
        return get_args(item)
    return () if field.json_schema_extra == OCCUPATION_CODES_MARK else None


def _query_form(field: FieldInfo) -> tuple[Any, Any]:
    """One :class:`PostingFilter` field as a query parameter: a list is text values, repeated or
    comma-separated (a closed set documents them as a pattern); any other field keeps its type,
    bounds and description, with numbers read from text."""
    if field.default_factory is not list:
        return _from_text(field.annotation), Field(default=field.default, description=field.description)
    values = _closed_values(field)
    return list[str], Field(
        default=[],
        description=f"{field.description} {_LIST_HELP}" if field.description else _LIST_HELP,
        json_schema_extra=csv_items(values) if values else field.json_schema_extra,
    )


_QUERY_FIELDS: dict[str, Any] = {name: _query_form(field) for name, field in PostingFilter.model_fields.items()}
#: the filter's GET form: the fields of :class:`PostingFilter`, as query parameters
FilterQuery = create_model("FilterQuery", **_QUERY_FIELDS)
#: how each list parameter's values are split: exactly as the pattern reads them for a closed set
_SPLIT = {
    name: split_closed if _closed_values(field) is not None else split_values
    for name, field in PostingFilter.model_fields.items()
    if field.default_factory is list
}


def filter_query(
    params: Annotated[FilterQuery, Query()],
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> PostingFilter:
    """The filter of a GET request, checked as a POST body's is (422 naming the parameter)."""
    raw = {name: _SPLIT[name](value) if name in _SPLIT else value for name, value in params}
    try:
        flt = PostingFilter(**raw)
    except ValidationError as exc:
        raise validation_error(exc, "query") from None
    return check_occupations(flt, taxonomy, ("query",))


class HasFilter(Protocol):
    """A POST body carrying the one filter (every request body of :mod:`api.schemas`)."""

    @property
    def filter(self) -> PostingFilter: ...


def known_filter(body: HasFilter, taxonomy: Taxonomy) -> None:
    """The occupation check of :func:`filter_query` for a POST body's ``filter``."""
    check_occupations(body.filter, taxonomy, ("body", "filter"))


def check_series_points(store: PostingIndex, flt: PostingFilter, interval: Interval, n_series: int, limit: int) -> None:
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
