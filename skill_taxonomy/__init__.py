"""The national digital occupations (2021 standards, 2022 codes) and the skills postings name."""

from skillsignal.core.text import normalize_term

from .loader import Taxonomy, TaxonomyError, default_taxonomy, load_taxonomy
from .models import (
    Competency,
    Direction,
    Occupation,
    OccupationLink,
    Overlay,
    Skill,
)

__all__ = [
    "Competency",
    "Direction",
    "Occupation",
    "OccupationLink",
    "Overlay",
    "Skill",
    "Taxonomy",
    "TaxonomyError",
    "default_taxonomy",
    "load_taxonomy",
    "normalize_term",
]
