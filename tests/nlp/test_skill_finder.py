"""Skill finding against a small hand-written taxonomy: boundaries, context, exclusions."""

import pytest

from nlp.sections import split_sections
from nlp.skills import SkillFinder, damerau
from tests.nlp.extract_fixtures import build_taxonomy


@pytest.fixture(scope="module")
def finder():
    return SkillFinder(build_taxonomy())


def find(finder, text):
    sents = split_sections(text)
    found = finder.find(text, sents)
    finder.find_typos(text, sents, found)
    return found.hits


def names(finder, text):
    return [(h.skill_id, h.surface) for h in find(finder, text)]


def ids(finder, text):
    return {h.skill_id for h in find(finder, text)}


def test_longest_match_and_token_boundaries(finder):
    assert ids(finder, "熟悉JavaScript开发") == {"javascript"}
    assert ids(finder, "熟悉Java和JavaScript") == {"java", "javascript"}
    assert ids(finder, "熟悉Javadoc规范") == set()


def test_mentions_are_the_exact_strings_written(finder):
    got = names(finder, "精通python3与MYSQL，熟悉Node.js、C#和TCP/IP")
    assert ("python", "python3") in got
    assert ("mysql", "MYSQL") in got
    assert ("nodejs", "Node.js") in got
    assert ("c#", "C#") in got and ("tcp-ip", "TCP/IP") in got


def test_version_numbers_stay_in_the_mention(finder):
    assert ("python", "Python3.6") in names(finder, "熟悉Python3.6开发")


def test_one_letter_languages_need_a_language_context(finder):
    assert ids(finder, "熟悉C语言") == {"c"}
    assert {"c", "c++"} <= ids(finder, "熟悉C、C++编程")
    assert "r" in ids(finder, "会用Python或R做统计")
    assert "c" not in ids(finder, "负责C端产品，面向toC用户")
    assert "r" not in ids(finder, "熟悉RPC与RESTful")


def test_english_words_count_in_english_only_with_their_capitalisation(finder):
    assert "go" not in ids(finder, "You will go to customers and help them.")
    assert "go" in ids(finder, "Experience with Go and Java services.")
    assert "go" in ids(finder, "熟悉go语言")


def test_education_clause_is_a_major_not_a_skill(finder):
    got = ids(finder, "统计学、计算机相关专业本科以上学历，熟悉数据分析")
    assert "statistics" not in got and "data-analysis" in got
    assert "statistics" in ids(finder, "掌握统计学知识")


def test_industry_is_not_a_skill(finder):
    assert "finance" not in ids(finder, "有金融行业经验者优先")


def test_boilerplate_produces_no_skills(finder):
    assert ids(finder, "公司福利：提供Python培训，五险一金") == set()


def test_preferred_is_marked_per_clause(finder):
    hits = {h.skill_id: h.preferred for h in find(finder, "熟悉Java，有Spark经验者优先")}
    assert hits == {"java": False, "spark": True}


def test_context_required_alias_needs_a_technical_sentence(finder):
    assert "pytorch" not in ids(finder, "点燃火炬torch传递")
    assert "pytorch" in ids(finder, "熟悉torch、TensorFlow等框架")


def test_blocker_phrase_hides_a_skill_word(finder):
    assert "device-drivers" not in ids(finder, "以数据驱动业务增长")
    assert "device-drivers" in ids(finder, "负责Linux驱动开发")


def test_typos_and_glued_names(finder):
    got = names(finder, "熟悉Hadoopp和Jenkns工具，技能：PythonLinuxMySQL")
    assert ("hadoop", "Hadoopp") in got
    assert ("jenkins", "Jenkns") in got
    assert {("python", "Python"), ("linux", "Linux"), ("mysql", "MySQL")} <= set(got)
    # English prose is not read for typos
    assert "java" not in ids(finder, "We want the best Jave of the year.")


def test_damerau_distance():
    assert damerau("jekins", "jenkins", 1) == 1
    assert damerau("hdoop", "hadoop", 2) == 1
    assert damerau("ab", "ba", 1) == 1
    assert damerau("python", "java", 2) == 3
