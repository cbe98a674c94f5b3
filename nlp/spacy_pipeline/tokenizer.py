"""jieba segmentation for spaCy with the taxonomy's terms as a user dictionary and technical
tokens protected.

``C++``, ``C#``, ``.NET``, ``Node.js``, ``TCP/IP``, ``B/S``, ``ES6/7`` and every Latin taxonomy
form with punctuation inside are found first (regular expression) and kept as one token each;
the text between them is cut by a private :class:`jieba.Tokenizer` (the global one other modules
use is left alone) that knows every taxonomy name and alias. jieba's own dictionary is read once
per process and copied into each private tokenizer (reading it took 0.7 s and ~50 MB per copy).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache

import jieba
from spacy.tokens import Doc
from spacy.util import get_words_and_spaces
from spacy.vocab import Vocab

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)  # its "Loading model from cache" lines are noise in every run

# Generic technical tokens: letters/digits joined by . / + # - (TCP/IP, Node.js, C++, ES6/7).
# "A run of letters/digits holding a letter" is a lookahead plus one run: written as
# [A-Za-z0-9]*[A-Za-z][A-Za-z0-9]* it backtracks quadratically over a long run of letters.
GENERIC_PROTECTED = (
    r"\.NET(?:\s*Core)?|[A-Za-z][A-Za-z0-9]*(?:\+\+|#)|"
    r"(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]+(?:[./_\-][A-Za-z0-9]+)+(?:\+\+)?"
)

_JIEBA_LOCK_FREE = True  # jieba.Tokenizer.cut is safe to call from one thread per instance


@lru_cache(maxsize=1)
def _jieba_dictionary() -> tuple[dict[str, int], int]:
    """jieba's default prefix dictionary and total frequency, read once (never mutated: each
    tokenizer gets a copy to add its user terms to)."""
    base = jieba.Tokenizer()
    base.initialize()
    return base.FREQ, base.total


def _private_jieba() -> jieba.Tokenizer:
    """A fresh jieba tokenizer holding its own copy of the default dictionary."""
    freq, total = _jieba_dictionary()
    tk = jieba.Tokenizer()
    tk.FREQ = dict(freq)
    tk.total = total
    tk.initialized = True
    return tk


def _words_and_spaces(raw: list[str]) -> tuple[list[str], list[bool]]:
    """spaCy's words/spaces from pieces that concatenate to the text (linear time): one
    space after a word becomes its trailing space, other whitespace stays a token."""
    words: list[str] = []
    spaces: list[bool] = []
    for piece in raw:
        if piece.isspace():
            if words and not spaces[-1] and piece[0] == " " and not words[-1].isspace():
                spaces[-1] = True
                piece = piece[1:]
            if piece:
                words.append(piece)
                spaces.append(False)
        else:
            words.append(piece)
            spaces.append(False)
    return words, spaces


class ProtectedJiebaTokenizer:
    """A spaCy tokenizer: protected technical tokens, jieba for the rest."""

    def __init__(self, vocab: Vocab, user_terms: Iterable[str] = (), protected: Iterable[str] = ()):
        self.vocab = vocab
        logging.getLogger("jieba").setLevel(logging.WARNING)
        self.jieba = _private_jieba()
        n = 0
        for term in user_terms:
            term = term.strip()
            if len(term) >= 2 and not term.isascii():
                self.jieba.add_word(term, freq=20000)
                n += 1
        # Taxonomy forms with punctuation inside that the generic pattern would not keep whole
        # (e.g. "OWASP-TOP-10" is kept, "A/B测试" is not Latin-only): added as alternatives.
        generic = re.compile(rf"^(?:{GENERIC_PROTECTED})$", re.IGNORECASE)
        special = sorted(
            {
                re.escape(t)
                for t in protected
                if t.isascii() and re.search(r"[^A-Za-z0-9\s]", t) and not generic.match(t) and " " not in t
            },
            key=len,
            reverse=True,
        )
        alternatives = "|".join([*special, GENERIC_PROTECTED])
        self.protected = re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE)
        log.debug("tokenizer: %d user terms, %d extra protected forms", n, len(special))

    def words(self, text: str) -> list[str]:
        out: list[str] = []
        pos = 0
        for m in self.protected.finditer(text):
            if m.start() > pos:
                out.extend(self.jieba.cut(text[pos : m.start()], HMM=False))
            out.append(m.group(0))
            pos = m.end()
        if pos < len(text):
            out.extend(self.jieba.cut(text[pos:], HMM=False))
        return [w for w in out if w]

    def __call__(self, text: str) -> Doc:
        raw = self.words(text)
        if "".join(raw) == text:
            words, spaces = _words_and_spaces(raw)
        else:  # pragma: no cover - segmenter dropped characters
            words, spaces = get_words_and_spaces([w for w in raw if not w.isspace()], text)
        doc = Doc(self.vocab, words=words, spaces=spaces)
        # (word, offset) pairs, so components need not build Token objects
        offsets, pos = [], 0
        for word, space in zip(words, spaces, strict=True):
            offsets.append((word, pos))
            pos += len(word) + (1 if space else 0)
        doc.user_data["skillsignal_words"] = offsets
        return doc

    # spaCy calls these when saving a pipeline; this tokenizer is rebuilt from the taxonomy.
    def to_bytes(self, **kwargs) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **kwargs) -> ProtectedJiebaTokenizer:
        return self
