"""Checks a loaded taxonomy; every problem names the file and the entry it is in.

Checked: names and aliases are not empty; every surface form (name or alias) names exactly one
skill unless every skill sharing it is marked ``ambiguous``; ``context_aliases`` are forms of their
skill; occupation links and directions resolve to an occupation file; direction ids and competency
ids are unique within an occupation; competency directions exist; title patterns compile.
(Duplicate skill ids and occupation codes are refused while loading, naming both files.)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from skillsignal.core.text import normalize_term

if TYPE_CHECKING:
    from .loader import Taxonomy


def _check_occupations(taxonomy: Taxonomy) -> list[str]:
    problems: list[str] = []
    for code, occ in taxonomy.occupations.items():
        where = f"{taxonomy.source_of('occupation', code)}: occupation {code}"
        direction_ids = [d.id for d in occ.directions]
        for dup in sorted({d for d in direction_ids if direction_ids.count(d) > 1}):
            problems.append(f"{where}: direction id {dup!r} defined twice")
        patterns = [("", p) for p in occ.title_patterns] + [
            (f" direction {d.id}", p) for d in occ.directions for p in d.title_patterns
        ]
        for label, pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"{where}{label}: bad title pattern {pattern!r}: {exc}")
        seen: dict[str, str] = {}
        for level, competencies in occ.levels.items():
            for comp in competencies:
                if comp.id in seen:
                    problems.append(f"{where}: competency id {comp.id!r} used twice ({seen[comp.id]} and {level})")
                seen[comp.id] = level
                if comp.direction and comp.direction not in direction_ids:
                    problems.append(f"{where} {level} competency {comp.id}: unknown direction {comp.direction!r}")
                if not comp.text.strip():
                    problems.append(f"{where} {level} competency {comp.id}: empty text")
    return problems


def _check_skills(taxonomy: Taxonomy) -> list[str]:
    problems: list[str] = []
    for skill in taxonomy.skills.values():
        where = f"{taxonomy.source_of('skill', skill.id)}: skill {skill.id}"
        for label, value in (("name_en", skill.name_en), ("name_zh", skill.name_zh)):
            if not normalize_term(value):
                problems.append(f"{where}: empty {label}")
        for i, alias in enumerate(skill.aliases):
            if not normalize_term(alias):
                problems.append(f"{where}: alias #{i} is empty")
        forms = {normalize_term(f) for f in skill.surface_forms()}
        for alias in skill.context_aliases:
            if normalize_term(alias) not in forms:
                problems.append(f"{where}: context alias {alias!r} is not a name or alias of the skill")
        for link in skill.occupations:
            occ = taxonomy.occupations.get(link.occupation)
            if occ is None:
                problems.append(f"{where}: links unknown occupation {link.occupation!r}")
            elif link.direction and link.direction not in {d.id for d in occ.directions}:
                problems.append(f"{where}: links unknown direction {link.direction!r} of {link.occupation}")
    for form, ids in taxonomy.surface_index.items():
        if len(ids) > 1 and not all(taxonomy.skills[i].ambiguous for i in ids):
            owners = ", ".join(f"{i} ({taxonomy.source_of('skill', i)})" for i in ids)
            problems.append(f"alias {form!r} is shared by skills {owners} (mark them ambiguous)")
    return problems


def validate_taxonomy(taxonomy: Taxonomy) -> list[str]:
    """Every problem found, each naming the file and entry it is in; an empty list means valid."""
    return _check_occupations(taxonomy) + _check_skills(taxonomy)
