"""SkillSignal: demand for China's digital occupations, read from job postings.

Data flow: ``crawlers`` (postings in) -> ``nlp`` (extracted facts, against ``skill_taxonomy``)
-> ``storage`` (index) -> ``api`` (query). This package holds what they share: the
configuration, the posting model, the ingest pipeline and the command line.
"""

__version__ = "0.1.0"
