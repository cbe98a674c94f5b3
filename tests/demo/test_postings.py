"""The demo board's postings: deterministic, enough of them, spread over occupations, levels, places and months,
and each one consistent with what it was written to be (level by the GUIDELINE rules, skills in the text)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date

from skillsignal.demo.board import DemoBoard
from skillsignal.demo.generator import generate_postings

CORE = {f"2-02-38-{n:02d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 12)} | {"2-06-07-13"}
ADJACENT = {"2-02-10-03", "2-02-10-08", "2-02-30-09"}

_DIGEST_SCRIPT = (
    "import hashlib,json;from skillsignal.demo.board import DemoBoard;"
    "print(hashlib.sha256(json.dumps([p.model_dump(mode='json') for p in DemoBoard(port=0).postings],"
    "ensure_ascii=False,sort_keys=True).encode()).hexdigest())"
)


def _digest(postings) -> str:
    blob = json.dumps([p.model_dump(mode="json") for p in postings], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_postings_are_identical_on_every_construction_and_in_other_processes():
    first = DemoBoard(port=0).postings
    assert _digest(first) == _digest(DemoBoard(port=0).postings) == _digest(generate_postings())
    # another interpreter with another hash seed writes the very same postings
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run(
        [sys.executable, "-c", _DIGEST_SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == _digest(first)


def test_ids_are_unique_and_stable_shaped():
    postings = generate_postings()
    ids = [p.id for p in postings]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"demo-\d{4}", i) for i in ids)


def test_enough_postings_over_occupations_and_levels():
    postings = generate_postings()
    assert len(postings) >= 180
    by_occ = Counter(p.expected_occupation for p in postings)
    for code in CORE:
        assert by_occ[code] >= 10, (code, by_occ)
    assert ADJACENT <= set(by_occ)
    assert set(by_occ) <= CORE | ADJACENT
    by_pair = Counter((p.expected_occupation, p.expected_level) for p in postings)
    for code in CORE:
        for level in ("初级", "中级", "高级"):
            assert by_pair[(code, level)] >= 3, (code, level)


def test_places_and_months():
    postings = generate_postings()
    assert len({p.city for p in postings}) >= 12
    assert len({p.province for p in postings}) >= 8
    assert {p.region for p in postings} == {"east", "central", "west", "northeast"}
    assert all(date(2026, 8, 1) <= p.posted <= date(2026, 10, 31) for p in postings)
    months = Counter(p.posted.month for p in postings)
    assert set(months) == {8, 9, 10} and min(months.values()) >= 30
    assert all(p.valid_through > p.posted for p in postings)


def test_salaries_look_like_board_salaries_and_parse_consistently():
    postings = generate_postings()
    texts = [p.salary for p in postings]
    assert any(re.fullmatch(r"\d+-\d+K·\d+薪", t) for t in texts)
    assert any(re.fullmatch(r"[\d.]+-[\d.]+万(/月)?", t) for t in texts)
    assert any(re.fullmatch(r"\d+元/天", t) for t in texts)
    assert "面议" in texts
    for p in postings:
        if p.salary == "面议":
            assert p.salary_min is None and p.salary_unit is None
            continue
        assert p.salary_unit in {"MONTH", "DAY", "YEAR"}
        assert 0 < p.salary_min <= p.salary_max
        first = float(re.match(r"[\d.]+", p.salary).group(0))
        scale = 1000 if "K" in p.salary else 10000 if "万" in p.salary else 1
        assert p.salary_min == first * scale, p.salary
        if p.salary_unit == "MONTH":
            assert 3000 <= p.salary_min <= 80000, p.salary


_SENIOR = (
    "高级",
    "资深",
    "专家",
    "架构师",
    "总监",
    "负责人",
    "主管",
    "首席",
    "技术经理",
    "tech lead",
    "leader",
    "senior",
    "sr.",
    "staff",
    "principal",
)
_JUNIOR = ("初级", "助理", "实习", "实习生", "应届", "校招", "管培")
_CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def guideline_level(title: str, experience: str, description: str) -> str:
    """GUIDELINE.md section 2, written out independently of the generator."""
    low = title.lower()
    if any(c in low for c in _SENIOR):
        return "高级"
    if any(c in low for c in _JUNIOR):
        return "初级"
    if "中级" in title:
        return "中级"
    m = re.search(r"(\d+)", experience or "")
    years = int(m.group(1)) if m else None
    if years is None:
        m = re.search(r"(\d+)\s*(?:-\s*\d+\s*)?年|([一二两三四五六七八九十])年", description)
        if m:
            years = int(m.group(1)) if m.group(1) else _CN_NUM[m.group(2)]
    if years is None:
        return "初级"
    return "高级" if years >= 5 else "中级" if years >= 3 else "初级"


def test_expected_level_follows_the_guideline_rules():
    postings = generate_postings()
    wrong = [
        (p.id, p.title, p.experience, p.expected_level)
        for p in postings
        if guideline_level(p.title, p.experience, p.description) != p.expected_level
    ]
    assert not wrong, wrong[:5]
    # every level is reached both through a title word and through the years asked
    by_route = Counter(
        (p.expected_level, any(c in p.title.lower() for c in _SENIOR + _JUNIOR + ("中级",))) for p in postings
    )
    for level in ("初级", "中级", "高级"):
        assert by_route[(level, True)] > 0 and by_route[(level, False)] > 0, by_route


def test_expected_skills_are_surface_strings_of_the_text():
    postings = generate_postings()
    for p in postings:
        assert len(p.expected_skills) >= 3, p.id
        assert len(set(p.expected_skills)) == len(p.expected_skills)
        for s in p.expected_skills:
            assert s in p.description, (p.id, s)
    assert "{" not in "".join(p.description for p in postings)


def test_descriptions_are_multiline_with_duties_requirements_benefits():
    for p in generate_postings():
        lines = p.description.split("\n")
        assert lines[0] == "岗位职责："
        assert "任职要求：" in lines
        assert lines[-1].startswith("福利待遇：")
        assert sum(1 for ln in lines if re.match(r"\d+\. ", ln)) >= 7
        assert p.title and p.company and p.tags
        assert p.employment_type == ("实习" if "实习" in p.title else "全职")
