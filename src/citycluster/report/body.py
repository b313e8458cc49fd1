"""The report's sections in reading order, each one function of the published tables.

The 06_report notebook calls these one per cell, with a sentence on what each section says;
a test calls :func:`sections` in a pseudo-locale to prove that every word comes from a
catalog. Every number is computed here from the tables, none is typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from citycluster.analysis.keyrows import key_slopes
from citycluster.data.packages import CONTENT_LICENCE
from citycluster.factcheck.verdicts import INCONSISTENT, UNVERIFIABLE, Tolerances
from citycluster.report import (
    charts,
    chinamap,
    citation,
    exhibit,
    findings,
    html,
    results,
    sources,
)
from citycluster.report.i18n import entries
from citycluster.report.voice import Voice
from citycluster.report.xref import figure_number, table_number

Tables = Mapping[str, pl.DataFrame]


def findings_section(tables: Tables, voice: Voice) -> str:
    """What holds and what does not, first."""
    return findings.section(dict(tables), voice)


def cluster_map_figure(tables: Tables, voice: Voice) -> str:
    """Where the five clusters are, with each one's shares in the caption."""
    return exhibit.figure("cluster_map", tables, voice,
                          chinamap.caption(tables["cluster_totals"], voice))


def claims_section(tables: Tables, voice: Voice) -> str:
    """The ledger of the article's figures, each as printed, as normalised and as judged."""
    claims = tables["claims"]
    return html.ledger_section(claims, tables["factcheck"], voice, [
        voice.t("claims_intro", n_claims=claims.height, n_paragraphs=claims["paragraph"].n_unique(),
            n_entities=claims["entity_id"].n_unique(), n_units=claims["unit"].n_unique(),
            table=voice.t("table_ref", n=table_number("claims")))])


def data_section(tables: Tables, voice: Voice) -> str:
    """Where the reference figures come from: one row per table, one column per kind of
    source (a count of figures in each)."""
    reference, checks = tables["reference"], tables["factcheck"]
    given = checks.filter(pl.col("verdict") != UNVERIFIABLE)
    kinds = [k for k, _ in html.counts_of(reference, "source_kind")]
    by_file = (reference.group_by("source_file", "source_kind").len()
               .pivot(on="source_kind", index="source_file", values="len", sort_columns=False)
               .select("source_file", *kinds).sort("source_file")
               .with_columns(pl.col("source_file").str.replace(r"^.*/", ""),
                             pl.col(kinds).fill_null(0)))
    return html.section("data", voice.t("data_title"), [
        voice.t("data_intro", n_ref=reference.height, n_files=reference["source_file"].n_unique(),
            mix=html.mix_text(html.counts_of(reference, "source_kind"), voice)),
        voice.t("data_weak", n_weak=int(given["weak_basis"].sum()), n_verdicts=given.height),
    ], html.table(by_file, [voice.t("table_file"), *(voice.label(k) for k in kinds)]),
        caption=html.numbered("data", voice.t("data_table"), voice),
        after=[backtest_text(tables["estimates_backtest"], tables["estimates"], voice)],
        figure=exhibit.figure("estimates_backtest", tables, voice, voice.t("figure_backtest")))


def backtest_text(backtest: pl.DataFrame, estimates: pl.DataFrame, voice: Voice) -> str:
    """How far off the estimator is on the cities whose 2023 figure is known, per metric, and
    which estimates rest on too few of them to be trusted like the others."""
    from citycluster.ingest.backtest import METHODS, MIN_BACKTEST

    # the method chosen is the most elaborate one its rows used (city_trend falls back to the
    # kind's adjustment for a city without a census trend, never the other way)
    items = [voice.t("backtest_item", metric=voice.label(metric), n=rows.height,
                 error=voice.pct(float(rows["error_share"].abs().median()), 1),  # type: ignore[arg-type]
                 inside=int(rows["inside"].sum()),
                 method=voice.t("method_" + max(set(rows["method"]), key=METHODS.index)))
             for (metric,), rows in backtest.sort("metric", descending=True).group_by(
                 "metric", maintain_order=True)]
    weak = estimates.filter(pl.col("n_backtest") < MIN_BACKTEST,
                            pl.col("method") != "interpolated")
    least = voice.t("backtest_least", n=MIN_BACKTEST, members=voice.t("list_sep").join(
        voice.t("backtest_member", name=voice.name(r["entity_id"]), metric=voice.label(r["metric"]))
        for r in weak.iter_rows(named=True)))
    figure = voice.t("figure_ref", n=figure_number("estimates_backtest"))
    return voice.t("backtest_intro", figure=figure,
               items=voice.t("list_sep").join(items)) + (voice.t("sentence_sep") + least
                                                       if weak.height else "")


def validation_section(tables: Tables, voice: Voice) -> str:
    """How many rules held before publication, and the warnings with their examples."""
    validation = tables["validation_summary"]
    failed = validation.filter(~pl.col("success"))
    warned = failed.filter(pl.col("severity") == "warning").select(
        "table", "column", pl.col("name").map_elements(voice.rule, return_dtype=pl.String),
        "unexpected", "examples")
    critical = failed.filter(pl.col("severity") == "critical").height
    return html.section("validation", voice.t("validation_title"), [
        voice.t("validation_intro", n_rules=validation.height,
            n_pass=int(validation["success"].sum()),
            warnings=voice.plural("n_warnings", warned.height),
            critical=voice.plural("n_critical", critical)),
    ], html.table(warned, [voice.t(k) for k in ("table_file", "table_column", "table_rule",
                                            "table_rows", "table_examples")]),
        caption=html.numbered("validation", voice.t("validation_table"), voice))


