"""Which figures a claim can be compared with: its own entity and metric, the curated links
(another slug, a pinned year, a bound, a change between two years), and the shares built from
reference statistics and from member cities."""

from __future__ import annotations

from collections import Counter
from typing import Any

import polars as pl

from citycluster.data.sources import REF_ID, parse_mix
from citycluster.factcheck.verdicts import Candidate


def source_text(row: dict[str, Any]) -> str:
    return f"{row['source_publisher']}, {row['source_document']}"


def entity_label(entity_id: str, kind: str = "entity", **args: Any) -> dict[str, Any]:
    """What a reference figure is, as the report names it: a place, and how its figure was
    made (``references.<kind>`` in the catalogs)."""
    return {"kind": kind, "entity_id": entity_id, **args}


def candidates(claim: dict[str, Any], reference: pl.DataFrame, links: pl.DataFrame,
               shares: pl.DataFrame,
               cluster_totals: pl.DataFrame | None = None) -> tuple[list[Candidate], str | None]:
    """Every reference a claim can be compared with, and a qualifier override if linked."""
    out: list[Candidate] = []

    def add(rows: pl.DataFrame, relation: str, use: str = "value") -> None:
        for r in rows.iter_rows(named=True):
            if use == "year" and r["year"] is None:
                continue  # an undated row has no year to compare
            value = float(r["year"]) if use == "year" else r["value_base"]
            unit = "year" if use == "year" else r["base_unit"]
            if value is None:
                continue
            out.append(Candidate(r["ref_id"], value, r["year"], unit, relation, r["source_kind"],
                                 source_text(r), entity_label(r["entity_id"])))

    mine = links.filter(pl.col("claim_id") == claim["claim_id"])
    if not (mine["relation"] == "same").any():  # a curated same-quantity link replaces these
        add(reference.filter(pl.col("entity_id") == claim["entity_id"],
                             pl.col("metric") == claim["metric"]), "same")
    compare_as = None
    for link in mine.iter_rows(named=True):
        rows = reference.filter(pl.col("entity_id") == link["ref_entity_id"],
                                pl.col("metric") == link["ref_metric"])
        if link["use"] == "change":
            out.extend(_changes(rows, link["ref_base_year"], link["ref_year"], link["relation"]))
        else:
            if link["ref_year"] is not None:
                rows = rows.filter(pl.col("year") == link["ref_year"])
            add(rows, link["relation"], link["use"])
        compare_as = link["compare_as"] or compare_as
    if claim["metric"] in ("pop_share", "gdp_share"):
        col = claim["metric"]
        src = "pop_source" if col == "pop_share" else "gdp_source"
        for s in shares.filter(pl.col("entity_id") == claim["entity_id"],
                               pl.col("origin") == "reference").iter_rows(named=True):
            whole = s["boundary"].startswith("whole provinces")
            out.append(Candidate(
                s[src], s[col], s["year"], "fraction", "upper_bound" if whole else "same",
                "derived", s["boundary"],
                entity_label(s["entity_id"], "whole_provinces" if whole else "reference_share"),
                _basis_of(s[src], reference)))
        out.extend(_city_candidates(claim, cluster_totals))
    return out, compare_as


def _changes(rows: pl.DataFrame, base_year: int, year: int, relation: str) -> list[Candidate]:
    """The change from ``base_year`` to ``year``, one per vintage both years share.

    Like is paired with like: a census count is never subtracted from a mid-year estimate,
    which would mix a count with a model of the population.
    """
    out = []
    for (vintage,), group in rows.group_by("vintage", maintain_order=True):
        start = group.filter(pl.col("year") == base_year).sort("ref_id")
        end = group.filter(pl.col("year") == year).sort("ref_id")
        if start.is_empty() or end.is_empty():
            continue
        a, b = start.row(0, named=True), end.row(0, named=True)
        if a["base_unit"] != b["base_unit"]:
            continue
        kinds = {a["source_kind"], b["source_kind"]}
        basis = tuple(sorted(Counter([a["source_kind"], b["source_kind"]]).items()))
        out.append(Candidate(
            f"{b['ref_id']}−{a['ref_id']}", b["value_base"] - a["value_base"], year,
            b["base_unit"], relation, ", ".join(sorted(kinds)),
            f"{source_text(b)} (change since {base_year}, {vintage or 'unlabelled'})",
            entity_label(b["entity_id"], "change", base_year=base_year, year=year,
                         vintage={"type": "label", "code": vintage or "unlabelled"}),
            basis))
    return out


def _basis_of(source: str, reference: pl.DataFrame) -> tuple[tuple[str, int], ...]:
    """The source kinds of the reference rows a derived figure names (``sum of PROV002, ...``)."""
    ids = set(REF_ID.findall(source or ""))
    kinds = reference.filter(pl.col("ref_id").is_in(list(ids)))["source_kind"].to_list()
    return tuple(sorted(Counter(kinds).items()))


def _city_candidates(claim: dict[str, Any],
                     cluster_totals: pl.DataFrame | None) -> list[Candidate]:
    """A cluster's share from its member cities: the figure where every member is known, else
    the bounds that the known members and the known non-members allow."""
    if cluster_totals is None or cluster_totals.is_empty():
        return []
    col = claim["metric"]
    rows = cluster_totals.filter(pl.col("entity_id") == claim["entity_id"])
    out = []
    for r in rows.iter_rows(named=True):
        low, high = r[f"{col}_low"], r[f"{col}_high"]
        known = r["members_known_population" if col == "pop_share" else "members_known_gdp"]
        label = entity_label(r["entity_id"], "member_cities", known=known, members=r["members"])
        src = "sum of member cities in china_cities_2023.csv over the national total"
        ref = r["pop_source" if col == "pop_share" else "gdp_source"]
        basis = parse_mix(r["pop_source_kinds" if col == "pop_share" else "gdp_source_kinds"])
        if low == high:
            out.append(Candidate(ref, low, r["year"], "fraction", "same", "derived", src,
                                 label, basis))
        else:
            out.append(Candidate(ref, low, r["year"], "fraction", "lower_bound", "derived",
                                 src, label, basis))
            out.append(Candidate(ref, high, r["year"], "fraction", "upper_bound", "derived",
                                 src, label, basis))
    return out
