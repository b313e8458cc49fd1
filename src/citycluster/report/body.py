"""The report's sections in reading order, each one function of the published tables.

The 06_report notebook calls these one per cell, with a sentence on what each section says;
a test calls :func:`sections` in a pseudo-locale to prove that every word comes from a
catalog. Every number is computed here from the tables, none is typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from citycluster.report import charts, chinamap, findings, html, modelsection, render
from citycluster.report.voice import Voice

Tables = Mapping[str, pl.DataFrame]


@dataclass(frozen=True)
class Tolerances:
    """The fact-check's tolerances, as the run set them (the fact-check section states them)."""

    approx: float
    rounding: float
    max_year_gap: int


def findings_section(tables: Tables, v: Voice) -> str:
    """What holds and what does not, first."""
    return findings.section(tables["factcheck"], tables["cluster_totals"], tables["models"],
                            tables["claims"], v)


def cluster_map_figure(tables: Tables, v: Voice) -> str:
    """Where the five clusters are, with each one's shares in the caption."""
    chart = render.themed(charts.figure("cluster_map").build(dict(tables), v))
    return render.chart_html(chart, "cluster_map", chinamap.caption(tables["cluster_totals"], v))


def claims_section(tables: Tables, v: Voice) -> str:
    """The ledger of the article's figures, each as printed and as normalised."""
    claims, shares = tables["claims"], tables["shares"]
    big5 = shares.filter(pl.col("entity_id") == "cn_big5", pl.col("origin") == "article").row(
        0, named=True)
    rows = claims.sort("claim_id").select(
        "claim_id", "paragraph", v.name_of("entity_id"),
        pl.col("metric").map_elements(v.label, return_dtype=pl.String), "printed",
        pl.struct("value_base", "base_unit").map_elements(
            lambda r: v.quantity(r["value_base"], r["base_unit"]),
            return_dtype=pl.String).alias("value"),
        pl.col("qualifier").map_elements(v.label, return_dtype=pl.String),
        pl.col("year").cast(pl.String))
    return html.section("claims", v.t("claims_title"), [
        v.t("claims_intro", n_claims=claims.height, n_paragraphs=claims["paragraph"].n_unique(),
            n_entities=claims["entity_id"].n_unique(), n_units=claims["unit"].n_unique()),
        v.t("claims_share", pop=v.pct(big5["pop_share"], 0), gdp=v.pct(big5["gdp_share"], 0)),
    ], html.table(rows, [v.t(k) for k in ("table_id", "table_para", "table_entity",
                                          "table_metric", "table_printed", "table_value",
                                          "table_qualifier", "table_year")]))


def data_section(tables: Tables, v: Voice) -> str:
    """Where the reference figures come from, by kind of source and file."""
    reference, checks = tables["reference"], tables["factcheck"]
    given = checks.filter(pl.col("verdict") != "unverifiable")
    by_file = (reference.group_by("source_file", "source_kind").len()
               .sort("source_file", "source_kind")
               .with_columns(pl.col("source_kind").map_elements(v.label,
                                                                return_dtype=pl.String)))
    return html.section("data", v.t("data_title"), [
        v.t("data_intro", n_ref=reference.height, n_files=reference["source_file"].n_unique(),
            mix=html.mix_text(html.counts_of(reference, "source_kind"), v)),
        v.t("data_weak", n_weak=int(given["weak_basis"].sum()), n_verdicts=given.height),
    ], html.table(by_file, [v.t("table_file"), v.t("table_conf"), v.t("table_rows")]))


def validation_section(tables: Tables, v: Voice) -> str:
    """How many rules held before publication, and the warnings with their examples."""
    validation = tables["validation_summary"]
    failed = validation.filter(~pl.col("success"))
    warned = failed.filter(pl.col("severity") == "warning").select(
        "table", "column", pl.col("name").map_elements(v.rule, return_dtype=pl.String),
        "unexpected", "examples")
    critical = failed.filter(pl.col("severity") == "critical").height
    return html.section("validation", v.t("validation_title"), [
        v.t("validation_intro", n_rules=validation.height,
            n_pass=int(validation["success"].sum()),
            warnings=v.plural("n_warnings", warned.height),
            critical=v.plural("n_critical", critical)),
    ], html.table(warned, [v.t(k) for k in ("table_file", "table_column", "table_rule",
                                            "table_rows", "table_examples")])
        if warned.height else None)


