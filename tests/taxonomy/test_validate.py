"""Validator and overlays: the bundled data is valid; broken overlays are refused naming the entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from skill_taxonomy import TaxonomyError, default_taxonomy, load_taxonomy
from skill_taxonomy.loader import DATA_DIR
from skill_taxonomy.validate import validate_taxonomy


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_bundled_taxonomy_validates():
    assert validate_taxonomy(load_taxonomy(validate=False)) == []


def test_overlay_adds_skill_and_aliases_and_removes_alias(tmp_path):
    overlay = write(
        tmp_path / "o.yaml",
        {
            "version": "site1",
            "skills": [
                {
                    "id": "acme-flow",
                    "name_zh": "Acme流程引擎",
                    "name_en": "AcmeFlow",
                    "type": "tool",
                    "aliases": ["acmeflow3"],
                    "occupations": [{"occupation": "2-02-38-01", "weight": 0.4}],
                }
            ],
            "aliases": {"pytorch": ["火炬框架"]},
            "remove_aliases": {"kubernetes": ["kubernates"]},
        },
    )
    tax = load_taxonomy(overlay)
    assert tax.version.endswith("+site1")
    assert [s.id for s in tax.resolve("AcmeFlow3")] == ["acme-flow"]
    assert [s.id for s in tax.resolve("火炬框架")] == ["pytorch"]
    assert tax.resolve("kubernates") == [] and [s.id for s in tax.resolve("k8s")] == ["kubernetes"]
    assert str(overlay) in tax.source_of("skill", "acme-flow")


def test_overlay_replaces_a_skill(tmp_path):
    overlay = write(
        tmp_path / "o.yaml",
        {
            "version": "2",
            "skills": [
                {"id": "fpga", "name_zh": "FPGA", "name_en": "FPGA", "type": "tool", "aliases": ["可编程门阵列"]}
            ],
        },
    )
    tax = load_taxonomy(overlay)
    assert tax.skills["fpga"].aliases == ["可编程门阵列"] and tax.skills["fpga"].occupations == []


@pytest.mark.parametrize(
    "overlay, named",
    [
        ({"version": "x", "aliases": {"pytorch": ["TensorFlow2"]}}, ["tensorflow2", "pytorch", "tensorflow"]),
        ({"version": "x", "aliases": {"no-such-skill": ["foo"]}}, ["no-such-skill", "aliases"]),
        ({"version": "x", "remove_aliases": {"ghost": ["foo"]}}, ["ghost", "remove_aliases"]),
        (
            {
                "version": "x",
                "skills": [
                    {
                        "id": "bad-link",
                        "name_zh": "坏",
                        "name_en": "Bad",
                        "type": "tool",
                        "occupations": [{"occupation": "9-99-99-99"}],
                    }
                ],
            },
            ["bad-link", "9-99-99-99"],
        ),
        (
            {
                "version": "x",
                "skills": [
                    {
                        "id": "bad-dir",
                        "name_zh": "坏",
                        "name_en": "Bad",
                        "type": "tool",
                        "occupations": [{"occupation": "2-02-38-01", "direction": "nowhere"}],
                    }
                ],
            },
            ["bad-dir", "nowhere"],
        ),
        (
            {"version": "x", "skills": [{"id": "Bad Id", "name_zh": "坏", "name_en": "Bad", "type": "tool"}]},
            ["Bad Id", "skills[0]"],
        ),
        (
            {"version": "x", "skills": [{"id": "weird", "name_zh": "怪", "name_en": "Weird", "type": "gadget"}]},
            ["weird", "type"],
        ),
        (
            {
                "version": "x",
                "skills": [{"id": "blank", "name_zh": " ", "name_en": "Blank", "type": "tool", "aliases": [""]}],
            },
            ["blank", "empty"],
        ),
        (
            {
                "version": "x",
                "skills": [
                    {
                        "id": "ctx",
                        "name_zh": "上下文",
                        "name_en": "Ctx",
                        "type": "tool",
                        "context_required": True,
                        "context_aliases": ["CX"],
                    }
                ],
            },
            ["ctx", "CX"],
        ),
    ],
    ids=[
        "alias-clash",
        "unknown-id-in-aliases",
        "unknown-id-in-remove",
        "unknown-occupation",
        "unknown-direction",
        "bad-id",
        "bad-type",
        "empty-name",
        "context-alias-not-a-form",
    ],
)
def test_broken_overlay_is_refused_naming_the_entry(tmp_path, overlay, named):
    path = write(tmp_path / "broken.yaml", overlay)
    with pytest.raises(TaxonomyError) as err:
        load_taxonomy(path)
    message = str(err.value)
    for part in named:
        assert part.casefold() in message.casefold(), message


def test_ambiguous_marking_allows_a_shared_form(tmp_path):
    overlay = write(
        tmp_path / "o.yaml",
        {
            "version": "x",
            "skills": [
                {
                    "id": "swift-payments",
                    "name_zh": "SWIFT报文",
                    "name_en": "SWIFT messaging",
                    "type": "protocol",
                    "aliases": ["Swift"],
                    "ambiguous": True,
                }
            ],
        },
    )
    with pytest.raises(TaxonomyError):  # swift (the language) is not marked ambiguous
        load_taxonomy(overlay)
    overlay2 = write(
        tmp_path / "o2.yaml",
        {
            "version": "x",
            "skills": [
                {
                    "id": "swift-payments",
                    "name_zh": "SWIFT报文",
                    "name_en": "SWIFT messaging",
                    "type": "protocol",
                    "aliases": ["Swift"],
                    "ambiguous": True,
                },
                {**load_taxonomy().skills["swift"].model_dump(), "ambiguous": True},
            ],
        },
    )
    tax = load_taxonomy(overlay2)
    assert sorted(s.id for s in tax.resolve("swift")) == ["swift", "swift-payments"]


def test_missing_overlay_file_is_named(tmp_path):
    with pytest.raises(TaxonomyError, match="nope.yaml"):
        load_taxonomy(tmp_path / "nope.yaml")


def copy_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    return data


def test_data_dir_problems_name_file_and_entry(tmp_path):
    data = copy_data(tmp_path)
    occ_file = data / "occupations" / "2-02-38-01.yaml"
    occ = yaml.safe_load(occ_file.read_text(encoding="utf-8"))
    occ["title_patterns"] = ["(unclosed"]
    level = next(iter(occ["levels"]))
    occ["levels"][level].append(dict(occ["levels"][level][0]))  # duplicate competency id
    write(occ_file, occ)
    with pytest.raises(TaxonomyError) as err:
        load_taxonomy(data_dir=data)
    msg = str(err.value)
    assert "2-02-38-01.yaml" in msg and "bad title pattern" in msg
    assert occ["levels"][level][0]["id"] in msg and "twice" in msg


def test_duplicate_skill_id_across_files_names_both(tmp_path):
    data = copy_data(tmp_path)
    write(
        data / "skills" / "zz_extra.yaml",
        {"skills": [{"id": "python", "name_zh": "蟒蛇", "name_en": "Python again", "type": "language"}]},
    )
    with pytest.raises(TaxonomyError) as err:
        load_taxonomy(data_dir=data)
    assert "zz_extra.yaml" in str(err.value) and "python" in str(err.value)
    assert "general_cs.yaml" in str(err.value)


def test_the_application_passes_the_settings_overlay_and_the_taxonomy_reads_no_settings(tmp_path, monkeypatch):
    from nlp.extractor import Extractor
    from skillsignal.core.config import Settings

    overlay = write(tmp_path / "o.yaml", {"version": "env1", "aliases": {"python": ["蟒语言"]}})
    monkeypatch.setenv("SKILLSIGNAL_TAXONOMY_OVERLAY", str(overlay))
    settings = Settings(data_dir=tmp_path / "data", use_embeddings=False)
    assert settings.taxonomy_overlay == overlay
    tax = default_taxonomy(settings.taxonomy_overlay)
    assert tax.version.endswith("+env1") and [s.id for s in tax.resolve("蟒语言")] == ["python"]
    assert Extractor.from_settings(settings).taxonomy_version == tax.version
    assert not default_taxonomy().version.endswith("+env1"), "the taxonomy itself must not read the environment"
