"""Simple, honest regressions with statsmodels, returned as tidy tables.

Every fit uses heteroskedasticity-robust errors, reports n and R², and raises a readable
:class:`ModelError` on input it cannot fit (too few rows, constant x) instead of a numpy
traceback. Warnings that change how a result should be read (n < 10, an interval that spans the
null) travel with the result into ``reports/models.csv`` and the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl

SMALL_N = 10
TIDY_COLUMNS = ["model", "sample", "formula", "term", "estimate", "std_error", "ci_low",
                "ci_high", "p_value", "n", "r_squared", "cov_type", "boot_ci_low",
                "boot_ci_high", "warning"]


class ModelError(ValueError):
    """Input a model cannot be fitted on; the message says why."""


@dataclass
class Fit:
    """A fitted model with what is needed to report it."""

    name: str
    sample: str
    formula: str
    result: object  # statsmodels RegressionResultsWrapper
    data: pd.DataFrame


def fit_ols(df: pl.DataFrame, formula: str, *, name: str, sample: str,
            cov_type: str = "HC3") -> Fit:
    """OLS with robust errors; refuses n <= 2 and a constant regressor with a clear message."""
    import statsmodels.formula.api as smf

    pdf = df.to_pandas()
    try:
        model = smf.ols(formula, data=pdf)  # rows with a missing value are dropped
    except Exception as exc:  # patsy reports unknown names and bad syntax in many classes
        raise ModelError(f"{name} ({sample}): cannot build {formula!r}: {exc}") from exc
    pdf = pdf.loc[model.data.row_labels].reset_index(drop=True)
    n = len(pdf)
    if n <= 2:
        raise ModelError(f"{name} ({sample}): {n} complete row(s); at least 3 are needed to fit "
                         f"{formula!r} and estimate its error")
    exog = model.exog[:, 1:] if model.exog.shape[1] > 1 else model.exog
    if np.any(np.ptp(exog, axis=0) == 0):
        raise ModelError(f"{name} ({sample}): a regressor in {formula!r} is constant across "
                         f"the {n} rows, so its slope cannot be estimated")
    result = model.fit(cov_type=cov_type)
    return Fit(name, sample, formula, result, pdf)


def bootstrap_interval(fit: Fit, term: str, reps: int, seed: int,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of one coefficient over case resamples (seeded, so reproducible).

    Resamples the fitted design matrix directly with least squares: the same estimates as
    refitting the formula, at a small fraction of the cost.
    """
    rng = np.random.default_rng(seed)
    X = np.asarray(fit.result.model.exog)
    y = np.asarray(fit.result.model.endog)
    col = list(fit.result.params.index).index(term)
    n = len(y)
    draws = []
    for _ in range(reps):
        idx = rng.integers(0, n, n)
        Xb = X[idx]
        if np.linalg.matrix_rank(Xb) < X.shape[1]:
            continue  # a resample with a constant regressor has no slope
        beta = np.linalg.lstsq(Xb, y[idx], rcond=None)[0]
        draws.append(beta[col])
    if len(draws) < reps / 2:
        return (float("nan"), float("nan"))
    alpha = (1 - level) / 2
    low, high = np.quantile(draws, [alpha, 1 - alpha])
    return float(low), float(high)


def slope_term(fit: Fit) -> str:
    """The first non-intercept term: the slope the model is about."""
    return next(t for t in fit.result.params.index if t != "Intercept")


def tidy(fit: Fit, *, null: dict[str, float] | None = None,
         boot: tuple[float, float] | None = None) -> pl.DataFrame:
    """One row per term, in the models.csv contract, with reading warnings attached.

    ``null`` gives the value each term is compared with (e.g. slope 1 for proportionality);
    a warning is added when the 95% interval contains it.
    """
    res = fit.result
    ci = res.conf_int()
    null = null or {}
    slope = slope_term(fit)
    rows = []
    for term in res.params.index:
        low, high = float(ci.loc[term, 0]), float(ci.loc[term, 1])
        warnings = []
        if res.nobs < SMALL_N:
            warnings.append(f"n = {int(res.nobs)} < {SMALL_N}: indicative only")
        ref = null.get(term, 0.0)
        if low <= ref <= high:
            warnings.append(f"95% interval spans {ref:g}")
        is_slope = term == slope and boot is not None
        rows.append({
            "model": fit.name, "sample": fit.sample, "formula": fit.formula, "term": term,
            "estimate": float(res.params[term]), "std_error": float(res.bse[term]),
            "ci_low": low, "ci_high": high, "p_value": float(res.pvalues[term]),
            "n": int(res.nobs), "r_squared": float(res.rsquared), "cov_type": res.cov_type,
            "boot_ci_low": boot[0] if is_slope else None,
            "boot_ci_high": boot[1] if is_slope else None,
            "warning": "; ".join(warnings) or None,
        })
    return pl.DataFrame(rows, schema_overrides={"boot_ci_low": pl.Float64,
                                                "boot_ci_high": pl.Float64,
                                                "warning": pl.String})


def influence(fit: Fit, label: str) -> pl.DataFrame:
    """Residuals, leverage and Cook's distance per observation, labelled by ``label``."""
    infl = fit.result.get_influence()
    cooks = infl.cooks_distance[0]
    return pl.DataFrame({
        "model": fit.name, "sample": fit.sample, "label": fit.data[label].astype(str).tolist(),
        "fitted": fit.result.fittedvalues.to_numpy(), "residual": fit.result.resid.to_numpy(),
        "leverage": infl.hat_matrix_diag, "cooks_distance": cooks,
    })


def proportionality_test(fit: Fit) -> dict[str, float]:
    """Joint Wald test of intercept 0 and slope 1: are GDP shares proportional to population?"""
    slope = slope_term(fit)
    test = fit.result.wald_test(f"(Intercept = 0), ({slope} = 1)", scalar=True)
    return {"statistic": float(test.statistic), "p_value": float(test.pvalue),
            "df": float(test.df_denom) if test.df_denom is not None else float("nan")}
