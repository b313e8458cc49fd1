"""The city-level figures: one per model family fitted on China's cities.

Each figure draws a model's own sample (rebuilt from the model's named sample, so the points
are the rows it was fitted on), its fitted line and 95% band from ``model_predictions`` and,
for the scaling figure, the published exponent beside the fitted one. The cities are coloured
by the national cluster their plan puts them in, in the map's colours. The labelled cities are
chosen from the model tables: the largest and the most influential (Cook's distance), placed
so that no two labels overlap (:func:`citycluster.report.labels.placed`). Every point has a
tooltip with the place, its values and the kind of source each figure was seen in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import altair as alt
import numpy as np
import polars as pl

from citycluster.analysis.keyrows import key_slopes
from citycluster.analysis.samples import build_sample
from citycluster.report.chinamap import CLUSTER_COLORS
from citycluster.report.labels import placed
from citycluster.report.render import TEXT_PX
from citycluster.report.voice import Voice

Tables = dict[str, pl.DataFrame]
NO_CLUSTER_COLOR = "#9e9e9e"
#: The points of a figure not coloured by cluster (the provinces).
PLACE_COLOR = "#4c78a8"
WIDTH, HEIGHT = 360, 320
#: How many of the largest and of the most influential cities a figure names.
N_LARGEST, N_INFLUENTIAL = 6, 3


def _num(value: object) -> float:
    """A polars aggregate (typed as any scalar) as the float it is for a numeric column."""
    return float(cast(float, value))


def key_row(models: pl.DataFrame, model: str) -> dict[str, Any] | None:
    """The model's key-term row (the one with diagnostics), or None if it was not fitted."""
    rows = key_slopes(models).filter(pl.col("model") == model)
    return rows.row(0, named=True) if rows.height else None


def city_points(tables: Tables, model: str, voice: Voice) -> pl.DataFrame:
    """The model's sample, one row per city, with names, cluster and sources in words.

    ``influence`` is the city's Cook's distance in this model; ``pop_kind``/``gdp_kind`` the
    kind of source its population and GDP were seen in.
    """
    row = key_row(tables["models"], model)
    if row is None:
        return pl.DataFrame()
    sample = build_sample(row["sample"], tables["shares"], tables["claims"], tables["reference"])
    kind = dict(tables["reference"].select("ref_id", "source_kind").iter_rows())
    cooks = tables["model_influence"].filter(pl.col("model") == model).select(
        pl.col("label").alias("entity_id"), pl.col("cooks_distance").alias("influence"))
    none = voice.chart()["no_cluster"]
    return sample.join(cooks, on="entity_id", how="left").with_columns(
        voice.name_of("entity_id").alias("city"),
        pl.col("cluster_id").map_elements(voice.name, return_dtype=pl.String)
        .fill_null(none).alias("cluster_name"),
        *(pl.col(f"{m}_source").str.split("/").list.first()
          .replace_strict(kind, default=None).fill_null("unlabelled")
          .map_elements(voice.label, return_dtype=pl.String).alias(f"{m}_kind")
          for m in ("pop", "gdp")))


def labelled(points: pl.DataFrame, x: str, y: str, size: str, *, x_domain: list[float],
             y_domain: list[float], log: bool) -> pl.DataFrame:
    """The largest and the most influential cities, as many as fit without overlapping."""
    largest = points.sort(size, descending=True).head(N_LARGEST)["city"]
    influential = points.sort("influence", descending=True, nulls_last=True).head(
        N_INFLUENTIAL)["city"]
    chosen = points.filter(pl.col("city").is_in(largest.implode())
                           | pl.col("city").is_in(influential.implode())).with_columns(
        (pl.col("city").is_in(influential.implode()).cast(pl.Float64) * 10
         + pl.col(size) / pl.col(size).max()).alias("_priority"))
    return placed(chosen, x, y, "city", "_priority", x_domain=x_domain, y_domain=y_domain,
                  width=WIDTH, height=HEIGHT, log=log, font_px=TEXT_PX, dx=6,
                  sides=("right", "left"), avoid=list(points.select(x, y).iter_rows()))


def name_layers(names: pl.DataFrame, x: alt.X, y: alt.Y) -> alt.LayerChart:
    """The chosen cities' names, each on the side :func:`labelled` found room on."""
    return alt.LayerChart(layer=[
        alt.Chart(names.filter(pl.col("side") == side)).mark_text(
            align="right" if side == "left" else "left", baseline="middle",
            dx=6 if side == "right" else -6, fontSize=TEXT_PX, color="#222").encode(
            x=x, y=y, text="city:N")
        for side in ("right", "left")])


