"""The report's HTML: sections, tables, header, footer, the index page and the export.

The 06_report notebook displays HTML fragments built here; nbconvert then turns the executed
notebook into a page with no code shown, through a template that loads nothing from the network.
Every string that comes from data passes through Jinja2's autoescaping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jinja2
import polars as pl
from markupsafe import Markup

from citycluster import languages
from citycluster.data.sources import parse_mix
from citycluster.factcheck.verdicts import CONSISTENT, INCONSISTENT, UNVERIFIABLE, VERDICTS
from citycluster.publish import write_text_atomic
from citycluster.report import article as article_text
from citycluster.report.evidence import derived_ids
from citycluster.report.i18n import (
    SECTIONS,
    entries,
    language_name,
    language_tag,
    text,
    typeset_variants,
)
from citycluster.report.voice import Voice
from citycluster.report.xref import (
    check_anchor,
    linked,
    table_anchor,
    table_number,
)

TEMPLATES = Path(__file__).parent / "templates"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES / "sections"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)
#: Prose passes through this filter: its ids and "Figure 3" become links (escaped first).
_ENV.filters["linked"] = linked

def reading(row: dict[str, Any], voice: Voice) -> str:
    """The reading warnings of a fitted model row, in the report's language."""
    notes = []
    if row["n"] < 10:
        notes.append(voice.t("warn_small", n=row["n"]))
    if row["null_value"] is not None and row["ci_low"] <= row["null_value"] <= row["ci_high"]:
        notes.append(voice.t("warn_null", null=voice.num(row["null_value"], 0)))
    return voice.t("list_sep").join(notes)


def render_template(name: str, **values: Any) -> str:
    """A section template rendered with autoescaping."""
    return _ENV.get_template(name).render(**values)


def numbered(name: str, caption: str, voice: Voice) -> dict[str, str]:
    """A numbered table's anchor, label (Table 2) and caption."""
    return {"id": table_anchor(name), "label": voice.t("table_ref", n=table_number(name)),
            "text": caption}


def section(id: str, title: str, paragraphs: Sequence[str],
            table: dict[str, Any] | None = None, caption: dict[str, str] | None = None,
            after: Sequence[str] = (), figure: str = "") -> str:
    """One report section as HTML; every value is escaped. A table comes with its numbered
    caption (:func:`numbered`); ``after`` it, more paragraphs and a figure's HTML."""
    return _ENV.get_template("summary.html.j2").render(
        id=id, title=title, paragraphs=paragraphs, table=table, caption=caption, after=after,
        figure=Markup(figure))


#: The fact-check table's default order: what contradicts the article first.
SEVERITY = (INCONSISTENT, UNVERIFIABLE, CONSISTENT)


def _cell(text: str, sort: str | None = None, num: bool = False) -> dict[str, Any]:
    return {"text": text, "sort": sort, "num": num}


def _link(anchor: str, text: str) -> Markup:
    return Markup('<a href="#{}">{}</a>').format(anchor, text)


def factcheck_section(checks: pl.DataFrame, voice: Voice, paragraphs: Sequence[str],
                      figure_html: str) -> str:
    """The fact-check section: the verdicts' chart, how claims are judged, and every check in
    a table a reader can sort and filter offline, the inconsistent ones first: they are what
    a reader of the article most needs, and a second list of them would repeat the table.
    Each row is an anchor (``#check-C006``); its claim links to the ledger, and each id in its
    reason to the Sources."""
    rows = []
    order = {verdict: i for i, verdict in enumerate(SEVERITY)}
    for r in sorted(checks.sort("claim_id", "check").iter_rows(named=True),
                    key=lambda r: order[r["verdict"]]):
        ratio = r["ratio"]
        check = r["claim_id"] if r["check"] == "direct" else voice.t(
            "check_of", claim=r["claim_id"], check=voice.t(r["check"]))
        # the reason is typeset (zh: "（2016）"), so each derived id is looked for as set too
        derived = [(text, anchor) for ref, anchor in derived_ids(r)
                   for text in typeset_variants(ref, voice.lang)]
        rows.append({"group": r["verdict"], "id": check_anchor(r["claim_id"], r["check"]),
                     "cells": [
            _cell(linked(check), sort=f"{r['claim_id']}-{r['check'] != 'direct'}"),
            _cell(voice.name(r["entity_id"])), _cell(linked(r["claimed"])),
            _cell(voice.t(r["verdict"])),
            _cell("" if ratio is None else voice.num(ratio, 2),
                  "" if ratio is None else f"{ratio:012.4f}", True),
            _cell(linked(voice.reason(r["reason_args"]), derived)),
            _cell(basis_text(r["source_mix"], r["weak_basis"], voice)),
        ]})
    header = [voice.t(k) for k in ("table_id", "table_entity", "table_claimed", "table_verdict",
                               "table_ratio", "table_reason", "table_basis")]
    return _ENV.get_template("factcheck.html.j2").render(
        title=voice.t("factcheck_title"), paragraphs=paragraphs, figure=Markup(figure_html),
        header=header, rows=rows,
        choices=[(code, voice.t(code)) for code in VERDICTS],
        caption=numbered("factcheck", voice.t("fc_table"), voice), t=entries(voice.lang, "text"))


