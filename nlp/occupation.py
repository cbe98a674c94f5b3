"""The national occupation (2022 code) and direction a posting's main job belongs to.

Every occupation of the taxonomy, core and adjacent, and every look-alike kind of work
(``lookalikes`` in the rules: board hardware, game development, teaching, ... which are
GUIDELINE "other") gathers evidence:

* title: the occupation's ``title_patterns`` (regular expressions, ``re.search`` on the raw
  title) or, more weakly, one of its directions' patterns;
* skills: the weighted links of the skills found, counted by where they are named (duties
  weigh most, preferred extras least), each skill once, capped per occupation;
* anchors: a core occupation's evidence is scaled by the share of the duty sentences that name
  its defining concept (``anchors``: what its standard's definition is about), from
  ``unanchored_factor`` when none does to 1 when ``anchor_share`` of them do, so a title word or
  a tool in the requirements alone does not make an IC, VR or digital-management job;
* with embeddings: the similarity of the duty sentences to each occupation's profile (its
  definition, directions and the work contents of its competencies; a look-alike's definition),
  as a z-score across the anchored candidates that have evidence of their own.

The best-scoring candidate wins, then GUIDELINE "if two fit, pick the one the title names": a
title-named core occupation within ``title_fit_ratio`` of the best takes it, and a core
occupation within ``core_fit_ratio`` of an adjacent winner takes it. A core occupation is
returned with its code; an adjacent one (2-02-10-03 software, -06 embedded, -07 information
security, -08 IT operations, 2-02-30-09 data analysis) with its code and ``other_hint`` set to
it; a look-alike as ``other`` with its hint; below ``min_evidence`` (judged before the
similarity term) the posting is ``other`` with an empty hint. ``score`` is a confidence in
[0, 1] from the margin between the best and second best. Weights live in
``nlp/data/occupation_rules.yaml`` (schema: :class:`OccupationRules`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from skillsignal.core.models import OccupationMatch

if TYPE_CHECKING:
    from skill_taxonomy import Taxonomy

RULES_PATH = Path(__file__).parent / "data" / "occupation_rules.yaml"
OTHER = "other"


@lru_cache(maxsize=2)
def load_rules(path: Path = RULES_PATH) -> dict:
    """The rules file, checked against :class:`OccupationRules` (a bad file fails here)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return OccupationRules.model_validate(data).model_dump()


class TitleEvidence(dict[str, float]):
    """Title weight per occupation; ``named``: the keys whose own title patterns match."""

    def __init__(self) -> None:
        super().__init__()
        self.named: set[str] = set()


class Lookalike(BaseModel):
    """A kind of work that looks like a core occupation but is none (GUIDELINE: "other"): it
    competes like an occupation, and when it wins the posting is ``other`` with ``hint``."""

    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    hint: str = ""
    definition: str
    title_patterns: list[str] = Field(default_factory=list)
    #: title weight when a pattern matches (None: the occupations' ``weights.title``)
    title_weight: float | None = None
    #: skill id -> link weight, as a taxonomy skill's occupation links
    skills: dict[str, float] = Field(default_factory=dict)


class Weights(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: float
    direction_title: float
    main_duty: float
    duties: float
    requirements: float
    preferred: float
    embedding: float
    lexical: float = 0.0


class OccupationRules(BaseModel):
    """Schema of ``nlp/data/occupation_rules.yaml``."""

    model_config = ConfigDict(extra="forbid")
    weights: Weights
    weak_title: str | None = None
    weak_title_factor: float = 1.0
    skill_share: bool = True
    sharpen: float = 1.0
    max_skill_mass: float = 1e9
    min_evidence: float
    confidence: dict[str, float]
    anchors: dict[str, str] = Field(default_factory=dict)
    unanchored_factor: float = 1.0
    anchor_share: float = 0.0
    title_fit_ratio: float = 1.0
    core_fit_ratio: float = 1.0
    lookalikes: list[Lookalike] = Field(default_factory=list)
    embed_duty_sentences: int = 2
    embed_sentence_chars: int = 80
    other_name: str = "其他"

    @field_validator("weak_title")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            re.compile(value)
        return value

    @field_validator("anchors")
    @classmethod
    def _anchors(cls, value: dict[str, str]) -> dict[str, str]:
        for code, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"anchor of {code}: {exc}") from exc
        return value


