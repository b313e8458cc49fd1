"""Altair charts, one function each, one theme, labels in the report's language.

Every chart function takes the published tables and a language and returns a chart whose title,
axis labels, tooltips and ``description`` (read by screen readers) are in that language. The
same functions feed the report and the exported files in ``reports/figures/``.

Charts are embedded offline: :func:`vega_bundle_html` emits the Vega, Vega-Lite and vega-embed
libraries once per page (from vl-convert, wrapped in a function scope so the bundle's top-level
constants cannot clash), and :func:`chart_html` adds one ``div`` and one ``vegaEmbed`` call per
chart. Altair's own HTML output loads these libraries from a CDN, which a reader offline lacks.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import cast

import altair as alt
import numpy as np
import polars as pl

from citycluster.errors import EnvironmentProblem, LookupFailed

LABELS = {
    "en": {
        "pop_share": "Share of national population", "gdp_share": "Share of national GDP",
        "entity": "Place", "origin": "Figures from", "premium": "GDP share ÷ population share",
        "parity": "GDP share = population share", "fit": "fitted line", "band": "95% band",
        "share_title": "GDP share against population share",
        "share_desc": "Scatter of {n} places: population share across, GDP share up; a dashed "
                      "line marks equal shares and a shaded band the fitted line's 95% interval.",
        "premium_title": "How far GDP share exceeds population share",
        "premium_desc": "Bars for {n} places: GDP share divided by population share, from "
                        "{low} to {high}; the line at 1 marks GDP in proportion to population.",
        "scaling_title": "GDP against population across China's provinces (log scales)",
        "scaling_desc": "Scatter of {n} provinces on logarithmic axes, with the fitted power "
                        "law and its 95% band.",
        "population": "Resident population", "gdp_cny": "GDP", "province": "Province",
        "london_title": "London's population moved outwards, 1950s to 1981",
        "london_desc": "Bars of population change in {n} areas, the article's figures beside "
                       "census-based ones.",
        "change": "Population change", "area": "Area",
        "growth_title": "The article's growth cases, with reference figures where found",
        "growth_desc": "One panel per case ({cases}); points are figures by year, the "
                       "article's joined by a line.",
        "year": "Year", "value": "Value", "wording": "As printed", "case": "Case",
        "article": "article", "reference": "reference",
        "ref_metric": "Reference measures", "same_metric": "the same quantity",
        "fc_title": "Fact-check: each claim against its reference",
        "fc_desc": "{n} checks: {counts}. Dots show the ratio of claim to reference for the "
                   "{shown} checks that have one, on a logarithmic scale; 1 means equal.",
        "verdict": "Verdict", "checks": "Checks", "ratio": "Claim ÷ reference",
        "claim": "Claim", "reason": "Reason",
        "consistent": "consistent", "inconsistent": "inconsistent",
        "unverifiable": "unverifiable",
    },
    "zh": {
        "pop_share": "占全国人口比重", "gdp_share": "占全国GDP比重", "entity": "地区",
        "origin": "数据来自", "premium": "GDP比重 ÷ 人口比重", "parity": "GDP比重 = 人口比重",
        "fit": "拟合线", "band": "95%区间",
        "share_title": "GDP比重与人口比重",
        "share_desc": "{n}个地区的散点图:横轴为人口比重,纵轴为GDP比重;虚线表示两者相等,"
                      "阴影为拟合线的95%区间。",
        "premium_title": "GDP比重高出人口比重多少",
        "premium_desc": "{n}个地区的条形图:GDP比重除以人口比重,介于{low}与{high}之间;"
                        "1处的竖线表示GDP与人口同比例。",
        "scaling_title": "中国各省GDP与人口(对数坐标)",
        "scaling_desc": "{n}个省级行政区的对数坐标散点图,附拟合的幂律曲线及其95%区间。",
        "population": "常住人口", "gdp_cny": "GDP", "province": "省级行政区",
        "london_title": "伦敦人口向外迁移(1950年代至1981年)",
        "london_desc": "{n}个区域的人口变化条形图,文章数字与人口普查数字并列。",
        "change": "人口变化", "area": "区域",
        "growth_title": "文章中的增长案例,及找到的参考数字",
        "growth_desc": "每个案例一个分图({cases});点为各年份的数字,文章数字以线相连。",
        "year": "年份", "value": "数值", "wording": "原文表述", "case": "案例",
        "article": "文章", "reference": "参考数据",
        "ref_metric": "参考数据口径", "same_metric": "相同口径",
        "fc_title": "事实核查:各项说法与参考数据的对照",
        "fc_desc": "共{n}项核查:{counts}。点表示{shown}项有参考值的核查中文章数字与参考值之比"
                   "(对数刻度),1表示相等。",
        "verdict": "结论", "checks": "核查项数", "ratio": "文章数字 ÷ 参考值",
        "claim": "说法", "reason": "理由",
        "consistent": "相符", "inconsistent": "不符", "unverifiable": "无法核实",
    },
}
FONT = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"),
             Path("/usr/share/fonts/noto-cjk"))
ORIGIN_COLORS = {"article": "#d95f02", "reference": "#1b9e77"}
#: Chinese cases of specialised growth: the entity, the claim metric whose dated figures the
#: article gives, and the reference metrics measuring the same industry (named, not guessed:
#: Kunshan's equipment-manufacturing output is not its electronics output).
GROWTH_CASES = (("cn_zhangye", "output", ()), ("cn_hebi", "supporting_rate", ()),
                ("cn_ningxiang", "output", ("output_advanced_energy_storage_materials",)),
                ("cn_kunshan", "output", ("output_electronic_information",)))



def _number(value: object) -> float:
    """A polars aggregate (typed as any scalar) as the float it is for a numeric column."""
    return float(cast(float, value))

def theme() -> dict:
    """One look for every chart: readable sizes, a CJK-capable font stack."""
    return {"config": {"font": FONT, "view": {"stroke": None},
                       "axis": {"labelFontSize": 12, "titleFontSize": 13, "labelLimit": 340},
                       "legend": {"labelFontSize": 12, "titleFontSize": 12},
                       "title": {"fontSize": 15, "anchor": "start"}}}


def _name(lang: str) -> str:
    return "entity_zh" if lang == "zh" else "entity_en"


def _origin_scale(lang: str) -> alt.Scale:
    t = LABELS[lang]
    return alt.Scale(domain=[t["article"], t["reference"]],
                     range=[ORIGIN_COLORS["article"], ORIGIN_COLORS["reference"]])


def _origin_label(lang: str) -> pl.Expr:
    t = LABELS[lang]
    return pl.col("origin").replace_strict({"article": t["article"],
                                            "reference": t["reference"]})


def share_scatter(shares: pl.DataFrame, predictions: pl.DataFrame, lang: str = "en",
                  model: str = "share_entities") -> alt.LayerChart:
    """Entities' GDP share against population share: parity line, fitted line and band."""
    t = LABELS[lang]
    data = shares.filter(pl.col("entity_type") != "province").select(
        pl.col(_name(lang)).alias("entity"), "pop_share", "gdp_share", "premium",
        _origin_label(lang).alias("origin"), "boundary")
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
        x=x, y=y, color=alt.Color("origin:N", title=t["origin"], scale=_origin_scale(lang)),
        tooltip=[alt.Tooltip("entity:N", title=t["entity"]),
                 alt.Tooltip("origin:N", title=t["origin"]),
                 alt.Tooltip("pop_share:Q", title=t["pop_share"], format=".1%"),
                 alt.Tooltip("gdp_share:Q", title=t["gdp_share"], format=".1%"),
                 alt.Tooltip("premium:Q", title=t["premium"], format=".2f")])
    labels = points.mark_text(align="left", dx=7, fontSize=11).encode(
        text="entity:N", color=alt.value("#333"))
    return (band + line + parity + points + labels).properties(
        title=t["share_title"], width=560, height=420,
        description=t["share_desc"].format(n=data.height))


