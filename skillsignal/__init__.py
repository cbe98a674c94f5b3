"""SkillSignal: demand for China's digital occupations, read from job postings.

Data flow: ``crawlers`` (postings in) -> ``nlp`` (extracted facts, against ``skill_taxonomy``)
-> ``storage`` (index) -> ``api`` (query). ``skillsignal.core`` is the floor they all stand on
(settings, the posting and extraction models); the rest of this package is the application on
top that wires the stages together: the ingest pipeline, the command line, the server, the demo.
"""

from .core import __version__

__all__ = ["__version__"]
