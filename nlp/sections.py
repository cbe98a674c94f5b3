"""Split a posting's description into sentences, each tagged with the section it sits in.

Sections: ``duties`` (岗位职责/工作内容...), ``requirements`` (任职要求/我们希望...),
``preferred`` (加分项/优先条件...), ``company`` (公司介绍...), ``benefits`` (福利/工作地点...),
``contact`` (联系方式/邮箱...), and ``body`` for text before any heading. Headings are cue words
from ``nlp/data/section_cues.yaml`` written as headings (followed by a colon or bracket, or at the
start of a line). Sentences outside any heading that read as company blurb or benefits (regular
expressions in the same file) are tagged ``company`` / ``benefits`` too.

Each sentence also says whether it marks what it names as a plus (``preferred``: 优先, 加分,
更佳, "a plus"...), either by its own words or by sitting in a ``preferred`` section.

    for s in split_sections(description):
        s.kind, s.preferred, s.text, s.start, s.end
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Literal

import yaml

SectionKind = Literal["body", "duties", "requirements", "preferred", "company", "benefits", "contact"]
BOILERPLATE: frozenset[str] = frozenset({"company", "benefits", "contact"})
CUES_PATH = Path(__file__).parent / "data" / "section_cues.yaml"

# Sentence ends, and numbered list items ("1、", "2.", "3:", "(4)", "（5）", "①").
_SENT_END = re.compile(r"[。；;！!？?\n\r]+|(?<=[a-z\)）])\.\s+(?=[A-Z])")
_ITEM = re.compile(
    r"(?:(?<![\dA-Za-z.])\d{1,2}\s*(?:[、．)）]|\.(?!\d)|[:：](?!\d))|[（(]\d{1,2}[)）]|[①-⑳]|[一二三四五六七八九十][、．.])"
)

#: the number that opens a list item ("3、")
_ITEM_NUMBER = re.compile(r"\d+")
_GLUED_ITEM = re.compile(r"(?<=[A-Za-z])(\d{1,2})\s*(?:[、．]|\.(?!\d))")


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int
    kind: SectionKind
    preferred: bool

    @property
    def boilerplate(self) -> bool:
        return self.kind in BOILERPLATE


@dataclass(frozen=True)
class _Cues:
    heading: re.Pattern[str]
    heading_kind: dict[str, SectionKind]
    boiler: list[tuple[SectionKind, re.Pattern[str]]]
    preferred: re.Pattern[str]
    roles: list[tuple[SectionKind, re.Pattern[str]]]


@lru_cache(maxsize=4)
def load_cues(path: Path = CUES_PATH) -> _Cues:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    kind_of: dict[str, SectionKind] = {}
    for kind, cues in data["headings"].items():
        for cue in cues:
            kind_of.setdefault(cue.casefold(), kind)
    alternatives = "|".join(re.escape(c) for c in sorted(kind_of, key=len, reverse=True))
    # A cue is a heading when a colon / bracket follows it, or it ends a line on its own.
    heading = re.compile(
        rf"[【\[]?\s*(?P<cue>{alternatives})\s*(?:[】\]]\s*[:：]?|[:：]|(?=\s*[\n\r])|(?=\s*(?:[1１一①]\s*[、.．:：)）]|[（(][1１][)）])))",
        re.IGNORECASE,
    )
    boiler = [
        (kind, re.compile(p, re.IGNORECASE))
        for kind, patterns in (data.get("boilerplate_sentences") or {}).items()
        for p in patterns
    ]
    markers = "|".join(re.escape(m) for m in data.get("preferred_markers") or [])
    roles = [(kind, re.compile(p)) for kind, p in (data.get("sentence_roles") or {}).items()]
    return _Cues(heading, kind_of, boiler, re.compile(markers, re.IGNORECASE), roles)


class _Matches:
    """``pattern.search(text, pos)`` for many positions in linear total time (a fresh search
    from every list item re-reads the rest of the text: quadratic on a long description).

    One ``finditer`` pass finds every match; a search from ``pos`` is the first of them starting
    at or after ``pos``, except where ``pos`` falls inside a match ``finditer`` stepped over:
    the positions from ``pos`` to that match's end were never tried, so they are tried here."""

    def __init__(self, pattern: re.Pattern[str], text: str) -> None:
        self.pattern = pattern
        self.text = text
        self.found = list(pattern.finditer(text))
        self.starts = [m.start() for m in self.found]

    def search(self, pos: int) -> re.Match[str] | None:
        i = bisect_right(self.starts, pos) - 1  # the last match starting at or before pos
        if i >= 0:
            prev = self.found[i]
            if prev.start() == pos:
                return prev
            for q in range(pos, prev.end()):  # inside a match: positions finditer skipped
                m = self.pattern.match(self.text, q)
                if m is not None:
                    return m
        return self.found[i + 1] if i + 1 < len(self.found) else None


