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

import hashlib
import logging
from bisect import bisect_left
from itertools import accumulate
import traceback
from pathlib import Path
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
    #: evidence sentences (main duty first) and their vectors, shared by occupation/competencies
    evidence: list[str] = field(default_factory=list)
    evidence_vectors: Any = None
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
    cache_dir: Path | None = None
    _occ_vectors: dict[str, np.ndarray] | None = None
    _skill_vectors: tuple[list[str], np.ndarray] | None = None

    def encode_cached(self, texts: list[str], kind: str) -> np.ndarray:
        """Vectors of fixed taxonomy texts, kept on disk (``cache_dir``) between runs."""
        if not texts:
            return np.zeros((0, getattr(self.embedder, "dim", 1)), np.float32)
        path = None
        if self.cache_dir is not None:
            key = getattr(self.embedder, "fingerprint", None) or getattr(self.embedder, "name", "")
            h = hashlib.sha1(f"{key}\x1f{kind}\x1f".encode())
            for t in texts:
                h.update(t.encode("utf-8") + b"\x1e")
            path = Path(self.cache_dir) / f"{h.hexdigest()[:20]}.npy"
            if path.exists():
                try:
                    vecs = np.load(path)
                    if vecs.shape[0] == len(texts):
                        return vecs
                except (OSError, ValueError):
                    pass
        vecs = self.embedder.encode(texts, kind=kind)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, vecs)
            except OSError as exc:  # a read-only data dir only costs time
                log.debug("cannot cache taxonomy vectors in %s: %s", path, exc)
        return vecs

    def occupation_vectors(self) -> dict[str, np.ndarray]:
        """Per occupation (and look-alike), one row per text of its profile (definition,
        directions, work contents; :meth:`OccupationScorer.profiles`)."""
        if self._occ_vectors is None:
            profiles = self.scorer.profiles()
            flat = [t for texts in profiles.values() for t in texts]
            vecs = self.encode_cached(flat, "passage")
            out, pos = {}, 0
            for code, texts in profiles.items():
                out[code] = vecs[pos: pos + len(texts)]
                pos += len(texts)
            self._occ_vectors = out
        return self._occ_vectors

    def skill_vectors(self) -> tuple[list[str], np.ndarray]:
        """One vector per skill, from its Chinese and English names."""
        if self._skill_vectors is None:
            ids, texts = [], []
            for skill in self.taxonomy.skills.values():
                ids.append(skill.id)
                name = skill.name_en if skill.name_en == skill.name_zh else f"{skill.name_zh} {skill.name_en}"
                texts.append(name)
            self._skill_vectors = (ids, self.encode_cached(texts, "query"))
        return self._skill_vectors

    def warm(self) -> None:
        """Compute (or read from the disk cache) every taxonomy-side vector now."""
        if self.embedder is None:
            return
        self.occupation_vectors()
        self.skill_vectors()
        self.matcher.warm(self)


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


def _bigrams(text: str) -> set[str]:
    t = "".join(ch for ch in text.casefold() if ch.isalnum())
    return {t[i: i + 2] for i in range(len(t) - 1)}


def lexical_agreement(term: str, forms: list[str], min_dice: float, min_ratio: float) -> bool:
    """The term is written like one of the skill's Latin forms: similar length and character
    bigrams (guards the embedding match against look-alike acronyms: LVM is not LLVM)."""
    tb = _bigrams(term)
    for form in forms:
        fb = _bigrams(form)
        if not tb or not fb:
            continue
        ratio = min(len(term), len(form)) / max(len(term), len(form))
        dice = 2 * len(tb & fb) / (len(tb) + len(fb))
        if ratio >= min_ratio and dice >= min_dice:
            return True
    return False