def _cluster_color(points: pl.DataFrame, voice: Voice) -> alt.Color:
    t = voice.chart()
    present = set(points["cluster_id"].drop_nulls().to_list())
    ids = [c for c in CLUSTER_COLORS if c in present]
    outside = [t["no_cluster"]] if points["cluster_id"].null_count() else []
    domain = [voice.name(c) for c in ids] + outside
    colors = [CLUSTER_COLORS[c] for c in ids] + [NO_CLUSTER_COLOR] * len(outside)
    return alt.Color("cluster_name:N", title=t["map_cluster"],
                     scale=alt.Scale(domain=domain, range=colors),
                     legend=alt.Legend(orient="bottom", columns=1, labelLimit=360))


def _tooltip(voice: Voice, *values: alt.Tooltip, cluster: bool = True) -> list[alt.Tooltip]:
    t = voice.chart()
    return [alt.Tooltip("city:N", title=t["entity"]),
            *([alt.Tooltip("cluster_name:N", title=t["map_cluster"])] if cluster else []),
            *values,
            alt.Tooltip("pop_kind:N", title=t["pop_kind"]),
            alt.Tooltip("gdp_kind:N", title=t["gdp_kind"])]


def _fit_layers(fit: pl.DataFrame, x: alt.X, y: alt.Y) -> alt.LayerChart:
    band = alt.Chart(fit).mark_area(opacity=0.18, color="#555").encode(
        x=x, y=y, y2="high:Q")
    line = alt.Chart(fit).mark_line(color="#333").encode(x=x, y=alt.Y("fit:Q"))
    return band + line


def _empty(voice: Voice, title: str) -> alt.Chart:
    return alt.Chart(alt.Data(values=[])).mark_point().properties(
        title=title, description=voice.chart()["not_fitted"])


def _round(frame: pl.DataFrame, digits: int = 6) -> pl.DataFrame:
    """Floats to ``digits`` significant figures: the report embeds every point."""
    def sig(col: str) -> pl.Expr:
        magnitude = pl.col(col).abs().log10().floor().fill_nan(0).fill_null(0)
        scale = pl.lit(10.0).pow(digits - 1 - magnitude)
        return (pl.col(col) * scale).round(0) / scale

    return frame.with_columns(sig(c).alias(c) for c, t in frame.schema.items()
                              if t == pl.Float64)


def city_shares(tables: Tables, voice: Voice, model: str = "share_cities",
                keys: str = "city_share", by_cluster: bool = True) -> alt.TopLevelMixin:
    """GDP share against population share (cities, or provinces with ``keys`` naming their
    titles and ``by_cluster`` off), with the fitted line, its band and the line of
    proportional shares."""
    t = voice.chart()
    points = city_points(tables, model, voice)
    if points.is_empty():
        return _empty(voice, t[f"{keys}_title"])
    x_dom = [0.0, _num(points["pop_share"].max()) * 1.1]
    y_dom = [0.0, _num(points["gdp_share"].max()) * 1.1]
    top = min(x_dom[1], y_dom[1])
    fit = _round(tables["model_predictions"].filter(pl.col("model") == model).select(
        "x", "fit", "low", "high"))
    x = alt.X("pop_share:Q", title=t["pop_share"], axis=alt.Axis(format="%"),
              scale=alt.Scale(domain=x_dom))
    y = alt.Y("gdp_share:Q", title=t["gdp_share"], axis=alt.Axis(format="%"),
              scale=alt.Scale(domain=y_dom))
    parity = alt.Chart(alt.Data(values=[{"pop_share": 0, "gdp_share": 0},
                                        {"pop_share": top, "gdp_share": top}])).mark_line(
        strokeDash=[4, 4], color="#888").encode(x=x, y=y)
    data = _round(points.select("city", "cluster_name", "cluster_id", "pop_share",
                                "gdp_share", "influence", "pop_kind", "gdp_kind"))
    color = _cluster_color(points, voice) if by_cluster else alt.value(PLACE_COLOR)
    dots = alt.Chart(data).mark_circle(size=55, opacity=0.85).encode(
        x=x, y=y, color=color, tooltip=_tooltip(
            voice, alt.Tooltip("pop_share:Q", title=t["pop_share"], format=".2%"),
            alt.Tooltip("gdp_share:Q", title=t["gdp_share"], format=".2%"), cluster=by_cluster))
    labels = name_layers(labelled(data, "pop_share", "gdp_share", "gdp_share",
                                  x_domain=x_dom, y_domain=y_dom, log=False), x, y)
    fit_x = alt.X("x:Q", scale=alt.Scale(domain=x_dom))
    return (_fit_layers(fit, fit_x, alt.Y("low:Q", scale=alt.Scale(domain=y_dom)))
            + parity + dots + labels).properties(
        title=t[f"{keys}_title"], width=WIDTH, height=HEIGHT,
        description=t[f"{keys}_desc"].format(n=points.height))


