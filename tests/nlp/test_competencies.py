"""The competency matcher: the level and direction rule, sentence-level matching, evidence offsets
into the raw description, the embedding signal's role, and the rules file."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from nlp.competencies import (
    RULES_PATH,
    CompetencyMatcher,
    CompetencyRules,
    RawLocator,
    SentenceInput,
    allowed_levels,
    load_rules,
)
from skill_taxonomy.loader import Taxonomy
from skill_taxonomy.models import Competency, Direction, Occupation, Provenance
from skillsignal.core.models import CompetencyMatch, Extraction

PROV = Provenance(source="tests", verified=False)
OCC = "2-02-38-01"


def _comp(cid: str, text: str, work: str = "模型部署", direction: str | None = None) -> Competency:
    return Competency(id=cid, function="产品交付", work_content=work, text=text, direction=direction, provenance=PROV)


def small_taxonomy() -> Taxonomy:
    """One occupation whose 'deployment' statement exists at all three levels (the same work at
    growing depth), plus a computer-vision statement and a speech statement."""
    deploy = "能将训练好的模型封装为服务接口并完成部署"
    occ = Occupation(
        code=OCC,
        name_zh="人工智能工程技术人员",
        name_en="AI",
        core=True,
        definition="d",
        provenance=PROV,
        directions=[
            Direction(id="cv", name_zh="视觉", name_en="CV"),
            Direction(id="speech", name_zh="语音", name_en="S"),
        ],
        levels={
            "初级": [_comp("t.j.1", deploy), _comp("t.j.2", "能使用卷积神经网络训练图像分类模型", "视觉", "cv")],
            "中级": [_comp("t.m.1", deploy), _comp("t.m.2", "能训练声学模型搭建语音识别系统", "语音", "speech")],
            "高级": [_comp("t.s.1", deploy)],
        },
    )
    return Taxonomy(version="t", occupations={OCC: occ}, skills={})


@pytest.fixture(scope="module")
def matcher() -> CompetencyMatcher:
    """The bundled learned decision, kept at p >= 0.2: the toy taxonomy has no skills, so the skill
    features that carry most real matches read 0 and its clear matches score ~0.28, under the
    bundled 0.3; what these tests check is the level and direction rule, not that calibration."""
    rules = load_rules()
    assert rules.lexical_model is not None
    model = rules.lexical_model.model_copy(update={"threshold": 0.2})
    return CompetencyMatcher(small_taxonomy(), rules=rules.model_copy(update={"lexical_model": model}))


def test_level_rule_own_and_lower_levels_and_at_most_the_next_one_up():
    assert allowed_levels("初级") == ("初级",)
    assert allowed_levels("初级", 1) == ("初级", "中级")
    assert allowed_levels("中级", 1) == ("初级", "中级", "高级")
    assert allowed_levels("高级", 0) == ("初级", "中级", "高级")
    rules = load_rules()
    assert rules.max_levels_above == 1  # the bundled rule: a 初级 posting never gets a 高级 statement
    real = CompetencyMatcher(_bundled_taxonomy())
    levels = {st.level for st, _ in real.candidates(OCC, "初级", None)}
    assert levels == {"初级", "中级"}
    prior = {st.level: p for st, p in real.candidates(OCC, "中级", None) if st.direction is None}
    assert prior["中级"] == 0 and prior["中级"] > prior["初级"] > prior["高级"]


def _bundled_taxonomy():
    from skill_taxonomy import default_taxonomy

    return default_taxonomy()


@pytest.mark.parametrize("level, want", [("高级", "t.s.1"), ("中级", "t.m.1"), ("初级", "t.j.1")])
def test_equivalent_statements_go_to_the_postings_own_level(matcher, level, want):
    sent = SentenceInput("负责将训练好的模型封装为服务接口并完成部署上线", 0, 24)
    got = matcher.match(OCC, level, None, [sent])
    assert got and got[0].id == want and got[0].level == level
    assert "t.s.1" not in {m.id for m in got} or level != "初级"  # never two levels up


def test_a_junior_posting_gets_the_next_level_up_but_never_two(matcher):
    speech = SentenceInput("熟悉声学模型训练，搭建过语音识别系统", 0, 18)
    got = matcher.match(OCC, "初级", None, [speech])
    assert [m.id for m in got] == ["t.m.2"]  # 中级 statement, one level up: allowed, penalised
    assert got[0].score < matcher.match(OCC, "中级", None, [speech])[0].score


def _rule_matcher(tax=None) -> CompetencyMatcher:
    """The hand-set threshold rule (``decision: rule``), not the bundled learned default."""
    return CompetencyMatcher(tax or small_taxonomy(), rules=load_rules().model_copy(update={"decision": "rule"}))


def test_another_directions_statement_is_penalised_and_unknown_direction_reads_all():
    matcher = _rule_matcher()
    sent = SentenceInput("使用卷积神经网络训练图像分类模型", 0, 16)
    assert [m.id for m in matcher.match(OCC, "初级", None, [sent])] == ["t.j.2"]
    same = matcher.match(OCC, "初级", "cv", [sent])[0].score
    other = matcher.match(OCC, "初级", "speech", [sent])
    assert not other or other[0].score <= same - matcher.rules.direction_penalty + 1e-9


def test_a_sentence_without_the_statements_terms_gets_nothing(matcher):
    assert matcher.match(OCC, "高级", None, [SentenceInput("本科及以上学历，良好的沟通能力和团队合作精神")]) == []


def test_each_statement_keeps_every_supporting_sentence_in_text_order(matcher):
    a = SentenceInput("负责模型封装为服务接口并完成部署", 10, 26)
    b = SentenceInput("不相关的一句话", 30, 37)
    c = SentenceInput("将训练好的模型部署为在线服务接口", 40, 56)
    got = {m.id: m for m in matcher.match(OCC, "中级", None, [a, b, c])}
    spans = [(s.start, s.end) for s in got["t.m.1"].sentences]
    assert spans == [(10, 26), (40, 56)]
    best = max(got["t.m.1"].sentences, key=lambda s: s.score)
    assert (got["t.m.1"].start, got["t.m.1"].end, got["t.m.1"].evidence) == (best.start, best.end, best.text)


class _Resources:
    """Statement vectors for the embedding path: one axis per statement id."""

    def __init__(self, ids):
        self.ids = list(ids)

    def encode_cached(self, texts, kind):
        assert kind == "passage"
        return np.eye(len(texts), dtype=np.float32)


def test_embeddings_choose_between_statements_the_words_cannot_tell_apart():
    tax = small_taxonomy()
    matcher = _rule_matcher(tax)
    stmts = [st.id for st in matcher._statements]
    res = _Resources(stmts)
    sent = SentenceInput("负责把训练好的模型封装为服务接口并部署", 0, 19)  # the same words for all three levels
    for target in ("t.j.1", "t.s.1"):
        vec = np.eye(len(stmts), dtype=np.float32)[stmts.index(target)]
        got = matcher.match(OCC, "高级", None, [sent], sentence_vectors={0: vec}, resources=res)
        assert got[0].id == target
    # the embedding alone never makes a match: a sentence without one shared term stays empty
    vec = np.eye(len(stmts), dtype=np.float32)[stmts.index("t.m.2")]
    assert (
        matcher.match(OCC, "高级", None, [SentenceInput("完全无关", 0, 4)], sentence_vectors={0: vec}, resources=res)
        == []
    )


def test_raw_locator_maps_cleaned_sentences_back_to_the_raw_text():
    raw = "岗位职责：\r\n１、熟悉ＰｙＴｏｒｃｈ　框架；\n2、负责模型部署"
    loc = RawLocator(raw)
    start, end = loc.locate("1、熟悉PyTorch 框架")
    assert raw[start:end] == "１、熟悉ＰｙＴｏｒｃｈ　框架"
    start, end = loc.locate("2、负责模型部署")
    assert raw[start:end] == "2、负责模型部署"
    assert loc.locate("不在原文里") == (None, None)


def test_extractor_gives_sentence_spans_in_the_description_as_given():
    from nlp.extractor import Extractor
    from skillsignal.core.models import Posting
    from tests.nlp.extract_fixtures import build_taxonomy

    desc = (
        "岗位职责：\n１、能设计并优化目标检测算法的模型结构；\n２、使用深度学习框架训练图像分类模型。\n"
        "公司福利：五险一金"
    )
    ex = Extractor(build_taxonomy()).extract(
        Posting(id="p", source="t", title="深度学习算法工程师", description=desc, experience={"text": "3-5年"})
    )
    got = {c.id: c for c in ex.competencies}
    assert set(got) == {"ai.1", "ai.2"}
    for cid, words in (("ai.1", "训练图像分类模型"), ("ai.2", "目标检测算法的模型结构")):
        m = got[cid]
        assert m.start is not None and words in unicodedata.normalize("NFKC", desc[m.start : m.end])
        assert m.function == "开发" and m.sentences and m.sentences[0].start == m.start
    assert got["ai.1"].start > got["ai.2"].end  # two different sentences, not the whole text


def test_bundled_keywords_name_statements_of_the_taxonomy_and_the_rules_are_checked(tmp_path):
    rules = load_rules()
    ids = {c.id for occ in _bundled_taxonomy().occupations.values() for cs in occ.levels.values() for c in cs}
    assert rules.keywords and set(rules.keywords) <= ids
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    data["treshold"] = 0.5  # a typo is refused, not ignored
    with pytest.raises(ValidationError, match="treshold"):
        CompetencyRules.model_validate(data)


def test_stored_extractions_from_before_the_new_fields_still_load():
    old = {"id": "ai.j.1.1", "text": "t", "level": "初级", "score": 0.9, "evidence": "e"}
    m = CompetencyMatch.model_validate(old)
    assert m.sentences == [] and m.start is None and m.function is None
    ext = Extraction.model_validate(
        {
            "occupation": {"code": OCC, "name": "n"},
            "level": "初级",
            "competencies": [old],
            "taxonomy_version": "t",
            "extractor_version": "e",
        }
    )
    assert ext.competencies[0].id == "ai.j.1.1"


# ---------------------------------------------------------------------------- the learned decision


def _learned_rules(threshold: float = 0.5, **extra) -> CompetencyRules:
    """The bundled rules with a small hand-written learned decision (not the bundled one, so the
    expected probabilities can be computed here)."""
    data = load_rules().model_dump()
    data["lexical_model"] = {
        "features": ["lexical", "lexical_margin", "levels_below", "levels_above"],
        "coef": [6.0, 2.0, -0.5, -1.0],
        "intercept": -3.0,
        "threshold": threshold,
        "max_per_sentence": 2,
    }
    data["embedding_model"] = None
    data["decision"] = "learned"
    data.update(extra)
    return CompetencyRules.model_validate(data)


def test_the_learned_decision_applies_its_coefficients_to_the_features():
    rules = _learned_rules()
    matcher = CompetencyMatcher(small_taxonomy(), rules=rules)
    sent = SentenceInput("使用卷积神经网络训练图像分类模型", 0, 16)
    stmts, x, _ = matcher.features(OCC, "初级", None, [sent])
    from nlp.competencies import FEATURES

    lex = matcher.lexical([sent], stmts)[0]
    j = [st.id for st in stmts].index("t.j.2")
    assert x[0, j, FEATURES.index("lexical")] == pytest.approx(lex[j])
    rivals = [k for k in range(len(stmts)) if k != j]
    assert x[0, j, FEATURES.index("lexical_margin")] == pytest.approx(lex[j] - max(0.0, max(lex[rivals])))
    m = rules.lexical_model
    z = m.intercept + sum(c * x[0, j, FEATURES.index(f)] for f, c in zip(m.features, m.coef, strict=True))
    got = matcher.match(OCC, "初级", None, [sent])
    assert [g.id for g in got] == ["t.j.2"]
    assert got[0].score == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-4)  # the score is the probability


def test_clear_evidence_is_labelled_and_an_unclear_sentence_abstains():
    matcher = CompetencyMatcher(small_taxonomy(), rules=_learned_rules(threshold=0.5))
    clear = SentenceInput("使用卷积神经网络训练图像分类模型", 0, 16)
    unclear = SentenceInput("负责模型相关工作", 20, 28)  # one weak shared word
    got = matcher.match(OCC, "初级", None, [clear, unclear])
    assert [(g.id, [(s.start, s.end) for s in g.sentences]) for g in got] == [("t.j.2", [(0, 16)])]
    # the same sentences at a stricter threshold: the clear one still holds, a looser one labels more
    _, prob, _ = matcher.probabilities(OCC, "初级", None, [clear, unclear])
    assert prob[0].max() >= 0.5 > prob[1].max() > 0
    loose = CompetencyMatcher(small_taxonomy(), rules=_learned_rules(threshold=float(prob[1].max()) * 0.99))
    assert len({s.start for g in loose.match(OCC, "初级", None, [clear, unclear]) for s in g.sentences}) == 2


def test_the_learned_decision_never_gives_one_sentence_the_same_work_at_two_levels():
    matcher = CompetencyMatcher(small_taxonomy(), rules=_learned_rules(threshold=0.05))
    sent = SentenceInput("负责将训练好的模型封装为服务接口并完成部署上线", 0, 24)
    got = matcher.match(OCC, "中级", None, [sent])
    deploy = [g.id for g in got if g.id in {"t.j.1", "t.m.1", "t.s.1"}]
    assert deploy == ["t.m.1"]  # the posting's own level, one of the three


def test_learned_decision_schema_is_checked():
    base = _learned_rules().model_dump()
    bad_feature = dict(
        base, lexical_model=dict(base["lexical_model"], features=["lexical", "lexicon", "levels_below", "levels_above"])
    )
    with pytest.raises(ValidationError, match="unknown features"):
        CompetencyRules.model_validate(bad_feature)
    short = dict(base, lexical_model=dict(base["lexical_model"], coef=[1.0]))
    with pytest.raises(ValidationError, match="coefficients"):
        CompetencyRules.model_validate(short)
    cos = dict(
        base, lexical_model=dict(base["lexical_model"], features=["lexical", "cosine", "levels_below", "levels_above"])
    )
    with pytest.raises(ValidationError, match="cosine"):
        CompetencyRules.model_validate(cos)
    with pytest.raises(ValidationError, match="needs a lexical_model"):
        CompetencyRules.model_validate(dict(base, lexical_model=None))


def test_the_bundled_learned_decision_is_the_default_and_reads_its_trees():
    rules = load_rules()
    assert rules.decision == "learned"  # cross-validated by posting it beats the rule (see the rules file)
    model = rules.lexical_model
    assert model is not None and not model.needs_vectors and len(model.trees) >= 10 and not model.coef
    assert rules.embedding_model is not None and rules.embedding_model.needs_vectors
    learned = CompetencyMatcher(_bundled_taxonomy(), rules=rules)
    text = "熟练使用PyTorch或TensorFlow深度学习框架搭建神经网络模型"
    # the sentence with the taxonomy skills it names, as the extractor passes it
    sent = SentenceInput(text, 0, 36, learned._statement_skills(text))
    assert {"pytorch", "tensorflow"} <= sent.skills
    got = learned.match(OCC, "初级", None, [sent])
    _, prob, _ = learned.probabilities(OCC, "初级", None, [sent])
    assert got and got[0].id == "ai.j.1.5" and got[0].score == pytest.approx(prob.max(), abs=1e-4)
    # a sentence that shares no term with any statement is never scored (needs_evidence)
    none = SentenceInput("本科及以上学历，良好的沟通能力和团队合作精神", 0, 20)
    assert learned.match(OCC, "初级", None, [none]) == []
    assert learned.probabilities(OCC, "初级", None, [none])[1].max() == 0.0


def _tree_model(**extra):
    from nlp.competencies import LearnedDecision

    # tree 1 splits on lexical (<= 0.5: -1, else on terms: <= 1.5: 0.5, else 2); tree 2 is one leaf 0.25
    trees = [
        {
            "feature": [0, -1, 1, -1, -1],
            "threshold": [0.5, 0, 1.5, 0, 0],
            "left": [1, -1, 3, -1, -1],
            "right": [2, -1, 4, -1, -1],
            "value": [0, -1.0, 0, 0.5, 2.0],
        },
        {"feature": [-1], "threshold": [0], "left": [-1], "right": [-1], "value": [0.25]},
    ]
    data = dict(features=["lexical", "terms"], trees=trees, baseline=-0.5, threshold=0.5, max_per_sentence=1)
    data.update(extra)
    return LearnedDecision(**data)


def test_boosted_trees_add_their_leaf_values_to_the_baseline():
    from nlp.competencies import FEATURES

    model = _tree_model()
    x = np.zeros((4, len(FEATURES)))
    x[:, FEATURES.index("lexical")] = [0.2, 0.5, 0.8, 0.9]
    x[:, FEATURES.index("terms")] = [5, 5, 1, 2]
    assert model.log_odds(x) == pytest.approx([-1.25, -1.25, 0.25, 1.75])  # x <= threshold goes left
    assert model.probability(x) == pytest.approx(1 / (1 + np.exp(-np.array([-1.25, -1.25, 0.25, 1.75]))))
    gated = _tree_model(needs_evidence=True)
    x[0, FEATURES.index("lexical")] = 0.0  # no lexical evidence and no function-title overlap: p 0
    assert gated.probability(x)[0] == 0.0 and gated.probability(x)[1:] == pytest.approx(model.probability(x)[1:])


def test_tree_schema_is_checked_and_trees_file_is_read(tmp_path):
    import json

    with pytest.raises(ValidationError, match="coefficients or trees"):
        _tree_model(coef=[1.0, 1.0])
    with pytest.raises(ValidationError, match="do not form a tree"):
        _tree_model(
            trees=[
                {
                    "feature": [0, -1, -1],
                    "threshold": [0, 0, 0],
                    "left": [2, -1, -1],
                    "right": [0, -1, -1],
                    "value": [0, 0, 0],
                }
            ]
        )
    with pytest.raises(ValidationError, match="feature indices"):
        _tree_model(
            trees=[
                {
                    "feature": [7, -1, -1],
                    "threshold": [0, 0, 0],
                    "left": [1, -1, -1],
                    "right": [2, -1, -1],
                    "value": [0, 0, 0],
                }
            ]
        )
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    data.pop("skill_links_file")  # a rules file without skill links: the features read 0
    model = _tree_model()
    (tmp_path / "my_trees.json").write_text(
        json.dumps({"baseline": model.baseline, "trees": [t.model_dump() for t in model.trees]})
    )
    data["lexical_model"] = {
        "features": model.features,
        "trees_file": "my_trees.json",
        "threshold": 0.4,
        "max_per_sentence": 1,
    }
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    loaded = load_rules(tmp_path / "rules.yaml").lexical_model
    assert loaded.trees == model.trees and loaded.baseline == model.baseline and loaded.threshold == 0.4


def test_the_candidate_rank_sentence_and_function_features():
    """The features added for the 'none' gate and the 'which statement' choice: the statement's
    place among the sentence's candidates, the sentence's own signals, the function-title overlap."""
    from nlp.competencies import FEATURES

    matcher = CompetencyMatcher(small_taxonomy())
    vision = SentenceInput("使用卷积神经网络训练图像分类模型", 0, 16, frozenset({"s1", "s2"}), "preferred")
    blank = SentenceInput("有良好的沟通能力和团队精神", 20, 33)
    stmts, x, _ = matcher.features(OCC, "中级", None, [vision, blank])
    ids = [st.id for st in stmts]
    f = FEATURES.index
    lex = matcher.lexical([vision, blank], stmts)
    top = int(np.argmax(lex[0]))
    assert ids[top] == "t.j.2"
    assert x[0, top, f("lexical_top")] == 1 and x[0, :, f("lexical_top")].sum() == 1
    assert np.allclose(x[0, :, f("lexical_gap")], lex[0] - lex[0].max())
    assert np.allclose(x[0, :, f("sentence_best")], lex[0].max()) and np.allclose(x[1, :, f("sentence_best")], 0)
    assert x[1, :, f("lexical_top")].sum() == 0  # a sentence that matches nothing has no 'best' candidate
    assert np.all(x[0, :, f("sentence_skills")] == 2) and np.all(x[1, :, f("sentence_skills")] == 0)
    assert np.all(x[0, :, f("preferred")] == 1) and np.all(x[1, :, f("preferred")] == 0)
    assert x[0, 0, f("sentence_chars")] == pytest.approx(np.log1p(16))
    own = [st.level == "中级" for st in stmts]
    assert list(x[0, :, f("own_level")]) == [float(o) for o in own]
    # every statement of the small taxonomy has the function 产品交付: the best lexical score of the
    # function is the sentence's best, and the function is the top candidate's
    assert np.allclose(x[0, :, f("function_best")], lex[0].max()) and np.all(x[0, :, f("function_top")] == 1)
    # function-title overlap: the work content 视觉 is in neither sentence, 模型部署's terms neither
    deploy = SentenceInput("负责模型部署", 40, 46)
    stmts, x2, _ = matcher.features(OCC, "中级", None, [deploy])
    for j, st in enumerate(stmts):
        assert (
            x2[0, j, f("function_terms")] > 0 if st.work_content == "模型部署" else x2[0, j, f("function_terms")] == 0
        )


def test_same_work_levels_lets_one_sentence_get_the_same_work_at_two_levels():
    model = dict(_learned_rules(threshold=0.05).lexical_model.model_dump(), same_work_levels=True)
    matcher = CompetencyMatcher(small_taxonomy(), rules=_learned_rules(threshold=0.05, lexical_model=model))
    sent = SentenceInput("负责将训练好的模型封装为服务接口并完成部署上线", 0, 24)
    got = [g.id for g in matcher.match(OCC, "中级", None, [sent])]
    deploy = [g for g in got if g in {"t.j.1", "t.m.1", "t.s.1"}]
    assert len(deploy) == 2 and deploy[0] == "t.m.1"  # the own level first, then the nearest other one


def test_own_level_first_hands_equal_evidence_to_the_postings_level_and_leaves_other_evidence_alone():
    matcher = CompetencyMatcher(small_taxonomy())
    stmts = [st for st, _ in matcher.candidates(OCC, "高级", None)]
    ids = [st.id for st in stmts]
    j, m, s_ = ids.index("t.j.1"), ids.index("t.m.1"), ids.index("t.s.1")  # the same work at three levels
    prob = np.zeros((2, len(stmts)))
    prob[:, [j, m, s_]] = [0.9, 0.6, 0.3]
    lexical = np.zeros((2, len(stmts)))
    lexical[0, [j, m, s_]] = 0.8  # row 0: equal evidence for the three levels
    lexical[1, [j, m, s_]] = [0.9, 0.5, 0.2]  # row 1: the 初级 statement fits better
    out = matcher.own_level_first(stmts, "高级", prob, lexical)
    assert list(out[0, [s_, m, j]]) == [0.9, 0.6, 0.3]  # own level, then the nearest below
    assert list(out[1, [j, m, s_]]) == [0.9, 0.6, 0.3]  # the model decides


def _every_pair_lexical(matcher: CompetencyMatcher, sentences, statements) -> tuple[np.ndarray, ...]:
    """The lexical parts by their definition, every (sentence, statement) pair visited."""
    from nlp.competencies import _norm, contains

    rules = matcher.rules
    shape = (len(sentences), len(statements))
    out, n_terms, n_skills, dir_hit, cover, top = (np.zeros(shape) for _ in range(6))
    for i, sent in enumerate(sentences):
        text = _norm(sent.text)
        for j, st in enumerate(statements):
            if st.total <= 0:
                continue
            hit = [w for t, w in st.terms.items() if contains(text, t)]
            shared = [w for s, w in st.skills.items() if s in sent.skills]
            bonus = rules.skill_bonus * len(shared)
            if sent.skills & st.direction_skills:
                bonus += rules.direction_skill_bonus
                dir_hit[i, j] = 1.0
            got = sum(hit) + sum(shared)
            out[i, j] = min(1.0, got / min(rules.term_saturation * st.total, rules.term_saturation_weight) + bonus)
            n_terms[i, j], n_skills[i, j], cover[i, j] = len(hit), len(shared), got / st.total
            top[i, j] = max(hit + shared, default=0.0)
    return out, n_terms, n_skills, dir_hit, cover, top


def test_lexical_scores_and_margins_equal_their_every_pair_definition():
    """lexical_parts visits only the pairs a sentence's terms or skills touch, and _margin takes
    each column's best rival at once: both must give exactly what visiting every pair gives, on
    the bundled taxonomy - statement texts, a statement's skills alone, a direction's skill alone,
    mixtures and a sentence of nothing."""
    matcher = CompetencyMatcher(_bundled_taxonomy())
    rng = np.random.default_rng(7)
    met: list[bool] = []
    for code in ("2-02-38-01", "2-02-38-03", "2-02-38-09", "2-06-07-13"):
        stmts = [st for st, _ in matcher.candidates(code, "中级", None)]
        sentences = [SentenceInput("有良好的沟通能力和团队精神")]
        for _ in range(25):
            a, b = (stmts[int(k)] for k in rng.integers(0, len(stmts), 2))
            skills = frozenset(rng.choice(sorted((set(a.skills) | set(b.direction_skills)) or {"none"}), size=1))
            sentences += [
                SentenceInput(f"负责{a.text}，熟悉{b.text[: len(b.text) // 2]}", skills=skills, kind="duties"),
                SentenceInput("熟悉相关工具", skills=frozenset(b.direction_skills)),
                SentenceInput(a.text[::2], skills=frozenset(a.skills)),
            ]
        got = matcher.lexical_parts(sentences, stmts)
        want = _every_pair_lexical(matcher, sentences, stmts)
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g, w)
        met += [got[0].any(), got[3].any()]
        rivals = matcher._rivals(stmts)
        lex = got[0]
        margin = np.stack(
            [
                lex[:, j] - np.maximum(lex[:, rivals[j]].max(axis=1) if rivals[j].any() else 0.0, 0.0)
                for j in range(len(stmts))
            ],
            axis=1,
        )
        assert np.array_equal(matcher._margin(lex, rivals), margin)
    assert all(met[0::2]) and any(met[1::2])  # terms met everywhere, direction skills somewhere


def test_skill_links_count_what_labelled_sentences_naming_a_skill_carry():
    from nlp.competencies import FEATURES, SkillLinks

    labelled = [
        ({"cnn", "python"}, {"t.j.2"}),
        ({"cnn"}, {"t.j.2", "t.m.1"}),
        ({"cnn"}, set()),  # names the skill, carries nothing: counts as a sentence
        ({"kaldi"}, {"t.m.2"}),
    ]
    links = SkillLinks.count(labelled)
    assert links.sentences == {"cnn": 3, "python": 1, "kaldi": 1}
    assert links.statements["cnn"] == {"t.j.2": 2, "t.m.1": 1}
    # one employer's part taken out: its sentences and what they carried
    mine = SkillLinks.count(labelled[:1])
    rest = links.minus(mine)
    assert rest.sentences == {"cnn": 2, "kaldi": 1} and rest.statements["cnn"] == {"t.j.2": 1, "t.m.1": 1}
    assert rest == SkillLinks.count(labelled[1:])
    # per pair: the best share carried / (sentences + 1) and the best count over the sentence's skills
    matcher = CompetencyMatcher(small_taxonomy())
    sents = [SentenceInput("使用卷积神经网络", skills=frozenset({"cnn", "kaldi"})), SentenceInput("沟通")]
    stmts = [st for st, _ in matcher.candidates(OCC, "中级", None)]
    f = links.features(sents, stmts)
    col = {st.id: j for j, st in enumerate(stmts)}
    assert f[0, col["t.j.2"]].tolist() == [0.5, 2.0] and f[0, col["t.m.2"]].tolist() == [0.5, 1.0]
    assert f[0, col["t.m.1"]].tolist() == [0.25, 1.0] and not f[1].any() and not f[0, col["t.j.1"]].any()
    # the matcher's features read the rules' links unless given others; no links: 0
    _, x, _ = matcher.features(OCC, "中级", None, sents, links=links)
    assert np.array_equal(x[..., FEATURES.index("skill_link")], f[..., 0])
    assert not matcher.features(OCC, "中级", None, sents)[1][..., FEATURES.index("skill_link_count")].any()
    with pytest.raises(ValidationError, match="outside"):
        SkillLinks(sentences={"cnn": 1}, statements={"cnn": {"t.j.2": 2}})  # more carriers than sentences


def test_the_bundled_skill_links_name_skills_and_statements_of_the_taxonomy():
    rules = load_rules()
    taxonomy = _bundled_taxonomy()
    ids = {c.id for occ in taxonomy.occupations.values() for cs in occ.levels.values() for c in cs}
    links = rules.skill_links
    assert links is not None and rules.lexical_model is not None
    assert {"skill_link", "skill_link_count"} <= set(rules.lexical_model.features)
    assert links.sentences and set(links.sentences) <= set(taxonomy.skills)
    assert {sid for carried in links.statements.values() for sid in carried} <= ids
