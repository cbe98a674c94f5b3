"""Reviewed postings are appended to the sentence file with the same splitter, and bad ones refused."""

from __future__ import annotations

import json

import pytest

from nlp.eval.select_competency_sentences import candidate_sentences, extension, main

DUTIES = (
    "岗位职责：1、负责企业OA系统的流程搭建与维护；2、负责ERP系统的实施与推广；"
    "3、梳理并优化业务流程，推动数字化转型；4、组织用户培训。任职要求：1、本科及以上学历；2、熟悉泛微OA。"
)
RECORDS = {
    "P1": {"id": "P1", "title": "数字化管理专员", "description": DUTIES, "experience": "3-4年"},
    "P2": {"id": "P2", "title": "OA工程师", "description": "<p>" + DUTIES + "</p>", "experience": ""},
    "P3": {"id": "P3", "title": "OA工程师", "description": "负责OA。", "experience": ""},
}
REVIEW = {"level": {}, "reject": set(), "occupation": {}, "include": {}, "only_included": set()}


def test_extension_cuts_with_the_selection_splitter_and_records_the_prediction():
    (post,) = extension(RECORDS, {"P1": "2-06-07-13"}, set(), REVIEW)
    assert post["occupation"] == "2-06-07-13"
    assert [(s["start"], s["end"]) for s in post["sentences"]] == [
        (s["start"], s["end"]) for s in candidate_sentences(DUTIES)
    ]
    assert post["level"] == post["predicted_level"] == "中级"  # 3-4 years
    assert post["predicted_occupation"]


@pytest.mark.parametrize(
    "pid,code,existing",
    [
        ("P1", "2-06-07-13", {"P1"}),  # already in the file
        ("P2", "2-06-07-13", set()),  # HTML markup
        ("P3", "2-06-07-13", set()),  # too few sentences
        ("P9", "2-06-07-13", set()),  # no such posting
        ("P1", "2-02-10-03", set()),  # not a core occupation
    ],
)
def test_extension_refuses_present_html_short_unknown_or_non_core_postings(pid, code, existing):
    with pytest.raises(ValueError):
        extension(RECORDS, {pid: code}, existing, REVIEW)


def test_cli_appends_rows_after_the_existing_ones(tmp_path):
    postings = tmp_path / "postings.jsonl"
    postings.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS.values()), encoding="utf-8")
    out = tmp_path / "sentences.jsonl"
    first = {"posting_id": "P0", "sid": 0, "start": 0, "end": 4}
    out.write_text(json.dumps({"header": {}}) + "\n" + json.dumps(first) + "\n", encoding="utf-8")
    assert main(["--postings", str(postings), "--out", str(out), "--extend", "P1=2-06-07-13"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[1] == first
    assert [r["sid"] for r in rows[2:]] == list(range(len(candidate_sentences(DUTIES))))
    assert {r["posting_id"] for r in rows[2:]} == {"P1"}
    with pytest.raises(SystemExit) as exc:  # P1 is in the file now
        main(["--postings", str(postings), "--out", str(out), "--extend", "P1=2-06-07-13"])
    assert exc.value.code == 2
