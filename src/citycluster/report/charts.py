"""Altair charts, one function each, one theme, labels in the report's language.

Every chart function takes the published tables and a :class:`Voice` and returns a chart whose
title, axis labels, tooltips, place names and ``description`` (read by screen readers) are in
its language. The
same functions feed the report and the exported files in ``reports/figures/``.

How a chart reaches the reader (theme, fonts, export, offline embedding) is
:mod:`citycluster.report.render`. A little over 300 lines: one function per figure (seven) and
the registry that lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import altair as alt
import polars as pl

from citycluster.errors import LookupFailed
from citycluster.factcheck.verdicts import CONSISTENT, INCONSISTENT, UNVERIFIABLE
from citycluster.report import backtestchart, chinamap, citycharts
from citycluster.report.i18n import phrase
from citycluster.report.labels import placed
from citycluster.report.render import TEXT_PX, wrapped_labels
from citycluster.report.voice import Voice

ORIGIN_COLORS = {"article": "#d95f02", "reference": "#1b9e77"}
#: Chinese cases of specialised growth: the entity and the claim metric whose dated figures the
#: article gives. Reference figures join a case only where the fact-check links declare them the
#: same quantity; a broader industry (a bound) is a different quantity and is left out.
#: The plot area of the scatter of places (inside the axes), within render.MAX_WIDTH.
SCATTER = (360, 300)
GROWTH_CASES = (("cn_zhangye", "output"), ("cn_hebi", "supporting_rate"),
                ("cn_ningxiang", "output"), ("cn_kunshan", "output"))



def _number(value: object) -> float:
    """A polars aggregate (typed as any scalar) as the float it is for a numeric column."""
    return float(cast(float, value))

def _origin_scale(voice: Voice) -> alt.Scale:
    t = voice.chart()
    return alt.Scale(domain=[t["article"], t["reference"]],
                     range=[ORIGIN_COLORS["article"], ORIGIN_COLORS["reference"]])


def _origin_label(voice: Voice) -> pl.Expr:
    t = voice.chart()
    return pl.col("origin").replace_strict({"article": t["article"],
                                            "reference": t["reference"]})


def share_scatter(shares: pl.DataFrame, predictions: pl.DataFrame, voice: Voice,
                  model: str = "share_entities") -> alt.LayerChart:
    """Entities' GDP share against population share: parity line, fitted line and band."""
    t = voice.chart()
    data = shares.filter(pl.col("entity_type") != "province",
                         ~pl.col("city_level").fill_null(False)).select(
        voice.name_of("entity_id").alias("entity"), "pop_share", "gdp_share", "premium",
        _origin_label(voice).alias("origin"), "boundary")
    fit = predictions.filter(pl.col("model") == model).select("x", "fit", "low", "high")
    top = max(_number(data["pop_share"].max()), _number(data["gdp_share"].max())) * 1.05
    x = alt.X("pop_share:Q", title=t["pop_share"], axis=alt.Axis(format="%"),
              scale=alt.Scale(domain=[0, top]))
    y = alt.Y("gdp_share:Q", title=t["gdp_share"], axis=alt.Axis(format="%"),
              scale=alt.Scale(domain=[0, top]))
    parity = alt.Chart(alt.Data(values=[{"pop_share": 0, "gdp_share": 0},
                                        {"pop_share": top, "gdp_share": top}])).mark_line(
        strokeDash=[4, 4], color="#888").encode(x=x, y=y)
    band = alt.Chart(fit).mark_area(opacity=0.18, color="#555").encode(
        x=alt.X("x:Q"), y=alt.Y("low:Q"), y2="high:Q")
    line = alt.Chart(fit).mark_line(color="#555").encode(x="x:Q", y="fit:Q")
    points = alt.Chart(data).mark_circle(size=80, opacity=0.9).encode(
        x=x, y=y, color=alt.Color("origin:N", title=t["origin"], scale=_origin_scale(voice),
                                  legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("entity:N", title=t["entity"]),
                 alt.Tooltip("origin:N", title=t["origin"]),
                 alt.Tooltip("pop_share:Q", title=t["pop_share"], format=".1%"),
                 alt.Tooltip("gdp_share:Q", title=t["gdp_share"], format=".1%"),
                 alt.Tooltip("premium:Q", title=t["premium"], format=".2f")])
    # a place with figures from both origins is named once (two labels would coincide)
    once = data.sort("origin", descending=True).unique("entity", keep="first",
                                                        maintain_order=True)
    named = placed(once, "pop_share", "gdp_share", "entity", "gdp_share",
                   x_domain=[0, top], y_domain=[0, top], width=SCATTER[0],
                   height=SCATTER[1], font_px=TEXT_PX, sides=("right", "left"))
    labels = citycharts.name_layers(named.rename({"entity": "city"}), x, y)
    return (band + line + parity + points + labels).properties(
        title=t["share_title"], width=SCATTER[0], height=SCATTER[1],
        description=t["share_desc"].format(n=data.height))


