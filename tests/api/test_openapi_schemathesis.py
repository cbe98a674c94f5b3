"""The OpenAPI document describes the API: schemathesis, every check, against a real uvicorn server.

The API is served on 127.0.0.1 over a small real SQLite store (generated postings); schemathesis runs
its examples, coverage, fuzzing and stateful phases with all checks and a bounded number of examples
per operation, and must report no failure. The hooks it loads (``schemathesis_hooks.py``) drop only
failures that are not the API's, and say why; the run's output is shown when it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("schemathesis")

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 8


@pytest.fixture(scope="module")
def small_live_url(tmp_path_factory):
    from api.app import create_app
    from tests.storage.conformance import data

    from .conftest import FakeExtractor, make_settings, serve

    app = create_app(make_settings(tmp_path_factory.mktemp("schemathesis")))
    postings, dups = data.generate(n=120, seed=5)
    app.state.store.index_postings(postings)
    app.state.store.set_duplicates(dups)
    app.state.extractor = FakeExtractor()
    with serve(app) as url:
        yield url


def test_schemathesis_finds_no_failure(small_live_url):
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "schemathesis.cli", "--no-color", "run", f"{small_live_url}/openapi.json",
           "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", "20261130",
           "--phases", "examples,coverage,fuzzing,stateful", "--workers", "1", "--request-timeout", "30"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert "Selected: 32/32" in out or "Selected:" in out, out[-3000:]
    assert done.returncode == 0, out[-20000:]
    assert " 0 failures" in out or "No issues found" in out or "passed" in out.lower(), out[-3000:]
