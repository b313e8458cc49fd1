"""Estimates of the 2023 figures still missing for cluster members, stated as estimates, and
the backtest that chooses the estimator and sizes its intervals.

A member without its 2023 figure starts from its nearest earlier official figure (the 2020
census for population, 2022 for GDP) and moves with its province over the same years: the
province's 2023 figure over its figure of the base year. How wrong that is gets measured, not
assumed: every city that has both its base figure and an observed 2023 figure is left out in
turn and estimated the same way (:func:`backtest`, ``reports/estimates_backtest.csv``). The
backtest chooses between two estimators: the province's change alone, and the province's
change adjusted by how the city's kind of member (provincial capital, or other city) moved
against its province in the other backtested cities (capitals drew people faster than their
provinces from 2020 to 2023). The interval is a nominal 90% one, two-sided: the 5th and 95th
percentiles of the chosen estimator's errors on the other backtested cities, so its coverage is
measured on cities it was not built from. A member with no earlier official figure gets no
estimate and stays bounded by its province's residual
(:mod:`citycluster.ingest.cluster_totals`).

An estimate says how many backtested cities it rests on (``n_backtest``: its kind's, where
the estimator adjusts by kind); the worklist and the report name those resting on fewer than
:data:`MIN_BACKTEST` as the estimates the backtest trusts least (today the capitals: three
capitals give their adjustment). Where a metric has fewer than :data:`MIN_BACKTEST` backtested
cities in all, no percentile can be placed, and its interval is the largest error seen, either
way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from citycluster.data import published
from citycluster.ingest.geography import capital_ids
from citycluster.ingest.shares import city_plan_members

#: The earlier official figure each metric starts from, and its vintage.
BASE = {"population": (2020, "census"), "gdp": (2022, "first_release")}
TARGET_YEAR = 2023
VINTAGE = "estimate_projected"
#: The interval's nominal coverage, two-sided (the 5th to the 95th percentile of the errors).
NOMINAL = 0.90
#: Fewer backtested cities than this for a metric, and its estimates are the least trusted.
MIN_BACKTEST = 10
#: The estimators the backtest chooses between (the ``method`` column).
METHODS = ("province_change", "province_change_by_kind")
#: Official population figures nearer 2023 than the census, which a member's estimate starts
#: from where they exist: year-end figures before 2023 (the nearest first), and one after it.
NEARER_YEARS = (2022, 2021)
LATER_YEAR = 2024


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
    has both years: a missing member is projected with it even where none of its province's
    cities is backtested (the interval comes from every backtested city)."""
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


@dataclass(frozen=True)
class Calibration:
    """What the backtest of one metric settles: the estimator, each kind of member's
    adjustment (a factor on the province's change), and the interval's ends as factors."""

    metric: str
    method: str
    adjustment: dict[str, float]
    low: float
    high: float
    n: int
    #: How many backtested cities of each kind there are (a kind's adjustment rests on them).
    kinds: dict[str, int]

    def resting_on(self, kind: str) -> int:
        """How many backtested cities an estimate of ``kind`` rests on: its kind's, where the
        estimator adjusts by kind, else all of them."""
        return self.kinds.get(kind, 0) if self.method == "province_change_by_kind" else self.n


def kind_of(entity_id: str, capitals: set[str]) -> str:
    """A member's kind for the estimator: a provincial capital, or another city."""
    return "capital" if entity_id in capitals else "city"


def _observed(reference: pl.DataFrame, coordinates: pl.DataFrame, metric: str) -> pl.DataFrame:
    """Cities with their base figure and an observed 2023 figure: the province's change
    (``province_ratio``) and the log of observed over the province-change estimate (``error``)."""
    year, vintage = BASE[metric]
    ratio = _ratios(reference, metric)
    observed = changes(ratio, province_changes(ratio), province_of(reference, coordinates))
    base = _figures(reference, metric, year, vintage).select("entity_id", "value_base")
    capitals = capital_ids(coordinates)
    return observed.join(base, on="entity_id").sort("entity_id").with_columns(
        pl.col("relative").log().alias("error"),
        pl.col("entity_id").map_elements(lambda e: kind_of(e, capitals),
                                         return_dtype=pl.String).alias("kind"))


