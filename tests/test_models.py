"""Models: known truths recovered, robust errors checked by hand, degenerate input refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from citycluster.analysis import models as m
from citycluster.analysis import samples, trends
from citycluster.chain.params import ParameterError, check_structured

SAMPLES = tuple(samples.SAMPLES)


def spec(formula: str = "y ~ x", **extra) -> m.ModelSpec:
    raw = {"name": "t", "family": "share", "sample": "provinces", "formula": formula, **extra}
    return m.ModelSpec.parse(raw, 0, SAMPLES)


def synthetic(n: int, seed: int, noise: float) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    z = rng.normal(0, 1, n)
    y = 0.5 + 2.0 * x - 1.5 * z + rng.normal(0, noise, n) * (1 + x / 5)  # heteroskedastic
    return pl.DataFrame({"x": x, "z": z, "y": y, "entity_id": [f"e{i}" for i in range(n)]})


def test_noise_free_data_give_the_true_coefficients_exactly() -> None:
    fit = m.fit_ols(synthetic(20, 1, 0.0), spec("y ~ x + z"))
    assert fit.result.params.to_dict() == pytest.approx(
        {"Intercept": 0.5, "x": 2.0, "z": -1.5}, abs=1e-10)
    assert fit.result.rsquared == pytest.approx(1.0)


def test_noisy_data_recover_the_truth_within_the_interval() -> None:
    fit = m.fit_ols(synthetic(2000, 7, 1.0), spec("y ~ x + z"))
    ci = fit.result.conf_int()
    for term, truth in {"Intercept": 0.5, "x": 2.0, "z": -1.5}.items():
        assert ci.loc[term, 0] < truth < ci.loc[term, 1]
    assert fit.result.params["x"] == pytest.approx(2.0, abs=0.05)
    assert fit.result.cov_type == "HC3"


def test_hc3_errors_match_a_hand_computation() -> None:
    # Sandwich by hand: (X'X)^-1 X' diag(e_i^2 / (1 - h_i)^2) X (X'X)^-1.
    x = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    y = np.array([1.0, 3.0, 2.0, 5.0, 9.0])
    X = np.column_stack([np.ones_like(x), x])
    xtx_inv = np.linalg.inv(X.T @ X)
    beta = xtx_inv @ X.T @ y
    e = y - X @ beta
    h = np.einsum("ij,jk,ik->i", X, xtx_inv, X)
    meat = X.T @ np.diag(e**2 / (1 - h) ** 2) @ X
    se = np.sqrt(np.diag(xtx_inv @ meat @ xtx_inv))
    fit = m.fit_ols(pl.DataFrame({"x": x, "y": y}), spec())
    assert fit.result.params.to_numpy() == pytest.approx(beta, rel=1e-12)
    assert fit.result.bse.to_numpy() == pytest.approx(se, rel=1e-10)
    # and on paper: Sxx = 14.8, Sxy = 23, so the slope is 23 / 14.8 = 115/74; leverages are
    # 1/5 + (x - 3.2)^2 / 14.8, e.g. 0.7297 for x = 6; the sandwich gives SE(slope) = 0.48433.
    assert beta[1] == pytest.approx(115 / 74)
    assert h[4] == pytest.approx(1 / 5 + 2.8**2 / 14.8)
    assert fit.result.bse["x"] == pytest.approx(0.484334, abs=1e-6)


def test_bootstrap_is_seeded_and_collapses_on_exact_data() -> None:
    noisy = m.fit_ols(synthetic(50, 3, 1.0), spec())
    a = m.bootstrap_interval(noisy, "x", 300, seed=11)
    assert a == m.bootstrap_interval(noisy, "x", 300, seed=11)
    assert a != m.bootstrap_interval(noisy, "x", 300, seed=12)
    assert a[0] < 2.0 < a[1]
    exact = m.fit_ols(synthetic(30, 3, 0.0), spec("y ~ x + z"))
    low, high = m.bootstrap_interval(exact, "x", 200, seed=1)
    assert low == pytest.approx(2.0) and high == pytest.approx(2.0)


def test_tidy_rows_carry_diagnostics_and_warnings() -> None:
    data = synthetic(8, 5, 3.0)
    run = m.run_spec(spec(h0={"x": 2.0}), data, label="entity_id", cov_type="HC3", reps=200,
                     seed=1)
    key = run.table.filter(pl.col("term") == "x").row(0, named=True)
    assert key["status"] == "fitted" and key["n"] == 8
    assert key["null_value"] == 2.0
    assert "n = 8 < 10" in key["warning"] and "spans the null 2" in key["warning"]
    assert key["boot_ci_low"] < key["estimate"] < key["boot_ci_high"]
    assert key["loo_low"] <= key["estimate"] <= key["loo_high"]
    assert key["max_cooks_label"] in set(data["entity_id"])
    assert run.influence is not None and run.influence.height == 8
    # leave-one-out by brute force for the first point
    first = m.fit_ols(data.slice(1), spec())
    assert run.influence["loo_estimate"][0] == pytest.approx(first.result.params["x"])
    assert run.test is not None and run.test["restrictions"] == 1
    assert list(run.table.columns) == m.TIDY_COLUMNS


def test_joint_test_rejects_a_false_null_and_keeps_a_true_one() -> None:
    data = synthetic(400, 9, 1.0)
    true = m.fit_ols(data, spec(h0={"Intercept": 0.5, "x": 2.0}))
    false = m.fit_ols(data, spec(h0={"Intercept": 0.0, "x": 1.0}))
    assert m.joint_null_test(true)["p_value"] > 0.01
    assert m.joint_null_test(false)["p_value"] < 1e-6


@pytest.mark.parametrize(("frame", "message"), [
    (pl.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0]}), "2 complete row(s) out of 2"),
    (pl.DataFrame({"x": [3.0, 3.0, 3.0, 3.0], "y": [1.0, 2.0, 3.0, 4.0]}), "is constant"),
    (pl.DataFrame({"x": [1.0, None, 3.0, None], "y": [1.0, 2.0, None, 4.0]}),
     "1 complete row(s) out of 4"),
    (pl.DataFrame({"x": [None, None, None], "y": [1.0, 2.0, 3.0]},
                  schema={"x": pl.Float64, "y": pl.Float64}), "no complete rows"),
])
def test_degenerate_data_give_a_clear_message(frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(m.ModelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        m.fit_ols(frame, spec())


def test_missing_values_are_dropped_and_counted() -> None:
    data = synthetic(12, 2, 0.3).with_columns(
        pl.when(pl.int_range(pl.len()) < 3).then(None).otherwise(pl.col("y")).alias("y"))
    fit = m.fit_ols(data, spec())
    assert fit.result.nobs == 9


def test_log_of_zero_is_refused_not_fitted() -> None:
    data = pl.DataFrame({"gdp": [1.0, 2.0, 3.0, 4.0], "population": [0.0, 2.0, 3.0, 5.0]})
    with pytest.raises(m.ModelError, match="non-finite"):
        m.fit_ols(data, spec("np.log(gdp) ~ np.log(population)"))


def test_thin_data_become_a_not_estimable_row() -> None:
    run = m.run_spec(spec(), pl.DataFrame({"x": [1.0, 2.0], "y": [3.0, 1.0]}),
                     label="entity_id", cov_type="HC3", reps=10, seed=1)
    row = run.table.row(0, named=True)
    assert run.table.height == 1 and row["status"] == "not estimable"
    assert row["estimate"] is None and "at least 3" in row["warning"]


def test_a_formula_naming_a_missing_column_is_a_spec_error() -> None:
    with pytest.raises(m.ModelSpecError, match="cannot build 'y ~ w'"):
        m.fit_ols(synthetic(10, 1, 1.0), spec("y ~ w"))


def test_h0_naming_a_term_not_in_the_model_is_a_spec_error() -> None:
    with pytest.raises(m.ModelSpecError, match="term 'pop_share' is not in the fitted model"):
        m.fit_ols(synthetic(10, 1, 1.0), spec(h0={"pop_share": 1}))


@pytest.mark.parametrize(("raw", "message"), [
    ({"name": "a", "family": "share", "sample": "towns", "formula": "y ~ x"},
     "sample 'towns' is not one of"),
    ({"name": "a", "family": "growth", "sample": "provinces", "formula": "y ~ x"},
     "family 'growth' is not one of"),
    ({"name": "a", "family": "share", "sample": "provinces"}, "missing key(s) formula"),
    ({"name": "a", "family": "share", "sample": "provinces", "formula": "y ~ x", "nul": {}},
     "unknown key(s) nul"),
    ({"name": "a", "family": "share", "sample": "provinces", "formula": "y = x"}, "has no '~'"),
    ({"name": "a", "family": "share", "sample": "provinces", "formula": "y ~ x",
      "h0": {"x": "one"}}, "h0 must map terms to numbers"),
    ("share", "expected a mapping"),
])
def test_bad_specs_are_refused_before_the_run(raw: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_structured({"models": [raw], "trends": []})


def test_duplicate_model_names_are_refused() -> None:
    raw = {"name": "a", "family": "share", "sample": "provinces", "formula": "y ~ x"}
    with pytest.raises(m.ModelSpecError, match="duplicate name"):
        m.parse_specs([raw, raw], SAMPLES)


def claim(cid: str, year: int | None, value: float, qualifier: str, lower: float | None,
          upper: float | None, metric: str = "output", unit: str = "CNY") -> dict:
    return {"claim_id": cid, "entity_id": "cn_x", "metric": metric, "year": year,
            "value_base": value, "qualifier": qualifier, "lower_base": lower,
            "upper_base": upper, "base_unit": unit}


def test_trend_from_a_less_than_start_is_a_lower_bound() -> None:
    claims = pl.DataFrame([claim("C1", 2022, 5e8, "lt", None, 5e8),
                           claim("C2", 2024, 35e8, "eq", 35e8, 35e8)])
    per_year, cagr = trends.trend_rows(claims, trends.TrendSpec("cn_x", "output"))
    assert cagr["estimate"] == pytest.approx(7 ** 0.5 - 1)
    assert cagr["ci_low"] == pytest.approx(7 ** 0.5 - 1) and cagr["ci_high"] is None
    assert per_year["estimate"] == pytest.approx(15e8)
    assert per_year["ci_low"] == pytest.approx(15e8) and per_year["ci_high"] is None
    assert "C1 is printed as lt" in cagr["warning"] and cagr["n"] == 2


def test_trend_between_exact_figures_has_equal_bounds() -> None:
    claims = pl.DataFrame([claim("C1", 2019, 0.12, "eq", 0.12, 0.12, "rate", "fraction"),
                           claim("C2", 2023, 0.38, "eq", 0.38, 0.38, "rate", "fraction")])
    per_year, cagr = trends.trend_rows(claims, trends.TrendSpec("cn_x", "rate"))
    assert per_year["estimate"] == pytest.approx(0.065)
    assert per_year["ci_low"] == per_year["ci_high"] == pytest.approx(0.065)
    assert cagr["estimate"] == pytest.approx((0.38 / 0.12) ** 0.25 - 1)


def test_trend_needs_two_years_and_one_unit() -> None:
    one = pl.DataFrame([claim("C1", 2022, 1.0, "eq", 1.0, 1.0),
                        claim("C2", None, 2.0, "eq", 2.0, 2.0)])
    with pytest.raises(trends.TrendError, match="two different years"):
        trends.trend_rows(one, trends.TrendSpec("cn_x", "output"))
    mixed = pl.DataFrame([claim("C1", 2022, 1.0, "eq", 1.0, 1.0),
                          claim("C2", 2024, 2.0, "eq", 2.0, 2.0, unit="USD")])
    with pytest.raises(trends.TrendError, match="different units"):
        trends.trend_rows(mixed, trends.TrendSpec("cn_x", "output"))


def test_linkage_sample_takes_the_latest_figure_and_the_reference_premium() -> None:
    claims = pl.DataFrame([
        {"claim_id": "C1", "entity_id": "a", "metric": "supporting_rate", "year": 2019,
         "value_base": 0.1},
        {"claim_id": "C2", "entity_id": "a", "metric": "supporting_rate", "year": 2023,
         "value_base": 0.4},
        {"claim_id": "C3", "entity_id": "b", "metric": "industry_linkage", "year": None,
         "value_base": 0.7},
    ])
    shares = pl.DataFrame([
        {"entity_id": "a", "entity_type": "city", "origin": "article", "premium": 9.0},
        {"entity_id": "a", "entity_type": "city", "origin": "reference", "premium": 1.2},
    ])
    got = samples.linkage(shares, claims)
    assert got.height == 1
    row = got.row(0, named=True)
    assert (row["linkage"], row["linkage_claim"], row["premium"]) == (0.4, "C2", 1.2)


@pytest.mark.chain
def test_each_sample_offers_exactly_its_declared_columns(chain_repo: Path) -> None:
    """The columns a formula is checked against before a run are the ones the builders give."""
    processed = chain_repo / "data" / "processed"
    tables = {n: pl.read_parquet(processed / f"{n}.parquet")
              for n in ("shares", "claims", "reference")}
    assert tuple(samples.SAMPLES) == tuple(samples.SAMPLE_COLUMNS)
    for name in samples.SAMPLES:
        built = samples.build_sample(name, tables["shares"], tables["claims"],
                                     tables["reference"])
        assert tuple(built.columns) == samples.SAMPLE_COLUMNS[name], name
