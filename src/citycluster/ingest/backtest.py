"""How wrong an estimate of a missing member's 2023 figure is, measured on the cities whose
2023 figure is known, and the estimator and interval that measurement chooses.

A missing member starts from its nearest earlier official figure (the 2020 census for
population, 2022 for GDP) and moves with its province over the same years: the province's 2023
figure over its figure of the base year. Every city that has both its base figure and an
observed 2023 figure is left out in turn and estimated the same way (:func:`backtest`,
``reports/estimates_backtest.csv``). The backtest chooses, by the smaller mean absolute error
on the left-out cities, between three estimators (:data:`METHODS`):

- ``province_change``: the province's change alone;
- ``province_change_by_kind``: adjusted by how the city's kind of member (provincial capital,
  or other city) moved against its province in the other backtested cities;
- ``city_trend``: adjusted by the city's own trend against its province between the 2010 and
  2020 censuses, of which a share ``beta`` is carried on, fitted on the other backtested
  cities (a city that grew faster than its province for a decade tends to go on doing so, but
  less: the share is measured, not assumed). A city without both censuses falls back to its
  kind's adjustment, and its row says so.

The interval is a nominal 90% one, two-sided, from the chosen estimator's leave-one-out
errors on the backtested cities (the order statistics a conformal interval takes: with twenty
or so cities, their smallest and largest error; with fewer than 19, the largest either way),
and its coverage is measured on each city with that city's own error left out. The choice of
estimator and the other cities' errors still use every city, so the measured coverage is a
little optimistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from citycluster.data import published
from citycluster.ingest.geography import capital_ids

#: The earlier official figure each metric starts from, and its vintage.
BASE = {"population": (2020, "census"), "gdp": (2022, "first_release")}
TARGET_YEAR = 2023
#: The interval's nominal coverage, two-sided (see :func:`_ends` for the order statistics).
NOMINAL = 0.90
#: Fewer backtested cities than this behind an estimate, and it is among the least trusted.
MIN_BACKTEST = 10
#: The estimators the backtest chooses between (the ``method`` column), in order of preference
#: on a tie: the simpler first.
METHODS = ("province_change", "province_change_by_kind", "city_trend")
#: The two censuses a city's own trend against its province is measured between.
TREND_CENSUSES = (2010, 2020)
#: Fewest cities with a trend that a trend's share (``beta``) is fitted on.
MIN_TREND_FIT = 3


def figures(reference: pl.DataFrame, metric: str, year: int, vintage: str) -> pl.DataFrame:
    """One official figure per entity (the first row by ref_id) of a metric, year and vintage."""
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


def ratios(reference: pl.DataFrame, metric: str) -> pl.DataFrame:
    """Each entity's 2023 figure over its base-year figure, and the two rows it comes from."""
    year, vintage = BASE[metric]
    base, now = (figures(reference, metric, year, vintage),
                 figures(reference, metric, TARGET_YEAR, "first_release"))
    return base.join(now, on="entity_id", suffix="_now").select(
        "entity_id", (pl.col("value_base_now") / pl.col("value_base")).alias("ratio"),
        pl.concat_str("ref_id_now", "ref_id", separator="/").alias("refs"))


def province_changes(ratio: pl.DataFrame) -> pl.DataFrame:
    """Each province's 2023 figure over its base-year figure, whether or not any of its cities
    has both years: a missing member is projected with it even where none of its province's
    cities is backtested (the interval comes from every backtested city)."""
    return ratio.filter(pl.col("entity_id").str.starts_with("cn_prov_")).select(
        pl.col("entity_id").alias("province_id"), pl.col("ratio").alias("province_ratio"),
        pl.col("refs").alias("ratio_refs"))


def trends(reference: pl.DataFrame, coordinates: pl.DataFrame) -> dict[str, float]:
    """Each city's yearly log change in population less its province's, between the two
    censuses (0 where it moved exactly as its province did); only for cities where the city
    and its province have both counts."""
    return {city: value for city, (value, _) in census_trends(reference, coordinates).items()}


def census_trends(reference: pl.DataFrame,
                  coordinates: pl.DataFrame) -> dict[str, tuple[float, str]]:
    """:func:`trends` with the four census rows each comes from (the city's later/earlier
    count, then its province's), so an estimate can name them."""
    early_year, late_year = TREND_CENSUSES
    early, late = ({r["entity_id"]: r for r in figures(reference, "population", y, "census")
                    .iter_rows(named=True)} for y in TREND_CENSUSES)
    out = {}
    for city, prov in province_of(reference, coordinates).items():
        if all(e in counts for e in (city, prov) for counts in (early, late)):
            value = (math.log(late[city]["value_base"] / early[city]["value_base"])
                     - math.log(late[prov]["value_base"] / early[prov]["value_base"])) / (
                late_year - early_year)
            out[city] = (value, f"{late[city]['ref_id']}/{early[city]['ref_id']}, "
                                f"{late[prov]['ref_id']}/{early[prov]['ref_id']}")
    return out


