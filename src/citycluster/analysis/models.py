"""Simple, honest regressions with statsmodels, returned as tidy tables.

Models are specified in the parameters (a name, a family, a named sample and a formula for the
statsmodels formula API), so a researcher adds a model by adding a spec. Two kinds of failure are
kept apart on purpose:

- :class:`ModelSpecError`: the spec itself is wrong (unknown sample, a formula naming a column
  that does not exist). The run stops, because a typo must never pass as a result.
- :class:`ModelError`: the spec is fine but the data cannot support a fit (n <= 2, a constant
  regressor, log of zero). That is a finding, so it is recorded as a ``not estimable`` row in
  ``models.csv`` with the reason, and the chain goes on.

Every fit uses heteroskedasticity-robust errors and carries n, R², a seeded bootstrap interval and
leave-one-out range for its key slope, the largest Cook's distance, and warnings that change how
it should be read (n < 10, an interval that spans the null). A little over 300 lines: a fit
and its diagnostics are one job, and splitting them would pass half-built results between
modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import patsy
import polars as pl
import statsmodels.formula.api as smf  # here, not in fit_ols: the chain imports it ahead

from citycluster.analysis.keyrows import key_rows
from citycluster.analysis.modelspec import ModelSpec, ModelSpecError, parse_specs
from citycluster.data import published
from citycluster.errors import InputError

__all__ = ["ModelSpec", "ModelSpecError", "parse_specs"]  # the specs live in modelspec

SMALL_N = 10
#: The models table's columns and types, as data/processed.datapackage.yaml declares them.
TIDY_SCHEMA = published.schema("models")
TIDY_COLUMNS = list(TIDY_SCHEMA)


class ModelError(InputError):
    """Data a well-formed model cannot be fitted on; the message says why."""


@dataclass
class Fit:
    """A fitted model with what is needed to report it."""

    spec: ModelSpec
    result: Any  # statsmodels' RegressionResultsWrapper, which ships no type information
    data: pd.DataFrame

    @property
    def key_term(self) -> str:
        """The slope the model is about: the spec's key_term, else the first non-intercept."""
        return self.spec.key_term or next(t for t in self.result.params.index
                                          if t != "Intercept")


def fit_ols(df: pl.DataFrame, spec: ModelSpec, cov_type: str = "HC3") -> Fit:
    """OLS with robust errors; rows with a missing value in the formula's columns are dropped."""
    where = f"{spec.name} ({spec.sample})"
    pdf = df.to_pandas()
    try:
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) is reported below
            model = smf.ols(spec.formula, data=pdf)
    except (patsy.PatsyError, NameError, SyntaxError, KeyError, TypeError) as exc:
        raise ModelSpecError(f"{where}: cannot build {spec.formula!r} from the sample's columns "
                             f"({', '.join(df.columns)}): {exc}") from exc
    except ValueError as exc:  # statsmodels: zero rows left once missing values are dropped
        raise ModelError(f"{where}: no complete rows for {spec.formula!r} ({exc})") from exc
    pdf = pdf.loc[model.data.row_labels].reset_index(drop=True)
    n = len(pdf)
    if n <= 2:
        raise ModelError(f"{where}: {n} complete row(s) out of {df.height}; at least 3 are "
                         f"needed to fit {spec.formula!r} and estimate its error")
    values = np.column_stack([model.endog, model.exog])
    if not np.all(np.isfinite(values)):
        bad = sorted(set(np.nonzero(~np.isfinite(values))[0].tolist()))
        raise ModelError(f"{where}: {spec.formula!r} gives non-finite values (log of zero or "
                         f"a negative number?) in row(s) {bad[:5]}")
    exog = model.exog[:, 1:] if model.exog.shape[1] > 1 else model.exog
    if np.any(np.ptp(exog, axis=0) == 0):
        raise ModelError(f"{where}: a regressor in {spec.formula!r} is constant across the "
                         f"{n} rows, so its slope cannot be estimated")
    if np.linalg.matrix_rank(model.exog) < model.exog.shape[1]:
        raise ModelError(f"{where}: the regressors of {spec.formula!r} are collinear")
    result = model.fit(cov_type=cov_type)
    terms = list(result.params.index)
    for term in [*spec.null, *([spec.key_term] if spec.key_term else [])]:
        if term not in terms:
            raise ModelSpecError(f"{where}: term {term!r} is not in the fitted model; its "
                                 f"terms are {', '.join(terms)}")
    return Fit(spec, result, pdf)