def premium_bars(shares: pl.DataFrame, voice: Voice) -> alt.LayerChart:
    """The premium (GDP share / population share) of each non-province entity, sorted."""
    t = voice.chart()
    data = shares.filter(pl.col("entity_type") != "province",
                         ~pl.col("city_level").fill_null(False)).select(
        pl.format(t["place_origin"], voice.name_of("entity_id"),
                  _origin_label(voice)).alias("entity"),
        _origin_label(voice).alias("origin"), "premium", "pop_share", "gdp_share")
    bars = alt.Chart(data).mark_bar().encode(
        y=alt.Y("entity:N", sort="-x", title=None, axis=alt.Axis(labelExpr=wrapped_labels())),
        x=alt.X("premium:Q", title=t["premium"]),
        color=alt.Color("origin:N", title=t["origin"], scale=_origin_scale(voice),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("entity:N", title=t["entity"]),
                 alt.Tooltip("premium:Q", title=t["premium"], format=".2f"),
                 alt.Tooltip("pop_share:Q", title=t["pop_share"], format=".1%"),
                 alt.Tooltip("gdp_share:Q", title=t["gdp_share"], format=".1%")])
    one = alt.Chart(alt.Data(values=[{"premium": 1}])).mark_rule(
        strokeDash=[4, 4], color="#333").encode(x="premium:Q")
    desc = t["premium_desc"].format(n=data.height, low=f"{_number(data['premium'].min()):.2f}",
                                    high=f"{_number(data['premium'].max()):.2f}")
    return (bars + one).properties(title=t["premium_title"], width=200,
                                   height=alt.Step(30), description=desc)


def london_changes(claims: pl.DataFrame, reference: pl.DataFrame) -> pl.DataFrame:
    """Population changes around London: the article's, and census differences 1951-1981."""
    article = claims.filter(pl.col("metric") == "population_change",
                            pl.col("country") == "GBR").select(
        "entity_id", pl.col("value_base").alias("change"),
        pl.lit("article").alias("origin"), pl.col("claim_id").alias("source"))
    census = (reference.filter(pl.col("metric") == "population", pl.col("vintage") == "census",
                               pl.col("entity_id").is_in(["gb_london_inner", "gb_london_outer"]),
                               pl.col("year").is_in([1951, 1981]))
              .sort("entity_id", "year", "ref_id")
              .group_by("entity_id", "year", maintain_order=True).first()
              .group_by("entity_id", maintain_order=True)
              .agg((pl.col("value_base").last() - pl.col("value_base").first()).alias("change"),
                   pl.col("ref_id").str.join("−").alias("source"),
                   pl.len().alias("years"))
              .filter(pl.col("years") == 2)
              .select("entity_id", "change", pl.lit("reference").alias("origin"), "source"))
    return pl.concat([article, census])


def london_shift(claims: pl.DataFrame, reference: pl.DataFrame,
                 voice: Voice) -> alt.LayerChart:
    """Population lost by inner London and gained beyond it, article against census."""
    t = voice.chart()
    divisor, unit = voice.axis_scale("population")
    change = t["axis_unit"].format(title=t["change"], unit=unit)
    data = london_changes(claims, reference).select(
        voice.name_of("entity_id").alias("area"), (pl.col("change") / divisor).alias("change"),
        _origin_label(voice).alias("origin"), "source")
    bars = alt.Chart(data).mark_bar().encode(
        y=alt.Y("area:N", title=None, sort="x", axis=alt.Axis(labelExpr=wrapped_labels())),
        x=alt.X("change:Q", title=change, axis=alt.Axis(format=",~r")),
        yOffset="origin:N",
        color=alt.Color("origin:N", title=t["origin"], scale=_origin_scale(voice),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("area:N", title=t["area"]),
                 alt.Tooltip("change:Q", title=change, format=",.2~f"),
                 alt.Tooltip("origin:N", title=t["origin"]), "source:N"])
    zero = alt.Chart(alt.Data(values=[{"change": 0}])).mark_rule(color="#333").encode(
        x="change:Q")
    return (bars + zero).properties(title=t["london_title"], width=220, height=alt.Step(22),
                                    description=t["london_desc"].format(n=data["area"].n_unique()))