def premium_bars(shares: pl.DataFrame, lang: str = "en") -> alt.LayerChart:
    """The premium (GDP share / population share) of each non-province entity, sorted."""
    t = LABELS[lang]
    data = shares.filter(pl.col("entity_type") != "province").select(
        (pl.col(_name(lang)) + " (" + _origin_label(lang) + ")").alias("entity"),
        _origin_label(lang).alias("origin"), "premium", "pop_share", "gdp_share")
    bars = alt.Chart(data).mark_bar().encode(
        y=alt.Y("entity:N", sort="-x", title=None),
        x=alt.X("premium:Q", title=t["premium"]),
        color=alt.Color("origin:N", title=t["origin"], scale=_origin_scale(lang)),
        tooltip=[alt.Tooltip("entity:N", title=t["entity"]),
                 alt.Tooltip("premium:Q", title=t["premium"], format=".2f"),
                 alt.Tooltip("pop_share:Q", title=t["pop_share"], format=".1%"),
                 alt.Tooltip("gdp_share:Q", title=t["gdp_share"], format=".1%")])
    one = alt.Chart(alt.Data(values=[{"premium": 1}])).mark_rule(
        strokeDash=[4, 4], color="#333").encode(x="premium:Q")
    desc = t["premium_desc"].format(n=data.height, low=f"{_number(data['premium'].min()):.2f}",
                                    high=f"{_number(data['premium'].max()):.2f}")
    return (bars + one).properties(title=t["premium_title"], width=520,
                                   height=alt.Step(22), description=desc)


