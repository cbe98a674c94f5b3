"""Reporting periods: a month (``2026-07``), a quarter (``2026Q3``) or a year (``2026``).

A :class:`Period` knows its months; it gives the previous period of the same length, the same
period a year before, and the months of the history a rating compares it with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

PeriodKind = Literal["month", "quarter", "year"]

_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_QUARTER = re.compile(r"(\d{4})\s*[Qq]([1-4])")
_YEAR = re.compile(r"(\d{4})")


#: the years a period may fall in (a period's history and the year before must stay representable)
MIN_YEAR, MAX_YEAR = 1900, 2099


class PeriodError(ValueError):
    """A period text that is none of ``YYYY-MM``, ``YYYYQn``, ``YYYY`` (years 1900–2099)."""


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` months after (before, for negative ``n``) ``month``'s."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_range(first: date, last: date) -> list[date]:
    """First days of every month from ``first``'s to ``last``'s, both included."""
    out: list[date] = []
    cur = first.replace(day=1)
    while cur <= last:
        out.append(cur)
        cur = add_months(cur, 1)
    return out


@dataclass(frozen=True, slots=True)
class Period:
    """A run of whole months; ``label`` is the canonical text (``2026-07``, ``2026Q3``, ``2026``)."""

    kind: PeriodKind
    first_month: date
    n_months: int

    @property
    def label(self) -> str:
        y, m = self.first_month.year, self.first_month.month
        if self.kind == "month":
            return f"{y:04d}-{m:02d}"
        if self.kind == "quarter":
            return f"{y:04d}Q{(m - 1) // 3 + 1}"
        return f"{y:04d}"

    @property
    def months(self) -> list[date]:
        return [add_months(self.first_month, i) for i in range(self.n_months)]

    @property
    def start(self) -> date:
        return self.first_month

    @property
    def end(self) -> date:
        """The last day of the period (inclusive)."""
        return add_months(self.first_month, self.n_months) - timedelta(days=1)

    def shifted(self, n_periods: int) -> Period:
        return Period(self.kind, add_months(self.first_month, n_periods * self.n_months), self.n_months)

    def previous(self) -> Period:
        """The period of the same length just before (2026Q3 → 2026Q2)."""
        return self.shifted(-1)

    def year_before(self) -> Period:
        """The same period a year before (2026Q3 → 2025Q3)."""
        return Period(self.kind, add_months(self.first_month, -12), self.n_months)

    def history_months(self, n: int = 12) -> list[date]:
        """The ``n`` months just before the period (the rating's own-history baseline)."""
        return [add_months(self.first_month, -n + i) for i in range(n)]

    def __str__(self) -> str:
        return self.label


def _year(text: str, original: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"period {original!r}: year {year} is not {MIN_YEAR}-{MAX_YEAR}")
    return year


def parse_period(text: str) -> Period:
    """``2026-07`` → July 2026, ``2026Q3`` → July–September 2026, ``2026`` → the year."""
    value = text.strip()
    if m := _MONTH.fullmatch(value):
        year = _year(m.group(1), text)
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"period {text!r}: month {month} is not 1-12")
        return Period("month", date(year, month, 1), 1)
    if m := _QUARTER.fullmatch(value):
        return Period("quarter", date(_year(m.group(1), text), 3 * int(m.group(2)) - 2, 1), 3)
    if _YEAR.fullmatch(value):
        return Period("year", date(_year(value, text), 1, 1), 12)
    raise PeriodError(f"period {text!r}: expected YYYY-MM (2026-07), YYYYQn (2026Q3) or YYYY (2026)")


def period_of(day: date, kind: PeriodKind) -> Period:
    """The period of ``kind`` that holds ``day``."""
    if kind == "month":
        return Period("month", day.replace(day=1), 1)
    if kind == "quarter":
        return Period("quarter", date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), 3)
    return Period("year", date(day.year, 1, 1), 12)
