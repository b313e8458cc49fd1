"""Where cities are relative to their cores: great-circle distances to the cluster's core city
and to the provincial capital, and GDP per head relative to each (the linkage proxies)."""

from __future__ import annotations

import polars as pl

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def _great_circle_km(lon1: pl.Expr, lat1: pl.Expr, lon2: pl.Expr, lat2: pl.Expr) -> pl.Expr:
    """Haversine distance on a sphere of the Earth's mean radius."""
    rad = 3.141592653589793 / 180
    dlat, dlon = (lat2 - lat1) * rad, (lon2 - lon1) * rad
    a = (dlat / 2).sin() ** 2 + (lat1 * rad).cos() * (lat2 * rad).cos() * (dlon / 2).sin() ** 2
    return 2 * EARTH_RADIUS_KM * a.sqrt().arcsin()


def with_city_geography(entity_shares: pl.DataFrame, plan_members: pl.DataFrame,
                        coordinates: pl.DataFrame) -> pl.DataFrame:
    """Marks city-level rows and, for members of a cluster's city plan (``plan_members``, the
    rows :func:`citycluster.ingest.shares.city_plan_members` keeps), the distance to the
    cluster's core and GDP per head relative to the core's.

    The core is the member with the largest GDP (Shanghai, Beijing, Shenzhen, Wuhan,
    Chongqing in 2023): one rule, not a list. The ratio and the distance are the linkage
    proxy: a member well tied to its core should not fall far behind it in output per head.
    """
    coords = coordinates.select("entity_id", "longitude", "latitude")
    members = (plan_members.filter(pl.col("member_level") != "sar")
               .select(pl.col("member_entity_id").alias("entity_id"), "cluster_id")
               .unique("entity_id", keep="first"))
    df = entity_shares.with_columns(
        pl.col("entity_id").is_in(coordinates["entity_id"].implode()).alias("city_level"))
    df = df.join(members, on="entity_id", how="left")
    pc = df.filter(pl.col("cluster_id").is_not_null(), pl.col("city_level")).with_columns(
        (pl.col("gdp") / pl.col("population")).alias("_pc"))
    cores = (pc.sort("gdp", descending=True).group_by("cluster_id", maintain_order=True)
             .first().select("cluster_id", pl.col("entity_id").alias("core_id"),
                             pl.col("_pc").alias("_core_pc")))
    cores = cores.join(coords.rename({"entity_id": "core_id", "longitude": "_clon",
                                      "latitude": "_clat"}), on="core_id", how="left")
    df = (df.join(cores, on="cluster_id", how="left").join(coords, on="entity_id", how="left")
          .with_columns(
              pl.when(pl.col("city_level")).then(_great_circle_km(
                  pl.col("longitude"), pl.col("latitude"), pl.col("_clon"), pl.col("_clat")))
              .alias("core_distance_km"),
              pl.when(pl.col("city_level")).then(
                  pl.col("gdp") / pl.col("population") / pl.col("_core_pc"))
              .alias("gdp_pc_relative")))
    df = df.drop("_core_pc", "_clon", "_clat")
    return with_capital_distance(df, coordinates).drop("longitude", "latitude")


#: GB/T 2260 gives the seat of each province's government the first prefecture code.
CAPITAL_CODE = "0100"


def capital_ids(coordinates: pl.DataFrame) -> set[str]:
    """The provincial capitals among the prefecture-level cities (``xx0100``)."""
    return set(coordinates.filter(
        pl.col("entity_id").str.starts_with("cn_city_"),
        pl.col("adcode").cast(pl.String).str.ends_with(CAPITAL_CODE))["entity_id"])


def with_capital_distance(df: pl.DataFrame, coordinates: pl.DataFrame) -> pl.DataFrame:
    """For every prefecture-level city, its province, the distance to the provincial capital and
    GDP per head relative to the capital's: the linkage proxy beyond the five clusters.

    The capital is read from the division code, not listed (:data:`CAPITAL_CODE`), and
    municipalities have none.
    """
    cities = coordinates.filter(pl.col("entity_id").str.starts_with("cn_city_")).select(
        "entity_id", "province_zh",
        (pl.col("adcode").cast(pl.String).str.slice(0, 2) + CAPITAL_CODE).alias("_cap_code"))
    capitals = (coordinates.filter(pl.col("adcode").cast(pl.String).str.ends_with(CAPITAL_CODE))
                .select(pl.col("adcode").cast(pl.String).alias("_cap_code"),
                        pl.col("entity_id").alias("capital_id"),
                        pl.col("longitude").alias("_klon"), pl.col("latitude").alias("_klat")))
    cap_pc = (df.filter(pl.col("city_level"))
              .select(pl.col("entity_id").alias("capital_id"),
                      (pl.col("gdp") / pl.col("population")).alias("_cap_pc")))
    geo = cities.join(capitals, on="_cap_code", how="inner").join(cap_pc, on="capital_id",
                                                                    how="left")
    df = df.join(geo, on="entity_id", how="left").with_columns(
        _great_circle_km(pl.col("longitude"), pl.col("latitude"), pl.col("_klon"),
                         pl.col("_klat")).alias("capital_distance_km"),
        (pl.col("gdp") / pl.col("population") / pl.col("_cap_pc")).alias("gdp_pc_rel_capital"))
    return df.drop("_cap_code", "_klon", "_klat", "_cap_pc")
