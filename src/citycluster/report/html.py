"""The report's HTML: sections, tables, header, footer, the index page and the export.

The 06_report notebook displays HTML fragments built here; nbconvert then turns the executed
notebook into a page with no code shown, through a template that loads nothing from the network.
Every string that comes from data passes through Jinja2's autoescaping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jinja2
import polars as pl
from markupsafe import Markup

from citycluster import languages
from citycluster.data.sources import parse_mix
from citycluster.publish import write_text_atomic
from citycluster.report.i18n import SECTIONS, entries, language_name, text
from citycluster.report.voice import Voice

TEMPLATES = Path(__file__).parent / "templates"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES / "sections"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)

def reading(row: dict[str, Any], v: Voice) -> str:
    """The reading warnings of a fitted model row, in the report's language."""
    notes = []
    if row["n"] < 10:
        notes.append(v.t("warn_small", n=row["n"]))
    if row["null_value"] is not None and row["ci_low"] <= row["null_value"] <= row["ci_high"]:
        notes.append(v.t("warn_null", null=v.num(row["null_value"], 0)))
    return v.t("list_sep").join(notes)


def render_template(name: str, **values: Any) -> str:
    """A section template rendered with autoescaping."""
    return _ENV.get_template(name).render(**values)


def section(id: str, title: str, paragraphs: Sequence[str],
            table: dict[str, Any] | None = None, caption: str | None = None) -> str:
    """One report section as HTML; every value is escaped."""
    return _ENV.get_template("summary.html.j2").render(
        id=id, title=title, paragraphs=paragraphs, table=table, caption=caption)


VERDICTS = ("consistent", "inconsistent", "unverifiable")
#: The fact-check table's default order: what contradicts the article first.
SEVERITY = ("inconsistent", "unverifiable", "consistent")


def _cell(text: str, sort: str | None = None, num: bool = False) -> dict[str, Any]:
    return {"text": text, "sort": sort, "num": num}


def factcheck_section(checks: pl.DataFrame, v: Voice, paragraphs: Sequence[str],
                      figure_html: str) -> str:
    """The fact-check section: the verdicts' chart, how claims are judged, and every check in
    a table a reader can sort and filter offline, the inconsistent ones first: they are what
    a reader of the article most needs, and a second list of them would repeat the table."""
    rows = []
    order = {verdict: i for i, verdict in enumerate(SEVERITY)}
    for r in sorted(checks.sort("claim_id", "check").iter_rows(named=True),
                    key=lambda r: order[r["verdict"]]):
        ratio = r["ratio"]
        check = r["claim_id"] if r["check"] == "direct" else v.t(
            "check_of", claim=r["claim_id"], check=v.t(r["check"]))
        rows.append({"group": r["verdict"], "cells": [
            _cell(check, sort=f"{r['claim_id']}-{r['check'] != 'direct'}"),
            _cell(v.name(r["entity_id"])), _cell(r["claimed"]), _cell(v.t(r["verdict"])),
            _cell("" if ratio is None else v.num(ratio, 2),
                  "" if ratio is None else f"{ratio:012.4f}", True),
            _cell(v.reason(r["reason_args"])),
            _cell(basis_text(r["source_mix"], r["weak_basis"], v)),
        ]})
    header = [v.t(k) for k in ("table_id", "table_entity", "table_claimed", "table_verdict",
                               "table_ratio", "table_reason", "table_basis")]
    return _ENV.get_template("factcheck.html.j2").render(
        title=v.t("factcheck_title"), paragraphs=paragraphs, figure=Markup(figure_html),
        header=header, rows=rows,
        choices=[(code, v.t(code)) for code in VERDICTS], caption=v.t("fc_table"),
        t=entries(v.lang, "text"))


def ledger_section(claims: pl.DataFrame, checks: pl.DataFrame, v: Voice,
                   paragraphs: Sequence[str]) -> str:
    """The claims ledger: each figure as printed and normalised, with its verdict, in a table
    a reader can sort and filter by verdict offline."""
    verdict = dict(checks.filter(pl.col("check") == "direct")
                   .select("claim_id", "verdict").iter_rows())
    rows = []
    for r in claims.sort("claim_id").iter_rows(named=True):
        rows.append({"group": verdict.get(r["claim_id"], ""), "cells": [
            _cell(r["claim_id"]), _cell(r["paragraph"]), _cell(v.name(r["entity_id"])),
            _cell(v.label(r["metric"])), _cell(r["printed"]),
            _cell(v.quantity(r["value_base"], r["base_unit"]),
                  f"{r['value_base']:020.6f}" if r["value_base"] is not None else "", True),
            _cell(v.label(r["qualifier"])),
            _cell("" if r["year"] is None else str(r["year"])),
            _cell(v.t(verdict[r["claim_id"]]) if r["claim_id"] in verdict else ""),
        ]})
    header = [v.t(k) for k in ("table_id", "table_para", "table_entity", "table_metric",
                               "table_printed", "table_value", "table_qualifier",
                               "table_year", "table_verdict")]
    return _ENV.get_template("claims.html.j2").render(
        title=v.t("claims_title"), paragraphs=paragraphs, header=header, rows=rows,
        choices=[(code, v.t(code)) for code in VERDICTS], caption=v.t("claims_table"),
        t=entries(v.lang, "text"))


def mix_text(mix: Sequence[tuple[str, int]], v: Voice) -> str:
    """A count per source kind or vintage in words: ``aggregator or blog 312; news 31``."""
    return v.t("mix_sep").join(v.t("mix_item", kind=v.label(k), n=n) for k, n in mix)