class _Spans:
    """Whether [a, b) overlaps one of ``spans``, by bisection over the starts and a running
    maximum of the ends (a scan of every span per term was quadratic on a long text)."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self.starts = [s for s, _ in ordered]
        self.max_end = list(accumulate((e for _, e in ordered), max))

    def overlaps(self, a: int, b: int) -> bool:
        i = bisect_left(self.starts, b)  # the spans starting before b
        return i > 0 and self.max_end[i - 1] > a


class SkillEmbeddings(_BatchComponent):
    """Unknown Latin terms in Chinese sentences mapped to the nearest skill name: kept when the
    cosine clears ``skill_similarity_threshold`` and the term is written like the skill's name
    (``lexical_agreement``). Terms repeat across postings, so the embedder's cache serves most."""

    step = "skill_embeddings"
    _forms = None

    def _latin_forms(self):
        if self._forms is None:
            from nlp.embeddings.selection import LatinFormIndex

            forms = [f for skill in self.res.taxonomy.skills.values() for f in skill.surface_forms() if f.isascii()]
            self._forms = LatinFormIndex(forms, _bigrams, lambda term, cands: lexical_agreement(term, cands, 0.5, 0.7))
        return self._forms

    def process_batch(self, items) -> None:
        import re

        from nlp.new_terms import load_rules, technical_latin

        res = self.res
        opts = res.settings
        threshold = float(opts.get("skill_similarity_threshold", 0.94))
        min_len = int(opts.get("skill_similarity_min_length", 5))
        rules = load_rules()
        wanted: dict[str, list[tuple[PostingContext, int, int, int, bool]]] = {}
        for doc, ctx in items:
            covered = _Spans(ctx.found.covered)
            for index, sent in enumerate(ctx.sentences):
                if sent.boilerplate or not re.search(r"[\u3400-\u9fff]", sent.text):
                    continue
                for m in re.finditer(r"[A-Za-z][A-Za-z0-9+#.\-]{2,}", sent.text):
                    term = m.group(0).rstrip(".-")
                    a = sent.start + m.start()
                    b = a + len(term)
                    if len(term) < min_len or covered.overlaps(a, b):
                        continue
                    if term.casefold() in rules.latin_stop:
                        continue
                    if not technical_latin(term, True, rules):
                        continue
                    wanted.setdefault(term, []).append((ctx, a, b, index, sent.preferred))
        # a term written like no skill's Latin form can never be kept: not embedded
        terms = [t for t in wanted if self._latin_forms().can_agree(t)]
        if not terms:
            return
        ids, vecs = res.skill_vectors()
        if not len(ids):
            return
        sims = res.embedder.encode(terms, kind="query") @ vecs.T
        best = sims.argmax(axis=1)
        for i, term in enumerate(terms):
            score = float(sims[i, best[i]])
            if score < threshold:
                continue
            skill = res.taxonomy.skills[ids[int(best[i])]]
            forms = [f for f in skill.surface_forms() if f.isascii()]
            if not lexical_agreement(term, forms, 0.5, 0.7):
                continue
            for ctx, a, b, index, preferred in wanted[term]:
                ctx.found.hits.append(SkillHit(skill.id, term, a, b, index, preferred, round(score, 4), "embedding"))
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


def evidence_sentences(ctx: PostingContext, limit: int) -> list[str]:
    """The main duty (first duty sentence) first, then the duty and requirement sentences
    naming the most skills (longest first among equals); boilerplate never."""
    per_sentence: dict[int, int] = {}
    for hit in ctx.found.hits:
        per_sentence[hit.sentence] = per_sentence.get(hit.sentence, 0) + 1
    live = [(i, s) for i, s in enumerate(ctx.sentences) if not s.boilerplate and len(s.text.strip()) >= 6]
    first_duty = next((i for i, s in live if s.kind == "duties"), None)
    cands = sorted(
        ((per_sentence.get(i, 0), len(s.text), -i, s.text.strip()) for i, s in live if i != first_duty),
        reverse=True,
    )
    ordered = ([ctx.sentences[first_duty].text.strip()] if first_duty is not None else []) + [c[3] for c in cands]
    seen, out = set(), []
    for text in ordered:
        text = text[:200]
        if text not in seen:
            seen.add(text)
            out.append(text)
        if len(out) >= limit:
            break
    return out


def duty_texts(ctx: PostingContext) -> list[str]:
    """The duty sentences, or, in a posting without a duty section, every sentence that is not
    boilerplate: what the occupation's anchors are looked for in."""
    duties = [s.text for s in ctx.sentences if s.kind == "duties"]
    return duties or [s.text for s in ctx.sentences if not s.boilerplate]


