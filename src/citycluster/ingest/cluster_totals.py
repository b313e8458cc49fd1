"""The five clusters summed from the cities their plans name, with bounds where members are
missing (the check of the article's headline figure)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from citycluster.data import published
from citycluster.data.sources import source_mix
from citycluster.ingest.shares import CLUSTERS, city_plan_members, national_totals

#: The columns on Hong Kong and Macao, beside a cluster and never inside it.
SAR_COLUMNS = ("sar_population", "sar_gdp", "sar_pop_ratio", "sar_gdp_ratio", "sar_source")
#: Each SAR's GDP currency and the rates that take it to yuan: (metric, entity) rows of the
#: reference table, multiplied through in order (MOP -> HKD -> USD -> CNY).
SAR_RATES = {"HKD": (("usd_rate", "cn_hk", "divide"), ("usd_rate", "cn", "multiply")),
             "MOP": (("hkd_rate", "cn_mo", "divide"), ("usd_rate", "cn_hk", "divide"),
                     ("usd_rate", "cn", "multiply"))}


def sars_beside(reference: pl.DataFrame, sar_ids: list[str],
                national: dict[str, tuple[float, str]]) -> dict[str, object]:
    """Hong Kong's and Macao's 2023 population and GDP (in yuan, through the pegs and the
    yuan's 2023 average central parity), as ratios to mainland China's totals.

    They are outside China's national accounts, so the ratios are a line beside a cluster's
    share and never part of it; empty where a figure or a rate is missing.
    """
    empty: dict[str, object] = dict.fromkeys(SAR_COLUMNS)
    if not sar_ids:
        return empty
    ref = reference.filter(pl.col("year") == 2023)
    rate = {(r["metric"], r["entity_id"]): (r["value_base"], r["ref_id"])
            for r in ref.filter(pl.col("metric").str.ends_with("_rate")).iter_rows(named=True)}
    population = gdp = 0.0
    used: list[str] = []
    for sid in sorted(sar_ids):
        rows = {r["metric"]: r for r in ref.filter(pl.col("entity_id") == sid).sort("ref_id")
                .unique("metric", keep="first", maintain_order=True).iter_rows(named=True)}
        if "population" not in rows or "gdp" not in rows:
            return empty
        currency, value = rows["gdp"]["base_unit"], rows["gdp"]["value_base"]
        if currency not in SAR_RATES and currency != "CNY":
            return empty
        for metric, entity, op in SAR_RATES.get(currency, ()):
            if (metric, entity) not in rate:
                return empty
            r, rid = rate[(metric, entity)]
            value = value / r if op == "divide" else value * r
            used.append(rid)
        population += rows["population"]["value_base"]
        gdp += value
        used += [rows["population"]["ref_id"], rows["gdp"]["ref_id"]]
    return {"sar_population": population, "sar_gdp": gdp,
            "sar_pop_ratio": population / national["population"][0],
            "sar_gdp_ratio": gdp / national["gdp"][0],
            "sar_source": ", ".join(dict.fromkeys(used))}


#: The columns on observed plus estimated figures (see :func:`city_cluster_shares`).
EST_COLUMNS = ("observed_population", "estimated_population", "members_estimated_population",
               "estimated_ids_population", "est_pop_share", "est_pop_share_low",
               "est_pop_share_high", "observed_gdp", "estimated_gdp", "members_estimated_gdp",
               "estimated_ids_gdp", "est_gdp_share", "est_gdp_share_low", "est_gdp_share_high")


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


def _estimated(estimates: pl.DataFrame | None, metric: str, column: str) -> dict[str, float]:
    if estimates is None or estimates.is_empty():
        return {}
    return dict(estimates.filter(pl.col("metric") == metric)
                .select("entity_id", column).iter_rows())


@dataclass(frozen=True)
class Figures:
    """What summing a cluster needs from the reference tables: each entity's 2023 first
    release (value and row) per metric, its source kind, the national totals, and where each
    city lies."""

    values: dict[str, dict[str, float]]
    rows: dict[str, dict[str, str]]
    kinds: dict[str, str]
    national: dict[str, tuple[float, str]]
    cities_in: dict[str, list[str]]
    province_of: dict[str, str]
    province_ids: dict[str, str]


def figures_2023(reference: pl.DataFrame, coordinates: pl.DataFrame) -> Figures | None:
    """The 2023 figures a cluster is summed from; None where a national total is missing
    (validation names the national row)."""
    totals = national_totals(reference).filter(pl.col("country") == "CHN", pl.col("year") == 2023,
                                               pl.col("vintage") == "first_release")
    nat = {r["metric"]: (r["national"], r["national_ref"]) for r in totals.iter_rows(named=True)}
    if set(nat) != {"population", "gdp"}:
        return None
    ref23 = reference.filter(pl.col("year") == 2023, pl.col("metric").is_in(["population", "gdp"]),
                             pl.col("country") == "CHN")
    firsts = {m: ref23.filter(pl.col("metric") == m, pl.col("base_unit") != "HKD",
                              pl.col("base_unit") != "MOP").sort("ref_id")
              .group_by("entity_id", maintain_order=True)
              .agg(pl.col("value_base").first(), pl.col("ref_id").first())
              for m in ("population", "gdp")}
    cities_in: dict[str, list[str]] = {}
    for r in coordinates.iter_rows(named=True):
        if r["entity_id"].startswith("cn_city_"):
            cities_in.setdefault(r["province_zh"], []).append(r["entity_id"])
    return Figures(
        values={m: dict(f.select("entity_id", "value_base").iter_rows())
                for m, f in firsts.items()},
        # the row each figure was taken from, so a reader can follow a sum to its rows
        rows={m: dict(f.select("entity_id", "ref_id").iter_rows()) for m, f in firsts.items()},
        kinds=dict(ref23.sort("ref_id").group_by("entity_id", "metric", maintain_order=True)
                   .agg(pl.col("source_kind").first())
                   .select(pl.concat_str("entity_id", "metric", separator="|"), "source_kind")
                   .iter_rows()),
        national=nat, cities_in=cities_in,
        province_of=dict(coordinates.select("entity_id", "province_zh").iter_rows()),
        province_ids=dict(reference.filter(pl.col("entity_type") == "province")
                          .select("entity_zh", "entity_id").unique("entity_zh").iter_rows()))


def members_by_province(members: pl.DataFrame, province_of: dict[str, str]) -> dict[str, list[str]]:
    """A cluster's member cities grouped by province; a municipality stands alone, by its id."""
    by_province: dict[str, list[str]] = {}
    for r in members.unique("member_entity_id").sort("member_entity_id").iter_rows(named=True):
        if r["member_entity_id"].startswith("cn_prov_"):  # a municipality, counted whole
            by_province[r["member_entity_id"]] = [r["member_entity_id"]]
        else:
            by_province.setdefault(province_of[r["member_entity_id"]], []).append(
                r["member_entity_id"])
    return by_province


def _observed_and_estimated(by_province: dict[str, list[str]], metric: str, figures: Figures,
                            estimates: pl.DataFrame | None) -> dict[str, object]:
    """One metric of a cluster: its bounds on observed figures, the rows and kinds they rest
    on, and the same on observed plus estimated figures (the ``est_*`` columns)."""
    known_values = figures.values[metric]
    low = high = 0.0
    known = 0
    used: list[str] = []
    # observed plus estimated: the point, and the ends of the estimates' intervals
    est = {c: _estimated(estimates, metric, c) for c in ("value_base", "low", "high")}
    with_est = {c: [0.0, 0.0] for c in est}
    added, n_est, named = 0.0, 0, []
    used_est: list[str] = []  # whose observed figures the estimated sum rests on
    for province, ms in by_province.items():
        whole = ms == [province]  # a whole province or municipality, keyed by its id
        province_total = (known_values.get(province) if whole
                          else known_values.get(figures.province_ids.get(province, "")))
        lo, hi, k, ids = _province_parts(ms, province, known_values, figures.cities_in,
                                         province_total)
        low, high, known = low + lo, high + hi, known + k
        used += [figures.province_ids.get(i, i) for i in ids]
        filled = [m for m in ms if m not in known_values and m in est["value_base"]]
        est_ids = ids
        for c, values in est.items():
            elo, ehi, _, est_ids = (lo, hi, k, ids) if lo == hi or not filled else \
                _province_parts(ms, province, {**known_values, **{m: values[m] for m in filled}},
                                figures.cities_in, province_total)
            with_est[c][0] += elo
            with_est[c][1] += ehi
        used_est += [figures.province_ids.get(i, i) for i in est_ids]
        if lo != hi and filled:
            added += sum(est["value_base"][m] for m in filled)
            n_est += len(filled)
            named += filled
    return _metric_columns(metric, figures, (low, high, known), (used, used_est), with_est,
                           (added, n_est, named))


def _metric_columns(metric: str, figures: Figures, bounds: tuple[float, float, int],
                    rested_on: tuple[list[str], list[str]], with_est: dict[str, list[float]],
                    estimated: tuple[float, int, list[str]]) -> dict[str, object]:
    """The columns of one metric, from what :func:`_observed_and_estimated` summed."""
    (low, high, known), (used, used_est), (added, n_est, named) = bounds, rested_on, estimated
    national, national_ref = figures.national[metric]
    row: dict[str, object] = {f"lower_{metric}": low, f"upper_{metric}": high,
                              f"known_{metric}": known,
                              f"kinds_{metric}": source_mix(figures.kinds.get(f"{i}|{metric}")
                                                            for i in used)}
    for key, ids_used in ((f"rows_{metric}", used), (f"est_rows_{metric}", used_est)):
        row[key] = ", ".join(dict.fromkeys(
            [*(figures.rows[metric][i] for i in ids_used if i in figures.rows[metric]),
             national_ref]))
    point = with_est["value_base"]
    share = {"population": "pop_share", "gdp": "gdp_share"}[metric]
    row[f"est_{share}"] = point[0] / national if point[0] == point[1] else None
    row[f"est_{share}_low"] = with_est["low"][0] / national
    row[f"est_{share}_high"] = with_est["high"][1] / national
    row[f"estimated_{metric}"] = added
    row[f"members_estimated_{metric}"] = n_est
    row[f"estimated_ids_{metric}"] = ", ".join(named)
    row[f"observed_{metric}"] = low
    return row


def _cluster_row(cid: str, n_members: int, row: dict, figures: Figures,
                 sars: dict[str, object]) -> dict[str, object]:
    """A cluster's published row: exact figures only where both metrics are exact."""
    pop, gdp = figures.national["population"], figures.national["gdp"]
    exact = all(row[f"lower_{m}"] == row[f"upper_{m}"] for m in ("population", "gdp"))
    return {
        "entity_id": cid, "entity_type": "city_cluster",
        "country": "CHN", "year": 2023, "vintage": "first_release", "currency": "CNY",
        "population": row["lower_population"] if exact else None,
        "gdp": row["lower_gdp"] if exact else None,
        "pop_share": row["lower_population"] / pop[0] if exact else None,
        "gdp_share": row["lower_gdp"] / gdp[0] if exact else None,
        "pop_share_low": row["lower_population"] / pop[0],
        "pop_share_high": row["upper_population"] / pop[0],
        "gdp_share_low": row["lower_gdp"] / gdp[0],
        "gdp_share_high": row["upper_gdp"] / gdp[0],
        "members": n_members, "members_known_population": row["known_population"],
        "members_known_gdp": row["known_gdp"],
        "pop_source_kinds": row["kinds_population"], "gdp_source_kinds": row["kinds_gdp"],
        "origin": "reference",
        "boundary": f"member cities ({n_members}, partial members whole)",
        "pop_source": f"china_cities_2023.csv/{pop[1]}",
        "gdp_source": f"china_cities_2023.csv/{gdp[1]}",
        "pop_rows": row["rows_population"], "gdp_rows": row["rows_gdp"],
        "est_pop_rows": row["est_rows_population"], "est_gdp_rows": row["est_rows_gdp"],
        **{k: row[k] for k in EST_COLUMNS}, **sars,
    }


def city_cluster_shares(reference: pl.DataFrame, membership: pl.DataFrame,
                        coordinates: pl.DataFrame,
                        estimates: pl.DataFrame | None = None) -> pl.DataFrame:
    """The five clusters (and their union) from the cities their plans name, with bounds.

    Each cluster's population and GDP are summed over its member cities (2023, first releases,
    the national totals of the same vintage). Where a member's figure is missing, the cluster is
    bounded: from below by the members known, from above by the member provinces' totals less
    the non-member cities known. Partial members (Chongqing, 绵阳, 达州, 雅安, 抚州, 吉安) count
    whole; Hong Kong and Macao are outside China's national accounts and are left out.
    ``lower_*``/``upper_*`` hold the bounds; ``population``/``gdp`` are set only when exact.

    With ``estimates`` (:func:`citycluster.ingest.estimates.projected`), the ``est_*`` columns
    give the same shares on observed plus estimated figures, their range spanning the estimates'
    intervals; ``estimated_*`` is what the estimates add and ``members_estimated_*`` how many
    members they stand for, so observed and estimated amounts are never summed unseen. A
    province whose part is already exact on observed figures keeps it.
    """
    f = figures_2023(reference, coordinates)
    if f is None:
        return pl.DataFrame(schema=published.schema("cluster_totals"))
    members = city_plan_members(membership)
    plans = members.filter(pl.col("member_level") != "sar")
    sars = members.filter(pl.col("member_level") == "sar")
    groups = {cid: plans.filter(pl.col("cluster_id") == cid) for cid in CLUSTERS
              if cid in set(plans["cluster_id"])}
    groups["cn_big5"] = plans
    rows = []
    for cid, group in groups.items():
        by_province = members_by_province(group, f.province_of)
        row: dict = {}
        for metric in ("population", "gdp"):
            row |= _observed_and_estimated(by_province, metric, f, estimates)
        sar_ids = sorted(set(sars["member_entity_id"] if cid == "cn_big5"
                             else sars.filter(pl.col("cluster_id") == cid)["member_entity_id"]))
        rows.append(_cluster_row(cid, sum(len(v) for v in by_province.values()), row, f,
                                 sars_beside(reference, sar_ids, f.national)))
    return pl.DataFrame(rows, infer_schema_length=None)
