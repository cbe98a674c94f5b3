"""Display names for facet keys (occupation codes, direction ids, skill ids, competency statement ids)
from the taxonomy."""

from __future__ import annotations

from dataclasses import dataclass, field

from skill_taxonomy import Taxonomy

OTHER_NAME = "其他"

_cache: dict[tuple[int, str], Namer] = {}


@dataclass
class Namer:
    names: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def for_taxonomy(cls, taxonomy: Taxonomy) -> Namer:
        key = (id(taxonomy), taxonomy.version)
        if key not in _cache:
            occupations = {code: occ.name_zh for code, occ in taxonomy.occupations.items()}
            occupations["other"] = OTHER_NAME
            directions = {d.id: d.name_zh for occ in taxonomy.occupations.values() for d in occ.directions}
            skills = {sid: s.name_zh for sid, s in taxonomy.skills.items()}
            competencies = {
                c.id: c.text for occ in taxonomy.occupations.values() for comps in occ.levels.values() for c in comps
            }
            _cache[key] = cls(
                {"occupations": occupations, "directions": directions, "skills": skills, "competencies": competencies}
            )
        return _cache[key]

    def name(self, facet: str, key: str) -> str | None:
        table = self.names.get(facet)
        return table.get(key) if table is not None else key
