"""Text cleaning for job-posting text: HTML → plain text, width and script normalisation, garbage removal.

:func:`clean_text` is what every title and description goes through before extraction:

* HTML to text — only real HTML tag names are treated as markup, so ``List<String>`` or
  ``vector<int>`` in a description survive; block tags and ``<br>`` become line breaks;
  ``<script>``/``<style>`` bodies are dropped; entities are unescaped. Regex based, so malformed
  HTML cannot make it fail.
* NFKC (full-width letters, digits and punctuation → half-width; ``\\u3000`` → space).
* Traditional → simplified Chinese (OpenCC ``t2s``), only on lines that hold a character that
  is traditional-only, so simplified text is never touched and stays cheap.
* Control characters, lone surrogates, BOM/zero-width characters, private-use characters and
  runs of U+FFFD are removed.
* Bullets (``•``, ``●``, ``①``, ``1、``, ``2.``, ``(3)``) start a new line; runs of spaces
  collapse to one space; line breaks are kept (section detection relies on them), blank lines
  collapse to one break.

:func:`split_sentences` splits clean text into sentences short enough to embed.
"""

from __future__ import annotations

import html
import logging
import os
import re
import unicodedata
from functools import lru_cache

import opencc

log = logging.getLogger(__name__)

#: Above this many characters of traditional-script lines, OpenCC's phrase conversion (pure
#: Python, ~5 µs a character) is replaced by a per-character table, which is linear and fast.
OPENCC_MAX_CHARS = 50_000

#: Longest sentence :func:`split_sentences` returns.
MAX_SENTENCE_CHARS = 200

# --- HTML --------------------------------------------------------------------------------

_BLOCK_TAGS = (
    "address|article|aside|blockquote|body|caption|center|dd|details|dialog|dir|div|dl|dt|"
    "fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hgroup|hr|html|"
    "legend|li|main|menu|nav|noscript|ol|option|p|pre|section|summary|table|tbody|td|tfoot|th|"
    "thead|title|tr|ul"
)
_INLINE_TAGS = (
    "a|abbr|acronym|b|bdi|bdo|big|button|cite|code|col|colgroup|data|del|dfn|em|embed|font|i|"
    "iframe|img|input|ins|kbd|label|link|map|mark|meta|meter|object|output|param|picture|"
    "progress|q|rp|rt|ruby|s|samp|select|small|source|span|strike|strong|sub|sup|svg|textarea|"
    "time|track|tt|u|var|video|wbr|audio|base|area|canvas|o:p"
)
_HTML_HINT = re.compile(r"<(?:\s*/?\s*(?:" + _BLOCK_TAGS + "|" + _INLINE_TAGS + r"|br|script|style)\b|!--)", re.I)
_SCRIPT_STYLE = re.compile(r"<\s*(script|style)\b[^>]*>.*?(?:<\s*/\s*\1\s*>|$)", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_BR = re.compile(r"<\s*br\s*/?\s*>|<\s*/\s*br\s*>", re.I)
_BLOCK = re.compile(r"<\s*/?\s*(?:" + _BLOCK_TAGS + r")\b[^<>]*>", re.I)
_INLINE = re.compile(r"<\s*/?\s*(?:" + _INLINE_TAGS + r")\b[^<>]*>", re.I)
_DOCTYPE = re.compile(r"<!\s*doctype[^>]*>|<\?xml[^>]*\?>", re.I)


def html_to_text(text: str) -> str:
    """Strip HTML markup, keeping block structure as line breaks. Text without markup is only unescaped."""
    if "<" in text and _HTML_HINT.search(text):
        text = _COMMENT.sub("", text)
        text = _SCRIPT_STYLE.sub("\n", text)
        text = _DOCTYPE.sub("", text)
        text = _BR.sub("\n", text)
        text = _BLOCK.sub("\n", text)
        text = _INLINE.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return text


# --- garbage ----------------------------------------------------------------------------

_GARBAGE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\ufeff\ufffc\ufffd\ufffe\uffff"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u00ad]+"
)
_MOJIBAKE_HINT = re.compile("[\u00c2-\u00ef][\u0080-\u00bf]")
_CJK = re.compile("[\u4e00-\u9fff]")


def _repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Latin-1/cp1252 ("ä½ å¥½" → "你好") when the whole text is that shape."""
    if _CJK.search(text) or not _MOJIBAKE_HINT.search(text):
        return text
    for codec in ("latin-1", "cp1252"):
        try:
            fixed = text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if _CJK.search(fixed):
            return fixed
    return text


def decode_bytes(data: bytes) -> str:
    """Decode bytes from a page or file: UTF-8, else GB18030 (a superset of GBK/GB2312), else UTF-8 lossy."""
    for codec in ("utf-8", "gb18030"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


# --- traditional → simplified ------------------------------------------------------------


def _opencc_dictionary(name: str) -> dict[str, str]:
    path = os.path.join(os.path.dirname(opencc.__file__), "dictionary", name)
    table: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and parts[1]:
                table[parts[0]] = parts[1].split(" ")[0]
    return table


#: Characters OpenCC lists as traditional that simplified text uses in names: 昇腾 (Huawei Ascend),
#: 润乾 (a BI product). Left as written.
KEEP_CHARS = frozenset("昇乾")


@lru_cache(maxsize=1)
def _t2s_tables() -> tuple[frozenset[str], dict[int, str]]:
    """(traditional-only characters, per-character t2s translate table)."""
    try:
        ts = _opencc_dictionary("TSCharacters.txt")
        st = _opencc_dictionary("STCharacters.txt")
    except OSError as exc:  # pragma: no cover - opencc's dictionaries ship with it
        log.warning("OpenCC dictionaries unavailable (%s); traditional text is kept as is", exc)
        return frozenset(), {}
    # A character that is also a simplified form (a key of STCharacters) does not mark text as
    # traditional: 著, 干, 后 appear in ordinary simplified text.
    trad = {k: v for k, v in ts.items() if len(k) == 1 and v != k and k not in st and k not in KEEP_CHARS}
    return frozenset(trad), {ord(k): v for k, v in trad.items()}


@lru_cache(maxsize=1)
def _opencc():
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert traditional Chinese to simplified; lines without a traditional-only character are untouched."""
    trad, table = _t2s_tables()
    if trad.isdisjoint(text):  # C-speed scan; a regex class of 4k characters is 20x slower
        return text
    lines = text.split("\n")
    marked = [i for i, line in enumerate(lines) if not trad.isdisjoint(line)]
    if sum(len(lines[i]) for i in marked) > OPENCC_MAX_CHARS:
        convert = lambda s: s.translate(table)  # noqa: E731 - linear fallback for huge text
    else:
        convert = _opencc().convert
    for i in marked:
        lines[i] = convert(lines[i])
    return "\n".join(lines)


