#!/usr/bin/env bash
# The code checks of `make lint` (and of `make test`, before the suite): style and lint (ruff),
# types (mypy: strict for skillsignal.core, storage, signals and api), and the import layers (import-linter).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "lint: ruff check"
.venv/bin/ruff check .
echo "lint: ruff format --check"
.venv/bin/ruff format --check .
echo "lint: mypy"
.venv/bin/mypy
echo "lint: import layers"
.venv/bin/lint-imports
