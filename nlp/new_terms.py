"""Unknown technical-looking terms in a posting: candidates for the taxonomy, never counted as skills.

A term is reported when the taxonomy does not know it, it is not already read as a skill (or a
typo of one), it sits outside boilerplate, and it looks technical:

* a Latin token that is CamelCase (``LangChain``), has an inner capital or digit (``gRPC``,
  ``S3``), punctuation inside (``Vue.js``), is an acronym (``GPU``), or is capitalised inside
  Chinese text (``Milvus``); ordinary English words are skipped (``nlp/data/new_terms.yaml``);
* a Chinese word joined to a technique suffix that follows it: 框架/算法/协议/引擎/平台/...
  (``联邦学习`` + ``框架``), built from the jieba tokens of the spaCy doc.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from nlp.sections import Sentence

TERMS_PATH = Path(__file__).parent / "data" / "new_terms.yaml"
_LATIN = re.compile(r"(?<![A-Za-z0-9@._%+-])[A-Za-z][A-Za-z0-9]*(?:(?:[.\-][A-Za-z0-9]+)+|\+\+|#)?(?![A-Za-z0-9@])")
_CJK = re.compile(r"[\u3400-\u9fff]")
_CJK_OR_PUNCT = re.compile(r"[\u3400-\u9fff、，；：。（）]")
#: URLs and e-mail addresses are blanked before reading terms. What :func:`blank_urls` blanks is
#: what this expression matches; it is not run as such, since a search for the e-mail's local
#: part restarts at every character of a long word and takes quadratic time.
_URLISH = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_LOCAL_RUN = re.compile(r"[\w.+-]+")
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")


def urlish_spans(text: str) -> list[tuple[int, int]]:
    """The spans ``_URLISH.finditer(text)`` gives, in linear time: an e-mail match ends its
    local part at an "@", so it starts at the later of the run of local-part characters before
    an "@" and where the previous match ended; a URL starting at the same place comes first."""
    ats: list[tuple[int, int]] = []  # ("@" position, start of the local-part run before it)
    if "@" in text:
        run_start = {m.end(): m.start() for m in _LOCAL_RUN.finditer(text)}
        ats = [(m.start(), run_start[m.start()]) for m in re.finditer("@", text) if m.start() in run_start]
    domains: dict[int, int | None] = {}
    out: list[tuple[int, int]] = []
    pos, ai = 0, 0
    url = _URL.search(text)
    while True:
        if url is not None and url.start() < pos:
            url = _URL.search(text, pos)
        email: tuple[int, int] | None = None
        while ai < len(ats):
            at, local = ats[ai]
            if at > max(local, pos):
                if at not in domains:
                    dom = _DOMAIN.match(text, at + 1)
                    domains[at] = dom.end() if dom else None
                end = domains[at]
                if end is not None:
                    email = (max(local, pos), end)
                    break
            ai += 1
        if url is not None and (email is None or url.start() <= email[0]):
            span = url.span()
        elif email is not None:
            span = email
        else:
            return out
        out.append(span)
        pos = span[1]


def blank_urls(text: str) -> str:
    """``text`` with each URL and e-mail address replaced by as many spaces (offsets kept)."""
    spans = urlish_spans(text)
    if not spans:
        return text
    pieces, last = [], 0
    for a, b in spans:
        pieces.append(text[last:a])
        pieces.append(" " * (b - a))
        last = b
    pieces.append(text[last:])
    return "".join(pieces)


@dataclass(frozen=True)
class NewTermRules:
    suffixes: tuple[str, ...]
    prefix_stop: frozenset[str]
    latin_stop: frozenset[str]
    min_upper: int
    max_length: int


@lru_cache(maxsize=2)
def load_rules(path: Path = TERMS_PATH) -> NewTermRules:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return NewTermRules(
        suffixes=tuple(data["cjk_suffixes"]),
        prefix_stop=frozenset(data["cjk_prefix_stop"]),
        latin_stop=frozenset(str(w).casefold() for w in data["latin_stop"]),
        min_upper=int(data.get("min_upper_acronym", 2)),
        max_length=int(data.get("max_term_length", 30)),
    )


def technical_latin(token: str, in_cjk_text: bool, rules: NewTermRules) -> bool:
    """Whether a Latin token looks like a technology name rather than an English word."""
    if len(token) < 2 or len(token) > rules.max_length or token.casefold() in rules.latin_stop:
        return False
    parts = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", token)
    if len(parts) > 1 and all(p.casefold() in rules.latin_stop for p in parts):
        return False  # English words run together: "EngineerBusiness"
    if token.isdigit():
        return False
    body = token[1:]
    if any(c.isupper() for c in body) and any(c.islower() for c in token):
        return True  # CamelCase / inner capital: LangChain, gRPC
    if any(c.isdigit() for c in token) or re.search(r"[.+#\-]", token):
        return len(re.sub(r"[^A-Za-z]", "", token)) >= 1
    if token.isupper() and len(token) >= rules.min_upper:
        return True
    if in_cjk_text and token[0].isupper() and len(token) >= 3:
        return True
    return False


def find_new_terms(
    text: str,
    sentences: Sequence[Sentence],
    covered: Sequence[tuple[int, int]],
    is_known,
    tokens: Sequence[tuple[str, int]] = (),
    rules: NewTermRules | None = None,
) -> Counter[str]:
    """Counts of unknown technical terms. ``is_known(term)`` says whether the taxonomy (or the
    rules) already name a term; ``tokens`` are (text, start offset) pairs of the spaCy doc."""
    rules = rules or load_rules()
    spans = sorted(covered)
    out: Counter[str] = Counter()

    def overlaps(a: int, b: int) -> bool:
        i = bisect.bisect_left(spans, (b, b))
        return any(s < b and a < e for s, e in spans[max(0, i - 8) : i])

    keep: list[tuple[int, int]] = []
    for sent in sentences:
        if sent.boilerplate:
            continue
        keep.append((sent.start, sent.end))
        body = blank_urls(sent.text)
        cjk = len(_CJK.findall(body))
        in_cjk = cjk >= 2 and cjk >= 0.3 * len(body.replace(" ", ""))  # mostly-Chinese sentence
        for m in _LATIN.finditer(body):
            token = m.group(0).rstrip(".-")
            start = sent.start + m.start()
            if overlaps(start, start + len(token)) or is_known(token) or _glued_english(token, is_known):
                continue
            glued = _CJK_OR_PUNCT.match(body[m.start() - 1 : m.start()] or " ") or _CJK_OR_PUNCT.match(
                body[m.start() + len(token) : m.start() + len(token) + 1] or " "
            )
            if technical_latin(token, in_cjk or (cjk >= 2 and bool(glued)), rules):
                out[token] += 1
    if tokens:
        _suffix_terms(tokens, keep, overlaps, is_known, rules, out)
    return out


def _glued_english(token: str, is_known) -> bool:
    """A known name with an English word glued on ("MongoDBexperiences", "NoSQLpreferred")."""
    m = re.match(r"^(.*?[A-Z0-9])([a-z]{4,})$", token)
    return bool(m and is_known(m.group(1)))


def _suffix_terms(tokens, keep, overlaps, is_known, rules: NewTermRules, out: Counter[str]) -> None:
    starts = [a for a, _ in keep]
    for i in range(1, len(tokens)):
        word, pos = tokens[i]
        if word not in rules.suffixes:
            continue
        prev, prev_pos = tokens[i - 1]
        if (
            len(prev) < 2
            or not _CJK.search(prev)
            or prev in rules.prefix_stop
            or any(prev.endswith(s) for s in ("的", "等", "和", "及"))
        ):
            continue
        j = bisect.bisect_right(starts, prev_pos) - 1
        if j < 0 or not (keep[j][0] <= prev_pos and pos + len(word) <= keep[j][1]):
            continue
        term = prev + word
        if overlaps(prev_pos, pos + len(word)) or is_known(term) or is_known(prev):
            continue
        out[term] += 1
