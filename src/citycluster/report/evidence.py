"""Which reference rows stand behind each verdict, model and cluster total: the report's
Sources, one entry per row, each linking to where it was seen and back to what uses it.

A verdict names its evidence in its reason (the ``ids`` of each reference argument). An id is
either a reference row (``FOR049``) or a figure derived from rows: a sum (``sum of PROV002,
...``), a difference (``FOR033−FOR032``), a cluster summed from its member cities
(``china_cities_2023.csv/NAT001``, whose rows ``cluster_totals`` records), or a plan's city
count. A derived figure gets an entry of its own that links to the rows it is built from. The
models read the ``shares`` table, whose ``pop_source``/``gdp_source`` name their rows, and the
published exponents they are compared with; the map's cluster shares read ``cluster_totals``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from citycluster.data.sources import REF_ID
from citycluster.report.xref import check_anchor, derived_anchor, figure_anchor

#: A cluster summed from its member cities over a national total: ``<table>.csv/<ref_id>``.
MEMBER_SUM = re.compile(r"^[\w.]+\.csv/([A-Z]{2,5}\d{3,})$")
#: A plan's city count: ``<planning document> (<year>)``.
PLAN = re.compile(r"^(.+) \((\d{4})\)$")


@dataclass
class Use:
    """Something in the report that rests on an entry, by its anchor: a check (with its claim
    id and which check, so the entry can link back to it) or a part of the report (the models,
    the map, the article's date)."""

    anchor: str
    claim_id: str | None = None
    check: str | None = None


@dataclass
class Derived:
    """A figure built from reference rows, as a verdict names it."""

    anchor: str
    ref: str
    entity_id: str | None
    kind: str  # sum, share, difference, member_sum, member_sum_estimated, plan
    rows: list[str]
    plan: dict[str, Any] | None = None
    uses: list[Use] = field(default_factory=list)


@dataclass
class Evidence:
    """The Sources: derived figures, then reference rows, each with what uses it."""

    derived: dict[str, Derived] = field(default_factory=dict)
    rows: dict[str, list[Use]] = field(default_factory=dict)

    def use_row(self, ref_id: str, use: Use) -> None:
        uses = self.rows.setdefault(ref_id, [])
        if all(u.anchor != use.anchor for u in uses):
            uses.append(use)


def reference_ids(reason_args: str) -> Iterator[tuple[str, str | None]]:
    """Each evidence id a check's reason names, with the place its reference is about."""
    def walk(node: Any) -> Iterator[tuple[str, str | None]]:
        if isinstance(node, dict):
            if node.get("type") == "ref":
                for ref in node["ids"]:
                    yield ref, node["label"].get("entity_id")
                return
            if "total" in node and REF_ID.fullmatch(str(node["total"])):  # an implied share
                yield str(node["total"]), None
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    yield from walk(json.loads(reason_args))


def _member_rows(entity_id: str | None, metric: str, totals: pl.DataFrame,
                 estimates: pl.DataFrame | None, check: str) -> list[str]:
    """The rows a cluster's member-city figure rests on (``cluster_totals.pop_rows``); for the
    check on observed plus estimated figures, the observed rows that sum uses and then the
    rows each estimate starts from (its base figure, its province's figures and, for a
    city-trend estimate, the census counts of its trend)."""
    target = "population" if metric == "pop_share" else "gdp"
    short = "pop" if metric == "pop_share" else "gdp"
    column = f"est_{short}_rows" if check == "with_estimates" else f"{short}_rows"
    row = totals.filter(pl.col("entity_id") == entity_id)
    if not row.height:
        return []
    rows = [r for r in (row[column][0] or "").split(", ") if r]
    if check == "with_estimates" and estimates is not None:
        named = [e for e in (row[f"estimated_ids_{target}"][0] or "").split(", ") if e]
        for r in estimates.filter(pl.col("entity_id").is_in(named),
                                  pl.col("metric") == target).sort("entity_id").iter_rows(
                                      named=True):
            rows += REF_ID.findall(" ".join(r.get(c) or "" for c in
                                            ("base_ref", "ratio_refs", "trend_refs")))
    return list(dict.fromkeys(rows))


def _plan(ref: str, membership: pl.DataFrame) -> dict[str, Any] | None:
    m = PLAN.match(ref)
    if not m:
        return None
    found = membership.filter(pl.col("planning_document") == m.group(1),
                              pl.col("document_year") == int(m.group(2)))
    return found.row(0, named=True) if found.height else None


def derived_ids(check: dict[str, Any]) -> list[tuple[str, str]]:
    """The derived ids a check's reason names, each with its entry's anchor: the one place
    both the fact-check table and the Sources take them from. A reference labelled with no
    place (a plan's city count) is the check's own place."""
    return [(ref, derived_anchor(place or check["entity_id"], ref, check["check"]))
            for ref, place in reference_ids(check["reason_args"]) if not REF_ID.fullmatch(ref)]


def derive(ref: str, entity_id: str | None, metric: str, check: str,
           tables: dict[str, pl.DataFrame]) -> Derived:
    """What a derived id is made of."""
    anchor = derived_anchor(entity_id, ref, check)
    if MEMBER_SUM.match(ref):
        kind = "member_sum_estimated" if check == "with_estimates" else "member_sum"
        return Derived(anchor, ref, entity_id, kind,
                       _member_rows(entity_id, metric, tables["cluster_totals"],
                                    tables.get("estimates"), check))
    plan = _plan(ref, tables["membership"])
    if plan is not None:
        return Derived(anchor, ref, entity_id, "plan", [], plan)
    rows = list(dict.fromkeys(REF_ID.findall(ref)))
    kind = ("difference" if "−" in ref else "share" if "/" in ref else "sum")
    return Derived(anchor, ref, entity_id, kind, rows)


def gather(tables: dict[str, pl.DataFrame],
           article: dict[str, Any] | None = None) -> Evidence:
    """Every reference row a verdict, a model, a cluster total or the article's dating uses,
    with its uses."""
    ev = Evidence()
    for r in tables["factcheck"].sort("claim_id", "check").iter_rows(named=True):
        use = Use(check_anchor(r["claim_id"], r["check"]), r["claim_id"], r["check"])
        derived = dict(derived_ids(r))
        for ref, entity_id in reference_ids(r["reason_args"]):
            if ref not in derived:
                ev.use_row(ref, use)
                continue
            d = derive(ref, entity_id or r["entity_id"], r["metric"], r["check"], tables)
            d = ev.derived.setdefault(d.anchor, d)
            if all(u.anchor != use.anchor for u in d.uses):
                d.uses.append(use)
            for row in d.rows:
                ev.use_row(row, use)
    models = Use("models")
    for r in tables["shares"].filter(pl.col("origin") == "reference").sort("entity_id") \
            .iter_rows(named=True):
        for ref in REF_ID.findall(f"{r['pop_source'] or ''} {r['gdp_source'] or ''}"):
            ev.use_row(ref, models)
    for refs in tables["model_comparison"]["published_refs"].drop_nulls():
        for ref in REF_ID.findall(refs):
            ev.use_row(ref, Use("q-scaling"))
    clusters = Use(figure_anchor("cluster_map"))
    for r in tables["cluster_totals"].sort("entity_id").iter_rows(named=True):
        for ref in REF_ID.findall(" ".join(str(r[c] or "") for c in (
                "pop_rows", "gdp_rows", "est_pop_rows", "est_gdp_rows", "sar_source"))):
            ev.use_row(ref, clusters)
    for event in (article or {}).get("dating", []):
        if event.get("ref_id"):
            ev.use_row(event["ref_id"], Use("article"))
    return ev


def rows_of(ev: Evidence, reference: pl.DataFrame) -> pl.DataFrame:
    """The reference rows the Sources list, in id order."""
    return reference.filter(pl.col("ref_id").is_in(list(ev.rows))).sort("ref_id")
