#!/usr/bin/env bash
# Runs the whole suite with the project's virtualenv; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
mkdir -p test-output
exec .venv/bin/python -m pytest -q -p no:cacheprovider --junitxml=test-output/junit.xml "$@"
