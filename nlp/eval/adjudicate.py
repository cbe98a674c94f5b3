"""Adjudicate two independent labelling passes of the competency gold set.

    PYTHONPATH=. python -m nlp.eval.adjudicate show A B [--occupation CODE]   # the disagreements, with texts
    PYTHONPATH=. python -m nlp.eval.adjudicate merge A B DECISIONS --out GOLD  # agreed labels + decisions

Two passes disagree on a sentence when their label sets or ``excluded`` differ (the order of the
labels is not compared). ``show`` prints each such sentence with both passes' labels and the
statements they name; it never runs the extractor or the matcher, so the adjudicator sees only
the annotators' labels. ``merge`` writes a gold file of every sentence: where the passes agree,
pass A's row; where they disagree, the adjudicator's decision from DECISIONS, written in the
annotate notation (``POSTING_ID SID:ID,ID SID:x SID: ...``; ``SID:`` is an explicit ``[]``;
``#`` starts a comment, e.g. the reason). Every disagreement must be decided, and only
disagreements may be: anything else is an error that names the sentences.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nlp.eval.annotate import parse_line, sentences_by_posting
from nlp.eval.data import DEFAULT_POSTINGS, DEFAULT_SENTENCES, load_gold, load_postings, load_sentences, write_gold
from skill_taxonomy import default_taxonomy

SentenceKey = tuple[str, int]  # posting id, sid


def _by_key(rows: list[dict]) -> dict[SentenceKey, dict]:
    return {(r["posting_id"], r["sid"]): r for r in rows}


def disagreements(pass_a: list[dict], pass_b: list[dict]) -> list[SentenceKey]:
    """The sentences both passes hold on which their label sets or exclusions differ, in A's order."""
    b = _by_key(pass_b)
    out = []
    for row in pass_a:
        other = b.get((row["posting_id"], row["sid"]))
        if other is None:
            continue
        if (row["start"], row["end"]) != (other["start"], other["end"]):
            raise ValueError(f"{row['posting_id']} [{row['sid']}]: the passes give different offsets")
        if set(row["labels"]) != set(other["labels"]) or row["excluded"] != other["excluded"]:
            out.append((row["posting_id"], row["sid"]))
    return out


def read_decisions(lines, sentences: list[dict]) -> dict[SentenceKey, tuple[list[str], bool]]:
    by_post = sentences_by_posting(sentences)
    out: dict[SentenceKey, tuple[list[str], bool]] = {}
    for raw in lines:
        parsed = parse_line(raw, by_post)
        if parsed is None:
            continue
        pid, given = parsed
        for sid, decision in given.items():
            if (pid, sid) in out:
                raise ValueError(f"{pid} [{sid}]: decided twice")
            out[(pid, sid)] = decision
    return out


def merge(pass_a: list[dict], pass_b: list[dict], decisions: dict[SentenceKey, tuple[list[str], bool]]) -> list[dict]:
    """Pass A's rows where the passes agree, the decision where they disagree."""
    if len(pass_a) != len(pass_b) or set(_by_key(pass_a)) != set(_by_key(pass_b)):
        raise ValueError("the two passes must label the same sentences")
    disputed = disagreements(pass_a, pass_b)
    undecided = [k for k in disputed if k not in decisions]
    if undecided:
        raise ValueError(f"{len(undecided)} disagreements not decided, e.g. {undecided[:5]}")
    extra = sorted(set(decisions) - set(disputed))
    if extra:
        raise ValueError(f"decisions for sentences the passes agree on: {extra[:5]}")
    out = []
    for row in pass_a:
        key = (row["posting_id"], row["sid"])
        if key in decisions:
            labels, excluded = decisions[key]
            row = {**row, "labels": labels, "excluded": excluded}
        out.append(row)
    return out


def _label_text(row: dict) -> str:
    return "excluded" if row["excluded"] else (",".join(row["labels"]) or "[]")


def show(
    pass_a: list[dict], pass_b: list[dict], sentences: list[dict], texts: dict[str, dict], occupation: str | None
) -> list[str]:
    tax = default_taxonomy()
    meta = {(r["posting_id"], r["sid"]): r for r in sentences}
    a, b = _by_key(pass_a), _by_key(pass_b)
    lines: list[str] = []
    for key in disagreements(pass_a, pass_b):
        m = meta[key]
        if occupation and m["occupation"] != occupation:
            continue
        occ = tax.occupations.get(m["occupation"])
        statements = {c.id: (level, c) for level, cs in occ.levels.items() for c in cs} if occ else {}
        desc = texts[key[0]].get("description") or ""
        lines.append(f"## {key[0]} [{key[1]}] | {m['occupation']} {m['level']} | {texts[key[0]].get('title')}")
        lines.append(f"   {desc[m['start'] : m['end']]}")
        lines.append(f"   A: {_label_text(a[key])}")
        lines.append(f"   B: {_label_text(b[key])}")
        for sid in dict.fromkeys(a[key]["labels"] + b[key]["labels"]):
            level, c = statements[sid]
            lines.append(f"     {sid:14s} {level} {c.work_content}: {c.text}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_show = sub.add_parser("show", help="print the sentences the two passes disagree on")
    p_merge = sub.add_parser("merge", help="write the adjudicated gold file")
    for p in (p_show, p_merge):
        p.add_argument("pass_a", type=Path, help="first pass (its rows are kept where the passes agree)")
        p.add_argument("pass_b", type=Path, help="second, independent pass")
        p.add_argument("--sentences", type=Path, default=DEFAULT_SENTENCES)
    p_show.add_argument("--postings", type=Path, default=DEFAULT_POSTINGS)
    p_show.add_argument("--occupation", help="only this occupation's sentences")
    p_merge.add_argument("decisions", type=Path, help="the adjudicator's decisions, annotate notation")
    p_merge.add_argument("--out", type=Path, required=True, help="gold file to write")
    args = parser.parse_args(argv)
    sentences = load_sentences(args.sentences)
    pass_a, pass_b = load_gold(args.pass_a), load_gold(args.pass_b)
    try:
        if args.command == "show":
            texts = load_postings(args.postings, {r["posting_id"] for r in sentences})
            sys.stdout.write("\n".join(show(pass_a, pass_b, sentences, texts, args.occupation)) + "\n")
            return 0
        with args.decisions.open(encoding="utf-8") as fh:
            decisions = read_decisions(fh, sentences)
        merged = merge(pass_a, pass_b, decisions)  # refuses unless the decisions are exactly the disagreements
    except ValueError as exc:
        parser.exit(2, f"adjudicate: {exc}\n")
    write_gold(args.out, merged)
    sys.stderr.write(f"{len(merged)} sentences in {args.out}, {len(decisions)} decided by adjudication\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