def basis_text(source_mix: str | None, weak: bool | None, v: Voice) -> str:
    """What a verdict rests on, with the warning when every figure is an aggregator copy or
    recalled."""
    if not source_mix:
        return ""
    words = mix_text(parse_mix(source_mix), v)
    return v.t("basis_weak", basis=words) if weak else words


def header(v: Voice, report_languages: Sequence[str]) -> str:
    """Title, links to the other languages and the index, and the table of contents."""
    toc = [(sid, v.t(f"{sid}_title")) for sid in SECTIONS]
    others = [(code, language_name(code)) for code in report_languages if code != v.lang]
    return _ENV.get_template("header.html.j2").render(
        title=v.t("title"), lang=v.lang, others=others, toc=toc, t=entries(v.lang, "text"))


def counts_of(frame: pl.DataFrame, column: str) -> list[tuple[str, int]]:
    """How many rows have each value of ``column`` (a source kind, a vintage), most frequent
    first; an empty value counts as ``unlabelled``."""
    counts = (frame.select(pl.col(column).fill_null("unlabelled")).group_by(column)
              .len().sort(["len", column], descending=[True, False]))
    return list(counts.iter_rows())


def parameter_value(name: str, value: Any, v: Voice) -> str:
    """A run parameter's value in words: models by their names, trends by place and measure,
    lists joined; the formulas stay in the executed notebooks."""
    sep = v.t("list_sep")
    if name == "models":
        return sep.join(v.label(m["name"]) for m in value)
    if name == "trends":
        return sep.join(v.t("trend_item", entity=v.name(t["entity_id"]),
                            metric=v.label(t["metric"])) for t in value)
    if isinstance(value, bool):
        return v.t("value_true" if value else "value_false")
    if isinstance(value, list):
        return sep.join(str(x) for x in value)
    return str(value)


def footer(record: dict[str, Any], v: Voice, vintages: Sequence[tuple[str, int]] = ()) -> str:
    """The reproducibility footer: commit, lock and input hashes, the parameters as a table
    (name, value in words, meaning), timings, and the vintages of the reference figures with
    the rule that pairs them."""
    meanings = entries(v.lang, "parameters")
    params = [(name, parameter_value(name, value, v), meanings.get(name, ""))
              for name, value in sorted(record["params"].items())]
    return _ENV.get_template("footer.html.j2").render(
        r=record, params=params, t=entries(v.lang, "text"), vintages=mix_text(vintages, v),
        lang=v.lang)


def write_index(reports: Path, report_languages: Sequence[str]) -> Path:
    """``reports/index.html``: links to each report, the executed notebooks, the validation
    record, the tables and the figures, so a reader can find everything from one page."""
    def rel(paths: list[Path]) -> list[str]:
        return sorted(p.relative_to(reports).as_posix() for p in paths)

    page = _ENV.get_template("index.html.j2").render(
        reports=[(f"report.{code}.html", language_name(code), text(code, "title"), code)
                 for code in report_languages],
        executed=[(nb, nb.removesuffix(".ipynb") + ".html") for nb in
                  rel(list((reports / "executed").glob("*.ipynb")))],
        records=rel([p for p in (reports / "provenance.json", reports / "run.json")
                     if p.exists()]),
        tables=rel([p for p in reports.glob("*.csv")]),
        validation=rel([p for p in (reports / "validation").glob("*")
                        if p.name in ("index.html", "summary.csv")]),
        figures=rel(list((reports / "figures").glob("*"))),
    )
    out = reports / "index.html"
    write_text_atomic(out, page)
    return out


def table(df: pl.DataFrame, header: Sequence[str],
          formats: dict[str, Callable[[Any], str]] | None = None) -> dict[str, Any]:
    """A frame as header and cells; numeric cells are right-aligned and formatted."""
    formats = formats or {}
    rows = []
    for row in df.iter_rows(named=True):
        cells = []
        for col, value in row.items():
            fmt = formats.get(col)
            is_num = isinstance(value, int | float) and not isinstance(value, bool)
            text_value = "" if value is None else (fmt(value) if fmt else str(value))
            cells.append({"text": text_value, "num": is_num})
        rows.append(cells)
    return {"header": list(header), "rows": rows}


def export_notebook_pages(pages: Sequence[tuple[Path, Path]]) -> None:
    """Each executed notebook as a page a reader can open (``(executed, out)`` pairs): code and
    outputs, loading nothing from the network (the same offline template as the reports, with
    the code kept). One exporter for them all: each new one compiles the templates again
    (0.3 s of a run's seven pages)."""
    if not pages:
        return
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="report", extra_template_basedirs=[str(TEMPLATES)])
    for executed, out in pages:
        nb = nbformat.read(executed, as_version=4)
        for i, cell in enumerate(nb.cells):  # papermill's injected cell has a random id
            cell["id"] = f"cell-{i:02d}"
        nb.metadata["title"] = executed.stem
        body, _ = exporter.from_notebook_node(nb)
        write_text_atomic(out, body)


def export_html(executed: Path, out: Path, lang: str | None = None) -> Path:
    """The executed report notebook as an offline HTML page with no code cells shown."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    lang = lang or nb.metadata.get("papermill", {}).get("parameters", {}).get(
        "lang", languages.SOURCE_LANGUAGE)
    exporter = HTMLExporter(
        template_name="report", extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
        language_code=lang,
    )
    # The notebook's own markdown explains the notebook to a researcher; the reader's page is
    # made only of the outputs the code cells display.
    nb.cells = [c for c in nb.cells if c.cell_type == "code" and c.get("outputs")]
    for i, cell in enumerate(nb.cells):  # papermill's injected cell has a random id
        cell["id"] = f"cell-{i:02d}"
    nb.metadata["title"] = text(lang, "title")
    body, _ = exporter.from_notebook_node(nb)
    write_text_atomic(out, body)
    return out
