"""Fact-check: each claim against the independent figures, with a verdict and a reason.

The rules, all driven by parameters, in the order they are applied:

1. **Candidates.** References with the claim's own entity and metric, the curated links in
   ``data/raw/factcheck_links.csv`` (another slug, metric or year, or a bound), and for
   population and GDP shares the reference-built shares (which, from whole provinces, bound a
   cluster's share from above).
2. **Year.** A claim with a year is compared with the reference of that year or the nearest one,
   and the gap is stated; beyond ``max_year_gap`` years it is unverifiable. A claim without a
   year is compared with the latest reference; if it matches only an older one, it is
   ``stale_years`` or more out of date (inconsistent) or merely older (consistent, said so).
3. **Comparison.** The claim is the interval its wording implies (eq a point, approx ±
   ``approx_tolerance``, gt/ge/lt/le half-open). A reference stands for the band ±
   ``rounding_tolerance`` (published figures are rounded too); several references of the same
   year span their range. Overlap is consistent, no overlap inconsistent.
4. **Relations.** A bound can only contradict: a claim above an upper bound is inconsistent,
   otherwise unverifiable. A proxy is reported, never judged. An ``alternative`` reference only
   explains a mismatch ("it matches the earlier plan instead").
5. **Across claims.** A population claim over its country's total gives a share, checked against
   published shares; a count of member cities is checked against the planning documents.

A reason is stored as data: ``reason_code`` (the phrase that decides the verdict) and
``reason_args`` (every phrase with its numbers, as JSON). The report writes it in the reader's
language from the catalogs, so this module knows no language.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from citycluster.data import published
from citycluster.data.sources import parse_mix, source_mix
from citycluster.factcheck.candidates import candidates, entity_label, source_text
from citycluster.factcheck.verdicts import (
    UNVERIFIABLE,
    VERDICTS,
    Candidate,
    Outcome,
    Tolerances,
    claim_interval,
    judge,
    part,
)

__all__ = ["VERDICTS", "Candidate", "Tolerances", "judge", "run_factcheck"]

#: The fact-check table's columns, as data/processed.datapackage.yaml declares them.
COLUMNS = published.columns("factcheck")
#: Source kinds a careful reader would not rest a verdict on alone.
WEAK_KINDS = frozenset({"aggregator", "recalled"})


def check_claims(claims: pl.DataFrame, reference: pl.DataFrame, links: pl.DataFrame,
                 shares: pl.DataFrame, tol: Tolerances,
                 cluster_totals: pl.DataFrame | None = None) -> list[dict[str, Any]]:
    """One fact-check row per claim."""
    rows = []
    for claim in claims.sort("claim_id").iter_rows(named=True):
        cands, compare_as = candidates(claim, reference, links, shares, cluster_totals)
        outcome = judge(claim, cands, tol, compare_as)
        rows.append(_row(claim, "direct", outcome, tol, compare_as))
    return rows


def _row(claim: dict[str, Any], check: str, outcome: Outcome, tol: Tolerances,
         compare_as: str | None = None) -> dict[str, Any]:
    civ = claim_interval(claim, compare_as or claim["qualifier"], tol)
    ref = outcome.refs[0] if outcome.refs else None
    values = [r.value for r in outcome.refs]
    # a ratio means something only against the same quantity, and not between two years
    comparable = bool(values) and outcome.relation == "same" and claim["base_unit"] != "year"
    return {
        "claim_id": claim["claim_id"], "check": check, "paragraph": claim["paragraph"],
        "entity_id": claim["entity_id"],
        "metric": claim["metric"], "claimed": claim["printed"],
        "claimed_low": civ.low, "claimed_high": civ.high,
        "reference": ", ".join(dict.fromkeys(r.ref_id for r in outcome.refs)) or None,
        "reference_value": (sum(values) / len(values)) if comparable else None,
        "reference_year": ref.year if ref else None,
        "year_gap": (abs(ref.year - claim["year"]) if ref and ref.year is not None
                     and claim["year"] is not None else None),
        "unit": claim["base_unit"], "relation": outcome.relation, "verdict": outcome.verdict,
        "reason_code": outcome.code,
        "reason_args": json.dumps(outcome.reason, ensure_ascii=False, sort_keys=True),
        "source": "; ".join(dict.fromkeys(f"{r.ref_id}: {r.source}" for r in outcome.refs)) or None,
        "source_kind": ", ".join(sorted({r.source_kind for r in outcome.refs})) or None,
        "source_mix": source_mix(k for r in outcome.refs for k, n in r.kinds() for _ in range(n))
                      or None,
        # a verdict (not a mere lack of one) whose every underlying figure is weak
        "weak_basis": bool(outcome.refs) and outcome.verdict != UNVERIFIABLE
                      and {k for r in outcome.refs for k, _ in r.kinds()} <= WEAK_KINDS,
        "ratio": (claim["value_base"] / (sum(values) / len(values))
                  if comparable and sum(values) else None),
    }


def implied_share_checks(claims: pl.DataFrame, reference: pl.DataFrame,
                         tol: Tolerances) -> list[dict[str, Any]]:
    """A population claim over its country's total, against published population shares."""
    nat = reference.filter(pl.col("entity_type") == "country", pl.col("metric") == "population")
    rows = []
    for claim in claims.filter(pl.col("metric") == "population").iter_rows(named=True):
        totals = nat.filter(pl.col("country") == claim["country"]).sort("year")
        published = reference.filter(pl.col("entity_id") == claim["entity_id"],
                                     pl.col("metric") == "pop_share")
        if totals.is_empty() or published.is_empty():
            continue
        same_year = (totals.filter(pl.col("year") == claim["year"]) if claim["year"] is not None
                     else totals.clear())
        # the national count of the claim's year; an undated claim takes the latest count
        total = (same_year if not same_year.is_empty() else totals).row(-1, named=True)
        share = dict(claim, metric="pop_share", value_base=claim["value_base"] / total[
            "value_base"], base_unit="fraction",
            printed=f"{claim['printed']} / {total['ref_id']}")
        cands = [Candidate(r["ref_id"], r["value_base"], r["year"], "fraction", "same",
                           r["source_kind"], source_text(r), entity_label(r["entity_id"]))
                 for r in published.iter_rows(named=True)]
        o = judge(share, cands, tol)
        implied = part("implied_share", claim=claim["claim_id"], total=total["ref_id"],
                       year=total["year"], share={"type": "quantity",
                                                  "value": share["value_base"],
                                                  "unit": "fraction"})
        o = Outcome(o.verdict, [*o.reason, implied], o.refs, o.relation)
        rows.append(_row(share, "implied_share", o, tol))
    return rows


