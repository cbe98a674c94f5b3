"""The SQLite roll-ups (``storage/sqlite/rollups.py``) answer exactly as the row scan.

Property tests on a real SQLite file: random small sets of postings (occupations, levels,
provinces, sources, dates over several months, skills, salaries with fractions, missing values),
then random writes through every write path (re-ingest with changed keys, re-extraction, near-
duplicate marks set and cleared, seen marks), then random filters: every routed query answers the
same from the roll-ups as from the forced row scan, and the roll-up tables equal a rebuild from the
rows. Derandomized, so CI sees the same examples.
"""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillsignal.core.models import Extraction, OccupationMatch, Posting, SkillMatch
from storage import PostingFilter
from storage.base import PostingIndex
from storage.sqlite import SQLiteStore
from storage.sqlite.rollups import CUBOIDS, plan, rebuild_rollup, rebuild_rollups
from storage.sqlite.schema import RETIRED_INDEXES, SCHEMA_VERSION
from storage.sqlite.sql import day_number

FIRST = date(2026, 1, 20)
OCCUPATIONS = [("2-02-10-01", "d1"), ("2-02-10-01", "d2"), ("2-02-10-08", None), ("other", None)]
PLACES = [("北京", "east"), ("四川", "west"), ("湖北", "central"), (None, None)]
LEVELS = ["初级", "中级", "高级"]
SKILLS = ["python", "sql", "java", "spark"]
SALARIES = [None, 8000.0, 12500.5, 12500.5, 30000.0, 7333.333333333333]

posting_st = st.fixed_dictionaries(
    {
        "occ": st.sampled_from([*OCCUPATIONS, None]),
        "level": st.sampled_from(LEVELS),
        "place": st.sampled_from(PLACES),
        "source": st.sampled_from(["boss", "liepin"]),
        "day": st.integers(0, 100),
        "salary": st.sampled_from(SALARIES),
        "skills": st.lists(st.sampled_from(SKILLS), max_size=3),
    }
)


def make(i: int, d: dict) -> Posting:
    day = FIRST + timedelta(days=d["day"])
    p = Posting(
        id=f"p{i}",
        source=d["source"],
        title=f"posting {i}",
        posted_at=day,
        crawled_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
    )
    p.location.province, p.location.region = d["place"]
    if d["salary"] is not None:
        p.salary.min = p.salary.max = d["salary"]
    if d["occ"] is not None:
        code, direction = d["occ"]
        p.extraction = Extraction(
            occupation=OccupationMatch(code=code, name=code, direction=direction),
            level=d["level"],
            skills=[SkillMatch(id=s, name=s) for s in d["skills"]],
            taxonomy_version="t",
            extractor_version="t",
        )
    return p


writes_st = st.fixed_dictionaries(
    {
        "postings": st.lists(posting_st, min_size=1, max_size=25),
        "changed": st.lists(st.tuples(st.integers(0, 24), posting_st), max_size=6),
        "reextracted": st.lists(st.tuples(st.integers(0, 24), posting_st), max_size=6),
        "dups": st.lists(st.tuples(st.integers(0, 24), st.booleans()), max_size=8),
        "undups": st.lists(st.integers(0, 24), max_size=3),
    }
)

_day = st.integers(-5, 110).map(lambda n: FIRST + timedelta(days=n))
filter_st = st.fixed_dictionaries(
    {},
    optional={
        "start": _day,
        "end": _day,
        "occupations": st.lists(st.sampled_from(["2-02-10-01", "2-02-10-08", "other"]), min_size=1, max_size=2),
        "directions": st.lists(st.sampled_from(["d1", "d2"]), min_size=1, max_size=1),
        "levels": st.lists(st.sampled_from(LEVELS), min_size=1, max_size=2),
        "provinces": st.lists(st.sampled_from(["北京", "四川", "湖北"]), min_size=1, max_size=2),
        "regions": st.lists(st.sampled_from(["east", "west", "central"]), min_size=1, max_size=1),
        "sources": st.lists(st.sampled_from(["boss", "liepin"]), min_size=1, max_size=1),
        "skills": st.lists(st.sampled_from(SKILLS), min_size=1, max_size=2),
        "cities": st.just(["成都"]),
    },
).map(lambda d: PostingFilter(**d) if not (d.get("start") and d.get("end") and d["start"] > d["end"]) else None)

ROUTED_FACETS = ["occupations", "directions", "levels", "provinces", "regions", "sources", "skills"]


