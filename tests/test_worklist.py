"""The member-gap worklist's round trip, and the estimates it rests on.

A researcher finds a missing 2023 figure, adds it to the raw city table and reruns: the figure
passes validation, replaces its estimate, leaves the worklist and moves the cluster totals. Run
in-process through ingest and validation, as the chain runs them (tests/test_bad_input.py).
"""

from __future__ import annotations

import csv
import io
import math
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from citycluster.ingest import estimates
from citycluster.ingest.backtest import METHODS, _ends, fitted, trends
from citycluster.ingest.staging import stage_all
from citycluster.paths import repo_root
from citycluster.validation import audit

RAW = repo_root() / "data" / "raw"
CITIES = "reference/china_cities_2023.csv"


def stage(raw: Path, tmp: Path) -> tuple[dict[str, pl.DataFrame], audit.Audit]:
    staging = tmp / "staging"
    tables = stage_all(raw, staging, 0.05)
    return tables, audit.audit(staging, raw, 0.05, None)


@pytest.fixture(scope="module")
def as_committed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    tables, result = stage(RAW, tmp_path_factory.mktemp("committed"))
    assert result.critical_failures.is_empty()
    return tables


def test_every_missing_member_figure_is_on_the_worklist(
        as_committed: dict[str, pl.DataFrame]) -> None:
    t = as_committed
    work = estimates.worklist(t["reference"], t["membership"], t["coordinates"],
                              t["estimates"])
    gaps = estimates.missing(t["reference"], t["membership"])
    assert work.height == gaps.height > 0
    assert set(work.filter(pl.col("stands_in") == "estimate")
               .select("entity_id", "metric").iter_rows()) == set(
        t["estimates"].select("entity_id", "metric").iter_rows())
    assert work["document"].str.contains("国民经济和社会发展统计公报").all()
    # an estimate sits inside its interval and names the official figure it starts from
    e = t["estimates"]
    assert (e["low"] <= e["value_base"]).all() and (e["value_base"] <= e["high"]).all()
    assert set(e["base_ref"]) <= set(t["reference"]["ref_id"])
    assert set(e["vintage"]) == {estimates.VINTAGE}


def test_an_estimate_is_the_census_figure_moved_with_its_province(
        as_committed: dict[str, pl.DataFrame]) -> None:
    t = as_committed
    ref = t["reference"]
    row = t["estimates"].filter(pl.col("metric") == "population",
                                pl.col("base_year") == 2020).row(0, named=True)
    base = ref.filter(pl.col("ref_id") == row["base_ref"]).row(0, named=True)
    now_ref, then_ref = row["ratio_refs"].split("/")
    value = dict(ref.select("ref_id", "value_base").iter_rows())
    assert base["year"] == 2020 and base["vintage"] == "census"
    assert row["value_base"] == pytest.approx(
        base["value_base"] * value[now_ref] / value[then_ref] * row["adjustment"])


def test_an_estimate_starts_from_the_nearest_official_figures(
        as_committed: dict[str, pl.DataFrame]) -> None:
    """A member with official figures on both sides of 2023 is interpolated between them and
    bounded by them; one with a year-end figure nearer than the census starts from it."""
    t = as_committed
    value = {r["ref_id"]: r for r in t["reference"].iter_rows(named=True)}
    for row in t["estimates"].filter(pl.col("method") == "interpolated").iter_rows(named=True):
        later, earlier = (value[r] for r in row["ratio_refs"].split("/"))
        assert earlier["entity_id"] == later["entity_id"] == row["entity_id"]
        assert earlier["year"] < 2023 < later["year"]
        assert row["low"] == min(earlier["value_base"], later["value_base"])
        assert row["high"] == max(earlier["value_base"], later["value_base"])
    nearer = t["estimates"].filter(pl.col("metric") == "population",
                                   pl.col("base_year") > 2020)
    assert nearer.height > 0  # year-end figures in data/raw/reference/china_base_years.csv
    for row in nearer.iter_rows(named=True):
        base = value[row["base_ref"]]
        assert base["entity_id"] == row["entity_id"] and base["vintage"] == "first_release"