def _adjustments(errors: dict[str, list[float]], method: str) -> dict[str, float]:
    """Each kind's adjustment (log): the median error of its backtested cities, where there
    are two or more; none under the province's change alone."""
    if method == "province_change":
        return {}
    return {kind: float(np.median(e)) for kind, e in errors.items() if len(e) >= 2}


def _left_out(obs: pl.DataFrame, method: str) -> list[tuple[float, float]]:
    """Each backtested city's (estimate error, residual) with itself left out of the
    adjustment: the residual is its log error less the adjustment the others give its kind."""
    out = []
    rows = list(obs.iter_rows(named=True))
    for i, row in enumerate(rows):
        others: dict[str, list[float]] = {}
        for j, other in enumerate(rows):
            if j != i:
                others.setdefault(other["kind"], []).append(other["error"])
        shift = _adjustments(others, method).get(row["kind"], 0.0)
        out.append((row["error"], row["error"] - shift))
    return out


def _ends(residuals: list[float]) -> tuple[float, float]:
    """The interval's ends (log factors) from a sample of residuals: its 5th and 95th
    percentiles; from fewer than :data:`MIN_BACKTEST` residuals, which cannot place a
    percentile, the largest error seen either way, on both sides."""
    if len(residuals) < MIN_BACKTEST:
        widest = max(abs(r) for r in residuals)
        return -widest, widest
    tail = (1 - NOMINAL) / 2
    return float(np.quantile(residuals, tail)), float(np.quantile(residuals, 1 - tail))


def calibrate(reference: pl.DataFrame, coordinates: pl.DataFrame,
              metric: str) -> Calibration | None:
    """The estimator with the smaller mean absolute error on the left-out cities, and its
    interval from all their residuals; None where fewer than three cities can be backtested."""
    obs = _observed(reference, coordinates, metric)
    if obs.height < 3:
        return None
    mae = {m: float(np.mean([abs(r) for _, r in _left_out(obs, m)])) for m in METHODS}
    method = min(METHODS, key=lambda m: (mae[m], METHODS.index(m)))
    errors: dict[str, list[float]] = {}
    for row in obs.iter_rows(named=True):
        errors.setdefault(row["kind"], []).append(row["error"])
    low, high = _ends([r for _, r in _left_out(obs, method)])
    return Calibration(metric, method, _adjustments(errors, method), low, high, obs.height,
                       {kind: len(e) for kind, e in errors.items()})


def backtest(reference: pl.DataFrame, coordinates: pl.DataFrame) -> pl.DataFrame:
    """Every city with a base figure and an observed 2023 figure, estimated as a missing member
    would be with itself left out of everything the estimate uses (the adjustment and the
    interval): how far off the estimate is (``error_share``, estimate over observed less 1)
    and whether its interval holds the observed figure."""
    rows = []
    for metric, (year, _) in BASE.items():
        cal = calibrate(reference, coordinates, metric)
        if cal is None:
            continue
        obs = _observed(reference, coordinates, metric)
        left = _left_out(obs, cal.method)
        for i, row in enumerate(obs.iter_rows(named=True)):
            error, residual = left[i]
            shift = error - residual
            low, high = _ends([r for j, (_, r) in enumerate(left) if j != i])
            raw = row["value_base"] * row["province_ratio"]
            observed, estimate = raw * math.exp(error), raw * math.exp(shift)
            rows.append({
                "entity_id": row["entity_id"], "metric": metric, "base_year": year,
                "observed": observed, "estimate": estimate, "low": estimate * math.exp(low),
                "high": estimate * math.exp(high), "error_share": estimate / observed - 1,
                "inside": estimate * math.exp(low) <= observed <= estimate * math.exp(high),
                "province_id": row["province_id"], "kind": row["kind"], "method": cal.method})
    return pl.DataFrame(rows, schema=published.schema("estimates_backtest"))


