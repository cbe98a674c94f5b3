# The two commands a fresh clone needs (see README.md):
#   make demo   set up, then crawl → extract → index → serve the demo job board
#   make test   set up (with test extras), then lint (ruff, mypy, import-linter) and run the whole test suite
# and, for working on the code:
#   make lint   set up (with test extras), then only the checks
.PHONY: demo test lint checks setup setup-test stop

setup:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test

demo: setup
	@.venv/bin/skillsignal demo

stop:
	@.venv/bin/skillsignal stop

test: setup-test checks
	@scripts/run-tests.sh

lint: setup-test checks

checks:
	@scripts/lint.sh
