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


def test_a_core_occupation_needs_its_concept_in_the_duties(scorer):
    """The title names AI, but no duty sentence names an AI concept: the anchor scales the AI
    evidence down, and the big-data duties decide."""
    skills = ev(("hadoop", "duties"), ("spark", "requirements"))
    anchored = scorer.decide("深度学习工程师", skills, duties=["负责公司基于Hadoop的数据仓库建设与ETL开发"])
    assert anchored.match.code == BIGDATA
    # without text the anchor test is skipped and the title decides, as before
    assert scorer.decide("深度学习工程师", skills).match.code == AI


def test_the_anchor_keeps_an_occupation_whose_duties_name_it(scorer):
    m = scorer.decide("深度学习工程师", ev(("python", "requirements")), duties=["负责图像识别算法的研发"]).match
    assert m.code == AI


def test_a_lookalike_title_yields_other(scorer):
    """A teaching title decides (look-alike 'teaching' in occupation_rules.yaml): other, even
    when the course is about a core occupation's tools."""
    skills = ev(("python", "main_duty"), ("hadoop", "duties"))
    m = scorer.decide("大数据讲师", skills, duties=["负责Hadoop大数据课程的教学"]).match
    assert m.code == "other" and m.other_hint == ""


def test_similarity_cannot_lift_a_posting_over_the_other_floor(scorer):
    """A huge similarity for AI on a posting with no digital evidence stays other."""
    sims = {code: 0.0 for code in scorer.taxonomy.occupations}
    sims[AI] = 1.0
    m = scorer.decide("药品研发", [], similarities=sims, duties=["从事化学药品及仿制药的研发工作"]).match
    assert m.code == "other"


def test_rules_file_is_checked_against_its_schema(tmp_path):
    from pydantic import ValidationError

    from nlp.occupation import RULES_PATH, load_rules

    good = RULES_PATH.read_text(encoding="utf-8")
    bad = tmp_path / "rules.yaml"
    bad.write_text(good.replace("unanchored_factor:", "unanchored_factr:"), encoding="utf-8")
    with pytest.raises(ValidationError):
        load_rules(bad)
    broken = tmp_path / "anchors.yaml"
    broken.write_text(good.replace("2-02-38-01: '人工智能|", "2-02-38-01: '(人工智能|"), encoding="utf-8")
    with pytest.raises(ValidationError):
        load_rules(broken)
