"""What every source hands its postings to: the :class:`PostingSink` interface and its counts.

The crawler's item pipeline and ``POST /v1/postings`` depend on this interface only; the
application (``skillsignal.pipeline.IngestPipeline``) implements it and wires it in, so an input
stage never drives extraction or the index itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Protocol

from pydantic import BaseModel, Field

from .models import Posting


class IngestStats(BaseModel):
    """What one ingest call did; ``unchanged`` postings had the same content and taxonomy version;
    ``queued`` ones were stored raw and wait for ``skillsignal worker`` to extract them."""

    received: int = 0
    stored: int = 0
    unchanged: int = 0
    extracted: int = 0
    extraction_errors: int = 0
    queued: int = Field(
        default=0, description="Postings stored raw and handed to the extraction workers (Redis configured)."
    )
    seconds: float = 0.0

    def merge(self, other: IngestStats) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class PostingSink(Protocol):
    """Stores postings (and extracts them when configured); safe to call again with the same ones."""

    def process(self, postings: Iterable[Posting], progress: Callable[[int], None] | None = None) -> IngestStats:
        """Store ``postings``; ``progress(n)`` is told of each batch of n done."""
        ...

    def store_failed(self, postings: Sequence[Posting], error: str) -> int:
        """Store ``postings`` raw with ``error`` recorded (``skillsignal reprocess`` reruns them)."""
        ...

    def mark_seen(self, seen: Mapping[str, date]) -> dict[str, str]:
        """Postings a crawl found again without reading them (HTTP 304), by id, on the crawl date;
        returns id -> source of those stored."""
        ...

    def close_unseen(self, source: str, crawl_started: date) -> int:
        """After a *complete* crawl of ``source`` that started on ``crawl_started``: close its open
        postings that crawl did not see; returns how many."""
        ...

    def close(self) -> None: ...
