"""Estimates of the 2023 figures still missing for cluster members, stated as estimates, and
the worklist of where the real figures would be printed.

A member starts from its nearest official figures: between its own figures before and after
2023 where both exist (interpolated, and bounded by them), else from its nearest earlier one
(a year-end figure, or the base year's), moved with its province over the same years and
adjusted by the estimator the backtest chose, with the backtest's nominal 90% interval
(:mod:`citycluster.ingest.backtest`). A member with no earlier official figure gets no
estimate and stays bounded by its province's residual (:mod:`citycluster.ingest.cluster_totals`).

An estimate says how many backtested cities it rests on (``n_backtest``: those with a census
trend under city_trend, its kind's where it falls back to its kind's adjustment); the worklist
and the report name those resting on fewer than :data:`~citycluster.ingest.backtest.MIN_BACKTEST`
as the estimates the backtest trusts least.
"""

from __future__ import annotations

import math

import polars as pl

from citycluster.data import published
from citycluster.ingest.backtest import (
    BASE,
    TARGET_YEAR,
    Calibration,
    calibrate,
    census_trends,
    figures,
    kind_of,
    province_changes,
    province_of,
    ratios,
)
from citycluster.ingest.geography import capital_ids
from citycluster.ingest.shares import city_plan_members

VINTAGE = "estimate_projected"
#: Official population figures nearer 2023 than the census, which a member's estimate starts
#: from where they exist: year-end figures before 2023 (the nearest first), and one after it.
NEARER_YEARS = (2022, 2021)
LATER_YEAR = 2024


def missing(reference: pl.DataFrame, membership: pl.DataFrame) -> pl.DataFrame:
    """Every member city (municipalities and the SARs aside) without a 2023 figure, per metric."""
    members = (city_plan_members(membership)
               .filter(pl.col("member_entity_id").str.starts_with("cn_city_"))
               .select("cluster_id", pl.col("member_entity_id").alias("entity_id")))
    rows = []
    for metric in BASE:
        have = set(reference.filter(pl.col("metric") == metric,
                                    pl.col("year") == TARGET_YEAR)["entity_id"])
        rows.append(members.filter(~pl.col("entity_id").is_in(list(have)))
                    .with_columns(pl.lit(metric).alias("metric")))
    return pl.concat(rows).unique(["entity_id", "metric"], keep="first", maintain_order=True)


def _own_figures(reference: pl.DataFrame, metric: str) -> dict[tuple[str, int], dict]:
    """Every first-release figure of ``metric`` in China, by (entity, year)."""
    rows = (reference.filter(pl.col("metric") == metric, pl.col("country") == "CHN",
                             pl.col("vintage") == "first_release", pl.col("year").is_not_null())
            .sort("ref_id").unique(["entity_id", "year"], keep="first", maintain_order=True))
    return {(r["entity_id"], r["year"]): r for r in rows.iter_rows(named=True)}


def _moved(start: dict, ratio: float, ratio_refs: str, kind: str,
           trend: tuple[float, str] | None, cal: Calibration) -> dict:
    """``start`` moved with its province's change (``ratio``) over the same years and by the
    chosen estimator's adjustment for as many years, with the backtest's interval."""
    shift, used = cal.fit.shift(kind, trend[0] if trend else None, TARGET_YEAR - start["year"])
    value = start["value_base"] * ratio * math.exp(shift)
    return {"start": start, "value_base": value, "low": value * math.exp(cal.low),
            "high": value * math.exp(cal.high), "province_ratio": ratio,
            "ratio_refs": ratio_refs,
            "trend_refs": trend[1] if trend and used == "city_trend" else None,
            "method": used, "adjustment": math.exp(shift),
            "n_backtest": cal.resting_on(used, kind)}


def _nearer(entity: str, prov: str, kind: str, trend: tuple[float, str] | None,
            cal: Calibration,
            own: dict[tuple[str, int], dict]) -> dict | None:
    """A population estimate from official figures nearer 2023 than the census, or None.

    Between a figure before 2023 and one after it, the estimate is interpolated (on a log
    scale), and the two figures bound it: an interval no backtest is needed for, as long as the
    change ran one way. Otherwise the nearest earlier figure is moved as :func:`_moved` says;
    its interval is the census backtest's, which a shorter projection should not exceed (not
    measured: no city has both a year-end 2022 and an observed 2023 figure in the tables).
    """
    before = next((own[(entity, y)] for y in NEARER_YEARS if (entity, y) in own), None)
    if before is None:
        return None
    after = own.get((entity, LATER_YEAR))
    if after is not None and after["value_base"] != before["value_base"]:
        a, b = before["value_base"], after["value_base"]
        value = a * (b / a) ** ((TARGET_YEAR - before["year"]) / (LATER_YEAR - before["year"]))
        return {"start": before, "value_base": value, "low": min(a, b), "high": max(a, b),
                "province_ratio": None, "ratio_refs": f"{after['ref_id']}/{before['ref_id']}",
                "trend_refs": None, "method": "interpolated", "adjustment": 1.0, "n_backtest": 0}
    then, now = own.get((prov, before["year"])), own.get((prov, TARGET_YEAR))
    if then is None or now is None:
        return None
    return _moved(before, now["value_base"] / then["value_base"],
                  f"{now['ref_id']}/{then['ref_id']}", kind, trend, cal)


