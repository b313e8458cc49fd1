"""The figure of the estimator's backtest: each city whose 2023 figure is known, estimated as a
missing member would be (:func:`citycluster.ingest.backtest.backtest`), against what was
observed, with its interval."""

from __future__ import annotations

import altair as alt
import polars as pl

from citycluster.report.voice import Voice

BACKTEST_COLORS = {"inside": "#1b9e77", "outside": "#d95f02"}


def estimates_backtest(backtest: pl.DataFrame, voice: Voice) -> alt.LayerChart:
    """Each backtested city's estimate against its observed 2023 figure (0 on the axis), with
    the nominal 90% interval the other cities' errors give it, coloured by whether the
    interval holds the observed figure."""
    t = voice.chart()
    order = [t[f"bt_{k}"] for k in BACKTEST_COLORS]
    data = backtest.select(
        pl.format("{} · {}", voice.name_of("entity_id"),
                  pl.col("metric").map_elements(voice.label, return_dtype=pl.String)).alias("city"),
        pl.col("error_share").alias("error"),
        (pl.col("low") / pl.col("observed") - 1).alias("low"),
        (pl.col("high") / pl.col("observed") - 1).alias("high"),
        pl.when(pl.col("inside")).then(pl.lit(order[0])).otherwise(pl.lit(order[1]))
        .alias("held"))
    # a long name (Xiangxi Tujia-Miao Autonomous Prefecture) is cut to keep the chart within
    # render.MAX_WIDTH; its tooltip and the CSV give it whole
    y = alt.Y("city:N", title=None, sort=alt.EncodingSortField("error", order="ascending"),
              axis=alt.Axis(labelLimit=210))
    x = alt.X("error:Q", title=t["bt_axis"], axis=alt.Axis(format="%"))
    color = alt.Color("held:N", title=t["bt_held"], sort=order, legend=alt.Legend(orient="top"),
                      scale=alt.Scale(domain=order, range=list(BACKTEST_COLORS.values())))
    tooltip = [alt.Tooltip("city:N", title=t["entity"]),
               alt.Tooltip("error:Q", title=t["bt_axis"], format="+.1%"),
               alt.Tooltip("low:Q", title=t["hl_low"], format="+.1%"),
               alt.Tooltip("high:Q", title=t["hl_high"], format="+.1%")]
    span = alt.Chart(data).mark_rule(strokeWidth=2).encode(y=y, x="low:Q", x2="high:Q",
                                                            color=color)
    point = alt.Chart(data).mark_point(filled=True, size=40).encode(y=y, x=x, color=color,
                                                                     tooltip=tooltip)
    zero = alt.Chart(alt.Data(values=[{"error": 0}])).mark_rule(color="#333").encode(
        x="error:Q")
    inside = int(backtest["inside"].sum())
    return (span + point + zero).properties(
        title=t["bt_title"], width=200, height=alt.Step(14),
        description=t["bt_desc"].format(n=backtest.height, inside=inside))
