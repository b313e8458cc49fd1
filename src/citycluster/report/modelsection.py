"""The models section: each fitted model in a sentence with its interval, the published
estimates beside ours, what could not be estimated, the trends, and the table of key terms."""

from __future__ import annotations

import polars as pl

from citycluster.report import html
from citycluster.report.voice import Voice


def section(models: pl.DataFrame, tests: pl.DataFrame, comparison: pl.DataFrame,
            cluster_totals: pl.DataFrame, v: Voice) -> str:
    """The section as HTML, every number from the model tables."""
    T, pct = v.t, v.pct

    key = models.filter((pl.col("status") != "fitted") | pl.col("max_cooks").is_not_null())
    fitted = {r["model"]: r for r in key.filter(pl.col("status") == "fitted").iter_rows(named=True)}
    p_value = dict(tests.select("model", "p_value").iter_rows())
    f2, f3 = (lambda x: v.num(x, 2)), (lambda x: v.num(x, 3))

    def slope_text(template: str, row: dict) -> str:
        verdict = T("prop_yes") if row["ci_low"] <= 1 <= row["ci_high"] else T("prop_no")
        return T(template, n=row["n"], slope=f2(row["estimate"]), low=f2(row["ci_low"]),
                 high=f2(row["ci_high"]), p=f2(p_value[row["model"]]), verdict=verdict)

    paragraphs = [slope_text("models_share", fitted["share_entities"]),
                  slope_text("models_provinces", fitted["share_provinces"])]
    cities = fitted.get("share_cities")
    if cities is not None:
        member = models.filter(pl.col("model") == "share_cities", pl.col("term") == "member").row(
            0, named=True)
        paragraphs.append(T("models_cities", n=cities["n"], slope=f2(cities["estimate"]),
                            low=f2(cities["ci_low"]), high=f2(cities["ci_high"]),
                            member=pct(member["estimate"], 2),
                            mlow=pct(member["ci_low"], 2),
                            mhigh=pct(member["ci_high"], 2)))
    city_beta = fitted.get("scaling_cities")
    if city_beta is not None:
        paragraphs.append(T("scaling_cities", n=city_beta["n"], beta=f2(city_beta["estimate"]),
                            low=f2(city_beta["ci_low"]), high=f2(city_beta["ci_high"])))
        for pub in comparison.filter(pl.col("model") == "scaling_cities").iter_rows(named=True):
            paragraphs.append(T("scaling_published_cities", pub=f2(pub["published"]),
                                plow=f2(pub["published_low"]), phigh=f2(pub["published_high"]),
                                pyear=pub["published_year"],
                                kind=v.label(pub["published_source_kind"])))
    link = fitted.get("linkage_distance_cities")
    if link is not None:
        paragraphs.append(T("linkage_cities", n=link["n"], slope=f2(link["estimate"]),
                            low=f2(link["ci_low"]), high=f2(link["ci_high"])))
    capital = fitted.get("linkage_capital_cities")
    if capital is not None:
        paragraphs.append(T("linkage_capital", n=capital["n"], slope=f2(capital["estimate"]),
                            low=f2(capital["ci_low"]), high=f2(capital["ci_high"]),
                            provinces=models.filter(
                                pl.col("model") == "linkage_capital_cities",
                                pl.col("term").str.starts_with("C(")).height + 1))
    totals = cluster_totals.filter(pl.col("entity_id") == "cn_big5")
    for t in totals.iter_rows(named=True):
        paragraphs.append(T("headline_cities", members=t["members"],
                            known_pop=t["members_known_population"],
                            known_gdp=t["members_known_gdp"],
                            plow=pct(t["pop_share_low"], 1),
                            phigh=pct(t["pop_share_high"], 1),
                            glow=pct(t["gdp_share_low"], 1),
                            ghigh=pct(t["gdp_share_high"], 1)))
    scal = fitted["scaling_provinces"]
    paragraphs.append(T("scaling_intro", beta=f2(scal["estimate"]), low=f2(scal["ci_low"]),
                        high=f2(scal["ci_high"])))
    for pub in comparison.filter(pl.col("model") == "scaling_provinces").iter_rows(named=True):
        paragraphs.append(T("scaling_published", pub=f2(pub["published"]),
                            plow=f2(pub["published_low"]), phigh=f2(pub["published_high"]),
                            pyear=pub["published_year"],
                            confidence=v.label(pub["published_source_kind"])))
    for row in key.filter(pl.col("status") == "not estimable").iter_rows(named=True):
        paragraphs.append(T("linkage_none", places=v.plural("n_places", row["n"])))
    for row in key.filter(pl.col("status") == "endpoints",
                          pl.col("term").str.starts_with("cagr")).iter_rows(named=True):
        y0, y1 = row["term"].split("_")[1:3]
        bound = (T("trend_lower") if row["ci_high"] is None and row["ci_low"] is not None
                 else T("trend_upper") if row["ci_low"] is None and row["ci_high"] is not None
                 else "")
        metric = row["model"].removeprefix(f"trend_{row['sample']}_")
        paragraphs.append(T("trend", entity=v.name(row["sample"]),
                            metric=v.label(metric),
                            y0=y0, y1=y1, rate=pct(row["estimate"], 1), bound=bound))
    model_rows = pl.DataFrame([{
        "term": T("model_term", model=v.label(r["model"]), term=v.label(r["term"])),
        "estimate": r["estimate"],
        "ci": v.interval(r["ci_low"], r["ci_high"]),
        "boot": v.interval(r["boot_ci_low"], r["boot_ci_high"]), "n": r["n"],
        "r_squared": r["r_squared"], "reading": html.reading(r, v)} for r in fitted.values()])
    return html.section("models", T("models_title"), paragraphs, html.table(
        model_rows, [T("table_term"), T("table_estimate"), T("table_ci"), T("table_boot"),
                     T("table_n"), T("table_r2"), T("table_warning")],
        {"estimate": f3, "r_squared": f3}), caption=T("models_table"))
