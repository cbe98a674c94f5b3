"""Schema and validator for the demo board's template files (``data/common.yaml``, ``data/occupations/*.yaml``).

Sentences may mark hard skills in braces, ``熟悉{Python}和{PyTorch}``: the braces are removed in the
posting text and the marked strings become the posting's ``expected_skills``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from skillsignal.core.models import LEVELS, Level, Region

DATA_DIR = Path(__file__).parent / "data"


#: Title words that decide the level by themselves (GUIDELINE level rules 1 and 2).
SENIOR_CUES = (
    "高级",
    "资深",
    "专家",
    "架构师",
    "总监",
    "负责人",
    "主管",
    "首席",
    "技术经理",
    "tech lead",
    "leader",
    "senior",
    "sr.",
    "staff",
    "principal",
)
JUNIOR_CUES = ("初级", "助理", "实习", "应届", "校招", "管培")
MIDDLE_CUES = ("中级",)

_SKILL_MARK = re.compile(r"\{([^{}]+)\}")
_YEARS = re.compile(r"\d+\s*(?:-\s*\d+\s*)?年|[一二两三四五六七八九十]+年")
_OCC_CODE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")


class TemplateError(ValueError):
    """A template file is malformed; the message names the file and the entry."""


def title_cue(title: str) -> Level | None:
    """The level a title fixes on its own, or None when the title names none."""
    low = title.lower()
    if any(c in low for c in SENIOR_CUES):
        return "高级"
    if any(c in low for c in JUNIOR_CUES):
        return "初级"
    if any(c in low for c in MIDDLE_CUES):
        return "中级"
    return None


def marked_skills(sentence: str) -> list[str]:
    """The skill strings marked with braces in a template sentence."""
    return [m.strip() for m in _SKILL_MARK.findall(sentence)]


def unmark(sentence: str) -> str:
    """The sentence as it appears in a posting: braces removed."""
    return _SKILL_MARK.sub(lambda m: m.group(1), sentence)


def _check_sentences(values: list[str], what: str) -> list[str]:
    for s in values:
        if s.count("{") != s.count("}"):
            raise ValueError(f"{what}: unbalanced braces in {s!r}")
        if _YEARS.search(unmark(s)):
            # years of experience come from the experience field only, so the level stays what it was written to be
            raise ValueError(f"{what}: names a number of years, which would change the level: {s!r}")
    return values


class Direction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    titles: list[str] = Field(min_length=2, description="Base titles, no level word.")
    senior_titles: list[str] = Field(default_factory=list, description="Titles that are senior by themselves.")
    duties: list[str] = Field(min_length=7)
    requirements: list[str] = Field(min_length=6, description="Hard-skill requirements, skills in braces.")
    pluses: list[str] = Field(default_factory=list, description="加分项 sentences.")
    tags: list[str] = Field(min_length=2)

    @field_validator("titles")
    @classmethod
    def _base_titles_have_no_level(cls, v: list[str]) -> list[str]:
        for t in v:
            if title_cue(t):
                raise ValueError(f"base title {t!r} names a level ({title_cue(t)}); put it in senior_titles")
        return v

    @field_validator("senior_titles")
    @classmethod
    def _senior_titles_are_senior(cls, v: list[str]) -> list[str]:
        for t in v:
            if title_cue(t) != "高级":
                raise ValueError(f"senior title {t!r} has no senior cue word")
        return v

    @field_validator("duties", "requirements", "pluses")
    @classmethod
    def _sentences(cls, v: list[str], info) -> list[str]:
        return _check_sentences(v, info.field_name)

    @model_validator(mode="after")
    def _requirements_name_skills(self) -> Direction:
        bare = [r for r in self.requirements if not marked_skills(r)]
        if len(bare) > len(self.requirements) // 2:
            raise ValueError(f"direction {self.name!r}: most requirements must mark hard skills in braces")
        return self


class OccupationTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    core: bool
    count: int = Field(ge=1, le=60, description="Postings generated from this file.")
    domain: str = Field(description="Domain words for the experience sentence, e.g. 机器学习算法.")
    industries: list[str] = Field(min_length=1)
    companies: list[str] = Field(min_length=3)
    majors: list[str] = Field(min_length=1)
    directions: list[Direction] = Field(min_length=1)

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not _OCC_CODE.match(v):
            raise ValueError(f"{v!r} is not a 2022 occupation code like 2-02-38-01")
        return v


class City(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city: str
    province: str
    region: Region
    tier: Literal[1, 2]
    districts: list[str] = Field(min_length=1)
    streets: list[str] = Field(min_length=1, description="streets[i] lies in districts[i].")

    @model_validator(mode="after")
    def _paired(self) -> City:
        if len(self.streets) != len(self.districts):
            raise ValueError(f"{self.city}: give one street per district")
        return self


class LevelProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    experience: list[str] = Field(min_length=1, description="Experience texts; lower bound fits the level.")
    cue_experience: list[str] = Field(min_length=1, description="Experience texts used when the title names the level.")
    education: list[str] = Field(min_length=1)
    salary_k: tuple[int, int] = Field(description="Range of the lower monthly bound, in thousand CNY.")
    title_prefixes: list[str] = Field(default_factory=list)
    title_suffixes: list[str] = Field(default_factory=list)


class CommonTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int
    start: str
    end: str
    cities: list[City] = Field(min_length=12)
    levels: dict[Level, LevelProfile]
    company_sizes: list[str] = Field(min_length=2)
    benefits: list[str] = Field(min_length=4)
    soft_requirements: list[str] = Field(min_length=2)
    intern_salaries: list[str] = Field(min_length=1)
    month_bonus: list[int] = Field(min_length=1)

    @field_validator("soft_requirements")
    @classmethod
    def _sentences(cls, v: list[str]) -> list[str]:
        return _check_sentences(v, "soft_requirements")

    @model_validator(mode="after")
    def _levels_complete(self) -> CommonTemplate:
        if set(self.levels) != set(LEVELS):
            raise ValueError("levels must give 初级, 中级 and 高级")
        return self


class Templates(BaseModel):
    common: CommonTemplate
    occupations: list[OccupationTemplate]


def _load(path: Path, model):
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path.name}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:8])
        raise TemplateError(f"{path.name}: {problems}") from exc


def load_templates(data_dir: Path = DATA_DIR) -> Templates:
    """Read and validate every template file; raises :class:`TemplateError` naming the file and entry."""
    common = _load(data_dir / "common.yaml", CommonTemplate)
    occupations = [_load(p, OccupationTemplate) for p in sorted((data_dir / "occupations").glob("*.yaml"))]
    if not occupations:
        raise TemplateError(f"{data_dir / 'occupations'}: no occupation template files")
    codes = [o.code for o in occupations]
    dup = {c for c in codes if codes.count(c) > 1}
    if dup:
        raise TemplateError(f"occupation codes defined twice: {sorted(dup)}")
    for occ, path in zip(occupations, sorted((data_dir / "occupations").glob("*.yaml")), strict=True):
        if path.stem != occ.code:
            raise TemplateError(f"{path.name}: file name must be the occupation code {occ.code}")
    return Templates(common=common, occupations=occupations)