def load(store: PostingIndex, w: dict) -> None:
    postings = [make(i, d) for i, d in enumerate(w["postings"])]
    store.index_postings(postings)
    n = len(postings)
    store.index_postings([make(i % n, d) for i, d in w["changed"]])  # re-ingest: dates, keys, salary move
    store.save_extractions(  # re-extraction: occupation, level and skills move
        [(p, p.extraction, None) for p in (make(i % n, d) for i, d in w["reextracted"])]
    )
    store.set_duplicates({f"p{i % n}": ("p0" if flag else None) for i, flag in w["dups"]})
    store.set_duplicates({f"p{i % n}": None for i in w["undups"]})
    store.mark_seen({f"p{i % n}": FIRST + timedelta(days=200) for i, _ in w["dups"]})


def answers(store: PostingIndex, flt: PostingFilter | None) -> dict[str, object]:
    out: dict[str, object] = {
        "totals": store.totals(flt),
        "unique": store.count_postings(flt, unique_only=True),
        **{f"series {i}": store.timeseries(flt, i) for i in ("month", "week", "day")},
    }
    for facet in ROUTED_FACETS:
        out[f"count_by {facet}"] = store.count_by(facet, flt)
        out[f"ranking {facet}"] = store.ranking(facet, flt, limit=3)
        out[f"intensity {facet}"] = store.ranking(facet, flt, metric="posting_intensity", limit=2)
        if facet != "skills":
            out[f"median {facet}"] = store.ranking(facet, flt, metric="median_salary", limit=10)
        out[f"series {facet}"] = store.ranking_timeseries(facet, flt, "month", limit=2)
    return out


def row_stats(conn: sqlite3.Connection) -> dict[str, object]:
    """``stats()`` counted from the rows (the store reads roll-ups and partial indices instead)."""

    def one(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    return {
        "path": None,
        "schema_version": SCHEMA_VERSION,
        "postings": one("SELECT COUNT(*) FROM postings"),
        "extracted": one("SELECT COUNT(*) FROM postings WHERE taxonomy_version IS NOT NULL"),
        "extraction_errors": one("SELECT COUNT(*) FROM postings WHERE extraction_error IS NOT NULL"),
        "duplicates": one("SELECT COUNT(*) FROM postings WHERE is_dup = 1"),
        "skill_mentions": one("SELECT COUNT(*) FROM posting_skills"),
        "bulk_load_running": False,
    }


def test_store_counts_read_no_rows(tmp_path: Path) -> None:
    """Every count ``stats()`` takes (each /metrics scrape) reads a roll-up or a partial index, and a
    v5 file gets the failed-extraction index on upgrade."""
    path = tmp_path / "v5.sqlite3"
    store = SQLiteStore(path)
    postings = [make(i, d) for i, d in enumerate(_sample_postings())]
    store.index_postings(postings)
    store.save_extractions([(postings[2], None, "boom")])
    conn = store._connect()
    conn.execute("DROP INDEX p_errors")
    conn.execute("UPDATE meta SET value='5' WHERE key='schema_version'")
    store.close()
    upgraded = SQLiteStore(path)
    conn = upgraded._connect()
    assert upgraded.schema_version == SCHEMA_VERSION
    assert upgraded.stats() | {"path": None} == row_stats(conn)
    assert upgraded.stats()["extraction_errors"] == 1 and upgraded.stats()["extracted"] == 3
    plans = [
        " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM postings WHERE {where}"))
        for where in ("taxonomy_version IS NULL", "extraction_error IS NOT NULL")
    ]
    assert "p_unextracted" in plans[0] and "p_errors" in plans[1], plans
    upgraded.close()


