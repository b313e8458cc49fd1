"""What the chain calls around the report step, by name (``Step.hooks``).

The chain never imports the report: it imports this module by its dotted name when the step
that names it runs. ``after`` turns each executed report notebook into its offline page;
``after`` also prints it to PDF (:mod:`citycluster.report.paper`); ``finish`` removes pages
and PDFs of languages no longer asked for, renders the executed notebooks as pages and writes
the index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from citycluster.report.html import export_html, export_notebook_pages, write_index
from citycluster.report.paper import print_pdf


def after(context: Any, executed: Path) -> None:
    """The page of the language this execution built, and the page on paper."""
    page = export_html(executed, context.stage / f"report.{context.lang}.html")
    print_pdf(page, page.with_suffix(".pdf"))


def finish(context: Any) -> None:
    """Once every language ran: drop pages of dropped languages, render each executed
    notebook as a page beside its .ipynb, then the index."""
    languages = context.params["report_languages"]
    for page in [*context.stage.glob("report.*.html"), *context.stage.glob("report.*.pdf")]:
        if page.name.split(".")[1] not in languages:
            page.unlink()
    executed = context.stage / "executed"
    for stale in executed.glob("*.html"):
        if not stale.with_suffix(".ipynb").exists():
            stale.unlink()
    pages = [(notebook, notebook.with_suffix(".html"))
             for notebook in sorted(executed.glob("*.ipynb"))]
    # notebooks not run this time keep their page (copied with the reports, mtimes kept)
    export_notebook_pages([(notebook, page) for notebook, page in pages if not page.exists()
                           or page.stat().st_mtime < notebook.stat().st_mtime])
    write_index(context.stage, languages)
