"""Score competency predictions against the competency gold set (see COMPETENCY_GUIDELINE.md).

    PYTHONPATH=. python -m nlp.eval.score_competencies GOLD PRED [--json]
    PYTHONPATH=. python -m nlp.eval.score_competencies --run [--no-embeddings] [--save PRED] [--json]
    PYTHONPATH=. python -m nlp.eval.score_competencies --agreement GOLD_A GOLD_B [--json]

PRED lines are either sentence-level ``{posting_id, start, end, statement, score}`` or the
extractor's result lines ``{id, competencies: [{id, score, evidence}, ...]}`` (what
``skillsignal extract`` writes); an extractor match is placed on the gold sentence whose cleaned
text overlaps its evidence most. ``--run`` extracts the gold postings with the project's
extractor (settings' embedding choice) and scores that.

Printed: sentence-level precision / recall / F1 (micro over (sentence, statement) pairs of the
non-excluded sentences), top-1 accuracy (gold sentences with >= 1 label whose best-scored
prediction is a gold label), posting-level P / R / F1 over (posting, statement) pairs,
coverage (postings with >= 1 prediction; with >= 1 gold label), by occupation and by level.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from nlp.batch import _normalise
from nlp.cleaning import clean_text
from nlp.eval.data import DEFAULT_GOLD, DEFAULT_POSTINGS, DEFAULT_SENTENCES, load_gold, load_postings, load_sentences
from nlp.extractor import ExtractionError, Extractor
from skill_taxonomy import default_taxonomy
from skillsignal.core.config import get_settings
from skillsignal.core.records import record_to_posting
from skillsignal.core.text import normalize_term

log = logging.getLogger(__name__)

#: An evidence text is placed on a sentence when their longest common run covers at least this
#: share of the (normalised) evidence.
MIN_OVERLAP = 0.5

Key = tuple[str, int, int]  # posting id, start, end


@dataclass
class GoldSentence:
    key: Key
    labels: list[str]
    excluded: bool
    occupation: str = ""
    level: str = ""
    text: str = ""  # raw text (joined from ../shared), only needed to place evidence


@dataclass
class Prediction:
    posting_id: str
    statement: str
    score: float
    key: Key | None = None  # the gold sentence it sits on (None: no scored sentence)
    evidence: str | None = None


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def prf(self) -> dict[str, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


# ---------------------------------------------------------------------------- loading


def gold_sentences(gold_path: Path, sentences_path: Path = DEFAULT_SENTENCES) -> list[GoldSentence]:
    """Gold rows joined with the sentence file's occupation and level."""
    meta = {(r["posting_id"], r["start"], r["end"]): r for r in load_sentences(sentences_path)}
    out = []
    for row in load_gold(gold_path):
        key = (row["posting_id"], int(row["start"]), int(row["end"]))
        m = meta.get(key, {})
        out.append(
            GoldSentence(
                key=key,
                labels=list(row.get("labels") or []),
                excluded=bool(row.get("excluded")),
                occupation=m.get("occupation", ""),
                level=m.get("level", ""),
            )
        )
    return out


def attach_texts(gold: list[GoldSentence], postings_path: Path = DEFAULT_POSTINGS) -> dict[str, dict]:
    records = load_postings(postings_path, {g.key[0] for g in gold})
    for g in gold:
        desc = (records.get(g.key[0]) or {}).get("description") or ""
        g.text = desc[g.key[1] : g.key[2]]
    return records


def _clean_norm(text: str) -> str:
    return normalize_term(clean_text(text))


def place(evidence: str, candidates: list[GoldSentence], cache: dict[Key, str]) -> Key | None:
    """The gold sentence (of one posting) whose cleaned text overlaps ``evidence`` most."""
    ev = normalize_term(evidence)
    if not ev:
        return None
    best_key, best = None, 0
    for g in candidates:
        text = cache.get(g.key)
        if text is None:
            text = cache[g.key] = _clean_norm(g.text)
        if ev in text:
            size = len(ev)
        else:
            m = SequenceMatcher(None, ev, text, autojunk=False).find_longest_match(0, len(ev), 0, len(text))
            size = m.size
        if size > best:
            best_key, best = g.key, size
    return best_key if best >= MIN_OVERLAP * len(ev) else None


