"""Supply data a user brings: graduates by major × province × year, or job seekers by occupation.

Two file shapes (CSV, UTF-8 with or without BOM, or XLSX, first sheet; the header names the
columns, in English or Chinese):

* **graduates** — ``major`` (专业), ``province`` (省份, optional), ``year`` (年份), ``graduates``
  (毕业生人数). A major's graduates are joined to occupations through the taxonomy's ``majors``;
  a major several occupations list is split equally between them (no graduate is counted twice).
* **seekers** — ``occupation`` (职业, a taxonomy code), ``province`` (optional), ``period``
  (期间: ``2026-07``, ``2026Q3``, ``2026``), ``seekers`` (求职人数).

Every row is validated (pydantic); an error names the file, the row (as a spreadsheet numbers it,
header = row 1) and the column. With supply, a cell's ratio is openings ÷ supply — the 求人倍率
shape: unique postings of the period ÷ job seekers of the same period, or unique postings over a
year (the period's postings scaled to 12 months) ÷ the graduates of the period's year (the latest
year in the file not after it).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from openpyxl import load_workbook
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from skill_taxonomy import Taxonomy

from .periods import Period, PeriodError, parse_period

SupplyKind = Literal["graduates", "seekers"]

#: header spellings accepted for each column
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "major": ("major", "专业", "专业名称"),
    "province": ("province", "省份", "省", "地区"),
    "year": ("year", "年份", "毕业年份"),
    "graduates": ("graduates", "毕业生", "毕业生人数", "毕业生数"),
    "occupation": ("occupation", "职业", "职业编码"),
    "period": ("period", "期间", "时期"),
    "seekers": ("seekers", "求职人数", "求职者"),
}
_PROVINCE_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


class SupplyError(ValueError):
    """A supply file that cannot be read; the message names the row and column."""


def province_key(name: str | None) -> str | None:
    """The short province name the store uses (广东省 → 广东, 新疆维吾尔自治区 → 新疆)."""
    if name is None:
        return None
    text = name.strip()
    for suffix in _PROVINCE_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            return text[: -len(suffix)]
    return text or None


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    province: str | None = None

    @field_validator("province", mode="before")
    @classmethod
    def _province(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return province_key(str(value))


class GraduateRow(_Row):
    major: str = Field(min_length=1)
    year: int = Field(ge=1950, le=2100)
    graduates: int = Field(ge=0)


class SeekerRow(_Row):
    occupation: str = Field(min_length=1)
    period: str
    seekers: int = Field(ge=0)

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: object) -> str:
        try:
            return parse_period(str(value)).label
        except PeriodError as exc:
            raise ValueError(str(exc)) from exc


@dataclass
class SupplyTable:
    """Validated supply rows of one kind."""

    kind: SupplyKind
    graduates: list[GraduateRow] = field(default_factory=list)
    seekers: list[SeekerRow] = field(default_factory=list)
    source: str = ""

    def supply(
        self,
        occupation: str,
        period: Period,
        taxonomy: Taxonomy,
        provinces: Iterable[str] | None = None,
    ) -> float | None:
        """The occupation's supply for ``period`` in ``provinces`` (None = every row); None when the
        file holds nothing for it."""
        wanted = None if provinces is None else {province_key(p) for p in provinces}
        if self.kind == "seekers":
            rows = [
                r
                for r in self.seekers
                if r.occupation == occupation and r.period == period.label and (wanted is None or r.province in wanted)
            ]
            return float(sum(r.seekers for r in rows)) if rows else None
        occ = taxonomy.occupations.get(occupation)
        if occ is None or not occ.majors:
            return None
        year = self._year(period.end.year)
        if year is None:
            return None
        sharing = _major_sharing(taxonomy)
        majors = set(occ.majors)
        total, found = 0.0, False
        for r in self.graduates:
            if r.year == year and r.major in majors and (wanted is None or r.province in wanted):
                total += r.graduates / sharing.get(r.major, 1)
                found = True
        return total if found else None

    def _year(self, up_to: int) -> int | None:
        years = [r.year for r in self.graduates if r.year <= up_to]
        return max(years) if years else None

    def annualise(self, period: Period) -> float:
        """The factor turning the period's postings into the supply's time base."""
        return 12 / period.n_months if self.kind == "graduates" else 1.0


def _major_sharing(taxonomy: Taxonomy) -> Mapping[str, int]:
    """How many occupations list each major."""
    counts: dict[str, int] = defaultdict(int)
    for occ in taxonomy.occupations.values():
        for major in set(occ.majors):
            counts[major] += 1
    return counts


def _canonical(header: Sequence[object]) -> list[str | None]:
    out: list[str | None] = []
    for cell in header:
        name = str(cell).strip().lower() if cell is not None else ""
        out.append(next((k for k, aliases in COLUMN_ALIASES.items() if name in aliases), None))
    return out


def _records(path: Path) -> tuple[list[object], list[list[object]]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = wb.worksheets[0]
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            wb.close()
    elif path.suffix.lower() in (".csv", ".txt"):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = [list(r) for r in csv.reader(fh)]
    else:
        raise SupplyError(f"{path}: a supply file is .csv or .xlsx, not {path.suffix or 'no suffix'}")
    rows = [r for r in rows if any(c not in (None, "") for c in r)]
    if not rows:
        raise SupplyError(f"{path}: empty (a header row and data rows expected)")
    return rows[0], rows[1:]


def parse_supply(header: Sequence[object], rows: Iterable[Sequence[object]], source: str = "supply") -> SupplyTable:
    """Validate rows under ``header`` into a :class:`SupplyTable` (kind told by the columns)."""
    columns = _canonical(header)
    present = {c for c in columns if c}
    if {"major", "year", "graduates"} <= present:
        kind: SupplyKind = "graduates"
        model: type[_Row] = GraduateRow
    elif {"occupation", "period", "seekers"} <= present:
        kind, model = "seekers", SeekerRow
    else:
        raise SupplyError(
            f"{source}: header {list(header)} names neither graduates (major, year, graduates[, province]) "
            "nor job seekers (occupation, period, seekers[, province])"
        )
    wanted = set(model.model_fields)
    table = SupplyTable(kind=kind, source=source)
    for number, row in enumerate(rows, start=2):
        values = {c: v for c, v in zip(columns, row, strict=False) if c in wanted and v not in (None, "")}
        try:
            parsed = model.model_validate(values)
        except ValidationError as exc:
            err = exc.errors()[0]
            column = ".".join(str(p) for p in err["loc"]) or "?"
            raise SupplyError(f"{source}: row {number}, column {column!r}: {err['msg']}") from exc
        if isinstance(parsed, GraduateRow):
            table.graduates.append(parsed)
        elif isinstance(parsed, SeekerRow):
            table.seekers.append(parsed)
    return table


def load_supply(path: Path | str) -> SupplyTable:
    """Read and validate a graduates or job-seekers file (CSV or XLSX)."""
    file = Path(path)
    if not file.is_file():
        raise SupplyError(f"{file}: no such file")
    header, rows = _records(file)
    return parse_supply(header, rows, source=str(file))
