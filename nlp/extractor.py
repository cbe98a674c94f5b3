"""Turn postings into :class:`~skillsignal.core.models.Extraction` facts.

    from nlp.extractor import Extractor
    extractor = Extractor.from_settings(settings)               # embeddings per settings
    extraction = extractor.extract(posting)                       # raises ExtractionError
    results = extractor.extract_many(postings)                   # Extraction | ExtractionError each

The steps (sectioning, skill finding, new terms, level, occupation, competencies) run as spaCy
components (:mod:`nlp.spacy_pipeline`); with embeddings on, the embedding calls of a whole
batch of postings are made together. The title and description are cleaned first
(:func:`nlp.cleaning.clean_text`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spacy.tokens import Doc

from nlp.cleaning import clean_text
from nlp.competencies import CompetencyMatcher
from nlp.embeddings import EmbeddingModelError, get_embedder
from nlp.occupation import OccupationScorer
from nlp.skills import SkillFinder
from nlp.spacy_pipeline import PostingContext, build_pipeline, initialize_pipeline
from skill_taxonomy import default_taxonomy
from skillsignal.core.config import Settings
from skillsignal.core.models import Extraction, NewTerm, OccupationMatch, Posting, SkillMatch

if TYPE_CHECKING:
    from skill_taxonomy import Taxonomy

log = logging.getLogger(__name__)

#: Stamped on every extraction; bumped when the same posting extracts differently (1.1.0: the
#: competency decision reads the gold's skill links; 1.2.0: it is refitted on the adjudicated gold),
#: so stored extractions can be told apart and `skillsignal reprocess` brings them up to date.
EXTRACTOR_VERSION = "1.2.0"
#: Postings per spaCy batch: one embedding call per step per batch, and the texts of a call that
#: have the same token count run through the model together, so larger batches cost less CPU a
#: posting (see nlp.parallel.MAX_TASK; results never depend on the batch).
BATCH_SIZE = 256
#: Most new terms kept per posting.
MAX_NEW_TERMS = 30


class ExtractionError(Exception):
    """One posting could not be extracted; the message says which step failed and why."""


def _default_max_chars() -> int:
    return int(Settings.model_fields["max_extract_chars"].default)


_SENTENCE_ENDS = "\n。；;！!？?"


def cut_for_extraction(text: str, limit: int) -> str:
    """The part of a cleaned description that extraction reads: all of it up to ``limit``
    characters; beyond, the text up to the last line or sentence end in the second half of the
    first ``limit`` characters (else exactly ``limit`` characters). Every extraction step takes
    time in proportion to the text it reads; this bounds that text (``Settings.max_extract_chars``)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind(c) for c in _SENTENCE_ENDS)
    return head[: end + 1] if end + 1 >= limit // 2 else head


def _clean(text: str | None) -> str:
    return clean_text(text or "")


