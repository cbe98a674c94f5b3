"""Checks a loaded taxonomy: ids unique, aliases resolve to one skill, links resolve."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .loader import Taxonomy


def validate_taxonomy(taxonomy: "Taxonomy") -> list[str]:
    """Every problem found, each naming the entry it is in; an empty list means valid."""
    problems: list[str] = []
    for code, occ in taxonomy.occupations.items():
        direction_ids = [d.id for d in occ.directions]
        if len(set(direction_ids)) != len(direction_ids):
            problems.append(f"occupation {code}: duplicate direction ids")
        for pattern in occ.title_patterns + [p for d in occ.directions for p in d.title_patterns]:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"occupation {code}: bad title pattern {pattern!r}: {exc}")
        for level, competencies in occ.levels.items():
            for comp in competencies:
                if comp.direction and comp.direction not in direction_ids:
                    problems.append(
                        f"occupation {code} {level} competency {comp.id}: unknown direction {comp.direction!r}"
                    )
    for skill in taxonomy.skills.values():
        for link in skill.occupations:
            occ = taxonomy.occupations.get(link.occupation)
            if occ is None:
                problems.append(f"skill {skill.id}: links unknown occupation {link.occupation!r}")
            elif link.direction and link.direction not in {d.id for d in occ.directions}:
                problems.append(
                    f"skill {skill.id}: links unknown direction {link.direction!r} of {link.occupation}"
                )
    for form, ids in taxonomy.surface_index.items():
        if len(ids) > 1 and not all(taxonomy.skills[i].ambiguous for i in ids):
            problems.append(f"alias {form!r} is shared by skills {', '.join(ids)} (mark them ambiguous)")
    return problems
