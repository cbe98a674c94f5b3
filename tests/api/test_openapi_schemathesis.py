"""The OpenAPI document describes the API: schemathesis, every check, against a real uvicorn server.

The API is served on 127.0.0.1 over a small real SQLite store (generated postings); schemathesis runs
its examples, fuzzing and stateful phases over every operation with all checks and a bounded number of
examples per operation, and must report no failure. The hooks it loads (``schemathesis_hooks.py``)
drop only failures that are not the API's, and say why; the run's output is shown when it fails.

Its coverage phase (boundary and negative values of every parameter, unexpected methods: ~6,400
requests) is left out here because it takes about 2 minutes on 2 cores whatever ``--max-examples``
says; run against a server it reports no failure either::

    SCHEMATHESIS_HOOKS=tests.api.schemathesis_hooks schemathesis run http://127.0.0.1:8000/openapi.json \
        --checks all --max-examples 30

Two of its findings have their own fast tests in ``test_openapi.py`` (405 lists every method; a
repeated one-value parameter is a 422).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 10


@pytest.fixture(scope="module")
def small_live_url(tmp_path_factory):
    from skillsignal.server import build_app
    from tests.live_server import serve
    from tests.storage.conformance import data

    from .conftest import FakeExtractor, make_settings

    app = build_app(make_settings(tmp_path_factory.mktemp("schemathesis")))
    postings, dups = data.generate(n=120, seed=5)
    app.state.store.index_postings(postings)
    app.state.store.set_duplicates(dups)
    app.state.extractor = FakeExtractor()
    with serve(app) as url:
        yield url


def test_schemathesis_finds_no_failure(small_live_url, tmp_path):
    import httpx

    operations = sum(
        len(ops) for ops in httpx.get(f"{small_live_url}/openapi.json", timeout=60).json()["paths"].values()
    )
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "run",
        f"{small_live_url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261130",
        "--phases",
        "examples,fuzzing,stateful",
        "--workers",
        "1",
        "--request-timeout",
        "30",
    ]
    # run in a scratch folder: schemathesis and hypothesis keep their caches in the working directory
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-20000:]
    assert f"Tested: {operations}" in out and operations >= 30, out[-3000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", out)
    assert generated and generated.group(1) == generated.group(2) and int(generated.group(1)) > 10 * operations, out[
        -3000:
    ]
