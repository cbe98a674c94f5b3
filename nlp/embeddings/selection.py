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

from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache


def written_alike(
    term: str, form: str, shared: int, n_term: int, n_form: int, min_dice: float, min_ratio: float
) -> bool:
    """Whether ``term`` is written like ``form``: lengths within ``min_ratio`` of each other and a
    Dice coefficient of at least ``min_dice`` over their bigram sets (``n_term`` and ``n_form``
    bigrams, ``shared`` in common). The one test behind ``components.lexical_agreement`` and
    :class:`LatinFormIndex`."""
    if not n_term or not n_form:
        return False
    ratio = min(len(term), len(form)) / max(len(term), len(form))
    return ratio >= min_ratio and 2 * shared / (n_term + n_form) >= min_dice


class LatinFormIndex:
    """The Latin forms (e.g. every ASCII surface form of every skill) by character bigram.

    ``bigrams(text) -> set[str]`` is the matcher's own function and :func:`written_alike` its own
    test, so :meth:`can_agree` answers exactly what ``lexical_agreement(term, forms)`` would over
    every form: only forms sharing a bigram with the term can pass (Dice > 0 needs one), and the
    index counts the shared bigrams of those from its posting lists instead of recomputing them."""

    def __init__(
        self, forms: Iterable[str], bigrams: Callable[[str], set[str]], min_dice: float, min_ratio: float
    ) -> None:
        self._bigrams = bigrams
        self.min_dice, self.min_ratio = min_dice, min_ratio
        self.forms: list[str] = list(dict.fromkeys(forms))
        self._n_bigrams: list[int] = []
        self._by_bigram: dict[str, list[int]] = {}
        for i, form in enumerate(self.forms):
            grams = bigrams(form)
            self._n_bigrams.append(len(grams))
            for bg in grams:
                self._by_bigram.setdefault(bg, []).append(i)
        self.can_agree = lru_cache(maxsize=100_000)(self._can_agree)

    def _can_agree(self, term: str) -> bool:
        """Whether ``term`` is written like at least one of the forms."""
        grams = self._bigrams(term)
        shared: Counter[int] = Counter()
        for bg in grams:
            shared.update(self._by_bigram.get(bg, ()))
        return any(
            written_alike(term, self.forms[i], n, len(grams), self._n_bigrams[i], self.min_dice, self.min_ratio)
            for i, n in shared.items()
        )
