"""The national occupation (2022 code) and direction a posting's main job belongs to.

Every occupation of the taxonomy, core and adjacent, gathers evidence:

* title: the occupation's ``title_patterns`` (regular expressions, ``re.search`` on the raw
  title) or, more weakly, one of its directions' patterns;
* skills: the weighted links of the skills found, counted by where they are named (duties
  weigh most, preferred extras least), each skill once, capped per occupation;
* with embeddings: the similarity of the title and main duties to the occupation's definition
  and direction names, as a z-score across occupations.

The best-scoring occupation wins (the title decides between close ones, since its weight is
highest: GUIDELINE "if two fit, pick the one the title names"). A core occupation is returned
with its code; an adjacent one (2-02-10-03 software, -06 embedded, -07 information security,
-08 IT operations, 2-02-30-09 data analysis) is returned with its code and ``other_hint`` set
to it; below ``min_evidence`` the posting is ``other`` with an empty hint (no dumping ground).
``score`` is a confidence in [0, 1] from the margin between the best and second best.
Weights live in ``nlp/data/occupation_rules.yaml``.
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

from skillsignal.models import OccupationMatch

if TYPE_CHECKING:
    from skill_taxonomy import Taxonomy

RULES_PATH = Path(__file__).parent / "data" / "occupation_rules.yaml"
OTHER = "other"


@lru_cache(maxsize=2)
def load_rules(path: Path = RULES_PATH) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass
class SkillEvidence:
    skill_id: str
    section: str  # duties | requirements | preferred


@dataclass
class OccupationDecision:
    match: OccupationMatch
    evidence: dict[str, float] = field(default_factory=dict)


def _compile(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p))
        except re.error:
            continue
    return out


class OccupationScorer:
    def __init__(self, taxonomy: "Taxonomy", rules: dict | None = None) -> None:
        self.taxonomy = taxonomy
        self.rules = rules or load_rules()
        self.weights = self.rules["weights"]
        weak = self.rules.get("weak_title")
        self.weak_title = re.compile(weak, re.IGNORECASE) if weak else None
        self.title_patterns = {
            code: _compile(occ.title_patterns) for code, occ in taxonomy.occupations.items()
        }
        self.direction_patterns = {
            code: [(d.id, _compile(d.title_patterns)) for d in occ.directions]
            for code, occ in taxonomy.occupations.items()
        }
        # skill id -> [(occupation code, direction, weight)]
        self.links: dict[str, list[tuple[str, str | None, float]]] = {
            s.id: [(l.occupation, l.direction, l.weight) for l in s.occupations]
            for s in taxonomy.skills.values()
        }

    def descriptions(self) -> dict[str, str]:
        """Text that stands for each occupation when embedding (definition + directions)."""
        out = {}
        for code, occ in self.taxonomy.occupations.items():
            dirs = "、".join(d.name_zh for d in occ.directions)
            out[code] = f"{occ.name_zh}：{occ.definition} {dirs}".strip()
        return out

    def title_evidence(self, title: str) -> dict[str, float]:
        w = self.weights
        factor = 1.0
        if self.weak_title is not None and self.weak_title.search(title.strip()):
            factor = float(self.rules.get("weak_title_factor", 1.0))
        out: dict[str, float] = {}
        for code, patterns in self.title_patterns.items():
            if any(p.search(title) for p in patterns):
                out[code] = w["title"] * factor
            elif any(any(p.search(title) for p in pats) for _, pats in self.direction_patterns[code]):
                out[code] = w["direction_title"] * factor
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
                links = [(c, d, w ** sharpen) for c, d, w in links]
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
    ) -> OccupationDecision:
        title = title or ""
        skills = list(skills)
        total: dict[str, float] = {code: 0.0 for code in self.taxonomy.occupations}
        titles = self.title_evidence(title)
        mass, dir_mass = self.skill_evidence(skills)
        for code, v in titles.items():
            total[code] += v
        for code, v in mass.items():
            if code in total:
                total[code] += v
        if similarities:
            values = [similarities[c] for c in total if c in similarities]
            if len(values) > 1:
                mean = sum(values) / len(values)
                spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
                for code in total:
                    if code in similarities:
                        total[code] += self.weights["embedding"] * (similarities[code] - mean) / spread
        ranked = sorted(total.items(), key=lambda kv: kv[1], reverse=True)
        if not ranked or ranked[0][1] < float(self.rules["min_evidence"]):
            return OccupationDecision(
                OccupationMatch(code=OTHER, name=self.rules.get("other_name", "其他"), score=0.5, other_hint=""),
                total,
            )
        best, best_v = ranked[0]
        second_v = ranked[1][1] if len(ranked) > 1 else 0.0
        conf = self.rules["confidence"]
        score = 1.0 / (1.0 + math.exp(-(conf["a"] * (best_v - second_v) + conf["b"])))
        occ = self.taxonomy.occupations[best]
        direction = self._direction(best, title, dir_mass)
        match = OccupationMatch(
            code=best,
            name=occ.name_zh,
            direction=direction,
            score=round(score, 4),
            other_hint=None if occ.core else best,
        )
        return OccupationDecision(match, total)

    def max_embedding_swing(self) -> float:
        """Most the similarity term can change the gap between two occupations: z-scores over
        n values lie within +-sqrt(n - 1)."""
        n = len(self.taxonomy.occupations)
        return 2.0 * float(self.weights.get("embedding", 0.0)) * math.sqrt(max(n - 1, 0))

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