def projected(reference: pl.DataFrame, membership: pl.DataFrame,
              coordinates: pl.DataFrame) -> pl.DataFrame:
    """One row per missing member figure that an official figure can estimate: from the
    nearest ones (:func:`_nearer`, population), else from the base year by the estimator the
    backtest chose, with its nominal 90% interval."""
    province = province_of(reference, coordinates)
    capitals = capital_ids(coordinates)
    trend = census_trends(reference, coordinates)
    gaps = missing(reference, membership)
    rows = []
    for metric, (year, vintage) in BASE.items():
        cal = calibrate(reference, coordinates, metric)
        if cal is None:
            continue
        base = {r["entity_id"]: r | {"year": year} for r in
                figures(reference, metric, year, vintage).iter_rows(named=True)}
        own = _own_figures(reference, metric)
        provinces = province_changes(ratios(reference, metric))
        change = {r["province_id"]: r for r in provinces.iter_rows(named=True)}
        for gap in gaps.filter(pl.col("metric") == metric).iter_rows(named=True):
            entity, prov = gap["entity_id"], province.get(gap["entity_id"])
            kind, city_trend = kind_of(entity, capitals), trend.get(entity)
            found = (_nearer(entity, prov, kind, city_trend, cal, own)
                     if metric == "population" and prov else None)
            if found is None and entity in base and prov in change:
                found = _moved(base[entity], change[prov]["province_ratio"],
                               change[prov]["ratio_refs"], kind, city_trend, cal)
            if found is None:
                continue
            start = found.pop("start")
            rows.append({
                "entity_id": entity, "metric": metric, "year": TARGET_YEAR, "vintage": VINTAGE,
                **found, "base_unit": start["base_unit"], "base_ref": start["ref_id"],
                "base_year": start["year"], "base_value": start["value_base"],
                "province_id": prov, "kind": kind,
                "source": f"{start['ref_id']}: {start['source_publisher']}, "
                          f"{start['source_document']}"})
    return pl.DataFrame(rows, schema=published.schema("estimates")).sort("entity_id", "metric")


def worklist(reference: pl.DataFrame, membership: pl.DataFrame, coordinates: pl.DataFrame,
             estimates: pl.DataFrame) -> pl.DataFrame:
    """Every missing member figure, what stands in for it now, and where to find the real one
    (the city's bulletin, then the province's yearbook of the next year: the ``x-template`` of
    the ``document`` and ``alternative`` columns in the contract).

    A researcher who finds a figure adds a row to ``data/raw/reference/china_cities_2023.csv``
    and reruns: the figure replaces its estimate and the totals move (tests/test_worklist.py).
    """
    contract = published.contract("missing_figures")
    document, alternative = (contract.field(c).template or "" for c in ("document", "alternative"))
    place = {r["entity_id"]: r for r in coordinates.iter_rows(named=True)}
    est = {(r["entity_id"], r["metric"]): r for r in estimates.iter_rows(named=True)}
    rows = []
    for gap in missing(reference, membership).sort("cluster_id", "entity_id", "metric").iter_rows(
            named=True):
        where = place.get(gap["entity_id"], {})
        city, province = where.get("name_zh", gap["entity_id"]), where.get("province_zh")
        e = est.get((gap["entity_id"], gap["metric"]), {})
        rows.append({
            "entity_id": gap["entity_id"], "entity_zh": city, "province_zh": province,
            "cluster_id": gap["cluster_id"], "metric": gap["metric"], "year": TARGET_YEAR,
            "stands_in": "estimate" if e else "province_residual",
            "estimate": e.get("value_base"),
            **{c: e.get(c) for c in ("low", "high", "base_ref", "base_unit", "n_backtest")},
            "document": document.format(year=TARGET_YEAR, city=city),
            "alternative": alternative.format(province=province or "", edition=TARGET_YEAR + 1)})
    return pl.DataFrame(rows, schema=published.schema("missing_figures"))