def growth_points(claims: pl.DataFrame, reference: pl.DataFrame, links: pl.DataFrame,
                  voice: Voice) -> pl.DataFrame:
    """Dated figures of each growth case in display units (the language's money unit for
    amounts, % for fractions)."""
    frames = []
    for entity, metric in GROWTH_CASES:
        case_claims = claims.filter(pl.col("entity_id") == entity, pl.col("metric") == metric)
        ref_metrics = links.filter(pl.col("claim_id").is_in(case_claims["claim_id"].implode()),
                                   pl.col("ref_entity_id") == entity,
                                   pl.col("relation") == "same")["ref_metric"].to_list()
        a = case_claims.filter(pl.col("year").is_not_null()).select(
            "entity_id", pl.lit(metric).alias("case_metric"), "year", "value_base", "base_unit",
            "printed", pl.lit("article").alias("origin"), pl.col("claim_id").alias("source"),
            pl.col("metric").alias("measure"))
        r = reference.filter(pl.col("entity_id") == entity,
                             pl.col("metric").is_in([metric, *ref_metrics]),
                             pl.col("year").is_not_null()).select(
            "entity_id", pl.lit(metric).alias("case_metric"), "year", "value_base", "base_unit",
            (pl.col("value").cast(pl.String) + " " + pl.col("unit")).alias("printed"),
            pl.lit("reference").alias("origin"), pl.col("ref_id").alias("source"),
            pl.col("metric").alias("measure"))
        if not a.is_empty():  # one panel per case, on the claim's own quantity
            units = a["base_unit"].unique().implode()
            frames.extend([a, r.filter(pl.col("base_unit").is_in(units))])
    data = pl.concat(frames)
    money_div, money_unit = voice.axis_scale("money")
    scale = pl.when(pl.col("base_unit") == "CNY").then(1 / money_div).when(
        pl.col("base_unit") == "fraction").then(100.0).otherwise(1.0)
    unit = pl.when(pl.col("base_unit") == "CNY").then(pl.lit(money_unit)).when(
        pl.col("base_unit") == "fraction").then(pl.lit("%")).otherwise(pl.col("base_unit"))
    return data.with_columns((pl.col("value_base") * scale).alias("display"),
                             unit.alias("display_unit"))


def growth_cases(claims: pl.DataFrame, reference: pl.DataFrame, links: pl.DataFrame,
                 voice: Voice) -> alt.FacetChart:
    """One small panel per growth case, each on its own scale: figures by year."""
    t = voice.chart()
    data = growth_points(claims, reference, links, voice)
    data = data.with_columns(
        pl.format(t["case_unit"], voice.name_of("entity_id"), "display_unit").alias("case"),
        _origin_label(voice).alias("origin"),
        pl.when(pl.col("measure") == pl.col("case_metric")).then(pl.lit(t["same_metric"]))
        .otherwise(pl.col("measure").replace_strict(
            {m: voice.label(m) for m in data["measure"].unique()})).alias("measure"))
    cases = voice.t("list_sep").join(data["case"].unique(maintain_order=True).to_list())
    base = alt.Chart().encode(
        x=alt.X("year:O", title=t["year"], axis=alt.Axis(labelAngle=0)),
        y=alt.Y("display:Q", title=t["value"], scale=alt.Scale(zero=True)),
        color=alt.Color("origin:N", title=t["origin"], scale=_origin_scale(voice),
                        legend=alt.Legend(orient="top")))
    line = base.transform_filter(alt.datum.origin == t["article"]).mark_line()
    points = base.mark_point(size=80, filled=True).encode(
        tooltip=[alt.Tooltip("case:N", title=t["case"]), alt.Tooltip("year:O", title=t["year"]),
                 alt.Tooltip("printed:N", title=t["wording"]),
                 alt.Tooltip("display:Q", title=t["value"], format=",.4~g"),
                 alt.Tooltip("measure:N", title=t["ref_metric"]), "source:N"])
    return alt.layer(line, points, data=data.to_pandas()).properties(
        width=160, height=140).facet(
        facet=alt.Facet("case:N", title=None, sort=None), columns=2).resolve_scale(
        x="independent", y="independent").properties(title=t["growth_title"],
                                    description=t["growth_desc"].format(cases=cases))


VERDICT_COLORS = {CONSISTENT: "#1b9e77", INCONSISTENT: "#d95f02", UNVERIFIABLE: "#999999"}


