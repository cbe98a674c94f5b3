"""Writing postings: upserts by id (raw fields, derived columns, skill and competency links, full
text) and near-duplicate marks."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from skillsignal.core.models import Posting

from .. import fts
from ..base import posted_date
from ..values import POSTING_VALUE_FIELDS, competency_ids, posting_values, unique_skills
from .connection import SQLiteConnection
from .sql import LINK_COPIED, SQL_COLUMNS, day_number, month_number

#: the columns of a ``postings`` row: the shared posting values under their SQL names, then the
#: day and month numbers, the error, the posting itself and the write time
_ROW_COLUMNS = (
    *(SQL_COLUMNS.get(field, field) for field in POSTING_VALUE_FIELDS),
    *("day", "month", "extraction_error", "doc", "updated_at"),
)


def posting_row(p: Posting, now: str) -> dict[str, object]:
    """The ``postings`` row of a posting (named parameters of :data:`_ROW_COLUMNS`)."""
    row: dict[str, object] = posting_values(p)
    for value, column in SQL_COLUMNS.items():
        row[column] = row.pop(value)
    posted = posted_date(p)
    row["day"], row["month"] = day_number(posted), month_number(posted)
    row["extraction_error"], row["doc"], row["updated_at"] = p.extraction_error, p.model_dump_json(), now
    return row


class SQLiteWrites(SQLiteConnection):
    def index_postings(self, postings: Sequence[Posting]) -> int:
        """Insert or replace postings by id (raw fields and any extraction they carry).

        Near-duplicate marks (:meth:`set_duplicates`) survive an upsert.
        """
        if not postings:
            return 0
        by_id = {p.id: p for p in postings}  # the last of one id wins
        with self._tx() as tx:
            self._upsert(tx, list(by_id.values()))
        return len(by_id)

    def refresh(self) -> None:
        """Nothing to do: a committed write is visible to the next read."""

    def set_duplicates(self, dup_of: Mapping[str, str | None]) -> None:
        """Mark postings as near-duplicates of another (``None`` clears the mark)."""
        with self._tx() as tx:
            self._set_duplicates(tx, dup_of)

    @staticmethod
    def _set_duplicates(tx: sqlite3.Connection, dup_of: Mapping[str, str | None]) -> None:
        rows = [(v, int(v is not None), k) for k, v in dup_of.items()]
        tx.executemany("UPDATE postings SET dup_of=?, is_dup=? WHERE id=?", rows)
        for table in ("posting_skills", "posting_competencies"):
            tx.executemany(
                f"UPDATE {table} SET is_dup=? WHERE pid=(SELECT rid FROM postings WHERE id=?)",
                [(flag, pid) for _, flag, pid in rows],
            )

    @staticmethod
    def _rids(tx: sqlite3.Connection, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            for rid, pid, is_dup in tx.execute(
                f"SELECT rid, id, is_dup FROM postings WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ):
                out[pid] = (rid, is_dup)
        return out

    def _upsert(self, tx: sqlite3.Connection, postings: Sequence[Posting]) -> None:
        now = datetime.now(UTC).isoformat()
        ids = [p.id for p in postings]
        before = self._rids(tx, ids)
        if before:
            old = [(rid,) for rid, _ in before.values()]
            tx.executemany("DELETE FROM posting_skills WHERE pid=?", old)
            tx.executemany("DELETE FROM posting_competencies WHERE pid=?", old)
            tx.executemany("DELETE FROM posting_fts WHERE rowid=?", old)
        rows = [posting_row(p, now) for p in postings]
        tx.executemany(
            f"""INSERT INTO postings ({", ".join(_ROW_COLUMNS)}) VALUES ({", ".join(":" + c for c in _ROW_COLUMNS)})
                ON CONFLICT(id) DO UPDATE SET {", ".join(f"{c}=excluded.{c}" for c in _ROW_COLUMNS if c != "id")}""",
            rows,
        )
        after = self._rids(tx, ids) if len(before) < len(ids) else before
        tx.executemany(
            "INSERT INTO posting_fts(rowid, title, body) VALUES (?,?,?)",
            [(after[p.id][0], fts.segment(p.title), fts.segment(p.description)) for p in postings],
        )
        skill_rows = []
        competency_rows = []
        for p, row in zip(postings, rows, strict=True):
            if not p.extraction:
                continue
            rid, is_dup = after[p.id]
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
