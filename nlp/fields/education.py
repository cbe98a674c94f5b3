"""Education requirement text → one normalised level (不限, 初中, 高中, 中专, 大专, 本科, 硕士, 博士).

Synonyms (专科/高职 → 大专, 学士 → 本科, 研究生/MBA → 硕士, 中技/技校 → 中专 ...) are in
``nlp/data/fields/education.yaml``. The leftmost synonym in the value wins, so
``本科及以上，硕士优先`` is 本科. Never raises; an unknown value (``其他``) keeps ``level=None``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

from skillsignal.core.models import Education

from .data import education_rules

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _matcher() -> tuple[re.Pattern[str], dict[str, str]]:
    rules = education_rules()
    word_level = {w.casefold(): level for level, words in rules.synonyms.items() for w in words}
    words = sorted(word_level, key=len, reverse=True)
    # ASCII words (mba, phd, 985) must stand alone: "mba" not inside "embarrass", "211" not in "2110".
    parts = [rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])" if w.isascii() else re.escape(w) for w in words]
    return re.compile("|".join(parts)), word_level


def education_level(text: str | None) -> str | None:
    """The normalised level named in ``text`` (leftmost match), or ``None``."""
    if not text:
        return None
    pattern, word_level = _matcher()
    m = pattern.search(unicodedata.normalize("NFKC", text).casefold())
    return word_level[m.group()] if m else None


def parse_education(text: str | None) -> Education:
    """Parse the education field; never raises."""
    if text is None:
        return Education()
    original = str(text).strip()
    if not original:
        return Education()
    try:
        return Education(text=original, level=education_level(original))
    except Exception:  # noqa: BLE001 - a parser bug must not lose the posting
        log.exception("education %r: parser failed; kept as text", original[:60])
        return Education(text=original)
