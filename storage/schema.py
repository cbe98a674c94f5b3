"""The SQLite schema moved to :mod:`storage.sqlite.schema`; this name stays for existing imports."""

from .sqlite.schema import SCHEMA_VERSION, backfill_competencies, create_schema, migrate_v1_tables

__all__ = ["SCHEMA_VERSION", "backfill_competencies", "create_schema", "migrate_v1_tables"]
