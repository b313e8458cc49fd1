"""A figure as the report shows it: numbered, captioned, and leading to its evidence.

Under each chart the reader finds the rows it draws (CSV), its Vega-Lite spec, its SVG, and
the executed notebook cell that built it, as links relative to the report (the report sits in
``reports/``, the figures step writes ``reports/figures/`` and the runner
``reports/executed/``; a browser test follows every link).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from citycluster.report import charts, render
from citycluster.report.voice import Voice
from citycluster.report.xref import figure_anchor, figure_number, linked

#: The id of the 05_figures cell that builds and exports every chart (set in the notebook).
BUILD_CELL = "export-figures"


def evidence_links(name: str, v: Voice) -> tuple[tuple[str, str], ...]:
    """Where a figure's data, spec, image and building cell are, relative to the report."""
    stem = f"figures/{name}.{v.lang}"
    return ((f"{stem}.csv", v.t("fig_data")), (f"{stem}.vl.json", v.t("fig_spec")),
            (f"{stem}.svg", v.t("fig_svg")),
            (f"executed/05_figures.{v.lang}.html#cell-id={BUILD_CELL}", v.t("fig_cell")))


def figure(name: str, tables: Mapping[str, pl.DataFrame], v: Voice, caption: str) -> str:
    """The figure ``name`` of the registry, built for ``v``'s language, as HTML."""
    chart = render.themed(charts.figure(name).build(dict(tables), v))
    return render.chart_html(chart, name, linked(caption), anchor=figure_anchor(name),
                             label=v.t("figure_ref", n=figure_number(name)),
                             links=evidence_links(name, v))


def figures(tables: Mapping[str, pl.DataFrame], v: Voice,
            pairs: Sequence[tuple[str, str]]) -> str:
    """Several figures, each a (name, caption key) pair, in order."""
    return "".join(figure(name, tables, v, v.t(caption)) for name, caption in pairs)
