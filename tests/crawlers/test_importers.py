"""File importers on files the tests write: JSONL, CSV (UTF-8, BOM, GBK, GB18030), XLSX, column
mappings (file, inline, presets), bad rows, a 1 MB description, and importing twice."""

from __future__ import annotations

import csv
import json
import logging
from datetime import date, datetime
from pathlib import Path

import pytest

from crawlers.importers import FileImporter, MappingError, RecordError, import_file
from skillsignal.core.models import Posting

ROWS = [
    {
        "职位名称": "数据分析师",
        "公司名称": "青禾数据科技有限公司",
        "工作地点": "杭州",
        "薪资": "1-1.5万/月",
        "经验": "3-4年经验",
        "学历": "本科",
        "职位描述": "负责业务数据分析，熟练使用SQL与Python。",
        "发布时间": "2026-03-02",
        "职位福利": "五险一金,弹性工作",
    },
    {
        "职位名称": "嵌入式软件工程师",
        "公司名称": "北辰微控电子有限公司",
        "工作地点": "苏州",
        "薪资": "15-25K·13薪",
        "经验": "5-7年",
        "学历": "硕士",
        "职位描述": "负责STM32固件开发，熟悉RTOS与C语言。",
        "发布时间": "2026/3/5",
        "职位福利": "",
    },
]


def postings(items) -> list[Posting]:
    return [i for i in items if isinstance(i, Posting)]


def errors(items) -> list[RecordError]:
    return [i for i in items if isinstance(i, RecordError)]


def write_csv(path: Path, rows: list[dict], encoding: str, delimiter: str = ",") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        w.writeheader()
        w.writerows(rows)
    return path


def test_jsonl_fields_and_bad_lines_named_by_line(tmp_path):
    path = tmp_path / "dump.jsonl"
    good = {
        "id": "x-1",
        "source": "demo",
        "title": "算法工程师",
        "company": "星河智能",
        "city": "深圳",
        "salary": "20-40K",
        "tags": ["PyTorch", "CUDA"],
        "posted": "2026-04-01",
        "description": "训练模型",
    }
    lines = [
        json.dumps(good, ensure_ascii=False),
        "{not json",
        "",
        json.dumps(["a list"]),
        json.dumps({"company": "无标题公司"}, ensure_ascii=False),
        json.dumps({"title": "测试工程师", "posted": "someday"}, ensure_ascii=False),
        json.dumps({"title": "运维工程师", "company": "云岭网络"}, ensure_ascii=False),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(import_file(path, None, source="dumpsrc"))
    ok, bad = postings(items), errors(items)
    assert [p.title for p in ok] == ["算法工程师", "运维工程师"]
    first = ok[0]
    assert (first.id, first.source, first.location.city, first.salary.text) == ("x-1", "demo", "深圳", "20-40K")
    assert first.tags == ["PyTorch", "CUDA"] and first.posted_at == date(2026, 4, 1)
    assert ok[1].source == "dumpsrc" and ok[1].id.startswith("dumpsrc-")
    msgs = [str(e) for e in bad]
    assert len(msgs) == 4
    assert msgs[0].startswith(f"{path}:2:") and "invalid JSON" in msgs[0]
    assert msgs[1].startswith(f"{path}:4:") and "JSON object" in msgs[1]
    assert msgs[2].startswith(f"{path}:5:") and "title" in msgs[2]
    assert msgs[3].startswith(f"{path}:6:") and "posted" in msgs[3]


def test_ids_are_stable_across_imports(tmp_path):
    path = tmp_path / "noid.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"title": f"职位{i}", "company": "甲", "description": f"描述{i}"}, ensure_ascii=False)
            for i in range(5)
        ),
        encoding="utf-8",
    )
    first = [p.id for p in postings(import_file(path, None, source="s"))]
    second = [p.id for p in postings(import_file(path, None, source="s"))]
    assert first == second and len(set(first)) == 5