def _own_figures(reference: pl.DataFrame, metric: str) -> dict[tuple[str, int], dict]:
    """Every first-release figure of ``metric`` in China, by (entity, year)."""
    rows = (reference.filter(pl.col("metric") == metric, pl.col("country") == "CHN",
                             pl.col("vintage") == "first_release", pl.col("year").is_not_null())
            .sort("ref_id").unique(["entity_id", "year"], keep="first", maintain_order=True))
    return {(r["entity_id"], r["year"]): r for r in rows.iter_rows(named=True)}


def _nearer(entity: str, prov: str, kind: str, cal: Calibration,
            own: dict[tuple[str, int], dict]) -> dict | None:
    """A population estimate from official figures nearer 2023 than the census, or None.

    Between a figure before 2023 and one after it, the estimate is interpolated (on a log
    scale), and the two figures bound it: an interval no backtest is needed for, as long as the
    change ran one way. Otherwise the nearest earlier figure is moved with its province over
    the same years and by its kind's adjustment for as many years; its interval is the census
    backtest's, which a shorter projection should not exceed (not measured: no city has both a
    year-end 2022 and an observed 2023 figure in the tables).
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
                "method": "interpolated", "adjustment": 1.0, "n_backtest": 0}
    then, now = own.get((prov, before["year"])), own.get((prov, TARGET_YEAR))
    if then is None or now is None:
        return None
    ratio = now["value_base"] / then["value_base"]
    shift = cal.adjustment.get(kind, 0.0) * (TARGET_YEAR - before["year"]) / (
        TARGET_YEAR - BASE[cal.metric][0])
    value = before["value_base"] * ratio * math.exp(shift)
    return {"start": before, "value_base": value, "low": value * math.exp(cal.low),
            "high": value * math.exp(cal.high), "province_ratio": ratio,
            "ratio_refs": f"{now['ref_id']}/{then['ref_id']}", "method": cal.method,
            "adjustment": math.exp(shift), "n_backtest": cal.resting_on(kind)}


def projected(reference: pl.DataFrame, membership: pl.DataFrame,
              coordinates: pl.DataFrame) -> pl.DataFrame:
    """One row per missing member figure that an official figure can estimate: from the
    nearest ones (:func:`_nearer`, population), else from the base year by the estimator the
    backtest chose, with its nominal 90% interval."""
    province = province_of(reference, coordinates)
    capitals = capital_ids(coordinates)
    gaps = missing(reference, membership)
    rows = []
    for metric, (year, vintage) in BASE.items():
        cal = calibrate(reference, coordinates, metric)
        if cal is None:
            continue
        base = _figures(reference, metric, year, vintage)
        own = _own_figures(reference, metric)
        provinces = province_changes(_ratios(reference, metric))
        ratios = dict(provinces.select("province_id", "province_ratio").iter_rows())
        refs = dict(provinces.select("province_id", "ratio_refs").iter_rows())
        for gap in gaps.filter(pl.col("metric") == metric).iter_rows(named=True):
            entity, prov = gap["entity_id"], province.get(gap["entity_id"])
            kind = kind_of(entity, capitals)
            found = _nearer(entity, prov, kind, cal, own) if metric == "population" and prov \
                else None
            b = base.filter(pl.col("entity_id") == entity)
            if found is None and not b.is_empty() and prov in ratios:
                b0 = b.row(0, named=True)
                shift = cal.adjustment.get(kind, 0.0)
                value = b0["value_base"] * ratios[prov] * math.exp(shift)
                found = {"start": b0 | {"year": year}, "value_base": value,
                         "low": value * math.exp(cal.low), "high": value * math.exp(cal.high),
                         "province_ratio": ratios[prov], "ratio_refs": refs[prov],
                         "method": cal.method, "adjustment": math.exp(shift),
                         "n_backtest": cal.resting_on(kind)}
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
