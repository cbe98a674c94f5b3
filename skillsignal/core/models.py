"""The posting model: what every stage passes on.

Shaped after schema.org ``JobPosting`` and the fields Chinese boards give (BOSS直聘, 51job,
Zhaopin, Liepin). A :class:`Posting` is what a crawler or importer produces; the extractor
attaches an :class:`Extraction`; the store keeps both and answers counts over them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .dates import parse_date
from .text import normalize_term

#: a posting's level (the standards' 初级 / 中级 / 高级), in rising order; every package uses this one
Level = Literal["初级", "中级", "高级"]
LEVELS: tuple[Level, ...] = get_args(Level)
SalaryPeriod = Literal["hour", "day", "week", "month", "year"]
#: China's four economic regions
Region = Literal["east", "central", "west", "northeast"]
REGIONS: tuple[Region, ...] = get_args(Region)

#: Longest description kept; longer text is cut (and flagged) rather than rejected.
MAX_DESCRIPTION_CHARS = 1_000_000


class Location(BaseModel):
    province: str | None = None
    city: str | None = None
    district: str | None = None
    region: Region | None = None


class Salary(BaseModel):
    """Salary as written, and parsed into monthly CNY (``min``/``max``) where it can be."""

    text: str | None = None
    min: float | None = Field(default=None, description="Monthly CNY, lower bound.")
    max: float | None = Field(default=None, description="Monthly CNY, upper bound.")
    period: SalaryPeriod | None = Field(default=None, description="Period the text was written in.")
    months: float | None = Field(default=None, description="Months paid per year (13薪 → 13).")
    negotiable: bool = False


class Experience(BaseModel):
    text: str | None = None
    years_min: float | None = None
    years_max: float | None = None


class Education(BaseModel):
    text: str | None = None
    level: str | None = Field(default=None, description="Normalised: 不限, 初中, 高中, 中专, 大专, 本科, 硕士, 博士.")


class OccupationMatch(BaseModel):
    code: str = Field(description="2022 classification code, or 'other'.")
    name: str
    direction: str | None = None
    score: float = 0.0
    other_hint: str | None = Field(default=None, description="For 'other': the adjacent digital occupation's code.")


class SkillMatch(BaseModel):
    id: str
    name: str
    mentions: list[str] = Field(default_factory=list, description="Surface strings in the text.")
    score: float = 1.0
    required: bool = True


class EvidenceSpan(BaseModel):
    """A sentence of the posting that asks for a competency."""

    text: str
    start: int | None = Field(default=None, description="Code-point offset in Posting.description; None if not found.")
    end: int | None = Field(default=None, description="End offset (exclusive) in Posting.description.")
    score: float = 0.0


class CompetencyMatch(BaseModel):
    """A competency statement of the standards the posting asks for. Fields after ``evidence``
    were added later; extractions stored before them read with their defaults."""

    id: str
    text: str
    level: Level | None = None
    score: float = 0.0
    evidence: str | None = Field(default=None, description="The sentence that matched best.")
    function: str | None = Field(default=None, description="职业功能 of the statement.")
    work_content: str | None = Field(default=None, description="工作内容 of the statement.")
    direction: str | None = Field(default=None, description="Direction the statement is written for; None = all.")
    start: int | None = Field(default=None, description="Offset of `evidence` in Posting.description.")
    end: int | None = Field(default=None, description="End offset (exclusive) of `evidence`.")
    sentences: list[EvidenceSpan] = Field(
        default_factory=list, description="Every sentence that matched, in text order."
    )


class NewTerm(BaseModel):
    term: str
    count: int = 1


class Extraction(BaseModel):
    """Facts extracted from one posting against one taxonomy version."""

    occupation: OccupationMatch
    level: Level
    skills: list[SkillMatch] = Field(default_factory=list)
    competencies: list[CompetencyMatch] = Field(default_factory=list)
    new_terms: list[NewTerm] = Field(default_factory=list)
    taxonomy_version: str
    extractor_version: str
    extracted_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Posting(BaseModel):
    """One job posting, as fetched, with its parsed fields and (once extracted) its facts."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=100)
    url: str | None = None
    title: str = Field(min_length=1, max_length=500)
    company: str | None = None
    location: Location = Field(default_factory=Location)
    salary: Salary = Field(default_factory=Salary)
    experience: Experience = Field(default_factory=Experience)
    education: Education = Field(default_factory=Education)
    industry: str | None = None
    company_size: str | None = None
    employment_type: str | None = None
    description: str = ""
    tags: list[str] = Field(default_factory=list, description="Employer-chosen skill/welfare tags.")
    posted_at: date | None = None
    crawled_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # the posting's life across crawls, kept by the store (a posting handed in without them is
    # first and last seen on its crawl date; a re-crawl moves last_seen; a full re-crawl of its
    # source that no longer finds it closes it on its last_seen)
    first_seen: date | None = Field(
        default=None, description="First crawl date that found the posting (set by the store)."
    )
    last_seen: date | None = Field(default=None, description="Latest crawl date that found it (set by the store).")
    closed_on: date | None = Field(
        default=None, description="Set when a complete re-crawl of its source no longer found it: its last_seen."
    )
    fingerprint: str = ""
    extraction: Extraction | None = None
    extraction_error: str | None = None

    @field_validator("description", mode="before")
    @classmethod
    def _cap_description(cls, value: object) -> str:
        text = "" if value is None else str(value)
        return text[:MAX_DESCRIPTION_CHARS]

    @field_validator("posted_at", mode="before")
    @classmethod
    def _read_date(cls, value: object) -> date | None:
        return parse_date(value)  # the one date reader the importers use too ("2019-05" is May 1st)

    @field_validator("title", mode="before")
    @classmethod
    def _strip_title(cls, value: object) -> str:
        return " ".join(str(value or "").split())

    def model_post_init(self, __context: object) -> None:
        if not self.fingerprint:
            self.fingerprint = self.compute_fingerprint()

    def compute_fingerprint(self) -> str:
        """Content hash over normalised title + company + description (exact-duplicate key)."""
        h = hashlib.sha1()
        for part in (self.title, self.company, self.description):
            h.update(normalize_term(part).encode("utf-8"))
            h.update(b"\x1f")
        return h.hexdigest()
