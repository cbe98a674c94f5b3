"""Re-index behind the alias: build a new concrete index, fill it, swap the alias atomically."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from skillsignal.core.models import Posting

from .documents import POSTING_SOURCE, posting_of
from .index import SearchIndex

log = logging.getLogger(__name__)


def reindex(
    index: SearchIndex,
    postings: Iterable[Posting] | None = None,
    *,
    delete_old: bool = True,
    batch_size: int = 500,
) -> str:
    """Rebuild the index under the current template and point the alias at it; returns the new
    concrete index name.

    ``postings`` are the documents to load (e.g. ``SQLiteStore.iter_postings()``); by default the
    postings behind the alias now, with their near-duplicate marks. Readers keep using the old
    index until the one alias request that swaps them; a failure before it leaves the alias alone
    (the half-built index is deleted).
    """
    old = index.current_indices()
    index.put_template()
    new = index.create_concrete_index()
    try:
        if postings is None and old:
            _copy(index, new, batch_size)
        elif postings is not None:
            batch: list[Posting] = []
            for p in postings:
                batch.append(p)
                if len(batch) >= batch_size:
                    _load(index, new, batch, None)
                    batch = []
            _load(index, new, batch, None)
        index._call(index.client.indices.refresh, index=new)
    except BaseException:
        index.delete_index(new)
        raise
    replaced = index.swap_alias(new)
    log.info("alias %s now points at %s (was %s)", index.alias, new, ", ".join(replaced) or "nothing")
    if delete_old:
        for name in replaced:
            index.delete_index(name)
    return new


def _load(index: SearchIndex, target: str, postings: list[Posting], dups: dict[str, str | None] | None) -> None:
    if not postings:
        return
    by_id = {p.id: p for p in postings}
    _, errors = index._bulk(index.write_actions(list(by_id.values()), index=target, dups=dups or {}), None)
    index._check(errors)


def _copy(index: SearchIndex, target: str, batch_size: int) -> None:
    source = index.current_indices()[-1]
    batch: list[Posting] = []
    dups: dict[str, str | None] = {}
    for src in index.iter_sources([*POSTING_SOURCE, "dup_of"], batch_size, index=source):
        p = posting_of(src)  # with its seen dates (a document indexed before them: its crawl date)
        batch.append(p)
        if src.get("dup_of"):
            dups[p.id] = src["dup_of"]
        if len(batch) >= batch_size:
            _load(index, target, batch, dups)
            batch, dups = [], {}
    _load(index, target, batch, dups)
