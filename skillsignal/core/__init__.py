"""The floor every stage stands on: settings, the posting and extraction models, record mapping, dates.

Nothing here imports a stage (crawlers, nlp, skill_taxonomy, storage, api) or the orchestration above them;
the import contract in ``pyproject.toml`` (import-linter) checks it.
"""

__version__ = "0.1.0"
