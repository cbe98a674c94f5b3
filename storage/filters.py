"""The one filter object every query takes, whatever the backend."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

Level = Literal["初级", "中级", "高级"]
Region = Literal["east", "central", "west", "northeast"]
LEVELS: tuple[str, ...] = Level.__args__  # type: ignore[attr-defined]
REGIONS: tuple[str, ...] = Region.__args__  # type: ignore[attr-defined]

#: JSON-schema mark on the occupation-code lists: the API's OpenAPI document replaces it with the
#: codes of the taxonomy it serves (``api.openapi``); storage itself takes any code.
OCCUPATION_CODES_MARK = {"x-skillsignal-values": "occupation-codes"}


class PostingFilter(BaseModel):
    """Which postings a count, series or ranking is over. Empty lists mean "any"."""

    model_config = ConfigDict(extra="forbid")

    start: date | None = Field(default=None, description="First posting date included (YYYY-MM-DD).")
    end: date | None = Field(default=None, description="Last posting date included (YYYY-MM-DD).")
    occupations: list[str] = Field(default_factory=list, description="Occupation codes, or 'other'.",
                                   json_schema_extra=OCCUPATION_CODES_MARK)
    directions: list[str] = Field(default_factory=list)
    levels: list[Level] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list, description="Skill ids; a posting needs any of them.")
    provinces: list[str] = Field(default_factory=list)
    cities: list[str] = Field(default_factory=list)
    regions: list[Region] = Field(default_factory=list)
    companies: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    education: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    experience_min: float | None = Field(default=None, ge=0, description="Years required at least.")
    experience_max: float | None = Field(default=None, ge=0, description="Years required at most.")
    salary_min: float | None = Field(default=None, ge=0, description="Monthly CNY: posting's max ≥ this.")
    salary_max: float | None = Field(default=None, ge=0, description="Monthly CNY: posting's min ≤ this.")

    @model_validator(mode="after")
    def _ordered(self) -> "PostingFilter":
        if self.start and self.end and self.start > self.end:
            raise PydanticCustomError("date_order", "start ({start}) is after end ({end})",
                                      {"start": str(self.start), "end": str(self.end)})
        return self