def rollup_rows(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    tables = [c.table(g) for c in CUBOIDS for g in c.grains]
    return {t: sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}")) for t in tables}


def assert_rollups_equal_a_rebuild(conn: sqlite3.Connection) -> None:
    """The roll-up tables as kept equal the same tables rebuilt from the rows (the rebuild rolled back)."""
    kept = rollup_rows(conn)
    conn.execute("BEGIN")
    rebuild_rollups(conn)
    rebuilt = rollup_rows(conn)
    conn.execute("ROLLBACK")
    assert kept == rebuilt


#: the property tests' hypothesis settings (derandomized: CI sees the same examples), but their size
PROPERTY_SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


@settings(max_examples=30, **PROPERTY_SETTINGS)
@given(writes=writes_st, filters=st.lists(filter_st, min_size=1, max_size=4))
def test_rollups_answer_as_the_row_scan(writes: dict, filters: list[PostingFilter | None]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "s.sqlite3")
        try:
            load(store, writes)
            conn = store._connect()
            assert_rollups_equal_a_rebuild(conn)  # every write path kept the roll-ups equal to the rows
            assert store.stats() | {"path": None} == row_stats(conn)  # the counts /metrics scrapes
            for flt in [None, *filters]:
                store.use_rollups = True
                fast = answers(store, flt)
                store.use_rollups = False
                slow = answers(store, flt)
                for name in fast:
                    assert fast[name] == slow[name], (name, flt)
        finally:
            store.close()


def test_plan_routes_roll_up_filters_and_leaves_the_rest_to_rows() -> None:
    year = {"start": date(2025, 11, 1), "end": date(2026, 10, 31)}
    assert plan(None) is not None and plan(PostingFilter(**year)) is not None
    assert plan(PostingFilter(**year, occupations=["x"]), salary=True).cuboid.name == "occ1_sal"
    assert plan(PostingFilter(**year, occupations=["x"])).cuboid.name == "occ1"
    assert plan(PostingFilter(**year, occupations=["x"], levels=["初级"])).cuboid.name == "occ"
    assert plan(PostingFilter(**year, occupations=["x"]), group="provinces").cuboid.name == "occ_place"
    assert plan(PostingFilter(**year, provinces=["北京"], levels=["初级"])).cuboid.name == "geo"
    assert plan(PostingFilter(**year, provinces=["北京"], levels=["初级"], occupations=["x"])).cuboid.name == "full"
    assert plan(PostingFilter(**year), group="skills").cuboid.name == "skill"
    assert plan(PostingFilter(**year, occupations=["x"]), group="skills").cuboid.name == "skill_occ1"
    assert plan(PostingFilter(**year, levels=["初级"]), group="skills").cuboid.name == "skill_occ"
    assert plan(PostingFilter(**year, skills=["python"]), interval="month").cuboid.name == "skill"
    # a month-aligned window reads the month grain alone; a ragged one adds the edge days
    assert [p.grain for p in plan(PostingFilter(**year)).pieces] == ["month"]
    ragged = plan(PostingFilter(start=date(2026, 1, 15), end=date(2026, 3, 3)))
    assert [(p.grain, p.lo, p.hi) for p in ragged.pieces] == [
        ("month", 2026 * 12 + 1, 2026 * 12 + 1),
        ("day", day_number(date(2026, 1, 15)), day_number(date(2026, 1, 31))),
        ("day", day_number(date(2026, 3, 1)), day_number(date(2026, 3, 3))),
    ]
    for rows_only in (
        PostingFilter(cities=["成都"]),
        PostingFilter(salary_min=1000),
        PostingFilter(skills=["a", "b"]),
        PostingFilter(companies=["x"]),
    ):
        assert plan(rows_only) is None
    assert plan(PostingFilter(skills=["python"]), salary=True) is None  # skill cuboids hold no salaries
    assert plan(PostingFilter(skills=["python"]), group="skills") is None
    assert plan(None, group="cities") is None


def test_v4_store_gets_its_roll_ups_built_on_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "v4.sqlite3"
    store = SQLiteStore(path)
    store.index_postings([make(i, d) for i, d in enumerate(_sample_postings())])
    store.set_duplicates({"p1": "p0"})
    expected = answers(store, None)
    conn = store._connect()
    for c in CUBOIDS:
        for g in c.grains:
            conn.execute(f"DROP TABLE {c.table(g)}")
    conn.execute("UPDATE meta SET value='4' WHERE key='schema_version'")
    store.close()
    upgraded = SQLiteStore(path)
    assert upgraded.schema_version == SCHEMA_VERSION == 7
    assert answers(upgraded, None) == expected
    assert upgraded._connect().execute("SELECT SUM(n) FROM ru_all_m").fetchone()[0] == 4
    upgraded.close()


#: the v5 indexes that v6 drops, as v5 created them
_V5_INDEXES = {
    "p_level": "postings(level, day, month, is_dup)",
    "ps_day": "posting_skills(day, skill_id, month, is_dup)",
}


def _indexes(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_v5_store_loses_the_retired_indexes_on_upgrade_and_answers_the_same(tmp_path: Path) -> None:
    """A v5 file (the roll-ups, and the date-keyed indexes they made redundant) opens as v6: those
    indexes are gone, every answer (roll-ups and forced row scan, filters the roll-ups cannot answer
    included) is what it was, and writes keep the roll-ups equal to the rows."""
    path = tmp_path / "v5.sqlite3"
    store = SQLiteStore(path)
    store.index_postings([make(i, d) for i, d in enumerate(_sample_postings())])
    store.set_duplicates({"p1": "p0"})
    conn = store._connect()
    assert set(RETIRED_INDEXES) == set(_V5_INDEXES) and not _indexes(conn) & set(RETIRED_INDEXES)
    for name, on in _V5_INDEXES.items():
        conn.execute(f"CREATE INDEX {name} ON {on}")
    conn.execute("UPDATE meta SET value='5' WHERE key='schema_version'")
    filters = [
        None,
        PostingFilter(provinces=["北京"], levels=["中级"], start=FIRST + timedelta(days=10)),
        PostingFilter(levels=["中级"], salary_min=9000),  # no roll-up answers a salary range
        PostingFilter(directions=["d1"], cities=["成都"]),  # no roll-up answers a city
        PostingFilter(skills=["python", "sql"], end=FIRST + timedelta(days=50)),  # nor two skills
    ]
    expected = {}
    for flt in filters:
        for rollups in (True, False):
            store.use_rollups = rollups
            expected[(repr(flt), rollups)] = answers(store, flt)
    store.close()

    upgraded = SQLiteStore(path)
    assert upgraded.schema_version == SCHEMA_VERSION == 7
    assert not _indexes(upgraded._connect()) & set(RETIRED_INDEXES)
    for flt in filters:
        for rollups in (True, False):
            upgraded.use_rollups = rollups
            assert answers(upgraded, flt) == expected[(repr(flt), rollups)], (flt, rollups)
    upgraded.index_postings([make(9, {**_sample_postings()[3], "day": 70})])
    conn = upgraded._connect()
    assert_rollups_equal_a_rebuild(conn)
    upgraded.close()


def _primary_key(conn: sqlite3.Connection, table: str) -> list[str]:
    cols = [(r[5], r[1]) for r in conn.execute(f"PRAGMA table_info({table})") if r[5]]
    return [name for _, name in sorted(cols)]


def test_v6_store_gets_its_skill_month_roll_ups_keyed_by_month_first_and_answers_the_same(tmp_path: Path) -> None:
    """A v6 file (the skill roll-ups by occupation or place keyed by them first, the month last)
    opens as v7 with the month leading those keys; every answer is what it was, and writes keep the
    roll-ups equal to the rows."""
    path = tmp_path / "v6.sqlite3"
    store = SQLiteStore(path)
    store.index_postings([make(i, d) for i, d in enumerate(_sample_postings())])
    conn = store._connect()
    relaid = [c for c in CUBOIDS if c.period_first]
    assert {c.name for c in relaid} == {"skill_occ1", "skill_occ", "skill_geo"}
    for c in relaid:  # back to v6's layout
        table = c.table("month")
        conn.execute(f"DROP TABLE {table}")
        cols = ", ".join(f"{k} TEXT NOT NULL" for k in c.keys)
        conn.execute(
            f"CREATE TABLE {table} ({cols}, month INTEGER NOT NULL, n INTEGER NOT NULL, d INTEGER NOT NULL, "
            f"PRIMARY KEY ({', '.join(c.keys)}, month)) WITHOUT ROWID"
        )
        rebuild_rollup(conn, c, "month")
        assert _primary_key(conn, table)[-1] == "month"
    conn.execute("UPDATE meta SET value='6' WHERE key='schema_version'")
    months = {"start": date(2026, 2, 1), "end": date(2026, 3, 31)}  # whole months: the month roll-ups answer
    filters = [
        None,
        PostingFilter(**months, occupations=["2-02-10-01"]),
        PostingFilter(**months, provinces=["北京"], levels=["中级"]),
        PostingFilter(start=FIRST + timedelta(days=10), end=FIRST + timedelta(days=70), levels=["中级"]),
    ]
    expected = {repr(f): answers(store, f) for f in filters}
    store.close()

    upgraded = SQLiteStore(path)
    assert upgraded.schema_version == SCHEMA_VERSION == 7
    conn = upgraded._connect()
    for c in relaid:
        assert _primary_key(conn, c.table("month")) == ["month", *c.keys]
    for flt in filters:
        assert answers(upgraded, flt) == expected[repr(flt)], flt
        upgraded.use_rollups = False
        assert answers(upgraded, flt) == expected[repr(flt)], flt  # and the row scan's
        upgraded.use_rollups = True
    # the skill rankings of those filters read the re-laid roll-ups, a seek per month
    assert plan(filters[1], group="skills").cuboid.name == "skill_occ1"
    assert plan(filters[2], group="skills").cuboid.name == "skill_geo"
    upgraded.index_postings([make(9, {**_sample_postings()[3], "day": 70})])
    assert_rollups_equal_a_rebuild(conn)
    upgraded.close()


def _sample_postings() -> list[dict]:
    base = {"level": "中级", "place": PLACES[0], "source": "boss", "salary": 8000.0, "skills": ["python"]}
    return [
        {**base, "occ": OCCUPATIONS[0], "day": 0},
        {**base, "occ": OCCUPATIONS[1], "day": 20},
        {**base, "occ": None, "day": 40, "salary": None},
        {**base, "occ": OCCUPATIONS[2], "day": 60, "skills": ["sql", "java"]},
    ]
