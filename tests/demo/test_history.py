"""The demo's generated history (``skillsignal demo``'s history step) in a real SQLite store: the
catalogue of the quarter the README shows rates exactly the planted cells as tightening, a reload
counts nothing twice, and the forecast has the ≥ 12 months it needs. (The planted signals of the
generator itself are checked, seed by seed, in tests/signals/test_catalogue.py.)"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from signals.catalogue import build_catalogue
from signals.models import Catalogue
from skill_taxonomy import default_taxonomy
from skillsignal.core.config import Settings
from skillsignal.demo.history import DEMAND, DEMO_SPEC, DURATION, PAY, PLANTED, SOURCE
from skillsignal.demo_job import load_demo_history
from storage import PostingFilter, SQLiteStore

PERIOD = "2026Q3"  # the quarter of the README's catalogue


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("demo-history") / "data", use_embeddings=False)


@pytest.fixture(scope="module")
def loaded(demo_settings: Settings) -> tuple[SQLiteStore, int]:
    demo_settings.ensure_dirs()
    store = SQLiteStore(demo_settings.db_path)
    n, first, last = load_demo_history(store)
    assert (first.isoformat(), last.isoformat()) == ("2024-05-01", "2026-10-01")
    return store, n


def _tightening(cat: Catalogue) -> dict[tuple[str | None, str | None, str | None], list[str]]:
    return {
        (e.indicators.occupation, e.indicators.level, e.indicators.region): e.rating.signals
        for e in cat.entries
        if e.rating.label in ("elevated", "critical")
    }


def test_history_is_its_own_source_ends_with_the_board_and_reloads_in_place(loaded: tuple[SQLiteStore, int]) -> None:
    store, n = loaded
    assert 20_000 <= n <= 40_000
    assert store.count_postings(PostingFilter(sources=[SOURCE])) == n == store.count_postings()
    unique = store.count_postings(unique_only=True)
    assert unique < n  # the reposts are marked
    assert load_demo_history(store)[0] == n
    assert store.count_postings() == n and store.count_postings(unique_only=True) == unique
    last_month = PostingFilter(start=DEMO_SPEC.last_month, end=DEMO_SPEC.crawl_end)
    assert store.count_postings(last_month) > 0


def test_catalogue_of_the_demo_quarter_rates_exactly_the_planted_cells(loaded: tuple[SQLiteStore, int]) -> None:
    store, _ = loaded
    taxonomy = default_taxonomy()
    regional = build_catalogue(store, taxonomy, PERIOD, breakdown="region", by_level=False)
    expected = {
        (occ, None, region): [PLANTED[occ]] for occ in (DURATION, PAY) for region in ("east", "central", "west")
    }
    expected[(DEMAND, None, "east")] = ["demand"]
    assert _tightening(regional) == expected
    east = build_catalogue(store, taxonomy, PERIOD, region="东部")
    flagged = _tightening(east)
    assert {occ for occ, _, _ in flagged} == {DEMAND, DURATION, PAY}
    assert all(signals == [PLANTED[occ]] for (occ, _, _), signals in flagged.items())


def test_forecast_answers_over_the_demo_store(demo_settings: Settings, loaded: tuple[SQLiteStore, int]) -> None:
    from skillsignal.server import build_app

    loaded[0].close()
    with TestClient(build_app(demo_settings)) as client:
        r = client.get("/v1/forecast", params={"horizon": 3})
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["history"]) == DEMO_SPEC.n_months >= 12
        assert body["history"][-1]["period"] == "2026-10-01"
        assert [p["period"] for p in body["forecast"]] == ["2026-11-01", "2026-12-01", "2027-01-01"]
        r = client.get("/v1/forecast", params={"horizon": 6, "occupations": DEMAND, "regions": "east"})
        assert r.status_code == 200, r.text
        assert len(r.json()["forecast"]) == 6


def test_the_history_carries_statements_of_each_postings_occupation_and_level(
    loaded: tuple[SQLiteStore, int],
) -> None:
    """The dashboard names what it ranks: every competency of the history is a statement of the
    bundled standards, of the posting's occupation and level."""
    store, _ = loaded
    taxonomy = default_taxonomy()
    statements = {
        c.id: (code, level)
        for code, occ in taxonomy.occupations.items()
        for level, comps in occ.levels.items()
        for c in comps
    }
    ranked = store.ranking("competencies", PostingFilter(), limit=50).buckets
    assert len(ranked) >= 10
    for bucket in ranked:
        assert bucket.key in statements
        code, level = statements[bucket.key]
        in_cell = PostingFilter(occupations=[code], levels=[level])
        assert bucket.key in {b.key for b in store.ranking("competencies", in_cell, limit=50).buckets}