def bootstrap_interval(fit: Fit, term: str, reps: int, seed: int,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of one coefficient over case resamples (seeded, so reproducible).

    Resamples the fitted design matrix directly with least squares: the same estimates as
    refitting the formula, at a small fraction of the cost. Resamples in which the slope is not
    identified (all rows alike) are skipped; if that is more than half, the interval is NaN.
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
            continue
        draws.append(np.linalg.lstsq(Xb, y[idx], rcond=None)[0][col])
    if len(draws) < reps / 2:
        return (float("nan"), float("nan"))
    alpha = (1 - level) / 2
    low, high = np.quantile(draws, [alpha, 1 - alpha])
    return float(low), float(high)


def influence(fit: Fit, label: str) -> pl.DataFrame:
    """Per observation: fitted value, residual, leverage, Cook's distance, and the key slope
    re-estimated without it (leave-one-out), so a reader sees which point a result rests on."""
    infl = fit.result.get_influence()
    col = list(fit.result.params.index).index(fit.key_term)
    # Leave-one-out slopes in closed form, beta - (X'X)^-1 x_i e_i / (1 - h_i): statsmodels'
    # params_not_obsi refits n times, which is quadratic and takes minutes on a large panel.
    X = np.asarray(fit.result.model.exog)
    resid = np.asarray(fit.result.resid)
    xtx_inv = np.linalg.pinv(X.T @ X)
    h = infl.hat_matrix_diag
    delta = (X @ xtx_inv)[:, col] * resid / (1 - h)
    loo = float(fit.result.params.iloc[col]) - delta
    labels = (fit.data[label].astype(str).tolist() if label in fit.data
              else [str(i) for i in range(len(fit.data))])
    # a point with leverage 1 (alone in its fixed-effect group) is fitted exactly whatever its
    # value: its Cook's distance is undefined (0/0), stored empty rather than as NaN
    cooks = [float(c) if np.isfinite(c) and hi < 1 - 1e-9 else None
             for c, hi in zip(infl.cooks_distance[0], h, strict=True)]
    return pl.DataFrame({
        "model": fit.spec.name, "sample": fit.spec.sample, "label": labels,
        "fitted": np.asarray(fit.result.fittedvalues), "residual": np.asarray(fit.result.resid),
        "leverage": infl.hat_matrix_diag,
        "cooks_distance": pl.Series(cooks, dtype=pl.Float64), "loo_estimate": loo,
    })


def joint_null_test(fit: Fit) -> dict[str, Any] | None:
    """Wald test (robust covariance) that every term equals its null value at once.

    For the share model this is proportionality: intercept 0 and slope 1 together.
    """
    if not fit.spec.null:
        return None
    terms = list(fit.result.params.index)
    R = np.zeros((len(fit.spec.null), len(terms)))
    for i, term in enumerate(fit.spec.null):
        R[i, terms.index(term)] = 1.0
    q = np.array(list(fit.spec.null.values()))
    test = fit.result.wald_test((R, q), scalar=True)
    return {"model": fit.spec.name, "sample": fit.spec.sample,
            "hypothesis": ", ".join(f"{t} = {v:g}" for t, v in fit.spec.null.items()),
            "distribution": test.distribution, "restrictions": len(fit.spec.null),
            "statistic": float(test.statistic), "p_value": float(test.pvalue)}


def tidy(fit: Fit, *, boot: tuple[float, float], infl: pl.DataFrame) -> pl.DataFrame:
    """One row per term in the models.csv contract, with diagnostics and reading warnings."""
    res = fit.result
    ci = res.conf_int()
    key = fit.key_term
    top = infl.sort("cooks_distance", descending=True, nulls_last=True).row(0, named=True)
    rows = []
    for term in res.params.index:
        low, high = float(ci.loc[term, 0]), float(ci.loc[term, 1])
        null = fit.spec.null.get(term, 0.0)
        warnings = []
        if res.nobs < SMALL_N:
            warnings.append(f"n = {int(res.nobs)} < {SMALL_N}: indicative only")
        if low <= null <= high:
            warnings.append(f"95% interval spans the null {null:g}")
        is_key = term == key
        rows.append({
            "model": fit.spec.name, "family": fit.spec.family, "sample": fit.spec.sample,
            "formula": fit.spec.formula, "term": term, "estimate": float(res.params[term]),
            "std_error": float(res.bse[term]), "ci_low": low, "ci_high": high,
            "interval": f"95% ({res.cov_type})", "p_value": float(res.pvalues[term]),
            "n": int(res.nobs), "r_squared": float(res.rsquared), "cov_type": res.cov_type,
            "null_value": null,
            "boot_ci_low": boot[0] if is_key else None,
            "boot_ci_high": boot[1] if is_key else None,
            "loo_low": float(cast(float, infl["loo_estimate"].min())) if is_key else None,
            "loo_high": float(cast(float, infl["loo_estimate"].max())) if is_key else None,
            "max_cooks": float(top["cooks_distance"]) if is_key else None,
            "max_cooks_label": top["label"] if is_key else None,
            "status": "fitted", "warning": "; ".join(warnings) or None,
        })
    return pl.DataFrame(rows, schema=TIDY_SCHEMA)


def not_estimable(spec: ModelSpec, n: int, reason: str) -> pl.DataFrame:
    """The row a model leaves in models.csv when its data cannot support a fit."""
    row = dict.fromkeys(TIDY_COLUMNS) | {
        "model": spec.name, "family": spec.family, "sample": spec.sample,
        "formula": spec.formula, "term": spec.key_term, "n": n, "status": "not estimable",
        "warning": reason}
    return pl.DataFrame([row], schema=TIDY_SCHEMA)


@dataclass
class ModelRun:
    """Everything one spec produced: tidy rows, influence rows and its joint test (if any)."""

    spec: ModelSpec
    table: pl.DataFrame
    influence: pl.DataFrame | None = None
    test: dict[str, Any] | None = None
    fit: Fit | None = None
    predictions: pl.DataFrame | None = None


def run_spec(spec: ModelSpec, data: pl.DataFrame, *, label: str, cov_type: str, reps: int,
             seed: int) -> ModelRun:
    """Fit one spec end to end; data too thin to fit becomes a ``not estimable`` row."""
    try:
        fit = fit_ols(data, spec, cov_type)
    except ModelError as exc:
        return ModelRun(spec, not_estimable(spec, data.height, str(exc)))
    infl = influence(fit, label)
    boot = bootstrap_interval(fit, fit.key_term, reps, seed)
    return ModelRun(spec, tidy(fit, boot=boot, infl=infl), infl, joint_null_test(fit), fit,
                    predictions(fit))


def run_models(specs: list[ModelSpec], shares: pl.DataFrame, claims: pl.DataFrame,
               reference: pl.DataFrame | None = None, *,
               cov_type: str, reps: int, seed: int) -> list[ModelRun]:
    """Every spec on its named sample, in the order given."""
    from citycluster.analysis.samples import build_sample

    return [run_spec(spec, build_sample(spec.sample, shares, claims, reference),
                     label="entity_id",
                     cov_type=cov_type, reps=reps, seed=seed) for spec in specs]


def describe(row: dict[str, Any]) -> str:
    """One plain sentence for a key-term row of models.csv, so notebook prose is never typed."""
    if row["status"] == "not estimable":
        return f"{row['model']}: not estimable. {row['warning']}"
    if row["status"] == "endpoints":
        low = "unbounded" if row["ci_low"] is None else f"{row['ci_low']:.4g}"
        high = "unbounded" if row["ci_high"] is None else f"{row['ci_high']:.4g}"
        return (f"{row['model']} {row['term']}: {row['estimate']:.4g} at the printed figures; "
                f"the wording allows {low} to {high}. {row['warning']}.")
    text = (f"{row['model']}: {row['term']} = {row['estimate']:.3f}, 95% {row['cov_type']} "
            f"interval [{row['ci_low']:.3f}, {row['ci_high']:.3f}], bootstrap "
            f"[{row['boot_ci_low']:.3f}, {row['boot_ci_high']:.3f}], leave-one-out range "
            f"[{row['loo_low']:.3f}, {row['loo_high']:.3f}], n = {row['n']}, "
            f"R² = {row['r_squared']:.3f}; most influential point {row['max_cooks_label']} "
            f"(Cook's D {row['max_cooks']:.2f})")
    return text + (f". Read with care: {row['warning']}." if row["warning"] else ".")




def published_comparison(table: pl.DataFrame, reference: pl.DataFrame,
                         metric: str = "scaling_exponent_gdp") -> pl.DataFrame:
    """Each scaling exponent found here beside the published ones, for comparison only.

    The samples differ (provinces or clusters in 2023 against cities in 2002), so overlapping
    or disjoint intervals are descriptive; no test of equality is made.
    """
    pub = reference.filter(pl.col("metric").str.starts_with(metric))
    published = []
    for entity, rows in pub.group_by("entity_id", maintain_order=True):
        vals = {r["metric"]: r for r in rows.iter_rows(named=True)}
        point = vals.get(metric)
        if point is None:
            continue
        published.append({
            "published_entity": entity[0], "published_year": point["year"],
            "published": point["value_base"],
            "published_low": vals.get(f"{metric}_ci_low", {}).get("value_base"),
            "published_high": vals.get(f"{metric}_ci_high", {}).get("value_base"),
            "published_refs": ", ".join(r["ref_id"] for r in rows.iter_rows(named=True)),
            "published_source_kind": point["source_kind"],
        })
    ours = key_rows(table).filter(pl.col("family") == "scaling", pl.col("status") == "fitted")
    if not published or ours.is_empty():
        return pl.DataFrame()
    return ours.select("model", "sample", "term", "estimate", "ci_low", "ci_high", "n").join(
        pl.DataFrame(published), how="cross")


def _key_variable(fit: Fit) -> str | None:
    """The single data column the key term is built from (``pop_share``, ``population`` in
    ``np.log(population)``), if there is exactly one."""
    import re

    used = {c for c in fit.data.columns if re.search(rf"\b{re.escape(c)}\b", fit.key_term)}
    return used.pop() if len(used) == 1 else None


def predictions(fit: Fit, points: int = 60) -> pl.DataFrame | None:
    """The fitted line and its 95% confidence band along the key term, for the charts.

    The key variable runs over its observed range; every other column of the design (a
    membership dummy, fixed effects) is held at its sample mean, so the line is the model's
    prediction for the sample's own mix of clusters or provinces, and it passes through the
    sample's means. Uses the fit's robust covariance. A response written as ``np.log(y)`` is
    transformed back with exp, so the band is in the data's own units (for a log fit, the
    median curve). A key term built from more than one column has no line to draw: None.
    """
    var = _key_variable(fit)
    if var is None:
        return None
    x = fit.data[var].astype(float)
    log_x = "np.log(" in fit.key_term and x.min() > 0
    grid = (np.geomspace(x.min(), x.max(), points) if log_x
            else np.linspace(x.min(), x.max(), points))
    design = fit.result.model.data.model_spec  # patsy's DesignInfo of the fitted formula
    exog = np.asarray(fit.result.model.exog)
    frame = fit.data.iloc[[0] * points].reset_index(drop=True).assign(**{var: grid})
    (on_grid,) = patsy.build_design_matrices([design], frame)
    rows = np.tile(exog.mean(axis=0), (points, 1))
    key_cols = [i for i, name in enumerate(design.column_names)
                if name == fit.key_term or var in name]
    rows[:, key_cols] = np.asarray(on_grid)[:, key_cols]
    pred = fit.result.get_prediction(rows, transform=False).summary_frame(alpha=0.05)
    lhs = fit.spec.formula.split("~")[0].strip()
    back = np.exp if lhs.startswith("np.log(") else (lambda v: v)
    return pl.DataFrame({
        "model": fit.spec.name, "x_var": var, "x": grid,
        "fit": back(pred["mean"].to_numpy()), "low": back(pred["mean_ci_lower"].to_numpy()),
        "high": back(pred["mean_ci_upper"].to_numpy()),
    })
