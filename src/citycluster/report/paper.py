"""The report on paper: ``reports/report.<lang>.pdf``, printed from its page by chromium.

The page's own print stylesheet decides what paper shows (A4, no controls, every chart whole,
tables unboxed); this module only drives the browser and numbers the pages. Chromium is the
one the project installs for its browser tests (``make system-deps``: Debian's ``chromium``,
or the build ``CITYCLUSTER_CHROMIUM`` names), driven through Playwright, already a dependency
of the tests; the page is opened from disk with every other request refused, as a reader's
browser would open it offline.
"""

from __future__ import annotations

import os
from pathlib import Path

from citycluster.errors import EnvironmentProblem
from citycluster.publish import write_bytes_atomic

#: The browser that prints the reports and that the browser tests drive: Debian's chromium
#: unless CITYCLUSTER_CHROMIUM names another build (a hosted runner's Chrome, Playwright's own).
CHROMIUM = Path(os.environ.get("CITYCLUSTER_CHROMIUM") or "/usr/bin/chromium")
#: Flags for a headless chromium in a container or CI runner: no sandbox (root), no GPU, and
#: nothing it would fetch of its own accord.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
#: Each page's number and the count, at its foot (Chromium fills the two classes in).
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def missing_browser() -> str | None:
    """Why the reports cannot be printed here, or None when chromium is there."""
    if os.access(CHROMIUM, os.X_OK):
        return None
    return (f"no chromium at {CHROMIUM}: run `make system-deps` as root, or "
            "`sudo apt-get install chromium fonts-noto-cjk`, or set CITYCLUSTER_CHROMIUM")


def print_pdf(page: Path, out: Path) -> Path:
    """``page`` printed to ``out`` (A4, as the page's print stylesheet lays it out, with page
    numbers), written atomically: a failed print leaves the last PDF as it was."""
    why = missing_browser()
    if why:
        raise EnvironmentProblem(f"cannot print {page.name} to PDF: {why}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context()
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                "file://") else r.abort())
            tab = context.new_page()
            tab.goto(page.resolve().as_uri(), wait_until="load")
            tab.emulate_media(media="print")
            pdf = tab.pdf(prefer_css_page_size=True, print_background=True,
                          display_header_footer=True, header_template="<span></span>",
                          footer_template=FOOTER)
        finally:
            browser.close()
    write_bytes_atomic(out, pdf)
    return out
