"""Experience requirements: the posting's experience field, and the years a description asks for.

* :func:`parse_experience` reads the field (``3-5年``, ``5年以上``, ``十年以上``, ``1年以下``,
  ``经验不限``, ``应届生``) into ``years_min``/``years_max``. Values that name no number
  (不限, 无经验, 应届生, 在校生) keep both ``None``: per ../shared/eval/GUIDELINE.md rule 3 the field
  then "gives none" and the description is read instead.
* :func:`first_required_years` is that description reading: the lower bound of the first number of
  years the text asks for (``3年以上`` → 3, ``3-5年`` → 3, ``三年以上`` → 3, ``两年`` → 2,
  ``半年`` → 0.5), only in experience-like contexts — never company age (``成立10年``), dates
  (``2019年``) or periods (``5年内``). Cue words are in ``nlp/data/fields/experience.yaml``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

from skillsignal.core.models import Experience

from .data import ExperienceRules, experience_rules
from .numerals import NUMBER, to_number

log = logging.getLogger(__name__)

_SEP = r"\s*(?:-|~|～|—|–|至|到)\s*"
# (number) optional (- number) [个] 年 ; not preceded by a digit (2019年) or a decimal point.
_YEARS = re.compile(rf"(?<![\d.])({NUMBER})(?:{_SEP}({NUMBER}))?\s*(?:个)?\s*(?:整)?年(半)?")
_CLAUSE_BREAK = re.compile(r"[,，。;；!！?？\n:：]")
_BEFORE_BREAK = re.compile(r"[,，。;；!！?？\n、]")
_LIST_DECIMAL = re.compile(r"^(\d{1,2})\.(\d{1,2})$")
_TWO_DIGITS = re.compile(r"^[1-9]\d$")


@lru_cache(maxsize=1)
def _rules() -> ExperienceRules:
    return experience_rules()


def _value(first: str, second: str | None, half: str | None) -> tuple[float | None, float | None]:
    lo = to_number(first)
    hi = to_number(second) if second else None
    if half:
        if hi is not None:
            hi += 0.5
        elif lo is not None:
            lo += 0.5
    return lo, hi


def parse_experience(text: str | None) -> Experience:
    """Parse the experience field; never raises (unreadable text is kept with no years)."""
    if text is None:
        return Experience()
    try:
        return _parse_field(str(text))
    except Exception:  # noqa: BLE001 - a parser bug must not lose the posting
        log.exception("experience %r: parser failed; kept as text", str(text)[:60])
        return Experience(text=str(text).strip() or None)


def _parse_field(text: str) -> Experience:
    original = text.strip()
    if not original:
        return Experience()
    norm = unicodedata.normalize("NFKC", original).replace(" ", "")
    m = _YEARS.search(norm)
    if not m:
        return Experience(text=original)
    lo, hi = _value(m.group(1), m.group(2), m.group(3))
    if lo is None:
        return Experience(text=original)
    after = norm[m.end() : m.end() + 6]
    if hi is not None:
        lo, hi = min(lo, hi), max(lo, hi)
    elif after.startswith(("以下", "以内", "内")) or norm.startswith(("不到", "少于")):
        lo, hi = 0.0, lo
    elif any(after.startswith(w) for w in ("以上", "及以上", "或以上", "+", "(含)以上", "起")) or norm.startswith(
        ("至少", "不少于", "超过")
    ):
        hi = None
    else:
        hi = lo
    return Experience(text=original, years_min=lo, years_max=hi)


def first_required_years(description: str | None) -> float | None:
    """Lower bound of the first number of years of experience ``description`` asks for, or ``None``."""
    if not description:
        return None
    try:
        return _first_years(unicodedata.normalize("NFKC", str(description)))
    except Exception:  # noqa: BLE001 - a parser bug must not lose the posting
        log.exception("first_required_years failed on a description; treated as none")
        return None


def _first_years(text: str) -> float | None:
    rules = _rules()
    for m in _YEARS.finditer(text):
        first, second, half = m.group(1), m.group(2), m.group(3)
        # "1.3年以上" is list item 1 + "3年以上" (the marker glued on); "1.5年" is one and a half.
        dec = _LIST_DECIMAL.match(first)
        if dec and dec.group(2) not in ("0", "5", "00", "50"):
            first = dec.group(2)
        elif _TWO_DIGITS.match(first) and int(first) not in rules.round_years:
            first = first[1]
        lo, hi = _value(first, second, half)
        if lo is None or lo > rules.max_years or (hi is not None and hi > rules.max_years):
            continue
        after_full = text[m.end() : m.end() + rules.window_after]
        brk = _CLAUSE_BREAK.search(after_full)
        after = after_full[: brk.start()] if brk else after_full
        if any(after_full.startswith(p) for p in rules.reject_after_prefix):
            continue
        before_full = text[max(0, m.start() - rules.window_before) : m.start()]
        brk_positions = [b.end() for b in _BEFORE_BREAK.finditer(before_full)]
        before = before_full[brk_positions[-1] :] if brk_positions else before_full
        strong = any(c in after for c in rules.strong_cues_after)
        if any(w in before for w in rules.hard_reject_before):
            continue
        if not strong and any(w in before for w in rules.reject_before):
            continue
        bare = not after.strip() and not before.strip(" •-*.、()1234567890")
        if not (
            strong or bare or any(c in after for c in rules.cues_after) or any(c in before for c in rules.cues_before)
        ):
            continue
        if after.startswith(("以下", "以内")):
            return 0.0
        return min(lo, hi) if hi is not None else lo
    return None
