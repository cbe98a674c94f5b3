"""Build ``skill_taxonomy/data/skills/<domain>.yaml`` from the curated lists in ``tools/curated``.

Not used at run time: the YAML files it writes are the taxonomy's data (checked by the validator);
this script only saves typing. Edit ``tools/curated/<domain>.txt`` and re-run::

    python -m skill_taxonomy.tools.build_skills            # writes data/skills/*.yaml
    python -m skill_taxonomy.tools.build_skills --check    # fails if the YAML is out of date

Curated line format (one skill a line; ``#`` starts a comment line; `` ## `` starts a note that is
written as a YAML comment above the skill)::

    name_en | name_zh | type | aliases, comma, separated | links | flags  ## note

* ``type``: language/lang, framework/fw, tool, database/db, protocol/proto, method, knowledge/know.
* ``links``: space-separated ``occ[/direction-tag][:weight]``; ``occ`` is a short name (``ai``,
  ``bd`` ... see ``OCC``) or a code. Empty: the file's ``@links`` default. ``+`` first: default plus these.
  Direction tags are mapped to the occupation files' direction ids by ``DIRECTIONS`` (unknown tags
  are dropped with a warning, so the data never names a direction that does not exist).
* ``@dir occ/direction ...``: following skills' links to ``occ`` get that direction (``@dir -`` ends it).
* ``flags``: ``id=<id>`` (else the slug of name_en), ``amb`` (ambiguous), ``ctx`` (context required
  for every form) or ``ctx=Go,golang`` (for those forms).

Every skill's aliases also get a few mechanical spelling variants (``Vue.js`` -> ``VueJS``,
``Spring Boot`` -> ``spring-boot``); a variant that would clash with another skill is left out.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from skillsignal.core.text import normalize_term

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
CURATED = HERE / "curated"
OUT = HERE.parent / "data" / "skills"
OCC_DIR = HERE.parent / "data" / "occupations"

OCC = {
    "ai": "2-02-38-01",
    "iot": "2-02-38-02",
    "bd": "2-02-38-03",
    "cloud": "2-02-38-04",
    "im": "2-02-38-05",
    "iiot": "2-02-38-06",
    "vr": "2-02-38-07",
    "bc": "2-02-38-08",
    "ic": "2-02-38-09",
    "dsec": "2-02-38-12",
    "dm": "2-06-07-13",
    "sw": "2-02-10-03",
    "emb": "2-02-10-06",
    "sec": "2-02-10-07",
    "ops": "2-02-10-08",
    "da": "2-02-30-09",
}
TYPES = {
    "language": "language",
    "lang": "language",
    "framework": "framework",
    "fw": "framework",
    "tool": "tool",
    "database": "database",
    "db": "database",
    "protocol": "protocol",
    "proto": "protocol",
    "method": "method",
    "knowledge": "knowledge",
    "know": "knowledge",
}
#: curated direction tag -> candidate direction ids (the first that the occupation file has wins)
DIRECTIONS: dict[str, tuple[str, ...]] = {}
ID_CHARS = re.compile(r"[^a-z0-9_.+#-]+")


def slug(name: str) -> str:
    s = ID_CHARS.sub("-", name.strip().lower().replace(" ", "-")).strip("-")
    return re.sub(r"-{2,}", "-", s)


@dataclass
class Entry:
    domain: str
    line_no: int
    id: str
    name_en: str
    name_zh: str
    type: str
    aliases: list[str]
    links: list[tuple[str, str | None, float]]
    ambiguous: bool = False
    context_required: bool = False
    context_aliases: list[str] = field(default_factory=list)
    note: str = ""
    variants: list[str] = field(default_factory=list)


def parse_links(text: str, where: str) -> list[tuple[str, str | None, float]]:
    links = []
    for tok in text.split():
        weight = 1.0
        if ":" in tok:
            tok, w = tok.rsplit(":", 1)
            weight = float(w)
        occ, _, tag = tok.partition("/")
        code = OCC.get(occ, occ)
        if not re.fullmatch(r"\d-\d\d-\d\d-\d\d", code):
            raise SystemExit(f"{where}: unknown occupation {occ!r}")
        links.append((code, tag or None, weight))
    return links


def parse_file(path: Path) -> list[Entry]:
    domain = path.stem
    default_links: list[tuple[str, str | None, float]] = []
    section_dirs: dict[str, str] = {}  # set by "@dir occ/direction ..." lines, "@dir -" clears
    entries = []
    for no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        where = f"{path.name}:{no}"
        if not line or line.startswith("#"):
            continue
        if line.startswith("@links"):
            default_links = parse_links(line[len("@links") :], where)
            continue
        if line.startswith("@dir"):
            section_dirs = parse_dirs(line[len("@dir") :])
            continue
        line, _, note = line.partition(" ## ")
        cols = [c.strip() for c in line.split("|")]
        cols += [""] * (6 - len(cols))
        if len(cols) > 6:
            raise SystemExit(f"{where}: too many columns")
        name_en, name_zh, typ, aliases, links, flags = cols
        if not name_en or typ not in TYPES:
            raise SystemExit(f"{where}: need name_en and a type, got {cols!r}")
        entry = Entry(
            domain=domain,
            line_no=no,
            id=slug(name_en),
            name_en=name_en,
            name_zh=name_zh or name_en,
            type=TYPES[typ],
            aliases=[a.strip() for a in aliases.split(",") if a.strip()],
            links=default_links,
            note=note.strip(),
        )
        if links.startswith("+"):
            entry.links = default_links + parse_links(links[1:], where)
        elif links:
            entry.links = parse_links(links, where)
        entry.links = [(c, t or section_dirs.get(c), w) for c, t, w in entry.links]
        apply_flags(entry, flags, where)
        entries.append(entry)
    return entries


def parse_dirs(arg: str) -> dict[str, str]:
    """``@dir occ/direction ...``: the direction each occupation's links take; ``@dir -`` clears."""
    dirs = {}
    for tok in arg.split():
        if tok != "-" and not tok.endswith("/-"):
            occ, _, tag = tok.partition("/")
            dirs[OCC.get(occ, occ)] = tag
    return dirs


