"""Where the competency matcher's errors come from, on the competency gold set.

    PYTHONPATH=. .venv/bin/python benchmarks/competency_errors.py [--embeddings] [--decision rule|learned]

Runs the matcher's decision (as the rules say, or ``--decision``) on the gold postings' sentences
(the bundled learned decision was fitted on this gold, so its breakdown is in-sample; ``--decision
rule`` breaks down the hand-set rule),
both with the gold occupation and level and with the extractor's own, and sorts every error:

* each missed gold (sentence, statement) pair (false negative) by its cause: the gold sentence is
  read by no matcher sentence (sectioning); the statement is not among the candidates (another
  occupation predicted; its level outside ``allowed_levels``; another direction is never excluded,
  only penalised); the sentence got no statement at all (abstained); it got another statement of
  the same work content at another level, of the same function, or of another function; or it got
  one of its other gold labels (a multi-label sentence whose further label was missed);
* each wrong prediction (false positive) by its cause: the gold says the sentence carries no
  competency; the sentence is labelled and got the same work at another level, a statement of the
  same function, or of another function, with no right label beside it; or a further statement
  beside a right one; or it lies on an excluded sentence;
* the ceiling: the share of gold pairs whose statement is a candidate, and the rank of the gold
  statement among the candidates by the decision's score (top-1 / top-3), over labelled sentences.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_competencies import collect
from nlp.eval.data import DEFAULT_GOLD, DEFAULT_POSTINGS
from nlp.eval.score_competencies import attach_texts, gold_sentences

log = logging.getLogger("competency_errors")


def predictions(matcher, res, it, setting: str, decision: str):
    """(sentence index, statement id, score) the decision keeps, and each sentence's candidate
    statements ordered by the decision's score (best first)."""
    code, level, direction = it["settings"][setting]
    vectors = it.get("vectors") if matcher.rules.max_sentences else None
    stmts, *_ = it[setting]
    kept: list[tuple[int, str, float]] = []
    ranking: dict[int, list[str]] = {}
    if not stmts:
        return kept, ranking
    if decision == "learned":  # the matcher's own decision (threshold, level rule, same work at two levels)
        stmts, prob, _ = matcher.probabilities(code, level, direction, it["sents"], vectors, res)
        _, found = matcher._decide_learned(code, level, direction, it["sents"], vectors, res)
        kept = [(i, stmts[j].id, p) for j, hits in found.items() for p, i in hits]
        score = prob
    else:
        stmts, combined, prior, _ = matcher.scores(code, level, direction, it["sents"], vectors, res)
        score = combined + prior[None, :]
        _, found = matcher._decide_rule(code, level, direction, it["sents"], vectors, res)
        kept = [(i, stmts[j].id, p) for j, hits in found.items() for p, i in hits]
    for i in range(score.shape[0]):
        order = sorted(range(len(stmts)), key=lambda j: (-round(float(score[i, j]), 9), j))
        ranking[i] = [stmts[j].id for j in order]
    return kept, ranking