def city_scaling(tables: Tables, voice: Voice, model: str = "scaling_cities",
                 keys: str = "city_scaling", by_cluster: bool = True) -> alt.TopLevelMixin:
    """GDP against population on log-log axes (cities, or provinces as for
    :func:`city_shares`): the fitted slope and the literature's exponent beside it."""
    t = voice.chart()
    points = city_points(tables, model, voice)
    row = key_row(tables["models"], model)
    if points.is_empty() or row is None:
        return _empty(voice, t[f"{keys}_title"])
    (pop_div, pop_unit) = voice.axis_scale("population")
    (gdp_div, gdp_unit) = voice.axis_scale("gdp")
    data = _round(points.select(
        "city", "cluster_name", "cluster_id", "influence", "pop_kind", "gdp_kind",
        (pl.col("population") / pop_div).alias("pop"), (pl.col("gdp") / gdp_div).alias("gdp")))
    pop_dom = [_num(data["pop"].min()) * 0.8, _num(data["pop"].max()) * 1.25]
    gdp_dom = [_num(data["gdp"].min()) * 0.8, _num(data["gdp"].max()) * 1.25]
    xs, ys = (alt.Scale(type="log", domain=dom, nice=False) for dom in (pop_dom, gdp_dom))
    x_title = t["axis_unit"].format(title=t["population"], unit=pop_unit)
    y_title = t["axis_unit"].format(title=t["gdp_cny"], unit=gdp_unit)
    fitted_name = t["line_fitted"].format(beta=voice.num(row["estimate"], 2),
                                          low=voice.num(row["ci_low"], 2),
                                          high=voice.num(row["ci_high"], 2))
    fit = _round(tables["model_predictions"].filter(pl.col("model") == model).select(
        pl.col("x") / pop_div, pl.col("fit") / gdp_div, pl.col("low") / gdp_div,
        pl.col("high") / gdp_div))
    lines = fit.select("x", "fit", pl.lit(fitted_name).alias("line"))
    log_x, log_y = np.log(data["pop"].to_numpy()), np.log(data["gdp"].to_numpy())
    names = [fitted_name]
    # The published exponent is drawn through the sample's centre (geometric means): its
    # intercept belongs to another sample, so only the slope is comparable.
    for pub in tables["model_comparison"].filter(pl.col("model") == model).head(1).iter_rows(
            named=True):
        beta = float(pub["published"])
        pub_name = t["line_published"].format(beta=voice.num(beta, 2), year=pub["published_year"])
        ends = np.array([log_x.min(), log_x.max()])
        lines = pl.concat([lines, pl.DataFrame({
            "x": np.exp(ends), "fit": np.exp(log_y.mean() + beta * (ends - log_x.mean())),
            "line": [pub_name] * 2})])
        names.append(pub_name)
    x = alt.X("pop:Q", title=x_title, scale=xs, axis=alt.Axis(format=",~r"))
    y = alt.Y("gdp:Q", title=y_title, scale=ys, axis=alt.Axis(format=",~r"))
    band = alt.Chart(fit).mark_area(opacity=0.18, color="#555").encode(
        x=alt.X("x:Q", scale=xs), y=alt.Y("low:Q", scale=ys), y2="high:Q")
    drawn = alt.Chart(lines).mark_line(color="#333").encode(
        x=alt.X("x:Q", scale=xs), y=alt.Y("fit:Q", scale=ys),
        strokeDash=alt.StrokeDash("line:N", title=t["lines"], scale=alt.Scale(
            domain=names, range=[[1, 0], [6, 4]][:len(names)]),
            legend=alt.Legend(orient="top-left", direction="vertical", labelLimit=420,
                              fillColor="white", padding=6)))
    color = _cluster_color(points, voice) if by_cluster else alt.value(PLACE_COLOR)
    dots = alt.Chart(data).mark_circle(size=55, opacity=0.85).encode(
        x=x, y=y, color=color, tooltip=_tooltip(
            voice, alt.Tooltip("pop:Q", title=x_title, format=",.1f"),
            alt.Tooltip("gdp:Q", title=y_title, format=",.0f"), cluster=by_cluster))
    labels = name_layers(labelled(data, "pop", "gdp", "gdp", x_domain=pop_dom,
                                  y_domain=gdp_dom, log=True), x, y)
    return (band + drawn + dots + labels).properties(
        title=t[f"{keys}_title"], width=WIDTH, height=HEIGHT,
        description=t[f"{keys}_desc"].format(n=points.height)).resolve_scale(
        color="independent", strokeDash="independent")


