"""Structured posting fields: salary, experience, education, location, and the posting normaliser.

Rules and reference data live in ``nlp/data/fields`` and ``nlp/data/geo`` (schema-checked on load,
see :mod:`nlp.fields.data` and :mod:`nlp.fields.geo`).
"""

from .education import education_level, parse_education
from .experience import first_required_years, parse_experience
from .location import resolve_location
from .normalise import normalise_posting
from .salary import parse_salary

__all__ = [
    "education_level",
    "first_required_years",
    "normalise_posting",
    "parse_education",
    "parse_experience",
    "parse_salary",
    "resolve_location",
]