def ledger_section(claims: pl.DataFrame, checks: pl.DataFrame, voice: Voice,
                   paragraphs: Sequence[str]) -> str:
    """The claims ledger: each figure as printed and normalised, with its verdict, in a table
    a reader can sort and filter by verdict offline. Each row is the claim's anchor
    (``#C006``), and its verdict links to the check."""
    verdict = dict(checks.filter(pl.col("check") == "direct")
                   .select("claim_id", "verdict").iter_rows())
    rows = []
    for r in claims.sort("claim_id").iter_rows(named=True):
        cid = r["claim_id"]
        rows.append({"group": verdict.get(cid, ""), "id": cid, "cells": [
            _cell(cid), _cell(r["paragraph"]), _cell(voice.name(r["entity_id"])),
            _cell(voice.label(r["metric"])), _cell(r["printed"]),
            _cell(voice.quantity(r["value_base"], r["base_unit"]),
                  f"{r['value_base']:020.6f}" if r["value_base"] is not None else "", True),
            _cell(voice.label(r["qualifier"])),
            _cell("" if r["year"] is None else str(r["year"])),
            _cell(_link(check_anchor(cid, "direct"), voice.t(verdict[cid]))
                  if cid in verdict else ""),
        ]})
    header = [voice.t(k) for k in ("table_id", "table_para", "table_entity", "table_metric",
                               "table_printed", "table_value", "table_qualifier",
                               "table_year", "table_verdict")]
    return _ENV.get_template("claims.html.j2").render(
        title=voice.t("claims_title"), paragraphs=paragraphs, header=header, rows=rows,
        choices=[(code, voice.t(code)) for code in VERDICTS],
        caption=numbered("claims", voice.t("claims_table"), voice), t=entries(voice.lang, "text"))


def mix_text(mix: Sequence[tuple[str, int]], voice: Voice) -> str:
    """A count per source kind or vintage in words: ``aggregator or blog 312; news 31``."""
    return voice.t("mix_sep").join(voice.t("mix_item", kind=voice.label(k), n=n) for k, n in mix)


def basis_text(source_mix: str | None, weak: bool | None, voice: Voice) -> str:
    """What a verdict rests on, with the warning when every figure is an aggregator copy or
    recalled."""
    if not source_mix:
        return ""
    words = mix_text(parse_mix(source_mix), voice)
    return voice.t("basis_weak", basis=words) if weak else words


def header(voice: Voice, report_languages: Sequence[str], article: dict[str, Any],
           cff: dict[str, Any], record: dict[str, Any]) -> str:
    """Title, the article checked, the version and how to cite it (on a printed report's
    first page too), and links to the other languages, the index and the full citation; the
    table of contents follows the answer (:func:`contents`)."""
    from citycluster.report import citation

    others = [(code, language_tag(code), language_name(code))
              for code in report_languages if code != voice.lang]
    ver = citation.version(cff, record)
    return _ENV.get_template("header.html.j2").render(
        title=voice.t("title"), lang=voice.lang, others=others, t=entries(voice.lang, "text"),
        byline=article_text.byline(article, voice),
        version=voice.t("version_line", **ver, apa=citation.styles(cff, record, voice)["apa"]))


def contents(voice: Voice) -> str:
    """The table of contents, placed after the findings: a reader meets the answer first."""
    toc = [(sid, voice.t(f"{sid}_title")) for sid in SECTIONS]
    return _ENV.get_template("toc.html.j2").render(toc=toc, t=entries(voice.lang, "text"))


