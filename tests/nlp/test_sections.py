"""Sectioning: headings with and without colons, list items, roles, boilerplate, preferred."""

from nlp.sections import split_sections


def kinds(text):
    return [(s.kind, s.text.strip()) for s in split_sections(text)]


def test_headings_split_duties_requirements_and_benefits():
    text = "岗位职责：1、负责推荐系统开发；2、优化召回。任职要求：1、熟悉Python；公司福利：五险一金，带薪年假"
    got = kinds(text)
    assert ("duties", "1、负责推荐系统开发") in got
    assert ("requirements", "1、熟悉Python") in got
    assert any(k == "benefits" and "五险一金" in t for k, t in got)


def test_heading_without_colon_before_a_numbered_list():
    got = kinds("职位描述1. 负责后台服务开发2. 负责性能优化")
    assert got[0] == ("duties", "1. 负责后台服务开发")
    assert got[1] == ("duties", "2. 负责性能优化")


def test_number_glued_to_a_word_continues_the_list_only_in_sequence():
    sents = [s.text.strip() for s in split_sections("要求：1. 熟悉REST API2. 掌握HTTP协议3. 熟悉Python3")]
    assert sents == ["1. 熟悉REST API", "2. 掌握HTTP协议", "3. 熟悉Python3"]


def test_circled_numbers_are_list_items_and_start_no_numbering():
    """ "①" is str.isdigit() but not a \\d digit: sectioning uncleaned text with it must not fail."""
    sents = [s.text.strip() for s in split_sections("要求：①熟悉REST API；②掌握HTTP协议")]
    assert sents == ["①熟悉REST API", "②掌握HTTP协议"]


def test_leading_verbs_give_the_role():
    got = kinds("任职要求：1、负责数据平台的搭建；2、熟悉Hadoop")
    assert got[0][0] == "duties" and got[1][0] == "requirements"


def test_company_blurb_and_contact_are_boilerplate():
    sents = split_sections("我们是一家专注于教育的公司，成立于2010年。联系方式：张先生 13800000000")
    assert sents and all(s.boilerplate for s in sents)


def test_preferred_markers_and_sections():
    sents = split_sections("任职要求：熟悉Java。有Spark经验者优先。加分项：了解Flink")
    flags = [(s.text.strip(), s.preferred) for s in sents]
    assert ("熟悉Java", False) in flags
    assert ("有Spark经验者优先", True) in flags
    assert ("了解Flink", True) in flags


def test_empty_and_plain_text():
    assert split_sections("") == []
    assert [s.kind for s in split_sections("熟悉Python")] == ["requirements"]