def member_count_checks(claims: pl.DataFrame, membership: pl.DataFrame,
                        tol: Tolerances) -> list[dict[str, Any]]:
    """A count of a cluster's cities against the cities its planning documents list."""
    rows = []
    for claim in claims.filter(pl.col("metric") == "count_cities").iter_rows(named=True):
        # a plan that lists whole provinces does not enumerate its cities, so it cannot count
        plans = (membership.filter(pl.col("cluster_id") == claim["entity_id"])
                 .group_by("planning_document", "document_year")
                 .agg((pl.col("member_level") != "province").sum().alias("members"),
                      (pl.col("member_level") == "province").any().alias("by_province"),
                      pl.col("source_kind").first())
                 .filter(~pl.col("by_province")).sort("document_year"))
        if plans.is_empty():
            continue
        cands = [Candidate(f"{p['planning_document']} ({p['document_year']})",
                           float(p["members"]), p["document_year"], "count", "same",
                           p["source_kind"], "data/raw/reference/cluster_membership.csv",
                           {"kind": "plan_cities", "plan": p["planning_document"]})
                 for p in plans.iter_rows(named=True)]
        o = judge(claim, cands, tol)
        rows.append(_row(claim, "member_count", o, tol))
    return rows


def estimate_checks(claims: pl.DataFrame, cluster_totals: pl.DataFrame | None,
                    tol: Tolerances) -> list[dict[str, Any]]:
    """A cluster's share claim against the share on observed plus estimated member figures.

    The estimates' interval is passed as a pair of bounds, so the verdict is consistent only
    when the claim's range holds the whole interval and inconsistent when it misses it; the
    direct check, on observed figures alone, stays as it is beside this one.
    """
    if cluster_totals is None or "est_pop_share_low" not in cluster_totals.columns:
        return []
    rows = []
    for claim in claims.filter(pl.col("metric").is_in(["pop_share", "gdp_share"])).iter_rows(
            named=True):
        total = cluster_totals.filter(pl.col("entity_id") == claim["entity_id"])
        if total.is_empty():
            continue
        r = total.row(0, named=True)
        col, metric = claim["metric"], "population" if claim["metric"] == "pop_share" else "gdp"
        if not r[f"members_estimated_{metric}"]:
            continue  # nothing estimated: the direct check says it all
        label = entity_label(r["entity_id"], "member_cities_estimated",
                             known=r[f"members_known_{metric}"],
                             estimated=r[f"members_estimated_{metric}"], members=r["members"])
        src = "member cities in china_cities_2023.csv plus the estimates in estimates.parquet"
        ref = r["pop_source" if metric == "population" else "gdp_source"]
        basis = parse_mix(r["pop_source_kinds" if metric == "population" else "gdp_source_kinds"])
        cands = [Candidate(ref, r[f"est_{col}_low"], r["year"], "fraction", "lower_bound",
                           "derived", src, label, basis, computed=True),
                 Candidate(ref, r[f"est_{col}_high"], r["year"], "fraction", "upper_bound",
                           "derived", src, label, basis, computed=True)]
        rows.append(_row(claim, "with_estimates", judge(claim, cands, tol), tol))
    return rows


def run_factcheck(claims: pl.DataFrame, reference: pl.DataFrame, links: pl.DataFrame,
                  shares: pl.DataFrame, membership: pl.DataFrame,
                  tol: Tolerances, cluster_totals: pl.DataFrame | None = None) -> pl.DataFrame:
    """All checks, direct and across claims, in the factcheck.csv contract."""
    rows = (check_claims(claims, reference, links, shares, tol, cluster_totals)
            + implied_share_checks(claims, reference, tol)
            + member_count_checks(claims, membership, tol)
            + estimate_checks(claims, cluster_totals, tol))
    return pl.DataFrame(rows, schema=published.schema("factcheck")).select(COLUMNS)
