"""Draw docs/images/report.png, the README's picture of the report, from the last run's report.

The picture is the report's first screen at a desktop width beside the same page on a phone, so
a newcomer sees what `make report` makes before running it. It is drawn, never edited by hand:
run `make screenshot` after a change to the report's look and commit the PNG. The browser is the
one that prints the PDFs (``citycluster.report.paper``), and the page is opened from disk with
every other request refused, as the browser tests open it.

Usage: python scripts/screenshot.py [--report reports/report.en.html] [--out docs/images/report.png]
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

from citycluster.paths import repo_root
from citycluster.publish import write_bytes_atomic
from citycluster.report.paper import CHROMIUM, CHROMIUM_FLAGS, missing_browser

#: The two screens drawn: a laptop's and a common phone's, in CSS pixels.
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: Width of the composed picture, and the phone's share of it: small enough for a README.
WIDTH = 1200
PHONE_WIDTH = 300


def _shot(browser, page: Path, viewport: dict[str, int]) -> bytes:
    """The first screen of ``page`` at ``viewport``, offline."""
    context = browser.new_context(viewport=viewport)
    try:
        context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
            "file://") else r.abort())
        tab = context.new_page()
        tab.goto(page.resolve().as_uri(), wait_until="load")
        return tab.screenshot()
    finally:
        context.close()


def _composed(browser, desktop: bytes, phone: bytes) -> bytes:
    """The two screens side by side on a plain ground, as one PNG."""
    def uri(png: bytes) -> str:
        return "data:image/png;base64," + base64.b64encode(png).decode()

    gap = 24
    html = (f'<body style="margin:0;background:#eef0f3">'
            f'<div id="pair" style="display:flex;gap:{gap}px;align-items:flex-start;'
            f'padding:{gap}px;width:{WIDTH - 2 * gap}px">'
            f'<img src="{uri(desktop)}" style="width:{WIDTH - 3 * gap - PHONE_WIDTH}px;'
            f'box-shadow:0 1px 6px #0003">'
            f'<img src="{uri(phone)}" style="width:{PHONE_WIDTH}px;box-shadow:0 1px 6px #0003">'
            f'</div></body>')
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    try:
        tab = context.new_page()
        tab.set_content(html, wait_until="load")
        return tab.locator("#pair").screenshot()
    finally:
        context.close()


def draw(report: Path, out: Path) -> Path:
    """``out`` drawn from ``report``, written atomically."""
    why = missing_browser()
    if why:
        raise SystemExit(f"cannot draw the screenshot: {why}")
    if not report.is_file():
        raise SystemExit(f"no report at {report}: run `make report` first")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            png = _composed(browser, _shot(browser, report, DESKTOP),
                            _shot(browser, report, PHONE))
        finally:
            browser.close()
    write_bytes_atomic(out, png)
    return out


def main(argv: list[str] | None = None) -> int:
    root = repo_root()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=root / "reports" / "report.en.html")
    parser.add_argument("--out", type=Path, default=root / "docs" / "images" / "report.png")
    args = parser.parse_args(argv)
    print(draw(args.report, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
