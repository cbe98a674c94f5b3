"""The national digital occupations (2021 standards, 2022 codes) and the skills postings name."""

from .loader import Taxonomy, TaxonomyError, default_taxonomy, load_taxonomy
from .models import (
    Competency,
    Direction,
    Occupation,
    OccupationLink,
    Overlay,
    Skill,
    normalize_term,
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
