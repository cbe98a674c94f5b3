#!/usr/bin/env bash
# Sets SkillSignal up in ./.venv, idempotently: `scripts/setup.sh` for running it,
# `scripts/setup.sh test` for running the test suite as well. Needs only Python 3.11 and the
# package registries (PyPI; Debian for the dashboard's browser tests). Re-running it when nothing
# changed takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."

want="${1:-run}"
case "$want" in run|test) ;; *) echo "usage: scripts/setup.sh [run|test]" >&2; exit 2 ;; esac

py="${PYTHON:-}"
if [ -z "$py" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      py="$candidate"; break
    fi
  done
fi
[ -n "$py" ] || { echo "setup: Python 3.11 is needed (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($py --version)"
  "$py" -m venv .venv
fi

extras=""; [ "$want" = test ] && extras="[test]"
stamp=".venv/.skillsignal-$want"
digest="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  echo "setup: installing SkillSignal$extras into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  # torch first, pinned: the CPU build. An unpinned torch would pull a multi-GB CUDA build.
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -e ".$extras"
  echo "$digest" > "$stamp"
else
  echo "setup: .venv is up to date"
fi

# The dashboard's chart library and the /docs page's Swagger UI, from the npm registry (pinned in
# package-lock.json), served by the API itself: never fetched from a CDN at run time.
vendor=api/static/vendor
if [ ! -s "$vendor/echarts.min.js" ] || [ ! -s "$vendor/swagger-ui/swagger-ui-bundle.js" ]; then
  if command -v npm >/dev/null; then
    echo "setup: installing ECharts and Swagger UI for the dashboard and /docs (npm ci)"
    # no install scripts: the two packages need none (swagger-ui-dist's dependency would report usage)
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
    mkdir -p "$vendor/swagger-ui"
    cp node_modules/echarts/dist/echarts.min.js "$vendor/"
    cp node_modules/swagger-ui-dist/{swagger-ui-bundle.js,swagger-ui.css,favicon-32x32.png} "$vendor/swagger-ui/"
  else
    echo "setup: WARNING npm not found: the dashboard will show no charts and /docs stays blank until Node.js/npm is installed and setup re-run" >&2
  fi
fi

# Debian packages the tests start as real parts: Chromium (headless) with a CJK font for the dashboard's
# browser test and its screenshot, and redis-server for the distributed crawl and the extraction workers.
if [ "$want" = test ]; then
  missing=""
  command -v chromium >/dev/null || missing="$missing chromium"
  fc-list 2>/dev/null | grep -qi wqy || missing="$missing fonts-wqy-microhei"
  command -v redis-server >/dev/null || missing="$missing redis-server"
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "setup: installing Debian's$missing for the tests"
      # shellcheck disable=SC2086  # one word per package
      apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null
    else
      echo "setup: WARNING$missing missing and not installable without root (apt-get install$missing):" \
        "the dashboard browser test and the Redis tests will be skipped" >&2
    fi
  fi
fi