@dataclass(frozen=True)
class Proxy:
    """One linkage proxy: the sample's distance, relative GDP per head and centre columns, and
    the catalog keys of its titles. ``by_cluster`` colours by cluster (the map's colours), else
    by the centre itself (one colour per province's capital)."""

    distance: str
    relative: str
    centre: str
    keys: str  # prefix of the chart catalog's <keys>_title, <keys>_desc, <keys>_distance, ...
    by_cluster: bool


CORE = Proxy("core_distance_km", "gdp_pc_relative", "core_id", "city_linkage", True)
CAPITAL = Proxy("capital_distance_km", "gdp_pc_rel_capital", "capital_id", "city_capital", False)


def city_linkage(tables: Tables, voice: Voice, model: str = "linkage_distance_cities",
                 proxy: Proxy = CORE) -> alt.TopLevelMixin:
    """GDP per head relative to a centre (the cluster's core, or the province's capital)
    against the distance to it, on log axes as fitted, with the fitted line and its band."""
    t = voice.chart()
    title = t[f"{proxy.keys}_title"]
    points = city_points(tables, model, voice)
    if points.is_empty():
        return _empty(voice, title)
    data = _round(points.select(
        "city", "cluster_name", "cluster_id", "influence", "pop_kind", "gdp_kind", "population",
        pl.col(proxy.centre).map_elements(voice.name, return_dtype=pl.String).alias("centre"),
        pl.col(proxy.distance).alias("distance"), pl.col(proxy.relative).alias("rel")))
    x_dom = [_num(data["distance"].min()) * 0.8, _num(data["distance"].max()) * 1.25]
    y_dom = [_num(data["rel"].min()) * 0.8, _num(data["rel"].max()) * 1.25]
    xs = alt.Scale(type="log", domain=x_dom, nice=False)
    ys = alt.Scale(type="log", domain=y_dom, nice=False)
    x_title, y_title = t[f"{proxy.keys}_distance"], t[f"{proxy.keys}_relative"]
    centre_title = t[f"{proxy.keys}_centre"]
    x = alt.X("distance:Q", title=x_title, scale=xs, axis=alt.Axis(format=",~r"))
    y = alt.Y("rel:Q", title=y_title, scale=ys, axis=alt.Axis(format=",~r"))
    fit = _round(tables["model_predictions"].filter(pl.col("model") == model).select(
        "x", "fit", "low", "high"))
    one = alt.Chart(alt.Data(values=[{"rel": 1}])).mark_rule(
        strokeDash=[4, 4], color="#888").encode(y=alt.Y("rel:Q", scale=ys))
    color = _cluster_color(points, voice) if proxy.by_cluster else alt.Color(
        "centre:N", title=centre_title, scale=alt.Scale(scheme="tableau10"),
        legend=alt.Legend(orient="bottom", columns=3, labelLimit=110))
    dots = alt.Chart(data).mark_circle(size=60, opacity=0.85).encode(
        x=x, y=y, color=color, tooltip=_tooltip(
            voice, alt.Tooltip("centre:N", title=centre_title),
            alt.Tooltip("distance:Q", title=x_title, format=",.0f"),
            alt.Tooltip("rel:Q", title=y_title, format=".2f")))
    labels = name_layers(labelled(data, "distance", "rel", "population", x_domain=x_dom,
                                  y_domain=y_dom, log=True), x, y)
    return (_fit_layers(fit, alt.X("x:Q", scale=xs), alt.Y("low:Q", scale=ys))
            + one + dots + labels).properties(
        title=title, width=WIDTH, height=HEIGHT,
        description=t[f"{proxy.keys}_desc"].format(n=points.height,
                                                  centres=data["centre"].n_unique(),
                                                  clusters=data["cluster_id"].n_unique()))
