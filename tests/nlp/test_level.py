"""The level rule (GUIDELINE section 2), step by step."""

import pytest

from nlp.level import infer_level


@pytest.mark.parametrize(
    "title, field, description, expected",
    [
        ("高级Java工程师", "1年", "", "高级"),  # title cue beats the field
        ("Sr. Data Engineer", None, "", "高级"),
        ("技术经理", "1-3年", "", "高级"),
        ("算法工程师（校招）", "5-7年", "", "初级"),
        ("Java实习生", None, "5年以上经验", "初级"),
        ("中级测试工程师", None, "", "中级"),
        ("Python开发工程师", "3-5年", "", "中级"),  # lower bound 3
        ("Python开发工程师", "5-10年", "", "高级"),
        ("Python开发工程师", "1年", "要求5年以上", "初级"),  # the field wins
        ("Python开发工程师", "经验不限", "三年以上相关经验", "中级"),  # description when the field has no number
        ("Python开发工程师", "无经验", "2年以上经验", "初级"),
        ("Embedded engineer", "经验不限", "3+ years embedded experience", "中级"),
        ("Python开发工程师", "", "熟悉Python", "初级"),  # no years anywhere
    ],
)
def test_level_rule(title, field, description, expected):
    assert infer_level(title, field, description) == expected


def test_parsed_years_min_is_used_when_given():
    assert infer_level("数据工程师", "some text", "", years_min=6) == "高级"


def test_only_the_title_counts_for_title_cues():
    assert infer_level("Python开发工程师", "3-5年", "高级工程师职责：负责开发") == "中级"