#: Display units per language: (divisor, label) for population and for GDP in yuan.
SCALING_UNITS = {"en": ((1e6, "million"), (1e9, "CNY billion")),
                 "zh": ((1e4, "万人"), (1e8, "亿元"))}


def scaling_scatter(shares: pl.DataFrame, predictions: pl.DataFrame, lang: str = "en",
                    model: str = "scaling_provinces", n_labels: int = 12) -> alt.LayerChart:
    """Provinces' GDP against population on log-log axes, with the fitted power law.

    Only the ``n_labels`` provinces furthest from the fitted line are named, so labels stay
    legible; every point has a tooltip.
    """
    t = LABELS[lang]
    (pop_div, pop_unit), (gdp_div, gdp_unit) = SCALING_UNITS[lang]
    fit = predictions.filter(pl.col("model") == model).select(
        pl.col("x") / pop_div, pl.col("fit") / gdp_div, pl.col("low") / gdp_div,
        pl.col("high") / gdp_div)
    data = shares.filter(pl.col("entity_type") == "province").select(
        pl.col(_name(lang)).alias("entity"), (pl.col("population") / pop_div).alias("pop"),
        (pl.col("gdp") / gdp_div).alias("gdp"))
    if not fit.is_empty():
        line = np.polyfit(np.log(fit["x"].to_numpy()), np.log(fit["fit"].to_numpy()), 1)
        resid = np.log(data["gdp"].to_numpy()) - np.polyval(line, np.log(data["pop"].to_numpy()))
        data = data.with_columns(pl.Series("far", np.abs(resid)))
    else:
        data = data.with_columns(far=pl.lit(0.0))
    labelled = data.sort("far", descending=True).head(n_labels)
    pop_dom = [_number(data["pop"].min()) * 0.8, _number(data["pop"].max()) * 1.25]
    gdp_dom = [_number(data["gdp"].min()) * 0.8, _number(data["gdp"].max()) * 1.25]
    xs = alt.Scale(type="log", domain=pop_dom, nice=False)
    ys = alt.Scale(type="log", domain=gdp_dom, nice=False)
    x_title, y_title = f"{t['population']} ({pop_unit})", f"{t['gdp_cny']} ({gdp_unit})"
    band = alt.Chart(fit).mark_area(opacity=0.18, color="#555").encode(
        x=alt.X("x:Q", scale=xs, title=x_title), y=alt.Y("low:Q", scale=ys, title=y_title),
        y2="high:Q")
    fitted = alt.Chart(fit).mark_line(color="#555").encode(
        x=alt.X("x:Q", scale=xs), y=alt.Y("fit:Q", scale=ys))
    x = alt.X("pop:Q", title=x_title, scale=xs, axis=alt.Axis(format=",~r"))
    y = alt.Y("gdp:Q", title=y_title, scale=ys, axis=alt.Axis(format=",~r"))
    points = alt.Chart(data).mark_circle(size=60, color=ORIGIN_COLORS["reference"]).encode(
        x=x, y=y, tooltip=[alt.Tooltip("entity:N", title=t["province"]),
                           alt.Tooltip("pop:Q", title=x_title, format=",.0f"),
                           alt.Tooltip("gdp:Q", title=y_title, format=",.0f")])
    labels = alt.Chart(labelled).mark_text(align="left", dx=5, fontSize=10,
                                           color="#444").encode(x=x, y=y, text="entity:N")
    return (band + fitted + points + labels).properties(
        title=t["scaling_title"], width=560, height=420,
        description=t["scaling_desc"].format(n=data.height))