def load_predictions(path: Path, gold: list[GoldSentence]) -> list[Prediction]:
    rows = [json.loads(line) for line in Path(path).open(encoding="utf-8") if line.strip()]
    return predictions_from_rows(rows, gold)


def predictions_from_rows(rows: list[dict], gold: list[GoldSentence]) -> list[Prediction]:
    by_post: dict[str, list[GoldSentence]] = defaultdict(list)
    for g in gold:
        by_post[g.key[0]].append(g)
    cache: dict[Key, str] = {}
    out: list[Prediction] = []
    for row in rows:
        if "competencies" in row:  # extractor result line
            pid = row.get("id")
            if pid not in by_post:
                continue
            if any(not g.text for g in by_post[pid]):
                raise ValueError("extractor predictions need the posting texts (attach_texts)")
            for comp in row.get("competencies") or []:
                # every sentence the extractor names as evidence for the statement is one prediction
                spans = comp.get("sentences") or [{"text": comp.get("evidence"), "score": comp.get("score")}]
                for span in spans:
                    text = span.get("text") or ""
                    score = float(span.get("score") or comp.get("score") or 0.0)
                    out.append(Prediction(pid, comp["id"], score, place(text, by_post[pid], cache), text))
        elif "statement" in row:  # sentence-level line
            pid = row["posting_id"]
            if pid not in by_post:
                continue
            key = (pid, int(row["start"]), int(row["end"]))
            known = {g.key for g in by_post[pid]}
            out.append(Prediction(pid, row["statement"], float(row.get("score") or 0.0), key if key in known else None))
        elif "error" in row:
            continue
        else:
            raise ValueError(f"unknown prediction line: {sorted(row)}")
    return out


# ---------------------------------------------------------------------------- scoring


def score(gold: list[GoldSentence], preds: list[Prediction]) -> dict:
    """All figures for one gold file and one set of predictions (see the module doc)."""
    scored = {g.key: g for g in gold if not g.excluded}
    postings = sorted({g.key[0] for g in gold})
    occ_of = {g.key[0]: g.occupation for g in gold}
    level_of = {g.key[0]: g.level for g in gold}

    # sentence level: (sentence, statement) pairs; a prediction off every scored sentence is a FP
    pred_pairs: set[tuple[Key, str]] = set()
    stray: list[Prediction] = []
    for p in preds:
        if p.key is not None and p.key in scored:
            pred_pairs.add((p.key, p.statement))
        else:
            stray.append(p)
    gold_pairs = {(k, s) for k, g in scored.items() for s in g.labels}
    by_occ: dict[str, Counts] = defaultdict(Counts)
    by_level: dict[str, Counts] = defaultdict(Counts)
    total = Counts()
    for pair in gold_pairs | pred_pairs:
        c = Counts(
            tp=int(pair in gold_pairs and pair in pred_pairs),
            fp=int(pair not in gold_pairs),
            fn=int(pair not in pred_pairs),
        )
        pid = pair[0][0]
        total.add(c)
        by_occ[occ_of[pid]].add(c)
        by_level[level_of[pid]].add(c)
    for p in stray:
        c = Counts(fp=1)
        total.add(c)
        by_occ[occ_of.get(p.posting_id, "")].add(c)
        by_level[level_of.get(p.posting_id, "")].add(c)

    # top-1: the best-scored prediction placed on each labelled gold sentence
    best: dict[Key, Prediction] = {}
    for p in preds:
        if p.key in scored and (p.key not in best or p.score > best[p.key].score):
            best[p.key] = p
    labelled = [g for g in scored.values() if g.labels]
    top1_hits = sum(1 for g in labelled if g.key in best and best[g.key].statement in g.labels)

    # posting level
    gold_post = {(k[0], s) for k, g in scored.items() for s in g.labels}
    pred_post = {(p.posting_id, p.statement) for p in preds}
    post = Counts(tp=len(gold_post & pred_post), fp=len(pred_post - gold_post), fn=len(gold_post - pred_post))
    with_pred = {p.posting_id for p in preds}
    with_gold = {pid for pid, _ in gold_post}

    return {
        "sentences": len(scored),
        "sentences_labelled": len(labelled),
        "postings": len(postings),
        "sentence": total.prf(),
        "top1": {
            "accuracy": round(top1_hits / len(labelled), 4) if labelled else 0.0,
            "hits": top1_hits,
            "of": len(labelled),
        },
        "posting": post.prf(),
        "coverage": {
            "predicted": round(len(with_pred & set(postings)) / len(postings), 4) if postings else 0.0,
            "gold": round(len(with_gold) / len(postings), 4) if postings else 0.0,
        },
        "unplaced_predictions": len(stray),
        "by_occupation": {k: v.prf() for k, v in sorted(by_occ.items())},
        "by_level": {k: v.prf() for k, v in sorted(by_level.items())},
    }


