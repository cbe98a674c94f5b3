"""``skillsignal taxonomy ...``: validate, count, show, search the taxonomy and measure gold coverage.

Also runs on its own: ``python -m skill_taxonomy.cli --help``.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from pathlib import Path

import typer

from skillsignal.core.models import LEVELS
from skillsignal.core.text import normalize_term

from .coverage import coverage_report
from .loader import Taxonomy, TaxonomyError, load_taxonomy
from .models import Occupation, Skill

app = typer.Typer(
    help="Validate, inspect and search the skill taxonomy (occupations, directions, levels, skills).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

OverlayOpt = typer.Option(
    None,
    "--overlay",
    "-o",
    envvar="SKILLSIGNAL_TAXONOMY_OVERLAY",
    help="Overlay YAML that extends the bundled taxonomy.",
)


def _load(overlay: Path | None) -> Taxonomy:
    try:
        return load_taxonomy(overlay)
    except TaxonomyError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc


@app.command()
def validate(overlay: Path | None = OverlayOpt) -> None:
    """Load and check the taxonomy (plus an overlay); exit 1 and name each bad entry if invalid."""
    taxonomy = _load(overlay)
    aliases = sum(len(s.aliases) for s in taxonomy.skills.values())
    typer.echo(
        f"ok: taxonomy {taxonomy.version}: {len(taxonomy.occupations)} occupations, "
        f"{len(taxonomy.skills)} skills, {aliases} aliases"
    )


def stats_dict(taxonomy: Taxonomy) -> dict:
    skills = list(taxonomy.skills.values())
    per_occ: dict[str, dict] = {}
    for code, occ in sorted(taxonomy.occupations.items()):
        linked = [s for s in skills if any(link.occupation == code for link in s.occupations)]
        per_direction = Counter(
            link.direction for s in linked for link in s.occupations if link.occupation == code and link.direction
        )
        per_occ[code] = {
            "name": occ.name_zh,
            "core": occ.core,
            "skills": len(linked),
            "skills_by_direction": dict(sorted(per_direction.items())),
            "competencies": {lvl: len(occ.levels.get(lvl, [])) for lvl in LEVELS},
        }
    return {
        "version": taxonomy.version,
        "occupations": len(taxonomy.occupations),
        "skills": len(skills),
        "aliases": sum(len(s.aliases) for s in skills),
        "surface_forms": len(taxonomy.surface_index),
        "ambiguous_skills": sum(s.ambiguous for s in skills),
        "context_required_skills": sum(s.context_required for s in skills),
        "skills_by_type": dict(Counter(s.type for s in skills).most_common()),
        "competencies_by_level": {
            lvl: sum(len(o.levels.get(lvl, [])) for o in taxonomy.occupations.values()) for lvl in LEVELS
        },
        "by_occupation": per_occ,
    }


@app.command()
def stats(
    overlay: Path | None = OverlayOpt,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Counts: skills, aliases, skills per type, skills and competencies per occupation and level."""
    data = stats_dict(_load(overlay))
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(f"taxonomy {data['version']}")
    typer.echo(
        f"skills {data['skills']}  aliases {data['aliases']}  surface forms {data['surface_forms']}  "
        f"ambiguous {data['ambiguous_skills']}  context-required {data['context_required_skills']}"
    )
    typer.echo("by type: " + ", ".join(f"{k} {v}" for k, v in data["skills_by_type"].items()))
    typer.echo("competencies by level: " + ", ".join(f"{k} {v}" for k, v in data["competencies_by_level"].items()))
    typer.echo(f"{'code':<12} {'core':<5} {'skills':>6}  competencies(初/中/高)  name")
    for code, row in data["by_occupation"].items():
        comps = "/".join(str(row["competencies"][lvl]) for lvl in LEVELS)
        typer.echo(f"{code:<12} {'yes' if row['core'] else 'no':<5} {row['skills']:>6}  {comps:<21} {row['name']}")


def _show_occupation(taxonomy: Taxonomy, occ: Occupation) -> None:
    typer.echo(f"{occ.code}  {occ.name_zh} / {occ.name_en}  ({'core' if occ.core else 'adjacent'})")
    typer.echo(f"  file: {taxonomy.source_of('occupation', occ.code)}")
    typer.echo(f"  {occ.definition.strip()}")
    if occ.directions:
        typer.echo("  directions:")
        for d in occ.directions:
            n = sum(
                1
                for s in taxonomy.skills.values()
                if any(link.occupation == occ.code and link.direction == d.id for link in s.occupations)
            )
            typer.echo(f"    {d.id:<24} {d.name_zh} / {d.name_en}  ({n} skills)")
    for level in LEVELS:
        comps = occ.levels.get(level, [])
        if comps:
            typer.echo(f"  {level}: {len(comps)} competencies")
            for c in comps:
                scope = f" [{c.direction}]" if c.direction else ""
                typer.echo(f"    {c.id}{scope}: {c.text}")
    linked = sorted(
        (
            (link.weight, s.id)
            for s in taxonomy.skills.values()
            for link in s.occupations
            if link.occupation == occ.code
        ),
        reverse=True,
    )
    typer.echo(f"  skills linked: {len(linked)}; top: " + ", ".join(i for _, i in linked[:25]))


