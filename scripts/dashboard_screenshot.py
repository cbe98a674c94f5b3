"""Save a screenshot of a running dashboard (the README's picture is made with this).

    .venv/bin/python scripts/dashboard_screenshot.py http://127.0.0.1:8000/dashboard docs/dashboard.png \
        --compare python --compare linux

Needs Playwright (test extra) and Debian's chromium (installed by `scripts/setup.sh test`).
"""

from __future__ import annotations

import argparse
import logging
import shutil

log = logging.getLogger("dashboard_screenshot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="dashboard URL, e.g. http://127.0.0.1:8000/dashboard")
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        help="a skill to put in the compare box (repeatable), typed as a user would",
    )
    parser.add_argument("--lang", choices=["zh", "en"], default="zh")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    from playwright.sync_api import sync_playwright

    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": args.width, "height": 1000})
        page.goto(args.url)
        # every chart box leaves "loading" (ready, empty or error) once its data arrived
        page.wait_for_function(
            "[...document.querySelectorAll('[id^=chart-]')].every(c => c.dataset.state && c.dataset.state !== 'loading')",
            timeout=60_000,
        )
        if args.lang == "en":
            page.click("#lang-switch")
        for skill in args.compare:
            page.fill("#skill-query", skill)
            page.click("#skill-suggestions li[data-skill]", timeout=20_000)
        page.wait_for_timeout(2_000)  # chart animations
        page.screenshot(path=args.out, full_page=True)
        browser.close()
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
