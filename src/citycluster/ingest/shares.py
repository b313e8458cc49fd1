"""Population and GDP shares of their country, for every entity that has both.

Shares are the common footing on which the article's clusters, foreign megaregions and China's
provinces can be compared, and on which the share model is fitted. Each row says where both
numbers come from (claim or reference ids) and which boundary it approximates, because a share
computed from whole provinces is not the share of a cluster defined by its cities.
"""

from __future__ import annotations

import polars as pl

from citycluster.data import published
from citycluster.ingest.geography import with_city_geography

COUNTRY_ENTITY = {"CHN": "cn", "USA": "us", "JPN": "jp", "GBR": "gb"}
#: The five national city clusters (cn_big5 is their union); names are in place_names.
CLUSTERS = ("cn_yrd", "cn_jjj", "cn_gba", "cn_myr", "cn_cy")
#: The share table's columns, as data/processed.datapackage.yaml declares them.
SHARE_COLUMNS = published.columns("shares")


def national_totals(reference: pl.DataFrame) -> pl.DataFrame:
    """Country rows (entity_type country): one value per country, metric, year, base unit and
    vintage, so a share divides a first release by a first release and a revision by a
    revision."""
    return (reference.filter(pl.col("entity_type") == "country")
            .filter(pl.col("metric").is_in(["population", "gdp"]))
            .group_by("country", "metric", "year", "base_unit", "vintage", maintain_order=True)
            .agg(pl.col("value_base").first().alias("national"),
                 pl.col("ref_id").first().alias("national_ref")))


def _pivot_pop_gdp(rows: pl.DataFrame, id_col: str) -> pl.DataFrame:
    pop = rows.filter(pl.col("metric") == "population").select(
        "entity_id", "year", pl.col("value_base").alias("population"),
        pl.col(id_col).alias("pop_source"))
    gdp = rows.filter(pl.col("metric") == "gdp").select(
        "entity_id", "year", pl.col("value_base").alias("gdp"),
        pl.col("base_unit").alias("currency"), pl.col(id_col).alias("gdp_source"), "vintage")
    return pop.join(gdp, on=["entity_id", "year"], how="inner", nulls_equal=True)


def _with_national(df: pl.DataFrame, totals: pl.DataFrame) -> pl.DataFrame:
    pop_nat = (totals.filter(pl.col("metric") == "population")
               .group_by("country", "year", maintain_order=True).first().select(
                   "country", "year", pl.col("national").alias("national_population"),
                   pl.col("national_ref").alias("pop_national_ref")))
    gdp_nat = totals.filter(pl.col("metric") == "gdp").select(
        "country", "year", pl.col("base_unit").alias("currency"), "vintage",
        pl.col("national").alias("national_gdp"), pl.col("national_ref").alias("gdp_national_ref"))
    return (df.join(pop_nat, on=["country", "year"], how="inner")
            .join(gdp_nat, on=["country", "year", "currency", "vintage"], how="inner",
                  nulls_equal=True)
            .with_columns(
                (pl.col("population") / pl.col("national_population")).alias("pop_share"),
                (pl.col("gdp") / pl.col("national_gdp")).alias("gdp_share"),
                (pl.col("pop_source") + "/" + pl.col("pop_national_ref")).alias("pop_source"),
                (pl.col("gdp_source") + "/" + pl.col("gdp_national_ref")).alias("gdp_source")))


def reference_entity_shares(reference: pl.DataFrame) -> pl.DataFrame:
    """Shares of sub-national entities whose population and GDP are both in the references."""
    totals = national_totals(reference)
    entities = reference.filter(pl.col("entity_type") != "country")
    names = entities.group_by("entity_id").agg(
        pl.col("entity_type").first(), pl.col("country").first())
    pairs = _pivot_pop_gdp(entities, "ref_id").join(names, on="entity_id")
    out = _with_national(pairs, totals)
    return out.with_columns(pl.lit("reference").alias("origin"),
                            pl.lit("as published").alias("boundary"))


def cluster_shares(reference: pl.DataFrame, membership: pl.DataFrame) -> pl.DataFrame:
    """The five clusters (and their union) approximated by the whole provinces of their members.

    Hong Kong and Macao are left out: China's national accounts exclude them, so the Greater Bay
    Area is approximated by Guangdong. Whole provinces overstate a cluster defined by cities, so
    these shares are upper bounds.
    """
    totals = national_totals(reference)
    provinces = reference.filter(pl.col("entity_type") == "province")
    cn_prov = membership.filter(pl.col("province_entity_id").str.starts_with("cn_prov_"))
    groups = {cid: sorted(set(cn_prov.filter(pl.col("cluster_id") == cid)
                              ["province_entity_id"].to_list()))
              for cid in CLUSTERS}
    groups["cn_big5"] = sorted({p for ps in groups.values() for p in ps})
    rows = []
    pairs = _pivot_pop_gdp(provinces, "ref_id")
    prov_en = dict(provinces.select("entity_id", "entity_en").unique("entity_id").iter_rows())
    for cid, members in groups.items():
        if not members:
            continue
        sub = pairs.filter(pl.col("entity_id").is_in(members))
        for (year,), g in sub.group_by("year"):
            if g.height != len(members):
                continue  # a province lacks a figure for this year: no partial sums
            rows.append({
                "entity_id": cid,
                "entity_type": "city_cluster", "country": "CHN", "year": year,
                "population": g["population"].sum(), "gdp": g["gdp"].sum(),
                "currency": g["currency"][0], "vintage": g["vintage"][0],
                "pop_source": "sum of " + ", ".join(sorted(g["pop_source"])),
                "gdp_source": "sum of " + ", ".join(sorted(g["gdp_source"])),
                "boundary": "whole provinces: " + ", ".join(prov_en.get(m, m) for m in members),
            })
    if not rows:
        return pl.DataFrame()
    df = pl.DataFrame(rows).with_columns(pl.col("year").cast(pl.Int32))
    return _with_national(df, totals).with_columns(pl.lit("reference").alias("origin"))