def occupation_sentences(ctx: PostingContext, limit: int, chars: int) -> list[str]:
    """What stands for the posting against the occupations' profiles: its first ``limit`` duty
    sentences, each cut to ``chars`` (the title when it has none)."""
    duties = [s.text.strip()[:chars] for s in ctx.sentences if s.kind == "duties" and len(s.text.strip()) >= 6]
    return duties[:limit] or [ctx.title]


class Occupation(_BatchComponent):
    """Occupation per posting. With embeddings, one model call for the batch embeds each
    posting's title and main duty (short: one text per posting)."""

    step = "occupation"

    def process_batch(self, items) -> None:
        res = self.res
        scorer = res.scorer
        for _, ctx in items:
            ctx.occupation = scorer.decide(ctx.title, skill_evidence(ctx), duties=duty_texts(ctx))
        if res.embedder is None or not scorer.weights.get("embedding", 0):
            return
        # The similarity term moves the gap between two candidates by at most the posting's
        # swing (0 when it re-ranks fewer than two, or the posting is "other" by its evidence):
        # a posting whose lead is larger cannot change its answer, so only close calls are embedded.
        close = [
            (doc, ctx) for doc, ctx in items if scorer.margin(ctx.occupation) <= scorer.embedding_swing(ctx.occupation)
        ]
        if not close:
            return
        limit = int(scorer.rules.get("embed_duty_sentences", 2))
        chars = int(scorer.rules.get("embed_sentence_chars", 80))
        occ = res.occupation_vectors()
        texts = [occupation_sentences(ctx, limit, chars) for _, ctx in close]
        vecs = res.embedder.encode([t for group in texts for t in group], kind="query")
        pos = 0
        for (_, ctx), group in zip(close, texts):
            sent = vecs[pos: pos + len(group)]
            pos += len(group)
            # per occupation: the mean over the duty sentences of the best-matching statement
            sims = {code: float((sent @ mat.T).max(axis=1).mean()) for code, mat in occ.items() if len(mat)}
            ctx.occupation = scorer.decide(ctx.title, skill_evidence(ctx), sims, duties=duty_texts(ctx))


class Competencies(_BatchComponent):
    """Competency statements of the chosen occupation, sentence by sentence
    (:mod:`nlp.competencies`). With embeddings and ``max_sentences`` > 0, the first ``max_sentences``
    read sentences of every posting of the batch (duties first, cut to ``max_sentence_chars``) are
    embedded in one model call; further sentences are read lexically only."""

    step = "competencies"

    def process_batch(self, items) -> None:
        from nlp.competencies import posting_sentences

        res = self.res
        matcher = res.matcher
        rules = matcher.rules
        todo = []
        for doc, ctx in items:
            occ = ctx.occupation.match if ctx.occupation else None
            if occ is None or not matcher.candidates(occ.code, ctx.level, occ.direction):
                continue
            per_sentence: dict[int, set[str]] = {}
            for hit in ctx.found.hits:
                per_sentence.setdefault(hit.sentence, set()).add(hit.skill_id)
            sents = posting_sentences(ctx.posting.description, ctx.sentences, per_sentence, rules.min_sentence_chars)
            if sents:
                todo.append((ctx, occ, sents))
        if not todo:
            return
        if res.embedder is None or rules.max_sentences == 0:
            for ctx, occ, sents in todo:
                ctx.competencies = matcher.match(occ.code, ctx.level, occ.direction, sents)
            return
        chars = rules.max_sentence_chars
        embedded = []
        for ctx, occ, sents in todo:
            # duties first, then the rest in text order (a stable sort keeps the text order)
            order = sorted(range(len(sents)), key=lambda i: sents[i].kind != "duties")[: rules.max_sentences]
            embedded.append(sorted(order))
        flat = [todo[k][2][i].text[:chars] for k, order in enumerate(embedded) for i in order]
        vecs = res.embedder.encode(flat, kind="query")
        pos = 0
        for (ctx, occ, sents), order in zip(todo, embedded):
            rows = vecs[pos: pos + len(order)]
            pos += len(order)
            ctx.competencies = matcher.match(occ.code, ctx.level, occ.direction, sents,
                                             sentence_vectors=dict(zip(order, rows)), resources=res)


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
