"""The competency statements of the standards that a posting's duty and requirement sentences ask for.

Sentence by sentence, each sentence is scored against the statements of the posting's occupation:

* **Candidates — the level and direction rule.** The standards' higher levels include the lower
  ones, so a posting of level L may get statements of L and every level below; work written one
  level up is also what postings ask for (a 初级 posting naming 目标检测 asks for the 中级
  statement on it), so statements up to ``max_levels_above`` levels higher are candidates too —
  the bundled rule is one: a 初级 posting may get 中级 but never 高级 statements. Each level
  below costs ``level_penalty`` and each level above ``above_penalty``, so where a sentence fits
  statements of several levels equally (the same work content at growing depth) the posting's
  own level wins, then the nearest below. A statement written for another direction of the
  occupation than the posting's (when the direction is known) loses ``direction_penalty``;
  statements without a direction serve every direction. :func:`allowed_levels` states the rule.
* **Lexical signal** (always). A statement's terms are its words (jieba, stop words out), the
  taxonomy skills its text names, and curated ``keywords`` per statement id; each term is weighted
  by its inverse document frequency over all statements of the taxonomy (so 算法 or 模型 weigh
  little, 目标检测 or Kafka much). A sentence's lexical score is the weight of the terms it
  contains over the smaller of ``term_saturation`` × the statement's total weight and
  ``term_saturation_weight``, plus ``skill_bonus`` per taxonomy skill the sentence names and the
  statement's text names, capped at 1. Latin terms match whole tokens only.
* **Embedding signal** (when the model is on). The cosine of the sentence (``query``) and the
  statement (``passage``), mapped from [``cosine_low``, ``cosine_high``] onto [0, 1] — e5 cosines
  are compressed into 0.75–0.95 — and mixed with the lexical score by ``embedding_weight``.
* **Decision** (``decision: learned``, the default). Boosted trees over features of each
  (sentence, statement) pair (:data:`FEATURES`) give a probability; a sentence gets the statements
  that reach the model's threshold (at most ``max_per_sentence``), and where it matches the same
  work at several levels equally well, the posting's own level first (:meth:`CompetencyMatcher.own_level_first`).
  Among the features, what the gold's labelled sentences naming the same taxonomy skills carried
  (:class:`SkillLinks`: counted per skill, so it carries across employers where sentences do not).
  Fitted on the competency gold and cross-validated with an employer's postings kept in one fold
  (``benchmarks/bench_competencies.py --cv``).
* **Decision** (``decision: rule``). Per sentence, the best statement is kept when its score (penalties included)
  reaches ``threshold`` (``lexical_threshold`` for a sentence read without a vector) and leads
  the best statement that is not the same work at another level by ``margin``; further
  statements are kept when they reach the threshold and ``second_ratio`` of the best, up to
  ``max_per_sentence`` (a sentence may ask for several competencies).

A posting's competencies are the statements kept for any of its sentences; each carries its best
evidence sentence and every supporting sentence with code-point offsets into the posting's
``description`` as given (``None`` where cleaning changed the text beyond recognition).

All thresholds, weights, stop words and keywords live in ``nlp/data/competency_rules.yaml``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import rjieba
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from nlp.sections import Sentence
from nlp.skills import SkillFinder
from skillsignal.core.models import CompetencyMatch, EvidenceSpan

if TYPE_CHECKING:
    from skill_taxonomy import Taxonomy
    from skill_taxonomy.models import Competency

log = logging.getLogger(__name__)

RULES_PATH = Path(__file__).parent / "data" / "competency_rules.yaml"
LEVELS: tuple[str, ...] = ("初级", "中级", "高级")
LEVEL_ORDER = {lv: i for i, lv in enumerate(LEVELS)}
_CONTENT = re.compile(r"[A-Za-z0-9\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9+#.\-]*[A-Za-z0-9+#]|[A-Za-z]")
_READ_KINDS = frozenset({"duties", "requirements", "preferred", "body"})


#: The features of a (sentence, statement) pair the learned decision reads, in this order
#: (:meth:`CompetencyMatcher.features`). ``cosine`` and ``cosine_margin`` need the sentence's vector.
FEATURES: tuple[str, ...] = (
    "lexical",  # the lexical score (0..1, see above)
    "lexical_margin",  # lexical score minus the best rival statement's (not the same work at another level)
    "terms",  # how many of the statement's terms the sentence contains
    "shared_skills",  # taxonomy skills both name
    "direction_skill",  # 1 when the sentence names a skill of the statement's direction
    "levels_below",  # how many levels below the posting's the statement is
    "levels_above",  # how many levels above
    "direction_mismatch",  # 1 when the statement is written for another direction than the posting's
    "duty",  # 1 for a duty sentence, 0 for a requirement / preferred / un-headed one
    "coverage",  # share of the statement's total term weight the sentence contains (0..1)
    "top_term",  # the weight (IDF) of the most specific statement term the sentence contains
    "cosine",  # calibrated e5 cosine of sentence (query) and statement (passage), 0..1
    "cosine_margin",  # cosine minus the best rival statement's
    # --- the statement among the sentence's candidates, and the sentence itself
    "lexical_top",  # 1 when no candidate has a higher lexical score (ties: every tied one)
    "lexical_gap",  # lexical score minus the sentence's best lexical score (<= 0)
    "sentence_best",  # the sentence's best lexical score over all candidates (the 'none' gate)
    "sentence_skills",  # taxonomy skills the sentence names (capped at 3)
    "sentence_chars",  # ln(1 + letters/CJK characters of the sentence)
    "preferred",  # 1 for a preferred-extras (优先 / 加分) sentence
    "own_level",  # 1 when the statement is of the posting's level
    "function_terms",  # share of the term weight of the statement's function + work content found
    "function_best",  # best lexical score among candidates of the statement's function
    "function_top",  # 1 when the sentence's best lexical candidate is of the statement's function
    "cosine_top",  # 1 when no candidate has a higher cosine
    "cosine_gap",  # cosine minus the sentence's best cosine (<= 0)
    # --- what the gold's labelled sentences naming the same skills carried (SkillLinks)
    "skill_link",  # best over the sentence's skills: share of gold sentences naming it that carry the statement
    "skill_link_count",  # best over the sentence's skills: how many gold sentences naming it carry the statement
)
EMBEDDING_FEATURES = frozenset({"cosine", "cosine_margin", "cosine_top", "cosine_gap"})


#: a boosted-tree model packed into arrays (:meth:`LearnedDecision._packed`): split feature,
#: threshold, children, leaf value, roots, and the greatest depth
_PackedTrees = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]
#: per candidate set (:meth:`CompetencyMatcher._tables`): rivals, same function, function-title
#: vocabulary and its weights
_Tables = tuple[np.ndarray, np.ndarray, tuple[str, ...], np.ndarray]


class Tree(BaseModel):
    """One regression tree of a boosted ensemble, as parallel node arrays (node 0 is the root).
    An inner node sends x left when ``x[features[feature]] <= threshold``; a leaf (``left`` -1)
    adds ``value`` to the log-odds."""

    model_config = ConfigDict(extra="forbid")

    feature: list[int]
    threshold: list[float]
    left: list[int]
    right: list[int]
    value: list[float]

    @model_validator(mode="after")
    def _check(self) -> Tree:
        n = len(self.feature)
        if not n or any(len(a) != n for a in (self.threshold, self.left, self.right, self.value)):
            raise ValueError("a tree needs node arrays of one non-zero length")
        for i, (lo, hi) in enumerate(zip(self.left, self.right, strict=True)):
            if (lo == -1) != (hi == -1) or (lo != -1 and not (i < lo < n and i < hi < n)):
                raise ValueError(f"node {i}: children {lo}, {hi} do not form a tree of {n} nodes")
        return self


class LearnedDecision(BaseModel):
    """A learned probability over :data:`FEATURES` of each (sentence, statement) pair: a logistic
    regression, p = 1 / (1 + exp(-(intercept + coef · x))), or boosted trees (``trees``),
    p = 1 / (1 + exp(-(baseline + sum of the trees' leaf values))). With ``needs_evidence``, a pair
    with no lexical evidence (lexical score and function-title overlap both 0) gets p 0. A sentence
    gets the statements with p ≥ ``threshold`` (best first, at most ``max_per_sentence``; two
    levels of the same work only when ``same_work_levels``); a sentence where none reaches it
    abstains. The trees are read from ``trees_file`` (beside the rules file) by :func:`load_rules`."""

    model_config = ConfigDict(extra="forbid")

    features: list[str] = Field(min_length=1)
    coef: list[float] = Field(default_factory=list)
    intercept: float = 0.0
    trees: list[Tree] = Field(default_factory=list)
    baseline: float = 0.0
    needs_evidence: bool = False
    threshold: float = Field(gt=0, lt=1)
    max_per_sentence: int = Field(ge=1)
    #: whether one sentence may get the same work content at two levels (the gold's guideline lets
    #: the other level follow as a further label)
    same_work_levels: bool = False
    _packed_cache: tuple[list[Tree], _PackedTrees] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check(self) -> LearnedDecision:
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise ValueError(f"unknown features: {unknown}")
        if self.trees:
            if self.coef:
                raise ValueError("give coefficients or trees, not both")
            bad = sorted(
                {
                    f
                    for t in self.trees
                    for f, lo in zip(t.feature, t.left, strict=True)
                    if lo != -1 and not 0 <= f < len(self.features)
                }
            )
            if bad:
                raise ValueError(f"trees split on feature indices {bad} of {len(self.features)} features")
        elif len(self.coef) != len(self.features):
            raise ValueError(f"{len(self.coef)} coefficients for {len(self.features)} features")
        return self

    @property
    def needs_vectors(self) -> bool:
        return bool(EMBEDDING_FEATURES & set(self.features))

    def _packed(self) -> _PackedTrees:
        """The trees' nodes in one set of arrays: split feature, threshold, children (left, right of
        node k at 2k, 2k + 1, global indices; a leaf is its own child), leaf value; the roots, and
        the greatest depth."""
        cached = self._packed_cache
        if cached is not None and cached[0] is self.trees:
            return cached[1]
        feat: list[int] = []
        thr: list[float] = []
        children: list[int] = []
        value: list[float] = []
        roots: list[int] = []
        depth = 0
        for t in self.trees:
            off = len(feat)
            roots.append(off)
            deep = [0] * len(t.feature)
            for i, (lo, hi) in enumerate(zip(t.left, t.right, strict=True)):
                leaf = lo == -1
                feat.append(0 if leaf else t.feature[i])
                children += [off + i, off + i] if leaf else [off + lo, off + hi]
                if not leaf:
                    deep[lo] = deep[hi] = deep[i] + 1  # children follow their parent
            thr += t.threshold
            value += t.value
            depth = max(depth, max(deep))
        packed: _PackedTrees = (
            np.asarray(feat, np.intp),
            np.asarray(thr, np.float64),
            np.asarray(children, np.intp),
            np.asarray(value, np.float64),
            np.asarray(roots, np.intp),
            depth,
        )
        self._packed_cache = (self.trees, packed)
        return packed

    def log_odds(self, x: np.ndarray) -> np.ndarray:
        """The model's log-odds for an array of shape (..., len(FEATURES))."""
        idx = [FEATURES.index(f) for f in self.features]
        xs = np.asarray(x[..., idx], np.float64)
        if not self.trees:
            return xs @ np.asarray(self.coef, np.float64) + self.intercept
        flat = xs.reshape(-1, len(idx))
        feat, thr, children, value, roots, depth = self._packed()
        node = np.broadcast_to(roots, (len(flat), len(roots))).copy()
        base = (np.arange(len(flat)) * len(idx))[:, None]
        values = flat.ravel()
        for _ in range(depth):  # every tree of every pair one level down (a leaf points at itself)
            right = values[base + feat[node]] > thr[node]
            node = children[node * 2 + right]
        z = np.full(len(flat), self.baseline, np.float64)
        for t in range(len(roots)):  # a fixed order of additions: the same sum on every CPU
            z += value[node[:, t]]
        return z.reshape(xs.shape[:-1])

    def probability(self, x: np.ndarray) -> np.ndarray:
        """p for an array of shape (..., len(FEATURES))."""
        if not self.needs_evidence:
            return 1.0 / (1.0 + np.exp(-self.log_odds(x)))
        evidence = (x[..., FEATURES.index("lexical")] > 0) | (x[..., FEATURES.index("function_terms")] > 0)
        p = np.zeros(evidence.shape, np.float64)
        if evidence.any():  # only the pairs with evidence are scored (most pairs share no term)
            p[evidence] = 1.0 / (1.0 + np.exp(-self.log_odds(x[evidence])))
        return p


class SkillLinks(BaseModel):
    """Which statements the competency gold's labelled sentences carry when they name a taxonomy
    skill: ``sentences[skill]`` labelled sentences name the skill, ``statements[skill][id]`` of
    them carry statement ``id``. Skills recur across employers where sentences do not (a
    Verilog requirement asks for the IC verification statement whoever writes it), so the link
    is learned per skill, never per sentence. Counted by ``benchmarks/bench_competencies.py
    --write`` into ``competency_skill_links.json``; cross-validation counts it from the training
    folds only, leaving each training posting's own employer out (:meth:`minus`)."""

    model_config = ConfigDict(extra="forbid")

    sentences: dict[str, int] = Field(default_factory=dict)
    statements: dict[str, dict[str, int]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> SkillLinks:
        for skill, carried in self.statements.items():
            n = self.sentences.get(skill, 0)
            bad = {sid: c for sid, c in carried.items() if not 0 < c <= n}
            if bad:
                raise ValueError(f"skill {skill!r}: statement counts {bad} outside 1..{n} (its sentences)")
        if any(n < 0 for n in self.sentences.values()):
            raise ValueError("sentence counts must not be negative")
        return self

    @classmethod
    def count(cls, labelled: Iterable[tuple[Iterable[str], Iterable[str]]]) -> SkillLinks:
        """From (skills the sentence names, statement ids it carries) per labelled sentence."""
        sentences: dict[str, int] = {}
        statements: dict[str, dict[str, int]] = {}
        for skills, ids in labelled:
            ids = set(ids)
            for skill in set(skills):
                sentences[skill] = sentences.get(skill, 0) + 1
                for sid in ids:
                    carried = statements.setdefault(skill, {})
                    carried[sid] = carried.get(sid, 0) + 1
        return cls(sentences=sentences, statements=statements)

    def minus(self, other: SkillLinks) -> SkillLinks:
        """These counts without ``other``'s (counted from a subset of the same sentences)."""
        sentences = {k: n - other.sentences.get(k, 0) for k, n in self.sentences.items()}
        statements: dict[str, dict[str, int]] = {}
        for skill, carried in self.statements.items():
            theirs = other.statements.get(skill, {})
            left = {sid: c - theirs.get(sid, 0) for sid, c in carried.items() if c > theirs.get(sid, 0)}
            if left:
                statements[skill] = left
        return SkillLinks(sentences={k: n for k, n in sentences.items() if n > 0}, statements=statements)

    def features(self, sentences: Sequence[SentenceInput], statements: Sequence[Statement]) -> np.ndarray:
        """(sentences x statements x 2): over the sentence's skills, the best share ``carried /
        (sentences + 1)`` (the + 1 keeps a skill seen once from counting as certain) and the best
        count of gold sentences that carry the statement."""
        out = np.zeros((len(sentences), len(statements), 2), np.float64)
        col = {st.id: j for j, st in enumerate(statements)}
        for i, sent in enumerate(sentences):
            for skill in sorted(sent.skills):
                n = self.sentences.get(skill, 0)
                for sid, c in self.statements.get(skill, {}).items():
                    j = col.get(sid)
                    if j is not None:
                        out[i, j, 0] = max(out[i, j, 0], c / (n + 1))
                        out[i, j, 1] = max(out[i, j, 1], float(c))
        return out


class CompetencyRules(BaseModel):
    """Schema of ``competency_rules.yaml``."""

    model_config = ConfigDict(extra="forbid")

    min_sentence_chars: int = Field(ge=1)
    max_sentences: int = Field(ge=0)
    max_sentence_chars: int = Field(ge=8)
    level_penalty: float = Field(ge=0)
    max_levels_above: int = Field(ge=0, le=2)
    above_penalty: float = Field(ge=0)
    direction_penalty: float = Field(ge=0)
    term_saturation: float = Field(gt=0, le=1)
    term_saturation_weight: float = Field(gt=0)
    skill_bonus: float = Field(ge=0)
    direction_skill_bonus: float = Field(ge=0)
    stop_words: list[str] = Field(default_factory=list)
    keywords: dict[str, list[str]] = Field(default_factory=dict)
    cosine_low: float
    cosine_high: float
    embedding_weight: float = Field(ge=0, le=1)
    threshold: float
    lexical_threshold: float
    margin: float = Field(ge=0)
    second_ratio: float = Field(gt=0, le=1)
    max_per_sentence: int = Field(ge=1)
    #: which decision labels a sentence: the hand-set threshold rule above, or ``lexical_model`` /
    #: ``embedding_model`` (the learned decision; requires ``lexical_model``)
    decision: Literal["rule", "learned"] = "rule"
    #: the learned decision for sentences read lexically
    lexical_model: LearnedDecision | None = None
    #: the learned decision for sentences with a vector (None: ``lexical_model`` serves them too)
    embedding_model: LearnedDecision | None = None
    #: the gold's skill-to-statement counts (``skill_links_file`` beside the rules; None: the
    #: skill_link features are 0)
    skill_links: SkillLinks | None = None

    @model_validator(mode="after")
    def _check_models(self) -> CompetencyRules:
        if self.lexical_model is not None and self.lexical_model.needs_vectors:
            raise ValueError("lexical_model may not read cosine features")
        if self.decision == "learned" and self.lexical_model is None:
            raise ValueError("decision 'learned' needs a lexical_model")
        return self


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> CompetencyRules:
    """The rules file, with each learned model's ``trees_file`` and the ``skill_links_file``
    (JSON beside it) read in."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "skill_links_file" in data:
        data["skill_links"] = json.loads((path.parent / data.pop("skill_links_file")).read_text(encoding="utf-8"))
    for key in ("lexical_model", "embedding_model"):
        model = data.get(key)
        if isinstance(model, dict) and "trees_file" in model:
            model = dict(model)
            trees = json.loads((path.parent / model.pop("trees_file")).read_text(encoding="utf-8"))
            data[key] = {**model, **trees}
    return CompetencyRules.model_validate(data)


def allowed_levels(level: str, above: int = 0) -> tuple[str, ...]:
    """Statement levels a posting of ``level`` may get: its own, every lower one (the standards'
    higher levels include the lower ones), and at most ``above`` levels higher (the rules'
    ``max_levels_above``). An unknown level is read as 初级."""
    return LEVELS[: LEVEL_ORDER.get(level, 0) + 1 + above]


@lru_cache(maxsize=1)
def _cut():
    return lambda text: rjieba.cut(text, False)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=65536)
def _kept_chars(ch: str) -> str:
    """The letters and digits one raw character becomes (NFKC, case-folded), for :class:`RawLocator`."""
    return "".join(c for c in _norm(ch) if c.isalnum())


@lru_cache(maxsize=8192)
def _term_pattern(term: str) -> re.Pattern[str] | None:
    """A Latin term matches only as a whole token (``go`` not inside ``google``); others as substrings."""
    if not term.isascii():
        return None
    return re.compile(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])")


def contains(text: str, term: str) -> bool:
    """Whether normalised ``text`` holds ``term``."""
    if term not in text:
        return False
    pattern = _term_pattern(term)
    return pattern is None or pattern.search(text) is not None


def _words(text: str, stop: frozenset[str]) -> set[str]:
    """Content words of a statement text: jieba tokens of two or more CJK characters and Latin
    words, case-folded, stop words out."""
    out: set[str] = set()
    for tok in _cut()(_norm(text)):
        tok = tok.strip()
        if not tok or tok in stop:
            continue
        if _LATIN.fullmatch(tok) or (len(tok) >= 2 and _CONTENT.search(tok)):
            out.add(tok)
    return out


@dataclass(frozen=True)
class Statement:
    """A competency statement with what the matcher reads of it."""

    id: str
    text: str
    level: str
    occupation: str
    function: str
    work_content: str
    direction: str | None
    #: term (case-folded surface string) -> IDF weight
    terms: dict[str, float]
    total: float
    #: taxonomy skill id -> IDF weight
    skills: dict[str, float]
    #: skills the taxonomy links to the statement's occupation and direction (empty: no direction)
    direction_skills: frozenset[str] = frozenset()
    #: terms of its function and work-content titles (case-folded) -> IDF weight over all statements
    function_terms: tuple[tuple[str, float], ...] = ()

    @property
    def group(self) -> tuple[str, str]:
        return self.function, self.work_content


@dataclass(frozen=True)
class SentenceInput:
    """One sentence of a posting: its text, its span in the posting's ``description`` (``None``
    when unknown), and the taxonomy skills found in it."""

    text: str
    start: int | None = None
    end: int | None = None
    skills: frozenset[str] = frozenset()
    kind: str = "requirements"


class RawLocator:
    """Finds sentences of the cleaned text in the raw text: both compared as NFKC, case-folded
    letters and digits only, searched left to right; a span runs from the sentence's first to its
    last letter or digit in the raw text."""

    def __init__(self, raw: str) -> None:
        chars: list[str] = []
        where: list[int] = []
        for i, ch in enumerate(raw):
            for c in _kept_chars(ch):
                chars.append(c)
                where.append(i)
        self.compact = "".join(chars)
        self.where = where
        self.cursor = 0

    def locate(self, sentence: str) -> tuple[int | None, int | None]:
        key = "".join(c for c in _norm(sentence) if c.isalnum())
        if not key:
            return None, None
        at = self.compact.find(key, self.cursor)
        if at < 0:
            at = self.compact.find(key)
            if at < 0:
                return None, None
        else:
            self.cursor = at + len(key)
        return self.where[at], self.where[at + len(key) - 1] + 1


def posting_sentences(
    raw: str, sentences: Sequence, skills_by_sentence: dict[int, set[str]], min_chars: int
) -> list[SentenceInput]:
    """The sentences a posting's competencies are read from: duties, requirements, preferred extras
    and un-headed text (never company, benefits or contact), with their raw spans."""
    locator = RawLocator(raw)
    out: list[SentenceInput] = []
    for index, sent in enumerate(sentences):
        if sent.kind not in _READ_KINDS:
            continue
        text = sent.text.strip()
        if len(_CONTENT.findall(text)) < min_chars:
            continue
        start, end = locator.locate(text)
        out.append(SentenceInput(text, start, end, frozenset(skills_by_sentence.get(index, ())), sent.kind))
    return out


def _document_frequency(documents: list[set[str]]) -> dict[str, int]:
    """In how many of the documents (term sets) each term occurs."""
    df: dict[str, int] = {}
    for terms in documents:
        for t in terms:
            df[t] = df.get(t, 0) + 1
    return df


class CompetencyMatcher:
    """Scores sentences against the statements of one taxonomy (built once per extractor)."""

    def __init__(self, taxonomy: Taxonomy, rules: CompetencyRules | None = None, finder=None) -> None:
        self.taxonomy = taxonomy
        self.rules = rules or load_rules()
        self._finder = finder
        self._vectors: dict[str, np.ndarray] = {}
        #: per (occupation, level, direction); kept on the matcher (an lru_cache on the method kept
        #: dropped matchers alive), as are the tables below
        self._candidate_cache: dict[tuple[str, str, str | None], list[tuple[Statement, float]]] = {}
        self._tables_cache: dict[tuple[str, str, str | None], _Tables] = {}
        self._statements = self._build()
        by_occ: dict[str, list[Statement]] = {}
        for st in self._statements:
            by_occ.setdefault(st.occupation, []).append(st)
        self._by_occ = by_occ

    # ------------------------------------------------------------------ statements

    def _statement_skills(self, text: str) -> frozenset[str]:
        finder = self._finder
        if finder is None:
            finder = self._finder = SkillFinder(self.taxonomy)
        found = finder.find(text, [Sentence(text, 0, len(text), "requirements", False)])
        return frozenset(h.skill_id for h in found.hits)

    def _build(self) -> list[Statement]:
        stop = frozenset(_norm(w) for w in self.rules.stop_words)
        self._log_unknown_keywords()
        raw = self._raw_statements(stop)
        by_direction = self._direction_skills()
        n = len(raw) or 1
        df = _document_frequency([terms | {f"skill:{s}" for s in skills} for *_, terms, skills in raw])
        group_terms = {id(comp): _words(f"{comp.function} {comp.work_content}", stop) for _, _, comp, _, _ in raw}
        gdf = _document_frequency(list(group_terms.values()))
        out = []
        for code, level, comp, terms, skills in raw:
            weights = {t: math.log(1 + n / df[t]) for t in sorted(terms)}
            fterms = tuple((t, math.log(1 + n / gdf[t])) for t in sorted(group_terms[id(comp)]))
            skill_w = {s: math.log(1 + n / df[f"skill:{s}"]) for s in sorted(skills)}
            out.append(
                Statement(
                    id=comp.id,
                    text=comp.text,
                    level=level,
                    occupation=code,
                    function=comp.function,
                    work_content=comp.work_content,
                    direction=comp.direction,
                    terms=weights,
                    total=sum(weights.values()) + sum(skill_w.values()),
                    skills=skill_w,
                    direction_skills=frozenset(by_direction.get((code, comp.direction or ""), ())),
                    function_terms=fterms,
                )
            )
        return out

    def _log_unknown_keywords(self) -> None:
        known = {c.id for occ in self.taxonomy.occupations.values() for cs in occ.levels.values() for c in cs}
        unknown = sorted(set(self.rules.keywords) - known)
        if unknown:
            log.debug("competency keywords for statements the taxonomy lacks: %s", ", ".join(unknown[:10]))

    def _raw_statements(self, stop: frozenset[str]) -> list[tuple[str, str, Competency, set[str], frozenset[str]]]:
        """(occupation, level, competency, its terms, its skills) for every statement of the taxonomy."""
        raw: list[tuple[str, str, Competency, set[str], frozenset[str]]] = []
        for code, occ in self.taxonomy.occupations.items():
            for level, comps in occ.levels.items():
                for comp in comps:
                    skills = self._statement_skills(comp.text)
                    terms = _words(comp.text, stop)
                    for kw in self.rules.keywords.get(comp.id, []):
                        terms.add(_norm(kw).strip())
                    for sid in skills:  # a skill's names count as one term: its canonical key
                        skill = self.taxonomy.skills.get(sid)
                        if skill is not None:
                            terms -= {_norm(f) for f in skill.surface_forms()}
                    raw.append((code, level, comp, terms, skills))
        return raw

    def _direction_skills(self) -> dict[tuple[str, str], set[str]]:
        """Skill ids per (occupation, direction) the taxonomy links."""
        by_direction: dict[tuple[str, str], set[str]] = {}
        for skill in self.taxonomy.skills.values():
            for link in skill.occupations:
                if link.direction:
                    by_direction.setdefault((link.occupation, link.direction), set()).add(skill.id)
        return by_direction

    def statements(self, code: str) -> list[Statement]:
        return self._by_occ.get(code, [])

    def candidates(self, code: str, level: str, direction: str | None) -> list[tuple[Statement, float]]:
        """The statements a posting may get, each with its prior (0 or a negative penalty)."""
        key = (code, level, direction)
        if key not in self._candidate_cache:
            self._candidate_cache[key] = self._candidates(code, level, direction)
        return self._candidate_cache[key]

    def _candidates(self, code: str, level: str, direction: str | None) -> list[tuple[Statement, float]]:
        rules = self.rules
        allowed = allowed_levels(level, rules.max_levels_above)
        own = LEVEL_ORDER.get(level, 0)
        out = []
        for st in self.statements(code):
            if st.level not in allowed:
                continue
            steps = LEVEL_ORDER[st.level] - own
            prior = -(rules.above_penalty * steps if steps > 0 else rules.level_penalty * -steps)
            if direction and st.direction and st.direction != direction:
                prior -= rules.direction_penalty
            out.append((st, prior))
        return out

    # ------------------------------------------------------------------ signals

    def lexical_parts(
        self, sentences: Sequence[SentenceInput], statements: Sequence[Statement]
    ) -> tuple[np.ndarray, ...]:
        """(sentences × statements) lexical scores in [0, 1], terms found, shared skills, whether
        the sentence names a skill of the statement's direction (0/1), the share of the
        statement's weight found, and the largest weight found."""
        rules = self.rules
        shape = (len(sentences), len(statements))
        out, n_terms, n_skills, dir_hit, cover, top = (np.zeros(shape, np.float64) for _ in range(6))
        # which statements each term and each skill can touch: a pair that none of the sentence's
        # terms or skills touches scores 0 in every part, so it is never visited
        by_term: dict[str, list[int]] = {}
        by_skill: dict[str, list[int]] = {}
        for j, st in enumerate(statements):
            if st.total <= 0:
                continue
            for t in st.terms:
                by_term.setdefault(t, []).append(j)
            for sk in st.skills.keys() | st.direction_skills:
                by_skill.setdefault(sk, []).append(j)
        for i, sent in enumerate(sentences):
            text = _norm(sent.text)
            present = {t for t in by_term if contains(text, t)}  # each term looked up once a sentence
            touched = {j for t in present for j in by_term[t]}
            touched.update(j for sk in sent.skills for j in by_skill.get(sk, ()))
            for j in sorted(touched):
                st = statements[j]
                hit = [w for t, w in st.terms.items() if t in present]
                shared = [w for s, w in st.skills.items() if s in sent.skills]
                got = sum(hit) + sum(shared)
                full = min(rules.term_saturation * st.total, rules.term_saturation_weight)
                bonus = rules.skill_bonus * len(shared)
                if sent.skills & st.direction_skills:
                    bonus += rules.direction_skill_bonus
                    dir_hit[i, j] = 1.0
                out[i, j] = min(1.0, got / full + bonus)
                n_terms[i, j] = len(hit)
                n_skills[i, j] = len(shared)
                cover[i, j] = got / st.total
                top[i, j] = max(hit + shared, default=0.0)
        return out, n_terms, n_skills, dir_hit, cover, top

    def lexical(self, sentences: Sequence[SentenceInput], statements: Sequence[Statement]) -> np.ndarray:
        """(sentences × statements) lexical scores in [0, 1]."""
        return self.lexical_parts(sentences, statements)[0]

    def calibrate(self, cosines: np.ndarray) -> np.ndarray:
        lo, hi = self.rules.cosine_low, self.rules.cosine_high
        return np.clip((cosines - lo) / (hi - lo), 0.0, 1.0)

    def warm(self, resources, force: bool = False) -> None:
        """Vectors for every statement of the taxonomy (one call, disk-cached); nothing to do when
        no sentence is embedded (``max_sentences`` 0) unless ``force``."""
        if self.rules.max_sentences == 0 and not force:
            return
        missing = [st for st in self._statements if st.id not in self._vectors]
        if missing:
            vecs = resources.encode_cached([st.text for st in missing], "passage")
            for st, vec in zip(missing, vecs, strict=True):
                self._vectors[st.id] = vec

    def statement_vectors(self, statements: Sequence[Statement], resources) -> np.ndarray:
        if any(st.id not in self._vectors for st in statements):
            self.warm(resources, force=True)
        return np.stack([self._vectors[st.id] for st in statements])

    # ------------------------------------------------------------------ decision

    def scores(
        self,
        code: str,
        level: str,
        direction: str | None,
        sentences: Sequence[SentenceInput],
        sentence_vectors: dict[int, np.ndarray] | None = None,
        resources=None,
    ) -> tuple[list[Statement], np.ndarray, np.ndarray, np.ndarray]:
        """(candidate statements, combined scores per sentence × statement before the prior, prior
        per statement, threshold per sentence). ``sentence_vectors`` maps a sentence's index to its
        vector; sentences without one are scored lexically, against ``lexical_threshold``."""
        rules = self.rules
        cands = self.candidates(code, level, direction)
        stmts = [st for st, _ in cands]
        prior = np.array([p for _, p in cands], np.float64)
        thresholds = np.full(len(sentences), rules.lexical_threshold, np.float64)
        if not stmts or not sentences:
            return stmts, np.zeros((len(sentences), len(stmts))), prior, thresholds
        combined = self.lexical(sentences, stmts)
        if sentence_vectors:
            rows = sorted(i for i in sentence_vectors if 0 <= i < len(sentences))
            mat = np.stack([np.asarray(sentence_vectors[i], np.float64) for i in rows])
            stmt_vecs = self.statement_vectors(stmts, resources).astype(np.float64)
            emb = self.calibrate(mat @ stmt_vecs.T)
            w = rules.embedding_weight
            combined[rows] = w * emb + (1 - w) * combined[rows]
            thresholds[rows] = rules.threshold
        return stmts, combined, prior, thresholds

    @staticmethod
    def _rivals(stmts: Sequence[Statement]) -> np.ndarray:
        """(statements × statements) True where k is a rival of j: another statement that is not
        the same work content at another level."""
        groups = [st.group for st in stmts]
        levels = [st.level for st in stmts]
        n = len(stmts)
        return np.array(
            [[k != j and not (groups[k] == groups[j] and levels[k] != levels[j]) for k in range(n)] for j in range(n)],
            dtype=bool,
        ).reshape(n, n)

    @staticmethod
    def _margin(values: np.ndarray, rivals: np.ndarray) -> np.ndarray:
        """values[i, j] minus the best value of j's rivals in row i (0 when j has none)."""
        # each column's rivals' values side by side (the others -inf), their best floored at 0
        masked = np.where(rivals[None, :, :], values[:, None, :], -np.inf)
        best = masked.max(axis=2, initial=-np.inf)
        return values - np.maximum(best, 0.0)

    def _tables(self, code: str, level: str, direction: str | None) -> _Tables:
        key = (code, level, direction)
        if key not in self._tables_cache:
            self._tables_cache[key] = self._build_tables(code, level, direction)
        return self._tables_cache[key]

    def _build_tables(self, code: str, level: str, direction: str | None) -> _Tables:
        """Per candidate set (cached): rivals (statements x statements), same function (statements x
        statements), the function-title vocabulary and its weights (statements x vocabulary, each
        row summing to 1)."""
        stmts = [st for st, _ in self.candidates(code, level, direction)]
        rivals = self._rivals(stmts)
        functions = np.array([st.function for st in stmts], dtype=object)
        same_fn = functions[:, None] == functions[None, :]
        vocab = sorted({t for st in stmts for t, _ in st.function_terms})
        col = {t: k for k, t in enumerate(vocab)}
        weights = np.zeros((len(stmts), len(vocab)), np.float64)
        for j, st in enumerate(stmts):
            total = sum(w for _, w in st.function_terms)
            for t, w in st.function_terms:
                weights[j, col[t]] = w / total
        return rivals, same_fn, tuple(vocab), weights

    def _function_terms(
        self, sentences: Sequence[SentenceInput], vocab: tuple[str, ...], weights: np.ndarray
    ) -> np.ndarray:
        """(sentences x statements) share of the IDF weight of each statement's function and
        work-content terms that the sentence contains."""
        present = np.zeros((len(sentences), len(vocab)), np.float64)
        for i, sent in enumerate(sentences):
            text = _norm(sent.text)
            present[i] = [contains(text, t) for t in vocab]
        return present @ weights.T

    def features(
        self,
        code: str,
        level: str,
        direction: str | None,
        sentences: Sequence[SentenceInput],
        sentence_vectors: dict[int, np.ndarray] | None = None,
        resources=None,
        links: SkillLinks | None = None,
    ) -> tuple[list[Statement], np.ndarray, np.ndarray]:
        """(candidate statements, features (sentences × statements × :data:`FEATURES`), whether
        each sentence has a vector). The cosine features are 0 for a sentence without one; the
        skill-link features read ``links`` (default: the rules' ``skill_links``)."""
        cands = self.candidates(code, level, direction)
        stmts = [st for st, _ in cands]
        x = np.zeros((len(sentences), len(stmts), len(FEATURES)), np.float64)
        has_vec = np.zeros(len(sentences), bool)
        if not stmts or not sentences:
            return stmts, x, has_vec
        rivals, same_fn, fvocab, fweights = self._tables(code, level, direction)
        lex, n_terms, n_skills, dir_hit, cover, top = self.lexical_parts(sentences, stmts)
        own = LEVEL_ORDER.get(level, 0)
        steps = np.array([LEVEL_ORDER[st.level] - own for st in stmts], np.float64)
        mismatch = np.array([float(bool(direction and st.direction and st.direction != direction)) for st in stmts])
        duty = np.array([float(s.kind == "duties") for s in sentences])
        f = FEATURES.index
        x[..., f("lexical")] = lex
        x[..., f("lexical_margin")] = self._margin(lex, rivals)
        x[..., f("terms")] = n_terms
        x[..., f("shared_skills")] = n_skills
        x[..., f("direction_skill")] = dir_hit
        x[..., f("levels_below")] = np.maximum(-steps, 0)[None, :]
        x[..., f("levels_above")] = np.maximum(steps, 0)[None, :]
        x[..., f("direction_mismatch")] = mismatch[None, :]
        x[..., f("duty")] = duty[:, None]
        x[..., f("coverage")] = cover
        x[..., f("top_term")] = top
        best = lex.max(axis=1, keepdims=True)
        x[..., f("lexical_top")] = (lex >= best - 1e-12) & (best > 0)
        x[..., f("lexical_gap")] = lex - best
        x[..., f("sentence_best")] = best
        x[..., f("sentence_skills")] = np.array([min(len(s.skills), 3) for s in sentences], np.float64)[:, None]
        x[..., f("sentence_chars")] = np.array([math.log1p(len(_CONTENT.findall(s.text))) for s in sentences])[:, None]
        x[..., f("preferred")] = np.array([float(s.kind == "preferred") for s in sentences])[:, None]
        x[..., f("own_level")] = (steps == 0).astype(np.float64)[None, :]
        x[..., f("function_terms")] = self._function_terms(sentences, fvocab, fweights)
        x[..., f("function_best")] = np.where(same_fn[None, :, :], lex[:, None, :], 0.0).max(axis=2)
        top_j = np.argmax(lex, axis=1)
        x[..., f("function_top")] = same_fn[top_j] & (best > 0)
        links = links if links is not None else self.rules.skill_links
        if links is not None:
            x[..., f("skill_link") : f("skill_link_count") + 1] = links.features(sentences, stmts)
        if sentence_vectors:
            rows = sorted(i for i in sentence_vectors if 0 <= i < len(sentences))
            if rows:
                mat = np.stack([np.asarray(sentence_vectors[i], np.float64) for i in rows])
                stmt_vecs = self.statement_vectors(stmts, resources).astype(np.float64)
                cos = self.calibrate(mat @ stmt_vecs.T)
                x[rows, :, f("cosine")] = cos
                x[rows, :, f("cosine_margin")] = self._margin(cos, rivals)
                cbest = cos.max(axis=1, keepdims=True)
                x[rows, :, f("cosine_top")] = cos >= cbest - 1e-12
                x[rows, :, f("cosine_gap")] = cos - cbest
                has_vec[rows] = True
        return stmts, x, has_vec

    def probabilities(
        self,
        code: str,
        level: str,
        direction: str | None,
        sentences: Sequence[SentenceInput],
        sentence_vectors: dict[int, np.ndarray] | None = None,
        resources=None,
    ) -> tuple[list[Statement], np.ndarray, np.ndarray]:
        """(candidate statements, p per sentence × statement, threshold per sentence) of the
        learned decision: ``embedding_model`` for sentences with a vector (when there is one),
        ``lexical_model`` for the rest."""
        rules = self.rules
        assert rules.lexical_model is not None
        use_vec = bool(sentence_vectors) and rules.embedding_model is not None
        stmts, x, has_vec = self.features(
            code, level, direction, sentences, sentence_vectors if use_vec else None, resources
        )
        prob = rules.lexical_model.probability(x)
        thresholds = np.full(len(sentences), rules.lexical_model.threshold)
        emb = rules.embedding_model
        if use_vec and emb is not None and has_vec.any():
            prob[has_vec] = emb.probability(x[has_vec])
            thresholds[has_vec] = emb.threshold
        if stmts:  # the level rule: equal evidence goes to the posting's own level first
            prob = self.own_level_first(stmts, level, prob, x[..., FEATURES.index("lexical")])
        return stmts, prob, thresholds

    @staticmethod
    def own_level_first(stmts: Sequence[Statement], level: str, prob: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        """``prob`` with the level rule applied: where a sentence matches the same work content at
        several levels equally well (the same lexical score), their probabilities are handed out in
        the rule's order - the highest to the posting's own level, then the nearest level below,
        the lower ones, then the levels above. Where the evidence differs, the model decides."""
        own = LEVEL_ORDER.get(level, 0)
        groups: dict[tuple[str, str], list[int]] = {}
        for j, st in enumerate(stmts):
            groups.setdefault(st.group, []).append(j)
        out = prob.copy()
        for members in groups.values():
            if len(members) < 2:
                continue
            order = sorted(
                members, key=lambda j: (LEVEL_ORDER[stmts[j].level] > own, abs(LEVEL_ORDER[stmts[j].level] - own))
            )
            for i in np.nonzero(prob[:, members].max(axis=1) > 0)[0]:  # rows where the group has a chance
                ties: dict[float, list[int]] = {}
                for j in order:
                    ties.setdefault(round(float(lexical[i, j]), 9), []).append(j)
                for tied in ties.values():
                    if len(tied) > 1:
                        out[i, tied] = -np.sort(-prob[i, tied])
        return out

    def _decide_learned(
        self, code, level, direction, sentences, sentence_vectors, resources
    ) -> tuple[list[Statement], dict[int, list[tuple[float, int]]]]:
        rules = self.rules
        stmts, prob, thresholds = self.probabilities(code, level, direction, sentences, sentence_vectors, resources)
        found: dict[int, list[tuple[float, int]]] = {}
        if not stmts:
            return stmts, found
        rivals = self._tables(code, level, direction)[0]
        lexical = rules.lexical_model
        assert lexical is not None  # probabilities() requires it
        emb = rules.embedding_model if sentence_vectors else None
        for i in range(len(sentences)):
            model = emb if emb is not None and i in sentence_vectors else lexical
            row = prob[i]
            order = sorted(range(len(stmts)), key=lambda j: (-round(float(row[j]), 9), j))
            kept: list[int] = []
            for j in order:
                if row[j] < thresholds[i] or len(kept) >= model.max_per_sentence:
                    break
                if model.same_work_levels or all(rivals[j, k] for k in kept):
                    kept.append(j)
            for j in kept:
                found.setdefault(j, []).append((float(row[j]), i))
        return stmts, found

    def match(
        self,
        code: str,
        level: str,
        direction: str | None,
        sentences: Sequence[SentenceInput],
        sentence_vectors: dict[int, np.ndarray] | None = None,
        resources=None,
    ) -> list[CompetencyMatch]:
        if self.rules.decision == "learned":
            stmts, found = self._decide_learned(code, level, direction, sentences, sentence_vectors, resources)
        else:
            stmts, found = self._decide_rule(code, level, direction, sentences, sentence_vectors, resources)
        out = []
        for j, hits in found.items():
            st = stmts[j]
            hits.sort(key=lambda t: (-t[0], t[1]))
            best_score, best_i = hits[0]
            ev = sentences[best_i]
            out.append(
                CompetencyMatch(
                    id=st.id,
                    text=st.text,
                    level=st.level,
                    function=st.function,
                    work_content=st.work_content,
                    direction=st.direction,
                    score=round(best_score, 4),
                    evidence=ev.text[:300],
                    start=ev.start,
                    end=ev.end,
                    sentences=[
                        EvidenceSpan(
                            text=sentences[i].text[:300],
                            start=sentences[i].start,
                            end=sentences[i].end,
                            score=round(s, 4),
                        )
                        for s, i in sorted(hits, key=lambda t: t[1])
                    ],
                )
            )
        out.sort(key=lambda m: (-m.score, m.id))
        return out

    def _decide_rule(
        self, code, level, direction, sentences, sentence_vectors, resources
    ) -> tuple[list[Statement], dict[int, list[tuple[float, int]]]]:
        """The hand-set threshold rule (used when the rules carry no learned decision)."""
        stmts, combined, prior, thresholds = self.scores(code, level, direction, sentences, sentence_vectors, resources)
        if not stmts or not len(sentences):
            return stmts, {}
        rules = self.rules
        adjusted = combined + prior[None, :]
        groups = [st.group for st in stmts]
        levels = [st.level for st in stmts]

        def equivalent(a: int, b: int) -> bool:  # the same work at another level
            return groups[a] == groups[b] and levels[a] != levels[b]

        found: dict[int, list[tuple[float, int]]] = {}
        for i in range(len(sentences)):
            row = adjusted[i]
            # stable order: score descending, then the statement's position in the taxonomy
            order = sorted(range(len(stmts)), key=lambda j: (-round(float(row[j]), 9), j))
            best = order[0]
            threshold = thresholds[i]
            if row[best] < threshold:
                continue
            rival = next((float(row[j]) for j in order[1:] if not equivalent(j, best)), 0.0)
            if row[best] - rival < rules.margin:
                continue
            kept = [best]
            for j in order[1:]:
                if len(kept) >= rules.max_per_sentence:
                    break
                if row[j] < threshold or row[j] < rules.second_ratio * row[best]:
                    break
                kept.append(j)
            for j in kept:
                found.setdefault(j, []).append((float(row[j]), i))
        return stmts, found