# --- layout -----------------------------------------------------------------------------

_CIRCLED = {chr(0x2460 + i): f"{i + 1}." for i in range(20)}  # ①..⑳
_CIRCLED.update({chr(0x2776 + i): f"{i + 1}." for i in range(10)})  # ❶..❿
_CIRCLED.update({chr(0x2474 + i): f"({i + 1})" for i in range(20)})  # ⑴..⒇
_CIRCLED.update({chr(0x2488 + i): f"{i + 1}." for i in range(20)})  # ⒈..⒛
_CIRCLED_RE = re.compile("[" + "".join(_CIRCLED) + "]")
_BULLET_CHARS = "•●○◆◇■□▪▫►▶★☆✓✔➢➤❖◎"
_BULLET = re.compile(r" ?[" + _BULLET_CHARS + r"]+ ?")  # runs after spaces collapse: no backtracking
_BOUNDARY = r"(?:(?<=[;；。:：!！?？,，])[ \t]*|(?<![ \t\n])[ \t]+)"
# "1、" "2." "3）" "(4)" "（5）" "一、" after a boundary; a "." item must not be a decimal (3.5)
# nor a version ("Python 3.x").
_NUMBERED = re.compile(
    _BOUNDARY + r"(?=(?:\d{1,2}(?:[、)）]|\.(?![\d.a-z%]))|[(（]\d{1,2}[)）]|[一二三四五六七八九十]{1,2}、))",
    re.M,
)
_SPACES = re.compile(r"[ \t\f\v]+")
_SPACE_AROUND_NL = re.compile(r" ?\n ?")
_MANY_NL = re.compile(r"\n{2,}")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def _layout(text: str) -> str:
    # Spaces collapse first so that no later pattern meets a long run of blanks (quadratic).
    text = _SPACES.sub(" ", text)
    text = _BULLET.sub("\n• ", text)
    text = _NUMBERED.sub("\n", text)
    text = _SPACE_AROUND_NL.sub("\n", text)
    text = _MANY_NL.sub("\n", text)
    return text.strip()


def clean_text(text: str | bytes | None) -> str:
    """Clean one title or description (see the module doc). Never raises; ``None`` gives ``""``."""
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        text = decode_bytes(bytes(text))
    elif not isinstance(text, str):
        text = str(text)
    if not text:
        return ""
    text = _NEWLINES.sub("\n", text)
    text = _repair_mojibake(text)
    text = _GARBAGE.sub("", text)
    text = html_to_text(text)
    text = _GARBAGE.sub("", text)  # entities may have produced some
    if _CIRCLED_RE.search(text):
        text = _CIRCLED_RE.sub(lambda m: " " + _CIRCLED[m.group()], text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = to_simplified(text)
    return _layout(text)


# --- sentences ---------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[。；;！!？?])|\n")
_LIST_MARK = re.compile(r"(?:(?<=\s)|(?<=[，,：:])|^)(?=(?:\d{1,2}(?:[、)）]|\.(?![\d.a-z%]))|[(（]\d{1,2}[)）]|•))")
_SOFT_BREAK = re.compile(r"(?<=[，,、：:])")


def _cap(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    out: list[str] = []
    current = ""
    for piece in _SOFT_BREAK.split(sentence):
        if len(piece) > limit:  # no comma in reach: cut hard, preferring a space
            if current:
                out.append(current)
                current = ""
            start = 0
            while len(piece) - start > limit:
                cut = piece.rfind(" ", start + limit // 2, start + limit)
                cut = cut if cut > start else start + limit
                out.append(piece[start:cut])
                start = cut
            piece = piece[start:]
        if len(current) + len(piece) > limit and current:
            out.append(current)
            current = ""
        current += piece
    if current:
        out.append(current)
    return [s.strip() for s in out if s.strip()]


def split_sentences(text: str | None, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Split text on 。；;！!？?, line breaks and list markers; pieces longer than ``max_chars`` are cut
    at commas (or hard). Empty pieces and bare list markers are dropped."""
    if not text:
        return []
    out: list[str] = []
    for chunk in _SENTENCE_END.split(text):
        for part in _LIST_MARK.split(chunk):
            part = part.strip()
            if not part or _is_bare_marker(part):
                continue
            out.extend(_cap(part, max_chars))
    return out


_BARE_MARKER = re.compile(r"^(?:\d{1,2}[.、)）]?|[(（]\d{1,2}[)）]|•|[-–—*·]+|[;；。,，:：!！?？]+)$")


def _is_bare_marker(part: str) -> bool:
    return bool(_BARE_MARKER.match(part))
