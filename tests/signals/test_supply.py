"""Supply files (graduates by major, job seekers by occupation) and demand ÷ supply in the catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from signals.catalogue import build_catalogue
from signals.periods import parse_period
from signals.supply import SupplyError, load_supply, province_key
from skill_taxonomy import default_taxonomy
from storage import PostingFilter

from .conftest import SEEDS, Planted
from .synthetic import DEMAND, PERIOD

TAXONOMY = default_taxonomy()


def _write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8-sig")
    return path


def _write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    wb.save(path)
    return path


def test_graduates_join_occupations_through_majors(tmp_path: Path) -> None:
    # 人工智能 is listed by 人工智能工程技术人员 only; 计算机科学与技术 by several occupations
    sharing = sum("计算机科学与技术" in o.majors for o in TAXONOMY.occupations.values())
    assert sharing > 1 and "计算机科学与技术" in TAXONOMY.occupations[DEMAND].majors
    ai_majors = TAXONOMY.occupations[DEMAND].majors
    only_ai = [m for m in ai_majors if sum(m in o.majors for o in TAXONOMY.occupations.values()) == 1]
    assert only_ai
    path = _write_csv(
        tmp_path / "grads.csv",
        "专业,省份,年份,毕业生人数\n"
        f"{only_ai[0]},广东省,2025,1200\n"
        f"{only_ai[0]},四川省,2025,300\n"
        f"计算机科学与技术,广东省,2025,{600 * sharing}\n"
        f"{only_ai[0]},广东省,2024,999\n"
        "哲学,广东省,2025,5000\n",
    )
    table = load_supply(path)
    assert table.kind == "graduates" and len(table.graduates) == 5
    q3 = parse_period("2026Q3")
    # the latest year not after 2026: 2025; 计算机科学与技术 split equally between the occupations listing it
    assert table.supply(DEMAND, q3, TAXONOMY, ["广东"]) == pytest.approx(1200 + 600)
    assert table.supply(DEMAND, q3, TAXONOMY) == pytest.approx(1200 + 300 + 600)
    assert table.supply(DEMAND, parse_period("2024"), TAXONOMY, ["广东"]) == pytest.approx(999)
    assert table.supply(DEMAND, parse_period("2023"), TAXONOMY) is None
    assert table.annualise(q3) == 4.0


def test_seekers_from_xlsx_give_the_openings_per_seeker(tmp_path: Path, planted: Planted) -> None:
    _, store = planted(SEEDS[0])
    path = _write_xlsx(
        tmp_path / "seekers.xlsx",
        [
            ["occupation", "province", "period", "seekers"],
            [DEMAND, "广东", "2026Q3", 400],
            [DEMAND, "北京", "2026Q3", 100],
        ],
    )
    table = load_supply(path)
    assert table.kind == "seekers"
    cat = build_catalogue(store, TAXONOMY, PERIOD, region="east", supply=table, with_skills=False)
    assert cat.measure == "demand_supply_ratio"
    ai = [e for e in cat.entries if e.indicators.occupation == DEMAND]
    east_unique = store.count_postings(
        flt=PostingFilter(
            occupations=[DEMAND], regions=["east"], start=parse_period(PERIOD).start, end=parse_period(PERIOD).end
        ),
        unique_only=True,
    )
    for e in ai:  # supply is per occupation (all levels): the ratio is the occupation's openings ÷ seekers
        assert e.indicators.supply == 500
        assert e.indicators.demand_supply_ratio == pytest.approx(east_unique / 500)
    others = [e for e in cat.entries if e.indicators.occupation != DEMAND]
    assert all(e.indicators.supply is None and e.indicators.demand_supply_ratio is None for e in others)
    without = build_catalogue(store, TAXONOMY, PERIOD, region="east", with_skills=False)
    assert without.measure == "demand_tightness"
    assert all(e.indicators.demand_supply_ratio is None for e in without.entries)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("major,year,graduates\n软件工程,2025,100\n软件工程,二〇二五,100\n", "row 3, column 'year'"),
        ("major,year,graduates\n软件工程,2025,-5\n", "row 2, column 'graduates'"),
        ("occupation,period,seekers\n2-02-38-01,2026Q5,10\n", "row 2, column 'period'"),
        ("职业,期间,求职人数\n,2026Q3,10\n", "row 2, column 'occupation'"),
        ("name,count\nx,1\n", "names neither graduates"),
        ("", "empty"),
    ],
)
def test_bad_rows_name_their_row_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = _write_csv(tmp_path / "bad.csv", text)
    with pytest.raises(SupplyError, match=message):
        load_supply(path)


def test_unsupported_file_and_province_names(tmp_path: Path) -> None:
    with pytest.raises(SupplyError, match=r"\.csv or \.xlsx"):
        load_supply(_write_csv(tmp_path / "x.json", "{}"))
    with pytest.raises(SupplyError, match="no such file"):
        load_supply(tmp_path / "missing.csv")
    assert [
        province_key(p) for p in ("广东省", "新疆维吾尔自治区", "北京市", "内蒙古自治区", "广西壮族自治区", "四川")
    ] == [
        "广东",
        "新疆",
        "北京",
        "内蒙古",
        "广西",
        "四川",
    ]
