"""Print the gold set's postings for labelling: numbered sentences next to the occupation's statements.

    PYTHONPATH=. python -m nlp.eval.show --occupation 2-02-38-01      # statements, then its postings
    PYTHONPATH=. python -m nlp.eval.show --posting 51job-9ab09adb6e67 # one posting's sentences
    PYTHONPATH=. python -m nlp.eval.show --titles                     # id, occupation, level, title

Texts are read from ``../shared`` (``--postings``); nothing is written. This is a reading aid
for annotators; it never runs the extractor or the competency matcher.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nlp.eval.data import DEFAULT_POSTINGS, DEFAULT_SENTENCES, load_postings, load_sentences
from skill_taxonomy import default_taxonomy


def statement_lines(code: str) -> list[str]:
    occ = default_taxonomy().occupations.get(code)
    if occ is None:
        return [f"== {code}: not a core occupation (a look-alike posting): no statement applies"]
    out = [f"== {code} {occ.name_zh}: {occ.definition}"]
    for level, comps in occ.levels.items():
        for c in comps:
            d = f" [{c.direction}]" if c.direction else ""
            out.append(f"  {c.id:14s} {level} {c.work_content}{d}: {c.text}")
    return out


def posting_lines(pid: str, rows: list[dict], texts: dict[str, dict]) -> list[str]:
    rec = texts[pid]
    head = rows[0]
    out = [f"## {pid} | {head['occupation']} {head['level']} | {rec.get('title')}"]
    desc = rec.get("description") or ""
    for r in rows:
        out.append(f"  [{r['sid']:2d}] ({r['section'][:3]}) {desc[r['start'] : r['end']]}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=Path, default=DEFAULT_SENTENCES)
    parser.add_argument("--postings", type=Path, default=DEFAULT_POSTINGS)
    parser.add_argument("--occupation")
    parser.add_argument("--posting")
    parser.add_argument("--titles", action="store_true")
    parser.add_argument("--no-statements", action="store_true")
    args = parser.parse_args(argv)
    rows = load_sentences(args.sentences)
    by_post: dict[str, list[dict]] = {}
    for r in rows:
        by_post.setdefault(r["posting_id"], []).append(r)
    texts = load_postings(args.postings, set(by_post))
    lines: list[str] = []
    if args.titles:
        for pid, rs in by_post.items():
            rec = texts[pid]
            lines.append(
                f"{pid} {rs[0]['occupation']} {rs[0]['level']} | {rec.get('title')} | "
                f"{(rec.get('description') or '')[:160]!r}"
            )
    if args.occupation:
        if not args.no_statements:
            lines += statement_lines(args.occupation)
        for pid, rs in by_post.items():
            if rs[0]["occupation"] == args.occupation:
                lines += posting_lines(pid, rs, texts)
    if args.posting:
        lines += posting_lines(args.posting, by_post[args.posting], texts)
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