def factcheck_overview(checks: pl.DataFrame, paragraphs: pl.DataFrame,
                       voice: Voice) -> alt.VConcatChart:
    """The verdicts of the claims, stacked, by the part of the article each claim is in and by
    the kind of source it was checked against: where the article holds and on what it rests,
    before the table's details."""
    t = voice.chart()
    order = [t[k] for k in VERDICT_COLORS]
    color = alt.Color("verdict:N", title=t["verdict"], sort=order,
                      scale=alt.Scale(domain=order, range=list(VERDICT_COLORS.values())),
                      legend=alt.Legend(orient="top"))
    direct = checks.filter(pl.col("check") == "direct").join(
        paragraphs.select("paragraph", "section"), on="paragraph", how="left")
    data = direct.select(
        pl.col("verdict").replace_strict({k: t[k] for k in VERDICT_COLORS}),
        pl.col("verdict").replace_strict({k: i for i, k in enumerate(VERDICT_COLORS)})
        .alias("order"),
        ("section_" + pl.col("section")).map_elements(voice.label, return_dtype=pl.String)
        .alias("topic"),
        pl.col("source_kind").fill_null("no_reference").map_elements(
            lambda kinds: " · ".join(voice.label(k) for k in kinds.split(", ")),
            return_dtype=pl.String).alias("grade"))

    topics = [voice.label(f"section_{s}") for s in sorted(direct["section"].unique().to_list())]

    def panel(field: str, sort: list[str] | str) -> alt.Chart:
        counts = (data.group_by(field, "verdict", "order").len().rename({"len": "checks"})
                  .sort(field, "order"))  # group_by's order varies from run to run
        return alt.Chart(counts, title=alt.Title(t[field], fontSize=13)).mark_bar().encode(
            y=alt.Y(f"{field}:N", title=None, sort=sort, axis=alt.Axis(labelExpr=wrapped_labels())),
            x=alt.X("sum(checks):Q", title=t["checks"]), color=color,
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip(f"{field}:N", title=t[field]),
                     alt.Tooltip("verdict:N", title=t["verdict"]),
                     alt.Tooltip("checks:Q", title=t["checks"])]
        ).properties(width=200, height=alt.Step(30))

    counts = dict(data.group_by("verdict").len().iter_rows())
    count_text = voice.t("list_sep").join(t["verdict_count"].format(n=counts[k], verdict=k)
                                      for k in order if k in counts)
    return alt.vconcat(panel("topic", topics), panel("grade", "-x")).properties(
        title=t["fc_topic_title"], description=t["fc_topic_desc"].format(
            n=data.height, counts=count_text))


#: The article's headline figure: the five clusters' population and GDP shares (the findings
#: open with their verdicts, and the headline chart draws them).
HEADLINE = ("C006", "C007")
#: The headline's rows, in the order the chart stacks them: the article's figure, then what
#: the member cities give (observed, then with estimates), then the member provinces whole.
HEADLINE_SERIES = ("hl_article", "hl_observed", "hl_estimates", "hl_provinces")


