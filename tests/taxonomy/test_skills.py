"""The bundled skills: counts, ids the rest of the project relies on, aliases, links, gold coverage."""

from __future__ import annotations

import re

import pytest

from skill_taxonomy import load_taxonomy, normalize_term
from skill_taxonomy.coverage import coverage, resolves

CORE_CODES = [f"2-02-38-{n:02d}" for n in range(1, 10)] + ["2-02-38-12", "2-06-07-13"]


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy()


def test_bundled_taxonomy_is_large_enough(taxonomy):
    assert len(taxonomy.skills) >= 1500
    assert sum(len(s.aliases) for s in taxonomy.skills.values()) >= 4000


@pytest.mark.parametrize("code", CORE_CODES)
def test_each_core_occupation_has_60_linked_skills(taxonomy, code):
    linked = [s for s in taxonomy.skills.values() if any(link.occupation == code for link in s.occupations)]
    assert len(linked) >= 60, f"{code}: {len(linked)} skills"


@pytest.mark.parametrize(
    "surface, skill_id",
    [
        ("Python", "python"),
        ("python3", "python"),
        ("PyTorch", "pytorch"),
        ("torch", "pytorch"),
        ("深度学习", "deep-learning"),
        ("TensorFlow", "tensorflow"),
        ("TF", "tensorflow"),
        ("JAVA", "java"),
        ("C++", "c++"),
        ("C艹", "c++"),
        ("ｃ＋＋", "c++"),
        ("K8s", "kubernetes"),
        ("kubernates", "kubernetes"),
        ("Docker", "docker"),
        ("MySQL", "mysql"),
        ("Linux", "linux"),
        ("机器学习", "machine-learning"),
        ("Verilog", "verilog"),
        ("FPGA", "fpga"),
        ("卷积神经网络", "cnn"),
        ("CNN", "cnn"),
        ("Golang", "go"),
        ("R语言", "r"),
        ("C语言", "c"),
        ("Spring Boot", "spring-boot"),
        ("springboot", "spring-boot"),
        ("Vue.js", "vue.js"),
        ("VueJS", "vue.js"),
        ("ES", "elasticsearch"),
        ("ES6", "es6"),
        ("MQ", "message-queue"),
        ("数据结构", "data-structures"),
        ("分布式", "distributed-systems"),
        ("单元测试", "unit-testing"),
    ],
)
def test_surface_forms_resolve_to_the_expected_skill(taxonomy, surface, skill_id):
    assert [s.id for s in taxonomy.resolve(surface)] == [skill_id]


def test_ids_are_slugs_and_types_are_known(taxonomy):
    for skill in taxonomy.skills.values():
        assert re.fullmatch(r"[a-z0-9][a-z0-9_.+#-]*", skill.id), skill.id
        assert skill.name_en.strip() and skill.name_zh.strip(), skill.id


def test_soft_skills_and_generic_words_are_not_skills(taxonomy):
    for word in [
        "沟通能力",
        "团队合作",
        "学习能力",
        "责任心",
        "英语",
        "CET-6",
        "开发",
        "设计",
        "编程",
        "系统",
        "数据",
        "本科",
        "计算机相关专业",
        "金融行业",
    ]:
        assert not taxonomy.resolve(word), word


def test_short_risky_forms_need_context(taxonomy):
    for surface in ["Go", "R", "C", "TF", "ES", "MQ", "AI", "PS"]:
        (skill,) = taxonomy.resolve(surface)
        assert skill.needs_context(surface), surface
    (go,) = taxonomy.resolve("Golang")
    assert not go.needs_context("Golang")


def test_shared_surface_forms_are_only_between_ambiguous_skills(taxonomy):
    shared = {k: ids for k, ids in taxonomy.surface_index.items() if len(ids) > 1}
    assert shared, "expected a few deliberately ambiguous forms (e.g. LVS, MR, yarn)"
    for ids in shared.values():
        assert all(taxonomy.skills[i].ambiguous for i in ids)


def test_links_carry_weights_and_known_directions(taxonomy):
    with_direction = 0
    for skill in taxonomy.skills.values():
        for link in skill.occupations:
            assert 0.0 <= link.weight <= 1.0
            occ = taxonomy.occupations[link.occupation]
            if link.direction:
                with_direction += 1
                assert link.direction in {d.id for d in occ.directions}
    assert with_direction >= 500


def test_slash_lists_resolve_when_each_part_does(taxonomy):
    assert resolves(taxonomy, "C/C++")
    assert resolves(taxonomy, "TensorFlow/PyTorch")
    assert not resolves(taxonomy, "C/沟通能力")
    assert normalize_term("Web 前端") == "web前端" and resolves(taxonomy, "Web 前端")


def test_gold_coverage_at_least_95_percent(taxonomy, shared_dir):
    gold = shared_dir / "eval" / "labeled-dev.gold.jsonl"
    if not gold.exists():
        pytest.skip(f"{gold} is absent")
    resolved, total, missing = coverage(gold, taxonomy)
    assert total > 0
    assert resolved / total >= 0.95, missing


def test_skill_yaml_is_up_to_date_with_the_curated_lists():
    from skill_taxonomy.tools.build_skills import build

    assert build(check=True) == 0, "run: python -m skill_taxonomy.tools.build_skills"
