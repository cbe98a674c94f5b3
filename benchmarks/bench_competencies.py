"""Competency matching on the competency gold set, every (statement, sentence) pair scored.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_competencies.py [--embeddings|--no-embeddings] [--gold FILE]
    PYTHONPATH=. .venv/bin/python benchmarks/bench_competencies.py --cv [--embeddings] [--write]
    PYTHONPATH=. .venv/bin/python benchmarks/bench_competencies.py --coverage 300 [--embeddings]

Default: runs the extractor (as the settings say, or with ``--embeddings`` / without) over the gold
postings (``nlp/eval/competency_gold.jsonl``, texts from ``../shared``) and scores with
``nlp.eval.score_competencies.score``. Each matched statement lists every sentence it was matched
on (``competencies[].sentences``, raw offsets), and each is placed on the gold sentence it overlaps
most. Prints, for all postings and the two halves (half A: postings whose int(sha1(id), 16) is
even): sentence P / R / F1, top-1 accuracy, posting-level P / R / F1, coverage, the share of
matches at the posting's own level, and matcher time per posting.

``--cv``: the learned decision (``LearnedDecision`` in ``nlp/competencies.py``) cross-validated:
features of every (sentence, candidate statement) pair, boosted trees (``--model``; or a logistic
regression) trained on the pairs of the gold occupation (``--train``), ``--folds`` folds grouped by
company (``--group``: a company's postings share duty templates, so they stay in one fold; fold =
rank of sha1(group key) mod folds), each held-out fold decided by the model of the other folds.
Printed per threshold: the cross-validated figures with the gold occupation and level, and with
the predicted occupation and level (the extractor's). ``--write`` stores the model fitted on all
postings, with ``--threshold``, in ``nlp/data/competency_rules.yaml`` (``lexical_model`` or, with
``--embeddings``, ``embedding_model``).

``--coverage N``: the share of the first N postings of ``../shared/data/postings-dev.jsonl`` that
the extractor calls a core occupation which get at least one competency.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.eval.data import DEFAULT_GOLD, DEFAULT_POSTINGS
from nlp.eval.score_competencies import Prediction, attach_texts, gold_sentences, score

log = logging.getLogger("bench_competencies")
RULES = ROOT / "nlp" / "data" / "competency_rules.yaml"
#: features the lexical model reads (no cosine); the embedding model reads them all
LEXICAL_FEATURES = (
    "lexical",
    "lexical_margin",
    "terms",
    "shared_skills",
    "direction_skill",
    "levels_below",
    "levels_above",
    "direction_mismatch",
    "duty",
    "coverage",
    "top_term",
)
L2 = 1.0  # ridge on standardised features


def half(posting_id: str) -> str:
    return "A" if int(hashlib.sha1(posting_id.encode()).hexdigest(), 16) % 2 == 0 else "B"


def place(span_start: int | None, span_end: int | None, candidates) -> tuple | None:
    """The gold sentence key a raw span overlaps most (None: no overlap, or no span)."""
    if span_start is None or span_end is None:
        return None
    best, size = None, 0
    for g in candidates:
        o = min(span_end, g.key[2]) - max(span_start, g.key[1])
        if o > size:
            best, size = g.key, o
    return best


def print_figures(gold, preds, label: str = "") -> dict:
    out = {}
    for name in ("all", "A", "B"):
        keep = [g for g in gold if name == "all" or half(g.key[0]) == name]
        ids = {g.key[0] for g in keep}
        fig = score(keep, [p for p in preds if p.posting_id in ids])
        s, p = fig["sentence"], fig["posting"]
        print(
            f"  {label}{name:<3} postings {fig['postings']:>2}  sentence P {s['precision']:.3f} R {s['recall']:.3f} "
            f"F1 {s['f1']:.3f}  top-1 {fig['top1']['accuracy']:.3f}  posting P {p['precision']:.3f} "
            f"R {p['recall']:.3f}  coverage {fig['coverage']['predicted']:.3f}"
        )
        out[name] = fig
    return out


# ---------------------------------------------------------------------------- the extractor as is


def make_extractor(args):
    """The extractor as the settings say (embeddings as asked), with ``--decision`` applied."""
    from nlp.extractor import Extractor
    from skillsignal.core.config import get_settings

    extractor = Extractor.from_settings(get_settings(), use_embeddings=args.emb)
    matcher = extractor.matcher
    if args.decision:
        matcher.rules = matcher.rules.model_copy(update={"decision": args.decision})
    if args.max_sentences is not None:
        matcher.rules = matcher.rules.model_copy(update={"max_sentences": args.max_sentences})
    return extractor


def run_extractor(args, gold, records, by_post) -> None:
    from nlp.batch import _normalise
    from nlp.extractor import ExtractionError
    from skillsignal.core.records import record_to_posting

    extractor = make_extractor(args)
    postings = [_normalise(record_to_posting(records[pid])) for pid in by_post]
    started = time.perf_counter()
    results = extractor.extract_many(postings)
    elapsed = time.perf_counter() - started
    preds: list[Prediction] = []
    own = matched = 0
    for posting, result in zip(postings, results, strict=False):
        if isinstance(result, ExtractionError):
            continue
        for comp in result.competencies:
            matched += 1
            own += comp.level == result.level
            for span in comp.sentences:
                key = place(span.start, span.end, by_post[posting.id])
                preds.append(Prediction(posting.id, comp.id, span.score, key, span.text))
    rules = extractor.matcher.rules
    print(
        f"competency gold, every (statement, sentence) pair: embeddings {'on' if extractor.uses_embeddings else 'off'} "
        f"(max_sentences {rules.max_sentences}), decision {rules.decision}; "
        f"extraction {elapsed / len(postings) * 1000:.1f} ms a posting ({len(postings)} postings); "
        f"matches at the posting's own level {own / matched if matched else 0:.3f}"
    )
    print_figures(gold, preds)


# ---------------------------------------------------------------------------- cross-validation


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 50) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression by Newton steps on standardised features; returns the
    coefficients and intercept for the raw features."""
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / std])
    w = np.zeros(z.shape[1])
    pen = np.full(z.shape[1], l2)
    pen[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (p - y) + pen * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(pen)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    coef = w[1:] / std
    return coef, float(w[0] - (coef * mean).sum())


def fit_trees(x: np.ndarray, y: np.ndarray, args) -> dict:
    """Boosted trees (scikit-learn's HistGradientBoostingClassifier, fixed seed, no early stopping:
    the same trees every run) exported as ``LearnedDecision`` fields (``trees``, ``baseline``)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        max_iter=args.trees,
        learning_rate=args.learning_rate,
        max_leaf_nodes=args.leaves,
        max_depth=args.max_depth,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=0,
    ).fit(x, y)
    trees = []
    for (pred,) in clf._predictors:
        nodes = pred.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append(
            {
                "feature": [int(f) for f in nodes["feature_idx"]],
                "threshold": [float(t) for t in nodes["num_threshold"]],
                "left": [-1 if lf else int(i) for lf, i in zip(leaf, nodes["left"], strict=False)],
                "right": [-1 if lf else int(i) for lf, i in zip(leaf, nodes["right"], strict=False)],
                "value": [float(v) for v in nodes["value"]],
            }
        )
    out = {"trees": trees, "baseline": float(np.ravel(clf._baseline_prediction)[0])}
    out["_sklearn"] = clf
    return out


def fit_model(x: np.ndarray, y: np.ndarray, names: list[str], args, threshold: float = 0.5):
    """A ``LearnedDecision`` over ``names`` fitted on ``x`` (all :data:`FEATURES` columns) and ``y``:
    ``--model logistic`` or ``trees``; with ``--needs-evidence`` on the pairs with lexical evidence only."""
    from nlp.competencies import FEATURES, LearnedDecision

    idx = [FEATURES.index(f) for f in names]
    keep = np.ones(len(x), bool)
    if args.needs_evidence:
        keep = (x[:, FEATURES.index("lexical")] > 0) | (x[:, FEATURES.index("function_terms")] > 0)
    common = dict(
        features=names,
        threshold=threshold,
        max_per_sentence=args.max_per_sentence,
        same_work_levels=args.same_work_levels,
        needs_evidence=args.needs_evidence,
    )
    if args.model == "logistic":
        coef, b = fit_logistic(x[keep][:, idx], y[keep], args.l2)
        return LearnedDecision(coef=[float(c) for c in coef], intercept=b, **common)
    fitted = fit_trees(x[keep][:, idx], y[keep], args)
    clf = fitted.pop("_sklearn")
    model = LearnedDecision(**fitted, **common)
    sample = x[keep][:2000]
    diff = np.abs(model.log_odds(sample) - clf.decision_function(sample[:, idx])).max(initial=0.0)
    if diff > 1e-9:  # the exported trees must reproduce scikit-learn's own predictions
        raise RuntimeError(f"exported trees differ from scikit-learn by {diff}")
    return model


def collect(args, gold, records, by_post):
    """Per posting: the matcher, its sentences, vectors, gold keys per sentence, and the
    (occupation, level, direction) of both settings."""
    from nlp.batch import _normalise
    from nlp.competencies import posting_sentences
    from nlp.extractor import Extractor, _clean
    from nlp.spacy_pipeline import PostingContext
    from skillsignal.core.config import get_settings
    from skillsignal.core.records import record_to_posting

    extractor = Extractor.from_settings(get_settings(), use_embeddings=args.emb)
    res = extractor.nlp.get_pipe("skillsignal_competencies").statement_vectors  # None without embeddings
    matcher = extractor.matcher
    rules = matcher.rules
    docs = []
    for pid in by_post:
        posting = _normalise(record_to_posting(records[pid]))
        title, text = _clean(posting.title), _clean(posting.description)
        doc = extractor.nlp.make_doc(text)
        doc._.skillsignal = PostingContext(posting=posting, title=title, text=text)
        docs.append(doc)
    items = []
    for doc in extractor.nlp.pipe(docs, batch_size=32):
        ctx = doc._.skillsignal
        pid = ctx.posting.id
        per_sentence: dict[int, set[str]] = {}
        for hit in doc._.skill_hits.hits:
            per_sentence.setdefault(hit.sentence, set()).add(hit.skill_id)
        sents = posting_sentences(ctx.posting.description, doc._.sections, per_sentence, rules.min_sentence_chars)
        occ = doc._.occupation.match if doc._.occupation else None
        g0 = by_post[pid][0]
        pred = (occ.code if occ else "other", doc._.level, occ.direction if occ else None)
        gold_dir = pred[2] if pred[0] == g0.occupation else None
        items.append(
            {
                "pid": pid,
                "sents": sents,
                "keys": [place(s.start, s.end, by_post[pid]) for s in sents],
                "settings": {"gold": (g0.occupation, g0.level, gold_dir), "predicted": pred},
            }
        )
    if extractor.uses_embeddings:
        flat = [s.text[: rules.max_sentence_chars] for it in items for s in it["sents"]]
        vecs = extractor.embedder.encode(flat, kind="query")
        pos = 0
        for it in items:
            n = len(it["sents"])
            it["vectors"] = dict(enumerate(vecs[pos : pos + n]))
            pos += n
    labels = {g.key: (set(g.labels), g.excluded) for g in gold}
    for it in items:
        for name, (code, level, direction) in it["settings"].items():
            stmts, x, _ = matcher.features(code, level, direction, it["sents"], it.get("vectors"), res)
            y = np.zeros(x.shape[:2])
            train = np.zeros(x.shape[0], bool)
            for i, key in enumerate(it["keys"]):
                lab, excluded = labels.get(key, (set(), True))
                train[i] = key is not None and not excluded
                for j, st in enumerate(stmts):
                    y[i, j] = st.id in lab
            it[name] = (stmts, x, y, train)
        # (skills named, statements carried) of each labelled sentence: what SkillLinks counts
        it["labelled"] = [
            (sent.skills, labels[key][0])
            for sent, key in zip(it["sents"], it["keys"], strict=True)
            if key is not None and not labels.get(key, (set(), True))[1]
        ]
    return extractor, items


def decide(
    matcher, stmts, prob, threshold: float, max_per: int, same_work: bool = False
) -> list[tuple[int, int, float]]:
    """(sentence, statement, p) kept: the rule of CompetencyMatcher._decide_learned."""
    out = []
    if not stmts:
        return out
    rivals = matcher._rivals(stmts)
    for i in range(prob.shape[0]):
        order = sorted(range(len(stmts)), key=lambda j: (-round(float(prob[i, j]), 9), j))
        kept: list[int] = []
        for j in order:
            if prob[i, j] < threshold or len(kept) >= max_per:
                break
            if same_work or all(rivals[j, k] for k in kept):
                kept.append(j)
        out += [(i, j, float(prob[i, j])) for j in kept]
    return out


def feature_names(args, uses_embeddings: bool) -> list[str]:
    """``--features base``: the first learned model's features; ``extended`` adds the statement's
    place among the sentence's candidates, the sentence's own signals (the 'none' gate) and the
    function-title overlap. The cosine features only with embeddings."""
    from nlp.competencies import EMBEDDING_FEATURES, FEATURES

    if args.features == "base":
        names = list(LEXICAL_FEATURES) + (["cosine", "cosine_margin"] if uses_embeddings else [])
    elif args.features == "lexical":  # with --embeddings: the shipped lexical model, occupations as the model decides
        names = [f for f in FEATURES if f not in EMBEDDING_FEATURES]
    else:
        names = [f for f in FEATURES if uses_embeddings or f not in EMBEDDING_FEATURES]
    return [f for f in names if f not in args.drop_features]


def kept_for_training(posting_id: str, fraction: float) -> bool:
    """Whether a training posting is kept under ``--train-fraction`` (a fixed share of the postings,
    by sha1 of the id; the same postings every run) - for the learning curve."""
    return fraction >= 1 or int(hashlib.sha1(f"train:{posting_id}".encode()).hexdigest(), 16) % 1000 < fraction * 1000


def fold_group(record: dict, by: str) -> str:
    """The key postings are kept together by in the folds: ``posting`` (its id) or ``company`` (its
    company's name, else its id). A company's postings share templates - the same duty sentences
    with another level or city - so a posting-grouped fold can learn a held-out posting's sentences
    from its sibling."""
    company = re.sub(r"\s+", "", record.get("company") or "") if by == "company" else ""
    return f"company:{company}" if company else record["id"]


def assign_folds(items: list[dict], group_of: dict[str, str], folds: int, salt: str = "") -> dict[str, int]:
    """posting id -> fold: the groups of ``items`` ranked by sha1 of ``salt`` + their key, dealt
    round (another salt, another split)."""
    groups = sorted(
        {group_of[it["pid"]] for it in items}, key=lambda k: hashlib.sha1(f"{salt}{k}".encode()).hexdigest()
    )
    fold = {g: r % folds for r, g in enumerate(groups)}
    return {it["pid"]: fold[group_of[it["pid"]]] for it in items}


def training_links(its: list[dict], company_of: dict[str, str]):
    """``SkillLinks`` counted from the labelled sentences of ``its``, and per employer the part
    its own postings add (left out of a training posting's own features: an employer's postings
    share sentences)."""
    from nlp.competencies import SkillLinks

    by_company: dict[str, list] = defaultdict(list)
    for it in its:
        by_company[company_of[it["pid"]]] += it["labelled"]
    own = {c: SkillLinks.count(pairs) for c, pairs in by_company.items()}
    return SkillLinks.count(pair for it in its for pair in it["labelled"]), own


def with_links(it: dict, setting: str, links) -> tuple:
    """``it[setting]`` with the skill-link feature columns computed from ``links``."""
    from nlp.competencies import FEATURES

    stmts, x, y, train = it[setting]
    if not stmts:
        return stmts, x, y, train
    x = x.copy()
    x[..., FEATURES.index("skill_link") : FEATURES.index("skill_link_count") + 1] = links.features(it["sents"], stmts)
    return stmts, x, y, train


def cross_validate(args, gold, records, by_post) -> None:
    from nlp.competencies import FEATURES

    extractor, items = collect(args, gold, records, by_post)
    names = feature_names(args, extractor.uses_embeddings)
    group_of = {it["pid"]: fold_group(records[it["pid"]], args.group) for it in items}
    ranked = sorted(items, key=lambda it: hashlib.sha1(it["pid"].encode()).hexdigest())
    fold_of = assign_folds(ranked, group_of, args.folds)
    matcher = extractor.matcher

    company_of = {it["pid"]: fold_group(records[it["pid"]], "company") for it in items}

    def pairs(its, setting="gold"):
        """The training pairs of ``its``, each posting's skill-link features counted from the
        others' sentences less its own employer's (as a held-out posting sees them)."""
        links, own = training_links(its, company_of)
        seen_by = {company: links.minus(part) for company, part in own.items()}  # what each employer's postings see
        xs, ys = [], []
        for it in its:
            stmts, x, y, train = with_links(it, setting, seen_by[company_of[it["pid"]]])
            if stmts and train.any():
                xs.append(x[train].reshape(-1, len(FEATURES)))
                ys.append(y[train].reshape(-1))
        return np.vstack(xs), np.concatenate(ys), links

    def out_of_fold(its, folds: int, fold) -> dict[str, dict[str, np.ndarray | None]]:
        """p of every (sentence, candidate) of ``its``, each posting by the model fitted on the
        other folds (pairs of the gold occupation), its skill links counted from those folds."""
        probs: dict[str, dict] = {"gold": {}, "predicted": {}}
        for k in range(folds):
            x, y, links = pairs(
                [it for it in its if fold(it) != k and kept_for_training(it["pid"], args.train_fraction)]
            )
            model = fit_model(x, y, names, args)
            for it in its:
                if fold(it) != k:
                    continue
                for setting in probs:
                    stmts, xx, _, _ = with_links(it, setting, links)
                    probs[setting][it["pid"]] = model.probability(xx) if stmts else None
        return probs

    def predictions(its, probs, setting, t):
        preds = []
        for it in its:
            stmts, *_ = it[setting]
            prob = probs[setting].get(it["pid"])
            if prob is None:
                continue
            if not args.any_level_first:  # what CompetencyMatcher.probabilities does
                lexical = it[setting][1][..., FEATURES.index("lexical")]
                prob = matcher.own_level_first(stmts, it["settings"][setting][1], prob, lexical)
            for i, j, p in decide(matcher, stmts, prob, t, args.max_per_sentence, args.same_work_levels):
                preds.append(Prediction(it["pid"], stmts[j].id, p, it["keys"][i], it["sents"][i].text))
        return preds

    def line(name, fig):
        s = fig["sentence"]
        return (
            f"  {name:<8} sentence P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f}  "
            f"top-1 {fig['top1']['accuracy']:.3f}  posting P {fig['posting']['precision']:.3f} "
            f"R {fig['posting']['recall']:.3f}  coverage {fig['coverage']['predicted']:.3f}"
        )

    def split_run(fold_of: dict[str, int], salt: str = ""):
        """Out-of-fold p of every posting, and per outer fold the operating point chosen without
        looking at the fold: the threshold with the best F1 of an inner cross-validation over the
        other folds' postings (gold occupation)."""
        probs = out_of_fold(items, args.folds, lambda it: fold_of[it["pid"]])
        chosen: dict[int, float] = {}
        for k in range(args.folds):
            inner = [it for it in ranked if fold_of[it["pid"]] != k]
            inner_fold = assign_folds(inner, group_of, args.folds - 1, salt)
            inner_probs = out_of_fold(inner, args.folds - 1, lambda it, folds=inner_fold: folds[it["pid"]])
            ids = {it["pid"] for it in inner}
            inner_gold = [g for g in gold if g.key[0] in ids]
            chosen[k] = max(
                args.thresholds,
                key=lambda t: (score(inner_gold, predictions(inner, inner_probs, "gold", t))["sentence"]["f1"], -t),
            )
        return probs, chosen

    def nested(fold_of, probs, chosen, setting) -> dict:
        preds = []
        for k in range(args.folds):
            preds += predictions([it for it in items if fold_of[it["pid"]] == k], probs, setting, chosen[k])
        return score(gold, preds)

    probs, chosen = split_run(fold_of)
    what = (
        f"L2 {args.l2}"
        if args.model == "logistic"
        else f"{args.trees} trees of {args.leaves} leaves, depth {args.max_depth or 'any'}, "
        f"learning rate {args.learning_rate}"
    )
    print(
        f"cross-validated learned decision ({args.model}), {args.folds} folds grouped by {args.group}; embeddings "
        f"{'on' if extractor.uses_embeddings else 'off'}; {what}"
        f"{f'; trained on {args.train_fraction:.0%} of the training postings' if args.train_fraction < 1 else ''}"
        f"{'; pairs without lexical evidence get p 0' if args.needs_evidence else ''}; at most {args.max_per_sentence} a "
        f"sentence{', same work at two levels allowed' if args.same_work_levels else ''}; "
        f"features: {', '.join(names)}"
    )
    print(
        " thresholds chosen by inner cross-validation (best F1), per outer fold: "
        + ", ".join(f"{chosen[k]:.2f}" for k in range(args.folds))
    )
    res = extractor.nlp.get_pipe("skillsignal_competencies").statement_vectors  # None without embeddings
    for setting in ("gold", "predicted"):
        print(f" occupation and level: {setting}")
        preds = []
        for it in items:  # the hand-set threshold rule, for comparison (tuned on half A)
            code, level, direction = it["settings"][setting]
            vectors = it.get("vectors") if matcher.rules.max_sentences else None
            stmts, found = matcher._decide_rule(code, level, direction, it["sents"], vectors, res)
            for j, hits in found.items():
                preds += [Prediction(it["pid"], stmts[j].id, p, it["keys"][i], "") for p, i in hits]
        print(line("rule", score(gold, preds)))
        print(line("nested", nested(fold_of, probs, chosen, setting)))
        for t in args.thresholds:
            print(line(f"t {t:.2f}", score(gold, predictions(items, probs, setting, t))))
    if args.splits > 1:  # the same nested figures over further fold splits: how much is the split
        runs = {"gold": [], "predicted": []}
        for n in range(args.splits):
            salt = f"split{n}:" if n else ""
            split = fold_of if n == 0 else assign_folds(ranked, group_of, args.folds, salt)
            split_probs, split_chosen = (probs, chosen) if n == 0 else split_run(split, salt)
            for setting, figs in runs.items():
                figs.append(nested(split, split_probs, split_chosen, setting)["sentence"])
        for setting, figs in runs.items():
            f1 = np.array([f["f1"] for f in figs])
            print(
                f" nested over {args.splits} fold splits, {setting} occupation: mean sentence P "
                f"{np.mean([f['precision'] for f in figs]):.3f} R {np.mean([f['recall'] for f in figs]):.3f} "
                f"F1 {f1.mean():.3f} (sd {f1.std(ddof=1):.3f}; " + ", ".join(f"{v:.3f}" for v in f1) + ")"
            )
    x, y, links = pairs(items)
    model = fit_model(x, y, names, args, args.threshold)
    if model.trees:
        print(
            f" fitted on all {len(items)} postings ({len(y)} pairs, {int(y.sum())} positive): {len(model.trees)} trees, "
            f"{sum(len(t.feature) for t in model.trees)} nodes"
        )
    else:
        print(
            f" fitted on all {len(items)} postings ({len(y)} pairs, {int(y.sum())} positive): intercept "
            f"{model.intercept:.4f}; " + ", ".join(f"{n} {c:.4f}" for n, c in zip(names, model.coef, strict=False))
        )
    if args.write:
        write_model("embedding_model" if model.needs_vectors else "lexical_model", model, len(items), args.folds)
        if {"skill_link", "skill_link_count"} & set(model.features):
            write_links(links, len(items))


def write_model(key: str, model, n_postings: int, folds: int) -> None:
    """``model`` into the rules file under ``key``: a logistic model inline, boosted trees in a JSON
    file beside it (``trees_file``)."""
    head = (
        f"{key}:  # written by benchmarks/bench_competencies.py --cv --write ({n_postings} gold postings, "
        f"threshold from the {folds}-fold cross-validated P/R curve)\n"
        f"  features: [{', '.join(model.features)}]\n"
    )
    if model.trees:
        name = f"competency_{key}_trees.json"
        (RULES.parent / name).write_text(
            json.dumps(
                {"baseline": model.baseline, "trees": [t.model_dump() for t in model.trees]}, separators=(",", ":")
            )
            + "\n",
            encoding="utf-8",
        )
        body = f"  trees_file: {name}  # {len(model.trees)} boosted trees\n"
    else:
        body = f"  coef: [{', '.join(f'{c:.6g}' for c in model.coef)}]\n  intercept: {model.intercept:.6g}\n"
    block = (
        head + body + f"  needs_evidence: {'true' if model.needs_evidence else 'false'}\n"
        f"  threshold: {model.threshold}\n"
        f"  max_per_sentence: {model.max_per_sentence}\n"
        f"  same_work_levels: {'true' if model.same_work_levels else 'false'}\n"
    )
    text = RULES.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{key}:.*\n(?:  .*\n)*", re.M)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    RULES.write_text(text, encoding="utf-8")
    print(f" wrote {key} to {RULES}")


def write_links(links, n_postings: int) -> None:
    """The gold's skill links (counted from every gold posting) beside the rules file, named by
    its ``skill_links_file``."""
    name = "competency_skill_links.json"
    (RULES.parent / name).write_text(
        json.dumps(links.model_dump(), ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
        encoding="utf-8",
    )
    text = RULES.read_text(encoding="utf-8")
    line = f"skill_links_file: {name}  # written by benchmarks/bench_competencies.py --cv --write ({n_postings} gold postings)\n"
    pattern = re.compile(r"^skill_links_file:.*\n", re.M)
    text = pattern.sub(lambda _: line, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + line
    RULES.write_text(text, encoding="utf-8")
    print(f" wrote the skill links of {len(links.sentences)} skills to {RULES.parent / name}")


# ---------------------------------------------------------------------------- coverage


def coverage(args) -> None:
    from nlp.batch import _normalise
    from nlp.extractor import ExtractionError
    from skillsignal.core.records import record_to_posting

    extractor = make_extractor(args)
    rules = extractor.matcher.rules
    core = {code for code, occ in extractor.taxonomy.occupations.items() if occ.core}
    got = total = 0
    own = matched = 0
    batch = []

    def flush():
        nonlocal got, total, own, matched
        for res in extractor.extract_many(batch):
            if isinstance(res, ExtractionError) or res.occupation.code not in core or total >= args.coverage:
                continue
            total += 1
            got += bool(res.competencies)
            matched += len(res.competencies)
            own += sum(c.level == res.level for c in res.competencies)
        batch.clear()

    with args.postings.open(encoding="utf-8") as fh:
        for line in fh:
            if total >= args.coverage:
                break
            batch.append(_normalise(record_to_posting(json.loads(line))))
            if len(batch) == 64:
                flush()
    flush()
    print(
        f"first {total} core-occupation postings of {args.postings.name} (embeddings "
        f"{'on' if extractor.uses_embeddings else 'off'}, max_sentences {rules.max_sentences}, decision "
        f"{rules.decision}): with >= 1 competency {got / max(total, 1):.3f} "
        f"({got}); {matched / max(total, 1):.2f} competencies a posting; at the posting's own level "
        f"{own / max(matched, 1):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--postings", type=Path, default=DEFAULT_POSTINGS)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--embeddings", dest="emb", action="store_true", default=None)
    mode.add_argument("--no-embeddings", dest="emb", action="store_false")
    parser.add_argument("--cv", action="store_true", help="cross-validate the learned decision")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--group",
        choices=["company", "posting"],
        default="company",
        help="keep a company's postings in one fold (default; they share duty templates) or only each posting",
    )
    parser.add_argument(
        "--drop-features", nargs="*", default=[], help="features the learned model leaves out (ablation)"
    )
    parser.add_argument(
        "--splits",
        type=int,
        default=1,
        help="repeat the nested cross-validation over this many fold splits and print the mean (the split's noise)",
    )
    parser.add_argument(
        "--train-fraction",
        type=float,
        default=1.0,
        help="fit each fold's model on this share of its training postings (the learning curve: 0.5, 0.75, 1)",
    )
    parser.add_argument(
        "--thresholds",
        type=float,
        nargs="+",
        default=[0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8],
    )
    parser.add_argument("--threshold", type=float, default=0.5, help="threshold stored by --write")
    parser.add_argument(
        "--max-per-sentence", type=int, default=3, help="statements a sentence may get (the guideline: up to 3)"
    )
    parser.add_argument("--write", action="store_true")
    parser.add_argument(
        "--features",
        choices=["base", "extended", "lexical"],
        default="extended",
        help="the learned model's features (see feature_names)",
    )
    parser.add_argument("--l2", type=float, default=L2, help="logistic: ridge on the standardised features")
    parser.add_argument("--model", choices=["logistic", "trees"], default="trees")
    parser.add_argument("--trees", type=int, default=100, help="trees: how many")
    parser.add_argument("--leaves", type=int, default=8, help="trees: most leaves a tree")
    parser.add_argument("--learning-rate", type=float, default=0.1, help="trees: shrinkage")
    parser.add_argument("--max-depth", type=int, default=3, help="trees: greatest depth (None: leaves decide)")
    parser.add_argument(
        "--needs-evidence",
        action="store_true",
        help="pairs without lexical evidence get p 0 (and are left out of training)",
    )
    parser.add_argument(
        "--any-level-first",
        action="store_true",
        help="measure without the level rule on equal evidence (CompetencyMatcher.own_level_first)",
    )
    parser.add_argument(
        "--same-work-levels", action="store_true", help="let one sentence get the same work content at two levels"
    )
    parser.add_argument("--coverage", type=int, default=0)
    parser.add_argument("--decision", choices=["rule", "learned"], help="override the rules' decision")
    parser.add_argument("--max-sentences", type=int, help="override the rules' max_sentences")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.coverage:
        coverage(args)
        return
    gold = gold_sentences(args.gold)
    records = attach_texts(gold, args.postings)
    by_post = defaultdict(list)
    for g in gold:
        by_post[g.key[0]].append(g)
    if args.cv:
        if args.emb is None:
            args.emb = False
        cross_validate(args, gold, records, by_post)
    else:
        run_extractor(args, gold, records, by_post)


if __name__ == "__main__":
    main()
