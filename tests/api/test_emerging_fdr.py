"""Emerging skills without false alarms: the Benjamini–Hochberg control over every skill tested.

A generated 30-month history, indexed into a real SQLite store and asked through the API: when
the skill mix never changes, nothing is flagged (several seeds), although each seed holds skills
whose own z-test falls below the level (the uncorrected rule flagged those); a skill planted to
rise in the last three months is flagged, and only it. The adjusted p-values are checked against a
step-up procedure written out here.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from api.services.emerging import bh_adjust
from skill_taxonomy import default_taxonomy
from skillsignal.core.models import Extraction, OccupationMatch, Posting, SkillMatch

from .conftest import make_settings

MONTHS = 30  # January 2024 .. June 2026
PER_MONTH = 200
N_SKILLS = 120
RISER = 5  # the index of the skill planted to rise


def step_up(p_values: list[float]) -> list[float]:
    """Benjamini–Hochberg by hand: p_(i) * m / i, made monotone from the largest rank down."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = running
    return adjusted


def history(seed: int, rise: float = 1.0) -> list[Posting]:
    """30 months of postings; each names each skill independently with a fixed probability (0.02 to
    0.30); the skill ``RISER`` is named ``rise`` times as often in the last three months."""
    rng = random.Random(seed)
    skills = sorted(default_taxonomy().skills)[:N_SKILLS]
    rates = [0.02 + 0.28 * k / (N_SKILLS - 1) for k in range(N_SKILLS)]
    rates[RISER] = 0.05
    out = []
    for m in range(MONTHS):
        first = date(2024 + m // 12, m % 12 + 1, 1)
        days = ((first.replace(day=28) + timedelta(days=4)).replace(day=1) - first).days
        for i in range(PER_MONTH):
            factor = rise if m >= MONTHS - 3 else 1.0
            named = [s for k, s in enumerate(skills) if rng.random() < rates[k] * (factor if k == RISER else 1.0)]
            out.append(
                Posting(
                    id=f"s{seed}-{m}-{i}",
                    source="generated",
                    title="工程师",
                    posted_at=first + timedelta(days=rng.randrange(days)),
                    extraction=Extraction(
                        occupation=OccupationMatch(code="2-02-38-01", name="x"),
                        level="中级",
                        skills=[SkillMatch(id=s, name=s) for s in named],
                        taxonomy_version="t",
                        extractor_version="e",
                    ),
                )
            )
    return out


def ask(data_dir, postings: list[Posting], **params) -> dict:
    """The API's answer over a real SQLite store holding ``postings`` (every tested skill whose
    share grew is listed: within_noise)."""
    from skillsignal.server import build_app

    app = build_app(make_settings(data_dir))
    app.state.store.index_postings(postings)
    with TestClient(app) as c:
        res = c.get("/v1/skills/emerging", params={"within_noise": "true", "limit": 500, **params})
    assert res.status_code == 200, res.text
    return res.json()


def reference(postings: list[Posting], answer: dict, min_count: int = 10) -> dict[str, tuple[int, int, float, float]]:
    """skill -> (current, previous, raw p, BH-adjusted p) over the answer's windows, computed here."""
    from api.services.emerging import two_proportion_z

    def window(a: str, b: str) -> list[Posting]:
        return [p for p in postings if date.fromisoformat(a) <= p.posted_at <= date.fromisoformat(b)]

    now, before = window(answer["start"], answer["end"]), window(answer["previous_start"], answer["previous_end"])
    count = lambda ps, k: sum(any(s.id == k for s in p.extraction.skills) for p in ps)  # noqa: E731
    skills = sorted({s.id for p in now for s in p.extraction.skills})
    family = [(k, count(now, k), count(before, k)) for k in skills if count(now, k) >= min_count]
    raw = [two_proportion_z(c1, len(now), c0, len(before))[1] for _, c1, c0 in family]
    return {k: (c1, c0, p, q) for (k, c1, c0), p, q in zip(family, raw, step_up(raw), strict=True)}


SEEDS = (1, 2, 3, 4, 5)


@pytest.fixture(scope="module")
def stable(tmp_path_factory) -> dict[int, tuple[list[Posting], dict]]:
    out = {}
    for seed in SEEDS:
        postings = history(seed)
        out[seed] = postings, ask(tmp_path_factory.mktemp(f"stable{seed}"), postings)
    return out


@pytest.fixture(scope="module")
def rising(tmp_path_factory) -> tuple[list[Posting], dict]:
    postings = history(3, rise=2.4)
    return postings, ask(tmp_path_factory.mktemp("rising"), postings)


def test_bh_adjust_is_the_step_up_procedure():
    rng = random.Random(7)
    for m in (1, 2, 5, 40):
        ps = [rng.random() ** 3 for _ in range(m)] + [0.5, 0.5]  # ties too
        assert bh_adjust(ps) == pytest.approx(step_up(ps), abs=1e-12)
    assert bh_adjust([]) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_a_stable_skill_mix_flags_nothing(stable, seed):
    _, res = stable[seed]
    # the default window: the last 90 days against the 90 before, ~600 postings each
    assert res["n_current"] > 500 and res["n_previous"] > 500
    fdr = res["fdr"]
    assert fdr["method"] == "benjamini-hochberg" and fdr["q"] == 0.01
    assert fdr["tested"] >= N_SKILLS - 5  # (nearly) every skill has min_count (10) postings in the window
    assert fdr["significant"] == 0
    assert res["skills"] and not any(s["significant"] for s in res["skills"])
    assert all(s["p_adjusted"] >= 0.01 for s in res["skills"])


def test_the_uncorrected_test_would_have_flagged_the_stable_mix(stable):
    """The point of the control: over the seeds, single tests fall below p < 0.01 (the old rule
    flagged each of them), and none survives the correction."""
    raw = [s["skill_id"] for _, res in stable.values() for s in res["skills"] if s["p_value"] < 0.01]
    assert raw, "no seed has a single test below 0.01: the stable-mix test shows nothing"


def test_a_planted_rising_skill_is_flagged_and_nothing_else(rising, tmp_path):
    riser = sorted(default_taxonomy().skills)[RISER]
    postings, res = rising
    flagged = [s for s in res["skills"] if s["significant"]]
    assert [s["skill_id"] for s in flagged] == [riser], flagged
    assert res["fdr"]["significant"] == 1
    assert flagged[0]["p_adjusted"] < 0.01
    assert min(x["p_adjusted"] for x in res["skills"] if not x["significant"]) >= 0.01
    # without within_noise only the flagged skill is listed
    from skillsignal.server import build_app

    app = build_app(make_settings(tmp_path))
    app.state.store.index_postings(postings)
    with TestClient(app) as c:
        plain = c.post("/v1/skills/emerging", json={}).json()
    assert [(x["skill_id"], x["significant"]) for x in plain["skills"]] == [(riser, True)]


@pytest.mark.parametrize("which", ["stable", "rising"])
def test_counts_and_adjusted_p_values_match_a_reference_computed_here(stable, rising, which):
    postings, res = stable[2] if which == "stable" else rising
    want = reference(postings, res)
    assert res["fdr"]["tested"] == len(want)
    grew = {k: v for k, v in want.items() if v[2] < 0.5}  # z > 0: the share grew
    assert {s["skill_id"] for s in res["skills"]} == set(grew)
    for s in res["skills"]:
        c1, c0, p, q = want[s["skill_id"]]
        assert (s["current"], s["previous"]) == (c1, c0)
        assert s["p_value"] == pytest.approx(p, rel=1e-9)
        assert s["p_adjusted"] == pytest.approx(q, rel=1e-9)
        assert s["significant"] == (q < 0.01)