def counts_of(frame: pl.DataFrame, column: str) -> list[tuple[str, int]]:
    """How many rows have each value of ``column`` (a source kind, a vintage), most frequent
    first; an empty value counts as ``unlabelled``."""
    counts = (frame.select(pl.col(column).fill_null("unlabelled")).group_by(column)
              .len().sort(["len", column], descending=[True, False]))
    return list(counts.iter_rows())


def parameter_value(name: str, value: Any, voice: Voice) -> str:
    """A run parameter's value in words: models by their names, trends by place and measure,
    lists joined; the formulas stay in the executed notebooks."""
    sep = voice.t("list_sep")
    if name == "models":
        return sep.join(voice.label(m["name"]) for m in value)
    if name == "trends":
        return sep.join(voice.t("trend_item", entity=voice.name(t["entity_id"]),
                            metric=voice.label(t["metric"])) for t in value)
    if isinstance(value, bool):
        return voice.t("value_true" if value else "value_false")
    if isinstance(value, list):
        return sep.join(str(x) for x in value)
    return str(value)


def footer(record: dict[str, Any], voice: Voice, vintages: Sequence[tuple[str, int]] = ()) -> str:
    """The reproducibility footer: commit, lock and input hashes, the parameters as a table
    (name, value in words, meaning), timings, and the vintages of the reference figures with
    the rule that pairs them."""
    meanings = entries(voice.lang, "parameters")
    params = [(name, parameter_value(name, value, voice), meanings.get(name, ""))
              for name, value in sorted(record["params"].items())]
    return _ENV.get_template("footer.html.j2").render(
        r=record, params=params, t=entries(voice.lang, "text"), vintages=mix_text(vintages, voice),
        lang=voice.lang)


def write_index(reports: Path, report_languages: Sequence[str]) -> Path:
    """``reports/index.html``: links to each report, the executed notebooks, the validation
    record, the tables and the figures, so a reader can find everything from one page."""
    def rel(paths: list[Path]) -> list[str]:
        return sorted(p.relative_to(reports).as_posix() for p in paths)

    from citycluster.data.packages import CONTENT_LICENCE
    from citycluster.paths import repo_root
    from citycluster.report.citation import load as load_citation

    licence = load_citation(repo_root()).get("license", "")
    page = _ENV.get_template("index.html.j2").render(
        reports=[(f"report.{code}.html", language_name(code), text(code, "title"),
                  language_tag(code))
                 for code in report_languages],
        terms=[(language_tag(code), text(code, "terms_title"),
                text(code, "terms", code_licence=licence, content_licence=CONTENT_LICENCE.short))
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


#: A link in a report that is relative to the report's folder (not a fragment, an absolute
#: path, an address or a climb out already).
_RELATIVE = re.compile(r'(href|src)="(?![#/]|[a-zA-Z][a-zA-Z0-9+.-]*:|\.\./)')


def beside_reports(page: str) -> str:
    """A page rendered in ``reports/executed/`` whose outputs carry links written for
    ``reports/`` (the report notebook's figures and tables): each relative link climbs one
    folder, so it leads where it does in the report."""
    return _RELATIVE.sub(r'\1="../', page)


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
        for cell in nb.cells:  # the notebook's own ids, which a report's figures link to
            if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                cell["id"] = "injected-parameters"  # papermill gives it a random one
        nb.metadata["title"] = executed.stem
        body, _ = exporter.from_notebook_node(nb)
        write_text_atomic(out, beside_reports(body))


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
        language_code=lang,  # nbconvert takes ISO 639-1 codes only: the tag is set below
    )
    # The notebook's own markdown explains the notebook to a researcher; the reader's page is
    # made only of the outputs the code cells display.
    nb.cells = [c for c in nb.cells if c.cell_type == "code" and c.get("outputs")]
    for i, cell in enumerate(nb.cells):  # papermill's injected cell has a random id
        cell["id"] = f"cell-{i:02d}"
    nb.metadata["title"] = text(lang, "title")
    body, _ = exporter.from_notebook_node(nb)
    body = body.replace(f'<html lang="{lang}">', f'<html lang="{language_tag(lang)}">', 1)
    write_text_atomic(out, _OUTPUT_TAB_STOP.sub(r"\1", body))
    return out


#: nbconvert makes every output area a tab stop, for a notebook's reader moving between cells;
#: a report's outputs are its text, and a keyboard user would meet an unnamed stop per section.
_OUTPUT_TAB_STOP = re.compile(
    r'(<div class="[^"]*\bjp-OutputArea-output\b[^"]*"[^>]*?) tabindex="0"')