@dataclass
class SkillEvidence:
    skill_id: str
    section: str  # duties | requirements | preferred


@dataclass
class OccupationDecision:
    match: OccupationMatch
    evidence: dict[str, float] = field(default_factory=dict)
    #: candidates a similarity term re-ranks (evidence of their own, concept named in the duties)
    rerankable: int = 0
    #: ``other`` by too little evidence, which no similarity can change
    below_floor: bool = False
    #: a similarity term could let a runner-up pass one of the "if two fit" ratio tests
    ratio_reach: bool = False


_CJK_OR_WORD = re.compile(r"[\u3400-\u9fff]+|[A-Za-z][A-Za-z0-9+#.]*")


def _gram_counts(text: str) -> dict[str, int]:
    """Chinese character bigrams and lower-cased Latin words."""
    out: dict[str, int] = {}
    for run in _CJK_OR_WORD.findall(text):
        if run[0].isascii():
            grams = [run.lower()]
        else:
            grams = [run[i : i + 2] for i in range(len(run) - 1)]
        for g in grams:
            out[g] = out.get(g, 0) + 1
    return out


def _compile(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p))
        except re.error:
            continue
    return out


class OccupationScorer:
    def __init__(self, taxonomy: Taxonomy, rules: dict | None = None) -> None:
        self.taxonomy = taxonomy
        self.rules = rules or load_rules()
        self.weights = self.rules["weights"]
        weak = self.rules.get("weak_title")
        self.weak_title = re.compile(weak, re.IGNORECASE) if weak else None
        self.title_patterns = {code: _compile(occ.title_patterns) for code, occ in taxonomy.occupations.items()}
        self.lookalikes = {
            look.id: look for look in (Lookalike.model_validate(x) for x in self.rules.get("lookalikes") or ())
        }
        for key, look in self.lookalikes.items():
            self.title_patterns[key] = _compile(look.title_patterns)
        self.anchors = {
            code: re.compile(p) for code, p in (self.rules.get("anchors") or {}).items() if code in taxonomy.occupations
        }
        self.unanchored_factor = float(self.rules.get("unanchored_factor", 1.0))
        self._profile_bigrams: tuple[dict[str, float], dict[str, dict[str, float]]] | None = None
        self.direction_patterns = {
            code: [(d.id, _compile(d.title_patterns)) for d in occ.directions]
            for code, occ in taxonomy.occupations.items()
        }
        # skill id -> [(occupation code, direction, weight)]
        self.links: dict[str, list[tuple[str, str | None, float]]] = {
            s.id: [(link.occupation, link.direction, link.weight) for link in s.occupations]
            for s in taxonomy.skills.values()
        }
        for key, look in self.lookalikes.items():
            for skill_id, weight in look.skills.items():
                if skill_id in self.links:
                    self.links[skill_id].append((key, None, float(weight)))

    def profiles(self) -> dict[str, list[str]]:
        """What each occupation's standard says the work is: its definition, its directions and
        the work contents and statements of its competencies (a look-alike: its definition)."""
        out: dict[str, list[str]] = {}
        for code, occ in self.taxonomy.occupations.items():
            texts = [occ.definition, *(d.name_zh for d in occ.directions)]
            for statements in occ.levels.values():
                for comp in statements:
                    texts.append(f"{comp.work_content}：{comp.text}")
            out[code] = [t for t in dict.fromkeys(texts) if t]
        for key, look in self.lookalikes.items():
            out[key] = [look.definition]
        return out

    def lexical_similarity(self, duties: list[str]) -> dict[str, float]:
        """Without embeddings: cosine of the duties' character bigrams with each profile's,
        weighted by inverse document frequency across the profiles (a bigram every occupation
        uses, 负责 or 能够, says nothing)."""
        if self._profile_bigrams is None:
            bags = {key: _gram_counts("\n".join(texts)) for key, texts in self.profiles().items()}
            df: dict[str, int] = {}
            for bag in bags.values():
                for g in bag:
                    df[g] = df.get(g, 0) + 1
            n = len(bags)
            idf = {g: math.log((1 + n) / (1 + c)) for g, c in df.items()}
            vecs = {}
            for key, bag in bags.items():
                vec = {g: c * idf[g] for g, c in bag.items() if idf[g] > 0}
                norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
                vecs[key] = {g: v / norm for g, v in vec.items()}
            self._profile_bigrams = (idf, vecs)
        idf, vecs = self._profile_bigrams
        bag = _gram_counts("\n".join(duties))
        query = {g: c * idf[g] for g, c in bag.items() if idf.get(g, 0) > 0}
        norm = math.sqrt(sum(v * v for v in query.values())) or 1.0
        return {key: sum(v * vec.get(g, 0.0) for g, v in query.items()) / norm for key, vec in vecs.items()}

    def title_evidence(self, title: str) -> TitleEvidence:
        """Title weight per occupation (and look-alike) whose patterns match; ``.named``: those
        whose own patterns (not only a direction's) match a title that is not a weak one."""
        w = self.weights
        factor = 1.0
        if self.weak_title is not None and self.weak_title.search(title.strip()):
            factor = float(self.rules.get("weak_title_factor", 1.0))
        out = TitleEvidence()
        for code, patterns in self.title_patterns.items():
            if code in self.lookalikes:
                continue
            if any(p.search(title) for p in patterns):
                out[code] = w["title"] * factor
                if factor == 1.0:
                    out.named.add(code)
            elif any(any(p.search(title) for p in pats) for _, pats in self.direction_patterns.get(code, ())):
                out[code] = w["direction_title"] * factor
        for key, look in self.lookalikes.items():
            if any(p.search(title) for p in self.title_patterns[key]):
                out[key] = look.title_weight if look.title_weight is not None else w["title"] * factor
                if factor == 1.0:
                    out.named.add(key)
        return out

    def skill_evidence(self, skills: Iterable[SkillEvidence]) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
        w = self.weights
        best_section: dict[str, float] = {}
        for ev in skills:
            factor = w.get(ev.section, w["requirements"])
            best_section[ev.skill_id] = max(best_section.get(ev.skill_id, 0.0), factor)
        mass: dict[str, float] = {}
        dir_mass: dict[tuple[str, str], float] = {}
        share = bool(self.rules.get("skill_share"))
        sharpen = float(self.rules.get("sharpen", 1.0))
        for skill_id, factor in best_section.items():
            links = self.links.get(skill_id, ())
            if sharpen != 1.0:
                links = [(c, d, w**sharpen) for c, d, w in links]
            # with skill_share, a skill linked to many occupations spreads its one vote thin;
            # a specific skill (Hadoop, 渗透测试) gives most of it to its occupation
            total = sum(w for _, _, w in links) if share else 1.0
            scale = factor / max(total, 1.0) if share else factor
            for code, direction, weight in links:
                mass[code] = mass.get(code, 0.0) + scale * weight
                if direction:
                    dir_mass[(code, direction)] = dir_mass.get((code, direction), 0.0) + factor * weight
        cap = float(self.rules.get("max_skill_mass", 1e9))
        return {c: min(v, cap) for c, v in mass.items()}, dir_mass

    def decide(
        self,
        title: str,
        skills: Iterable[SkillEvidence],
        similarities: dict[str, float] | None = None,
        duties: list[str] | None = None,
    ) -> OccupationDecision:
        """``duties``: the posting's duty sentences (or, when it has none, its main text); with
        them, a core occupation whose defining concept (``anchors``) they do not name is scaled
        by ``unanchored_factor``, rising to 1 as the share of duty sentences that name it reaches
        ``anchor_share``. ``None`` (a caller with no text) skips that test."""
        title = title or ""
        skills = list(skills)
        keys = [*self.taxonomy.occupations, *self.lookalikes]
        total: dict[str, float] = {key: 0.0 for key in keys}
        titles = self.title_evidence(title)
        mass, dir_mass = self.skill_evidence(skills)
        for code, v in titles.items():
            total[code] += v
        for code, v in mass.items():
            if code in total:
                total[code] += v
        coverage = self.anchor_coverage(title, duties)
        anchored = {code: share > 0 for code, share in coverage.items()}
        full = float(self.rules.get("anchor_share", 0.0))
        floor = self.unanchored_factor
        for code, share in coverage.items():
            # no duty names the concept: unanchored_factor; at least anchor_share of them: 1
            reach = min(1.0, share / full) if full > 0 else float(share > 0)
            total[code] *= floor + (1.0 - floor) * reach
        # the "other" floor is judged on the evidence itself: a similarity re-ranks, it cannot
        # make a digital posting out of a pharma one
        lexical_best = max(total.values(), default=0.0)
        if similarities is None and duties and self.weights.get("lexical", 0.0):
            similarities = self.lexical_similarity(duties)
            sim_weight = float(self.weights["lexical"])
        else:
            sim_weight = float(self.weights["embedding"])
        # the similarity of the duties to each definition re-ranks the candidates that have
        # evidence of their own and whose concept the duties name; it never makes one
        rerankable = [c for c in total if total[c] > 0 and anchored.get(c, True)]
        if similarities:
            live = [c for c in rerankable if c in similarities]
            values = [similarities[c] for c in live]
            if len(values) > 1:
                mean = sum(values) / len(values)
                spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
                for code in live:
                    total[code] += sim_weight * (similarities[code] - mean) / spread
        ranked = sorted(total.items(), key=lambda kv: kv[1], reverse=True)
        if not ranked or lexical_best < float(self.rules["min_evidence"]):
            return OccupationDecision(
                OccupationMatch(code=OTHER, name=self.rules.get("other_name", "其他"), score=0.5, other_hint=""),
                total,
                len(rerankable),
                below_floor=True,
            )
        best, best_v = self._prefer(ranked, titles, anchored)
        n = len(rerankable)
        move = float(self.weights.get("embedding", 0.0)) * math.sqrt(n - 1) if n > 1 else 0.0
        reach = self._ratio_reach(ranked, titles, anchored, move)
        second_v = max((v for c, v in total.items() if c != best), default=0.0)
        conf = self.rules["confidence"]
        score = 1.0 / (1.0 + math.exp(-(conf["a"] * (best_v - second_v) + conf["b"])))
        if best in self.lookalikes:
            look = self.lookalikes[best]
            match = OccupationMatch(
                code=OTHER, name=self.rules.get("other_name", "其他"), score=round(score, 4), other_hint=look.hint
            )
            return OccupationDecision(match, total, n, ratio_reach=reach)
        occ = self.taxonomy.occupations[best]
        direction = self._direction(best, title, dir_mass)
        match = OccupationMatch(
            code=best,
            name=occ.name_zh,
            direction=direction,
            score=round(score, 4),
            other_hint=None if occ.core else best,
        )
        return OccupationDecision(match, total, n, ratio_reach=reach)

    def _core(self, key: str) -> bool:
        occ = self.taxonomy.occupations.get(key)
        return occ is not None and occ.core

    def anchor_coverage(self, title: str, duties: list[str] | None) -> dict[str, float]:
        """Per core occupation with an anchor: the share of the duty sentences that name its
        defining concept (GUIDELINE: "the one most of the duties belong to"); a posting with
        no sentence at all is judged by its title."""
        if duties is None:
            return {}
        texts = [t for t in duties if t.strip()] or [title]
        return {code: sum(1 for t in texts if rx.search(t)) / len(texts) for code, rx in self.anchors.items()}

    def _prefer(
        self, ranked: list[tuple[str, float]], titles: TitleEvidence, anchored: dict[str, bool]
    ) -> tuple[str, float]:
        """GUIDELINE: "if two fit, pick the one the title names". A candidate fits when its
        evidence reaches ``title_fit_ratio`` of the best; of those the title-named one wins.
        Likewise a core occupation that reaches ``core_fit_ratio`` of an adjacent winner (a
        look-alike never gives way) wins: the adjacent codes are the fallback, not a rival."""
        best, best_v = ranked[0]
        named = [
            (c, v) for c, v in ranked if c != best and c in titles.named and self._core(c) and anchored.get(c, True)
        ]
        ratio = float(self.rules.get("title_fit_ratio", 1.0))
        if best not in titles.named:
            for c, v in named:
                if v > 0 and v >= ratio * best_v:
                    return c, v
        core_ratio = float(self.rules.get("core_fit_ratio", 1.0))
        occ = self.taxonomy.occupations.get(best)
        if occ is not None and not occ.core:
            for c, v in ranked[1:]:
                other = self.taxonomy.occupations.get(c)
                if other is not None and other.core and anchored.get(c, True) and v > 0 and v >= core_ratio * best_v:
                    return c, v
                if v < core_ratio * best_v:
                    break
        return best, best_v

    def _ratio_reach(
        self, ranked: list[tuple[str, float]], titles: TitleEvidence, anchored: dict[str, bool], move: float
    ) -> bool:
        """Whether moving every total by up to ``move`` (the most a similarity term moves one)
        could let a candidate other than the best pass one of :meth:`_prefer`'s ratio tests."""
        best, best_v = ranked[0]
        low = best_v - move
        ratio = float(self.rules.get("title_fit_ratio", 1.0))
        core_ratio = float(self.rules.get("core_fit_ratio", 1.0))
        best_core = self._core(best) or best in self.lookalikes
        for c, v in ranked[1:]:
            if v <= 0 or not self._core(c) or not anchored.get(c, True):
                continue
            if best not in titles.named and c in titles.named and v + move >= ratio * low:
                return True
            if not best_core and v + move >= core_ratio * low:
                return True
        return False

    def max_embedding_swing(self) -> float:
        """Most the similarity term can change the gap between two occupations: z-scores over
        n values lie within +-sqrt(n - 1)."""
        n = len(self.taxonomy.occupations) + len(self.lookalikes)
        return 2.0 * float(self.weights.get("embedding", 0.0)) * math.sqrt(max(n - 1, 0))

    def embedding_swing(self, decision: OccupationDecision) -> float:
        """Most the similarity term can change the gap between two candidates of ``decision``
        (made without similarities), which decides whether embedding the posting's duties can
        change it: 0 when it is ``other`` by too little evidence (judged before the similarity
        term) or fewer than two candidates would be re-ranked; unbounded when a runner-up could
        pass an "if two fit" ratio test; else ``weights.embedding`` x sqrt(2n) for n re-ranked
        candidates (n z-scores have sum 0 and sum of squares n, so two differ by at most
        sqrt(2n); one moves by at most sqrt(n - 1), the rest not at all)."""
        n = decision.rerankable
        if decision.below_floor or n < 2:
            return 0.0
        if decision.ratio_reach:
            return math.inf
        return float(self.weights.get("embedding", 0.0)) * math.sqrt(2.0 * n)

    @staticmethod
    def margin(decision: OccupationDecision) -> float:
        values = sorted(decision.evidence.values(), reverse=True)
        if not values:
            return 0.0
        return values[0] - (values[1] if len(values) > 1 else 0.0)

    def _direction(self, code: str, title: str, dir_mass: dict[tuple[str, str], float]) -> str | None:
        for direction, patterns in self.direction_patterns.get(code, ()):
            if any(p.search(title) for p in patterns):
                return direction
        candidates = [(v, d) for (c, d), v in dir_mass.items() if c == code]
        if candidates:
            return max(candidates)[1]
        return None
