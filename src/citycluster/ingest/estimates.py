"""Estimates of the 2023 figures still missing for cluster members, stated as estimates.

A member without its 2023 figure starts from its nearest earlier official figure (the 2020
census for population, 2022 for GDP) and moves with its province over the same years: the
province's 2023 figure over its figure of the base year. That assumes the member grew as its
province did; how wrong that can be is measured, not assumed: the interval is the spread, in the
same province, of observed members' changes around the province's change (or, where fewer than
``MIN_OBSERVED`` cities of the province have both years, the spread over every province). A
member with no earlier official figure gets no estimate and stays bounded by its province's
residual (:mod:`citycluster.ingest.cluster_totals`).
"""

from __future__ import annotations

import polars as pl

from citycluster.data import published
from citycluster.ingest.shares import city_plan_members

#: The earlier official figure each metric starts from, and its vintage.
BASE = {"population": (2020, "census"), "gdp": (2022, "first_release")}
TARGET_YEAR = 2023
VINTAGE = "estimate_projected"
#: Fewer observed changes than this in a province, and the spread is taken over every province.
MIN_OBSERVED = 2


def _figures(reference: pl.DataFrame, metric: str, year: int, vintage: str) -> pl.DataFrame:
    return (reference.filter(pl.col("metric") == metric, pl.col("year") == year,
                             pl.col("country") == "CHN", pl.col("vintage") == vintage)
            .sort("ref_id").unique("entity_id", keep="first", maintain_order=True)
            .select("entity_id", "ref_id", "value_base", "base_unit", "source_publisher",
                    "source_document"))


def province_of(reference: pl.DataFrame, coordinates: pl.DataFrame) -> dict[str, str]:
    """Each prefecture-level city's province entity id."""
    ids = dict(reference.filter(pl.col("entity_type") == "province")
               .select("entity_zh", "entity_id").unique("entity_zh").iter_rows())
    return {c: ids[p] for c, p in coordinates.select("entity_id", "province_zh").iter_rows()
            if p in ids}


def missing(reference: pl.DataFrame, membership: pl.DataFrame) -> pl.DataFrame:
    """Every member city (municipalities and the SARs aside) without a 2023 figure, per metric."""
    members = (city_plan_members(membership)
               .filter(pl.col("member_entity_id").str.starts_with("cn_city_"))
               .select("cluster_id", pl.col("member_entity_id").alias("entity_id")))
    rows = []
    for metric, (_, _) in BASE.items():
        have = set(reference.filter(pl.col("metric") == metric,
                                    pl.col("year") == TARGET_YEAR)["entity_id"])
        rows.append(members.filter(~pl.col("entity_id").is_in(list(have)))
                    .with_columns(pl.lit(metric).alias("metric")))
    return pl.concat(rows).unique(["entity_id", "metric"], keep="first", maintain_order=True)


def changes(ratios: pl.DataFrame, provinces: pl.DataFrame,
            province: dict[str, str]) -> pl.DataFrame:
    """Cities with both the base-year and the 2023 figure (``ratios``): their change over their
    province's (``relative`` is 1 where a city moved exactly as its province did)."""
    cities = ratios.filter(pl.col("entity_id").str.starts_with("cn_city_")).with_columns(
        pl.col("entity_id").replace_strict(province, default=None).alias("province_id"))
    return cities.join(provinces, on="province_id").with_columns(
        (pl.col("ratio") / pl.col("province_ratio")).alias("relative"))


def province_changes(ratios: pl.DataFrame) -> pl.DataFrame:
    """Each province's 2023 figure over its base-year figure, whether or not any of its cities
    has both years: a missing member is projected with it even where no spread is local."""
    return ratios.filter(pl.col("entity_id").str.starts_with("cn_prov_")).select(
        pl.col("entity_id").alias("province_id"), pl.col("ratio").alias("province_ratio"),
        pl.col("refs").alias("ratio_refs"))


def _ratios(reference: pl.DataFrame, metric: str) -> pl.DataFrame:
    year, vintage = BASE[metric]
    base, now = (_figures(reference, metric, year, vintage),
                 _figures(reference, metric, TARGET_YEAR, "first_release"))
    return base.join(now, on="entity_id", suffix="_now").select(
        "entity_id", (pl.col("value_base_now") / pl.col("value_base")).alias("ratio"),
        pl.concat_str("ref_id_now", "ref_id", separator="/").alias("refs"))


def projected(reference: pl.DataFrame, membership: pl.DataFrame,
              coordinates: pl.DataFrame) -> pl.DataFrame:
    """One row per missing member figure that an earlier official figure can estimate."""
    province = province_of(reference, coordinates)
    gaps = missing(reference, membership)
    rows = []
    for metric, (year, vintage) in BASE.items():
        base = _figures(reference, metric, year, vintage)
        ratio = _ratios(reference, metric)
        provinces = province_changes(ratio)
        observed = changes(ratio, provinces, province)
        ratios = dict(provinces.select("province_id", "province_ratio").iter_rows())
        refs = dict(provinces.select("province_id", "ratio_refs").iter_rows())
        if observed.is_empty():
            continue
        for gap in gaps.filter(pl.col("metric") == metric).iter_rows(named=True):
            b = base.filter(pl.col("entity_id") == gap["entity_id"])
            prov = province.get(gap["entity_id"])
            if b.is_empty() or prov not in ratios:
                continue
            b0 = b.row(0, named=True)
            local = observed.filter(pl.col("province_id") == prov)["relative"]
            spread_from = "province" if local.len() >= MIN_OBSERVED else "pooled"
            spread = local if spread_from == "province" else observed["relative"]
            value = b0["value_base"] * ratios[prov]
            rows.append({
                "entity_id": gap["entity_id"], "metric": metric, "year": TARGET_YEAR,
                "vintage": VINTAGE, "value_base": value,
                "low": value * min(float(spread.min()), 1.0),  # type: ignore[arg-type]
                "high": value * max(float(spread.max()), 1.0),  # type: ignore[arg-type]
                "base_unit": b0["base_unit"], "base_ref": b0["ref_id"], "base_year": year,
                "base_value": b0["value_base"], "province_id": prov,
                "province_ratio": ratios[prov], "ratio_refs": refs[prov],
                "spread_from": spread_from, "n_observed": spread.len(),
                "source": f"{b0['ref_id']}: {b0['source_publisher']}, {b0['source_document']}"})
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
            **{c: e.get(c) for c in ("low", "high", "base_ref", "base_unit")},
            "document": document.format(year=TARGET_YEAR, city=city),
            "alternative": alternative.format(province=province or "", edition=TARGET_YEAR + 1)})
    return pl.DataFrame(rows, schema=published.schema("missing_figures"))
