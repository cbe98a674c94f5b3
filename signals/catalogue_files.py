"""The catalogue (紧缺人才目录) as files: XLSX, a standalone HTML page, a Markdown table, a terminal table.

The format follows the file's suffix (:func:`file_format`). Every file says what its demand figure
is: without supply data it is 需求紧张度 (demand tightness, read from postings alone), never a
shortage; with supply data, demand ÷ supply (the 求人倍率 shape). Every file prints the published
rating thresholds beside the entries.

* XLSX (openpyxl): sheet ``catalogue`` holds one row per entry with every indicator, the rating
  (label, stars, score and its 95 % interval, the signals and reasons) and the top skills,
  competencies and related majors; sheet ``thresholds`` holds the period, the measure wording and
  the rating rules; sheet ``signals`` holds each entry's signal checks (ratio, interval, p, q).
* HTML: one page, inline style, no script and no external asset; every text is escaped.
* Markdown: the rules as a list and one table row per entry (``|`` and line breaks escaped).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill

from .catalogue import REGION_NAMES as _REGION_IDS
from .models import Catalogue, CatalogueEntry, CellIndicators, NamedCount, SignalCheck, Thresholds

FileFormat = Literal["xlsx", "html", "md"]
FORMATS: dict[str, FileFormat] = {".xlsx": "xlsx", ".html": "html", ".htm": "html", ".md": "md"}
MEDIA_TYPES: dict[FileFormat, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}

#: what the demand figure is called, by measure
MEASURE_WORDING = {
    "demand_tightness": "需求紧张度 (demand tightness): read from job postings alone; not a shortage figure",
    "demand_supply_ratio": "供需比 / 求人倍率 (demand ÷ supply): postings over the supply data given",
}
RATING_WORDING = {
    "critical": "紧缺 critical",
    "elevated": "偏紧 elevated",
    "normal": "正常 normal",
    "suppressed": "样本不足 suppressed",
}
#: rating colours (HTML and XLSX fills)
RATING_COLOURS = {"critical": "F8D7DA", "elevated": "FFE8CC", "normal": "D8F3DC", "suppressed": "E9ECEF"}
#: region id -> its Chinese name (east -> 东部)
REGION_NAMES = {rid: name for name, rid in _REGION_IDS.items() if name != rid}

Value = str | int | float | None


def file_format(path: Path | str) -> FileFormat:
    """The format a catalogue file's name asks for; ValueError naming the suffixes known."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"{path}: cannot tell the catalogue format from {suffix or 'no suffix'!r}; use {known}")
    return FORMATS[suffix]


def _named(items: Sequence[NamedCount]) -> str:
    return "、".join(f"{i.name or i.id} ({i.postings})" for i in items)


def _region(c: CellIndicators) -> str:
    parts = [REGION_NAMES.get(c.region, c.region) if c.region else None, c.province]
    return " ".join(p for p in parts if p) or "全国"


def _ind(field: str) -> Callable[[CatalogueEntry], Value]:
    def get(e: CatalogueEntry) -> Value:
        value = getattr(e.indicators, field)
        return value if value is None or isinstance(value, (str, int, float)) else str(value)

    return get


#: the XLSX columns: (key, label, value); the indicator columns are every CellIndicators field
COLUMNS: list[tuple[str, str, Callable[[CatalogueEntry], Value]]] = [
    ("occupation", "职业编码", _ind("occupation")),
    ("occupation_name", "职业", _ind("occupation_name")),
    ("direction", "方向", _ind("direction")),
    ("level", "等级", _ind("level")),
    ("region", "地区", _ind("region")),
    ("province", "省份", _ind("province")),
    ("period", "时期", _ind("period")),
    ("rating", "评级", lambda e: e.rating.label),
    ("stars", "星级", lambda e: e.rating.stars),
    ("score", "得分", lambda e: e.rating.score),
    ("score_low", "得分95%下限", lambda e: e.rating.score_interval.low),
    ("score_high", "得分95%上限", lambda e: e.rating.score_interval.high),
    ("signals", "紧张信号", lambda e: "; ".join(e.rating.signals)),
    ("reasons", "依据", lambda e: "; ".join(e.rating.reasons)),
    *[
        (name, name, _ind(name))
        for name in CellIndicators.model_fields
        if name not in {"occupation", "occupation_name", "direction", "level", "region", "province", "period"}
    ],
    ("top_skills", "热门技能", lambda e: _named(e.top_skills)),
    ("top_competencies", "主要能力要求", lambda e: _named(e.top_competencies)),
    ("related_majors", "相关专业", lambda e: "、".join(e.related_majors)),
]


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:+.0f}%"


