"""The index template (settings + mappings) kept in ``index_template.json``, and index naming."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..values import POSTING_VALUE_FIELDS
from .documents import SEEN_FIELDS

TEMPLATE_FILE = Path(__file__).with_name("index_template.json")

#: top-level mapping fields every document carries (the document builder writes exactly these):
#: the shared posting values, then the search fields, marks and the posting itself
DOCUMENT_FIELDS = frozenset(POSTING_VALUE_FIELDS) | {
    *("title_seg", "title_cjk", "body_seg", "body_cjk", "crawled_at", "dup_of", "is_dup", "has_error"),
    *SEEN_FIELDS,
    *("skill_ids", "skills", "competency_ids", "updated_at", "doc"),
}


class IndexTemplate(BaseModel):
    """Schema of ``index_template.json``."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    description: str
    settings: dict[str, Any]
    mappings: dict[str, Any]

    @field_validator("mappings")
    @classmethod
    def _covers_documents(cls, mappings: dict[str, Any]) -> dict[str, Any]:
        props = set(mappings.get("properties", {}))
        if props != DOCUMENT_FIELDS:
            raise ValueError(
                f"mapping fields differ from the document fields: missing {sorted(DOCUMENT_FIELDS - props)}, "
                f"extra {sorted(props - DOCUMENT_FIELDS)}"
            )
        if mappings["properties"]["skills"].get("type") != "nested":
            raise ValueError("skills must be a nested field")
        return mappings


@lru_cache(maxsize=1)
def load_template() -> IndexTemplate:
    return IndexTemplate.model_validate(json.loads(TEMPLATE_FILE.read_text(encoding="utf-8")))


def index_body() -> dict[str, Any]:
    """Body of a create-index request (settings + mappings)."""
    t = load_template()
    return {"settings": t.settings, "mappings": t.mappings}


def template_body(alias: str) -> dict[str, Any]:
    """Body of a composable index template that applies to every concrete index behind ``alias``."""
    t = load_template()
    return {
        "index_patterns": [f"{alias}-v*"],
        "priority": 100,
        "version": t.version,
        "_meta": {"description": t.description},
        "template": {"settings": t.settings, "mappings": t.mappings},
    }


def concrete_name(alias: str, now: datetime | None = None) -> str:
    """A new versioned concrete index name: ``<alias>-v<version>-<UTC yyyymmddhhmmssffffff>``."""
    now = now or datetime.now(UTC)
    return f"{alias}-v{load_template().version}-{now.strftime('%Y%m%d%H%M%S%f')}"


def initial_name(alias: str) -> str:
    """The first concrete index behind a new alias (sorts before every timestamped one)."""
    return f"{alias}-v{load_template().version}-0"