def models_section(tables: Tables, voice: Voice) -> str:
    """The results as questions, each answered with its interval, its figure and its limits."""
    return results.section(dict(tables), voice)


def trend_sentences(models: pl.DataFrame, voice: Voice) -> list[str]:
    """Each growth case's compound rate between its two dated figures, with the bound its
    printed wording allows."""
    out = []
    for row in models.filter(pl.col("status") == "endpoints",
                             pl.col("term").str.starts_with("cagr")).iter_rows(named=True):
        y0, y1 = row["term"].split("_")[1:3]
        bound = (voice.t("trend_lower") if row["ci_high"] is None and row["ci_low"] is not None
                 else voice.t("trend_upper") if row["ci_low"] is None and row["ci_high"] is not None
                 else "")
        metric = row["model"].removeprefix(f"trend_{row['sample']}_")
        out.append(voice.t("trend", entity=voice.name(row["sample"]), metric=voice.label(metric),
                       y0=y0, y1=y1, rate=voice.pct(row["estimate"], 1), bound=bound))
    return out


def cases_section(tables: Tables, voice: Voice) -> str:
    """London's shift outwards and the specialised Chinese cities."""
    london = charts.london_changes(tables["claims"], tables["reference"]).filter(
        pl.col("origin") == "reference")
    change = dict(london.select("entity_id", "change").iter_rows())
    text = html.section("cases", voice.t("cases_title"), [voice.t(
        "cases_intro",
        inner=voice.quantity(change.get("gb_london_inner"), "persons", signed=True),
        outer=voice.quantity(change.get("gb_london_outer"), "persons", signed=True)),
        *trend_sentences(tables["models"], voice)])
    return text + exhibit.figures(tables, voice, [("london_shift", "figure_london"),
                                       ("growth_cases", "figure_growth")])


def factcheck_section(tables: Tables, voice: Voice, tol: Tolerances) -> str:
    """Every check with its verdict, reason and sources, the inconsistent ones first."""
    checks = tables["factcheck"]
    direct = checks.filter(pl.col("check") == "direct")
    return html.factcheck_section(checks, voice, [
        voice.t("fc_intro", n_claims=direct.height, n_cross=checks.height - direct.height),
        voice.t("fc_rules", rounding=voice.pct(tol.rounding, 0), approx=voice.pct(tol.approx, 0),
            gap=tol.max_year_gap),
        voice.t("fc_order", n_inconsistent=direct.filter(pl.col("verdict") == INCONSISTENT).height,
            table=voice.t("table_ref", n=table_number("factcheck"))),
    ], exhibit.figure("factcheck_overview", tables, voice, voice.t("figure_factcheck")))


def caveats_section(tables: Tables, voice: Voice) -> str:
    """What the data cannot support."""
    models = tables["models"]
    key = key_slopes(models)
    recalled = tables["reference"].filter(pl.col("source_kind") == "recalled").height
    return html.section("caveats", voice.t("caveats_title"), [
        voice.t("caveat_boundary"),
        voice.t("caveat_small", n_small=key.filter(pl.col("n") < 10).height, n_models=key.height),
        voice.t("caveat_recalled", n=recalled), voice.t("caveat_trends")])


def sources_section(tables: Tables, voice: Voice, checked: dict[str, Any],
                    cff: dict[str, Any]) -> str:
    """The article, the literature, and every reference row, derived figure and plan the
    verdicts, models and totals rest on."""
    return sources.section(dict(tables), voice, checked, cff)


def contents(tables: Tables, voice: Voice) -> str:
    """The table of contents, after the answer."""
    return html.contents(voice)


#: What a reader may download beside the report, each under the terms the section states.
DOWNLOADS = ("factcheck.csv", "models.csv", "missing_figures.csv", "validation/summary.csv",
             "index.html")


def cite_section(cff: dict[str, Any], record: dict[str, Any], voice: Voice) -> str:
    """How to cite this report (the version it was built from) in APA, GB/T 7714 and BibTeX,
    and the terms of its text, figures and data."""
    return html.render_template(
        "cite.html.j2", t=entries(voice.lang, "text"),
        intro=voice.t("cite_intro", commit=citation.version(cff, record)["commit"]),
        styles=citation.styles(cff, record, voice),
        terms=voice.t("terms", code_licence=cff.get("license", ""),
                  content_licence=CONTENT_LICENCE.short),
        downloads=[(path, path) for path in DOWNLOADS])


#: The report body in reading order (the header and footer frame it).
BODY: tuple[Callable[[Tables, Voice], str], ...] = (
    findings_section, contents, cluster_map_figure, claims_section, data_section,
    validation_section, models_section, cases_section,
)


def sections(tables: Tables, voice: Voice, tol: Tolerances, report_languages: list[str],
             record: dict[str, Any], article: dict[str, Any],
             cff: dict[str, Any]) -> list[str]:
    """The whole report as HTML fragments, in order: what the notebook displays cell by cell."""
    return [html.header(voice, report_languages, article, cff, record),
            *(part(tables, voice) for part in BODY),
            factcheck_section(tables, voice, tol), caveats_section(tables, voice),
            sources_section(tables, voice, article, cff), cite_section(cff, record, voice),
            html.footer(record, voice, html.counts_of(tables["reference"], "vintage"))]
