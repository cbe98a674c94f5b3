"""The occupation half of the bundled taxonomy: codes, directions, competencies, title patterns."""

from __future__ import annotations

import json
import re

import pytest

from skill_taxonomy.loader import Taxonomy, load_taxonomy
from skill_taxonomy.validate import validate_taxonomy
from skillsignal.core.models import LEVELS

CORE = {
    "2-02-38-01",
    "2-02-38-02",
    "2-02-38-03",
    "2-02-38-04",
    "2-02-38-05",
    "2-02-38-06",
    "2-02-38-07",
    "2-02-38-08",
    "2-02-38-09",
    "2-02-38-12",
    "2-06-07-13",
}
ADJACENT = {"2-02-10-03", "2-02-10-06", "2-02-10-07", "2-02-10-08", "2-02-30-09"}

# Codes printed on the 2021 standards, where the reference gives them from a source.
CODE_2015 = {
    "2-02-38-01": "2-02-10-09",
    "2-02-38-02": "2-02-10-10",
    "2-02-38-03": "2-02-10-11",
    "2-02-38-04": "2-02-10-12",
    "2-02-38-05": "2-02-07-13",
    "2-02-38-06": "2-02-10-13",
    "2-02-38-07": "2-02-10-14",
    "2-02-38-08": "2-02-10-15",
}

# Directions the standards themselves define (other directions are the project's own).
STANDARD_DIRECTIONS = {
    "2-02-38-01": {"computer-vision", "ai-platform", "ai-chip", "ai-application"},
    "2-02-38-02": {"iot-embedded", "iot-application", "iot-integration"},
    "2-02-38-03": {"data-processing", "data-analysis", "data-management"},
    "2-02-38-04": {"cloud-ops", "cloud-dev"},
}

LEVEL_LETTER = {"初级": "j", "中级": "m", "高级": "s"}

# (title, expected occupation, expected direction or None)
TITLES = [
    ("视觉算法工程师（校招）", "2-02-38-01", "computer-vision"),
    ("算法工程师", "2-02-38-01", "machine-learning"),
    ("高级NLP算法工程师", "2-02-38-01", "nlp"),
    ("语音识别算法专家", "2-02-38-01", "speech"),
    ("推荐算法工程师", "2-02-38-01", "recommendation"),
    ("大模型应用开发工程师", "2-02-38-01", "large-models"),
    ("SLAM研发工程师", "2-02-38-01", "computer-vision"),
    ("Machine Learning Engineer", "2-02-38-01", "machine-learning"),
    ("物联网平台开发工程师", "2-02-38-02", "iot-application"),
    ("NB-IoT嵌入式软件工程师", "2-02-38-02", "iot-embedded"),
    ("物联网实施工程师", "2-02-38-02", "iot-integration"),
    ("大数据开发工程师", "2-02-38-03", "data-processing"),
    ("数据仓库工程师", "2-02-38-03", "data-processing"),
    ("Python爬虫工程师", "2-02-38-03", "data-processing"),
    ("bi开发工程师#", "2-02-38-03", "data-processing"),
    ("CDH运维工程师", "2-02-38-03", "data-processing"),
    ("数据挖掘工程师", "2-02-38-03", "data-analysis"),
    ("Data Scientist", "2-02-38-03", "data-analysis"),
    ("数据治理工程师", "2-02-38-03", "data-management"),
    ("OpenStack运维支持工程师", "2-02-38-04", "cloud-ops"),
    ("云平台开发工程师", "2-02-38-04", "cloud-dev"),
    ("K8S运维工程师", "2-02-38-04", "cloud-ops"),
    ("DevOps工程师", "2-02-38-04", "cloud-ops"),
    ("PLC电气工程师", "2-02-38-05", "line-development"),
    ("MES实施工程师", "2-02-38-05", "production-control"),
    ("工业机器人应用工程师", "2-02-38-05", "line-application"),
    ("工业互联网平台开发工程师", "2-02-38-06", "iiot-platform"),
    ("标识解析工程师", "2-02-38-06", "iiot-network"),
    ("工控安全工程师", "2-02-38-06", "iiot-security"),
    ("Unity3D开发工程师", "2-02-38-07", "vr-development"),
    ("VR内容美术设计师", "2-02-38-07", "vr-content"),
    ("AR/VR解决方案工程师", "2-02-38-07", "vr-application"),
    ("区块链底层开发工程师", "2-02-38-08", "blockchain-core"),
    ("Solidity智能合约工程师", "2-02-38-08", "smart-contract"),
    ("数字IC验证工程师", "2-02-38-09", "ic-verification"),
    ("数字IC设计工程师", "2-02-38-09", "ic-design"),
    ("模拟版图工程师", "2-02-38-09", "ic-backend"),
    ("DFT工程师", "2-02-38-09", "ic-backend"),
    ("FPGA开发工程师", "2-02-38-09", "fpga"),
    ("半导体工艺整合工程师", "2-02-38-09", "ic-process"),
    ("芯片封装工程师", "2-02-38-09", "ic-packaging"),
    ("数据安全工程师", "2-02-38-12", None),
    ("隐私计算算法工程师", "2-02-38-12", "privacy-computing"),
    ("数据脱敏开发工程师", "2-02-38-12", "data-protection"),
    ("数据合规专员", "2-02-38-12", "data-compliance"),
    ("数字化转型顾问", "2-06-07-13", "digital-transformation"),
    ("钉钉实施顾问", "2-06-07-13", "org-collaboration"),
    ("Java后端开发", "2-02-10-03", "backend"),
    ("python开发工程师（广州）", "2-02-10-03", "backend"),
    ("高级前端开发工程师（SCM）", "2-02-10-03", "frontend"),
    ("自动化测试工程师", "2-02-10-03", "testing"),
    ("嵌入式软件工程师", "2-02-10-06", None),
    ("Linux驱动开发工程师", "2-02-10-06", "bsp-driver"),
    ("渗透测试工程师", "2-02-10-07", "penetration-testing"),
    ("安全运维工程师", "2-02-10-07", "security-operations"),
    ("运维工程师", "2-02-10-08", "system-ops"),
    ("运维开发工程师", "2-02-10-08", "ops-development"),
    ("Mysql DBA", "2-02-10-08", "database-ops"),
    ("数据分析师", "2-02-30-09", None),
    ("风险策略分析师（数据分析方向）", "2-02-30-09", "statistical-modelling"),
    ("BI分析师", "2-02-30-09", "bi-reporting"),
]

