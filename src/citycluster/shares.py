"""Population and GDP shares of their country, for every entity that has both.

Shares are the common footing on which the article's clusters, foreign megaregions and China's
provinces can be compared, and on which the share model is fitted. Each row says where both
numbers come from (claim or reference ids) and which boundary it approximates, because a share
computed from whole provinces is not the share of a cluster defined by its cities.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import polars as pl

from citycluster import published

COUNTRY_ENTITY = {"CHN": "cn", "USA": "us", "JPN": "jp", "GBR": "gb"}
CLUSTER_NAMES = {
    "cn_yrd": ("长三角城市群", "Yangtze River Delta"),
    "cn_jjj": ("京津冀城市群", "Beijing-Tianjin-Hebei"),
    "cn_gba": ("粤港澳大湾区", "Greater Bay Area"),
    "cn_myr": ("长江中游城市群", "Middle Reaches of the Yangtze River"),
    "cn_cy": ("成渝城市群", "Chengdu-Chongqing"),
    "cn_big5": ("五大城市群", "Five major city clusters"),
}
#: The share table's columns, as data/processed.datapackage.yaml declares them.
SHARE_COLUMNS = published.columns("shares")
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


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
        pl.col("entity_zh").first(), pl.col("entity_en").first(),
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
              for cid in CLUSTER_NAMES if cid != "cn_big5"}
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
            zh, en = CLUSTER_NAMES[cid]
            rows.append({
                "entity_id": cid, "entity_zh": zh, "entity_en": en,
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


#: The plan that defines each cluster by its cities, for the city-level shares. The 2019
#: integration outline of the Yangtze River Delta names whole provinces (its 27-city central area
#: is a sensitivity the membership table also lists); the national city-cluster plans name cities.
CITY_PLANS = {
    "cn_yrd": "长江三角洲城市群发展规划",
    "cn_jjj": "京津冀协同发展规划纲要",
    "cn_gba": "粤港澳大湾区发展规划纲要",
    "cn_myr": "长江中游城市群发展规划",
    "cn_cy": "成渝城市群发展规划",
}


def source_mix(kinds: Iterable[str | None]) -> str:
    """How many figures of each source kind a sum rests on, most frequent first
    (``aggregator 41, news 6``), so a reader can weigh a derived figure by what it is made of."""
    counts = Counter(k or "unknown" for k in kinds)
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def parse_mix(mix: str | None) -> tuple[tuple[str, int], ...]:
    """The pairs :func:`source_mix` wrote, back as (kind, count)."""
    pairs = []
    for part in (mix or "").split(", "):
        if part:
            kind, _, n = part.rpartition(" ")
            pairs.append((kind, int(n)))
    return tuple(pairs)


def _province_parts(members: list[str], province: str, known: dict[str, float],
                    cities_in: dict[str, list[str]],
                    province_total: float | None) -> tuple[float, float, int, list[str]]:
    """Lower and upper bound of one province's part of a cluster, how many members are known,
    and whose figures the bounds rest on (the province itself standing for its total).

    Exact when every member city is known (their sum) or every non-member city is known (the
    province total minus them); otherwise the known members bound it from below and the province
    total less the known non-members from above. A whole province or municipality is its total.
    """
    if members == [province]:
        if province_total is None:
            return float("nan"), float("nan"), 0, []
        return province_total, province_total, 1, [province]
    member_ids = [m for m in members if m in known]
    known_members = [known[m] for m in member_ids]
    others = [c for c in cities_in.get(province, []) if c not in members]
    other_ids = [c for c in others if c in known]
    known_others = [known[c] for c in other_ids]
    if len(known_members) == len(members):
        return sum(known_members), sum(known_members), len(members), member_ids
    with_total = [province, *other_ids]
    if province_total is not None and len(known_others) == len(others):
        exact = province_total - sum(known_others)
        return exact, exact, len(members), with_total
    if province_total is None:
        return sum(known_members), float("inf"), len(known_members), member_ids
    return (sum(known_members), province_total - sum(known_others), len(known_members),
            member_ids + with_total)


def city_cluster_shares(reference: pl.DataFrame, membership: pl.DataFrame,
                        coordinates: pl.DataFrame) -> pl.DataFrame:
    """The five clusters (and their union) from the cities their plans name, with bounds.

    Each cluster's population and GDP are summed over its member cities (2023, first releases,
    the national totals of the same vintage). Where a member's figure is missing, the cluster is
    bounded: from below by the members known, from above by the member provinces' totals less
    the non-member cities known. Partial members (Chongqing, 绵阳, 达州, 雅安, 抚州, 吉安) count
    whole; Hong Kong and Macao are outside China's national accounts and are left out.
    ``lower_*``/``upper_*`` hold the bounds; ``population``/``gdp`` are set only when exact.
    """
    plans = membership.filter(pl.col("planning_document").is_in(list(CITY_PLANS.values())),
                              pl.col("member_level") != "sar")
    cities_in: dict[str, list[str]] = {}
    for r in coordinates.iter_rows(named=True):
        if r["entity_id"].startswith("cn_city_"):
            cities_in.setdefault(r["province_zh"], []).append(r["entity_id"])
    prov_of = dict(coordinates.select("entity_id", "province_zh").iter_rows())
    rows = []
    totals = national_totals(reference).filter(pl.col("country") == "CHN", pl.col("year") == 2023,
                                               pl.col("vintage") == "first_release")
    nat = {r["metric"]: (r["national"], r["national_ref"]) for r in totals.iter_rows(named=True)}
    if set(nat) != {"population", "gdp"}:
        return pl.DataFrame()
    ref23 = reference.filter(pl.col("year") == 2023, pl.col("metric").is_in(["population", "gdp"]),
                             pl.col("country") == "CHN")
    figures = {m: dict(ref23.filter(pl.col("metric") == m, pl.col("base_unit") != "HKD",
                                    pl.col("base_unit") != "MOP")
                       .group_by("entity_id").agg(pl.col("value_base").first()).iter_rows())
               for m in ("population", "gdp")}
    kind_of = dict(ref23.sort("ref_id").group_by("entity_id", "metric", maintain_order=True)
                   .agg(pl.col("source_kind").first())
                   .select(pl.concat_str("entity_id", "metric", separator="|"), "source_kind")
                   .iter_rows())
    province_ids = dict(reference.filter(pl.col("entity_type") == "province")
                        .select("entity_zh", "entity_id").unique("entity_zh").iter_rows())
    groups = {cid: plans.filter(pl.col("cluster_id") == cid) for cid in CITY_PLANS}
    groups["cn_big5"] = plans
    for cid, members in groups.items():
        by_province: dict[str, list[str]] = {}
        for r in members.unique("member_entity_id").iter_rows(named=True):
            if r["member_entity_id"].startswith("cn_prov_"):  # a municipality, counted whole
                by_province[r["member_entity_id"]] = [r["member_entity_id"]]
            else:
                by_province.setdefault(prov_of[r["member_entity_id"]], []).append(
                    r["member_entity_id"])
        n_members = sum(len(v) for v in by_province.values())
        row: dict = {}
        for metric in ("population", "gdp"):
            low = high = 0.0
            known = 0
            used: list[str] = []
            for province, ms in by_province.items():
                whole = ms == [province]  # a whole province or municipality, keyed by its id
                province_total = (figures[metric].get(province) if whole
                                  else figures[metric].get(province_ids.get(province, "")))
                lo, hi, k, ids = _province_parts(ms, province, figures[metric], cities_in,
                                                 province_total)
                low, high, known = low + lo, high + hi, known + k
                used += [province_ids.get(i, i) for i in ids]
            row[f"lower_{metric}"], row[f"upper_{metric}"] = low, high
            row[f"known_{metric}"] = known
            row[f"kinds_{metric}"] = source_mix(kind_of.get(f"{i}|{metric}") for i in used)
        exact = all(row[f"lower_{m}"] == row[f"upper_{m}"] for m in ("population", "gdp"))
        zh, en = CLUSTER_NAMES[cid]
        rows.append({
            "entity_id": cid, "entity_zh": zh, "entity_en": en, "entity_type": "city_cluster",
            "country": "CHN", "year": 2023, "vintage": "first_release", "currency": "CNY",
            "population": row["lower_population"] if exact else None,
            "gdp": row["lower_gdp"] if exact else None,
            "pop_share": row["lower_population"] / nat["population"][0] if exact else None,
            "gdp_share": row["lower_gdp"] / nat["gdp"][0] if exact else None,
            "pop_share_low": row["lower_population"] / nat["population"][0],
            "pop_share_high": row["upper_population"] / nat["population"][0],
            "gdp_share_low": row["lower_gdp"] / nat["gdp"][0],
            "gdp_share_high": row["upper_gdp"] / nat["gdp"][0],
            "members": n_members, "members_known_population": row["known_population"],
            "members_known_gdp": row["known_gdp"],
            "pop_source_kinds": row["kinds_population"], "gdp_source_kinds": row["kinds_gdp"],
            "origin": "reference",
            "boundary": f"member cities ({n_members}, partial members whole)",
            "pop_source": f"china_cities_2023.csv/{nat['population'][1]}",
            "gdp_source": f"china_cities_2023.csv/{nat['gdp'][1]}",
        })
    return pl.DataFrame(rows, infer_schema_length=None)


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
            "entity_id": entity_id[0], "entity_zh": gdp["entity_zh"], "entity_en": gdp["entity_en"],
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
    pairs = pop.select("entity_id", "year", "entity_zh", "entity_en", "entity_type", "country",
                       pl.col("value_base").alias("pop_share"),
                       pl.col("ref_id").alias("pop_source")).join(
        gdp.select("entity_id", "year", pl.col("value_base").alias("gdp_share"),
                   pl.col("ref_id").alias("gdp_source")),
        on=["entity_id", "year"], how="inner", nulls_equal=True)
    return pairs.with_columns(pl.lit("reference").alias("origin"),
                              pl.lit("as published").alias("boundary"))


def _great_circle_km(lon1: pl.Expr, lat1: pl.Expr, lon2: pl.Expr, lat2: pl.Expr) -> pl.Expr:
    """Haversine distance on a sphere of the Earth's mean radius."""
    rad = 3.141592653589793 / 180
    dlat, dlon = (lat2 - lat1) * rad, (lon2 - lon1) * rad
    a = (dlat / 2).sin() ** 2 + (lat1 * rad).cos() * (lat2 * rad).cos() * (dlon / 2).sin() ** 2
    return 2 * EARTH_RADIUS_KM * a.sqrt().arcsin()


