"""Schema of the taxonomy data files (``skill_taxonomy/data``) and of a user's overlay file.

Occupations follow the 2021 national occupational technical-skill standards and the 2022
classification; skills carry aliases and weighted links to occupations and directions.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from skillsignal.core.models import Level
from skillsignal.core.text import normalize_term

SkillType = Literal["language", "framework", "tool", "database", "protocol", "method", "knowledge"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Provenance(_Strict):
    """Where an item comes from: a standard and its section, or ``unverified``."""

    source: str = Field(description="e.g. '人工智能工程技术人员国家职业技术技能标准（2021年版）'")
    section: str | None = None
    verified: bool = True


class Competency(_Strict):
    """One competency statement (技能要求) of a work content at one level."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    function: str = Field(description="职业功能")
    work_content: str = Field(description="工作内容")
    text: str = Field(description="The competency, in the project's own words.")
    direction: str | None = Field(default=None, description="Direction id, or None for all.")
    provenance: Provenance


class Direction(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name_zh: str
    name_en: str
    title_patterns: list[str] = Field(default_factory=list, description="Regular expressions over the posting title.")
    provenance: Provenance | None = None


class Occupation(_Strict):
    code: str = Field(description="2022 classification code, e.g. 2-02-38-01.")
    code_2015: str | None = Field(default=None, description="Code printed on the 2021 standard.")
    name_zh: str
    name_en: str
    core: bool = Field(description="True for the standard-backed digital occupations.")
    definition: str
    directions: list[Direction] = Field(default_factory=list)
    levels: dict[Level, list[Competency]] = Field(default_factory=dict)
    title_patterns: list[str] = Field(default_factory=list)
    majors: list[str] = Field(default_factory=list, description="教育部 major names.")
    industries: list[str] = Field(default_factory=list, description="GB/T 4754 industry names.")
    provenance: Provenance


class OccupationLink(_Strict):
    occupation: str = Field(description="Occupation code.")
    direction: str | None = None
    weight: float = Field(default=1.0, ge=0.0, le=1.0)


class Skill(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.+#-]*$")
    name_zh: str
    name_en: str
    type: SkillType
    aliases: list[str] = Field(default_factory=list)
    occupations: list[OccupationLink] = Field(default_factory=list)
    ambiguous: bool = Field(default=False, description="Its aliases may be shared with another skill on purpose.")
    context_required: bool = Field(
        default=False,
        description="Some surface forms (``context_aliases``; all of them when that is empty) are "
        "short or common words ('Go', 'R', 'C', 'TF') that name this skill only in technical context.",
    )
    context_aliases: list[str] = Field(
        default_factory=list,
        description="The forms that need technical context; each must be the name or an alias.",
    )

    def surface_forms(self) -> list[str]:
        """Name and aliases, de-duplicated, in order."""
        return list(dict.fromkeys([self.name_en, self.name_zh, *self.aliases]))

    def needs_context(self, form: str) -> bool:
        """Whether ``form`` names this skill only where the text around it is technical."""
        if not self.context_required:
            return False
        if not self.context_aliases:
            return True
        key = normalize_term(form)
        return any(normalize_term(a) == key for a in self.context_aliases)


class SkillFile(_Strict):
    """One file under ``data/skills/``."""

    skills: list[Skill]


class Overlay(_Strict):
    """A user's file that extends the taxonomy without editing the package.

    ``skills`` with a new id are added; with an existing id they replace that skill.
    ``aliases`` adds surface forms to existing skills; ``remove_aliases`` takes some away.
    """

    version: str = Field(description="The overlay's own version, appended to the taxonomy's.")
    skills: list[Skill] = Field(default_factory=list)
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    remove_aliases: dict[str, list[str]] = Field(default_factory=dict)