# Titles no core occupation may claim: keyword look-alikes that are another job.
NOT_CORE = [
    "AI产品经理",
    "Python人工智能讲师",
    "人工智能训练师",
    "数据标注员",
    "影视三维特效师",
    "游戏服务端开发工程师",
    "半导体设备销售工程师",
    "软件测试工程师",
    "运维工程师",
    "网络安全工程师",
    "云南区域销售经理",
    "产品经理",
    "Armv8 SoC驱动工程师",
]


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy(validate=False)


def _matches(patterns: list[str], title: str) -> bool:
    return any(re.search(p, title) for p in patterns)


def _claimants(taxonomy: Taxonomy, title: str) -> set[str]:
    return {c for c, o in taxonomy.occupations.items() if _matches(o.title_patterns, title)}


def test_the_sixteen_occupations_are_there_with_their_core_flag(taxonomy):
    assert set(taxonomy.occupations) == CORE | ADJACENT
    assert {o.code for o in taxonomy.core_occupations} == CORE
    for code, occ in taxonomy.occupations.items():
        assert occ.name_zh and occ.name_en and occ.definition.strip(), code
        assert occ.provenance.source, code


def test_codes_printed_on_the_standards_are_recorded(taxonomy):
    for code, code_2015 in CODE_2015.items():
        assert taxonomy.occupations[code].code_2015 == code_2015
    for code in ADJACENT:
        assert taxonomy.occupations[code].code_2015 is None


def test_the_version_file_is_read():
    assert load_taxonomy(validate=False).version == "2026.11.1"


def test_core_occupations_have_directions_and_all_three_levels(taxonomy):
    for occ in taxonomy.core_occupations:
        assert len(occ.directions) >= 2, occ.code
        assert set(occ.levels) == set(LEVELS), occ.code
        for level in LEVELS:
            assert len(occ.levels[level]) >= 5, (occ.code, level)
        used = {c.direction for comps in occ.levels.values() for c in comps if c.direction}
        unused = {d.id for d in occ.directions} - used
        assert not unused, f"{occ.code}: directions without a competency: {unused}"


