"""A figure as the report shows it: numbered, captioned, and leading to its evidence.

The chart is the SVG the figures step exported, inlined (:mod:`citycluster.report.svg`): it
shows as the page loads, fits a phone's column, prints, and reads without JavaScript; the
report draws nothing itself and carries no charting library. Each mark's tooltip is its SVG
title, which the page's script also shows on touch. Under each chart the reader finds the
rows it draws (CSV), its Vega-Lite spec, its SVG, and the executed notebook cell that built
it, as links relative to the report (the report sits in ``reports/``, the figures step writes
``reports/figures/`` and the runner ``reports/executed/``; a browser test follows every link).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from citycluster.errors import LookupFailed
from citycluster.report import charts, render, svg
from citycluster.report.voice import Voice
from citycluster.report.xref import figure_anchor, figure_number, linked

#: The id of the 05_figures cell that builds and exports every chart (set in the notebook).
BUILD_CELL = "export-figures"


def evidence_links(name: str, voice: Voice) -> tuple[tuple[str, str], ...]:
    """Where a figure's data, spec, image and building cell are, relative to the report."""
    stem = f"figures/{name}.{voice.lang}"
    return ((f"{stem}.csv", voice.t("fig_data")), (f"{stem}.vl.json", voice.t("fig_spec")),
            (f"{stem}.svg", voice.t("fig_svg")),
            (f"executed/05_figures.{voice.lang}.html#cell-id={BUILD_CELL}", voice.t("fig_cell")))


def exported(folder: Path, lang: str) -> pl.DataFrame:
    """The figures the figures step exported in ``lang``, one row each in the registry's
    order: ``name``, ``spec`` (its Vega-Lite JSON) and ``svg`` (the drawing)."""
    rows = []
    for fig in charts.FIGURES:
        stem = f"{fig.name}.{lang}"
        try:
            rows.append({"name": fig.name,
                         "spec": (folder / f"{stem}.vl.json").read_text(encoding="utf-8"),
                         "svg": (folder / f"{stem}.svg").read_text(encoding="utf-8")})
        except FileNotFoundError as exc:
            raise LookupFailed(f"{exc.filename} is missing: the figures step (05_figures) "
                               f"exports every figure the report shows; run "
                               f"`citycluster run --until 05_figures`") from exc
    return pl.DataFrame(rows)


def drawn(tables: Mapping[str, pl.DataFrame], voice: Voice) -> pl.DataFrame:
    """The figures as :func:`exported` gives them, drawn here instead: for a report made in a
    language the chain did not run (the pseudo-locale test), with the figures step's own
    functions."""
    import vl_convert as vlc

    rows = []
    for fig in charts.FIGURES:
        spec = render.prepared(fig.build(dict(tables), voice), voice.chart()["tip_pair"])
        rows.append({"name": fig.name, "spec": json.dumps(spec, ensure_ascii=False),
                     "svg": vlc.vegalite_to_svg(spec)})
    return pl.DataFrame(rows)


def _title(spec: dict) -> str:
    title = spec.get("title", "")
    title = title.get("text", "") if isinstance(title, dict) else title
    return " ".join(title) if isinstance(title, list) else str(title)


def figure(name: str, tables: Mapping[str, pl.DataFrame], voice: Voice, caption: str) -> str:
    """The figure ``name`` as exported in ``v``'s language (``tables["figures"]``,
    :func:`exported`), as HTML: the chart named by its title and described by its summary,
    then its numbered caption, the summary, and the links to its evidence."""
    rows = tables["figures"].filter(pl.col("name") == name)
    if rows.is_empty():
        raise LookupFailed(f"figure {name!r} was not exported; exported: "
                           f"{', '.join(tables['figures']['name'])}")
    row = rows.row(0, named=True)
    spec = json.loads(row["spec"])
    summary = str(spec.get("description", ""))
    anchor = figure_anchor(name)
    image = svg.inline(row["svg"], prefix=anchor, label=_title(spec) or summary,
                       described_by=f"{anchor}-summary")
    evidence = "".join(f'<a href="{html.escape(href)}">{html.escape(text)}</a>'
                       for href, text in evidence_links(name, voice))
    return (f'<figure class="chart" id="{anchor}"><div class="cc-chart" id="{name}">{image}</div>'
            f"<figcaption><b>{html.escape(voice.t('figure_ref', n=figure_number(name)))}</b> "
            f"{linked(caption)}</figcaption>"
            f'<p class="cc-summary" id="{anchor}-summary">{html.escape(summary)}</p>'
            f'<div class="cc-evidence">{evidence}</div></figure>')


def figures(tables: Mapping[str, pl.DataFrame], voice: Voice,
            pairs: Sequence[tuple[str, str]]) -> str:
    """Several figures, each a (name, caption key) pair, in order."""
    return "".join(figure(name, tables, voice, voice.t(caption)) for name, caption in pairs)