# ---------------------------------------------------------------------------- agreement


def _kappa(a: list[bool], b: list[bool]) -> float:
    n = len(a)
    if not n:
        return 0.0
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return round((po - pe) / (1 - pe), 4) if pe < 1 else 1.0


def agreement(gold_a: list[GoldSentence], gold_b: list[GoldSentence], statements_of) -> dict:
    """Inter-annotator figures over the sentences both files hold (``statements_of(code)``
    lists an occupation's statement ids, for the per-pair kappa)."""
    a = {g.key: g for g in gold_a}
    b = {g.key: g for g in gold_b}
    shared = sorted(a.keys() & b.keys())
    both = [k for k in shared if not a[k].excluded and not b[k].excluded]
    pairs_a = {(k, s) for k in both for s in a[k].labels}
    pairs_b = {(k, s) for k in both for s in b[k].labels}
    c = Counts(tp=len(pairs_a & pairs_b), fp=len(pairs_b - pairs_a), fn=len(pairs_a - pairs_b))
    dec_a: list[bool] = []
    dec_b: list[bool] = []
    for k in both:
        for s in statements_of(a[k].occupation):
            dec_a.append(s in a[k].labels)
            dec_b.append(s in b[k].labels)
    has_a = [bool(a[k].labels) for k in both]
    has_b = [bool(b[k].labels) for k in both]
    first_a = [k for k in both if a[k].labels]
    return {
        "shared_sentences": len(shared),
        "scored_sentences": len(both),
        "postings": len({k[0] for k in shared}),
        "f1": c.prf(),
        "exact_match": round(sum(set(a[k].labels) == set(b[k].labels) for k in both) / len(both), 4) if both else 0.0,
        "top1_in_other": round(sum(a[k].labels[0] in b[k].labels for k in first_a) / len(first_a), 4)
        if first_a
        else 0.0,
        "kappa_pairs": _kappa(dec_a, dec_b),
        "kappa_has_label": _kappa(has_a, has_b),
        "excluded_agreement": round(sum(a[k].excluded == b[k].excluded for k in shared) / len(shared), 4)
        if shared
        else 0.0,
    }


def _statements_of():
    tax = default_taxonomy()
    cache: dict[str, list[str]] = {}

    def of(code: str) -> list[str]:
        if code not in cache:
            occ = tax.occupations.get(code)
            cache[code] = [c.id for cs in occ.levels.values() for c in cs] if occ else []
        return cache[code]

    return of


# ---------------------------------------------------------------------------- running the extractor


def run_extractor(gold: list[GoldSentence], records: dict[str, dict], use_embeddings: bool | None) -> list[dict]:
    """Extractor result lines ``{id, competencies}`` for the gold postings."""
    extractor = Extractor.from_settings(get_settings(), use_embeddings=use_embeddings)
    log.info("extractor: embeddings %s", "on" if extractor.uses_embeddings else "off")
    ids = list(dict.fromkeys(g.key[0] for g in gold))
    postings = [_normalise(record_to_posting(records[pid])) for pid in ids]
    rows: list[dict[str, Any]] = []
    for posting, result in zip(postings, extractor.extract_many(postings), strict=True):
        if isinstance(result, ExtractionError):
            rows.append({"id": posting.id, "error": str(result)})
            continue
        rows.append(
            {
                "id": posting.id,
                "occupation": result.occupation.code,
                "level": result.level,
                "competencies": [c.model_dump(mode="json") for c in result.competencies],
            }
        )
    return rows