def kind_of(entity_id: str, capitals: set[str]) -> str:
    """A member's kind for the estimator: a provincial capital, or another city."""
    return "capital" if entity_id in capitals else "city"


@dataclass(frozen=True)
class Fit:
    """How an estimator moves a city off its province's change, learned from backtested cities:
    each kind's median log error over the base period (``by_kind``), and the share of a city's
    past trend that carried on (``beta``, city_trend only)."""

    method: str
    span: int
    by_kind: dict[str, float] = field(default_factory=dict)
    beta: float | None = None

    def shift(self, kind: str, trend: float | None, years: float) -> tuple[float, str]:
        """The log adjustment for a city of ``kind`` (and ``trend``) projected over ``years``,
        and the method it comes from: city_trend falls back to its kind's adjustment where the
        city has no trend."""
        if self.method == "province_change":
            return 0.0, self.method
        if self.method == "city_trend" and trend is not None and self.beta is not None:
            return self.beta * trend * years, self.method
        return self.by_kind.get(kind, 0.0) * years / self.span, "province_change_by_kind"


def fitted(rows: list[dict], method: str, span: int) -> Fit:
    """The :class:`Fit` of ``method`` on backtested cities (each with its log ``error``,
    ``kind`` and ``trend``): a kind's adjustment where it has two cities or more, and ``beta``
    by least squares through the origin where :data:`MIN_TREND_FIT` cities have a trend."""
    if method == "province_change":
        return Fit(method, span)
    errors: dict[str, list[float]] = {}
    for row in rows:
        errors.setdefault(row["kind"], []).append(row["error"])
    by_kind = {kind: float(np.median(e)) for kind, e in errors.items() if len(e) >= 2}
    beta = None
    with_trend = [(r["trend"] * span, r["error"]) for r in rows if r["trend"] is not None]
    if method == "city_trend" and len(with_trend) >= MIN_TREND_FIT:
        x, y = np.array(with_trend).T
        beta = float(x @ y / (x @ x)) if x @ x > 0 else 0.0
    return Fit(method, span, by_kind, beta)


@dataclass(frozen=True)
class Calibration:
    """What the backtest of one metric settles: the estimator's fit on every backtested city,
    and the interval's ends as log factors."""

    metric: str
    fit: Fit
    low: float
    high: float
    n: int
    #: How many backtested cities of each kind there are (a kind's adjustment rests on them).
    kinds: dict[str, int]
    #: How many backtested cities have a trend (city_trend's beta rests on them).
    n_trend: int

    @property
    def method(self) -> str:
        return self.fit.method

    def resting_on(self, used: str, kind: str) -> int:
        """How many backtested cities an estimate rests on, given the method ``used`` for it:
        those with a trend, its kind's, or all of them."""
        return {"city_trend": self.n_trend,
                "province_change_by_kind": self.kinds.get(kind, 0)}.get(used, self.n)


def observed(reference: pl.DataFrame, coordinates: pl.DataFrame, metric: str) -> pl.DataFrame:
    """Cities with their base figure and an observed 2023 figure: the province's change
    (``province_ratio``), the log of observed over the province-change estimate (``error``),
    the city's kind, and its census trend where known."""
    year, vintage = BASE[metric]
    ratio = ratios(reference, metric)
    province = province_of(reference, coordinates)
    capitals = capital_ids(coordinates)
    trend = trends(reference, coordinates) if metric == "population" else {}
    cities = ratio.filter(pl.col("entity_id").str.starts_with("cn_city_")).with_columns(
        pl.col("entity_id").replace_strict(province, default=None).alias("province_id"))
    base = figures(reference, metric, year, vintage).select("entity_id", "value_base")
    return (cities.join(province_changes(ratio), on="province_id").join(base, on="entity_id")
            .sort("entity_id").with_columns(
                (pl.col("ratio") / pl.col("province_ratio")).log().alias("error"),
                pl.col("entity_id").map_elements(lambda e: kind_of(e, capitals),
                                                 return_dtype=pl.String).alias("kind"),
                pl.col("entity_id").replace_strict(trend, default=None,
                                                   return_dtype=pl.Float64).alias("trend")))


