"""The Sources section: each planning document, each derived figure and each reference row the
report rests on, with where it was seen (a link), the kind of source, its vintage and the
figure as recorded, and links back to the checks and parts of the report that use it.

Which rows are listed is :mod:`citycluster.report.evidence`'s business; this module only
writes them in the reader's language.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import polars as pl

from citycluster.report import article, evidence
from citycluster.report.i18n import entries
from citycluster.report.voice import Voice
from citycluster.report.xref import figure_number


def plan_anchor(cluster_id: str, year: int) -> str:
    return f"doc-{cluster_id}-{year}"


def link_text(url: str) -> str:
    """What a link shows: the DOI of a DOI address, else the site, which is what a reader
    weighs a copy by (an official site, a news agency, an aggregator)."""
    parts = urlsplit(url)
    if parts.netloc.endswith("doi.org"):
        return "doi:" + parts.path.lstrip("/")
    return parts.netloc.removeprefix("www.")


def _use(use: evidence.Use, voice: Voice) -> dict[str, str]:
    """A link back to a check that uses an entry: ``C006``, or ``C006 · with estimates``."""
    text = use.claim_id if use.check == "direct" else voice.t(
        "check_of", claim=use.claim_id, check=voice.t(str(use.check)))
    return {"href": f"#{use.anchor}", "text": str(text)}


def _row_entry(r: dict[str, Any], uses: list[evidence.Use], voice: Voice) -> dict[str, Any]:
    url = r["source_url"]
    return {
        "id": r["ref_id"],
        "what": voice.t("src_row", name=voice.name(r["entity_id"]), metric=voice.label(r["metric"]),
                    year=r["year"] if r["year"] is not None else voice.t("src_undated"),
                    printed=voice.t("printed", value=r["value"], unit=r["unit"])),
        "publisher": r["source_publisher"], "document": r["source_document"],
        "year": r["source_year"],
        "url": url, "host": link_text(url) if url else None,
        "missing": (voice.t("src_recalled") if r["source_kind"] == "recalled"
                    else voice.t("src_no_url") if not url else None),
        "kind": voice.label(r["source_kind"]),
        "vintage": voice.label(r["vintage"]) if r["vintage"] else voice.label("unlabelled"),
        "uses": [_use(u, voice) for u in uses if u.claim_id is not None],
    }


def _derived_entry(derived: evidence.Derived, voice: Voice,
                   plans: dict[tuple[str, int], str]) -> dict[str, Any]:
    """A derived figure, with links to what it is built from: its rows, or its plan."""
    name = voice.name(derived.entity_id) if derived.entity_id else ""
    uses = [_use(u, voice) for u in derived.uses]
    if derived.kind == "plan" and derived.plan is not None:
        plan, year = derived.plan["planning_document"], derived.plan["document_year"]
        return {"anchor": derived.anchor, "ref": derived.ref, "uses": uses,
                "what": voice.t("src_plan_count", plan=plan),
                "links": [(f"#{plans[(plan, year)]}", f"{plan} ({year})")]}
    return {"anchor": derived.anchor, "ref": derived.ref, "uses": uses,
            "what": voice.t(f"src_{derived.kind}", name=name, n=len(derived.rows)),
            "links": [(f"#{row}", row) for row in derived.rows]}


def literature(cff: dict[str, Any], voice: Voice) -> list[dict[str, str]]:
    """The published work the report compares with, cited in full from ``CITATION.cff``'s
    references (the article checked is cited in the header instead)."""
    out = []
    for ref in cff.get("references", []):
        if not ref.get("doi"):
            continue
        names = [f"{a['family-names']}, {a.get('given-names', '')}".strip(", ")
                 for a in ref["authors"]]
        pages = f"{ref['start']}–{ref['end']}" if ref.get("start") else ""
        out.append({"cited": voice.t("src_article", authors=voice.t("name_sep").join(names),
                                 year=ref["year"], title=ref["title"], journal=ref["journal"],
                                 volume=ref.get("volume", ""), issue=ref.get("issue", ""),
                                 pages=pages),
                    "url": f"https://doi.org/{ref['doi']}", "host": f"doi:{ref['doi']}"})
    return out


def planning_documents(membership: pl.DataFrame) -> pl.DataFrame:
    """Each plan that names a cluster's members, once."""
    return (membership.unique(["cluster_id", "planning_document", "document_year"])
            .sort("cluster_id", "document_year"))


def section(tables: dict[str, pl.DataFrame], voice: Voice, checked: dict[str, Any],
            cff: dict[str, Any]) -> str:
    """The Sources section as HTML: the article checked (where its title and author line are,
    how it was dated), then the plans, derived figures and rows."""
    from citycluster.report.html import render_template

    ev = evidence.gather(tables, checked)
    docs = planning_documents(tables["membership"])
    plans = {(r["planning_document"], r["document_year"]):
             plan_anchor(r["cluster_id"], r["document_year"]) for r in docs.iter_rows(named=True)}
    documents = [{
        "anchor": plan_anchor(r["cluster_id"], r["document_year"]),
        "cited": voice.t("src_plan", issuer=r["document_issuer"], plan=r["planning_document"],
                     year=r["document_year"], cluster=voice.name(r["cluster_id"])),
        "url": r["source_url"], "host": link_text(r["source_url"]) if r["source_url"] else None,
        "kind": voice.label(r["source_kind"])} for r in docs.iter_rows(named=True)]
    rows = [_row_entry(r, ev.rows[r["ref_id"]], voice)
            for r in evidence.rows_of(ev, tables["reference"]).iter_rows(named=True)]
    # rows behind a verdict link back to its checks; the rest, behind the models and the
    # cluster totals only, are listed under a heading that links to those once
    checked_rows = [r for r in rows if r["uses"]]
    other_rows = [r for r in rows if not r["uses"]]
    derived = [_derived_entry(d, voice, plans) for d in
               sorted(ev.derived.values(), key=lambda d: d.anchor)]
    n_checks = len({u.anchor for uses in ev.rows.values() for u in uses if u.claim_id})
    return render_template(
        "sources.html.j2", title=voice.t("sources_title"),
        intro=voice.t("sources_intro", n_rows=len(rows), n_derived=len(derived),
                  n_plans=len(documents), n_checks=n_checks),
        documents=documents, derived=derived, rows=checked_rows, other_rows=other_rows,
        others_title=voice.t("sources_other_rows", models=voice.t("models_title"),
                         figure=voice.t("figure_ref", n=figure_number("cluster_map"))),
        literature=literature(cff, voice),
        t=entries(voice.lang, "text"),
        about=article.about(checked, voice))
