"""Adjudication keeps what two passes agree on and takes a decision for every disagreement."""

from __future__ import annotations

import json

import pytest

from nlp.eval.adjudicate import disagreements, main, merge, read_decisions

SENTENCES = [
    {"posting_id": "P", "sid": i, "start": 3 * i, "end": 3 * i + 2, "occupation": "2-02-38-01", "level": "初级"}
    for i in range(4)
]


def _gold(*labels) -> list[dict]:
    out = []
    for r, lab in zip(SENTENCES, labels, strict=True):
        out.append(
            {
                "posting_id": "P",
                "sid": r["sid"],
                "start": r["start"],
                "end": r["end"],
                "labels": [] if lab == "x" else list(lab),
                "excluded": lab == "x",
            }
        )
    return out


A = _gold(["ai.j.1.1", "ai.j.1.2"], [], "x", ["ai.j.1.5"])
B = _gold(["ai.j.1.2", "ai.j.1.1"], ["ai.j.1.3"], [], ["ai.j.1.5", "ai.j.1.4"])


def test_disagreements_compare_label_sets_and_exclusion_not_order():
    assert disagreements(A, B) == [("P", 1), ("P", 2), ("P", 3)]


def test_merge_keeps_agreement_and_applies_every_decision():
    decisions = read_decisions(["P 1:  2:x  3:ai.j.1.4,ai.j.1.5  # reasons may follow"], SENTENCES)
    out = merge(A, B, decisions)
    assert [(r["sid"], r["labels"], r["excluded"]) for r in out] == [
        (0, ["ai.j.1.1", "ai.j.1.2"], False),  # agreed: pass A's row, A's order
        (1, [], False),
        (2, [], True),
        (3, ["ai.j.1.4", "ai.j.1.5"], False),
    ]


@pytest.mark.parametrize(
    "lines",
    [
        ["P 1:  2:x"],  # sentence 3 left undecided
        ["P 0:ai.j.1.1 1: 2:x 3:ai.j.1.5"],  # sentence 0 was agreed
        ["P 1: 2:x", "P 3:ai.j.1.5 1:"],  # sentence 1 decided twice
    ],
)
def test_merge_refuses_incomplete_or_extra_decisions(lines):
    with pytest.raises(ValueError):
        merge(A, B, read_decisions(lines, SENTENCES))


def test_cli_writes_the_merged_file_and_exits_2_on_an_open_disagreement(tmp_path):
    paths = {}
    for name, rows in {"a": A, "b": B}.items():
        paths[name] = tmp_path / f"{name}.jsonl"
        paths[name].write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    sent = tmp_path / "sentences.jsonl"
    sent.write_text(json.dumps({"header": {}}) + "\n" + "".join(json.dumps(r) + "\n" for r in SENTENCES))
    dec = tmp_path / "decisions.txt"
    dec.write_text("P 1: 2:x 3:ai.j.1.5\n", encoding="utf-8")
    out = tmp_path / "gold.jsonl"
    argv = ["merge", str(paths["a"]), str(paths["b"]), str(dec), "--out", str(out), "--sentences", str(sent)]
    assert main(argv) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["labels"] for r in rows] == [["ai.j.1.1", "ai.j.1.2"], [], [], ["ai.j.1.5"]]
    dec.write_text("P 1: 2:x\n", encoding="utf-8")
    out.unlink()
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and not out.exists()