def apply_flags(entry: Entry, flags: str, where: str) -> None:
    for flag in flags.split():
        if flag.startswith("id="):
            entry.id = flag[3:]
        elif flag == "amb":
            entry.ambiguous = True
        elif flag == "ctx":
            entry.context_required = True
        elif flag.startswith("ctx="):
            entry.context_required = True
            entry.context_aliases = flag[4:].split(",")
        else:
            raise SystemExit(f"{where}: unknown flag {flag!r}")


def variants(entry: Entry) -> list[str]:
    """Mechanical spellings of the name: ``Vue.js`` -> ``VueJS``; ``Spring Boot`` -> ``spring-boot``."""
    out = []
    for form in [entry.name_en, *entry.aliases]:
        if re.search(r"[A-Za-z]\.js$", form, re.I):
            out.append(form[:-3] + "JS")
        if " " in form.strip() and re.fullmatch(r"[A-Za-z0-9 .+#]+", form):
            out.append(form.strip().replace(" ", "-"))
    return out


def occupation_directions() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(OCC_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found[str(data.get("code"))] = {d["id"] for d in data.get("directions") or []}
    return found


def resolve_links(entry: Entry, occs: dict[str, set[str]]) -> list[dict]:
    out: dict[str, dict] = {}
    for code, tag, weight in entry.links:
        direction = None
        if tag is not None:
            dirs = occs.get(code, set())
            for cand in (*DIRECTIONS.get(tag, ()), tag):
                if cand in dirs:
                    direction = cand
                    break
            else:
                if occs:
                    log.warning("%s: direction tag %r not in %s", entry.id, tag, code)
        link = {"occupation": code, "weight": weight}
        if direction:
            link["direction"] = direction
        key = f"{code}/{direction}"
        if key not in out or out[key]["weight"] < weight:
            out[key] = link
    return list(out.values())


def check_and_finish(entries: list[Entry]) -> list[str]:
    errors = []
    ids: dict[str, Entry] = {}
    for e in entries:
        if e.id in ids:
            errors.append(f"{e.domain}:{e.line_no}: id {e.id!r} also at {ids[e.id].domain}:{ids[e.id].line_no}")
        ids[e.id] = e
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.+#-]*", e.id):
            errors.append(f"{e.domain}:{e.line_no}: bad id {e.id!r}")
    owners: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        for form in [e.name_en, e.name_zh, *e.aliases]:
            owners[normalize_term(form)].add(e.id)
    for key, who in owners.items():
        if len(who) > 1 and not all(ids[i].ambiguous for i in who):
            errors.append(f"surface {key!r} shared by {sorted(who)} (mark both amb)")
    for e in entries:
        own = {normalize_term(f) for f in [e.name_en, e.name_zh, *e.aliases]}
        for v in variants(e):
            k = normalize_term(v)
            if k not in own and k not in owners:
                e.variants.append(v)
                own.add(k)
                owners[k].add(e.id)
        # drop aliases that only repeat the name
        seen = {normalize_term(e.name_en), normalize_term(e.name_zh)}
        kept = []
        for a in e.aliases:
            if normalize_term(a) not in seen:
                kept.append(a)
                seen.add(normalize_term(a))
        e.aliases = kept
    return errors


def q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def render(domain: str, entries: list[Entry], occs: dict[str, set[str]]) -> str:
    lines = [
        f"# Skills of the {domain} domain. Generated by skill_taxonomy/tools/build_skills.py from",
        f"# skill_taxonomy/tools/curated/{domain}.txt: edit that list and re-run the script.",
        "skills:",
    ]
    for e in entries:
        if e.note:
            lines.append(f"# {e.id}: {e.note}")
        lines.append(f"- id: {q(e.id)}")
        lines.append(f"  name_zh: {q(e.name_zh)}")
        lines.append(f"  name_en: {q(e.name_en)}")
        lines.append(f"  type: {e.type}")
        aliases = e.aliases + e.variants
        if aliases:
            lines.append("  aliases: [" + ", ".join(q(a) for a in aliases) + "]")
        if e.ambiguous:
            lines.append("  ambiguous: true")
        if e.context_required:
            lines.append("  context_required: true")
        if e.context_aliases:
            lines.append("  context_aliases: [" + ", ".join(q(a) for a in e.context_aliases) + "]")
        links = resolve_links(e, occs)
        if links:
            lines.append("  occupations:")
            for link in links:
                parts = [f"occupation: {q(link['occupation'])}"]
                if "direction" in link:
                    parts.append(f"direction: {q(link['direction'])}")
                parts.append(f"weight: {link['weight']:g}")
                lines.append("  - {" + ", ".join(parts) + "}")
    return "\n".join(lines) + "\n"


def build(check: bool = False) -> int:
    files = sorted(CURATED.glob("*.txt"))
    entries = [e for f in files for e in parse_file(f)]
    errors = check_and_finish(entries)
    if errors:
        for err in errors:
            log.error(err)
        return 1
    occs = occupation_directions()
    OUT.mkdir(parents=True, exist_ok=True)
    stale = 0
    for f in files:
        text = render(f.stem, [e for e in entries if e.domain == f.stem], occs)
        target = OUT / f"{f.stem}.yaml"
        if check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                log.error("%s is out of date", target)
                stale += 1
        else:
            target.write_text(text, encoding="utf-8")
    n_alias = sum(len(e.aliases) + len(e.variants) for e in entries)
    log.info("%d skills, %d aliases in %d files", len(entries), n_alias, len(files))
    return 1 if stale else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build data/skills/*.yaml from tools/curated/*.txt")
    parser.add_argument("--check", action="store_true", help="Only report files that are out of date.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    sys.exit(build(check=args.check))


if __name__ == "__main__":
    main()
