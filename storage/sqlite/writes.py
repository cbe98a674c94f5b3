"""Writing postings: upserts by id (raw fields, derived columns, seen dates, skill and competency
links, full text), seen and closed marks, and near-duplicate marks; the roll-ups
(``rollups.RollupDeltas``) move with every write that changes a counted column, in its transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import NamedTuple

from skillsignal.core.models import Extraction, Posting

from .. import fts
from ..base import SeenDates, latest_by_id, merge_seen, posted_date, with_extractions
from ..values import POSTING_VALUE_FIELDS, competency_ids, posting_values, unique_skills
from .connection import SQLiteConnection
from .rollups import RollupDeltas
from .sql import LINK_COPIED, SQL_COLUMNS, day_number, from_day, month_number

#: the columns of a ``postings`` row: the shared posting values under their SQL names, then the
#: day and month numbers, the seen dates, the error, the posting itself and the write time
_ROW_COLUMNS = (
    *(SQL_COLUMNS.get(field, field) for field in POSTING_VALUE_FIELDS),
    *("day", "month", "first_seen", "last_seen", "closed_on", "extraction_error", "doc", "updated_at"),
)


class _Stored(NamedTuple):
    """What an upsert (and a conditional save of extractions) needs of a stored posting row."""

    rid: int
    is_dup: int
    seen: SeenDates
    source: str
    fingerprint: str


def posting_row(p: Posting, seen: SeenDates, now: str) -> dict[str, object]:
    """The ``postings`` row of a posting (named parameters of :data:`_ROW_COLUMNS`)."""
    row: dict[str, object] = posting_values(p)
    for value, column in SQL_COLUMNS.items():
        row[column] = row.pop(value)
    posted = posted_date(p)
    row["day"], row["month"] = day_number(posted), month_number(posted)
    row["first_seen"], row["last_seen"] = day_number(seen.first_seen), day_number(seen.last_seen)
    row["closed_on"] = day_number(seen.closed_on) if seen.closed_on else None
    row["extraction_error"], row["doc"], row["updated_at"] = p.extraction_error, p.model_dump_json(), now
    return row


def _seen_of(first: int, last: int, closed: int | None) -> SeenDates:
    return SeenDates(from_day(first), from_day(last), from_day(closed) if closed is not None else None)


class SQLiteWrites(SQLiteConnection):
    #: True while this store runs a bulk load (``bulk.py``): its writes leave the roll-ups to the
    #: rebuild at the end
    _bulk_loading: bool = False

    def index_postings(self, postings: Sequence[Posting]) -> int:
        """Insert or replace postings by id (raw fields and any extraction they carry).

        Near-duplicate marks (:meth:`set_duplicates`) survive an upsert; seen dates are merged
        (``storage.base.merge_seen``).
        """
        if not postings:
            return 0
        with self._tx() as tx:
            self._upsert(tx, postings)
        return len({p.id for p in postings})

    def save_extractions(
        self,
        results: Sequence[tuple[Posting, Extraction | None, str | None]],
        expected: Mapping[str, str] | None = None,
    ) -> int:
        """See :meth:`storage.base.PostingIndex.save_extractions`: the fingerprint check and the
        write in one transaction, so no other writer stores a posting in between."""
        updated = with_extractions(results)
        if not updated:
            return 0
        with self._tx() as tx:
            if expected is not None:
                stored = self._stored(tx, [p.id for p in updated])
                updated = [p for p in updated if p.id in stored and stored[p.id].fingerprint == expected.get(p.id)]
            if updated:
                self._upsert(tx, updated)
        return len({p.id for p in updated})

    def refresh(self) -> None:
        """Nothing to do: a committed write is visible to the next read."""

    def set_duplicates(self, dup_of: Mapping[str, str | None]) -> None:
        """Mark postings as near-duplicates of another (``None`` clears the mark)."""
        with self._tx() as tx:
            self._set_duplicates(tx, dup_of)

    def mark_seen(self, seen: Mapping[str, date]) -> dict[str, str]:
        """See :meth:`storage.base.PostingIndex.mark_seen`: a write to the seen columns only."""
        if not seen:
            return {}
        changed = []
        with self._tx() as tx:
            stored = self._stored(tx, list(seen))
            for pid, row in stored.items():
                day = seen[pid]
                new = merge_seen(row.seen, SeenDates(day, day))
                if new != row.seen:
                    closed = day_number(new.closed_on) if new.closed_on else None
                    changed.append((day_number(new.first_seen), day_number(new.last_seen), closed, pid))
            tx.executemany("UPDATE postings SET first_seen=?, last_seen=?, closed_on=? WHERE id=?", changed)
        return {pid: row.source for pid, row in stored.items()}

    def close_unseen(self, source: str, crawl_started: date) -> int:
        """See :meth:`storage.base.PostingIndex.close_unseen`."""
        with self._tx() as tx:
            cur = tx.execute(
                "UPDATE postings SET closed_on = last_seen WHERE source = ? AND closed_on IS NULL AND last_seen < ?",
                (source, day_number(crawl_started)),
            )
            return cur.rowcount

    def _set_duplicates(self, tx: sqlite3.Connection, dup_of: Mapping[str, str | None]) -> None:
        rows = [(v, int(v is not None), k) for k, v in dup_of.items()]
        stored = self._stored(tx, list(dup_of))
        moved = [s.rid for pid, s in stored.items() if s.is_dup != int(dup_of[pid] is not None)]
        deltas = RollupDeltas(tx, deferred=self._bulk_loading)
        deltas.count(moved, -1)
        tx.executemany("UPDATE postings SET dup_of=?, is_dup=? WHERE id=?", rows)
        for table in ("posting_skills", "posting_competencies"):
            tx.executemany(
                f"UPDATE {table} SET is_dup=? WHERE pid=(SELECT rid FROM postings WHERE id=?)",
                [(flag, pid) for _, flag, pid in rows],
            )
        deltas.count(moved, 1)
        deltas.apply()

    @staticmethod
    def _stored(tx: sqlite3.Connection, ids: Sequence[str]) -> dict[str, _Stored]:
        out: dict[str, _Stored] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            for rid, pid, is_dup, first, last, closed, source, fingerprint in tx.execute(
                "SELECT rid, id, is_dup, first_seen, last_seen, closed_on, source, fingerprint FROM postings "
                f"WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                out[pid] = _Stored(rid, is_dup, _seen_of(first, last, closed), source, fingerprint)
        return out

    def _upsert(self, tx: sqlite3.Connection, postings: Sequence[Posting]) -> None:
        now = datetime.now(UTC).isoformat()
        latest = latest_by_id(postings)
        ids = list(latest)
        before = self._stored(tx, ids)
        deltas = RollupDeltas(tx, deferred=self._bulk_loading)
        if before:
            deltas.count([s.rid for s in before.values()], -1)
            old = [(s.rid,) for s in before.values()]
            tx.executemany("DELETE FROM posting_skills WHERE pid=?", old)
            tx.executemany("DELETE FROM posting_competencies WHERE pid=?", old)
            tx.executemany("DELETE FROM posting_fts WHERE rowid=?", old)
        batch = [p for p, _ in latest.values()]
        rows = [
            posting_row(p, merge_seen(before[p.id].seen if p.id in before else None, seen), now)
            for p, seen in latest.values()
        ]
        tx.executemany(
            f"""INSERT INTO postings ({", ".join(_ROW_COLUMNS)}) VALUES ({", ".join(":" + c for c in _ROW_COLUMNS)})
                ON CONFLICT(id) DO UPDATE SET {", ".join(f"{c}=excluded.{c}" for c in _ROW_COLUMNS if c != "id")}""",
            rows,
        )
        after = self._stored(tx, ids) if len(before) < len(ids) else before
        tx.executemany(
            "INSERT INTO posting_fts(rowid, title, body) VALUES (?,?,?)",
            [(after[p.id].rid, fts.segment(p.title), fts.segment(p.description)) for p in batch],
        )
        skill_rows = []
        competency_rows = []
        for p, row in zip(batch, rows, strict=True):
            if not p.extraction:
                continue
            is_dup, rid = after[p.id].is_dup, after[p.id].rid
            copied = [is_dup if c == "is_dup" else row[c] for c in LINK_COPIED]
            skill_rows += [(rid, s.id, int(s.required), s.score, *copied) for s in unique_skills(p.extraction)]
            competency_rows += [(rid, cid, *copied) for cid in competency_ids(p.extraction)]
        tx.executemany(
            f"INSERT INTO posting_skills(pid, skill_id, required, score, {', '.join(LINK_COPIED)}) "
            f"VALUES ({','.join('?' * (4 + len(LINK_COPIED)))})",
            skill_rows,
        )
        tx.executemany(
            f"INSERT INTO posting_competencies(pid, competency_id, {', '.join(LINK_COPIED)}) "
            f"VALUES ({','.join('?' * (2 + len(LINK_COPIED)))})",
            competency_rows,
        )
        deltas.count([after[pid].rid for pid in ids], 1)
        deltas.apply()