# ---------------------------------------------------------------------------- printing


def _line(name: str, prf: dict) -> str:
    return (
        f"  {name:<14} P {prf['precision']:.3f}  R {prf['recall']:.3f}  F1 {prf['f1']:.3f}  "
        f"(tp {prf['tp']}, fp {prf['fp']}, fn {prf['fn']})"
    )


def report(fig: dict) -> str:
    out = [
        f"competency gold: {fig['postings']} postings, {fig['sentences']} scored sentences "
        f"({fig['sentences_labelled']} with >= 1 label)",
        _line("sentence", fig["sentence"]),
        f"  top-1 accuracy {fig['top1']['accuracy']:.3f} ({fig['top1']['hits']} of {fig['top1']['of']})",
        _line("posting", fig["posting"]),
        f"  coverage       predicted {fig['coverage']['predicted']:.3f}  gold {fig['coverage']['gold']:.3f}",
        f"  predictions placed on no scored sentence: {fig['unplaced_predictions']}",
        "by occupation (sentence level):",
    ]
    out += [_line(k, v) for k, v in fig["by_occupation"].items()]
    out.append("by level (sentence level):")
    out += [_line(k, v) for k, v in fig["by_level"].items()]
    return "\n".join(out)


def agreement_report(fig: dict) -> str:
    return "\n".join(
        [
            f"agreement over {fig['shared_sentences']} shared sentences "
            f"({fig['scored_sentences']} excluded by neither) of {fig['postings']} postings",
            _line("F1 (B vs A)", fig["f1"]),
            f"  exact match    {fig['exact_match']:.3f}",
            f"  A's first label among B's  {fig['top1_in_other']:.3f}",
            f"  kappa (sentence x statement decisions) {fig['kappa_pairs']:.3f}",
            f"  kappa (sentence has >= 1 label)        {fig['kappa_has_label']:.3f}",
            f"  agreement on excluded      {fig['excluded_agreement']:.3f}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="GOLD PRED, or GOLD_A GOLD_B with --agreement")
    parser.add_argument("--run", action="store_true", help="run the project's extractor over the gold postings")
    parser.add_argument("--no-embeddings", action="store_true", help="with --run: extract without the embedding model")
    parser.add_argument("--save", type=Path, help="with --run: write the extractor's result lines here")
    parser.add_argument("--agreement", action="store_true")
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold file for --run")
    parser.add_argument("--sentences", type=Path, default=DEFAULT_SENTENCES)
    parser.add_argument("--postings", type=Path, default=DEFAULT_POSTINGS)
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    if args.agreement:
        if len(args.files) != 2:
            parser.error("--agreement needs GOLD_A GOLD_B")
        fig = agreement(
            gold_sentences(args.files[0], args.sentences),
            gold_sentences(args.files[1], args.sentences),
            _statements_of(),
        )
        print(json.dumps(fig, ensure_ascii=False) if args.json else agreement_report(fig))
        return 0

    if args.run:
        gold_path = args.files[0] if args.files else args.gold
        gold = gold_sentences(gold_path, args.sentences)
        records = attach_texts(gold, args.postings)
        rows = run_extractor(gold, records, False if args.no_embeddings else None)
        if args.save:
            with args.save.open("w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        preds = predictions_from_rows(rows, gold)
    else:
        if len(args.files) != 2:
            parser.error("give GOLD PRED (or --run, or --agreement GOLD_A GOLD_B)")
        gold = gold_sentences(args.files[0], args.sentences)
        attach_texts(gold, args.postings)
        preds = load_predictions(args.files[1], gold)
    fig = score(gold, preds)
    print(json.dumps(fig, ensure_ascii=False) if args.json else report(fig))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
