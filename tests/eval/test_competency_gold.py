"""The competency gold set (nlp/eval) is valid against the taxonomy and the shared postings.

Skips where ../shared is absent: the texts the offsets point into live only there.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

from nlp.eval.adjudicate import disagreements, merge, read_decisions
from nlp.eval.data import (
    ADJUDICATION,
    DEFAULT_GOLD,
    DEFAULT_SENTENCES,
    OCCUPATION_REVIEW,
    PASS1,
    PASS3,
    load_gold,
    load_postings,
    load_sentences,
)
from nlp.eval.select_competency_sentences import CORE_CODES, LEVELS, candidate_sentences

SENTENCE_KEYS = {
    "posting_id",
    "sid",
    "start",
    "end",
    "occupation",
    "level",
    "predicted_occupation",
    "predicted_level",
    "section",
}
GOLD_KEYS = {"posting_id", "sid", "start", "end", "labels", "excluded"}


@pytest.fixture(scope="module")
def sentences():
    return load_sentences(DEFAULT_SENTENCES)


@pytest.fixture(scope="module")
def gold():
    return load_gold(DEFAULT_GOLD)


@pytest.fixture(scope="module")
def texts(shared_dir, sentences):
    return load_postings(shared_dir / "data" / "postings-dev.jsonl", {r["posting_id"] for r in sentences})


def test_files_hold_ids_and_offsets_only(sentences, gold):
    for row in sentences:
        assert set(row) == SENTENCE_KEYS
    for row in gold:
        assert set(row) == GOLD_KEYS
        assert isinstance(row["labels"], list) and isinstance(row["excluded"], bool)


def test_gold_covers_exactly_the_selected_sentences(sentences, gold):
    def key(r: dict) -> tuple:
        return (r["posting_id"], r["sid"], r["start"], r["end"])

    assert [key(r) for r in gold] == [key(r) for r in sentences]


def test_labels_are_statements_of_the_postings_occupation(sentences, gold):
    from skill_taxonomy import default_taxonomy

    tax = default_taxonomy()
    occ_of = {r["posting_id"]: r["occupation"] for r in sentences}
    for row in gold:
        occ = tax.occupations.get(occ_of[row["posting_id"]])  # None: a look-alike ('other')
        ids = {c.id for cs in occ.levels.values() for c in cs} if occ else set()
        assert len(row["labels"]) <= 3 and len(set(row["labels"])) == len(row["labels"])
        assert set(row["labels"]) <= ids, (row["posting_id"], row["sid"], row["labels"])
        assert not (row["excluded"] and row["labels"])


def test_size_and_spread(sentences, gold):
    scored = [r for r in gold if not r["excluded"]]
    assert len(scored) >= 400
    posts = {r["posting_id"]: (r["occupation"], r["level"]) for r in sentences}
    core = {pid: v for pid, v in posts.items() if v[0] in CORE_CODES}
    assert len(core) >= 60
    assert set(posts.values()) - set(core.values()) <= {("other", lv) for lv in LEVELS}
    assert {occ for occ, _ in core.values()} == set(CORE_CODES)
    assert {lv for _, lv in core.values()} == set(LEVELS)
    per_occ = Counter(occ for occ, _ in core.values())
    assert min(per_occ.values()) >= 2  # the dev file holds very few postings of the rarest ones
    assert sum(1 for r in scored if r["labels"]) >= 250


def test_the_gold_is_the_two_passes_merged_with_every_disagreement_adjudicated(sentences, gold):
    with ADJUDICATION.open(encoding="utf-8") as fh:
        decisions = read_decisions(fh, sentences)
    pass1, pass3 = load_gold(PASS1), load_gold(PASS3)
    assert merge(pass1, pass3, decisions) == gold
    assert len(decisions) == len(disagreements(pass1, pass3)) > 0


def test_the_occupation_review_is_what_the_sentences_are_labelled_against(sentences, gold):
    review = yaml.safe_load(OCCUPATION_REVIEW.read_text(encoding="utf-8"))
    occ_of = {r["posting_id"]: r["occupation"] for r in sentences}
    for pid, r in review["reviewed"].items():
        assert occ_of[pid] == r["decided"], pid
    for pid, r in review["added"].items():
        assert occ_of[pid] == r["proposed"] == r["blind_check"], pid
    assert not set(review["not_added"]) & set(occ_of)
    look_alikes = {pid for pid, occ in occ_of.items() if occ == "other"}
    assert look_alikes == {pid for pid, r in review["reviewed"].items() if r["decided"] == "other"}
    assert all(not r["labels"] for r in gold if r["posting_id"] in look_alikes)


def test_offsets_are_reproducible_from_the_shared_file(sentences, texts):
    by_post: dict[str, list[dict]] = {}
    for r in sentences:
        by_post.setdefault(r["posting_id"], []).append(r)
    assert set(by_post) <= set(texts)
    for pid, rows in by_post.items():
        desc = texts[pid]["description"]
        for r in rows:
            assert 0 <= r["start"] < r["end"] <= len(desc)
            span = desc[r["start"] : r["end"]]
            assert span.strip() == span and span
        # the selection's own splitter gives back exactly these spans
        spans = [(s["start"], s["end"]) for s in candidate_sentences(desc)]
        assert spans == [(r["start"], r["end"]) for r in rows], pid


def test_no_posting_text_is_copied_into_the_project(sentences, texts):
    # the annotators' reasons and notes may name a term of a posting, never a title or a passage
    files = (DEFAULT_SENTENCES, DEFAULT_GOLD, PASS1, PASS3, ADJUDICATION, OCCUPATION_REVIEW)
    body = "".join(f.read_text(encoding="utf-8") for f in files)
    for _pid, rec in texts.items():
        title = rec.get("title") or ""
        if len(title) >= 6:
            assert title not in body
        desc = rec.get("description") or ""
        assert not any(desc[i : i + 24] in body for i in range(0, max(0, len(desc) - 24), 8))
    assert json.loads(DEFAULT_SENTENCES.read_text(encoding="utf-8").splitlines()[0])["header"]
