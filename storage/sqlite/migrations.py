"""Bringing a store file to the current schema version (``schema.py``): create, or upgrade v1 to v7."""

from __future__ import annotations

import logging
import sqlite3

from skillsignal.core.models import Posting
from skillsignal.core.state_files import StoreError

from .rollups import rebuild_rollups, relayout_period_first
from .schema import (
    SCHEMA_VERSION,
    add_seen_columns,
    backfill_competencies,
    create_schema,
    drop_retired_indexes,
    migrate_v1_tables,
)
from .writes import SQLiteWrites

log = logging.getLogger(__name__)


class SQLiteMigrations(SQLiteWrites):
    def _migrate(self) -> None:
        conn = self._connect()
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        current = int(row["value"]) if row else 0
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {current}, newer than this SkillSignal ({SCHEMA_VERSION}); "
                "upgrade SkillSignal or point SKILLSIGNAL_DATA_DIR elsewhere"
            )
        if current == SCHEMA_VERSION:
            return
        with self._tx() as tx:
            if current == 1:
                old = migrate_v1_tables(tx)
                create_schema(tx)
                self._copy_v1(tx, old)
            elif current in (2, 3, 4, 5, 6):  # v2..v6 -> v7: new tables and indexes (create_schema), then below
                if current < 5:
                    add_seen_columns(tx)
                create_schema(tx)
                if current == 2:
                    backfill_competencies(tx)
                if current < 5:
                    rebuild_rollups(tx)  # v4 -> v5: the roll-ups of the stored rows
                else:
                    relayout_period_first(tx)  # v5, v6 -> v7: the month leads three skill roll-ups' keys
            else:  # a new file
                create_schema(tx)
            drop_retired_indexes(tx)  # v5 -> v6 (v1's own indexes were dropped with its tables)
            tx.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        if current:
            log.info("migrated SkillSignal store %s from schema v%d to v%d", self.path, current, SCHEMA_VERSION)
        else:
            log.info("created SkillSignal store %s (schema v%d)", self.path, SCHEMA_VERSION)

    def _copy_v1(self, tx: sqlite3.Connection, tables: tuple[str, str]) -> None:
        postings_v1, skills_v1 = tables
        rows = tx.execute(f"SELECT doc, dup_of FROM {postings_v1}").fetchall()
        batch = [Posting.model_validate_json(r["doc"]) for r in rows]
        for i in range(0, len(batch), 1000):
            self._upsert(tx, batch[i : i + 1000])
        dups = {Posting.model_validate_json(r["doc"]).id: r["dup_of"] for r in rows if r["dup_of"]}
        self._set_duplicates(tx, dups)
        tx.execute(f"DROP TABLE {skills_v1}")
        tx.execute(f"DROP TABLE {postings_v1}")
