"""The catalogue's files from a Catalogue built here: the XLSX opens with openpyxl and holds the
right cells, the HTML parses, escapes and loads nothing from elsewhere, the Markdown table has one
row per entry; the measure is worded 需求紧张度 unless supply data is present."""

from __future__ import annotations

import io
from datetime import date
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from signals.catalogue_files import (
    COLUMNS,
    SUMMARY,
    file_format,
    to_html,
    to_markdown,
    to_text,
    to_xlsx,
    write_catalogue,
)
from signals.models import (
    Catalogue,
    CatalogueEntry,
    CellIndicators,
    Interval95,
    NamedCount,
    Rating,
    SignalCheck,
    Thresholds,
)

EVIL = '<script>alert("x")</script> & | pipe'


def entry(code: str, name: str, label: str, postings: int, **extra) -> CatalogueEntry:
    return CatalogueEntry(
        indicators=CellIndicators(
            occupation=code,
            occupation_name=name,
            level="高级",
            region="east",
            period="2026Q3",
            unique_postings=postings,
            total_postings=postings + 7,
            growth_previous=0.52,
            median_salary=23500.0,
            duration_median_days=31.0,
            **extra,
        ),
        rating=Rating(
            label=label,
            stars={"critical": 5, "elevated": 4, "normal": 2}.get(label),
            score=1.8,
            score_interval=Interval95(low=1.4, high=2.3),
            signals=["demand"] if label != "normal" else [],
            reasons=["share of digital postings 1.9× its baseline"] if label != "normal" else [],
            checks=[
                SignalCheck(
                    signal="demand",
                    now=0.04,
                    before=0.021,
                    sample_now=postings,
                    sample_before=400,
                    ratio=1.9,
                    interval=Interval95(low=1.5, high=2.4),
                    material=1.25,
                    p_value=0.0001,
                    q_value=0.0004,
                    fired=label != "normal",
                )
            ],
        ),
        top_skills=[NamedCount(id="pytorch", name="PyTorch", postings=80), NamedCount(id="python", postings=60)],
        top_competencies=[NamedCount(id="ai.s.1.1", name="能设计深度学习模型", postings=40)],
        related_majors=["人工智能", "计算机科学与技术"],
    )


def catalogue(measure: str = "demand_tightness") -> Catalogue:
    return Catalogue(
        period="2026Q3",
        start=date(2026, 7, 1),
        end=date(2026, 9, 30),
        region="east",
        measure=measure,
        thresholds=Thresholds(min_sample=30, description="critical: two signals fired, or one ≥ 1.5×"),
        entries=[
            entry("2-02-38-01", "人工智能工程技术人员", "critical", 120),
            entry("2-02-38-09", EVIL, "elevated", 45),
            entry("2-02-38-03", "大数据工程技术人员", "normal", 300, supply=80.0, demand_supply_ratio=3.75),
        ],
    )


def test_format_follows_the_suffix():
    assert [file_format(p) for p in ("a.xlsx", "b.HTML", "c.htm", "d.md")] == ["xlsx", "html", "html", "md"]
    with pytest.raises(ValueError, match=r"\.csv"):
        file_format("out.csv")
    with pytest.raises(ValueError, match="no suffix"):
        file_format("out")


def test_xlsx_opens_with_the_entries_thresholds_and_signals():
    cat = catalogue()
    wb = load_workbook(io.BytesIO(to_xlsx(cat)))
    assert wb.sheetnames == ["catalogue", "thresholds", "signals"]
    ws = wb["catalogue"]
    rows = list(ws.iter_rows(values_only=True))
    keys = [key for key, _, _ in COLUMNS]
    head = dict(zip(keys, range(len(keys)), strict=True))
    assert len(rows) == 1 + len(cat.entries)
    # every indicator has a column, and the rating, the skills, competencies and majors
    for field in CellIndicators.model_fields:
        assert field in head, field
    assert rows[0][head["unique_postings"]] == "unique_postings"
    assert rows[0][head["rating"]].endswith("rating")
    first, evil, third = rows[1:]
    assert first[head["occupation"]] == "2-02-38-01" and first[head["occupation_name"]] == "人工智能工程技术人员"
    assert first[head["rating"]] == "critical" and first[head["stars"]] == 5
    assert (first[head["score_low"]], first[head["score_high"]]) == (1.4, 2.3)
    assert first[head["unique_postings"]] == 120 and first[head["total_postings"]] == 127  # numbers, not text
    assert first[head["growth_previous"]] == 0.52 and first[head["median_salary"]] == 23500.0
    assert first[head["top_skills"]] == "PyTorch (80)、python (60)"
    assert first[head["top_competencies"]] == "能设计深度学习模型 (40)"
    assert first[head["related_majors"]] == "人工智能、计算机科学与技术"
    assert first[head["supply"]] is None and third[head["demand_supply_ratio"]] == 3.75
    assert evil[head["occupation_name"]] == EVIL  # a cell holds text as text
    fills = [ws.cell(row=r, column=head["rating"] + 1).fill.fgColor.rgb for r in (2, 3, 4)]
    assert len(set(fills)) == 3  # each rating its colour
    rules = dict(wb["thresholds"].iter_rows(min_row=2, values_only=True))
    assert rules["measure"].startswith("需求紧张度")
    assert rules["min_sample"].startswith("30")
    assert rules["period"] == "2026Q3 (2026-07-01 – 2026-09-30)" and rules["region"] == "东部"
    assert rules["rule"] == "critical: two signals fired, or one ≥ 1.5×"
    checks = list(wb["signals"].iter_rows(values_only=True))
    assert len(checks) == 1 + 3
    sig = dict(zip(checks[0], checks[1], strict=True))
    assert (sig["occupation"], sig["signal"], sig["ratio"], sig["low"], sig["high"], sig["fired"]) == (
        "2-02-38-01",
        "demand",
        1.9,
        1.5,
        2.4,
        True,
    )


