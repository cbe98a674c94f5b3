"""The annotator's compact notation becomes gold rows, and wrong ids are refused."""

from __future__ import annotations

import pytest

from nlp.eval.annotate import parse

ROWS = [
    {"posting_id": "P", "sid": i, "start": 3 * i, "end": 3 * i + 2, "occupation": "2-02-38-01", "level": "初级"}
    for i in range(4)
]


def test_parse_fills_unnamed_sentences_with_no_label():
    out = parse(["P 0:ai.j.1.5,ai.j.1.2  2:x  # comment"], ROWS)
    assert [(r["sid"], r["labels"], r["excluded"]) for r in out["P"]] == [
        (0, ["ai.j.1.5", "ai.j.1.2"], False),
        (1, [], False),
        (2, [], True),
        (3, [], False),
    ]
    assert (out["P"][3]["start"], out["P"][3]["end"]) == (9, 11)


@pytest.mark.parametrize(
    "line",
    [
        "P 0:bd.j.4.2",  # a statement of another occupation
        "P 0:ai.j.1.1,ai.j.1.2,ai.j.1.3,ai.j.1.4",  # more than three labels
        "P 9:ai.j.1.1",  # no such sentence
        "P 0:ai.j.1.1 0:x",  # the same sentence twice
        "Q 0:ai.j.1.1",  # no such posting
    ],
)
def test_parse_refuses_wrong_labels(line):
    with pytest.raises(ValueError):
        parse([line], ROWS)


def test_a_look_alike_posting_takes_no_statement():
    rows = [{**r, "occupation": "other"} for r in ROWS]
    out = parse(["P 1:x"], rows)
    assert [(r["labels"], r["excluded"]) for r in out["P"]] == [([], False), ([], True), ([], False), ([], False)]
    with pytest.raises(ValueError, match="not statements of other"):
        parse(["P 0:ai.j.1.1"], rows)