def _show_skill(taxonomy: Taxonomy, skill: Skill) -> None:
    typer.echo(f"{skill.id}  {skill.name_en} / {skill.name_zh}  ({skill.type})")
    typer.echo(f"  file: {taxonomy.source_of('skill', skill.id)}")
    if skill.aliases:
        typer.echo("  aliases: " + ", ".join(skill.aliases))
    flags = [f for f, on in (("ambiguous", skill.ambiguous), ("context required", skill.context_required)) if on]
    if flags:
        extra = f" for {', '.join(skill.context_aliases)}" if skill.context_aliases else ""
        typer.echo("  " + ", ".join(flags) + extra)
    for link in sorted(skill.occupations, key=lambda link: -link.weight):
        occ = taxonomy.occupations.get(link.occupation)
        name = occ.name_zh if occ else "?"
        direction = f" / {link.direction}" if link.direction else ""
        typer.echo(f"  -> {link.occupation}{direction}  {name}  weight {link.weight:g}")


@app.command()
def show(
    key: str = typer.Argument(..., help="An occupation code (2-02-38-01), a skill id, or a skill name/alias."),
    overlay: Path | None = OverlayOpt,
) -> None:
    """Show an occupation (directions, competencies per level, linked skills) or a skill (aliases, links)."""
    taxonomy = _load(overlay)
    if key in taxonomy.occupations:
        _show_occupation(taxonomy, taxonomy.occupations[key])
        return
    skills = [taxonomy.skills[key]] if key in taxonomy.skills else taxonomy.resolve(key)
    if not skills:
        hits = search_taxonomy(taxonomy, key, limit=5)
        hint = f" (did you mean: {', '.join(s.id for s, _, _ in hits)}?)" if hits else ""
        typer.secho(f"no occupation or skill {key!r}{hint}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
    for skill in skills:
        _show_skill(taxonomy, skill)


def search_taxonomy(taxonomy: Taxonomy, text: str, limit: int = 20) -> list[tuple[Skill, str, float]]:
    """Skills whose id, names or aliases match ``text``: exact, then substring, then fuzzy (difflib).

    Returns ``(skill, matched form, score)`` best first; score 1.0 exact, 0.9 prefix, 0.8 substring,
    else the difflib ratio (kept when >= 0.6).
    """
    query = normalize_term(text)
    if not query:
        return []
    best: dict[str, tuple[float, str]] = {}
    for skill in taxonomy.skills.values():
        for form in [skill.id, *skill.surface_forms()]:
            key = normalize_term(form)
            if not key:
                continue
            if key == query:
                score = 1.0
            elif key.startswith(query):
                score = 0.9
            elif query in key:
                score = 0.8
            elif len(query) >= 2:
                score = difflib.SequenceMatcher(None, query, key).ratio()
                if score < 0.6:
                    continue
                score *= 0.75
            else:
                continue
            if score > best.get(skill.id, (0.0, ""))[0]:
                best[skill.id] = (score, form)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], len(kv[1][1]), kv[0]))
    return [(taxonomy.skills[i], form, score) for i, (score, form) in ranked[:limit]]


@app.command()
def search(
    text: str = typer.Argument(..., help="Chinese or English name, alias or part of one (typos tolerated)."),
    limit: int = typer.Option(20, "--limit", "-n", help="Most results to print."),
    overlay: Path | None = OverlayOpt,
) -> None:
    """Find skills by name or alias: exact, substring, then fuzzy matches."""
    taxonomy = _load(overlay)
    hits = search_taxonomy(taxonomy, text, limit=limit)
    if not hits:
        typer.echo(f"no skill matches {text!r}")
        raise typer.Exit(code=1)
    for skill, form, score in hits:
        typer.echo(f"{score:.2f}  {skill.id:<32} {skill.name_en} / {skill.name_zh}  [{form}]")


@app.command("coverage")
def coverage_cmd(
    gold: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold JSONL with a 'skills' list per line."),
    overlay: Path | None = OverlayOpt,
    show_missing: int = typer.Option(30, "--missing", help="How many unresolved strings to list."),
) -> None:
    """Share of the gold hard-skill strings that resolve to a skill (name or alias; 'A/B' when both do)."""
    report = coverage_report(gold, _load(overlay))
    typer.echo(f"coverage {report.resolved}/{report.total} = {report.ratio:.3f}")
    if report.missing and show_missing:
        typer.echo("missing: " + ", ".join(f"{s} ({n})" for s, n in report.missing[:show_missing]))


if __name__ == "__main__":  # pragma: no cover
    app()
