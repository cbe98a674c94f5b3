"""The extraction pipeline as a spaCy ``Language``.

``spacy.blank("zh")`` with the jieba segmenter, its tokenizer wrapped so that the taxonomy's
terms are a user dictionary and technical tokens (C++, C#, .NET, Node.js, TCP/IP) stay whole
(:mod:`nlp.spacy_pipeline.tokenizer`), then the registered components of
:mod:`nlp.spacy_pipeline.components`:

    nlp = build_pipeline(taxonomy, embeddings=False)          # components from their factories
    initialize_pipeline(nlp, taxonomy=..., finder=..., ...)   # each component gets its objects

Building takes only settings (``config``: per component, overrides of its factory's
``default_config``); the objects the components work with are handed to each component's
``initialize``. Nothing outlives the ``Language``: dropping it frees everything it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import spacy
from spacy.language import Language

from nlp.spacy_pipeline.components import PostingContext
from nlp.spacy_pipeline.tokenizer import ProtectedJiebaTokenizer

if TYPE_CHECKING:
    from nlp.competencies import CompetencyMatcher
    from nlp.embeddings.embedder import Embedder
    from nlp.occupation import OccupationScorer
    from nlp.skills import SkillFinder
    from skill_taxonomy import Taxonomy

PIPE_NAMES = (
    "skillsignal_sections",
    "skillsignal_skills",
    "skillsignal_skill_embeddings",
    "skillsignal_new_terms",
    "skillsignal_level",
    "skillsignal_occupation",
    "skillsignal_competencies",
)
#: the components that need the embedding model (left out of a pipeline without it)
EMBEDDING_ONLY = frozenset({"skillsignal_skill_embeddings"})


def build_pipeline(
    taxonomy: Taxonomy, *, embeddings: bool, config: Mapping[str, Mapping[str, Any]] | None = None
) -> Language:
    """A ``Language`` with the taxonomy-aware tokenizer and the extraction components, not yet
    initialized; ``config`` maps a component name to settings of its factory."""
    config = dict(config or {})
    unknown = sorted(set(config) - set(PIPE_NAMES))
    if unknown:
        raise ValueError(f"no such component: {', '.join(unknown)} (components: {', '.join(PIPE_NAMES)})")
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    terms = [f for s in taxonomy.skills.values() for f in s.surface_forms()]
    nlp.tokenizer = ProtectedJiebaTokenizer(nlp.vocab, user_terms=terms, protected=terms)
    for name in PIPE_NAMES:
        if name in EMBEDDING_ONLY and not embeddings:
            continue
        nlp.add_pipe(name, config=dict(config.get(name, {})))
    return nlp


def initialize_pipeline(
    nlp: Language,
    *,
    taxonomy: Taxonomy,
    finder: SkillFinder,
    occupation_scorer: OccupationScorer,
    matcher: CompetencyMatcher,
    embedder: Embedder | None = None,
    vector_cache_dir: Path | None = None,
) -> None:
    """Hand each component of ``nlp`` the objects it works with (its ``initialize``); with an
    embedder, the taxonomy-side vectors are computed (or read from ``vector_cache_dir``) now,
    not in the first batch."""
    emb = {"embedder": embedder, "vector_cache_dir": vector_cache_dir}
    resources: dict[str, dict[str, Any]] = {
        "skillsignal_skills": {"finder": finder},
        "skillsignal_skill_embeddings": {"taxonomy": taxonomy, **emb},
        "skillsignal_new_terms": {"taxonomy": taxonomy, "finder": finder},
        "skillsignal_occupation": {"occupation_scorer": occupation_scorer, **emb},
        "skillsignal_competencies": {"matcher": matcher, **emb},
    }
    for name, proc in nlp.pipeline:
        if name in resources:
            component: Any = proc  # nlp.pipeline is typed as plain callables
            component.initialize(lambda: [], nlp=nlp, **resources[name])


__all__ = ["EMBEDDING_ONLY", "PIPE_NAMES", "PostingContext", "build_pipeline", "initialize_pipeline"]
