"""Which rows of the models table a reader reads: the rule, written once.

A fitted model has one row per term, and only its key slope (the term the model is about)
carries the diagnostics (bootstrap and leave-one-out ranges, the largest Cook's distance). The
report, its charts and the sweep's index all pick that row; so does the table of results, which
also keeps each not-estimable model's row. This module is light (no statsmodels), as the report
imports it.
"""

from __future__ import annotations

import polars as pl


def is_key_slope() -> pl.Expr:
    """A fitted model's key-slope row: the only fitted row with diagnostics."""
    return (pl.col("status") == "fitted") & pl.col("max_cooks").is_not_null()


def key_slopes(models: pl.DataFrame) -> pl.DataFrame:
    """Each fitted model's key-slope row."""
    return models.filter(is_key_slope())


def key_rows(models: pl.DataFrame) -> pl.DataFrame:
    """The row each model is about: its key slope, its not-estimable row, or its trend rows."""
    return models.filter((pl.col("status") != "fitted") | is_key_slope())