@pytest.mark.parametrize(
    "encoding,expected",
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_csv_encodings_with_preset_detected_from_header(tmp_path, encoding, expected):
    path = write_csv(tmp_path / f"export-{encoding}.csv", ROWS, encoding)
    importer = FileImporter(path)
    items = list(importer)
    assert importer.encoding == expected
    ok = postings(items)
    assert not errors(items)
    assert [p.title for p in ok] == ["数据分析师", "嵌入式软件工程师"]
    a, b = ok
    assert a.source == "51job"  # the preset's default
    assert (a.company, a.location.city, a.salary.text, a.education.text) == (
        "青禾数据科技有限公司",
        "杭州",
        "1-1.5万/月",
        "本科",
    )
    assert a.experience.text == "3-4年经验" and a.tags == ["五险一金", "弹性工作"]
    assert a.posted_at == date(2026, 3, 2) and b.posted_at == date(2026, 3, 5)
    assert "STM32" in b.description


def test_gb18030_only_characters(tmp_path):
    # U+20BB7 (𠮷) is outside GBK; GB18030 encodes it in four bytes.
    rows = [dict(ROWS[0], 公司名称="𠮷野家数字科技")]
    path = write_csv(tmp_path / "four-byte.csv", rows, "gb18030")
    with pytest.raises(UnicodeEncodeError):
        "𠮷".encode("gbk")
    importer = FileImporter(path, "51job-export")
    (p,) = postings(importer)
    assert importer.encoding == "gb18030" and p.company == "𠮷野家数字科技"


def test_explicit_source_beats_preset_default(tmp_path):
    path = write_csv(tmp_path / "x.csv", ROWS, "utf-8")
    assert {p.source for p in postings(import_file(path, "51job-export", source="mirror"))} == {"mirror"}


def test_tsv_and_inline_mapping_with_joined_description(tmp_path):
    rows = [
        {
            "岗位": "前端工程师",
            "单位": "远山软件",
            "职责": "开发Vue组件",
            "要求": "熟悉TypeScript",
            "标签": "Vue|TS",
            "城市": "成都",
            "备注": "不导入",
        }
    ]
    path = write_csv(tmp_path / "jobs.tsv", rows, "utf-8", delimiter="\t")
    mapping = "岗位=title,单位=company,职责=description,要求=description,标签=tags,城市=city,备注=-"
    (p,) = postings(import_file(path, mapping, source="tsv"))
    assert (p.title, p.company, p.location.city) == ("前端工程师", "远山软件", "成都")
    assert p.description == "开发Vue组件\n\n熟悉TypeScript"
    assert p.tags == ["Vue", "TS"]
    assert "不导入" not in p.model_dump_json()


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_mapping_file(tmp_path, suffix):
    spec = {
        "name": "mine",
        "columns": {"job": "title", "org": "company", "loc": "city", "when": "posted_at", "info.text": "description"},
        "defaults": {"source": "myboard", "employment_type": "全职"},
    }
    mapping = tmp_path / f"m{suffix}"
    if suffix == ".json":
        mapping.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    else:
        import yaml

        mapping.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    data = tmp_path / "d.jsonl"
    data.write_text(
        json.dumps(
            {
                "job": "区块链开发",
                "org": "链桥科技",
                "loc": "北京",
                "when": "2026-01",
                "info": {"text": "Solidity智能合约"},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    (p,) = postings(import_file(data, str(mapping)))
    assert (p.title, p.company, p.location.city, p.source) == ("区块链开发", "链桥科技", "北京", "myboard")
    assert p.posted_at == date(2026, 1, 1) and p.description == "Solidity智能合约"
    assert p.employment_type == "全职"


def test_bad_mappings_fail_at_once(tmp_path):
    data = write_csv(tmp_path / "x.csv", ROWS, "utf-8")
    with pytest.raises(MappingError, match="salry"):
        import_file(data, "职位名称=salry")
    with pytest.raises(MappingError, match="preset"):
        import_file(data, "no-such-preset")
    doc = tmp_path / "x.doc"
    doc.write_text("title\n职位\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown file type"):
        import_file(doc, None)
    with pytest.raises(FileNotFoundError):
        import_file(tmp_path / "missing.csv", None)


def test_csv_bad_rows_go_on(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "title,company,description\n"
        '数据工程师,甲公司,"多行\n描述"\n'
        "缺逗号,乙公司,x,多出来的字段\n"
        ",丙公司,没有标题\n"
        "测试开发,丁公司,ok\n",
        encoding="utf-8",
    )
    items = list(import_file(path, None, source="t"))
    assert [p.title for p in postings(items)] == ["数据工程师", "测试开发"]
    assert postings(items)[0].description == "多行\n描述"
    msgs = [str(e) for e in errors(items)]
    assert msgs[0].startswith(f"{path}:4:") and "4 fields" in msgs[0]
    assert msgs[1].startswith(f"{path}:5:") and "title" in msgs[1]


def test_one_megabyte_description_in_csv_and_jsonl(tmp_path):
    big = ("负责Python数据管道开发。" * 90_000)[:1_000_000]
    assert len(big) == 1_000_000
    csv_path = write_csv(tmp_path / "big.csv", [{"title": "大描述", "description": big}], "utf-8")
    jl_path = tmp_path / "big.jsonl"
    jl_path.write_text(json.dumps({"title": "大描述", "description": big}, ensure_ascii=False), encoding="utf-8")
    for path in (csv_path, jl_path):
        (p,) = postings(import_file(path, None, source="big"))
        assert p.description == big


def test_xlsx_with_dates_numbers_and_bad_row(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["职位ID", "职位名称", "公司名称", "工作地点", "薪资", "发布时间", "职位描述"])
    ws.append([1001, "云计算工程师", "穹顶云服务", "上海", "2-3万", datetime(2026, 2, 14), "Kubernetes运维"])
    ws.append([None, None, None, None, None, None, None])
    ws.append([1002, None, "无名公司", "上海", None, None, "缺标题"])
    ws.append([1003, "物联网工程师", "万联传感", "合肥", "面议", "2026-02-20", "LoRa网关"])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    items = list(import_file(path, "51job-export", source="xl"))
    ok = postings(items)
    assert [(p.id, p.title, p.posted_at) for p in ok] == [
        ("1001", "云计算工程师", date(2026, 2, 14)),
        ("1003", "物联网工程师", date(2026, 2, 20)),
    ]
    (err,) = errors(items)
    assert str(err).startswith(f"{path}:4:")


def test_progress_is_logged(tmp_path, caplog):
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps({"title": f"t{i}"}) for i in range(7)), encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="crawlers.importers"):
        assert len(postings(import_file(path, None, progress_every=3))) == 7
    progress = [r.getMessage() for r in caplog.records if "records read" in r.getMessage()]
    assert len(progress) == 2 and "6 records read" in progress[-1]
    assert any("reading as utf-8" in r.getMessage() for r in caplog.records)


def test_import_twice_through_cli_leaves_one_of_each(tmp_path, settings):
    from typer.testing import CliRunner

    from skillsignal.cli import app
    from storage import open_store

    path = write_csv(tmp_path / "twice.csv", ROWS, "gbk")
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["ingest", str(path), "--no-extract"])
        assert result.exit_code == 0, result.output
    assert open_store(settings).count_postings() == 2


@pytest.mark.slow
def test_shared_dev_file_twice(shared_dir, settings):
    """The 8,519 real postings imported twice stay 8,519; exact copies at least are marked duplicates."""
    from skillsignal.dedup import Deduper
    from skillsignal.pipeline import IngestPipeline
    from storage import open_store

    path = shared_dir / "data" / "postings-dev.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    fingerprints: set[str] = set()
    for _ in range(2):
        pipe = IngestPipeline(settings, extract=False)
        items = list(import_file(path, None))
        assert not errors(items)
        fingerprints = {p.fingerprint for p in postings(items)}
        pipe.process(postings(items))
        pipe.close()
    store = open_store(settings)
    stats = store.stats()
    assert stats["postings"] == 8519
    assert stats["duplicates"] >= 8519 - len(fingerprints)  # every exact copy, plus near ones
    clusters = Deduper(store, store.path).clusters()
    assert sum(len(m) for m in clusters.values()) == stats["duplicates"]
    print(
        f"\npostings-dev.jsonl twice: {stats['postings']} postings, {len(clusters)} near-duplicate clusters, "
        f"{stats['duplicates']} duplicates"
    )


# --- one bad line costs that line only (issue 12, item 6) -------------------------------------

GOOD_A = {"id": "bad-line-a", "title": "数据分析师", "company": "青禾数据", "description": "熟练使用SQL与Python。"}
GOOD_B = {"id": "bad-line-b", "title": "算法工程师", "company": "星河智能", "description": "熟悉PyTorch。"}


def _random_line(seed: int) -> bytes:
    """300 random bytes without a line break: text in no encoding."""
    import random

    return random.Random(seed).randbytes(300).replace(b"\n", b"").replace(b"\r", b"")


def test_jsonl_line_of_random_bytes_between_two_good_lines(tmp_path):
    path = tmp_path / "dump.jsonl"
    lines = [
        json.dumps(GOOD_A, ensure_ascii=False).encode(),
        _random_line(12),
        json.dumps(GOOD_B, ensure_ascii=False).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    importer = FileImporter(path, None, source="t")
    items = list(importer)
    assert [(p.id, p.title, p.description) for p in postings(items)] == [
        ("bad-line-a", "数据分析师", "熟练使用SQL与Python。"),
        ("bad-line-b", "算法工程师", "熟悉PyTorch。"),
    ]
    (err,) = errors(items)
    assert str(err).startswith(f"{path}:2: not UTF-8 text"), err
    assert importer.encoding == "utf-8" and (importer.records, importer.errors) == (2, 1)


def test_gbk_csv_with_one_broken_line_keeps_the_others(tmp_path):
    path = tmp_path / "export.csv"
    rows = [
        "职位名称,公司名称,职位描述",
        "数据分析师,青禾数据,熟练使用SQL",
        "前端工程师,云岭网络,熟悉Vue",
        '算法工程师,星河智能,"熟悉PyTorch\n与CUDA"',
        "测试工程师,北辰微控,熟悉Selenium",
    ]
    data = [r.encode("gbk") for r in rows]
    data[2] = data[2][:3] + b"\xff\xfe" + data[2][3:]  # inside 前端: no GBK character starts with 0xff
    path.write_bytes(b"\r\n".join(data) + b"\r\n")
    importer = FileImporter(path, None, source="t")
    items = list(importer)
    assert [(p.title, p.description) for p in postings(items)] == [
        ("数据分析师", "熟练使用SQL"),
        ("算法工程师", "熟悉PyTorch\n与CUDA"),
        ("测试工程师", "熟悉Selenium"),
    ]
    (err,) = errors(items)
    assert str(err).startswith(f"{path}:3: not GB18030/GBK text"), err
    assert importer.encoding == "gb18030"


def test_gbk_jsonl_with_a_truncated_character(tmp_path):
    path = tmp_path / "dump.jsonl"
    good = [json.dumps(r, ensure_ascii=False).encode("gbk") for r in (GOOD_A, GOOD_B)]
    path.write_bytes(good[0] + b"\n" + good[1][:-3] + b"\n" + good[1] + b"\n")  # line 2 ends mid-character
    items = list(import_file(path, None, source="t"))
    assert [p.id for p in postings(items)] == ["bad-line-a", "bad-line-b"]
    (err,) = errors(items)
    assert str(err).startswith(f"{path}:2: not GB18030/GBK text"), err


def test_cli_ingest_counts_the_rejected_line(tmp_path, settings):
    from typer.testing import CliRunner

    from skillsignal.cli import app
    from storage import open_store

    path = tmp_path / "dump.jsonl"
    path.write_bytes(
        b"\n".join(
            [
                json.dumps(GOOD_A, ensure_ascii=False).encode(),
                _random_line(7),
                json.dumps(GOOD_B, ensure_ascii=False).encode(),
            ]
        )
        + b"\n"
    )
    result = CliRunner().invoke(app, ["ingest", str(path), "--no-extract"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert (summary["stored"], summary["rejected_records"]) == (2, 1)
    store = open_store(settings)
    try:
        assert sorted(p.id for p in store.iter_postings()) == ["bad-line-a", "bad-line-b"]
    finally:
        store.close()


def test_a_file_seen_again_moves_no_seen_date_and_a_newer_dump_does(tmp_path, settings):
    """Imported postings are seen on the file's date: re-importing the same file on any day changes
    nothing; a newer file with the same postings moves last_seen."""
    import os
    from datetime import UTC

    from skillsignal.pipeline import IngestPipeline
    from storage import SQLiteStore

    path = tmp_path / "dump.jsonl"
    rows = [{"id": f"d{i}", "source": "dump", "title": f"数据分析师{i}", "description": "负责报表"} for i in range(3)]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    written = datetime(2026, 5, 4, 10, tzinfo=UTC).timestamp()
    os.utime(path, (written, written))
    store = SQLiteStore(tmp_path / "s.sqlite3")
    pipe = IngestPipeline(settings, store=store, extract=False, dedup=False)

    def lives() -> set[tuple]:
        return {(p.first_seen, p.last_seen, p.closed_on) for p in store.iter_postings()}

    pipe.process(p for p in import_file(path) if isinstance(p, Posting))
    assert lives() == {(date(2026, 5, 4), date(2026, 5, 4), None)}
    again = pipe.process(p for p in import_file(path) if isinstance(p, Posting))
    assert again.unchanged == 3 and lives() == {(date(2026, 5, 4), date(2026, 5, 4), None)}
    newer = datetime(2026, 6, 1, 10, tzinfo=UTC).timestamp()
    os.utime(path, (newer, newer))
    pipe.process(p for p in import_file(path) if isinstance(p, Posting))
    assert lives() == {(date(2026, 5, 4), date(2026, 6, 1), None)}
