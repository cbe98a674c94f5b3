"""Chinese full text for SQLite FTS5: jieba segmentation at index time and at query time.

Tokens are joined by U+200B (zero-width space), which the FTS5 ``unicode61`` tokenizer is told
to treat as a separator; the stored text therefore reads like the original once U+200B is
stripped from ``highlight()``/``snippet()`` output.
"""

from __future__ import annotations

import re
import unicodedata

import rjieba

SEP = "\u200b"
TOKENIZE = f"unicode61 remove_diacritics 2 separators '{SEP}'"

_WORD = re.compile(r"\w", re.UNICODE)


def _cut(text: str) -> list[str]:
    """jieba-rs (``rjieba``) without HMM: jieba's default dictionary and segmentation, ~15x faster,
    and its own dictionary, so words the extractor adds to the global jieba dictionary never change
    how text is indexed or queried."""
    return list(rjieba.cut(text, False))


def segment(text: str | None) -> str:
    """Text with U+200B between jieba tokens (the form stored in the FTS table)."""
    if not text:
        return ""
    text = text.replace(SEP, "")
    return SEP.join(_cut(text))


def unsegment(text: str | None) -> str | None:
    return text.replace(SEP, "") if text is not None else None


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression: every whitespace-separated term must occur (as a token phrase)."""
    phrases: list[str] = []
    for term in unicodedata.normalize("NFKC", query).split():
        tokens = [t for t in _cut(term) if _WORD.search(t)]
        if tokens:
            phrases.append('"' + SEP.join(t.replace('"', '""') for t in tokens) + '"')
    return " AND ".join(phrases) if phrases else None
