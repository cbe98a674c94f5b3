"""Headless Chromium (Debian's package, driven by Playwright) on a page of the dashboard."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VENDOR = Path(__file__).resolve().parents[2] / "api" / "static" / "vendor" / "echarts.min.js"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
# no network chatter of its own: the page talks only to the test's server
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def dashboard_page(url: str) -> Iterator:
    """A 1400×1500 page opened at ``url``; its ``errors`` list collects the page's script errors.
    Skips without Chromium or the vendored chart library, and fails on CI, where setup installs them."""
    if not CHROMIUM or not VENDOR.exists():
        missing = "Debian's chromium" if not CHROMIUM else str(VENDOR)
        if os.environ.get("CI"):
            pytest.fail(f"{missing} is missing: scripts/setup.sh test installs it")
        pytest.skip(f"{missing} is missing: run scripts/setup.sh test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1500})
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.goto(url)
        pg.errors = errors
        try:
            yield pg
        finally:
            browser.close()
