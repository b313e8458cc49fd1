"""The validation record a reader can open offline: every rule of the audit, its outcome and
up to five offending rows, in one page with the same sort and filter controls as the
fact-check table.

great-expectations' Data Docs draw their tables with scripts from a CDN, so offline they show
nothing; they remain available with ``-p data_docs=true``. The rule's words are the data
contract's (its ``description``), which is why the page is in the contract's language.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from citycluster import languages
from citycluster.publish import write_text_atomic
from citycluster.report.html import render_template
from citycluster.report.i18n import entries, language_tag, plural, text

STATUSES = ("passed", "critical", "warning")


def status(row: dict) -> str:
    """A rule's outcome: passed, or failed with its severity."""
    return "passed" if row["success"] else str(row["severity"])


def page(outcomes: pl.DataFrame, lang: str, data_docs: bool) -> str:
    """The page's HTML: a summary, then one row per rule and table."""
    def t(key: str, **values: object) -> str:
        return text(lang, key, **values)

    rows = []
    for r in outcomes.sort("table", "column", "description").iter_rows(named=True):
        rows.append({"status": status(r), "cells": [
            {"text": r["table"], "code": True, "num": False},
            {"text": r["column"] or "", "code": True, "num": False},
            {"text": r["description"], "code": False, "num": False},
            {"text": t(f"vr_{status(r)}"), "code": False, "num": False},
            {"text": str(r["evaluated"]), "code": False, "num": True},
            {"text": str(r["unexpected"]), "code": False, "num": True},
            {"text": r["examples"] or "", "code": True, "num": False},
        ]})
    failed = outcomes.filter(~pl.col("success"))
    return render_template(
        "validation_page.html.j2", lang=language_tag(lang), title=t("vr_title"),
        t=entries(lang, "text"),
        paragraphs=[t("vr_intro", n_rules=outcomes.height, n_tables=outcomes["table"].n_unique(),
                        n_pass=int(outcomes["success"].sum()),
                        warnings=plural(lang, "n_warnings",
                                          failed.filter(pl.col("severity") == "warning").height),
                        critical=plural(lang, "n_critical",
                                          failed.filter(pl.col("severity") == "critical").height))],
        header=[t(k) for k in ("table_file", "table_column", "vr_rule", "vr_status",
                                 "vr_evaluated", "vr_unexpected", "table_examples")],
        rows=rows, statuses=[(s, t(f"vr_{s}")) for s in STATUSES], data_docs=data_docs)


def write(outcomes: pl.DataFrame, out: Path, data_docs: bool = False) -> Path:
    """``validation/index.html``, in the language the contract's rules are worded in."""
    write_text_atomic(out, page(outcomes, languages.SOURCE_LANGUAGE, data_docs))
    return out