def test_xlsx_drops_control_characters_a_worksheet_cannot_hold():
    cat = catalogue().model_copy(update={"province": "广\x07东"})
    cat.entries[0].indicators.occupation_name = "人工\x00智能\x1b"
    wb = load_workbook(io.BytesIO(to_xlsx(cat)))
    assert wb["catalogue"].cell(row=2, column=2).value == "人工智能"
    assert dict(wb["thresholds"].iter_rows(min_row=2, values_only=True))["province"] == "广东"


def test_supply_data_changes_the_measure_wording():
    rules = dict(load_workbook(io.BytesIO(to_xlsx(catalogue("demand_supply_ratio"))))["thresholds"].values)
    assert "需求紧张度" not in rules["measure"] and "求人倍率" in rules["measure"]
    assert "需求紧张度" not in to_html(catalogue("demand_supply_ratio"))
    assert "需求紧张度" in to_markdown(catalogue()) and "需求紧张度" in to_html(catalogue())


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def test_html_is_one_escaped_page_without_external_assets():
    cat = catalogue()
    text = to_html(cat)
    page = _Page()
    page.feed(text)
    page.close()
    tags = [t for t, _ in page.tags]
    assert tags.count("script") == 0 and "link" not in tags and "img" not in tags  # the evil name stayed text
    assert "http://" not in text and "https://" not in text and "src=" not in text
    assert "&lt;script&gt;" in text
    header, *body = page.rows
    assert header == [label for label, _ in SUMMARY]
    assert len(body) == len(cat.entries)
    assert any(EVIL in cell for cell in body[1])  # the parsed text is what was written
    ratings = [a.get("data-rating") for t, a in page.tags if t == "tr" and "data-rating" in a]
    assert ratings == ["critical", "elevated", "normal"]
    assert "需求紧张度" in "".join(page.text)


def test_markdown_table_has_one_row_per_entry_and_escapes_pipes():
    cat = catalogue()
    lines = to_markdown(cat).splitlines()
    table = [ln for ln in lines if ln.startswith("|")]
    assert len(table) == 2 + len(cat.entries)
    columns = len(SUMMARY)
    for row in table:
        cells = [c for c in row.replace("\\|", "").split("|")[1:-1]]
        assert len(cells) == columns, row
    assert "\\|" in table[3]  # the pipe in the evil name is escaped
    assert table[2].split("|")[1].strip() == "人工智能工程技术人员 2-02-38-01"
    assert "需求紧张度" in lines[2]


def test_terminal_table_lists_the_first_entries():
    cat = catalogue()
    out = to_text(cat, limit=2)
    lines = out.splitlines()
    assert lines[0] == "紧缺人才目录 2026Q3 东部" and lines[1].startswith("需求紧张度")
    assert "人工智能工程技术人员" in out and "大数据工程技术人员" not in out
    assert "1 more entries" in lines[-1]


def test_write_catalogue_writes_by_suffix_and_leaves_nothing_half_written(tmp_path):
    cat = catalogue()
    for name, fmt in (("c.xlsx", "xlsx"), ("c.html", "html"), ("c.md", "md")):
        assert write_catalogue(cat, tmp_path / name) == fmt
    assert load_workbook(tmp_path / "c.xlsx")["catalogue"].max_row == 4
    assert (tmp_path / "c.md").read_text(encoding="utf-8") == to_markdown(cat)
    with pytest.raises(OSError):
        write_catalogue(cat, tmp_path / "missing-dir" / "c.md")
    with pytest.raises(ValueError):
        write_catalogue(cat, tmp_path / "c.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.html", "c.md", "c.xlsx"]
