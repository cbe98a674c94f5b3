"""nlp.fields: salary, experience, education, location parsers, the data-file checks, and the
posting normaliser — table-driven, plus coverage over the real dev postings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from nlp.fields import (
    first_required_years,
    normalise_posting,
    parse_education,
    parse_experience,
    parse_salary,
    resolve_location,
)
from nlp.fields.data import FieldDataError, SalaryRules, load_yaml
from nlp.fields.geo import GeoFile, load_geo
from skillsignal.core.models import Education, Experience, Location, Posting, Salary
from skillsignal.core.records import record_to_posting

GARBAGE = [None, "", "   ", "abc", "\x00\ud800\ufffd", "？？？", "-", "万", "K-K", "1" * 5000, "年以上", "💰💰"]


# --- salary ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "source", "lo", "hi", "period", "months", "negotiable"),
    [
        ("15-25K·13薪", None, 15000, 25000, "month", 13, False),
        ("15k-25k", None, 15000, 25000, "month", None, False),
        ("0.8-1.2万/月", None, 8000, 12000, "month", None, False),
        ("1-1.5万", None, 10000, 15000, "month", None, False),
        ("10-20万/年", None, 8333.33, 16666.67, "year", None, False),
        ("12-24万/年·12薪", None, 10000, 20000, "year", 12, False),
        ("14-28万/年·14薪", None, 10000, 20000, "year", 14, False),
        ("150元/天", None, 3262.5, 3262.5, "day", None, False),
        ("50元/小时", None, 8700, 8700, "hour", None, False),
        ("面议", None, None, None, None, None, True),
        ("薪资面议", None, None, None, None, None, True),
        ("8千-1万", None, 8000, 10000, "month", None, False),
        ("6000-8000元/月", None, 6000, 8000, "month", None, False),
        ("2万以上", None, 20000, None, "month", None, False),
        ("1.5千以下/月", None, None, 1500, "month", None, False),
        ("1千以下", None, None, 1000, "month", None, False),
        ("6千-8千", None, 6000, 8000, "month", None, False),
        ("1万-1.5万", "51job", 10000, 15000, "month", None, False),
        # 猎聘 writes annual pay without a period
        ("12-18万", "liepin", 10000, 15000, "year", None, False),
        ("5-7万", "liepin", 4166.67, 5833.33, "year", None, False),
        ("30-60万|", "liepin", 25000, 50000, "year", None, False),
        ("30-40万查看率<15%|反馈率<15%", "liepin", 25000, 33333.33, "year", None, False),
        # a figure with a 千 part is monthly whatever the source
        ("8千-1万", "liepin", 8000, 10000, "month", None, False),
        # no source: a large bare 万 range is a year
        ("20-30万", None, 16666.67, 25000, "year", None, False),
        ("15-25", None, 15000, 25000, "month", None, False),
        ("月薪1万起", None, 10000, None, "month", None, False),
        ("２０Ｋ－３０Ｋ", None, 20000, 30000, "month", None, False),
    ],
)
def test_parse_salary(text, source, lo, hi, period, months, negotiable):
    s = parse_salary(text, source=source)
    assert s.text == text
    assert s.min == (pytest.approx(lo, abs=0.01) if lo is not None else None)
    assert s.max == (pytest.approx(hi, abs=0.01) if hi is not None else None)
    assert s.period == period
    assert s.months == months
    assert s.negotiable is negotiable


def test_parse_salary_empty_and_garbage_never_raise():
    assert parse_salary("") == Salary()
    assert parse_salary(None) == Salary()
    for g in GARBAGE:
        s = parse_salary(g)
        assert isinstance(s, Salary)
        if g and g.strip() and not any(ch.isdigit() for ch in g):
            assert s.min is None and s.max is None and s.text == g.strip()


# --- experience --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lo", "hi"),
    [
        ("3-5年", 3, 5),
        ("5年以上", 5, None),
        ("3年及以上", 3, None),
        ("1年经验", 1, 1),
        ("2年", 2, 2),
        ("十年以上", 10, None),
        ("三到五年", 3, 5),
        ("一年半以上", 1.5, None),
        ("1年以下", 0, 1),
        ("1年以内", 0, 1),
        ("经验不限", None, None),
        ("无经验", None, None),
        ("无需经验", None, None),
        ("应届生", None, None),
        ("在校生", None, None),
    ],
)
def test_parse_experience(text, lo, hi):
    e = parse_experience(text)
    assert (e.text, e.years_min, e.years_max) == (text, lo, hi)


@pytest.mark.parametrize(
    ("description", "years"),
    [
        ("3年以上", 3),
        ("3-5年", 3),
        ("1年", 1),
        ("三年以上", 3),
        ("两年", 2),
        ("半年", 0.5),
        ("任职要求:1、本科及以上学历;2、3年以上Java开发经验", 3),
        ("具有三年以上开发经验", 3),
        ("工作经验要求:两年", 2),
        ("半年以上实习经验", 0.5),
        ("1.5年以上Java经验", 1.5),
        ("我们对您的期望: 1.3年以上开发经验", 3),  # list marker 1. glued to 3年
        ("有1年以内工作经验", 0),
        ("互联网公司3年以上的工作经验", 3),
        ("公司成立10年,需要3年以上经验", 3),
        ("深耕行业15年。要求2年相关经验", 2),
        ("年薪20万,3-5年经验", 3),
        ("本科毕业2年工作经验", 2),
        # not experience
        ("公司成立10年", None),
        ("公司成立10年以上", None),
        ("2019年加入", None),
        ("5年内成为专家", None),
        ("一年两次旅游,一年一次体检", None),
        ("成立于2005年,拥有12年的历史", None),
        ("管理团队具有超过25年的数字化营销从业经验", None),
        ("可连续实习半年以上", None),
        ("合同期:3年", None),
        ("", None),
        (None, None),
    ],
)
def test_first_required_years(description, years):
    assert first_required_years(description) == years


def test_experience_garbage_never_raises():
    for g in GARBAGE:
        assert isinstance(parse_experience(g), Experience)
        first_required_years(g)


# --- education ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("本科", "本科"),
        ("统招本科", "本科"),
        ("学士", "本科"),
        ("本科及以上,硕士优先", "本科"),
        ("大专", "大专"),
        ("专科", "大专"),
        ("高职", "大专"),
        ("硕士", "硕士"),
        ("研究生", "硕士"),
        ("MBA", "硕士"),
        ("博士", "博士"),
        ("中专", "中专"),
        ("中技", "中专"),
        ("技校", "中专"),
        ("中专/中技", "中专"),
        ("高中", "高中"),
        ("初中", "初中"),
        ("学历不限", "不限"),
        ("不限", "不限"),
        ("其他", None),
    ],
)
def test_parse_education(text, level):
    e = parse_education(text)
    assert (e.text, e.level) == (text, level)


def test_education_garbage_never_raises():
    for g in GARBAGE:
        assert isinstance(parse_education(g), Education)


# --- location ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "province", "city", "district", "region"),
    [
        ("上海-浦东新区", "上海", "上海", "浦东新区", "east"),
        ("北京市朝阳区", "北京", "北京", "朝阳区", "east"),
        ("北京-石景山", "北京", "北京", "石景山区", "east"),
        ("深圳·南山区", "广东", "深圳", "南山区", "east"),
        ("广东省广州市", "广东", "广州", None, "east"),
        ("广东省", "广东", None, None, "east"),
        ("湖北武汉洪山区", "湖北", "武汉", "洪山区", "central"),
        ("成都-高新区", "四川", "成都", "高新区", "west"),
        ("哈尔滨", "黑龙江", "哈尔滨", None, "northeast"),
        ("昆山", "江苏", "苏州", "昆山", "east"),
        ("浦东新区", "上海", "上海", "浦东新区", "east"),
        ("吉林", "吉林", None, None, "northeast"),
        ("吉林市", "吉林", "吉林", None, "northeast"),
        ("恩施州", "湖北", "恩施", None, "central"),
        ("乌鲁木齐-天山区", "新疆", "乌鲁木齐", "天山区", "west"),
        ("呼和浩特", "内蒙古", "呼和浩特", None, "west"),
        ("香港", "香港", "香港", None, None),
        ("异地招聘", None, None, None, None),
        ("全国", None, None, None, None),
        ("", None, None, None, None),
    ],
)
def test_resolve_location(text, province, city, district, region):
    loc = resolve_location(text)
    assert (loc.province, loc.city, loc.district, loc.region) == (province, city, district, region)


def test_resolve_location_model_and_unknown():
    loc = resolve_location(Location(city="广州", district="荔湾区"))
    assert (loc.province, loc.city, loc.district, loc.region) == ("广东", "广州", "荔湾区", "east")
    unknown = resolve_location("菲律宾")
    assert (unknown.province, unknown.city, unknown.region) == (None, "菲律宾", None)
    for g in GARBAGE:
        assert isinstance(resolve_location(g), Location)


def test_geo_file_is_complete():
    geo = load_geo()
    assert len(geo.provinces) == 34
    assert sum(len(p.cities) for p in geo.provinces) == 333
    regions = {p.short: p.region for p in geo.provinces}
    assert {k for k, v in regions.items() if v == "northeast"} == {"辽宁", "吉林", "黑龙江"}
    assert {k for k, v in regions.items() if v == "central"} == {"山西", "安徽", "江西", "河南", "湖北", "湖南"}
    assert len([v for v in regions.values() if v == "east"]) == 10
    assert len([v for v in regions.values() if v == "west"]) == 12


def test_geo_schema_rejects_broken_files(tmp_path: Path):
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "nlp/data/geo/cities.yaml").read_text("utf-8"))
    broken = dict(raw, provinces=raw["provinces"][:-1])
    path = tmp_path / "cities.yaml"
    path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FieldDataError, match="34"):
        load_yaml(path, GeoFile)
    dup = dict(raw, aliases={**raw["aliases"], "某地": "不存在市"})
    path.write_text(yaml.safe_dump(dup, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FieldDataError, match="unknown city"):
        load_yaml(path, GeoFile)


def test_salary_rules_schema_rejects_unknown_period(tmp_path: Path):
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "nlp/data/fields/salary.yaml").read_text("utf-8"))
    raw["periods"]["fortnight"] = ["/双周"]
    path = tmp_path / "salary.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FieldDataError, match="fortnight"):
        load_yaml(path, SalaryRules)


# --- normaliser --------------------------------------------------------------------------


def _posting(**kw) -> Posting:
    base = dict(
        id="p1",
        source="51job",
        title="  高级  算法工程師 ",
        company="某某科技",
        location=Location(city="深圳-南山区"),
        salary=Salary(text="15-25K·13薪"),
        experience=Experience(text="3-5年"),
        education=Education(text="统招本科"),
        description="<p>任職要求：</p><ul><li>熟悉機器學習</li><li>3年以上Python經驗</li></ul>",
    )
    base.update(kw)
    return Posting(**base)


def test_normalise_posting_fills_fields_and_keeps_text():
    p = _posting()
    out = normalise_posting(p)
    assert out.title == "高级 算法工程师"
    assert out.description == "任职要求:\n熟悉机器学习\n3年以上Python经验"
    assert (out.salary.text, out.salary.min, out.salary.max, out.salary.months) == ("15-25K·13薪", 15000, 25000, 13)
    assert (out.experience.text, out.experience.years_min, out.experience.years_max) == ("3-5年", 3, 5)
    assert (out.education.text, out.education.level) == ("统招本科", "本科")
    assert (out.location.province, out.location.city, out.location.district, out.location.region) == (
        "广东",
        "深圳",
        "南山区",
        "east",
    )
    assert out.fingerprint == out.compute_fingerprint() != p.fingerprint
    assert p.title == "高级 算法工程師"  # the input is not modified
    assert normalise_posting(out).model_dump(exclude={"crawled_at"}) == out.model_dump(exclude={"crawled_at"})


def test_normalise_posting_never_raises_on_bad_values():
    nasty = _posting(
        title="\x00\x07 ",
        description="\ufffd" * 1000 + "\x00" * 10,
        salary=Salary(text="\ud800万万万"),
        experience=Experience(text="年年年"),
        education=Education(text="\x07", level="奇怪"),
        location=Location(city="\x00", district="\ufffd", province="???"),
        tags=["\x00", "Python"],
    )
    out = normalise_posting(nasty)
    assert out.title  # kept (never empty)
    assert out.description == ""
    assert out.salary.min is None and out.salary.text
    assert out.experience.years_min is None
    assert out.tags == ["Python"]


def test_normalise_posting_one_megabyte_description():
    out = normalise_posting(_posting(description="熟悉Python;3年以上开发经验。\n" * 60_000))
    assert len(out.description) > 900_000


# --- coverage on the real postings ---------------------------------------------------------


def test_dev_postings_coverage(shared_dir):
    """>= 99% of the distinct non-empty field values in the real postings parse."""
    rows = [json.loads(line) for line in (shared_dir / "data" / "postings-dev.jsonl").open(encoding="utf-8")]

    def share(field, ok):
        values = {(r.get("source"), r.get(field)) for r in rows if r.get(field)}
        weights = {}
        for r in rows:
            if r.get(field):
                weights[(r.get("source"), r[field])] = weights.get((r.get("source"), r[field]), 0) + 1
        good = sum(weights[v] for v in values if ok(*v))
        return good / sum(weights.values())

    no_years = {"经验不限", "无经验", "应届生", "在校生", "不限"}

    def salary_ok(source, text):
        s = parse_salary(text, source=source)
        return s.min is not None or s.max is not None or s.negotiable

    def experience_ok(_source, text):
        return parse_experience(text).years_min is not None or text in no_years

    assert share("salary", salary_ok) >= 0.99
    assert share("experience", experience_ok) >= 0.99
    assert share("education", lambda _s, t: parse_education(t).level is not None) >= 0.99
    assert share("city", lambda _s, t: resolve_location(t).province is not None) >= 0.99
    # monthly figures are plausible: the median mid-point of parsed ranges is a white-collar wage
    mids = sorted(
        (s.min + s.max) / 2
        for s in (parse_salary(r["salary"], source=r["source"]) for r in rows if r.get("salary"))
        if s.min is not None and s.max is not None
    )
    assert 8_000 <= mids[len(mids) // 2] <= 30_000


def test_dev_postings_normalise_sample(shared_dir):
    with (shared_dir / "data" / "postings-dev.jsonl").open(encoding="utf-8") as fh:
        rows = [json.loads(next(fh)) for _ in range(300)]
    for r in rows:
        out = normalise_posting(record_to_posting(r))
        assert out.fingerprint == out.compute_fingerprint()
        assert "\r" not in out.description and "  " not in out.description
        if r.get("salary") and "面议" not in r["salary"]:
            assert out.salary.min is not None or out.salary.max is not None, r["salary"]
