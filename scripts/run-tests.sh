#!/usr/bin/env bash
# Runs the whole suite with the project's virtualenv; extra arguments go to pytest
# (e.g. `scripts/run-tests.sh tests/api -x`; `-n 0` runs in this one process).
#
# The tests run in one pytest-xdist worker process per core, at most 4 (a worker can hold spaCy
# and the embedding model, ~1.5 GB); PYTEST_XDIST_AUTO_NUM_WORKERS sets another count.
# --dist loadscope hands each worker whole modules, so a module's expensive fixtures are built once.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
workers="${PYTEST_XDIST_AUTO_NUM_WORKERS:-$(nproc)}"
if ((workers > 4)); then workers=4; fi
if ((workers < 2)); then workers=0; fi
mkdir -p test-output
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "$workers" --dist loadscope \
    --junitxml=test-output/junit.xml "$@"
