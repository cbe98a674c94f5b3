"""Load the bundled taxonomy (and an optional overlay) into one :class:`Taxonomy`."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from skillsignal.core.text import normalize_term

from .models import Occupation, Overlay, Skill, SkillFile
from .validate import validate_taxonomy

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
#: libyaml's safe loader when PyYAML was built with it (about 10x faster), else the pure-Python one
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TaxonomyError(ValueError):
    """A taxonomy or overlay file is malformed; the message names the file and the entry."""


@dataclass
class Taxonomy:
    version: str
    occupations: dict[str, Occupation]
    skills: dict[str, Skill]
    #: normalised surface form -> ids of the skills it names (more than one only if ambiguous)
    surface_index: dict[str, list[str]] = field(default_factory=dict)
    #: where each entry was read from: ``"skill:<id>"`` / ``"occupation:<code>"`` -> file path
    sources: dict[str, str] = field(default_factory=dict)

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

    def source_of(self, kind: str, key: str) -> str:
        """The file an entry came from (``kind`` is ``skill`` or ``occupation``), or ``?``."""
        return self.sources.get(f"{kind}:{key}", "?")

    def resolve(self, surface: str) -> list[Skill]:
        """Skills a surface string names (by name or alias), case- and width-insensitive."""
        return [self.skills[i] for i in self.surface_index.get(normalize_term(surface), [])]

    @property
    def core_occupations(self) -> list[Occupation]:
        return [o for o in self.occupations.values() if o.core]


def _read_yaml(path: Path) -> object:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_YAML_LOADER)  # a safe loader (yaml.SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{path}: not valid YAML: {exc}") from exc


def _parse(model, data: object, path: Path):
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


def apply_overlay(
    skills: dict[str, Skill], overlay: Overlay, source: Path, sources: dict[str, str] | None = None
) -> dict[str, Skill]:
    """Skills with ``overlay`` applied; an alias entry for an unknown id raises naming it."""
    merged = dict(skills)
    for i, skill in enumerate(overlay.skills):
        merged[skill.id] = skill
        if sources is not None:
            sources[f"skill:{skill.id}"] = f"{source} (skills[{i}])"
    for section in ("aliases", "remove_aliases"):
        for skill_id, forms in getattr(overlay, section).items():
            if skill_id not in merged:
                raise TaxonomyError(f"{source}: {section}: unknown skill id {skill_id!r}")
            for form in forms:
                if not normalize_term(form):
                    raise TaxonomyError(f"{source}: {section}.{skill_id}: empty alias")
    for skill_id, aliases in overlay.aliases.items():
        old = merged[skill_id]
        merged[skill_id] = old.model_copy(update={"aliases": [*old.aliases, *aliases]})
        if sources is not None:
            sources[f"skill:{skill_id}"] = f"{sources.get(f'skill:{skill_id}', '?')} + {source} (aliases)"
    for skill_id, aliases in overlay.remove_aliases.items():
        drop = {normalize_term(a) for a in aliases}
        old = merged[skill_id]
        kept = [a for a in old.aliases if normalize_term(a) not in drop]
        merged[skill_id] = old.model_copy(update={"aliases": kept})
    return merged


def _stamp(data_dir: Path) -> tuple:
    """Names, sizes and modification times of the data files: the key of the parse cache."""
    files = [
        data_dir / "taxonomy.yaml",
        *sorted(data_dir.glob("occupations/*.yaml")),
        *sorted(data_dir.glob("skills/*.yaml")),
    ]
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.exists())


@lru_cache(maxsize=4)
def _read_base(data_dir: Path, stamp: tuple) -> tuple[str, dict, dict, dict]:
    """Parse the data directory once per content stamp (callers copy the dicts they change)."""
    meta = _read_yaml(data_dir / "taxonomy.yaml") or {}
    if not isinstance(meta, dict):
        raise TaxonomyError(f"{data_dir / 'taxonomy.yaml'}: expected a mapping")
    version = str(meta.get("version", "0"))
    sources: dict[str, str] = {}

    occupations: dict[str, Occupation] = {}
    for path in sorted((data_dir / "occupations").glob("*.yaml")):
        occ = _parse(Occupation, _read_yaml(path), path)
        if occ.code in occupations:
            raise TaxonomyError(
                f"{path}: occupation code {occ.code} defined twice (also in {sources[f'occupation:{occ.code}']})"
            )
        occupations[occ.code] = occ
        sources[f"occupation:{occ.code}"] = str(path)

    skills: dict[str, Skill] = {}
    for path in sorted((data_dir / "skills").glob("*.yaml")):
        for skill in _parse(SkillFile, _read_yaml(path), path).skills:
            if skill.id in skills:
                raise TaxonomyError(
                    f"{path}: skill id {skill.id!r} defined twice (also in {sources[f'skill:{skill.id}']})"
                )
            skills[skill.id] = skill
            sources[f"skill:{skill.id}"] = str(path)
    return version, occupations, skills, sources


def load_taxonomy(overlay: Path | str | None = None, data_dir: Path = DATA_DIR, validate: bool = True) -> Taxonomy:
    """Read every occupation and skill file; apply ``overlay``; validate unless told not to.

    Raises :class:`TaxonomyError` naming the file and entry of the first structural problem, or
    listing every problem the validator finds.
    """
    version, occupations, skills, sources = _read_base(Path(data_dir), _stamp(Path(data_dir)))
    occupations, skills, sources = dict(occupations), dict(skills), dict(sources)

    if overlay is not None:
        overlay_path = Path(overlay)
        if not overlay_path.is_file():
            raise TaxonomyError(f"{overlay_path}: overlay file not found")
        overlay_model = _parse(Overlay, _read_yaml(overlay_path), overlay_path)
        ids = [s.id for s in overlay_model.skills]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise TaxonomyError(f"{overlay_path}: skills: id {dup[0]!r} listed twice")
        skills = apply_overlay(skills, overlay_model, overlay_path, sources)
        version = f"{version}+{overlay_model.version}"

    taxonomy = Taxonomy(version=version, occupations=occupations, skills=skills, sources=sources)
    if validate:
        problems = validate_taxonomy(taxonomy)
        if problems:
            raise TaxonomyError(
                f"taxonomy {version} is invalid ({len(problems)} problems): " + "; ".join(problems[:20])
            )
    return taxonomy


@lru_cache(maxsize=4)
def _cached_taxonomy(overlay: Path | None) -> Taxonomy:
    return load_taxonomy(overlay)


def default_taxonomy(overlay: Path | str | None = None) -> Taxonomy:
    """The bundled taxonomy plus ``overlay`` (none: the bundled one), loaded once per process and
    overlay. The taxonomy reads no settings: the application passes ``Settings.taxonomy_overlay``."""
    return _cached_taxonomy(Path(overlay) if overlay is not None else None)


default_taxonomy.cache_clear = _cached_taxonomy.cache_clear  # type: ignore[attr-defined]  # the cache of the function it wraps, exposed as lru_cache would