def london_changes(claims: pl.DataFrame, reference: pl.DataFrame) -> pl.DataFrame:
    """Population changes around London: the article's, and census differences 1951-1981."""
    article = claims.filter(pl.col("metric") == "population_change",
                            pl.col("country") == "GBR").select(
        "entity_zh", "entity_en", pl.col("value_base").alias("change"),
        pl.lit("article").alias("origin"), pl.col("claim_id").alias("source"))
    census = (reference.filter(pl.col("metric") == "population", pl.col("vintage") == "census",
                               pl.col("entity_id").is_in(["gb_london_inner", "gb_london_outer"]),
                               pl.col("year").is_in([1951, 1981]))
              .sort("entity_id", "year", "ref_id")
              .group_by("entity_id", "year", maintain_order=True).first()
              .group_by("entity_id", maintain_order=True)
              .agg(pl.col("entity_zh").first(), pl.col("entity_en").first(),
                   (pl.col("value_base").last() - pl.col("value_base").first()).alias("change"),
                   pl.col("ref_id").str.join("−").alias("source"),
                   pl.len().alias("years"))
              .filter(pl.col("years") == 2)
              .select("entity_zh", "entity_en", "change", pl.lit("reference").alias("origin"),
                      "source"))
    return pl.concat([article, census])


def london_shift(claims: pl.DataFrame, reference: pl.DataFrame,
                 lang: str = "en") -> alt.LayerChart:
    """Population lost by inner London and gained beyond it, article against census."""
    t = LABELS[lang]
    divisor, unit = SCALING_UNITS[lang][0]
    data = london_changes(claims, reference).select(
        pl.col(_name(lang)).alias("area"), (pl.col("change") / divisor).alias("change"),
        _origin_label(lang).alias("origin"), "source")
    bars = alt.Chart(data).mark_bar().encode(
        y=alt.Y("area:N", title=None, sort="x"),
        x=alt.X("change:Q", title=f"{t['change']} ({unit})", axis=alt.Axis(format=",~r")),
        yOffset="origin:N",
        color=alt.Color("origin:N", title=t["origin"], scale=_origin_scale(lang)),
        tooltip=[alt.Tooltip("area:N", title=t["area"]),
                 alt.Tooltip("change:Q", title=f"{t['change']} ({unit})", format=",.2~f"),
                 alt.Tooltip("origin:N", title=t["origin"]), "source:N"])
    zero = alt.Chart(alt.Data(values=[{"change": 0}])).mark_rule(color="#333").encode(
        x="change:Q")
    return (bars + zero).properties(title=t["london_title"], width=520, height=alt.Step(26),
                                    description=t["london_desc"].format(n=data["area"].n_unique()))


