"""Occupation decisions from title patterns and skill links (no embeddings)."""

import pytest

from nlp.occupation import OccupationScorer, SkillEvidence
from tests.nlp.extract_fixtures import AI, BIGDATA, OPS, SOFTWARE, build_taxonomy


@pytest.fixture(scope="module")
def scorer():
    return OccupationScorer(build_taxonomy())


def ev(*pairs):
    return [SkillEvidence(skill, section) for skill, section in pairs]


def test_title_names_a_core_occupation(scorer):
    m = scorer.decide("视觉算法工程师", ev(("python", "requirements"))).match
    assert m.code == AI and m.direction == "cv" and m.other_hint is None
    assert 0.5 < m.score <= 1.0


def test_adjacent_occupation_is_returned_with_its_hint(scorer):
    m = scorer.decide("后端开发工程师", ev(("java", "requirements"), ("django", "requirements"))).match
    assert m.code == SOFTWARE and m.other_hint == SOFTWARE


def test_skills_decide_without_a_title(scorer):
    skills = ev(("hadoop", "main_duty"), ("spark", "duties"), ("hive", "requirements"))
    assert scorer.decide("工程师", skills).match.code == BIGDATA


def test_main_duty_outweighs_a_language_only_title(scorer):
    skills = ev(("hadoop", "main_duty"), ("spark", "main_duty"), ("django", "requirements"))
    assert scorer.decide("Python开发工程师", skills).match.code == BIGDATA
    # the same title with web duties stays software
    web = ev(("django", "main_duty"), ("mysql", "requirements"), ("java", "requirements"))
    assert scorer.decide("Python开发工程师", web).match.code == SOFTWARE


def test_nothing_digital_is_other_with_an_empty_hint(scorer):
    m = scorer.decide("会计", []).match
    assert m.code == "other" and m.other_hint == ""


def test_preferred_extras_weigh_little(scorer):
    skills = ev(("linux", "main_duty"), ("kubernetes", "duties"), ("hadoop", "preferred"))
    assert scorer.decide("运维工程师", skills).match.code == OPS
