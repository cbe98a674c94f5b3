"""Re-index behind the alias: build a new generation of concrete indices, fill it, swap the alias
atomically."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime

from skillsignal.core.models import Posting

from ..base import posted_date
from . import mapping
from .documents import POSTING_SOURCE, posting_of
from .index import SearchIndex
from .layout import Layout

log = logging.getLogger(__name__)


def reindex(
    index: SearchIndex,
    postings: Iterable[Posting] | None = None,
    *,
    delete_old: bool = True,
    batch_size: int = 500,
) -> str:
    """Rebuild the index under the current template, shard plan and period (``index.period``) and
    point the alias at it; returns the new generation's name prefix (every new concrete index
    starts with it).

    ``postings`` are the documents to load (e.g. ``SQLiteStore.iter_postings()``); by default the
    postings behind the alias now, with their near-duplicate marks. Readers keep using the old
    indices until the one alias request that swaps them; a failure before it leaves the alias alone
    (the half-built indices are deleted). Stop writers while it runs: a write in between lands in
    the old generation and is dropped with it.
    """
    had_alias = bool(index.current_indices())
    index.put_template()
    layout = Layout(index.alias, mapping.new_generation(), index.period)
    created: set[str] = set()
    try:
        if postings is None and had_alias:
            _copy(index, layout, created, batch_size)
        elif postings is not None:
            batch: list[Posting] = []
            for p in postings:
                batch.append(p)
                if len(batch) >= batch_size:
                    _load(index, layout, created, batch, None)
                    batch = []
            _load(index, layout, created, batch, None)
        if not created:  # nothing to load: one empty index keeps the alias
            _create(index, created, layout.prefix if layout.period == "none" else layout.index_for(_today()))
        for name in sorted(created):
            index._call(index.client.indices.refresh, index=name)
    except BaseException:
        for name in created:
            index.delete_index(name)
        raise
    replaced = index.swap_alias(sorted(created))
    log.info(
        "alias %s now points at %s (was %s)", index.alias, ", ".join(sorted(created)), ", ".join(replaced) or "nothing"
    )
    if delete_old:
        for name in replaced:
            index.delete_index(name)
    return layout.prefix


def _today() -> date:
    return datetime.now(UTC).date()


def _create(index: SearchIndex, created: set[str], name: str) -> None:
    if name not in created:
        index.create_index(name, alias=False)
        created.add(name)


def _load(
    index: SearchIndex,
    layout: Layout,
    created: set[str],
    postings: list[Posting],
    dups: dict[str, str | None] | None,
) -> None:
    if not postings:
        return
    by_id = {p.id: p for p in postings}
    for p in by_id.values():
        _create(index, created, layout.index_for(posted_date(p)))
    _, errors = index._bulk(index.write_actions(list(by_id.values()), layout, dups=dups or {}), None)
    index._check(errors)


def _copy(index: SearchIndex, layout: Layout, created: set[str], batch_size: int) -> None:
    batch: list[Posting] = []
    dups: dict[str, str | None] = {}
    for src in index.iter_sources([*POSTING_SOURCE, "dup_of"], batch_size):  # through the alias: every period
        p = posting_of(src)  # with its seen dates (a document indexed before them: its crawl date)
        batch.append(p)
        if src.get("dup_of"):
            dups[p.id] = src["dup_of"]
        if len(batch) >= batch_size:
            _load(index, layout, created, batch, dups)
            batch, dups = [], {}
    _load(index, layout, created, batch, dups)