def growth_points(claims: pl.DataFrame, reference: pl.DataFrame) -> pl.DataFrame:
    """Dated figures of each growth case in display units (亿元 for money, % for fractions)."""
    frames = []
    for entity, metric, ref_metrics in GROWTH_CASES:
        a = claims.filter(pl.col("entity_id") == entity, pl.col("metric") == metric,
                          pl.col("year").is_not_null()).select(
            "entity_id", "entity_zh", "entity_en", pl.lit(metric).alias("case_metric"), "year",
            "value_base", "base_unit", "printed", pl.lit("article").alias("origin"),
            pl.col("claim_id").alias("source"), pl.col("metric").alias("measure"))
        r = reference.filter(pl.col("entity_id") == entity,
                             pl.col("metric").is_in([metric, *ref_metrics]),
                             pl.col("year").is_not_null()).select(
            "entity_id", "entity_zh", "entity_en", pl.lit(metric).alias("case_metric"),
            "year", "value_base", "base_unit",
            (pl.col("value").cast(pl.String) + " " + pl.col("unit")).alias("printed"),
            pl.lit("reference").alias("origin"), pl.col("ref_id").alias("source"),
            pl.col("metric").alias("measure"))
        if not a.is_empty():
            # one panel per case: the reference rows take the claim's name for the place
            r = r.filter(pl.col("base_unit").is_in(a["base_unit"].unique())).with_columns(
                entity_zh=pl.lit(a["entity_zh"][0]), entity_en=pl.lit(a["entity_en"][0]))
            frames.extend([a, r])
    data = pl.concat(frames)
    scale = pl.when(pl.col("base_unit") == "CNY").then(1e-8).when(
        pl.col("base_unit") == "fraction").then(100.0).otherwise(1.0)
    unit = pl.when(pl.col("base_unit") == "CNY").then(pl.lit("亿元")).when(
        pl.col("base_unit") == "fraction").then(pl.lit("%")).otherwise(pl.col("base_unit"))
    return data.with_columns((pl.col("value_base") * scale).alias("display"),
                             unit.alias("display_unit"))


def growth_cases(claims: pl.DataFrame, reference: pl.DataFrame,
                 lang: str = "en") -> alt.FacetChart:
    """One small panel per growth case, each on its own scale: figures by year."""
    t = LABELS[lang]
    units = {"亿元": "CNY 100 million"} if lang == "en" else {}
    data = growth_points(claims, reference).with_columns(
        (pl.col(_name(lang)) + " · " + pl.col("display_unit").replace(units)).alias("case"),
        _origin_label(lang).alias("origin"),
        pl.when(pl.col("measure") == pl.col("case_metric")).then(pl.lit(t["same_metric"]))
        .otherwise(pl.col("measure")).alias("measure"))
    cases = ", ".join(data["case"].unique(maintain_order=True).to_list())
    base = alt.Chart().encode(
        x=alt.X("year:O", title=t["year"]),
        y=alt.Y("display:Q", title=t["value"], scale=alt.Scale(zero=True)),
        color=alt.Color("origin:N", title=t["origin"], scale=_origin_scale(lang)))
    line = base.transform_filter(alt.datum.origin == t["article"]).mark_line()
    points = base.mark_point(size=80, filled=True).encode(
        tooltip=[alt.Tooltip("case:N", title=t["case"]), alt.Tooltip("year:O", title=t["year"]),
                 alt.Tooltip("printed:N", title=t["wording"]),
                 alt.Tooltip("display:Q", title=t["value"], format=",.4~g"),
                 alt.Tooltip("measure:N", title=t["ref_metric"]), "source:N"])
    return alt.layer(line, points, data=data.to_pandas()).properties(
        width=220, height=170).facet(
        facet=alt.Facet("case:N", title=None, sort=None), columns=2).resolve_scale(
        x="independent", y="independent").properties(title=t["growth_title"],
                                    description=t["growth_desc"].format(cases=cases))


VERDICT_COLORS = {"consistent": "#1b9e77", "inconsistent": "#d95f02", "unverifiable": "#999999"}


