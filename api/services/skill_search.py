"""Find skills by Chinese or English name or alias, tolerating typos and near names.

Every surface form of every skill (name_zh, name_en, aliases) is normalised
(:func:`skillsignal.core.text.normalize_term`). A query scores against each form by the best of:
exact match (1.0), prefix / containment (0.75–0.95 by length ratio), character-bigram Dice
similarity and difflib's ratio; a skill's score is its best form's.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from pydantic import BaseModel

from skill_taxonomy import Skill, Taxonomy
from skillsignal.core.text import char_bigrams, normalize_term

_cache: dict[tuple[int, str], SkillSearch] = {}


class SkillMatchResult(BaseModel):
    id: str
    name_zh: str
    name_en: str
    type: str
    matched: str
    score: float


def similarity(query: str, form: str) -> float:
    """0..1 similarity of two normalised strings."""
    if not query or not form:
        return 0.0
    if query == form:
        return 1.0
    ratio = min(len(query), len(form)) / max(len(query), len(form))
    best = 0.0
    if form.startswith(query) or query.startswith(form):
        best = 0.75 + 0.2 * ratio
    elif query in form or form in query:
        best = 0.7 + 0.2 * ratio
    a, b = char_bigrams(query), char_bigrams(form)
    dice = 2 * len(a & b) / (len(a) + len(b))
    seq = difflib.SequenceMatcher(None, query, form, autojunk=False).ratio()
    return round(max(best, dice, seq), 4)


@dataclass
class SkillSearch:
    """Skills by the name a user types (the API's search and resolver); finding skills in posting text is
    :class:`nlp.skills.SkillFinder`'s job."""

    taxonomy: Taxonomy
    forms: list[tuple[str, str, str]]  # (normalised form, surface form, skill id)

    @classmethod
    def for_taxonomy(cls, taxonomy: Taxonomy) -> SkillSearch:
        key = (id(taxonomy), taxonomy.version)
        if key not in _cache:
            forms = [
                (normalize_term(form), form, skill.id)
                for skill in taxonomy.skills.values()
                for form in skill.surface_forms()
                if normalize_term(form)
            ]
            _cache[key] = cls(taxonomy, forms)
        return _cache[key]

    def search(self, query: str, limit: int = 10, min_score: float = 0.5) -> list[SkillMatchResult]:
        q = normalize_term(query)
        best: dict[str, tuple[float, str]] = {}
        for norm, surface, sid in self.forms:
            score = similarity(q, norm)
            if score >= min_score and score > best.get(sid, (0.0, ""))[0]:
                best[sid] = (score, surface)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
        return [self._result(self.taxonomy.skills[sid], surface, score) for sid, (score, surface) in ranked]

    def resolve(self, term: str) -> Skill | None:
        """The skill a term names exactly: its id, or a name/alias naming one skill only."""
        if term in self.taxonomy.skills:
            return self.taxonomy.skills[term]
        found = self.taxonomy.resolve(term)
        return found[0] if len(found) == 1 else None

    @staticmethod
    def _result(skill: Skill, surface: str, score: float) -> SkillMatchResult:
        return SkillMatchResult(
            id=skill.id, name_zh=skill.name_zh, name_en=skill.name_en, type=skill.type, matched=surface, score=score
        )
