"""The extraction steps as registered spaCy components.

Each component reads and writes the posting's :class:`PostingContext` (``doc._.skillsignal``).
Components that use embeddings implement ``pipe`` so that one model call serves a whole batch
of postings. A failure on one doc is recorded in its context (``ctx.error``) and later
components skip that doc, so one bad posting never breaks a batch.

Components (in pipeline order):
``skillsignal_sections`` → ``skillsignal_skills`` → ``skillsignal_skill_embeddings`` (embeddings
only) → ``skillsignal_new_terms`` → ``skillsignal_level`` → ``skillsignal_occupation`` →
``skillsignal_competencies``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc

from nlp.competencies import CompetencyMatcher
from nlp.level import infer_level
from nlp.new_terms import find_new_terms
from nlp.occupation import OccupationDecision, OccupationScorer, SkillEvidence
from nlp.sections import Sentence, split_sections
from nlp.skills import FoundSkills, SkillFinder, SkillHit

if TYPE_CHECKING:
    from skill_taxonomy import Taxonomy
    from skillsignal.models import Posting

log = logging.getLogger(__name__)

if not Doc.has_extension("skillsignal"):
    Doc.set_extension("skillsignal", default=None)


@dataclass
class PostingContext:
    posting: "Posting"
    title: str
    text: str
    sentences: list[Sentence] = field(default_factory=list)
    found: FoundSkills = field(default_factory=FoundSkills)
    new_terms: dict[str, int] = field(default_factory=dict)
    level: str = "初级"
    occupation: OccupationDecision | None = None
    competencies: list = field(default_factory=list)
    tag_sentence: Sentence | None = None
    error: str | None = None


@dataclass
class Resources:
    """Everything the components share: built once per extractor."""

    taxonomy: "Taxonomy"
    finder: SkillFinder
    scorer: OccupationScorer
    matcher: CompetencyMatcher
    embedder: Any = None  # nlp.embeddings.Embedder or None
    settings: dict = field(default_factory=dict)
    _occ_vectors: dict[str, np.ndarray] | None = None
    _skill_vectors: tuple[list[str], np.ndarray] | None = None

    def occupation_vectors(self) -> dict[str, np.ndarray]:
        if self._occ_vectors is None:
            texts = self.scorer.descriptions()
            codes = list(texts)
            vecs = self.embedder.encode([texts[c] for c in codes], kind="passage")
            self._occ_vectors = dict(zip(codes, vecs))
        return self._occ_vectors

    def skill_vectors(self) -> tuple[list[str], np.ndarray]:
        """One vector per skill, from its Chinese and English names."""
        if self._skill_vectors is None:
            ids, texts = [], []
            for skill in self.taxonomy.skills.values():
                ids.append(skill.id)
                name = skill.name_en if skill.name_en == skill.name_zh else f"{skill.name_zh} {skill.name_en}"
                texts.append(name)
            vecs = self.embedder.encode(texts, kind="query") if texts else np.zeros((0, 1), np.float32)
            self._skill_vectors = (ids, vecs)
        return self._skill_vectors


RESOURCES: dict[str, Resources] = {}


def _ctx(doc: Doc) -> PostingContext | None:
    ctx = doc._.skillsignal
    if ctx is None or ctx.error:
        return None
    return ctx


def _guard(ctx: PostingContext, step: str, fn) -> None:
    try:
        fn()
    except Exception as exc:  # one posting's failure must not stop the batch
        ctx.error = f"{step}: {type(exc).__name__}: {exc}"
        log.debug("extraction step %s failed for %s\n%s", step, ctx.posting.id, traceback.format_exc())


class _Component:
    step = "component"

    def __init__(self, key: str):
        self.res = RESOURCES[key]

    def __call__(self, doc: Doc) -> Doc:
        ctx = _ctx(doc)
        if ctx is not None:
            _guard(ctx, self.step, lambda: self.process(doc, ctx))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)

    def process(self, doc: Doc, ctx: PostingContext) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class _BatchComponent(_Component):
    """Collects a batch of docs, then processes them together (one embedding call)."""

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._run(batch)
                batch = []
        if batch:
            yield from self._run(batch)

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self._run([doc])))

    def _run(self, docs: list[Doc]) -> list[Doc]:
        live = [(d, _ctx(d)) for d in docs]
        live = [(d, c) for d, c in live if c is not None]
        if live:
            try:
                self.process_batch(live)
            except Exception as exc:  # fall back to one by one so only the bad doc fails
                log.debug("batch step %s failed (%s); retrying one by one", self.step, exc)
                for d, c in live:
                    _guard(c, self.step, lambda d=d, c=c: self.process_batch([(d, c)]))
        return docs

    def process_batch(self, items: list[tuple[Doc, PostingContext]]) -> None:  # pragma: no cover
        raise NotImplementedError


# ---------------------------------------------------------------------------- steps


class Sections(_Component):
    step = "sections"

    def process(self, doc: Doc, ctx: PostingContext) -> None:
        ctx.sentences = split_sections(ctx.text)
        tags = [t for t in ctx.posting.tags if t]
        if tags:  # employer tags: one extra requirement "sentence", read on its own
            text = "、".join(tags)
            ctx.tag_sentence = Sentence(text, 0, len(text), "requirements", False)


class Skills(_Component):
    step = "skills"

    def process(self, doc: Doc, ctx: PostingContext) -> None:
        finder = self.res.finder
        ctx.found = finder.find(ctx.text, ctx.sentences)
        finder.find_typos(ctx.text, ctx.sentences, ctx.found)
        if ctx.tag_sentence is not None:
            extra = finder.find(ctx.tag_sentence.text, [ctx.tag_sentence])
            for hit in extra.hits:
                hit.sentence = -1
                hit.start = hit.end = -1
                ctx.found.hits.append(hit)


class SkillEmbeddings(_BatchComponent):
    """Unknown technical terms mapped to the nearest skill name when similar enough."""

    step = "skill_embeddings"

    def process_batch(self, items) -> None:
        from nlp.new_terms import technical_latin, load_rules

        res = self.res
        threshold = float(res.settings.get("skill_similarity_threshold", 0.93))
        rules = load_rules()
        wanted: dict[str, list[tuple[PostingContext, int, int, int, bool]]] = {}
        import re

        for doc, ctx in items:
            covered = sorted(ctx.found.covered)
            for index, sent in enumerate(ctx.sentences):
                if sent.boilerplate or not re.search(r"[\u3400-\u9fff]", sent.text):
                    continue
                for m in re.finditer(r"[A-Za-z][A-Za-z0-9+#.\-]{2,}", sent.text):
                    a = sent.start + m.start()
                    b = a + len(m.group(0))
                    if any(s < b and a < e for s, e in covered):
                        continue
                    term = m.group(0).rstrip(".-")
                    if not technical_latin(term, True, rules) and not term.islower():
                        continue
                    if term.casefold() in rules.latin_stop:
                        continue
                    wanted.setdefault(term, []).append((ctx, a, a + len(term), index, sent.preferred))
        if not wanted:
            return
        ids, vecs = res.skill_vectors()
        if not ids:
            return
        terms = list(wanted)
        tv = res.embedder.encode(terms, kind="query")
        sims = tv @ vecs.T
        best = sims.argmax(axis=1)
        for i, term in enumerate(terms):
            score = float(sims[i, best[i]])
            if score < threshold:
                continue
            skill_id = ids[int(best[i])]
            for ctx, a, b, index, preferred in wanted[term]:
                ctx.found.hits.append(SkillHit(skill_id, term, a, b, index, preferred, round(score, 4), "embedding"))
                ctx.found.covered.append((a, b))


class NewTerms(_Component):
    step = "new_terms"

    def process(self, doc: Doc, ctx: PostingContext) -> None:
        taxonomy = self.res.taxonomy
        rules = self.res.finder.rules

        def is_known(term: str) -> bool:
            key = "".join(term.split()).casefold()
            return key in taxonomy.surface_index or key in rules.never

        tokens = doc.user_data.get("skillsignal_words") or [(t.text, t.idx) for t in doc]
        ctx.new_terms = dict(find_new_terms(ctx.text, ctx.sentences, ctx.found.covered, is_known, tokens))


class LevelStep(_Component):
    step = "level"

    def process(self, doc: Doc, ctx: PostingContext) -> None:
        exp = ctx.posting.experience
        ctx.level = infer_level(ctx.title, exp.text, ctx.text, exp.years_min)


def skill_evidence(ctx: PostingContext) -> list[SkillEvidence]:
    """Each skill hit with the part of the posting it sits in: the main duty (the first duty
    sentence), other duties, requirements, or a preferred extra."""
    first_duty = next((i for i, s in enumerate(ctx.sentences) if s.kind == "duties"), None)
    out = []
    for hit in ctx.found.hits:
        if hit.preferred:
            section = "preferred"
        elif hit.sentence == first_duty and first_duty is not None:
            section = "main_duty"
        elif 0 <= hit.sentence < len(ctx.sentences) and ctx.sentences[hit.sentence].kind == "duties":
            section = "duties"
        else:
            section = "requirements"
        out.append(SkillEvidence(hit.skill_id, section))
    return out


class Occupation(_BatchComponent):
    step = "occupation"

    def process_batch(self, items) -> None:
        res = self.res
        sims_per: list[dict[str, float] | None] = [None] * len(items)
        if res.embedder is not None:
            occ = res.occupation_vectors()
            codes = list(occ)
            mat = np.stack([occ[c] for c in codes])
            texts = [ctx.title for _, ctx in items]
            vecs = res.embedder.encode(texts, kind="query")
            sims = vecs @ mat.T
            sims_per = [dict(zip(codes, map(float, row))) for row in sims]
        for (doc, ctx), sims in zip(items, sims_per):
            ctx.occupation = res.scorer.decide(ctx.title, skill_evidence(ctx), sims)


def evidence_sentences(ctx: PostingContext, limit: int) -> list[str]:
    """Duty and requirement sentences, those naming skills first, longest first."""
    per_sentence: dict[int, int] = {}
    for hit in ctx.found.hits:
        per_sentence[hit.sentence] = per_sentence.get(hit.sentence, 0) + 1
    cands = [
        (per_sentence.get(i, 0), len(s.text), s.text.strip())
        for i, s in enumerate(ctx.sentences)
        if not s.boilerplate and len(s.text.strip()) >= 8
    ]
    cands.sort(reverse=True)
    seen, out = set(), []
    for _, _, text in cands:
        if text not in seen:
            seen.add(text)
            out.append(text[:200])
        if len(out) >= limit:
            break
    return out


class Competencies(_BatchComponent):
    step = "competencies"

    def process_batch(self, items) -> None:
        res = self.res
        matcher = res.matcher
        limit = int(matcher.rules.get("max_sentences", 6))
        todo = []
        for doc, ctx in items:
            occ = ctx.occupation.match if ctx.occupation else None
            if occ is None or occ.code not in res.taxonomy.occupations:
                continue
            if not matcher.candidates(occ.code, ctx.level, occ.direction):
                continue
            todo.append((ctx, occ, evidence_sentences(ctx, limit)))
        if not todo:
            return
        if res.embedder is None:
            for ctx, occ, sents in todo:
                ctx.competencies = matcher.match_lexical(occ.code, ctx.level, occ.direction, sents)
            return
        flat = [s for _, _, sents in todo for s in sents]
        vecs = res.embedder.encode(flat, kind="query") if flat else np.zeros((0, 1), np.float32)
        pos = 0
        for ctx, occ, sents in todo:
            part = vecs[pos: pos + len(sents)]
            pos += len(sents)
            ctx.competencies = matcher.match_vectors(occ.code, ctx.level, occ.direction, sents, part, res.embedder)


# ---------------------------------------------------------------------------- factories

_FACTORIES = {
    "skillsignal_sections": Sections,
    "skillsignal_skills": Skills,
    "skillsignal_skill_embeddings": SkillEmbeddings,
    "skillsignal_new_terms": NewTerms,
    "skillsignal_level": LevelStep,
    "skillsignal_occupation": Occupation,
    "skillsignal_competencies": Competencies,
}


def _register() -> None:
    for name, cls in _FACTORIES.items():
        if name in Language.factories:
            continue

        def make(nlp: Language, name: str, key: str, cls=cls):
            return cls(key)

        Language.factory(name, default_config={"key": ""}, func=make)


_register()