def breakdown(args, gold, items, extractor) -> None:
    from nlp.competencies import allowed_levels

    matcher = extractor.matcher
    res = extractor.nlp.get_pipe("skillsignal_competencies").statement_vectors  # None without embeddings
    tax = extractor.taxonomy
    info = {}  # statement id -> (occupation, level, function, work content)
    for code, occ in tax.occupations.items():
        for level, comps in occ.levels.items():
            for c in comps:
                info[c.id] = (code, level, c.function, c.work_content)
    scored = {g.key: g for g in gold if not g.excluded}
    excluded = {g.key for g in gold if g.excluded}
    decision = args.decision or matcher.rules.decision
    for setting in ("gold", "predicted"):
        fn: Counter = Counter()
        fp: Counter = Counter()
        tp = 0
        rank_hits = Counter()
        ranked_sentences = 0
        cand_pairs = 0
        pred_by_key: dict = defaultdict(set)
        cands_by_post: dict[str, set[str]] = {}
        rank_by_key: dict = {}
        for it in items:
            stmts, *_ = it[setting]
            cands_by_post[it["pid"]] = {st.id for st in stmts}
            kept, ranking = predictions(matcher, res, it, setting, decision)
            for i, sid, _ in kept:
                key = it["keys"][i]
                pred_by_key[key if key is not None else ("stray", it["pid"], i)].add(sid)
            for i, order in ranking.items():
                key = it["keys"][i]
                if key in scored and key not in rank_by_key:
                    rank_by_key[key] = order
        reached = {k for it in items for k in it["keys"] if k is not None}
        for key, g in scored.items():
            code, level = g.occupation, g.level
            pid = key[0]
            got = pred_by_key.get(key, set())
            pred_code, pred_level, _ = next(it for it in items if it["pid"] == pid)["settings"][setting]
            for sid in g.labels:
                if sid in got:
                    tp += 1
                    continue
                occ, st_level, function, work = info.get(sid, ("?", "?", "?", "?"))
                if key not in reached:
                    fn["sentence read by no matcher sentence"] += 1
                elif sid not in cands_by_post[pid]:
                    if occ != pred_code:
                        fn["not a candidate: other occupation predicted"] += 1
                    elif st_level not in allowed_levels(pred_level, matcher.rules.max_levels_above):
                        fn[f"not a candidate: level ({st_level} statement, {pred_level} posting)"] += 1
                    else:
                        fn["not a candidate: other"] += 1
                elif not got:
                    fn["candidate, sentence abstained"] += 1
                elif got & set(g.labels):
                    fn["candidate, another gold label of the sentence kept (multi-label)"] += 1
                else:
                    kinds = {
                        (
                            "same work, other level"
                            if info.get(p, (None,) * 4)[2:] == (function, work)
                            else "same function"
                            if info.get(p, (None,) * 4)[2] == function
                            else "other function"
                        )
                        for p in got
                    }
                    kind = next(k for k in ("same work, other level", "same function", "other function") if k in kinds)
                    fn[f"candidate, wrong statement kept ({kind})"] += 1
            if g.labels:
                order = rank_by_key.get(key)
                if order is not None:
                    ranked_sentences += 1
                    cand_pairs += sum(1 for s in g.labels if s in order)
                    pos = min((order.index(s) for s in g.labels if s in order), default=None)
                    if pos is not None:
                        rank_hits["top-1"] += pos < 1
                        rank_hits["top-3"] += pos < 3
                        rank_hits["any"] += 1
        for key, got in pred_by_key.items():
            g = scored.get(key)
            for sid in got:
                if g is None:
                    fp["on an excluded or unplaced sentence"] += key in excluded or key[0] == "stray"
                    continue
                if sid in g.labels:
                    continue
                if not g.labels:
                    fp["sentence carries no competency (gold [])"] += 1
                elif got & set(g.labels):
                    fp["further statement beside a right one"] += 1
                else:
                    f, w = info.get(sid, (None,) * 4)[2:]
                    gl = [info.get(s, (None,) * 4)[2:] for s in g.labels]
                    if (f, w) in gl:
                        fp["labelled sentence, wrong statement: same work, other level"] += 1
                    elif f in [x[0] for x in gl]:
                        fp["labelled sentence, wrong statement: same function"] += 1
                    else:
                        fp["labelled sentence, wrong statement: other function"] += 1
        n_fn, n_fp = sum(fn.values()), sum(fp.values())
        gold_pairs = sum(len(g.labels) for g in scored.values())
        p = tp / (tp + n_fp) if tp + n_fp else 0.0
        r = tp / gold_pairs if gold_pairs else 0.0
        print(
            f"\noccupation and level: {setting}; decision {decision}; embeddings "
            f"{'on' if extractor.uses_embeddings else 'off'}: tp {tp}, fp {n_fp}, fn {n_fn} "
            f"(P {p:.3f} R {r:.3f})"
        )
        print(f" missed gold pairs (fn {n_fn}):")
        for k, v in fn.most_common():
            print(f"   {v:>4}  {v / max(n_fn, 1):6.1%}  {k}")
        print(f" wrong predictions (fp {n_fp}):")
        for k, v in fp.most_common():
            print(f"   {v:>4}  {v / max(n_fp, 1):6.1%}  {k}")
        labelled = sum(1 for g in scored.values() if g.labels)
        multi = sum(1 for g in scored.values() if len(g.labels) > 1)
        print(
            f" ceiling: gold pairs among the candidates {cand_pairs} / {gold_pairs} "
            f"({cand_pairs / max(gold_pairs, 1):.3f}); labelled sentences {labelled} ({multi} with > 1 label, "
            f"{gold_pairs - labelled} pairs beyond the first); of {ranked_sentences} labelled sentences read, "
            f"a gold statement ranks first by the decision's score in {rank_hits['top-1']} "
            f"({rank_hits['top-1'] / max(ranked_sentences, 1):.3f}), in the top 3 in {rank_hits['top-3']} "
            f"({rank_hits['top-3'] / max(ranked_sentences, 1):.3f})"
        )
        nones = sum(1 for g in scored.values() if not g.labels)
        none_hit = sum(1 for k, g in scored.items() if not g.labels and pred_by_key.get(k))
        some_miss = sum(1 for k, g in scored.items() if g.labels and not pred_by_key.get(k))
        print(
            f" the 'none' decision: {none_hit} of {nones} gold-[] sentences got a statement; "
            f"{some_miss} of {labelled} labelled sentences got none"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--postings", type=Path, default=DEFAULT_POSTINGS)
    parser.add_argument("--embeddings", dest="emb", action="store_true", default=False)
    parser.add_argument("--decision", choices=["rule", "learned"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    gold = gold_sentences(args.gold)
    records = attach_texts(gold, args.postings)
    by_post = defaultdict(list)
    for g in gold:
        by_post[g.key[0]].append(g)
    extractor, items = collect(args, gold, records, by_post)
    breakdown(args, gold, items, extractor)


if __name__ == "__main__":
    main()
