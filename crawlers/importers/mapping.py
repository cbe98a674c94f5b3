"""Column mappings: which column of a file becomes which posting field.

A mapping comes from an inline string (``职位=title,城市=city``), a YAML/JSON file, or a preset
name (``crawlers/data/mappings/<name>.yaml``). File and preset shape (validated by
:class:`MappingSpec`)::

    name: 51job-export
    description: ...
    columns:            # file column -> posting field ("-" drops the column)
      职位名称: title
      公司名称: company
    defaults:           # optional: field values for every record (e.g. source)
      source: 51job

Several columns may map onto one field: ``description`` joins them with a blank line,
``tags`` concatenates the lists, other fields take the first non-empty value. A column
name may be a dotted path (``company.name``) into nested JSON objects. Columns that the
mapping does not name pass through when they already carry a posting field name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from skillsignal.core.records import FLAT_FIELDS

PRESET_DIR = Path(__file__).resolve().parents[1] / "data" / "mappings"

#: Field names a mapping may target, with accepted aliases.
FIELD_ALIASES: dict[str, str] = {f: f for f in FLAT_FIELDS} | {
    "posted_at": "posted",
    "date": "posted",
    "date_posted": "posted",
    "name": "title",
    "job_title": "title",
    "location": "city",
    "skills": "tags",
    "-": "-",
    "ignore": "-",
}
JOIN_TEXT = {"description": "\n\n"}
TAG_SPLIT = re.compile(r"[,，;；|/、]+")


class MappingError(ValueError):
    """A mapping cannot be read or names an unknown posting field."""


class MappingSpec(BaseModel):
    name: str = "inline"
    description: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, columns: dict[str, str]) -> dict[str, str]:
        out = {}
        for col, field in columns.items():
            target = FIELD_ALIASES.get(str(field).strip())
            if target is None:
                raise ValueError(
                    f"column {col!r} maps onto unknown field {field!r}; known: {', '.join(sorted(FLAT_FIELDS))}"
                )
            out[str(col).strip()] = target
        return out

    @field_validator("defaults")
    @classmethod
    def _known_defaults(cls, defaults: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for field, value in defaults.items():
            target = FIELD_ALIASES.get(field)
            if target is None or target == "-":
                raise ValueError(f"default for unknown field {field!r}")
            out[target] = value
        return out


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


@cache
def load_preset(name: str) -> MappingSpec:
    path = PRESET_DIR / f"{name}.yaml"
    if not path.exists():
        raise MappingError(f"no mapping preset {name!r}; presets: {', '.join(preset_names())}")
    return _load_file(path)


def _load_file(path: Path) -> MappingSpec:
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read the mapping ({exc})") from exc
    if isinstance(data, dict) and "columns" not in data:
        data = {"name": path.stem, "columns": data}  # a bare {column: field} object
    try:
        return MappingSpec.model_validate(data)
    except ValidationError as exc:
        raise MappingError(f"{path}: {exc}") from exc


def parse_inline(text: str) -> MappingSpec:
    columns: dict[str, str] = {}
    for pair in text.split(","):
        if not pair.strip():
            continue
        if "=" not in pair:
            raise MappingError(f"mapping pair {pair!r} is not 'file_col=field'")
        col, field = pair.split("=", 1)
        columns[col.strip()] = field.strip()
    try:
        return MappingSpec(name="inline", columns=columns)
    except ValidationError as exc:
        raise MappingError(str(exc)) from exc


def resolve_mapping(mapping: str | Path | MappingSpec | None) -> MappingSpec | None:
    """A mapping from an inline string, a file path or a preset name (None: decide from the header)."""
    if mapping is None or isinstance(mapping, MappingSpec):
        return mapping
    text = str(mapping).strip()
    path = Path(text)
    if path.suffix.lower() in {".yaml", ".yml", ".json"} and path.exists():
        return _load_file(path)
    if "=" in text:
        return parse_inline(text)
    if (PRESET_DIR / f"{text}.yaml").exists():
        return load_preset(text)
    raise MappingError(
        f"mapping {text!r} is neither a YAML/JSON file, 'col=field' pairs nor a preset ({', '.join(preset_names())})"
    )


def guess_preset(columns: Iterable[str], minimum: int = 3) -> MappingSpec | None:
    """The preset that names most of ``columns`` (at least ``minimum`` of them), if any."""
    cols = set(columns)
    best, best_hits = None, 0
    for name in preset_names():
        spec = load_preset(name)
        hits = len(cols & spec.columns.keys())
        if hits > best_hits:
            best, best_hits = spec, hits
    return best if best_hits >= minimum else None


def _lookup(row: Mapping[str, Any], column: str) -> Any:
    if column in row:
        return row[column]
    if "." in column:
        value: Any = row
        for part in column.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
        return value
    return None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def apply_mapping(row: Mapping[str, Any], spec: MappingSpec | None, source: str | None = None) -> dict[str, Any]:
    """The flat record (``skillsignal.core.records`` field names) for one file row.

    ``source`` fills records that carry no source of their own, before the mapping's defaults.
    """
    record: dict[str, Any]
    if spec is None:
        record = {FIELD_ALIASES.get(k, k): v for k, v in row.items() if FIELD_ALIASES.get(k, k) != "-"}
        if source and _empty(record.get("source")):
            record["source"] = source
        return record
    record = {}
    targets = set(spec.columns.values())
    for key, value in row.items():  # pass-through of columns already named as fields
        field = FIELD_ALIASES.get(key)
        if key not in spec.columns and field and field != "-" and field not in targets:
            record[field] = value
    for column, field in spec.columns.items():
        if field == "-":
            continue
        value = _lookup(row, column)
        if _empty(value):
            continue
        if field not in record or _empty(record[field]):
            record[field] = value
        elif field == "tags":
            record[field] = _as_list(record[field]) + _as_list(value)
        elif field in JOIN_TEXT:
            record[field] = f"{record[field]}{JOIN_TEXT[field]}{value}"
    if source and _empty(record.get("source")):
        record["source"] = source
    for field, value in spec.defaults.items():
        if _empty(record.get(field)):
            record[field] = value
    return record


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [t for t in TAG_SPLIT.split(str(value)) if t.strip()]