def test_the_estimator_is_measured_on_cities_left_out(
        as_committed: dict[str, pl.DataFrame]) -> None:
    """The backtest leaves out every city with a base figure and an observed 2023 figure, and
    estimates it as a missing member would be: at least 20 cities, the nominal 90% intervals
    holding between 80% and 97% of the observed figures, every estimate strictly inside its
    interval, and the estimates of the missing members built the way the backtest chose."""
    t = as_committed
    bt = t["estimates_backtest"]
    assert bt.height >= 20
    assert 0.80 <= bt["inside"].mean() <= 0.97, bt["inside"].mean()  # type: ignore[operator]
    assert ((bt["low"] < bt["estimate"]) & (bt["estimate"] < bt["high"])).all()
    assert (bt["inside"] == ((bt["low"] <= bt["observed"]) & (bt["observed"] <= bt["high"]))).all()
    e = t["estimates"]
    assert ((e["low"] < e["value_base"]) & (e["value_base"] < e["high"])).all()
    chosen = {metric: max(set(rows["method"]), key=METHODS.index)
              for (metric,), rows in bt.group_by("metric")}
    for metric, method in e.select("metric", "method").unique().iter_rows():
        fallback = "province_change_by_kind" if chosen[metric] == "city_trend" else None
        assert method in (chosen[metric], "interpolated", fallback), (metric, method)
    # capitals drew people faster than their provinces: a capital's estimate says so
    pop = e.filter(pl.col("metric") == "population", pl.col("method") != "interpolated")
    if chosen.get("population") == "province_change_by_kind":
        capital = pop.filter(pl.col("kind") == "capital")["adjustment"]
        other = pop.filter(pl.col("kind") == "city")["adjustment"]
        assert capital.len() and other.len() and capital.min() > 1 > other.max()


def test_a_city_trend_estimate_leans_the_way_its_census_trend_ran(
        as_committed: dict[str, pl.DataFrame]) -> None:
    """Under city_trend, a member that outgrew its province between the 2010 and 2020 censuses
    is estimated above its province's change, one that fell behind below it, by the same share
    of its trend for every city (beta, fitted on the backtested cities)."""
    t = as_committed
    trend = trends(t["reference"], t["coordinates"])
    rows = t["estimates"].filter(pl.col("method") == "city_trend")
    if rows.is_empty():
        pytest.skip("the backtest did not choose city_trend")
    shares = {r["entity_id"]: math.log(r["adjustment"]) / (trend[r["entity_id"]]
                                                           * (2023 - r["base_year"]))
              for r in rows.iter_rows(named=True)}
    assert len(set(round(s, 9) for s in shares.values())) == 1, shares
    assert 0 < next(iter(shares.values())) < 1


def test_the_trend_share_is_fitted_through_the_origin() -> None:
    """beta recovers the share of the trend the errors carry, and a city without a trend falls
    back to its kind's adjustment over the years projected."""
    rows = [{"kind": "city", "trend": x, "error": 0.5 * x * 3} for x in (0.01, -0.02, 0.03)]
    rows.append({"kind": "city", "trend": None, "error": 0.006})
    fit = fitted(rows, "city_trend", 3)
    assert fit.beta == pytest.approx(0.5)
    assert fit.shift("city", 0.02, 1) == (pytest.approx(0.01), "city_trend")
    shift, used = fit.shift("city", None, 1)
    assert used == "province_change_by_kind"
    assert shift == pytest.approx(float(np.median([r["error"] for r in rows])) / 3)


