"""Competency statements of the chosen occupation that a posting's requirements ask for.

Candidates are the occupation's competencies (``Occupation.levels``) at the posting's level and
below, for its direction or for all directions. Evidence is the posting's requirement and duty
sentences.

* With embeddings: each sentence (``query``) against each statement (``passage``, embedded once
  per taxonomy); a statement's score is its best cosine. multilingual-e5 cosines are compressed
  (unrelated pairs already sit near 0.75-0.8), so a statement is kept when its best cosine is at
  least ``threshold`` AND stands ``min_margin`` above the median cosine of all statements for
  that posting (a posting-relative cut); the top ``top_k`` are returned.
* Without embeddings: lexical overlap. A statement's score is the share of its character
  bigrams (Chinese) and words (Latin) found in one sentence; kept at ``lexical_threshold``.
  It finds fewer matches than the embedding path and is documented as the fallback.

``evidence`` is the sentence that matched best.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from skillsignal.models import CompetencyMatch

if TYPE_CHECKING:
    from skill_taxonomy import Competency, Taxonomy

RULES_PATH = Path(__file__).parent / "data" / "competency_rules.yaml"
LEVEL_ORDER = {"初级": 0, "中级": 1, "高级": 2}
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#.]*")
_STOP_BIGRAMS = frozenset({"能够", "进行", "相关", "具有", "具备", "以及", "根据", "完成", "工作", "负责", "熟悉", "掌握"})


@lru_cache(maxsize=2)
def load_rules(path: Path = RULES_PATH) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def features(text: str) -> frozenset[str]:
    out: set[str] = set()
    for run in _CJK_RUN.findall(text):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    out.update(w.casefold() for w in _LATIN_WORD.findall(text))
    return frozenset(out - _STOP_BIGRAMS)


@dataclass
class _Candidate:
    comp: "Competency"
    level: str
    feats: frozenset[str]


class CompetencyMatcher:
    def __init__(self, taxonomy: "Taxonomy", rules: dict | None = None) -> None:
        self.taxonomy = taxonomy
        self.rules = rules or load_rules()
        self._vectors: dict[str, np.ndarray] = {}

    def candidates(self, code: str, level: str, direction: str | None) -> list[_Candidate]:
        return self._candidates(code, level, direction)

    @lru_cache(maxsize=256)
    def _candidates(self, code: str, level: str, direction: str | None) -> list[_Candidate]:
        occ = self.taxonomy.occupations.get(code)
        if occ is None:
            return []
        limit = LEVEL_ORDER.get(level, 2)
        out = []
        for lv, comps in occ.levels.items():
            if LEVEL_ORDER.get(lv, 0) > limit:
                continue
            for comp in comps:
                if comp.direction and direction and comp.direction != direction:
                    continue
                out.append(_Candidate(comp, lv, features(comp.text)))
        return out

    # ------------------------------------------------------------------ lexical

    def match_lexical(self, code: str, level: str, direction: str | None, sentences: Sequence[str]) -> list[CompetencyMatch]:
        cands = self.candidates(code, level, direction)
        if not cands or not sentences:
            return []
        sent_feats = [features(s) for s in sentences]
        threshold = float(self.rules["lexical_threshold"])
        scored = []
        for cand in cands:
            if not cand.feats:
                continue
            best, best_i = 0.0, -1
            for i, feats in enumerate(sent_feats):
                share = len(cand.feats & feats) / len(cand.feats)
                if share > best:
                    best, best_i = share, i
            if best >= threshold:
                scored.append((best, cand, sentences[best_i]))
        return self._top(scored)

    # ------------------------------------------------------------------ embeddings

    def warm(self, resources) -> None:
        """Vectors for every competency statement of the taxonomy (one call, disk-cached)."""
        comps = [c for occ in self.taxonomy.occupations.values() for cs in occ.levels.values() for c in cs]
        missing = [c for c in comps if c.id not in self._vectors]
        if missing:
            vecs = resources.encode_cached([c.text for c in missing], "passage")
            for comp, vec in zip(missing, vecs):
                self._vectors[comp.id] = vec

    def statement_vectors(self, cands: list[_Candidate], resources) -> np.ndarray:
        if any(c.comp.id not in self._vectors for c in cands):
            self.warm(resources)
        return np.stack([self._vectors[c.comp.id] for c in cands])

    def match_vectors(
        self,
        code: str,
        level: str,
        direction: str | None,
        sentences: Sequence[str],
        sentence_vectors: np.ndarray,
        resources,
    ) -> list[CompetencyMatch]:
        cands = self.candidates(code, level, direction)
        if not cands or not len(sentences):
            return []
        comp_vecs = self.statement_vectors(cands, resources)
        sims = sentence_vectors @ comp_vecs.T  # (sentences, statements)
        best = sims.max(axis=0)
        where = sims.argmax(axis=0)
        threshold = float(self.rules["threshold"])
        floor = float(np.median(best)) + float(self.rules["min_margin"])
        scored = [
            (float(best[j]), cand, sentences[int(where[j])])
            for j, cand in enumerate(cands)
            if best[j] >= threshold and best[j] >= floor
        ]
        return self._top(scored)

    def _top(self, scored) -> list[CompetencyMatch]:
        scored.sort(key=lambda t: t[0], reverse=True)
        out = []
        for score, cand, evidence in scored[: int(self.rules["top_k"])]:
            out.append(
                CompetencyMatch(
                    id=cand.comp.id,
                    text=cand.comp.text,
                    level=cand.level,
                    score=round(score, 4),
                    evidence=evidence[:300],
                )
            )
        return out