class Extractor:
    """Extraction against one taxonomy, with or without the embedding model.

    The extractor owns its pipeline (``self.nlp``) and the objects its components work with
    (skill finder, occupation scorer, competency matcher); ``cache_dir`` keeps the taxonomy-side
    vectors between runs. ``pipeline_config`` overrides components' factory settings, e.g.
    ``{"skillsignal_skill_embeddings": {"threshold": 0.95}}``. Dropping the extractor frees all of it.
    """

    def __init__(
        self,
        taxonomy: Taxonomy,
        embedder: Any = None,
        cache_dir: Path | None = None,
        max_chars: int | None = None,
        pipeline_config: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.cache_dir = cache_dir
        #: longest stretch of a description read (Settings.max_extract_chars)
        self.max_chars = max_chars or _default_max_chars()
        self.finder = SkillFinder(taxonomy)
        self.occupation_scorer = OccupationScorer(taxonomy)
        self.matcher = CompetencyMatcher(taxonomy, finder=self.finder)
        self.nlp = build_pipeline(taxonomy, embeddings=embedder is not None, config=pipeline_config)
        initialize_pipeline(
            self.nlp,
            taxonomy=taxonomy,
            finder=self.finder,
            occupation_scorer=self.occupation_scorer,
            matcher=self.matcher,
            embedder=embedder,
            vector_cache_dir=cache_dir,
        )

    @classmethod
    def from_settings(cls, settings: Settings, use_embeddings: bool | None = None) -> Extractor:
        """The extractor for ``settings``: bundled taxonomy plus ``settings.taxonomy_overlay``;
        the embedding model when ``use_embeddings`` (``None``: ``settings.use_embeddings``, and
        then a model that cannot be loaded is logged and the extractor runs without it)."""
        taxonomy = default_taxonomy(settings.taxonomy_overlay)
        use = settings.use_embeddings if use_embeddings is None else use_embeddings
        embedder = None
        if use:
            try:
                embedder = get_embedder(settings)
            except EmbeddingModelError as exc:
                if use_embeddings:  # asked for explicitly: the caller must know
                    raise
                log.warning("embedding model unavailable, extracting without embeddings: %s", exc)
        return cls(
            taxonomy, embedder, cache_dir=Path(settings.model_dir) / "vectors", max_chars=settings.max_extract_chars
        )

    @property
    def taxonomy_version(self) -> str:
        return self.taxonomy.version

    @property
    def uses_embeddings(self) -> bool:
        return self.embedder is not None

    # ------------------------------------------------------------------ public

    def extract(self, posting: Posting) -> Extraction:
        result = self.extract_many([posting])[0]
        if isinstance(result, ExtractionError):
            raise result
        return result

    def extract_many(self, postings: Sequence[Posting]) -> list[Extraction | ExtractionError]:
        """One result per posting, in order; a posting that fails yields an ExtractionError."""
        results: dict[int, Extraction | ExtractionError] = {}  # every index gets one below
        docs = []
        slots = []
        for i, posting in enumerate(postings):
            try:
                title = _clean(posting.title)
                text = _clean(posting.description)
                if len(text) > self.max_chars:
                    full = len(text)
                    text = cut_for_extraction(text, self.max_chars)
                    log.info(
                        "posting %s: extraction reads the first %d of %d characters (max_extract_chars)",
                        getattr(posting, "id", "?"),
                        len(text),
                        full,
                    )
                doc = self.nlp.make_doc(text)
                doc._.skillsignal = PostingContext(posting=posting, title=title, text=text)
                docs.append(doc)
                slots.append(i)
            except Exception as exc:
                results[i] = ExtractionError(
                    f"posting {getattr(posting, 'id', '?')}: tokenizing: {type(exc).__name__}: {exc}"
                )
        try:
            done = list(self.nlp.pipe(docs, batch_size=BATCH_SIZE))
        except Exception as exc:  # a step failed outside its guard: retry one by one
            log.warning("batch extraction failed (%s); retrying posting by posting", exc)
            done = []
            for doc in docs:
                try:
                    done.append(list(self.nlp.pipe([doc], batch_size=1))[0])
                except Exception as one_exc:
                    doc._.skillsignal.error = f"pipeline: {type(one_exc).__name__}: {one_exc}"
                    done.append(doc)
        for i, doc in zip(slots, done, strict=True):
            ctx = doc._.skillsignal
            if ctx.error:
                results[i] = ExtractionError(f"posting {ctx.posting.id}: {ctx.error}")
                continue
            try:
                results[i] = self._extraction(doc)
            except Exception as exc:
                results[i] = ExtractionError(f"posting {ctx.posting.id}: assembling: {type(exc).__name__}: {exc}")
        return [results[i] for i in range(len(postings))]

    # ------------------------------------------------------------------ assembling

    def _extraction(self, doc: Doc) -> Extraction:
        """The facts the pipeline's components left on ``doc``."""
        decision = doc._.occupation
        occupation = decision.match if decision else OccupationMatch(code="other", name="其他", other_hint="")
        new_terms = sorted((doc._.new_terms or {}).items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_NEW_TERMS]
        return Extraction(
            occupation=occupation,
            level=doc._.level or "初级",
            skills=self._skills(doc._.skill_hits.hits if doc._.skill_hits else []),
            competencies=doc._.competencies or [],
            new_terms=[NewTerm(term=t, count=c) for t, c in new_terms],
            taxonomy_version=self.taxonomy_version,
            extractor_version=EXTRACTOR_VERSION + ("+emb" if self.uses_embeddings else ""),
        )

    def _skills(self, hits) -> list[SkillMatch]:
        by_id: dict[str, SkillMatch] = {}
        order = sorted(hits, key=lambda h: (h.sentence < 0, h.start))
        for hit in order:
            skill = self.taxonomy.skills.get(hit.skill_id)
            if skill is None:
                continue
            match = by_id.get(hit.skill_id)
            if match is None:
                match = by_id[hit.skill_id] = SkillMatch(
                    id=skill.id, name=skill.name_zh or skill.name_en, mentions=[], score=0.0, required=False
                )
            if hit.surface not in match.mentions:
                match.mentions.append(hit.surface)
            match.score = max(match.score, hit.score)
            match.required = match.required or not hit.preferred
        return list(by_id.values())