def test_a_found_figure_replaces_its_estimate_and_moves_the_totals(
        as_committed: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    before = as_committed
    totals = before["cluster_totals"]
    # a member whose estimate the totals use (a province exact on observed figures needs none)
    used = totals.filter(pl.col("entity_id") == "cn_big5")["estimated_ids_population"][0]
    target = before["estimates"].filter(pl.col("metric") == "population",
                                        pl.col("entity_id") == used.split(", ")[0]).row(
        0, named=True)
    cluster = before["membership"].filter(
        pl.col("member_entity_id") == target["entity_id"])["cluster_id"][0]
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    path = raw / CITIES
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    template = next(r for r in rows if r["metric"] == "population")
    names = dict(before["place_names"].filter(pl.col("lang") == "en")
                 .select("entity_id", "name").iter_rows())
    found = dict(template, ref_id="CITY999", entity_id=target["entity_id"],
                 entity_zh=before["coordinates"].filter(
                     pl.col("entity_id") == target["entity_id"])["name_zh"][0],
                 entity_en=names[target["entity_id"]], value=f"{target['high'] / 1e4:.2f}",
                 unit="万人", note="test row: a figure a researcher found")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(template), lineterminator="\n")
    writer.writeheader()
    writer.writerows([*rows, found])
    path.write_text(out.getvalue(), encoding="utf-8")

    after, result = stage(raw, tmp_path)
    assert result.critical_failures.is_empty(), result.critical_failures
    assert not after["estimates"].filter(pl.col("entity_id") == target["entity_id"],
                                         pl.col("metric") == "population").height
    work = estimates.worklist(after["reference"], after["membership"], after["coordinates"],
                              after["estimates"])
    assert (target["entity_id"], "population") not in set(
        work.select("entity_id", "metric").iter_rows())

    def row(frame: pl.DataFrame) -> dict:
        return frame.filter(pl.col("entity_id") == cluster).row(0, named=True)

    old, new = row(totals), row(after["cluster_totals"])
    assert new["members_known_population"] == old["members_known_population"] + 1
    assert new["members_estimated_population"] == old["members_estimated_population"] - 1
    assert new["observed_population"] > old["observed_population"]


def test_hong_kong_and_macao_stand_beside_the_bay_area_never_in_it(
        as_committed: dict[str, pl.DataFrame]) -> None:
    """Their GDP is converted through the pegs and the yuan's rate, and shown as a ratio to
    mainland China's totals; the Bay Area's own shares count only its nine mainland cities."""
    t = as_committed
    gba = t["cluster_totals"].filter(pl.col("entity_id") == "cn_gba").row(0, named=True)
    ref = t["reference"].filter(pl.col("year") == 2023)

    def value(entity: str, metric: str) -> float:
        rows = ref.filter(pl.col("entity_id") == entity, pl.col("metric") == metric)
        return rows.sort("ref_id")["value_base"][0]

    cny_per_usd, hkd_per_usd, mop_per_hkd = (value("cn", "usd_rate"), value("cn_hk", "usd_rate"),
                                             value("cn_mo", "hkd_rate"))
    expected = (value("cn_hk", "gdp") / hkd_per_usd * cny_per_usd
                + value("cn_mo", "gdp") / mop_per_hkd / hkd_per_usd * cny_per_usd)
    assert gba["sar_gdp"] == pytest.approx(expected)
    assert gba["sar_population"] == value("cn_hk", "population") + value("cn_mo", "population")
    national_gdp = gba["observed_gdp"] / gba["gdp_share"]
    assert gba["sar_gdp_ratio"] == pytest.approx(expected / national_gdp)
    members = t["membership"].filter(pl.col("cluster_id") == "cn_gba",
                                     pl.col("member_level") != "sar")
    assert gba["members"] == members["member_entity_id"].n_unique()
    assert t["cluster_totals"].filter(pl.col("entity_id") == "cn_yrd")["sar_gdp"].is_null().all()


def test_the_interval_widens_where_the_sample_cannot_place_its_rank() -> None:
    """With 22 left-out errors the nominal 90% interval runs from the smallest to the largest;
    with 15 the rank it needs lies beyond the sample, so it takes the largest error either
    way, as with fewer than ten."""
    errors = [i / 100 for i in range(-10, 12)]  # 22 errors, -0.10 to 0.11
    assert _ends(errors) == (-0.10, 0.11)
    assert _ends(errors[:15]) == (-0.10, 0.10)  # -0.10 to 0.04: the widest is 0.10
    assert _ends([0.01, -0.03, 0.02]) == (-0.03, 0.03)
