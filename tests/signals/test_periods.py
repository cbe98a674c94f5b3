from datetime import date

import pytest

from signals.periods import PeriodError, add_months, parse_period, period_of


@pytest.mark.parametrize(
    ("text", "label", "months", "end"),
    [
        ("2026-07", "2026-07", [date(2026, 7, 1)], date(2026, 7, 31)),
        ("2026-2", "2026-02", [date(2026, 2, 1)], date(2026, 2, 28)),
        ("2026Q3", "2026Q3", [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)], date(2026, 9, 30)),
        ("2024q1", "2024Q1", [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)], date(2024, 3, 31)),
        ("2025", "2025", [date(2025, m, 1) for m in range(1, 13)], date(2025, 12, 31)),
    ],
)
def test_parse_period(text: str, label: str, months: list[date], end: date) -> None:
    p = parse_period(text)
    assert p.label == label and p.months == months and p.start == months[0] and p.end == end


def test_previous_and_year_before() -> None:
    assert parse_period("2026-01").previous().label == "2025-12"
    assert parse_period("2026Q1").previous().label == "2025Q4"
    assert parse_period("2026").previous().label == "2025"
    assert parse_period("2026Q3").year_before().label == "2025Q3"
    assert parse_period("2026-03").year_before().label == "2025-03"
    assert parse_period("2026Q3").history_months(12) == [add_months(date(2025, 7, 1), i) for i in range(12)]


def test_period_of_a_day() -> None:
    assert period_of(date(2026, 8, 15), "quarter").label == "2026Q3"
    assert period_of(date(2026, 8, 15), "month").label == "2026-08"
    assert period_of(date(2026, 8, 15), "year").label == "2026"


@pytest.mark.parametrize("text", ["2026-13", "2026Q5", "26Q1", "July 2026", "", "0000", "9999Q4", "1899-12"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)