def with_city_geography(entity_shares: pl.DataFrame, membership: pl.DataFrame,
                        coordinates: pl.DataFrame) -> pl.DataFrame:
    """Marks city-level rows and, for members of a cluster's city plan, the distance to the
    cluster's core and GDP per head relative to the core's.

    The core is the member with the largest GDP (Shanghai, Beijing, Shenzhen, Wuhan,
    Chongqing in 2023): one rule, not a list. The ratio and the distance are the linkage
    proxy: a member well tied to its core should not fall far behind it in output per head.
    """
    coords = coordinates.select("entity_id", "longitude", "latitude")
    members = (membership.filter(pl.col("planning_document").is_in(list(CITY_PLANS.values())),
                                 pl.col("member_level") != "sar")
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


def with_capital_distance(df: pl.DataFrame, coordinates: pl.DataFrame) -> pl.DataFrame:
    """For every prefecture-level city, its province, the distance to the provincial capital and
    GDP per head relative to the capital's: the linkage proxy beyond the five clusters.

    The capital is read from the division code, not listed: GB/T 2260 gives the seat of each
    province's government the first prefecture code (``xx0100``), and municipalities have none.
    """
    cities = coordinates.filter(pl.col("entity_id").str.starts_with("cn_city_")).select(
        "entity_id", "province_zh",
        (pl.col("adcode").cast(pl.String).str.slice(0, 2) + "0100").alias("_cap_code"))
    capitals = (coordinates.filter(pl.col("adcode").cast(pl.String).str.ends_with("0100"))
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


def build_shares(claims: pl.DataFrame, reference: pl.DataFrame,
                 membership: pl.DataFrame, coordinates: pl.DataFrame) -> pl.DataFrame:
    """Every share row from every origin, in one table with the contract's columns."""
    parts = [article_shares(claims, reference),
             with_city_geography(reference_entity_shares(reference), membership, coordinates),
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
