"""Salary text → monthly CNY range (:class:`skillsignal.core.models.Salary`).

Reads what boards write: ``15-25K·13薪``, ``1万-1.5万``, ``0.8-1.2万/月``, ``10-20万/年``,
``150元/天``, ``50元/小时``, ``8千-1万``, ``2万以上``, ``1.5千以下/月``, ``面议``. Rules (units,
period words, days per month, which sources write annual pay without saying so) are in
``nlp/data/fields/salary.yaml``. Never raises: text it cannot read comes back as
``Salary(text=...)`` with no figures.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

from skillsignal.core.models import Salary

from .data import SalaryRules, salary_rules

log = logging.getLogger(__name__)

# Digits bounded and anchored at the start of a digit run: no quadratic backtracking on "1111...".
_NUM = r"(?<![\d.])(\d{1,9}(?:\.\d{1,4})?)"
_SEP = r"\s*(?:-|~|～|—|–|至|到)+\s*"
_MONTHS = re.compile(r"(\d{2}(?:\.\d)?)\s*薪")


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], SalaryRules]:
    rules = salary_rules()
    units = "|".join(re.escape(u) for u in sorted(rules.units, key=len, reverse=True))
    unit = rf"\s*({units})?"
    rng = re.compile(_NUM + unit + _SEP + _NUM + unit, re.I)
    single = re.compile(
        r"(不低于|至少|最高|不超过)?\s*" + _NUM + unit + r"\s*(及以上|以上|以下|以内|之内|起|\+)?", re.I
    )
    return rng, single, rules


def _period(low: str, rules: SalaryRules) -> str | None:
    best: tuple[int, str] | None = None
    for period, words in rules.periods.items():
        for word in words:
            pos = low.find(word)
            if pos >= 0 and (best is None or pos < best[0]):
                best = (pos, period)
    return best[1] if best else None


def _to_month(value: float, period: str, months: float | None, rules: SalaryRules) -> float:
    if period == "year":
        return value / (months or rules.months_per_year)
    if period == "day":
        return value * rules.work_days_per_month
    if period == "hour":
        return value * rules.work_hours_per_day * rules.work_days_per_month
    if period == "week":
        return value * rules.weeks_per_month
    return value


def parse_salary(text: str | None, source: str | None = None) -> Salary:
    """Parse salary ``text``; ``source`` (``liepin``, ``51job``...) settles whether a bare ``N万`` is a
    month's or a year's pay (see ``source_wan_period`` in the rules file)."""
    if text is None:
        return Salary()
    try:
        return _parse(str(text), source)
    except Exception:  # noqa: BLE001 - a parser bug must not lose the posting
        log.exception("salary %r: parser failed; kept as text", str(text)[:60])
        return Salary(text=str(text).strip() or None)


def _parse(text: str, source: str | None) -> Salary:
    original = text.strip()
    if not original:
        return Salary()
    rng, single, rules = _patterns()
    low = unicodedata.normalize("NFKC", original).lower()
    for marker in rules.cut_at:
        pos = low.find(marker)
        if pos > 0:
            low = low[:pos]
    low = low.replace(",", "").replace("，", "")  # 10,000
    negotiable = any(word in low for word in rules.negotiable)
    months_m = _MONTHS.search(low)
    months = float(months_m.group(1)) if months_m else None
    if months_m:
        low = low[: months_m.start()] + " " + low[months_m.end() :]
    if months is not None and not 12 <= months <= 24:
        months = None

    lo_val: float | None
    hi_val: float | None
    m = rng.search(low)
    if m:
        a, ua, b, ub = float(m.group(1)), m.group(2), float(m.group(3)), m.group(4)
        ua = ua or ub
        ub = ub or ua
        lo_val, hi_val = a * _unit(ua, rules), b * _unit(ub, rules)
        units_seen = {u for u in (ua, ub) if u}
    else:
        m = single.search(low)
        if not m:
            return Salary(text=original, negotiable=negotiable)
        pre, num, unit, post = m.group(1), float(m.group(2)), m.group(3), m.group(4)
        value = num * _unit(unit, rules)
        units_seen = {unit} if unit else set()
        if post in ("以下", "以内", "之内") or pre in ("最高", "不超过"):
            lo_val, hi_val = None, value
        elif post in ("以上", "及以上", "起", "+") or pre in ("不低于", "至少"):
            lo_val, hi_val = value, None
        else:
            lo_val = hi_val = value

    period = _period(low, rules)
    if period is None:
        top_wan = max(v for v in (lo_val, hi_val) if v is not None) / 10_000
        period = _default_period(units_seen, top_wan, source, rules)
    if not units_seen and period == "month" and max(v for v in (lo_val, hi_val) if v is not None) < 300:
        # "15-25" with no unit on a monthly board means thousands
        lo_val = lo_val * 1000 if lo_val is not None else None
        hi_val = hi_val * 1000 if hi_val is not None else None

    lo_m = _to_month(lo_val, period, months, rules) if lo_val is not None else None
    hi_m = _to_month(hi_val, period, months, rules) if hi_val is not None else None
    if lo_m is not None and hi_m is not None and lo_m > hi_m:
        lo_m, hi_m = hi_m, lo_m
    return Salary(
        text=original,
        min=round(lo_m, 2) if lo_m is not None else None,
        max=round(hi_m, 2) if hi_m is not None else None,
        period=period,
        months=months,
        negotiable=negotiable,
    )


def _unit(unit: str | None, rules: SalaryRules) -> float:
    if not unit:
        return 1.0
    return rules.units.get(unit.lower(), rules.units.get(unit, 1.0))


def _default_period(units: set[str], top_wan: float, source: str | None, rules: SalaryRules) -> str:
    if units and all(u.lower() in ("万", "w") for u in units):
        if top_wan < rules.yearly_min_wan:
            return "month"
        hint = rules.source_wan_period.get((source or "").strip().lower()) or rules.source_wan_period.get(
            (source or "").strip()
        )
        if hint:
            return hint
        return "year" if top_wan >= rules.unitless_wan_yearly_from else "month"
    return "month"
