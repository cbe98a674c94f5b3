"""The competency scorer on tiny hand-made cases whose figures are worked out by hand."""

from __future__ import annotations

import json

import pytest

from nlp.eval.score_competencies import (
    GoldSentence,
    Prediction,
    agreement,
    main,
    predictions_from_rows,
    score,
)

AI, BD = "2-02-38-01", "2-02-38-03"


def _gold() -> list[GoldSentence]:
    return [
        GoldSentence(("P1", 0, 10), ["A", "B"], False, AI, "初级", "负责训练深度学习模型"),
        GoldSentence(("P1", 10, 20), ["C"], False, AI, "初级", "2、熟悉 PyTorch 框架并能部署模型服务"),
        GoldSentence(("P1", 20, 30), [], False, AI, "初级", "本科及以上学历"),
        GoldSentence(("P1", 30, 40), [], True, AI, "初级", "五险一金，带薪年假"),
        GoldSentence(("P2", 0, 10), ["D"], False, BD, "高级", "负责数据仓库建模"),
        GoldSentence(("P2", 10, 20), [], False, BD, "高级", "良好的沟通能力"),
    ]


def _preds() -> list[Prediction]:
    return [
        Prediction("P1", "A", 0.90, ("P1", 0, 10)),
        Prediction("P1", "C", 0.95, ("P1", 0, 10)),
        Prediction("P1", "C", 0.80, ("P1", 10, 20)),
        Prediction("P1", "E", 0.70, ("P1", 20, 30)),
        Prediction("P1", "A", 0.60, ("P1", 30, 40)),  # on an excluded sentence: a false positive
    ]


def test_sentence_posting_top1_and_coverage_figures():
    fig = score(_gold(), _preds())
    # gold pairs (s1,A) (s1,B) (s2,C) (s5,D); predicted (s1,A) (s1,C) (s2,C) (s3,E) + 1 stray
    assert fig["sentence"] == {"precision": 0.4, "recall": 0.5, "f1": 0.4444, "tp": 2, "fp": 3, "fn": 2}
    # s1's best is C (0.95), not gold; s2's best is C, gold; s5 has none
    assert fig["top1"] == {"accuracy": 0.3333, "hits": 1, "of": 3}
    # postings: gold {P1A, P1B, P1C, P2D}, predicted {P1A, P1C, P1E}
    assert fig["posting"] == {"precision": 0.6667, "recall": 0.5, "f1": 0.5714, "tp": 2, "fp": 1, "fn": 2}
    assert fig["coverage"] == {"predicted": 0.5, "gold": 1.0}
    assert fig["sentences"] == 5 and fig["sentences_labelled"] == 3 and fig["unplaced_predictions"] == 1
    assert (
        fig["by_occupation"][AI]["tp"] == 2
        and fig["by_occupation"][AI]["fp"] == 3
        and fig["by_occupation"][AI]["fn"] == 1
    )
    assert fig["by_occupation"][BD] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 0, "fn": 1}
    assert set(fig["by_level"]) == {"初级", "高级"}


def test_perfect_predictions_score_one():
    gold = _gold()
    preds = [Prediction(g.key[0], s, 1.0, g.key) for g in gold if not g.excluded for s in g.labels]
    fig = score(gold, preds)
    assert fig["sentence"]["f1"] == 1.0 and fig["posting"]["f1"] == 1.0 and fig["top1"]["accuracy"] == 1.0


def test_extractor_evidence_is_placed_on_the_overlapping_sentence():
    gold = _gold()
    rows = [
        # evidence as the extractor gives it: cleaned, list number dropped, cut to a prefix
        {
            "id": "P1",
            "competencies": [
                {"id": "C", "score": 0.9, "evidence": "熟悉 PyTorch 框架并能部署"},
                {"id": "A", "score": 0.8, "evidence": "负责训练深度学习模型"},
                {"id": "Z", "score": 0.7, "evidence": "完全无关的一句话"},
            ],
        },
        {"id": "P2", "error": "boom"},
        {"id": "P9", "competencies": [{"id": "A", "score": 1.0, "evidence": "x"}]},  # not in the gold
    ]
    preds = predictions_from_rows(rows, gold)
    assert [(p.statement, p.key) for p in preds] == [("C", ("P1", 10, 20)), ("A", ("P1", 0, 10)), ("Z", None)]
    fig = score(gold, preds)
    assert fig["sentence"]["tp"] == 2 and fig["sentence"]["fp"] == 1 and fig["sentence"]["fn"] == 2


def test_agreement_figures():
    a = [
        GoldSentence(("P", 0, 5), ["x"], False, "O"),
        GoldSentence(("P", 5, 9), [], False, "O"),
        GoldSentence(("P", 9, 12), [], True, "O"),
    ]
    b = [
        GoldSentence(("P", 0, 5), ["x", "y"], False, "O"),
        GoldSentence(("P", 5, 9), [], False, "O"),
        GoldSentence(("P", 9, 12), [], False, "O"),
    ]
    fig = agreement(a, b, lambda code: ["x", "y", "z"])
    assert fig["shared_sentences"] == 3 and fig["scored_sentences"] == 2
    assert fig["f1"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "tp": 1, "fp": 1, "fn": 0}
    # 6 decisions, 5 agree; p_a = 1/6, p_b = 2/6 -> p_e = 22/36 -> kappa = (30/36 - 22/36) / (14/36)
    assert fig["kappa_pairs"] == pytest.approx(8 / 14, abs=1e-4)
    assert fig["kappa_has_label"] == 1.0
    assert fig["exact_match"] == 0.5 and fig["top1_in_other"] == 1.0
    assert fig["excluded_agreement"] == pytest.approx(2 / 3, abs=1e-4)


def test_cli_scores_sentence_level_predictions(tmp_path, capsys):
    sentences = tmp_path / "s.jsonl"
    gold = tmp_path / "g.jsonl"
    pred = tmp_path / "p.jsonl"
    postings = tmp_path / "posts.jsonl"
    desc = "负责训练模型。熟悉SQL。"
    postings.write_text(
        json.dumps({"id": "Q", "title": "t", "description": desc}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    sentences.write_text(
        "\n".join(
            json.dumps(r, ensure_ascii=False)
            for r in [
                {"header": {}},
                {"posting_id": "Q", "sid": 0, "start": 0, "end": 6, "occupation": AI, "level": "中级"},
                {"posting_id": "Q", "sid": 1, "start": 7, "end": 12, "occupation": AI, "level": "中级"},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    gold.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"posting_id": "Q", "sid": 0, "start": 0, "end": 6, "labels": ["ai.j.1.5"], "excluded": False},
                {"posting_id": "Q", "sid": 1, "start": 7, "end": 12, "labels": [], "excluded": False},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    pred.write_text(
        json.dumps({"posting_id": "Q", "start": 0, "end": 6, "statement": "ai.j.1.5", "score": 0.9}) + "\n",
        encoding="utf-8",
    )
    assert main([str(gold), str(pred), "--sentences", str(sentences), "--postings", str(postings), "--json"]) == 0
    fig = json.loads(capsys.readouterr().out)
    assert fig["sentence"]["f1"] == 1.0 and fig["coverage"] == {"predicted": 1.0, "gold": 1.0}
    assert fig["by_level"]["中级"]["tp"] == 1
