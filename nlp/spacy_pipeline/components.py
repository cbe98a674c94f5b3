"""The extraction steps as registered spaCy components.

Each component is a ``@Language.factory`` with typed settings in its ``default_config`` (what
``nlp.config`` holds and ``nlp.add_pipe(name, config=...)`` overrides) and receives the objects it
works with — skill finder, occupation scorer, competency matcher, embedder — in
``initialize(get_examples, *, nlp, ...)``, as spaCy's ``EntityRuler``/``Lemmatizer`` receive
their patterns/lookups: construction takes only what a config can hold, so ``nlp.config`` stays a
true description of the pipeline, and the components hold their resources themselves (nothing is
looked up in a process-wide table). :func:`nlp.spacy_pipeline.initialize_pipeline` hands them in.

The caller puts the posting on ``doc._.skillsignal`` (:class:`PostingContext`); each step writes
its own Doc extension (declared in ``assigns``, read ones in ``requires``):

``skillsignal_sections`` → ``doc._.sections``, ``doc._.tag_sentence``;
``skillsignal_skills`` → ``doc._.skill_hits``; ``skillsignal_skill_embeddings`` (embeddings only)
adds to ``doc._.skill_hits``; ``skillsignal_new_terms`` → ``doc._.new_terms``;
``skillsignal_level`` → ``doc._.level``; ``skillsignal_occupation`` → ``doc._.occupation``;
``skillsignal_competencies`` → ``doc._.competencies``.

Components that use embeddings implement ``pipe`` so that one model call serves a whole batch
of postings. A failure on one doc is recorded in its context (``ctx.error``) and later
components skip that doc, so one bad posting never breaks a batch.
"""

from __future__ import annotations

import logging
import re
import traceback
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc

from nlp.competencies import CompetencyMatcher, posting_sentences
from nlp.embeddings.fixed_vectors import FixedTextVectors
from nlp.embeddings.selection import LatinFormIndex, written_alike
from nlp.level import infer_level
from nlp.new_terms import find_new_terms, technical_latin
from nlp.new_terms import load_rules as load_term_rules
from nlp.occupation import OccupationScorer, SkillEvidence
from nlp.sections import Sentence, split_sections
from nlp.skills import FoundSkills, SkillFinder, SkillHit
from skillsignal.core.text import alnum_bigrams

if TYPE_CHECKING:
    from nlp.embeddings.embedder import Embedder
    from skill_taxonomy import Taxonomy
    from skillsignal.core.models import Posting

log = logging.getLogger(__name__)

#: the Doc extensions: the posting read (set by the caller), then one per step's result
EXTENSIONS = (
    "skillsignal",
    "sections",
    "tag_sentence",
    "skill_hits",
    "new_terms",
    "level",
    "occupation",
    "competencies",
)
for _name in EXTENSIONS:
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


@dataclass
class PostingContext:
    """What a doc stands for (``doc._.skillsignal``): the posting, its cleaned title and the text
    the doc was made from; ``error`` is set by the first step that fails on it."""

    posting: Posting
    title: str
    text: str
    error: str | None = None


def _ctx(doc: Doc) -> PostingContext | None:
    ctx = doc._.skillsignal
    if ctx is None or ctx.error:
        return None
    return ctx


