"""Which texts need a vector: selections that skip the model where its answer cannot matter.

Each selection is exact: it leaves out only texts whose vector could not change the extraction
(tests/nlp/test_embedding_selection.py compares with embedding everything on real postings).

* :class:`LatinFormIndex`: an unknown Latin term is mapped to its nearest skill only when it is
  also written like that skill's name (character-bigram Dice and length ratio,
  ``components.lexical_agreement``); a term written like no skill's Latin form at all can never
  be kept, so it is not embedded. The index finds the forms that share a bigram with a term
  (Dice > 0 needs one) and checks only those.
* Occupation: :meth:`nlp.occupation.OccupationScorer.embedding_swing` bounds what the
  similarity term can change, and only postings whose answer it can change are embedded.
* Competencies: sentences are embedded only for postings of an occupation with candidate
  statements, and only with ``max_sentences`` > 0 (``nlp/data/competency_rules.yaml``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache


class LatinFormIndex:
    """The Latin forms (e.g. every ASCII surface form of every skill) by character bigram.

    ``bigrams(text) -> set[str]`` and ``agrees(term, forms) -> bool`` are the matcher's own
    functions, so the index can only narrow what they are asked, never change an answer."""

    def __init__(
        self,
        forms: Iterable[str],
        bigrams: Callable[[str], set[str]],
        agrees: Callable[[str, list[str]], bool],
    ) -> None:
        self._bigrams = bigrams
        self._agrees = agrees
        self.forms: list[str] = list(dict.fromkeys(forms))
        self._by_bigram: dict[str, list[int]] = {}
        for i, form in enumerate(self.forms):
            for bg in bigrams(form):
                self._by_bigram.setdefault(bg, []).append(i)
        self.can_agree = lru_cache(maxsize=100_000)(self._can_agree)

    def candidates(self, term: str) -> list[str]:
        """The forms sharing at least one character bigram with ``term``."""
        ids: set[int] = set()
        for bg in self._bigrams(term):
            ids.update(self._by_bigram.get(bg, ()))
        return [self.forms[i] for i in sorted(ids)]

    def _can_agree(self, term: str) -> bool:
        """Whether ``term`` is written like at least one of the forms."""
        cands = self.candidates(term)
        return bool(cands) and self._agrees(term, cands)