def factcheck_overview(checks: pl.DataFrame, lang: str = "en") -> alt.VConcatChart:
    """Verdict counts, then each check's ratio of claim to reference on a log scale."""
    t = LABELS[lang]
    order = [t[v] for v in VERDICT_COLORS]
    color = alt.Color("verdict:N", title=t["verdict"],
                      scale=alt.Scale(domain=order, range=list(VERDICT_COLORS.values())))
    data = checks.select(
        pl.format("{} · {}", "claim_id", "check").alias("claim"),
        pl.col("verdict").replace_strict({v: t[v] for v in VERDICT_COLORS}).alias("verdict"),
        pl.col("reason_zh" if lang == "zh" else "reason").alias("reason"), "ratio")
    counts = data.group_by("verdict").len().rename({"len": "checks"}).sort("verdict")
    bars = alt.Chart(counts).mark_bar().encode(
        y=alt.Y("verdict:N", title=None, sort=order), x=alt.X("checks:Q", title=t["checks"]),
        color=color, tooltip=[alt.Tooltip("verdict:N", title=t["verdict"]),
                              alt.Tooltip("checks:Q", title=t["checks"])]
    ).properties(width=520, height=alt.Step(24))
    rated = data.filter(pl.col("ratio").is_not_null() & (pl.col("ratio") > 0))
    dots = alt.Chart(rated).mark_circle(size=70).encode(
        y=alt.Y("claim:N", title=None, sort=alt.EncodingSortField("ratio")),
        x=alt.X("ratio:Q", title=t["ratio"], scale=alt.Scale(type="log")), color=color,
        tooltip=[alt.Tooltip("claim:N", title=t["claim"]),
                 alt.Tooltip("ratio:Q", title=t["ratio"], format=".2f"),
                 alt.Tooltip("reason:N", title=t["reason"])]
    ).properties(width=520, height=alt.Step(16))
    one = alt.Chart(alt.Data(values=[{"ratio": 1}])).mark_rule(
        strokeDash=[4, 4], color="#333").encode(x="ratio:Q")
    count_text = ", ".join(f"{n} {v}" for v, n in counts.sort("verdict").iter_rows())
    return alt.vconcat(bars, dots + one).properties(
        title=t["fc_title"], description=t["fc_desc"].format(
            n=data.height, counts=count_text, shown=rated.height))


@dataclass(frozen=True)
class Figure:
    """A named chart: how to build it from the tables, in a given language."""

    name: str
    build: Callable[[dict[str, pl.DataFrame], str], alt.TopLevelMixin]


FIGURES: tuple[Figure, ...] = (
    Figure("share_scatter", lambda d, lang: share_scatter(d["shares"], d["predictions"], lang)),
    Figure("premium_bars", lambda d, lang: premium_bars(d["shares"], lang)),
    Figure("scaling_scatter",
           lambda d, lang: scaling_scatter(d["shares"], d["predictions"], lang)),
    Figure("london_shift", lambda d, lang: london_shift(d["claims"], d["reference"], lang)),
    Figure("growth_cases", lambda d, lang: growth_cases(d["claims"], d["reference"], lang)),
    Figure("factcheck_overview", lambda d, lang: factcheck_overview(d["factcheck"], lang)),
)


def figure(name: str) -> Figure:
    """A figure by name; an unknown name lists the valid ones."""
    for fig in FIGURES:
        if fig.name == name:
            return fig
    raise LookupFailed(f"unknown figure {name!r}; figures: "
                       f"{', '.join(f.name for f in FIGURES)}")