def headline(checks: pl.DataFrame, totals: pl.DataFrame, shares: pl.DataFrame,
             voice: Voice) -> alt.FacetChart:
    """The article's two headline shares (C006, C007) beside what the member cities give,
    observed and with estimates, and what the member provinces hold whole: a range for
    each, a point where it is one figure."""
    t = voice.chart()
    claimed = {r["metric"]: r for r in checks.filter(
        pl.col("check") == "direct", pl.col("claim_id").is_in(list(HEADLINE))).iter_rows(
            named=True)}
    big5 = totals.filter(pl.col("entity_id") == "cn_big5")
    whole = shares.filter(pl.col("entity_id") == "cn_big5", pl.col("origin") == "reference")
    rows = []
    for metric in ("pop_share", "gdp_share"):
        if metric not in claimed or not big5.height:
            continue
        b, c = big5.row(0, named=True), claimed[metric]
        ranges = {"hl_article": (c["claimed_low"], c["claimed_high"]),
                  "hl_observed": (b[f"{metric}_low"], b[f"{metric}_high"]),
                  "hl_estimates": (b[f"est_{metric}_low"], b[f"est_{metric}_high"])}
        if whole.height:
            ranges["hl_provinces"] = (whole[metric][0], whole[metric][0])
        for i, key in enumerate(HEADLINE_SERIES):
            low, high = ranges.get(key, (None, None))
            if low is None or high is None:
                continue
            shown = voice.pct(low, 1) if low == high else phrase(
                voice.lang, "references", "range", low=voice.pct(low, 1), high=voice.pct(high, 1))
            rows.append({"measure": t[metric], "series": t[key], "order": i, "low": low,
                         "high": high, "range": shown, "claim": c["claim_id"]})
    data = pl.DataFrame(rows)
    order = [t[k] for k in HEADLINE_SERIES]
    y = alt.Y("series:N", title=None, sort=order, axis=alt.Axis(labelExpr=wrapped_labels(18)))
    color = alt.Color("series:N", sort=order, legend=None, scale=alt.Scale(
        domain=order, range=["#d95f02", "#1b9e77", "#66a61e", "#7570b3"]))
    tooltip = [alt.Tooltip("series:N", title=t["hl_series"]),
               alt.Tooltip("low:Q", title=t["hl_low"], format=".1%"),
               alt.Tooltip("high:Q", title=t["hl_high"], format=".1%")]
    bar = alt.Chart().mark_rule(strokeWidth=6, opacity=0.8).encode(
        y=y, x=alt.X("low:Q", title=t["hl_axis"], axis=alt.Axis(format="%"),
                     scale=alt.Scale(zero=False, nice=True)),
        x2="high:Q", color=color, tooltip=tooltip)
    ends = [alt.Chart().mark_tick(thickness=2, size=16).encode(
        y=y, x=f"{end}:Q", color=color, tooltip=tooltip) for end in ("low", "high")]
    label = alt.Chart().mark_text(align="left", dx=8, fontSize=TEXT_PX, color="#333").encode(
        y=y, x="high:Q", text="range:N")
    header = alt.Header(labelAngle=0, labelAlign="left", labelAnchor="start",
                        labelFontWeight="bold", labelFontSize=13, labelOrient="top")
    return (alt.layer(bar, *ends, label, data=data)
            .properties(width=170, height=alt.Step(30))
            .facet(row=alt.Row("measure:N", title=None, header=header,
                               sort=[t["pop_share"], t["gdp_share"]]))
            .properties(title=t["headline_title"],
                        description=t["headline_desc"].format(n=data.height)))


@dataclass(frozen=True)
class Figure:
    """A named chart: how to build it from the tables, in a given language."""

    name: str
    build: Callable[[dict[str, pl.DataFrame], Voice], alt.TopLevelMixin]
    #: The models whose fit the figure draws (a test holds that each model fitted on 30 or
    #: more rows has one).
    models: tuple[str, ...] = ()


#: Every figure, in the order the report shows them: a figure's number is its place here
#: (:func:`citycluster.report.xref.figure_number`).
FIGURES: tuple[Figure, ...] = (
    Figure("headline", lambda d, v: headline(d["factcheck"], d["cluster_totals"], d["shares"],
                                             v)),
    Figure("cluster_map", lambda d, v: chinamap.cluster_map(
        d["membership"], d["coordinates"], d["cluster_totals"], v)),
    Figure("estimates_backtest",
           lambda d, v: backtestchart.estimates_backtest(d["estimates_backtest"], v)),
    Figure("city_shares", citycharts.city_shares, ("share_cities",)),
    Figure("city_scaling", citycharts.city_scaling, ("scaling_cities",)),
    Figure("city_linkage", citycharts.city_linkage, ("linkage_distance_cities",)),
    Figure("city_capital", lambda d, v: citycharts.city_linkage(
        d, v, "linkage_capital_cities", citycharts.CAPITAL), ("linkage_capital_cities",)),
    Figure("share_scatter", lambda d, v: share_scatter(d["shares"], d["model_predictions"], v),
           ("share_entities",)),
    Figure("premium_bars", lambda d, v: premium_bars(d["shares"], v)),
    Figure("province_shares", lambda d, v: citycharts.city_shares(
        d, v, "share_provinces", "province_share", by_cluster=False), ("share_provinces",)),
    Figure("province_scaling", lambda d, v: citycharts.city_scaling(
        d, v, "scaling_provinces", "province_scaling", by_cluster=False),
           ("scaling_provinces",)),
    Figure("london_shift", lambda d, v: london_shift(d["claims"], d["reference"], v)),
    Figure("growth_cases",
           lambda d, v: growth_cases(d["claims"], d["reference"], d["links"], v)),
    Figure("factcheck_overview",
           lambda d, v: factcheck_overview(d["factcheck"], d["paragraphs"], v)),
)


def figure(name: str) -> Figure:
    """A figure by name; an unknown name lists the valid ones."""
    for fig in FIGURES:
        if fig.name == name:
            return fig
    raise LookupFailed(f"unknown figure {name!r}; figures: "
                       f"{', '.join(f.name for f in FIGURES)}")
