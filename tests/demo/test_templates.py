"""The template files validate, and the validator names what is wrong in a bad one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from skillsignal.demo.generator import generate_postings, generate_postings_from
from skillsignal.demo.schema import DATA_DIR, TemplateError, load_templates, marked_skills, title_cue, unmark


def test_bundled_templates_validate():
    t = load_templates()
    assert len(t.occupations) >= 14
    assert sum(o.count for o in t.occupations) >= 180
    assert all(o.directions for o in t.occupations)


def test_skill_marks():
    s = "熟悉{TensorFlow}/{PyTorch}等{深度学习}框架"
    assert marked_skills(s) == ["TensorFlow", "PyTorch", "深度学习"]
    assert unmark(s) == "熟悉TensorFlow/PyTorch等深度学习框架"


def test_title_cues():
    assert title_cue("资深Java开发工程师") == "高级"
    assert title_cue("Senior Engineer") == "高级"
    assert title_cue("FPGA开发工程师（实习）") == "初级"
    assert title_cue("中级运维工程师") == "中级"
    assert title_cue("数据仓库工程师") is None


@pytest.fixture
def data_copy(tmp_path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(DATA_DIR, dst)
    return dst


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_base_title_with_level_word_is_rejected(data_copy):
    path = data_copy / "occupations" / "2-02-38-01.yaml"
    _edit(path, lambda d: d["directions"][0]["titles"].append("高级算法工程师"))
    with pytest.raises(TemplateError, match=r"2-02-38-01\.yaml.*高级算法工程师"):
        load_templates(data_copy)


def test_sentence_naming_years_is_rejected(data_copy):
    path = data_copy / "occupations" / "2-02-38-09.yaml"
    _edit(path, lambda d: d["directions"][0]["requirements"].append("三年以上{Verilog}经验"))
    with pytest.raises(TemplateError, match="years"):
        load_templates(data_copy)


def test_file_name_must_match_code(data_copy):
    (data_copy / "occupations" / "2-02-38-04.yaml").rename(data_copy / "occupations" / "2-02-38-10.yaml")
    with pytest.raises(TemplateError, match="file name"):
        load_templates(data_copy)


def test_more_postings_from_a_larger_count(data_copy):
    base = len(generate_postings_from(data_copy))
    _edit(data_copy / "occupations" / "2-02-38-08.yaml", lambda d: d.update(count=d["count"] + 5))
    assert len(generate_postings_from(data_copy)) == base + 5
    assert base == len(generate_postings())
