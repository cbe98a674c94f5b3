"""Text keys every stage compares on: one definition of each.

* :func:`normalize_term` — the key of a name, alias, title or fingerprint part: NFKC, case-folded,
  whitespace removed (punctuation kept: ``C++`` is not ``C``).
* :func:`normalize_alnum` — the looser key near-duplicate detection compares texts on: NFKC, case-folded,
  only letters, marks and numbers kept (whitespace, punctuation, symbols and control characters dropped).
* :func:`char_bigrams` — the character bigrams of a key, for Dice / Jaccard similarity of short strings.
* :func:`alnum_bigrams` — the bigrams of the letters and digits only, case-folded, and none for a text
  shorter than two of them (comparing the spelling of Latin skill names: ``LVM`` against ``LLVM``).

The two keys and the two bigram sets differ on purpose (``tests/core/test_text.py`` pins how).
"""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def normalize_term(text: str | None) -> str:
    """The key every name and alias is matched on: NFKC, case-folded, whitespace removed."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def normalize_alnum(text: str | None) -> str:
    """NFKC, case-folded, without whitespace, punctuation, symbols or control characters."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "ZPSC")


def char_bigrams(text: str) -> set[str]:
    """The character bigrams of ``text`` as it is; a text shorter than two characters is its own only gram."""
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def alnum_bigrams(text: str) -> set[str]:
    """The bigrams of the case-folded letters and digits of ``text`` (spaces, punctuation and symbols
    dropped first); empty when fewer than two remain."""
    kept = "".join(ch for ch in text.casefold() if ch.isalnum())
    return {kept[i : i + 2] for i in range(len(kept) - 1)}