def city_plan_members(membership: pl.DataFrame) -> pl.DataFrame:
    """The membership rows of the plan that defines each cluster by its cities.

    A plan that lists any whole province does not (the Yangtze River Delta's 2019 integration
    outline; its 27-city central area is a sensitivity the table also lists); where a cluster
    has several city plans, the latest. The national city-cluster plans name cities.
    """
    plans = (membership.group_by("cluster_id", "planning_document", "document_year")
             .agg((pl.col("member_level") == "province").any().alias("by_province"))
             .filter(~pl.col("by_province")).sort("document_year")
             .group_by("cluster_id").last())
    return membership.join(plans.select("cluster_id", "planning_document"),
                           on=["cluster_id", "planning_document"], how="semi")


def article_shares(claims: pl.DataFrame, reference: pl.DataFrame) -> pl.DataFrame:
    """Shares as the article states them, or implied by its population and the national total.

    Where the article gives a population but no share, the share is the population over the
    country's population for the claim's year, or for the latest year on record when the claim
    states none (the boundary column says so).
    """
    totals = national_totals(reference).filter(pl.col("metric") == "population")
    first = claims.sort("claim_id").group_by("entity_id", "metric", maintain_order=True).first()
    rows = []
    for entity_id, g in first.group_by("entity_id", maintain_order=True):
        by_metric = {r["metric"]: r for r in g.iter_rows(named=True)}
        gdp = by_metric.get("gdp_share")
        if gdp is None or gdp["value_base"] is None:
            continue  # an unconvertible value is reported by validation, not guessed here
        pop = by_metric.get("pop_share")
        note = "as printed"
        if pop is not None and pop["value_base"] is not None:
            pop_share, pop_source, population = pop["value_base"], pop["claim_id"], None
        elif "population" in by_metric:
            claim = by_metric["population"]
            nat = totals.filter(pl.col("country") == claim["country"])
            if claim["year"] is not None:
                nat = nat.filter(pl.col("year") == claim["year"])
            nat = nat.sort("year", descending=True)
            if nat.is_empty() or claim["value_base"] is None:
                continue
            population = claim["value_base"]
            pop_share = population / nat["national"][0]
            pop_source = f"{claim['claim_id']}/{nat['national_ref'][0]}"
            if claim["year"] is None:
                note = (f"population share implied by the article's population over the "
                        f"national total of {nat['year'][0]} (the article gives no year)")
        else:
            continue
        year = gdp["year"] if gdp["year"] is not None else (pop.get("year") if pop else None)
        rows.append({
            "entity_id": entity_id[0],
            "entity_type": gdp["entity_type"], "country": gdp["country"], "year": year,
            "population": population, "gdp": None, "currency": None,
            "pop_share": pop_share, "gdp_share": gdp["value_base"],
            "origin": "article", "boundary": note, "pop_source": pop_source,
            "gdp_source": gdp["claim_id"]})
    schema = {"year": pl.Int32, "population": pl.Float64, "gdp": pl.Float64,
              "currency": pl.String}
    return pl.DataFrame(rows, schema_overrides=schema) if rows else pl.DataFrame()


def published_shares(reference: pl.DataFrame) -> pl.DataFrame:
    """Shares a reference publishes directly (pop_share and gdp_share for the same year)."""
    direct = reference.filter(pl.col("metric").is_in(["pop_share", "gdp_share"]))
    pop = direct.filter(pl.col("metric") == "pop_share").group_by(
        "entity_id", "year", maintain_order=True).first()
    gdp = direct.filter(pl.col("metric") == "gdp_share").group_by(
        "entity_id", "year", maintain_order=True).first()
    pairs = pop.select("entity_id", "year", "entity_type", "country",
                       pl.col("value_base").alias("pop_share"),
                       pl.col("ref_id").alias("pop_source")).join(
        gdp.select("entity_id", "year", pl.col("value_base").alias("gdp_share"),
                   pl.col("ref_id").alias("gdp_source")),
        on=["entity_id", "year"], how="inner", nulls_equal=True)
    return pairs.with_columns(pl.lit("reference").alias("origin"),
                              pl.lit("as published").alias("boundary"))


def build_shares(claims: pl.DataFrame, reference: pl.DataFrame,
                 membership: pl.DataFrame, coordinates: pl.DataFrame) -> pl.DataFrame:
    """Every share row from every origin, in one table with the contract's columns."""
    parts = [article_shares(claims, reference),
             with_city_geography(reference_entity_shares(reference),
                                 city_plan_members(membership), coordinates),
             cluster_shares(reference, membership), published_shares(reference)]
    frames = []
    for part in parts:
        if part.is_empty():
            continue
        for col in SHARE_COLUMNS:
            if col not in part.columns:
                part = part.with_columns(pl.lit(None).alias(col))
        frames.append(part.with_columns(
            (pl.col("gdp_share") / pl.col("pop_share")).alias("premium")).select(SHARE_COLUMNS))
    schema = published.schema("shares")
    frames = [f.cast(schema) for f in frames]
    return pl.concat(frames, how="vertical").sort("origin", "entity_id", "year")
