"""The extraction pipeline as a spaCy ``Language``.

``spacy.blank("zh")`` with the jieba segmenter, its tokenizer wrapped so that the taxonomy's
terms are a user dictionary and technical tokens (C++, C#, .NET, Node.js, TCP/IP) stay whole
(:mod:`nlp.spacy_pipeline.tokenizer`), then the registered components of
:mod:`nlp.spacy_pipeline.components`.
"""

from __future__ import annotations

import uuid

import spacy
from spacy.language import Language

from nlp.spacy_pipeline.components import RESOURCES, PostingContext, Resources
from nlp.spacy_pipeline.tokenizer import ProtectedJiebaTokenizer

PIPE_NAMES = (
    "skillsignal_sections",
    "skillsignal_skills",
    "skillsignal_skill_embeddings",
    "skillsignal_new_terms",
    "skillsignal_level",
    "skillsignal_occupation",
    "skillsignal_competencies",
)


def build_pipeline(resources: Resources) -> Language:
    """A ``Language`` whose components share ``resources`` (registered under a fresh key)."""
    key = uuid.uuid4().hex
    RESOURCES[key] = resources
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    terms = [f for s in resources.taxonomy.skills.values() for f in s.surface_forms()]
    nlp.tokenizer = ProtectedJiebaTokenizer(nlp.vocab, user_terms=terms, protected=terms)
    for name in PIPE_NAMES:
        if name == "skillsignal_skill_embeddings" and resources.embedder is None:
            continue
        nlp.add_pipe(name, config={"key": key})
    return nlp


__all__ = ["PIPE_NAMES", "PostingContext", "Resources", "build_pipeline"]