def models_section(tables: Tables, v: Voice) -> str:
    """Each model in a sentence with its interval, and the table of key terms."""
    return modelsection.section(tables["models"], tables["model_tests"],
                                tables["model_comparison"], tables["cluster_totals"], v)


def _figures(tables: Tables, v: Voice, pairs: list[tuple[str, str]]) -> str:
    out = []
    for name, caption in pairs:
        chart = render.themed(charts.figure(name).build(dict(tables), v))
        out.append(render.chart_html(chart, name, v.t(caption)))
    return "".join(out)


def model_figures(tables: Tables, v: Voice) -> str:
    """The share scatter, the premium bars and the provincial scaling plot."""
    return _figures(tables, v, [("share_scatter", "figure_share"),
                                ("premium_bars", "figure_premium"),
                                ("scaling_scatter", "figure_scaling")])


def cases_section(tables: Tables, v: Voice) -> str:
    """London's shift outwards and the specialised Chinese cities."""
    london = charts.london_changes(tables["claims"], tables["reference"]).filter(
        pl.col("origin") == "reference")
    change = dict(london.select("entity_id", "change").iter_rows())
    text = html.section("cases", v.t("cases_title"), [v.t(
        "cases_intro",
        inner=v.quantity(change.get("gb_london_inner"), "persons", signed=True),
        outer=v.quantity(change.get("gb_london_outer"), "persons", signed=True))])
    return text + _figures(tables, v, [("london_shift", "figure_london"),
                                       ("growth_cases", "figure_growth")])


def factcheck_section(tables: Tables, v: Voice, tol: Tolerances) -> str:
    """Every check with its verdict, reason and sources, the inconsistent ones first."""
    checks = tables["factcheck"]
    direct = checks.filter(pl.col("check") == "direct")
    verdicts = dict(direct.group_by("verdict").len().iter_rows())
    chart = render.themed(charts.figure("factcheck_overview").build(dict(tables), v))
    return html.factcheck_section(checks, v, [
        v.t("fc_intro", n_claims=direct.height, consistent=verdicts.get("consistent", 0),
            inconsistent=verdicts.get("inconsistent", 0),
            unverifiable=verdicts.get("unverifiable", 0), n_cross=checks.height - direct.height),
        v.t("fc_rules", rounding=v.pct(tol.rounding, 0), approx=v.pct(tol.approx, 0),
            gap=tol.max_year_gap),
    ], render.chart_html(chart, "factcheck_overview", v.t("figure_factcheck")))


def caveats_section(tables: Tables, v: Voice) -> str:
    """What the data cannot support."""
    models = tables["models"]
    key = models.filter(pl.col("status") == "fitted", pl.col("max_cooks").is_not_null())
    recalled = tables["reference"].filter(pl.col("source_kind") == "recalled").height
    return html.section("caveats", v.t("caveats_title"), [
        v.t("caveat_boundary"),
        v.t("caveat_small", n_small=key.filter(pl.col("n") < 10).height, n_models=key.height),
        v.t("caveat_recalled", n=recalled), v.t("caveat_trends")])


#: The report body in reading order (the header and footer frame it).
BODY: tuple[Callable[[Tables, Voice], str], ...] = (
    findings_section, cluster_map_figure, claims_section, data_section, validation_section,
    models_section, model_figures, cases_section,
)


def sections(tables: Tables, v: Voice, tol: Tolerances, report_languages: list[str],
             record: dict[str, Any]) -> list[str]:
    """The whole report as HTML fragments, in order: what the notebook displays cell by cell."""
    return [html.header(v, report_languages) + render.vega_bundle_html(),
            *(part(tables, v) for part in BODY),
            factcheck_section(tables, v, tol), caveats_section(tables, v),
            html.footer(record, v, html.counts_of(tables["reference"], "vintage"))]
