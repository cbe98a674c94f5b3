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

# The dashboard's browser test drives Debian's Chromium (headless), with a CJK font for its screenshot.
if [ "$want" = test ] && { ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi wqy; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian's chromium and a CJK font for the dashboard test"
    apt-get update -qq >/dev/null && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
  else
    echo "setup: WARNING chromium is missing and cannot be installed without root: the dashboard browser test will be skipped" >&2
  fi
fi
