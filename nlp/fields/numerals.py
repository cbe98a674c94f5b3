"""Small Chinese numerals as boards write them (一, 两, 十, 十五, 二十, 半) → numbers."""

from __future__ import annotations

import re

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

#: A number as written in requirement text: Arabic (``3``, ``1.5``), Chinese up to 99 (``三``,
#: ``十``, ``十五``, ``二十``) or ``半``.
NUMBER = r"(?:\d{1,2}(?:\.\d{1,2})?|[一二两俩三四五六七八九]?十[一二三四五六七八九]?|[零〇一二两俩三四五六七八九半])"
_NUMBER_RE = re.compile(rf"^{NUMBER}$")


def to_number(text: str) -> float | None:
    """``"3"`` → 3, ``"1.5"`` → 1.5, ``"十五"`` → 15, ``"两"`` → 2, ``"半"`` → 0.5; else ``None``."""
    text = text.strip()
    if not text or not _NUMBER_RE.match(text):
        return None
    if text[0].isdigit():
        return float(text)
    if text == "半":
        return 0.5
    if "十" in text:
        tens, _, units = text.partition("十")
        value = (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)
        return float(value)
    if len(text) == 1 and text in _DIGITS:
        return float(_DIGITS[text])
    return None