def _left_out(obs: pl.DataFrame, method: str, span: int) -> list[tuple[float, float, str]]:
    """Each backtested city's (log error, residual, method used) with itself left out of the
    fit: the residual is its error less the shift the others' fit gives it."""
    rows = list(obs.iter_rows(named=True))
    out = []
    for i, row in enumerate(rows):
        fit = fitted(rows[:i] + rows[i + 1:], method, span)
        shift, used = fit.shift(row["kind"], row["trend"], span)
        out.append((row["error"], row["error"] - shift, used))
    return out


def _ends(residuals: list[float]) -> tuple[float, float]:
    """The interval's ends (log factors) from the left-out cities' residuals: the order
    statistics a conformal interval would take (rank ceil((n+1)(1-a/2)) from each end), which
    for exchangeable residuals cover a new city with at least the nominal probability; the
    plain 5th and 95th percentiles of a sample of twenty cover less, as the backtest showed.
    These residuals are leave-one-out ones around fits on the other cities, not a held-out
    set, so the guarantee is not exact: the backtest measures the coverage instead. Where
    that rank would lie beyond the sample (fewer than 19 residuals for 90%) or there are
    fewer than :data:`MIN_BACKTEST`, the largest error seen either way, on both sides."""
    ordered, n = sorted(residuals), len(residuals)
    rank = math.ceil((n + 1) * (1 - (1 - NOMINAL) / 2))
    if n < MIN_BACKTEST or rank > n:
        widest = max(abs(r) for r in residuals)
        return -widest, widest
    return ordered[n - rank], ordered[rank - 1]


def calibrate(reference: pl.DataFrame, coordinates: pl.DataFrame,
              metric: str) -> Calibration | None:
    """The estimator with the smallest mean absolute error on the left-out cities, and its
    interval from all their residuals; None where fewer than three cities can be backtested.
    city_trend competes only where some backtested city has a trend."""
    found = _calibrated(reference, coordinates, metric)
    return found[0] if found else None


def _calibrated(reference: pl.DataFrame, coordinates: pl.DataFrame, metric: str
                ) -> tuple[Calibration, pl.DataFrame, list[tuple[float, float, str]]] | None:
    """:func:`calibrate`, with the backtested cities and the chosen estimator's left-out
    results it was built from, so the backtest table reuses them."""
    obs = observed(reference, coordinates, metric)
    if obs.height < 3:
        return None
    span = TARGET_YEAR - BASE[metric][0]
    n_trend = int(obs["trend"].is_not_null().sum())
    methods = [m for m in METHODS if m != "city_trend" or n_trend >= MIN_TREND_FIT + 1]
    left = {m: _left_out(obs, m, span) for m in methods}
    mae = {m: float(np.mean([abs(r) for _, r, _ in left[m]])) for m in methods}
    method = min(methods, key=lambda m: (mae[m], METHODS.index(m)))
    low, high = _ends([r for _, r, _ in left[method]])
    kinds = obs.group_by("kind").len()
    return (Calibration(metric, fitted(list(obs.iter_rows(named=True)), method, span), low,
                        high, obs.height, dict(kinds.iter_rows()), n_trend), obs, left[method])


def backtest(reference: pl.DataFrame, coordinates: pl.DataFrame) -> pl.DataFrame:
    """Every city with a base figure and an observed 2023 figure, estimated as a missing member
    would be with itself left out of the fit (a kind's adjustment, the trend's share) and of the
    errors its interval is read from: how far off the estimate is (``error_share``, estimate
    over observed less 1) and whether its interval holds the observed figure. The choice of
    estimator, and the other cities' errors, still rest on every city."""
    rows = []
    for metric, (year, _) in BASE.items():
        found = _calibrated(reference, coordinates, metric)
        if found is None:
            continue
        _, obs, left = found
        for i, row in enumerate(obs.iter_rows(named=True)):
            error, residual, used = left[i]
            low, high = _ends([r for j, (_, r, _) in enumerate(left) if j != i])
            raw = row["value_base"] * row["province_ratio"]
            observed_value, estimate = raw * math.exp(error), raw * math.exp(error - residual)
            rows.append({
                "entity_id": row["entity_id"], "metric": metric, "base_year": year,
                "observed": observed_value, "estimate": estimate,
                "low": estimate * math.exp(low), "high": estimate * math.exp(high),
                "error_share": estimate / observed_value - 1,
                "inside": estimate * math.exp(low) <= observed_value <= estimate * math.exp(high),
                "province_id": row["province_id"], "kind": row["kind"], "method": used})
    return pl.DataFrame(rows, schema=published.schema("estimates_backtest"))