def _num(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


#: the short table (Markdown, HTML, terminal): (label, value as text)
SUMMARY: list[tuple[str, Callable[[CatalogueEntry], str]]] = [
    ("职业 occupation", lambda e: f"{e.indicators.occupation_name or ''} {e.indicators.occupation or ''}".strip()),
    ("方向 direction", lambda e: e.indicators.direction or "–"),
    ("等级 level", lambda e: e.indicators.level or "全部"),
    ("地区 region", lambda e: _region(e.indicators)),
    ("评级 rating", lambda e: RATING_WORDING[e.rating.label] + (f" {'★' * e.rating.stars}" if e.rating.stars else "")),
    ("岗位 postings", lambda e: _num(e.indicators.unique_postings)),
    ("环比 vs previous", lambda e: _pct(e.indicators.growth_previous)),
    ("同比 vs year", lambda e: _pct(e.indicators.growth_year)),
    ("月薪中位数 pay", lambda e: _num(e.indicators.median_salary)),
    ("在招天数中位数 days open", lambda e: _num(e.indicators.duration_median_days)),
    ("热门技能 skills", lambda e: _named(e.top_skills[:5]) or "–"),
    ("能力要求 competencies", lambda e: _named(e.top_competencies[:3]) or "–"),
    ("相关专业 majors", lambda e: "、".join(e.related_majors[:5]) or "–"),
]


def _title(cat: Catalogue) -> str:
    where = " ".join(p for p in (REGION_NAMES.get(cat.region or "", cat.region), cat.province) if p) or "全国"
    return f"紧缺人才目录 {cat.period} {where}"


def _rules(cat: Catalogue) -> list[tuple[str, str]]:
    """The facts printed beside the entries: period, place, measure, thresholds."""
    return [
        ("period", f"{cat.period} ({cat.start.isoformat()} – {cat.end.isoformat()})"),
        ("region", REGION_NAMES.get(cat.region or "", cat.region or "全国")),
        ("province", cat.province or "–"),
        ("measure", MEASURE_WORDING[cat.measure]),
        *[
            (name, f"{getattr(cat.thresholds, name)}" + (f": {info.description}" if info.description else ""))
            for name, info in Thresholds.model_fields.items()
            if name != "description"
        ],
        ("rule", cat.thresholds.description or "–"),
        ("entries", str(len(cat.entries))),
    ]


# ---------------------------------------------------------------------------------------- XLSX
def _cell(value: object) -> object:
    """A value a worksheet takes: text without the control characters XML 1.0 cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def to_xlsx(cat: Catalogue) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None, "a new workbook has a sheet"
    ws.title = "catalogue"
    ws.append([f"{label} {key}" if label != key else key for key, label, _ in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    rating_col = [key for key, _, _ in COLUMNS].index("rating") + 1
    for entry in cat.entries:
        ws.append([_cell(get(entry)) for _, _, get in COLUMNS])
        ws.cell(row=ws.max_row, column=rating_col).fill = PatternFill(
            "solid", fgColor=RATING_COLOURS[entry.rating.label]
        )
    ws.freeze_panes = "C2"
    rules = wb.create_sheet("thresholds")
    rules.append(["item", "value"])
    for key, text in _rules(cat):
        rules.append([key, _cell(text)])
    checks = wb.create_sheet("signals")
    where = ["occupation", "direction", "level", "region", "province"]
    fields = [f for f in SignalCheck.model_fields if f != "interval"]
    checks.append([*where, *fields, "low", "high"])
    for entry in cat.entries:
        for check in entry.rating.checks:
            checks.append(
                [
                    *(_cell(getattr(entry.indicators, f)) for f in where),
                    *(_cell(getattr(check, f)) for f in fields),
                    check.interval.low,
                    check.interval.high,
                ]
            )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------- HTML
_STYLE = """
body{font-family:"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",system-ui,sans-serif;margin:24px;color:#1f2933}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #d1d5db;padding:4px 8px;vertical-align:top}
th{background:#f3f4f6;text-align:left}dt{font-weight:bold}dd{margin:0 0 6px 16px}.measure{font-size:15px}
""" + "".join(f".rating-{k}{{background:#{v}}}" for k, v in RATING_COLOURS.items())


def to_html(cat: Catalogue) -> str:
    e = html.escape
    rules = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in _rules(cat))
    head = "".join(f"<th>{e(label)}</th>" for label, _ in SUMMARY)
    rows = "".join(
        f'<tr class="rating-{e(entry.rating.label)}" data-rating="{e(entry.rating.label)}">'
        + "".join(f"<td>{e(get(entry))}</td>" for _, get in SUMMARY)
        + "</tr>"
        for entry in cat.entries
    )
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{e(_title(cat))}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{e(_title(cat))}</h1><p class="measure">{e(MEASURE_WORDING[cat.measure])}</p>'
        f"<dl>{rules}</dl><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        "</body></html>\n"
    )


# ------------------------------------------------------------------------------------ Markdown
def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def to_markdown(cat: Catalogue) -> str:
    lines = [f"# {_title(cat)}", "", f"**{MEASURE_WORDING[cat.measure]}**", ""]
    lines += [f"- {k}: {_md(v)}" for k, v in _rules(cat)]
    lines += ["", "| " + " | ".join(label for label, _ in SUMMARY) + " |", "|" + "---|" * len(SUMMARY)]
    lines += ["| " + " | ".join(_md(get(entry)) for _, get in SUMMARY) + " |" for entry in cat.entries]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ terminal
def to_text(cat: Catalogue, limit: int = 30) -> str:
    """A short table for a terminal: the first ``limit`` entries, fewer columns."""
    cols = SUMMARY[:9]
    rows = [[label for label, _ in cols]] + [[get(e) for _, get in cols] for e in cat.entries[:limit]]
    width = [max(_width(r[i]) for r in rows) for i in range(len(cols))]
    lines = [_title(cat), MEASURE_WORDING[cat.measure], ""]
    lines += ["  ".join(cell + " " * (width[i] - _width(cell)) for i, cell in enumerate(r)).rstrip() for r in rows]
    if len(cat.entries) > limit:
        lines.append(f"… {len(cat.entries) - limit} more entries (write them all with -o FILE.xlsx|.html|.md)")
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    """Columns a text takes on a terminal (CJK characters take two)."""
    return sum(2 if "\u2e80" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef" else 1 for ch in text)


def render(cat: Catalogue, fmt: FileFormat) -> bytes:
    if fmt == "xlsx":
        return to_xlsx(cat)
    return (to_html(cat) if fmt == "html" else to_markdown(cat)).encode("utf-8")


def write_catalogue(cat: Catalogue, path: Path) -> FileFormat:
    """Write ``cat`` to ``path`` in the format its suffix names (ValueError for an unknown one,
    OSError when it cannot be written); the file appears whole or not at all."""
    fmt = file_format(path)
    data = render(cat, fmt)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return fmt