def test_adjacent_occupations_have_levels_and_are_marked_unverified(taxonomy):
    for code in ADJACENT:
        occ = taxonomy.occupations[code]
        assert set(occ.levels) == set(LEVELS), code
        assert all(not c.provenance.verified for comps in occ.levels.values() for c in comps), code


def test_directions_the_standards_define_are_present_and_verified(taxonomy):
    for code, expected in STANDARD_DIRECTIONS.items():
        directions = {d.id: d for d in taxonomy.occupations[code].directions}
        assert expected <= set(directions), code
        for direction_id in expected:
            assert directions[direction_id].provenance.verified, (code, direction_id)


def test_every_competency_has_provenance_and_a_well_formed_unique_id(taxonomy):
    seen: dict[str, str] = {}
    for code, occ in taxonomy.occupations.items():
        prefixes = set()
        direction_ids = {d.id for d in occ.directions}
        for level, comps in occ.levels.items():
            for comp in comps:
                assert comp.id not in seen, f"{comp.id} in {code} and {seen.get(comp.id)}"
                seen[comp.id] = code
                prefix, letter, *_ = comp.id.split(".")
                prefixes.add(prefix)
                assert letter == LEVEL_LETTER[level], comp.id
                assert comp.provenance.source and comp.provenance.section, comp.id
                assert comp.function and comp.work_content, comp.id
                assert len(comp.text) >= 12 and comp.text.startswith("能"), comp.id
                assert comp.direction is None or comp.direction in direction_ids, comp.id
        assert len(prefixes) == 1, f"{code}: competency id prefixes {prefixes}"


def test_competency_texts_are_not_repeated(taxonomy):
    texts = [c.text for o in taxonomy.occupations.values() for cs in o.levels.values() for c in cs]
    assert len(texts) == len(set(texts))


def test_every_title_pattern_compiles(taxonomy):
    for occ in taxonomy.occupations.values():
        assert occ.title_patterns, occ.code
        for pattern in occ.title_patterns + [p for d in occ.directions for p in d.title_patterns]:
            re.compile(pattern)
        assert all(d.title_patterns for d in occ.directions), occ.code


def test_occupation_files_alone_pass_the_validator(taxonomy):
    alone = Taxonomy(version=taxonomy.version, occupations=taxonomy.occupations, skills={})
    assert validate_taxonomy(alone) == []


@pytest.mark.parametrize(("title", "code", "direction"), TITLES)
def test_titles_are_claimed_by_their_own_occupation_only(taxonomy, title, code, direction):
    claimants = _claimants(taxonomy, title)
    assert code in claimants, f"{title!r} not claimed by {code}"
    other_core = (claimants & CORE) - {code}
    assert not other_core, f"{title!r} also claimed by {other_core}"
    if code in ADJACENT:
        assert not claimants & CORE
    if direction is not None:
        occ = taxonomy.occupations[code]
        hits = [d.id for d in occ.directions if _matches(d.title_patterns, title)]
        assert hits and hits[0] == direction, f"{title!r}: directions {hits}"


@pytest.mark.parametrize("title", NOT_CORE)
def test_look_alike_titles_are_not_claimed_by_a_core_occupation(taxonomy, title):
    assert not _claimants(taxonomy, title) & CORE


def test_no_title_pattern_claims_a_wrong_core_occupation_on_the_labelled_set(taxonomy, shared_dir):
    """Titles alone: where a pattern claims a core occupation it is the gold one."""
    gold_path = shared_dir / "eval" / "labeled-dev.gold.jsonl"
    posts_path = shared_dir / "eval" / "labeled-dev.jsonl"
    if not gold_path.exists() or not posts_path.exists():
        pytest.skip("labelled dev set is absent")
    gold = {g["id"]: g for g in map(json.loads, gold_path.read_text(encoding="utf-8").splitlines())}
    agree = 0
    for posting in map(json.loads, posts_path.read_text(encoding="utf-8").splitlines()):
        label = gold[posting["id"]]
        expected = label["occupation"] if label["occupation"] != "other" else label["other_hint"]
        claimed = _claimants(taxonomy, posting["title"])
        wrong_core = (claimed & CORE) - {expected}
        assert not wrong_core, f"{posting['title']!r}: gold {expected}, claimed {claimed}"
        agree += expected in claimed
    assert agree >= 0.7 * len(gold)
