"""Altair charts, one function each, one theme, labels in the report's language.

Charts are embedded offline: :func:`vega_bundle_html` emits the Vega, Vega-Lite and vega-embed
libraries once per page (from vl-convert, wrapped in a function scope so the bundle's top-level
constants cannot clash), and :func:`chart_html` adds one ``div`` and one ``vegaEmbed`` call per
chart. Altair's own HTML output loads these libraries from a CDN, which a reader offline lacks.
"""

from __future__ import annotations

import html
import json
import re

import altair as alt
import polars as pl

LABELS = {
    "en": {
        "pop_share": "Share of national population", "gdp_share": "Share of national GDP",
        "entity": "Entity", "origin": "Origin", "premium": "GDP share / population share",
        "parity": "GDP share = population share", "share_title":
        "GDP share against population share", "article": "article", "reference": "reference",
    },
    "zh": {
        "pop_share": "占全国人口比重", "gdp_share": "占全国GDP比重", "entity": "地区",
        "origin": "来源", "premium": "GDP比重 / 人口比重", "parity": "GDP比重 = 人口比重",
        "share_title": "GDP比重与人口比重", "article": "文章", "reference": "参考数据",
    },
}
FONT = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"


def theme() -> dict:
    """One look for every chart: readable sizes, a CJK-capable font stack."""
    return {"config": {"font": FONT, "view": {"stroke": None},
                       "axis": {"labelFontSize": 12, "titleFontSize": 13},
                       "title": {"fontSize": 15, "anchor": "start"}}}


def _name(lang: str) -> str:
    return "entity_zh" if lang == "zh" else "entity_en"


def share_scatter(shares: pl.DataFrame, lang: str = "en") -> alt.LayerChart:
    """GDP share against population share, with the 45° parity line; labelled by entity."""
    t = LABELS[lang]
    data = shares.select(
        pl.col(_name(lang)).alias("entity"), "pop_share", "gdp_share", "premium",
        pl.col("origin").replace_strict({"article": t["article"], "reference": t["reference"]},
                                        default=pl.col("origin")).alias("origin"),
    ).to_pandas()
    top = float(max(data["pop_share"].max(), data["gdp_share"].max()) * 1.05)
    parity = alt.Chart(alt.Data(values=[{"x": 0, "y": 0}, {"x": top, "y": top}])).mark_line(
        strokeDash=[4, 4], color="#888").encode(x="x:Q", y="y:Q")
    points = alt.Chart(data).mark_circle(size=70).encode(
        x=alt.X("pop_share:Q", title=t["pop_share"], axis=alt.Axis(format="%")),
        y=alt.Y("gdp_share:Q", title=t["gdp_share"], axis=alt.Axis(format="%")),
        color=alt.Color("origin:N", title=t["origin"]),
        tooltip=[alt.Tooltip("entity:N", title=t["entity"]),
                 alt.Tooltip("pop_share:Q", title=t["pop_share"], format=".1%"),
                 alt.Tooltip("gdp_share:Q", title=t["gdp_share"], format=".1%"),
                 alt.Tooltip("premium:Q", title=t["premium"], format=".2f")])
    return (parity + points).properties(title=t["share_title"], width=520, height=380,
                                        description=t["share_title"])


def vega_bundle_html() -> str:
    """The Vega libraries as one inline script, scoped so two charts on a page cannot clash."""
    import vl_convert as vlc

    bundle = vlc.javascript_bundle(vl_version=_vl_version())
    bundle = bundle.replace("</script", "<\\/script")
    return f"<script>(function(){{\n{bundle}\n}})();</script>"


def _vl_version() -> str:
    m = re.match(r"v?(\d+\.\d+)", alt.SCHEMA_VERSION)
    return f"v{m.group(1)}" if m else alt.SCHEMA_VERSION


def chart_html(chart: alt.TopLevelMixin, element_id: str, description: str) -> str:
    """One chart: a figure with a text description, and a vegaEmbed call (SVG renderer)."""
    spec = json.dumps(chart.to_dict(), ensure_ascii=False, sort_keys=True).replace(
        "</", "<\\/")
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "-", element_id)
    return (
        f'<figure class="chart" role="group" aria-label="{html.escape(description)}">'
        f'<div id="{safe_id}" class="vega-chart"></div>'
        f"<figcaption>{html.escape(description)}</figcaption></figure>"
        f'<script>vegaEmbed("#{safe_id}", {spec}, {{"renderer": "svg", "actions": false}})'
        f'.catch(function (e) {{ console.error(e); }});</script>'
    )


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
        chart = alt.Chart.from_dict(spec) if "layer" not in spec else alt.LayerChart.from_dict(
            spec)
        desc = spec.get("description") or spec.get("title") or f"chart {self.count}"
        if isinstance(desc, dict):
            desc = desc.get("text", "")
        return {"text/html": head + chart_html(chart, f"chart-{self.count}", str(desc))}


def enable_offline_renderer() -> OfflineRenderer:
    """Make every displayed chart render offline (the bundle inline, once per notebook)."""
    renderer = OfflineRenderer()
    alt.renderers.register("citycluster", renderer)
    alt.renderers.enable("citycluster")
    return renderer
