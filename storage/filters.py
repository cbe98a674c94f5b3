"""The one filter object every query takes, whatever the backend."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from skillsignal.core.models import LEVELS, REGIONS, Level, Region

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    """Only a date or ``YYYY-MM-DD`` text: no Unix timestamps (``start=0``) or datetimes, which
    pydantic's lax date parsing would otherwise take."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.fullmatch(value)):
        return value
    raise PydanticCustomError("date_format", "expected a date as YYYY-MM-DD")


def _json_number(value: object) -> object:
    """A JSON number only: pydantic's lax mode would also take the text "5" or true."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("number_type", "Input should be a number")
    return value


#: a filter date: the OpenAPI ``format: date`` and nothing else
IsoDate = Annotated[date, BeforeValidator(_iso_day)]
#: the check that a JSON body's number is a JSON number (query parameters, text by nature, go without it)
JSON_NUMBER = BeforeValidator(_json_number)
#: numbers of a JSON body, as the OpenAPI document types them (an integral float is an integer)
JsonFloat = Annotated[float, JSON_NUMBER]
JsonInt = Annotated[int, JSON_NUMBER]
NonNegative = Annotated[float, Field(ge=0), JSON_NUMBER]

#: JSON-schema mark on the occupation-code lists: the API's OpenAPI document replaces it with the
#: codes of the taxonomy it serves (``api.openapi``); storage itself takes any code.
OCCUPATION_CODES_MARK: JsonDict = {"x-skillsignal-values": "occupation-codes"}


# The one declaration of the filter: a JSON body's ``filter`` is this model, and the API derives its GET
# query parameters (names, types, bounds, descriptions) from these fields (``api.filters.FilterQuery``).
class PostingFilter(BaseModel):
    """Which postings a count, series or ranking is over. Empty lists mean "any"."""

    model_config = ConfigDict(extra="forbid")

    start: IsoDate | None = Field(default=None, description="First posting date included, YYYY-MM-DD.")
    end: IsoDate | None = Field(default=None, description="Last posting date included, YYYY-MM-DD (not before start).")
    occupations: list[str] = Field(
        default_factory=list,
        description="Occupation codes of the taxonomy (2-02-38-01) or 'other'.",
        json_schema_extra=OCCUPATION_CODES_MARK,
    )
    directions: list[str] = Field(default_factory=list, description="Occupation direction ids.")
    levels: list[Level] = Field(default_factory=list, description=", ".join(LEVELS) + ".")
    skills: list[str] = Field(default_factory=list, description="Skill ids; a posting needs any of them.")
    provinces: list[str] = Field(default_factory=list)
    cities: list[str] = Field(default_factory=list)
    regions: list[Region] = Field(default_factory=list, description=", ".join(REGIONS) + ".")
    companies: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    education: list[str] = Field(default_factory=list, description="不限, 大专, 本科, 硕士, 博士, ...")
    sources: list[str] = Field(default_factory=list)
    experience_min: NonNegative | None = Field(default=None, description="Years required at least.")
    experience_max: NonNegative | None = Field(default=None, description="Years required at most.")
    salary_min: NonNegative | None = Field(default=None, description="Monthly CNY: posting's upper bound ≥ this.")
    salary_max: NonNegative | None = Field(default=None, description="Monthly CNY: posting's lower bound ≤ this.")

    @model_validator(mode="after")
    def _ordered(self) -> PostingFilter:
        if self.start and self.end and self.start > self.end:
            raise PydanticCustomError(
                "date_order", "start ({start}) is after end ({end})", {"start": str(self.start), "end": str(self.end)}
            )
        return self
