"""The one reader of posting dates, shared by every way a posting comes in (API, CLI import, crawl)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2}))?")


def parse_date(value: Any) -> date | None:
    """Dates as boards write them: ``2026-09-14``, ``2026/9/14``, ``2026年9月14日``, ``2026-09`` (a month
    reads as its first day), ISO datetimes (their date). Empty is None; anything else is a ValueError
    whose message says what was expected."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):  # a number is no date (2019.5 is not May 2019)
        raise ValueError(f"cannot read a date from {value!r} (expected YYYY-MM-DD or YYYY-MM text)")
    text = value.strip()
    m = _DATE.match(text)
    if not m:
        raise ValueError(f"cannot read a date from {text[:40]!r} (expected YYYY-MM-DD or YYYY-MM)")
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{text[:40]!r} is not a real date ({exc})") from exc
