"""Reading postings back: by id, all of them, their fingerprints, what the store holds, and one
page of full-text search (FTS5 over jieba-segmented title and description)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from skillsignal.core.models import Posting

from .. import fts
from ..base import SeenDates, with_seen
from ..filters import PostingFilter
from ..results import Highlight, HitCount, PostingHit
from .bulk import bulk_load_pending
from .connection import SQLiteConnection
from .sql import from_day, where_clause

_HIT_COLUMNS = (
    "p.rid, p.id, p.title, p.company, p.province, p.city, p.posted_date, p.source, p.url, "
    "p.occupation_code, p.occupation_direction, p.level, p.salary_min, p.salary_max, p.is_dup"
)


_POSTING_COLUMNS = "doc, first_seen, last_seen, closed_on"

#: SQL text after FROM, and its parameters
_Source = tuple[str, list[object]]


def _posting(row: sqlite3.Row) -> Posting:
    """The posting of a row: its document with the seen dates of the columns."""
    closed = row["closed_on"]
    seen = SeenDates(
        from_day(row["first_seen"]), from_day(row["last_seen"]), None if closed is None else from_day(closed)
    )
    return with_seen(Posting.model_validate_json(row["doc"]), seen)


class SQLiteReads(SQLiteConnection):
    def get_posting(self, posting_id: str) -> Posting | None:
        row = self._connect().execute(f"SELECT {_POSTING_COLUMNS} FROM postings WHERE id=?", (posting_id,)).fetchone()
        return _posting(row) if row else None

    def iter_postings(self, batch_size: int = 500, only_unextracted: bool = False) -> Iterator[Posting]:
        """Every stored posting, in id order, fetched in batches."""
        last = ""
        cond = "AND taxonomy_version IS NULL" if only_unextracted else ""
        while True:
            rows = (
                self._connect()
                .execute(
                    f"SELECT id, {_POSTING_COLUMNS} FROM postings WHERE id > ? {cond} ORDER BY id LIMIT ?",
                    (last, batch_size),
                )
                .fetchall()
            )
            if not rows:
                return
            for row in rows:
                yield _posting(row)
            last = rows[-1]["id"]

    def fingerprints(self, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """id -> (fingerprint, taxonomy_version) for those of ``ids`` already stored."""
        out: dict[str, tuple[str, str | None]] = {}
        conn = self._connect()
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            for row in conn.execute(
                f"SELECT id, fingerprint, taxonomy_version FROM postings WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                out[row["id"]] = (row["fingerprint"], row["taxonomy_version"])
        return out

    def date_range(self) -> tuple[date, date] | None:
        # two queries: SQLite answers a lone MIN or MAX from one end of an index (p_day), but
        # MIN and MAX together by scanning it (~100 ms at 1,000,000 postings)
        conn = self._connect()
        first = conn.execute("SELECT MIN(day) FROM postings").fetchone()[0]
        if first is None:
            return None
        last = conn.execute("SELECT MAX(day) FROM postings").fetchone()[0]
        return from_day(first), from_day(last)

    def stats(self) -> dict[str, object]:
        conn = self._connect()

        def one(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])

        # every count from the roll-ups or a partial index: no row scan (they serve /metrics scrapes);
        # during a bulk load (stale roll-ups) from the rows
        bulk_loading = bulk_load_pending(conn)
        if bulk_loading:
            postings, duplicates = one("SELECT COUNT(*) FROM postings"), one("SELECT TOTAL(is_dup) FROM postings")
            mentions = one("SELECT COUNT(*) FROM posting_skills")
        else:
            postings, duplicates = one("SELECT TOTAL(n) FROM ru_all_m"), one("SELECT TOTAL(d) FROM ru_all_m")
            mentions = one("SELECT TOTAL(n) FROM ru_skill_m")
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "postings": postings,
            "extracted": postings - one("SELECT COUNT(*) FROM postings WHERE taxonomy_version IS NULL"),
            "extraction_errors": one("SELECT COUNT(*) FROM postings WHERE extraction_error IS NOT NULL"),
            "duplicates": duplicates,
            "skill_mentions": mentions,
            "bulk_load_running": bulk_loading,
        }

    # -- full-text search (storage.shared.SharedIndex.search_postings) ---------------------------------
    @staticmethod
    def _match(query: str | None) -> str | None:
        return fts.match_expression(query) if query else None

    def _search_page(
        self,
        match: str | None,
        query: str | None,
        flt: PostingFilter | None,
        state: dict[str, Any],
        size: int,
        total_cap: int | None,
    ) -> tuple[HitCount, list[PostingHit], dict[str, object] | None]:
        """Best BM25 match first (offset paging); without a text query, newest first (keyset paging)."""
        conn = self._connect()
        where, params = where_clause(flt)
        if match:
            offset = int(state.get("o", 0))
            (counted, cparams), (source, sparams) = _fts_sources(conn, match, flt)
            total = _count_upto(conn, f"SELECT 1 FROM {counted}", cparams, total_cap)
            # the page's row ids alone first: BM25 of every candidate, but no join and no highlight
            # (SQLite computes the result columns of every row it sorts, snippets included)
            ranked = [
                r[0]
                for r in conn.execute(
                    f"SELECT rowid, bm25(posting_fts) AS score FROM {source} ORDER BY score, rowid LIMIT ? OFFSET ?",
                    [*sparams, size + 1, offset],
                )
            ]
            rows = _fts_rows(conn, match, ranked[:size])
            more = len(ranked) > size
            next_state: dict[str, object] = {"o": offset + size}
        else:
            total = HitCount(conn.execute(f"SELECT COUNT(*) FROM postings p WHERE {where}", params).fetchone()[0])
            keyset, kparams = "", []
            if "d" in state:
                keyset = " AND (p.day < ? OR (p.day = ? AND p.rid < ?))"
                kparams = [state["d"], state["d"], state["r"]]
            rows = conn.execute(
                f"SELECT {_HIT_COLUMNS}, p.day AS day, NULL AS h_title, NULL AS h_body FROM postings p "
                f"WHERE {where}{keyset} ORDER BY p.day DESC, p.rid DESC LIMIT ?",
                [*params, *kparams, size + 1],
            ).fetchall()
            next_state = {"d": rows[size - 1]["day"], "r": rows[size - 1]["rid"]} if len(rows) > size else {}
            more = len(rows) > size
        rows = rows[:size]
        skills: dict[int, list[str]] = defaultdict(list)
        rids = [r["rid"] for r in rows]
        if rids:
            for pid, sid in conn.execute(
                f"SELECT pid, skill_id FROM posting_skills WHERE pid IN ({','.join('?' * len(rids))}) "
                "ORDER BY pid, score DESC, skill_id",
                rids,
            ):
                skills[pid].append(sid)
        items = [
            PostingHit(
                id=r["id"],
                title=r["title"],
                company=r["company"],
                province=r["province"],
                city=r["city"],
                posted_date=date.fromisoformat(r["posted_date"]),
                source=r["source"],
                url=r["url"],
                occupation=r["occupation_code"],
                direction=r["occupation_direction"],
                level=r["level"],
                skills=skills.get(r["rid"], []),
                salary_min=r["salary_min"],
                salary_max=r["salary_max"],
                duplicate=bool(r["is_dup"]),
                highlight=Highlight(title=fts.unsegment(r["h_title"]), description=fts.unsegment(r["h_body"])),
            )
            for r in rows
        ]
        return total, items, next_state if more else None


#: a text search whose word matches at most this many postings tests each match against the filter
#: on its own row (one lookup in ``postings`` each)
_PER_MATCH_MAX = 20_000
#: a filter selecting more postings than this is broad: its matches are counted (up to the cap) by
#: looking each up, which reaches the cap after a few lookups, instead of collecting its row ids first
_ROWID_SET_MAX = 100_000
#: filter fields an index of ``postings`` (or ``posting_skills``) answers, so that counting the
#: filter's postings up to a limit reads only that many index entries
_INDEXED_FIELDS = {"start", "end", "occupations", "directions", "levels", "provinces", "cities", "companies", "skills"}


def _fts_sources(conn: sqlite3.Connection, match: str, flt: PostingFilter | None) -> tuple[_Source, _Source]:
    """FROM texts (``posting_fts``, its MATCH and the filter) and parameters of a text search: one
    to count its matches, one to rank them.

    The FTS index always drives; the filter is tested per match in one of two ways: by looking the
    match up in ``postings`` (a word in few postings, a filter no index answers, and the count under
    a broad filter, which stops at the cap soon), or against the filter's row ids, which SQLite
    collects once from the index into a temporary b-tree (a common word under an indexed filter;
    ``+`` keeps the planner from handing that IN list to FTS5 as one index query per filtered
    posting). At 1,000,000 postings a common word under one occupation and one year took 2.5 s
    joined with ``postings`` and 0.25 s this way (benchmarks/bench_search.py --db)."""
    where, params = where_clause(flt)
    if flt is None or where == "1=1":
        alone: _Source = ("posting_fts WHERE posting_fts MATCH ?", [match])
        return alone, alone
    per_match: _Source = (
        f"posting_fts WHERE posting_fts MATCH ? AND EXISTS "
        f"(SELECT 1 FROM postings p WHERE p.rid = posting_fts.rowid AND {where})",
        [match, *params],
    )
    if _count_upto(conn, "SELECT 1 FROM posting_fts WHERE posting_fts MATCH ?", [match], _PER_MATCH_MAX).exact:
        return per_match, per_match
    if not set(flt.model_dump(exclude_defaults=True)) & _INDEXED_FIELDS:
        return per_match, per_match
    rowid_set: _Source = (
        f"posting_fts WHERE posting_fts MATCH ? AND +rowid IN (SELECT p.rid FROM postings p WHERE {where})",
        [match, *params],
    )
    narrow = _count_upto(conn, f"SELECT 1 FROM postings p WHERE {where}", params, _ROWID_SET_MAX).exact
    return (rowid_set if narrow else per_match), rowid_set


def _count_upto(conn: sqlite3.Connection, select: str, params: list[object], cap: int | None) -> HitCount:
    """The rows ``select`` yields, counted up to ``cap`` (None: all); more than ``cap`` = (cap, inexact)."""
    if cap is None:
        return HitCount(conn.execute(f"SELECT COUNT(*) FROM ({select})", params).fetchone()[0])
    n = conn.execute(f"SELECT COUNT(*) FROM ({select} LIMIT ?)", [*params, cap + 1]).fetchone()[0]
    return HitCount(cap, exact=False) if n > cap else HitCount(n)


def _fts_rows(conn: sqlite3.Connection, match: str, rids: list[int]) -> list[sqlite3.Row]:
    """The hit columns with highlights of the postings ``rids``, in that order."""
    if not rids:
        return []
    found = {
        r["rid"]: r
        for r in conn.execute(
            f"SELECT {_HIT_COLUMNS}, highlight(posting_fts, 0, '<em>', '</em>') AS h_title, "
            f"snippet(posting_fts, 1, '<em>', '</em>', '…', 48) AS h_body "
            f"FROM posting_fts f JOIN postings p ON p.rid = f.rowid "
            f"WHERE posting_fts MATCH ? AND f.rowid IN ({','.join('?' * len(rids))})",
            [match, *rids],
        )
    }
    return [found[rid] for rid in rids]
