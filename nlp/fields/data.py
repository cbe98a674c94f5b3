"""Loading and checking the data files the field parsers read (``nlp/data/fields``, ``nlp/data/geo``).

Each file has a pydantic schema here; :func:`load_yaml` validates on load and raises
:class:`FieldDataError` naming the file and the bad entry, so a broken edit fails at import
time in tests rather than silently parsing nothing.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FIELDS_DIR = DATA_DIR / "fields"
GEO_DIR = DATA_DIR / "geo"

M = TypeVar("M", bound=BaseModel)


class FieldDataError(ValueError):
    """A field data file is missing or does not match its schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SalaryRules(_Strict):
    version: int
    units: dict[str, float]
    periods: dict[str, list[str]]
    negotiable: list[str]
    work_days_per_month: float = Field(gt=0)
    work_hours_per_day: float = Field(gt=0)
    weeks_per_month: float = Field(gt=0)
    months_per_year: float = Field(gt=0)
    unitless_wan_yearly_from: float = Field(gt=0)
    yearly_min_wan: float = Field(ge=0)
    source_wan_period: dict[str, str]
    cut_at: list[str]

    @field_validator("periods")
    @classmethod
    def _known_periods(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = set(value) - {"hour", "day", "week", "month", "year"}
        if unknown:
            raise ValueError(f"unknown periods {sorted(unknown)}")
        return value

    @field_validator("source_wan_period")
    @classmethod
    def _known_source_periods(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {k: v for k, v in value.items() if v not in ("month", "year")}
        if bad:
            raise ValueError(f"source periods must be month or year: {bad}")
        return value


class ExperienceRules(_Strict):
    version: int
    no_years: list[str]
    cues_after: list[str]
    window_after: int = Field(gt=0, le=200)
    strong_cues_after: list[str]
    cues_before: list[str]
    window_before: int = Field(gt=0, le=200)
    reject_after_prefix: list[str]
    reject_before: list[str]
    hard_reject_before: list[str]
    max_years: float = Field(gt=0)
    round_years: list[int]


class EducationRules(_Strict):
    version: int
    levels: list[str]
    synonyms: dict[str, list[str]]

    @field_validator("synonyms")
    @classmethod
    def _levels_known(cls, value: dict[str, list[str]], info: ValidationInfo) -> dict[str, list[str]]:
        levels = set(info.data.get("levels") or [])
        unknown = set(value) - levels
        if unknown:
            raise ValueError(f"synonyms for unknown levels {sorted(unknown)}")
        seen: dict[str, str] = {}
        for level, words in value.items():
            for word in words:
                key = word.casefold()
                if key in seen and seen[key] != level:
                    raise ValueError(f"{word!r} listed under both {seen[key]} and {level}")
                seen[key] = level
        return value


def load_yaml(path: Path, model: type[M]) -> M:
    """Read ``path`` and validate it against ``model``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FieldDataError(f"{path}: cannot read ({exc})") from exc
    except yaml.YAMLError as exc:
        raise FieldDataError(f"{path}: not valid YAML ({exc})") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise FieldDataError(f"{path}: {exc}") from exc


@lru_cache(maxsize=1)
def salary_rules() -> SalaryRules:
    return load_yaml(FIELDS_DIR / "salary.yaml", SalaryRules)


@lru_cache(maxsize=1)
def experience_rules() -> ExperienceRules:
    return load_yaml(FIELDS_DIR / "experience.yaml", ExperienceRules)


@lru_cache(maxsize=1)
def education_rules() -> EducationRules:
    return load_yaml(FIELDS_DIR / "education.yaml", EducationRules)