def _guard(ctx: PostingContext, step: str, fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception as exc:  # one posting's failure must not stop the batch
        ctx.error = f"{step}: {type(exc).__name__}: {exc}"
        log.debug("extraction step %s failed for %s\n%s", step, ctx.posting.id, traceback.format_exc())


class _Component:
    step = "component"
    #: attributes that initialize() must have set before the component runs
    needs: tuple[str, ...] = ()

    def __init__(self, name: str) -> None:
        self.name = name

    def _check_initialized(self) -> None:
        missing = [a for a in self.needs if getattr(self, a, None) is None]
        if missing:
            raise RuntimeError(
                f"{self.name} is not initialized ({', '.join(missing)} missing): call "
                f"nlp.get_pipe({self.name!r}).initialize(...) or nlp.spacy_pipeline.initialize_pipeline(nlp, ...)"
            )

    def __call__(self, doc: Doc) -> Doc:
        self._check_initialized()
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
        self._check_initialized()
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._run(batch)
                batch = []
        if batch:
            yield from self._run(batch)

    def __call__(self, doc: Doc) -> Doc:
        self._check_initialized()
        return next(iter(self._run([doc])))

    def _run(self, docs: list[Doc]) -> list[Doc]:
        live = [(d, c) for d in docs if (c := _ctx(d)) is not None]
        if live:
            try:
                self.process_batch(live)
            except Exception as exc:  # fall back to one by one so only the bad doc fails
                log.debug("batch step %s failed (%s); retrying one by one", self.step, exc)
                for d, c in live:
                    _guard(c, self.step, partial(self.process_batch, [(d, c)]))
        return docs

    def process_batch(self, items: list[tuple[Doc, PostingContext]]) -> None:  # pragma: no cover
        raise NotImplementedError


# ---------------------------------------------------------------------------- steps


class Sections(_Component):
    step = "sections"

    def process(self, doc: Doc, ctx: PostingContext) -> None:
        doc._.sections = split_sections(ctx.text)
        tags = [t for t in ctx.posting.tags if t]
        if tags:  # employer tags: one extra requirement "sentence", read on its own
            text = "、".join(tags)
            doc._.tag_sentence = Sentence(text, 0, len(text), "requirements", False)


class Skills(_Component):
    step = "skills"
    needs = ("finder",)
    finder: SkillFinder  # set by initialize()

    def initialize(
        self, get_examples: Callable | None = None, *, nlp: Language | None = None, finder: SkillFinder
    ) -> None:
        self.finder = finder

    def process(self, doc: Doc, ctx: PostingContext) -> None:
        finder = self.finder
        sentences = doc._.sections
        found = doc._.skill_hits = finder.find(ctx.text, sentences)
        finder.find_typos(ctx.text, sentences, found)
        tag_sentence = doc._.tag_sentence
        if tag_sentence is not None:
            extra = finder.find(tag_sentence.text, [tag_sentence])
            for hit in extra.hits:
                hit.sentence = -1
                hit.start = hit.end = -1
                found.hits.append(hit)


def lexical_agreement(term: str, forms: list[str], min_dice: float, min_ratio: float) -> bool:
    """The term is written like one of the skill's Latin forms: similar length and character
    bigrams (guards the embedding match against look-alike acronyms: LVM is not LLVM)."""
    tb = alnum_bigrams(term)
    for form in forms:
        fb = alnum_bigrams(form)
        if written_alike(term, form, len(tb & fb), len(tb), len(fb), min_dice, min_ratio):
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


_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN_TERM = re.compile(r"[A-Za-z][A-Za-z0-9+#.\-]{2,}")


class SkillEmbeddings(_BatchComponent):
    """Unknown Latin terms in Chinese sentences mapped to the nearest skill name: kept when the
    cosine clears ``threshold`` and the term is written like the skill's name
    (``lexical_agreement`` with ``min_dice`` / ``min_ratio``). Terms repeat across postings, so
    the embedder's cache serves most."""

    step = "skill_embeddings"
    needs = ("taxonomy", "embedder", "skill_ids", "skill_vectors", "latin_forms")
    # set by initialize()
    taxonomy: Taxonomy
    embedder: Embedder
    skill_ids: list[str]
    skill_vectors: np.ndarray
    latin_forms: LatinFormIndex

    def __init__(self, name: str, *, threshold: float, min_length: int, min_dice: float, min_ratio: float) -> None:
        super().__init__(name)
        self.threshold = threshold
        self.min_length = min_length
        self.min_dice = min_dice
        self.min_ratio = min_ratio

    def initialize(
        self,
        get_examples: Callable | None = None,
        *,
        nlp: Language | None = None,
        taxonomy: Taxonomy,
        embedder: Embedder,
        vector_cache_dir: Path | None = None,
    ) -> None:
        """One vector per skill, from its Chinese and English names (read from
        ``vector_cache_dir`` when computed before)."""
        self.taxonomy = taxonomy
        self.embedder = embedder
        ids, texts = [], []
        for skill in taxonomy.skills.values():
            ids.append(skill.id)
            texts.append(skill.name_en if skill.name_en == skill.name_zh else f"{skill.name_zh} {skill.name_en}")
        self.skill_ids = ids
        self.skill_vectors = FixedTextVectors(embedder, vector_cache_dir).encode_cached(texts, "query")
        self.latin_forms = LatinFormIndex(
            (f for skill in taxonomy.skills.values() for f in skill.surface_forms() if f.isascii()),
            alnum_bigrams,
            self.min_dice,
            self.min_ratio,
        )

    def process_batch(self, items: list[tuple[Doc, PostingContext]]) -> None:
        rules = load_term_rules()
        wanted: dict[str, list[tuple[FoundSkills, int, int, int, bool]]] = {}
        for doc, _ in items:
            found = doc._.skill_hits
            covered = _Spans(found.covered)
            for index, sent in enumerate(doc._.sections):
                if sent.boilerplate or not _HAN.search(sent.text):
                    continue
                for m in _LATIN_TERM.finditer(sent.text):
                    term = m.group(0).rstrip(".-")
                    a = sent.start + m.start()
                    b = a + len(term)
                    if len(term) < self.min_length or covered.overlaps(a, b):
                        continue
                    if term.casefold() in rules.latin_stop:
                        continue
                    if not technical_latin(term, True, rules):
                        continue
                    wanted.setdefault(term, []).append((found, a, b, index, sent.preferred))
        # a term written like no skill's Latin form can never be kept: not embedded
        terms = [t for t in wanted if self.latin_forms.can_agree(t)]
        ids, vecs = self.skill_ids, self.skill_vectors
        if not terms or not len(ids):
            return
        sims = self.embedder.encode(terms, kind="query") @ vecs.T
        best = sims.argmax(axis=1)
        for i, term in enumerate(terms):
            score = float(sims[i, best[i]])
            if score < self.threshold:
                continue
            skill = self.taxonomy.skills[ids[int(best[i])]]
            forms = [f for f in skill.surface_forms() if f.isascii()]
            if not lexical_agreement(term, forms, self.min_dice, self.min_ratio):
                continue
            for found, a, b, index, preferred in wanted[term]:
                found.hits.append(SkillHit(skill.id, term, a, b, index, preferred, round(score, 4), "embedding"))
                found.covered.append((a, b))


class NewTerms(_Component):
    step = "new_terms"
    needs = ("taxonomy", "finder")
    # set by initialize()
    taxonomy: Taxonomy
    finder: SkillFinder

    def initialize(
        self,
        get_examples: Callable | None = None,
        *,
        nlp: Language | None = None,
        taxonomy: Taxonomy,
        finder: SkillFinder,
    ) -> None:
        self.taxonomy = taxonomy
        self.finder = finder

    def process(self, doc: Doc, ctx: PostingContext) -> None:
        surface_index = self.taxonomy.surface_index
        never = self.finder.rules.never

        def is_known(term: str) -> bool:
            key = "".join(term.split()).casefold()
            return key in surface_index or key in never

        tokens = doc.user_data.get("skillsignal_words") or [(t.text, t.idx) for t in doc]
        found = doc._.skill_hits
        doc._.new_terms = dict(find_new_terms(ctx.text, doc._.sections, found.covered, is_known, tokens))


class LevelStep(_Component):
    step = "level"

    def process(self, doc: Doc, ctx: PostingContext) -> None:
        exp = ctx.posting.experience
        doc._.level = infer_level(ctx.title, exp.text, ctx.text, exp.years_min)


def skill_evidence(sentences: list[Sentence], found: FoundSkills) -> list[SkillEvidence]:
    """Each skill hit with the part of the posting it sits in: the main duty (the first duty
    sentence), other duties, requirements, or a preferred extra."""
    first_duty = next((i for i, s in enumerate(sentences) if s.kind == "duties"), None)
    out = []
    for hit in found.hits:
        if hit.preferred:
            section = "preferred"
        elif hit.sentence == first_duty and first_duty is not None:
            section = "main_duty"
        elif 0 <= hit.sentence < len(sentences) and sentences[hit.sentence].kind == "duties":
            section = "duties"
        else:
            section = "requirements"
        out.append(SkillEvidence(hit.skill_id, section))
    return out


def duty_texts(sentences: list[Sentence]) -> list[str]:
    """The duty sentences, or, in a posting without a duty section, every sentence that is not
    boilerplate: what the occupation's anchors are looked for in."""
    duties = [s.text for s in sentences if s.kind == "duties"]
    return duties or [s.text for s in sentences if not s.boilerplate]


def occupation_sentences(sentences: list[Sentence], title: str, limit: int, chars: int) -> list[str]:
    """What stands for the posting against the occupations' profiles: its first ``limit`` duty
    sentences, each cut to ``chars`` (the title when it has none)."""
    duties = [s.text.strip()[:chars] for s in sentences if s.kind == "duties" and len(s.text.strip()) >= 6]
    return duties[:limit] or [title]


class Occupation(_BatchComponent):
    """Occupation per posting. With embeddings, one model call for the batch embeds each
    posting's title and main duty (short: one text per posting)."""

    step = "occupation"
    needs = ("occupation_scorer",)
    occupation_scorer: OccupationScorer  # set by initialize()

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.embedder: Embedder | None = None
        #: per occupation (and look-alike), one row per text of its profile
        self.profile_vectors: dict[str, np.ndarray] = {}

    def initialize(
        self,
        get_examples: Callable | None = None,
        *,
        nlp: Language | None = None,
        occupation_scorer: OccupationScorer,
        embedder: Embedder | None = None,
        vector_cache_dir: Path | None = None,
    ) -> None:
        """With an embedder, the vectors of every occupation's profile (definition, directions,
        work contents; :meth:`OccupationScorer.profiles`), read from ``vector_cache_dir`` when
        computed before."""
        self.occupation_scorer = occupation_scorer
        self.embedder = embedder
        self.profile_vectors = {}
        if embedder is None:
            return
        profiles = occupation_scorer.profiles()
        flat = [t for texts in profiles.values() for t in texts]
        vecs = FixedTextVectors(embedder, vector_cache_dir).encode_cached(flat, "passage")
        pos = 0
        for code, texts in profiles.items():
            self.profile_vectors[code] = vecs[pos : pos + len(texts)]
            pos += len(texts)

    def process_batch(self, items: list[tuple[Doc, PostingContext]]) -> None:
        scorer = self.occupation_scorer
        for doc, ctx in items:
            doc._.occupation = scorer.decide(
                ctx.title, skill_evidence(doc._.sections, doc._.skill_hits), duties=duty_texts(doc._.sections)
            )
        if self.embedder is None or not scorer.weights.get("embedding", 0):
            return
        # The similarity term moves the gap between two candidates by at most the posting's
        # swing (0 when it re-ranks fewer than two, or the posting is "other" by its evidence):
        # a posting whose lead is larger cannot change its answer, so only close calls are embedded.
        close = [
            (doc, ctx)
            for doc, ctx in items
            if scorer.margin(doc._.occupation) <= scorer.embedding_swing(doc._.occupation)
        ]
        if not close:
            return
        limit = int(scorer.rules.get("embed_duty_sentences", 2))
        chars = int(scorer.rules.get("embed_sentence_chars", 80))
        occ = self.profile_vectors
        texts = [occupation_sentences(doc._.sections, ctx.title, limit, chars) for doc, ctx in close]
        vecs = self.embedder.encode([t for group in texts for t in group], kind="query")
        pos = 0
        for (doc, ctx), group in zip(close, texts, strict=True):
            sent = vecs[pos : pos + len(group)]
            pos += len(group)
            # per occupation: the mean over the duty sentences of the best-matching statement
            sims = {code: float((sent @ mat.T).max(axis=1).mean()) for code, mat in occ.items() if len(mat)}
            doc._.occupation = scorer.decide(
                ctx.title, skill_evidence(doc._.sections, doc._.skill_hits), sims, duties=duty_texts(doc._.sections)
            )


class Competencies(_BatchComponent):
    """Competency statements of the chosen occupation, sentence by sentence
    (:mod:`nlp.competencies`). With embeddings and ``max_sentences`` > 0, the first ``max_sentences``
    read sentences of every posting of the batch (duties first, cut to ``max_sentence_chars``) are
    embedded in one model call; further sentences are read lexically only."""

    step = "competencies"
    needs = ("matcher",)
    matcher: CompetencyMatcher  # set by initialize()

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.embedder: Embedder | None = None
        self.statement_vectors: FixedTextVectors | None = None

    def initialize(
        self,
        get_examples: Callable | None = None,
        *,
        nlp: Language | None = None,
        matcher: CompetencyMatcher,
        embedder: Embedder | None = None,
        vector_cache_dir: Path | None = None,
    ) -> None:
        """With an embedder, the vectors of every statement the matcher may embed-compare
        (read from ``vector_cache_dir`` when computed before)."""
        self.matcher = matcher
        self.embedder = embedder
        self.statement_vectors = None
        if embedder is not None:
            self.statement_vectors = FixedTextVectors(embedder, vector_cache_dir)
            matcher.warm(self.statement_vectors)

    def process_batch(self, items: list[tuple[Doc, PostingContext]]) -> None:
        matcher = self.matcher
        rules = matcher.rules
        todo = []
        for doc, ctx in items:
            decision = doc._.occupation
            occ = decision.match if decision else None
            if occ is None or not matcher.candidates(occ.code, doc._.level, occ.direction):
                continue
            per_sentence: dict[int, set[str]] = {}
            for hit in doc._.skill_hits.hits:
                per_sentence.setdefault(hit.sentence, set()).add(hit.skill_id)
            sents = posting_sentences(ctx.posting.description, doc._.sections, per_sentence, rules.min_sentence_chars)
            if sents:
                todo.append((doc, occ, sents))
        if not todo:
            return
        if self.embedder is None or rules.max_sentences == 0:
            for doc, occ, sents in todo:
                doc._.competencies = matcher.match(occ.code, doc._.level, occ.direction, sents)
            return
        chars = rules.max_sentence_chars
        embedded = []
        for _, _, sents in todo:
            # duties first, then the rest in text order (a stable sort keeps the text order)
            order = sorted(range(len(sents)), key=lambda i: sents[i].kind != "duties")[: rules.max_sentences]
            embedded.append(sorted(order))
        flat = [todo[k][2][i].text[:chars] for k, order in enumerate(embedded) for i in order]
        vecs = self.embedder.encode(flat, kind="query")
        pos = 0
        for (doc, occ, sents), order in zip(todo, embedded, strict=True):
            rows = vecs[pos : pos + len(order)]
            pos += len(order)
            doc._.competencies = matcher.match(
                occ.code,
                doc._.level,
                occ.direction,
                sents,
                sentence_vectors=dict(zip(order, rows, strict=True)),
                resources=self.statement_vectors,
            )


# ---------------------------------------------------------------------------- factories
# Settings a config can hold go in default_config (typed, validated by spaCy); the objects a
# component works with arrive in its initialize().

_POSTING = "doc._.skillsignal"


@Language.factory("skillsignal_sections", requires=[_POSTING], assigns=["doc._.sections", "doc._.tag_sentence"])
def make_sections(nlp: Language, name: str) -> Sections:
    return Sections(name)


@Language.factory(
    "skillsignal_skills", requires=[_POSTING, "doc._.sections", "doc._.tag_sentence"], assigns=["doc._.skill_hits"]
)
def make_skills(nlp: Language, name: str) -> Skills:
    return Skills(name)


@Language.factory(
    "skillsignal_skill_embeddings",
    requires=[_POSTING, "doc._.sections", "doc._.skill_hits"],
    assigns=["doc._.skill_hits"],
    default_config={"threshold": 0.94, "min_length": 5, "min_dice": 0.5, "min_ratio": 0.7},
)
def make_skill_embeddings(
    nlp: Language, name: str, threshold: float, min_length: int, min_dice: float, min_ratio: float
) -> SkillEmbeddings:
    return SkillEmbeddings(name, threshold=threshold, min_length=min_length, min_dice=min_dice, min_ratio=min_ratio)


@Language.factory(
    "skillsignal_new_terms", requires=[_POSTING, "doc._.sections", "doc._.skill_hits"], assigns=["doc._.new_terms"]
)
def make_new_terms(nlp: Language, name: str) -> NewTerms:
    return NewTerms(name)


@Language.factory("skillsignal_level", requires=[_POSTING], assigns=["doc._.level"])
def make_level(nlp: Language, name: str) -> LevelStep:
    return LevelStep(name)


@Language.factory(
    "skillsignal_occupation", requires=[_POSTING, "doc._.sections", "doc._.skill_hits"], assigns=["doc._.occupation"]
)
def make_occupation(nlp: Language, name: str) -> Occupation:
    return Occupation(name)


@Language.factory(
    "skillsignal_competencies",
    requires=[_POSTING, "doc._.sections", "doc._.skill_hits", "doc._.level", "doc._.occupation"],
    assigns=["doc._.competencies"],
)
def make_competencies(nlp: Language, name: str) -> Competencies:
    return Competencies(name)
