"""Within-entity change between two dated figures of the article, with honest bounds.

A trend from two endpoints has no sampling error to estimate, so no confidence interval exists.
What does exist is the range the article's wording allows: "不足5亿元" in 2022 bounds the start
from above only, so the growth it implies is a lower bound. The ``ci_low``/``ci_high`` columns
of these rows hold those bounds, and ``interval`` says so.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from citycluster.analysis.modelspec import TrendError, TrendSpec

__all__ = ["TrendError", "TrendSpec"]

INTERVAL = "bounds implied by the wording"


def _ratio_rate(num: float | None, den: float | None, years: int) -> float | None:
    if num is None or den is None or den <= 0 or num < 0:
        return None
    return (num / den) ** (1 / years) - 1


def _diff_rate(end: float | None, start: float | None, years: int) -> float | None:
    if end is None or start is None:
        return None
    return (end - start) / years


def endpoints(claims: pl.DataFrame, spec: TrendSpec) -> tuple[dict, dict]:
    """The earliest and latest dated claim of one entity and metric."""
    rows = (claims.filter(pl.col("entity_id") == spec.entity_id, pl.col("metric") == spec.metric,
                          pl.col("year").is_not_null())
            .sort("year"))
    if rows.height < 2 or rows["year"].n_unique() < 2:
        raise TrendError(f"trend {spec.entity_id}/{spec.metric}: needs claims in two different "
                         f"years, found {rows.height} dated claim(s)")
    if rows["base_unit"].n_unique() != 1:
        raise TrendError(f"trend {spec.entity_id}/{spec.metric}: claims are in different units "
                         f"({', '.join(rows['base_unit'].unique().sort())})")
    return rows.row(0, named=True), rows.row(-1, named=True)


def trend_rows(claims: pl.DataFrame, spec: TrendSpec) -> list[dict[str, Any]]:
    """Change per year and compound annual rate between the two endpoints, with bounds."""
    start, end = endpoints(claims, spec)
    years = end["year"] - start["year"]
    loose = [f"{r['claim_id']} is printed as {r['qualifier']} ({r['year']})"
             for r in (start, end) if r["qualifier"] != "eq"]
    warning = "; ".join([f"two endpoints ({start['claim_id']}, {end['claim_id']}): "
                         "no sampling interval exists", *loose])
    common = {"family": "linkage", "model": f"trend_{spec.entity_id}_{spec.metric}",
              "sample": spec.entity_id, "std_error": None, "interval": INTERVAL,
              "p_value": None, "n": 2, "r_squared": None, "cov_type": None, "null_value": None,
              "status": "endpoints", "warning": warning}
    per_year = {
        **common, "term": f"change_per_year_{start['year']}_{end['year']}",
        "formula": f"({spec.metric}[{end['year']}] - {spec.metric}[{start['year']}]) / {years}",
        "estimate": _diff_rate(end["value_base"], start["value_base"], years),
        "ci_low": _diff_rate(end["lower_base"], start["upper_base"], years),
        "ci_high": _diff_rate(end["upper_base"], start["lower_base"], years),
    }
    cagr = {
        **common, "term": f"cagr_{start['year']}_{end['year']}",
        "formula": f"({spec.metric}[{end['year']}] / {spec.metric}[{start['year']}])"
                   f"^(1/{years}) - 1",
        "estimate": _ratio_rate(end["value_base"], start["value_base"], years),
        "ci_low": _ratio_rate(end["lower_base"], start["upper_base"], years),
        "ci_high": _ratio_rate(end["upper_base"], start["lower_base"], years),
    }
    return [per_year, cagr]
