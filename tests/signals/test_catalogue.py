"""The catalogue on a 30-month history with planted signals, through a real SQLite store.

Planted in 2026Q3 (``synthetic``): 人工智能 doubles in the east region, 大数据 postings stay open
twice as long, 集成电路 pay jumps 40 %; two control occupations change only with the market
(season, trend). The catalogue must rate exactly those as tightening — each by its own signal —
and nothing else, with every seed.

Sample sizes (base 200 postings per occupation a month): a national level cell holds about 300
unique postings in the quarter, a regional occupation cell 200–600. 人工智能's *national* share
rises ×1.36 (the east is half the market) — near the material ×1.25 at that sample, so the
national test does not demand it (it must not show any *other* signal); the regional test does.
"""

from __future__ import annotations

import time

import pytest

from signals.catalogue import CatalogueError, build_catalogue, region_id
from signals.models import Catalogue
from signals.periods import parse_period
from skill_taxonomy import default_taxonomy
from storage import PostingFilter

from .conftest import SEEDS, Planted
from .synthetic import CONTROLS, DEMAND, DURATION, OCCUPATIONS, PAY, PERIOD, PLANTED, SKILLS

TAXONOMY = default_taxonomy()


def _tightening(cat: Catalogue) -> dict[tuple[str | None, str | None, str | None], list[str]]:
    """(occupation, level, region) -> fired signals, for every entry rated elevated or critical."""
    return {
        (e.indicators.occupation, e.indicators.level, e.indicators.region): e.rating.signals
        for e in cat.entries
        if e.rating.label in ("elevated", "critical")
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_national_catalogue_flags_only_planted_signals(planted: Planted, seed: int) -> None:
    _, store = planted(seed)
    cat = build_catalogue(store, TAXONOMY, PERIOD)
    flagged = _tightening(cat)
    for (occ, level, _), signals in flagged.items():
        assert occ in PLANTED, f"{occ} {level} rated tightening ({signals}) without a planted signal"
        assert signals == [PLANTED[occ]], f"{occ} {level}: {signals}"
    for occ in (DURATION, PAY):
        for level in ("初级", "中级", "高级"):
            assert (occ, level, None) in flagged, f"{occ} {level} not rated tightening"
    for e in cat.entries:
        if e.indicators.occupation in CONTROLS:
            assert e.rating.label == "normal", e.rating.reasons
    # every occupation of the taxonomy × level is listed; those without postings are suppressed
    assert len(cat.entries) == len(TAXONOMY.occupations) * 3
    assert {e.rating.label for e in cat.entries if e.indicators.occupation not in OCCUPATIONS} == {"suppressed"}
    assert cat.measure == "demand_tightness"
    assert "需求紧张度" in cat.thresholds.description


@pytest.mark.parametrize("seed", SEEDS)
def test_regional_catalogue_flags_exactly_the_planted_cells(planted: Planted, seed: int) -> None:
    _, store = planted(seed)
    cat = build_catalogue(store, TAXONOMY, PERIOD, breakdown="region", by_level=False)
    expected = {
        (occ, None, region): [PLANTED[occ]] for occ in (DURATION, PAY) for region in ("east", "central", "west")
    }
    expected[(DEMAND, None, "east")] = ["demand"]
    assert _tightening(cat) == expected


@pytest.mark.parametrize("seed", SEEDS[:1])
def test_east_catalogue_by_level_flags_the_doubling_at_every_level(planted: Planted, seed: int) -> None:
    _, store = planted(seed)
    east = build_catalogue(store, TAXONOMY, PERIOD, region="东部")
    assert east.region == "east"
    for level in ("初级", "中级", "高级"):
        entry = next(e for e in east.entries if (e.indicators.occupation, e.indicators.level) == (DEMAND, level))
        assert "demand" in entry.rating.signals, entry.rating.reasons
        demand = entry.rating.checks[0]
        assert demand.interval.low is not None and demand.interval.low > 1
        assert demand.ratio is not None and demand.ratio >= demand.material
    west = build_catalogue(store, TAXONOMY, PERIOD, region="west")
    assert not any("demand" in e.rating.signals for e in west.entries if e.indicators.occupation == DEMAND)


def test_entries_carry_indicators_skills_competencies_majors_and_reasons(planted: Planted) -> None:
    history, store = planted(SEEDS[0])
    cat = build_catalogue(store, TAXONOMY, PERIOD, top=3)
    entry = next(e for e in cat.entries if (e.indicators.occupation, e.indicators.level) == (PAY, "中级"))
    ind = entry.indicators
    assert ind.occupation_name == TAXONOMY.occupations[PAY].name_zh
    # the indicators are the period's own figures
    assert ind.unique_postings >= 30 and ind.total_postings > ind.unique_postings
    assert ind.repost_intensity == pytest.approx(ind.total_postings / ind.unique_postings)
    assert ind.median_salary is not None and ind.salary_growth is not None and ind.salary_growth > 0.25
    assert ind.duration_median_days is not None and ind.duration_sample == ind.unique_postings
    assert {s.id for s in entry.top_skills} == set(SKILLS[PAY])
    # the batched skills (one export) equal the store's own ranking of the entry's postings
    q3 = parse_period(PERIOD)
    flt = PostingFilter(start=q3.start, end=q3.end, occupations=[PAY], levels=["中级"])
    ranking = store.ranking("skills", flt, limit=3)
    assert [(s.id, s.postings) for s in entry.top_skills] == [(b.key, b.unique_postings) for b in ranking.buckets]
    assert len(entry.top_competencies) == 3
    assert entry.related_majors == TAXONOMY.occupations[PAY].majors
    # the reasons name each signal's values; the score interval brackets the score
    assert [c.signal for c in entry.rating.checks] == ["demand", "duration", "pay"]
    assert any(r.startswith("pay:") and "tightening" in r for r in entry.rating.reasons)
    low, high = entry.rating.score_interval.low, entry.rating.score_interval.high
    assert low is not None and high is not None and entry.rating.score is not None
    assert low <= entry.rating.score <= high
    assert entry.rating.stars is not None and entry.rating.stars >= 3
    # tightest first
    order = {"critical": 0, "elevated": 1, "normal": 2, "suppressed": 3}
    ranks = [order[e.rating.label] for e in cat.entries]
    assert ranks == sorted(ranks)


def test_min_sample_suppresses_small_cells(planted: Planted) -> None:
    _, store = planted(SEEDS[0])
    cat = build_catalogue(store, TAXONOMY, PERIOD, min_sample=100_000, with_skills=False)
    for e in cat.entries:
        assert e.rating.label == "suppressed"
        assert e.indicators.share_of_digital is None and e.indicators.median_salary is None
        assert e.indicators.duration_median_days is None and e.indicators.share_senior is None


def test_province_catalogue_is_fast_and_lists_every_province(planted: Planted) -> None:
    _, store = planted(SEEDS[0])
    started = time.perf_counter()
    cat = build_catalogue(store, TAXONOMY, PERIOD, breakdown="province")
    elapsed = time.perf_counter() - started
    provinces = {e.indicators.province for e in cat.entries}
    assert provinces == {"广东", "北京", "湖北", "四川"}
    assert len(cat.entries) == len(TAXONOMY.occupations) * 3 * 4
    assert {e.indicators.region for e in cat.entries if e.indicators.province == "广东"} == {"east"}
    assert elapsed < 30  # generous: a loaded 2-core machine; benchmarks/ prints the real figure


def test_unknown_region_is_an_error() -> None:
    assert region_id("东北") == "northeast"
    with pytest.raises(CatalogueError, match="unknown region"):
        region_id("南部")


def test_by_direction_lists_the_directions_seen(planted: Planted) -> None:
    _, store = planted(SEEDS[0])
    cat = build_catalogue(store, TAXONOMY, PERIOD, by_direction=True, with_skills=False)
    # the generated postings name no direction: one row per occupation × level, direction None
    listed = {(e.indicators.occupation, e.indicators.level, e.indicators.direction) for e in cat.entries}
    assert {(occ, "中级", None) for occ in OCCUPATIONS} <= listed
    assert all(e.indicators.direction is None for e in cat.entries)
    by_level = build_catalogue(store, TAXONOMY, PERIOD, with_skills=False)
    assert {(e.indicators.occupation, e.indicators.level, e.rating.label) for e in cat.entries} >= {
        (e.indicators.occupation, e.indicators.level, e.rating.label)
        for e in by_level.entries
        if e.indicators.occupation in OCCUPATIONS
    }
    # occupations without postings are still listed (suppressed), as without directions
    assert {e.indicators.occupation for e in cat.entries} == set(TAXONOMY.occupations)


@pytest.mark.parametrize(("breakdown", "region", "by_level"), [("province", None, True), (None, "east", False)])
def test_top_skills_and_competencies_equal_a_ranking_per_entry(
    planted: Planted, breakdown: str | None, region: str | None, by_level: bool
) -> None:
    """The grouped rankings (one query per facet) give every entry what the former path gave: the
    store's ranking of the entry's occupation × level in the period at the catalogue's geography
    (skills without a unique posting left out; competencies named by their statements)."""
    _, store = planted(SEEDS[0])
    cat = build_catalogue(store, TAXONOMY, PERIOD, breakdown=breakdown, region=region, by_level=by_level, top=4)  # type: ignore[arg-type]
    q3 = parse_period(PERIOD)
    checked = 0
    for e in cat.entries:
        ind = e.indicators
        if ind.unique_postings == 0:
            assert e.top_skills == [] and e.top_competencies == []
            continue
        update: dict[str, object] = {"start": q3.start, "end": q3.end, "occupations": [ind.occupation]}
        if ind.level is not None:
            update["levels"] = [ind.level]
        if region is not None:
            update["regions"] = [region]
        flt = PostingFilter().model_copy(update=update)
        skills = store.ranking("skills", flt, limit=4).buckets
        comps = store.ranking("competencies", flt, limit=4).buckets
        assert [(s.id, s.postings) for s in e.top_skills] == [
            (b.key, b.unique_postings) for b in skills if b.unique_postings > 0
        ]
        assert [(c.id, c.postings) for c in e.top_competencies] == [(b.key, b.unique_postings) for b in comps]
        occ = TAXONOMY.occupations[str(ind.occupation)]
        statements = {c.id: c.text for lvl, cs in occ.levels.items() if ind.level in (None, lvl) for c in cs}
        assert [c.name for c in e.top_competencies] == [statements.get(b.key) for b in comps]
        checked += 1
    assert checked >= 5 and any(e.top_competencies for e in cat.entries)
    assert any(len(e.top_skills) >= 2 for e in cat.entries)
