"""Load the bundled taxonomy (and an optional overlay) into one :class:`Taxonomy`."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .models import Occupation, Overlay, Skill, SkillFile, normalize_term

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"


class TaxonomyError(ValueError):
    """A taxonomy or overlay file is malformed; the message names the file and the entry."""


@dataclass
class Taxonomy:
    version: str
    occupations: dict[str, Occupation]
    skills: dict[str, Skill]
    #: normalised surface form -> ids of the skills it names (more than one only if ambiguous)
    surface_index: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.surface_index:
            self.surface_index = self.build_surface_index(self.skills.values())

    @staticmethod
    def build_surface_index(skills) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for skill in skills:
            for form in skill.surface_forms():
                key = normalize_term(form)
                if key and skill.id not in index[key]:
                    index[key].append(skill.id)
        return dict(index)

    def resolve(self, surface: str) -> list[Skill]:
        """Skills a surface string names (by name or alias), case- and width-insensitive."""
        return [self.skills[i] for i in self.surface_index.get(normalize_term(surface), [])]

    @property
    def core_occupations(self) -> list[Occupation]:
        return [o for o in self.occupations.values() if o.core]


def _read_yaml(path: Path) -> object:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{path}: not valid YAML: {exc}") from exc


def _parse(model, data: object, path: Path):
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _describe_location(data, err["loc"])
            problems.append(f"{where}: {err['msg']}")
        raise TaxonomyError(f"{path}: " + "; ".join(problems[:10])) from exc


def _describe_location(data: object, loc: tuple) -> str:
    """Name the entry a validation error is in, e.g. ``skills[3] (id=pytorch).aliases``."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            ident = node.get("id") or node.get("code") if isinstance(node, dict) else None
            parts[-1:] = [f"{parts[-1] if parts else ''}[{key}]" + (f" (id={ident})" if ident else "")]
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "file"


def apply_overlay(skills: dict[str, Skill], overlay: Overlay, source: Path) -> dict[str, Skill]:
    merged = dict(skills)
    for skill in overlay.skills:
        merged[skill.id] = skill
    for skill_id, aliases in overlay.aliases.items():
        if skill_id not in merged:
            raise TaxonomyError(f"{source}: aliases: unknown skill id {skill_id!r}")
        old = merged[skill_id]
        merged[skill_id] = old.model_copy(update={"aliases": [*old.aliases, *aliases]})
    for skill_id, aliases in overlay.remove_aliases.items():
        if skill_id not in merged:
            raise TaxonomyError(f"{source}: remove_aliases: unknown skill id {skill_id!r}")
        drop = {normalize_term(a) for a in aliases}
        old = merged[skill_id]
        kept = [a for a in old.aliases if normalize_term(a) not in drop]
        merged[skill_id] = old.model_copy(update={"aliases": kept})
    return merged


def load_taxonomy(
    overlay: Path | None = None, data_dir: Path = DATA_DIR, validate: bool = True
) -> Taxonomy:
    """Read every occupation and skill file; apply ``overlay``; validate unless told not to."""
    meta = _read_yaml(data_dir / "taxonomy.yaml") or {}
    version = str(meta.get("version", "0"))

    occupations: dict[str, Occupation] = {}
    for path in sorted((data_dir / "occupations").glob("*.yaml")):
        occ = _parse(Occupation, _read_yaml(path), path)
        if occ.code in occupations:
            raise TaxonomyError(f"{path}: occupation code {occ.code} defined twice")
        occupations[occ.code] = occ

    skills: dict[str, Skill] = {}
    for path in sorted((data_dir / "skills").glob("*.yaml")):
        for skill in _parse(SkillFile, _read_yaml(path), path).skills:
            if skill.id in skills:
                raise TaxonomyError(f"{path}: skill id {skill.id!r} defined twice")
            skills[skill.id] = skill

    if overlay is not None:
        overlay_model = _parse(Overlay, _read_yaml(Path(overlay)), Path(overlay))
        skills = apply_overlay(skills, overlay_model, Path(overlay))
        version = f"{version}+{overlay_model.version}"

    taxonomy = Taxonomy(version=version, occupations=occupations, skills=skills)
    if validate:
        from .validate import validate_taxonomy

        problems = validate_taxonomy(taxonomy)
        if problems:
            raise TaxonomyError(
                f"taxonomy {version} is invalid ({len(problems)} problems): " + "; ".join(problems[:20])
            )
    return taxonomy


@lru_cache(maxsize=4)
def default_taxonomy(overlay: Path | None = None) -> Taxonomy:
    """The bundled taxonomy (plus overlay), loaded once per process."""
    return load_taxonomy(overlay)
