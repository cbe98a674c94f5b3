"""The taxonomy: occupations (list, detail with levels and competencies) and skills."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from skill_taxonomy import Occupation, Skill, Taxonomy

from ..deps import get_taxonomy
from ..schemas import NOT_FOUND

router = APIRouter(prefix="/v1/taxonomy", tags=["taxonomy"])


class DirectionSummary(BaseModel):
    id: str
    name_zh: str
    name_en: str


class OccupationSummary(BaseModel):
    code: str
    name_zh: str
    name_en: str
    core: bool
    directions: list[DirectionSummary]


class OccupationList(BaseModel):
    version: str
    occupations: list[OccupationSummary]


class SkillList(BaseModel):
    version: str
    skills: list[Skill]


@router.get("/occupations", response_model=OccupationList, summary="Every occupation with its directions")
def occupations(taxonomy: Taxonomy = Depends(get_taxonomy)) -> OccupationList:
    return OccupationList(
        version=taxonomy.version,
        occupations=[
            OccupationSummary(
                code=o.code,
                name_zh=o.name_zh,
                name_en=o.name_en,
                core=o.core,
                directions=[DirectionSummary(id=d.id, name_zh=d.name_zh, name_en=d.name_en) for d in o.directions],
            )
            for o in sorted(taxonomy.occupations.values(), key=lambda o: o.code)
        ],
    )


@router.get(
    "/occupations/{code}",
    response_model=Occupation,
    summary="One occupation: definition, directions, competencies per level",
    responses=NOT_FOUND,
)
def occupation(code: str, taxonomy: Taxonomy = Depends(get_taxonomy)) -> Occupation:
    if code not in taxonomy.occupations:
        raise HTTPException(status_code=404, detail=f"unknown occupation code {code!r}")
    return taxonomy.occupations[code]


@router.get("/skills", response_model=SkillList, summary="Every skill with aliases and occupation links")
def skills(taxonomy: Taxonomy = Depends(get_taxonomy)) -> SkillList:
    return SkillList(version=taxonomy.version, skills=sorted(taxonomy.skills.values(), key=lambda s: s.id))


@router.get("/skills/{skill_id}", response_model=Skill, summary="One skill", responses=NOT_FOUND)
def skill(skill_id: str, taxonomy: Taxonomy = Depends(get_taxonomy)) -> Skill:
    if skill_id not in taxonomy.skills:
        raise HTTPException(status_code=404, detail=f"unknown skill {skill_id!r}")
    return taxonomy.skills[skill_id]
