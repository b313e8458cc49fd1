"""The named samples a model specification can be fitted on.

A model spec in ``params/default.yaml`` names its sample (``provinces``, ``entities``, ...)
rather than carrying a filter expression, so every sample is defined once, here, with the
reason it is shaped the way it is.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from citycluster.errors import LookupFailed
from citycluster.ingest.shares import SHARE_COLUMNS

#: Claim metrics that describe how tightly an entity's industries are linked. They measure
#: different things (a trade share, a linkage degree, a supplier share), which is itself a
#: reason not to pool them; the linkage sample keeps the metric name beside each value.
LINKAGE_METRICS = ("internal_trade_share", "industry_linkage", "supporting_rate")
UNION_OF_CLUSTERS = "cn_big5"


#: Cities of any level: the city samples' rows, never the places' (Guangzhou's own bulletin
#: figures, kept under a local id beside its prefecture row, would count it twice).
CITY_TYPES = ("prefecture_city", "city", "county_city")


def provinces(shares: pl.DataFrame, claims: pl.DataFrame,
              reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """China's 31 provinces (2023): the one sample with enough rows for a real fit."""
    return shares.filter(pl.col("entity_type") == "province")


def entities(shares: pl.DataFrame, claims: pl.DataFrame,
             reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every non-province pair, from the article and from references.

    An entity can appear twice (the article's pair and a reference pair), so the rows are not
    independent; ``entities_reference`` avoids that at the cost of fewer rows.
    """
    return shares.filter(~pl.col("entity_type").is_in(["province", *CITY_TYPES]),
                         ~pl.col("city_level").fill_null(False))


def entities_reference(shares: pl.DataFrame, claims: pl.DataFrame,
                       reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """Non-province pairs built from reference statistics only, one row per entity.

    The union of the five clusters (``cn_big5``) is left out: its members are already rows.
    """
    return entities(shares, claims, reference).filter(pl.col("origin") == "reference",
                                           pl.col("entity_id") != UNION_OF_CLUSTERS)


def clusters_cn(shares: pl.DataFrame, claims: pl.DataFrame,
                reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """Chinese clusters with absolute GDP in yuan, for a scaling fit across them.

    The union of the five clusters (``cn_big5``) is left out: it would count its members twice.
    """
    return shares.filter(pl.col("country") == "CHN", pl.col("origin") == "reference",
                         ~pl.col("entity_type").is_in(["province", *CITY_TYPES]),
                         ~pl.col("city_level").fill_null(False),
                         pl.col("entity_id") != UNION_OF_CLUSTERS,
                         pl.col("gdp").is_not_null(), pl.col("population").is_not_null())


def linkage(shares: pl.DataFrame, claims: pl.DataFrame,
            reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """Entities with both an industry-linkage figure (latest year) and a premium.

    The premium prefers the reference pair over the article's, so a claim is not explained by
    a number derived from the same article.
    """
    link = (claims.filter(pl.col("metric").is_in(LINKAGE_METRICS))
            .sort("entity_id", "year", nulls_last=False)
            .group_by("entity_id", maintain_order=True)
            .agg(pl.col("value_base").last().alias("linkage"),
                 pl.col("metric").last().alias("linkage_metric"),
                 pl.col("year").last().alias("linkage_year"),
                 pl.col("claim_id").last().alias("linkage_claim")))
    premium = (shares.filter(pl.col("entity_type") != "province")
               .with_columns((pl.col("origin") == "reference").alias("_ref"))
               .sort("entity_id", "_ref", descending=[False, True])
               .group_by("entity_id", maintain_order=True)
               .agg(pl.col("premium").first(), pl.col("origin").first().alias("premium_origin")))
    return link.join(premium, on="entity_id", how="inner")


def reference_panel(shares: pl.DataFrame, claims: pl.DataFrame,
                    reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every city-year in the references with both population and GDP, one row each.

    Not used by the default models (the references hold few such city-years); it exists for
    panels a researcher adds to ``data/raw/reference/``, and for the benchmark's scale run.
    """
    if reference is None:
        raise LookupFailed("the reference_panel sample needs the reference table")
    rows = reference.filter(pl.col("entity_type") == "city",
                            pl.col("metric").is_in(["population", "gdp"]),
                            pl.col("year").is_not_null())
    pop = rows.filter(pl.col("metric") == "population").select(
        "entity_id", "year", pl.col("value_base").alias("population"))
    gdp = rows.filter(pl.col("metric") == "gdp").select(
        "entity_id", "year", pl.col("value_base").alias("gdp"), pl.col("base_unit").alias(
            "currency"))
    return pop.join(gdp, on=["entity_id", "year"], how="inner").sort("entity_id", "year")


def cities(shares: pl.DataFrame, claims: pl.DataFrame,
           reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """China's prefecture-level units and municipalities with both 2023 figures, one row each.

    ``member`` is 1 for a city its cluster's plan names (the premium term), and ``cluster`` the
    cluster's id or ``none``, for cluster fixed effects. Cities are not a random sample: the
    ones whose bulletins could be found are over-represented among the large and the eastern.
    """
    return (shares.filter(pl.col("city_level"), pl.col("origin") == "reference",
                          pl.col("year") == 2023, pl.col("gdp").is_not_null(),
                          pl.col("population").is_not_null())
            .with_columns(pl.col("cluster_id").is_not_null().cast(pl.Int8).alias("member"),
                          pl.col("cluster_id").fill_null("none").alias("cluster")))


def city_linkage(shares: pl.DataFrame, claims: pl.DataFrame,
                 reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """Member cities other than their cluster's core: GDP per head relative to the core's,
    against the great-circle distance to it (the linkage proxy)."""
    return cities(shares, claims, reference).filter(
        pl.col("cluster_id").is_not_null(), pl.col("entity_id") != pl.col("core_id"),
        pl.col("core_distance_km") > 0)


def capital_linkage(shares: pl.DataFrame, claims: pl.DataFrame,
                    reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """Prefecture-level cities other than their province's capital, where the capital's figures
    are known: GDP per head relative to the capital's, against the distance to it. Most of
    China's metropolitan areas are drawn around a provincial capital, so this is the same proxy
    as :func:`city_linkage` over every province rather than the five clusters."""
    return cities(shares, claims, reference).filter(
        pl.col("gdp_pc_rel_capital").is_not_null(), pl.col("entity_id") != pl.col("capital_id"),
        pl.col("capital_distance_km") > 0)


CITY_COLUMNS = (*SHARE_COLUMNS, "member", "cluster")
#: The columns each sample offers a formula, checked before any step runs (a test ties these to
#: what the builders return).
SAMPLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "cities": CITY_COLUMNS, "city_linkage": CITY_COLUMNS, "capital_linkage": CITY_COLUMNS,
    "provinces": tuple(SHARE_COLUMNS), "entities": tuple(SHARE_COLUMNS),
    "entities_reference": tuple(SHARE_COLUMNS), "clusters_cn": tuple(SHARE_COLUMNS),
    "linkage": ("entity_id", "linkage", "linkage_metric", "linkage_year", "linkage_claim",
                "premium", "premium_origin"),
    "reference_panel": ("entity_id", "year", "population", "gdp", "currency"),
}

SAMPLES: dict[str, Callable[..., pl.DataFrame]] = {
    "cities": cities,
    "city_linkage": city_linkage,
    "capital_linkage": capital_linkage,
    "provinces": provinces,
    "entities": entities,
    "entities_reference": entities_reference,
    "clusters_cn": clusters_cn,
    "linkage": linkage,
    "reference_panel": reference_panel,
}


def build_sample(name: str, shares: pl.DataFrame, claims: pl.DataFrame,
                 reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """The rows of sample ``name``; an unknown name lists the valid ones."""
    try:
        builder = SAMPLES[name]
    except KeyError:
        raise LookupFailed(f"unknown sample {name!r}; valid samples: "
                           f"{', '.join(SAMPLES)}") from None
    return builder(shares, claims, reference)
