"""The index template (settings + mappings) kept in ``index_template.json``, and index generations
(names: :mod:`.layout`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..values import POSTING_VALUE_FIELDS
from .documents import SEEN_FIELDS
from .layout import ShardPlan

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


def index_body(plan: ShardPlan | None = None) -> dict[str, Any]:
    """Body of a create-index request (settings + mappings); ``plan`` sets shards and replicas."""
    t = load_template()
    return {"settings": _settings(t, plan), "mappings": t.mappings}


def _settings(t: IndexTemplate, plan: ShardPlan | None) -> dict[str, Any]:
    if plan is None:
        return t.settings
    return {**t.settings, "number_of_shards": plan.shards, "number_of_replicas": plan.replicas}


def template_body(alias: str, plan: ShardPlan | None = None) -> dict[str, Any]:
    """Body of a composable index template that applies to every concrete index behind ``alias``
    (an index a period creates on a busy cluster gets these settings even when created by a bulk
    write racing :meth:`storage.search.SearchIndex.index_for`)."""
    t = load_template()
    return {
        "index_patterns": [f"{alias}-v*"],
        "priority": 100,
        "version": t.version,
        "_meta": {"description": t.description},
        "template": {"settings": _settings(t, plan), "mappings": t.mappings},
    }


def new_generation(now: datetime | None = None) -> str:
    """A new generation of concrete indices: ``v<version>-<UTC yyyymmddhhmmssffffff>``."""
    now = now or datetime.now(UTC)
    return f"v{load_template().version}-{now.strftime('%Y%m%d%H%M%S%f')}"


def initial_generation() -> str:
    """The generation a new alias starts with (sorts before every timestamped one): a fixed name, so
    that two processes starting together (API and crawler) create the same indices, not two sets."""
    return f"v{load_template().version}-0"