def themed(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart with the project's theme applied (for embedding and export alike)."""
    return chart.configure(**theme()["config"])


def description(chart: alt.TopLevelMixin) -> str:
    """The chart's text description, for the figure caption and screen readers."""
    desc = chart.to_dict().get("description")
    return str(desc) if desc else ""


def register_cjk_fonts(dirs: tuple[Path, ...] = FONT_DIRS) -> Path:
    """Make vl-convert's PNG/SVG rendering find a CJK font, or say what to install.

    vl-convert ships only Latin fonts; without a CJK font every Chinese glyph in a PNG is an
    empty box. Debian's ``fonts-noto-cjk`` (installed by ``scripts/ensure_system_deps.sh``)
    provides Noto Sans CJK SC.
    """
    import vl_convert as vlc

    for folder in dirs:
        if any(folder.glob("*CJK*")):
            vlc.register_font_directory(str(folder))
            return folder
    raise EnvironmentProblem("no CJK font found in " + ", ".join(map(str, dirs)) + ": Chinese text "
                       "would render as empty boxes. Install Debian's fonts-noto-cjk "
                       "(scripts/ensure_system_deps.sh does it when run as root).")


def export(chart: alt.TopLevelMixin, folder: Path, stem: str) -> list[Path]:
    """``stem.vl.json``, ``stem.svg`` and ``stem.png`` (2x) of a themed chart, atomically."""
    import vl_convert as vlc

    from citycluster.publish import write_bytes_atomic, write_text_atomic

    spec = themed(chart).to_dict()
    paths = [folder / f"{stem}.vl.json", folder / f"{stem}.svg", folder / f"{stem}.png"]
    write_text_atomic(paths[0], json.dumps(spec, ensure_ascii=False, indent=1, sort_keys=True))
    svg = vlc.vegalite_to_svg(spec)
    write_text_atomic(paths[1], svg)
    write_bytes_atomic(paths[2], vlc.svg_to_png(svg, scale=2))  # no second Vega evaluation
    return paths


def vega_bundle_html() -> str:
    """The Vega libraries as one inline script, scoped so two charts on a page cannot clash.

    vl-convert takes about two seconds to assemble the bundle, in every kernel that asks; the
    result depends only on the vl-convert and Vega-Lite versions, so it is kept in ``build/``.
    """
    import vl_convert as vlc

    from citycluster.paths import repo_root
    from citycluster.publish import write_text_atomic

    version = _vl_version()
    converter = metadata.version("vl-convert-python")
    cached = repo_root() / "build" / f"vega-bundle-{converter}-{version}.js"
    try:
        bundle = cached.read_text(encoding="utf-8")
    except OSError:
        # the stub marks the optional snippet as required; the function takes it as optional
        bundle = vlc.javascript_bundle(vl_version=version)  # type: ignore[call-arg]
        try:
            write_text_atomic(cached, bundle)
        except OSError:
            pass  # a read-only checkout just rebuilds the bundle each time
    bundle = bundle.replace("</script", "<\\/script")
    return f"<script>(function(){{\n{bundle}\n}})();</script>"


def _vl_version() -> str:
    m = re.match(r"v?(\d+\.\d+)", alt.SCHEMA_VERSION)
    return f"v{m.group(1)}" if m else alt.SCHEMA_VERSION


def _embed(spec: dict, element_id: str, label: str) -> tuple[str, str]:
    """The chart's ``div`` and its vegaEmbed call (SVG renderer).

    The spec is JSON inside a script element; ``</`` is escaped so no string from the data can
    close the script early.
    """
    spec_json = json.dumps(spec, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "-", element_id)
    div = (f'<div id="{safe_id}" class="vega-chart" role="img" '
           f'aria-label="{html.escape(label)}"></div>')
    script = (f'<script>vegaEmbed("#{safe_id}", {spec_json}, {{"renderer": "svg", '
              f'"actions": false}}).catch(function (e) {{ console.error(e); }});</script>')
    return div, script


def chart_html(chart: alt.TopLevelMixin, element_id: str, caption: str) -> str:
    """One chart: a figure with a visible caption, then its vegaEmbed call."""
    desc = description(chart) or caption
    div, script = _embed(chart.to_dict(), element_id, desc)
    return (f'<figure class="chart" role="group" aria-label="{html.escape(desc)}">{div}'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>{script}")


class OfflineRenderer:
    """An Altair renderer for notebooks: the Vega bundle once, then a div per chart.

    Registered as ``citycluster`` by :func:`enable_offline_renderer`. Chart ids are numbered, not
    random, so executing a notebook twice gives identical outputs.
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, spec: dict, **_: object) -> dict[str, str]:
        self.count += 1
        head = vega_bundle_html() if self.count == 1 else ""
        label = str(spec.get("description") or f"chart {self.count}")
        div, script = _embed(spec, f"chart-{self.count}", label)
        return {"text/html": head + div + script}


def enable_offline_renderer() -> OfflineRenderer:
    """Make every displayed chart render offline (the bundle inline, once per notebook)."""
    renderer = OfflineRenderer()
    alt.renderers.register("citycluster", renderer)
    alt.renderers.enable("citycluster")
    return renderer