def _spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans: cut at sentence ends and before numbered list items. A number glued to
    a word ("...REST API3. 掌握") is a list item only when it continues the list's numbering."""
    cuts = {0, len(text)}
    for m in _SENT_END.finditer(text):
        cuts.add(m.start())
        cuts.add(m.end())
    last = 0
    items = _Matches(_ITEM, text)
    glued_items = _Matches(_GLUED_ITEM, text)
    for m in items.found:
        cuts.add(m.start())
        number = _ITEM_NUMBER.match(m.group(0))  # "①" is isdigit() but no \d: it starts no number
        if number is not None:
            last = int(number.group(0))
        glued = glued_items.search(m.end())
        while glued is not None and int(glued.group(1)) == last + 1:
            cuts.add(glued.start(1))
            last += 1
            nxt = items.search(glued.end())
            glued_next = glued_items.search(glued.end())
            if nxt is not None and glued_next is not None and nxt.start() <= glued_next.start():
                break
            glued = glued_next
    points = sorted(cuts)
    return [(a, b) for a, b in pairwise(points) if text[a:b].strip(" \t\r\n。；;！!？?")]


def split_sections(text: str, cues: _Cues | None = None) -> list[Sentence]:
    """Sentences of ``text`` with their section kind and preferred flag, in order."""
    if not text:
        return []
    cues = cues or load_cues()
    # Heading positions: (start, end, kind). Text after a heading belongs to its kind.
    headings = [(m.start(), m.end(), cues.heading_kind[m.group("cue").casefold()]) for m in cues.heading.finditer(text)]
    out: list[Sentence] = []
    cursor_kind: SectionKind = "body"
    h = 0
    for start, end in _spans(text):
        pieces: list[tuple[int, int, SectionKind]] = []
        seg_start, kind = start, cursor_kind
        while h < len(headings) and headings[h][0] < end:
            hs, he, hk = headings[h]
            if hs >= seg_start:
                pieces.append((seg_start, hs, kind))
                seg_start, kind = max(he, seg_start), hk
            h += 1
        pieces.append((seg_start, end, kind))
        cursor_kind = kind
        for a, b, k in pieces:
            chunk = text[a:b]
            if not chunk.strip(" \t\r\n:：，,。；;"):
                continue
            out.append(_sentence(chunk, a, b, k, cues))
    return out


_LEAD = re.compile(
    r"^[\s\-•·*●■◆▪]*(?:\d{1,2}\s*[、.．:：)）]|[（(]\d{1,2}[)）]|[①-⑳]|[一二三四五六七八九十][、．.])?\s*"
)


def _sentence(chunk: str, start: int, end: int, kind: SectionKind, cues: _Cues) -> Sentence:
    if kind in ("body", "duties", "requirements"):
        lead = _LEAD.match(chunk)
        assert lead is not None  # every part of _LEAD is optional: it matches any string
        body = chunk[lead.end() :]
        for role, pattern in cues.roles:
            if pattern.match(body):
                kind = role
                break
    if kind == "body":
        for boiler_kind, pattern in cues.boiler:
            if pattern.search(chunk):
                kind = boiler_kind
                break
    preferred = kind == "preferred" or bool(cues.preferred.search(chunk))
    return Sentence(chunk, start, end, kind, preferred)


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Comma-level clauses inside one sentence (for preferred / education context)."""
    cuts = [0] + [m.end() for m in re.finditer(r"[，,]|\s{2,}", text)] + [len(text)]
    return [(a, b) for a, b in pairwise(cuts) if b > a]
