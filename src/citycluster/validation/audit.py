"""The audit in write-audit-publish: validate the staged tables, then publish or refuse.

Validation reads only the staging area. When every critical rule holds, the staged tables replace
``data/processed/`` in one atomic swap; otherwise ``data/processed/`` is not touched and the error
names the file, column, rule and offending rows.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from citycluster.data import contracts
from citycluster.errors import CityclusterError
from citycluster.publish import fresh_sibling, swap_directory
from citycluster.validation import expectations as ex

#: Tables ingest derives rather than reads; every other staged table is declared in the contract.
DERIVED_TABLES = ("shares", "cluster_totals", "estimates", "estimates_backtest", "place_names")


class ValidationFailed(CityclusterError, RuntimeError):
    """Critical rules were broken; the message says where and what."""


@dataclass
class Audit:
    """Every rule's outcome, plus where Data Docs were written."""

    outcomes: pl.DataFrame
    docs_dir: Path | None
    files: dict[str, str]   # table -> the raw file(s) it was read from

    @property
    def critical_failures(self) -> pl.DataFrame:
        return self.outcomes.filter(~pl.col("success") & (pl.col("severity") == ex.CRITICAL))

    @property
    def warnings(self) -> pl.DataFrame:
        return self.outcomes.filter(~pl.col("success") & (pl.col("severity") == ex.WARNING))


def staged_tables(package: contracts.Package) -> list[str]:
    """Every table ingest stages: the declared ones and the derived ones."""
    return [*package.tables(), *DERIVED_TABLES]


def load_staged(staging: Path, package: contracts.Package) -> dict[str, pl.DataFrame]:
    """The tables ingest staged; a missing one means ingest did not run or failed."""
    names = staged_tables(package)
    missing = [t for t in names if not (staging / f"{t}.parquet").is_file()]
    if missing:
        raise ValidationFailed(f"staging area {staging} lacks {', '.join(missing)}; "
                               "run the ingest step (01_ingest) first")
    return {t: pl.read_parquet(staging / f"{t}.parquet") for t in names}


def with_foreign_key_flags(frame: pl.DataFrame, contract: contracts.Contract,
                           package: contracts.Package,
                           tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One boolean column per declared foreign key: does the row's key exist over there?

    Null where any key field is empty (a missing value is the required rule's business).
    """
    for fk in contract.foreign_keys:
        known = set(tables[package.table_of(fk.table)].select(list(fk.ref_fields)).iter_rows())
        keys = frame.select(list(fk.fields)).iter_rows()
        flags = [None if any(v is None for v in key) else key in known for key in keys]
        frame = frame.with_columns(pl.Series(ex.foreign_key_column(fk), flags,
                                             dtype=pl.Boolean))
    return frame


def where(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds ``where``: the file and line a row came from, for every message about it."""
    return frame.with_columns(
        (pl.col("source_file") + ", row " + pl.col("source_row").cast(pl.String))
        .alias("where"))


def cross_checks(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per cross-table comparison, for the cross-table suite to judge.

    province_sum: the 31 provinces' sum against the national total (GDP and population, per
    year and vintage); below_country: each entity's population against its country's for the
    same year. Key lookups between tables are foreign keys in the contract, not here.
    """
    ref = tables["reference"]
    nat = (ref.filter(pl.col("entity_type") == "country", pl.col("metric").is_in(
        ["population", "gdp"])).group_by("country", "metric", "year", "base_unit", "vintage")
        .agg(pl.col("value_base").first().alias("national")))
    prov = (ref.filter(pl.col("entity_type") == "province").group_by(
        "country", "metric", "year", "base_unit", "vintage").agg(
        pl.col("value_base").sum().alias("total"), pl.len().alias("members")))
    sums = prov.join(nat, on=["country", "metric", "year", "base_unit", "vintage"],
                     nulls_equal=True).select(
        pl.lit("province_sum").alias("check"),
        pl.format("{} {} {} (sum of {} provinces)", "country", "metric", "year", "members")
        .alias("subject"),
        ((pl.col("total") - pl.col("national")) / pl.col("national")).alias("relative_gap"),
        pl.lit(None, dtype=pl.Float64).alias("ratio"))
    ents = ref.filter(pl.col("entity_type") != "country", pl.col("metric") == "population")
    natpop = (nat.filter(pl.col("metric") == "population")
              .group_by("country", "year").agg(pl.col("national").max()))
    below = ents.join(natpop, on=["country", "year"]).select(
        pl.lit("below_country").alias("check"),
        (pl.col("ref_id") + " " + pl.col("entity_id")).alias("subject"),
        pl.lit(None, dtype=pl.Float64).alias("relative_gap"),
        (pl.col("value_base") / pl.col("national")).alias("ratio"))
    return pl.concat([sums, below])


def audit(staging: Path, raw_dir: Path, province_sum_tolerance: float,
          docs_dir: Path | None = None) -> Audit:
    """Run every suite on the staged tables: the contract's rules, the derived ones, and the
    checks across tables. great-expectations' Data Docs are built into ``docs_dir`` only when
    one is given (``-p data_docs=true``)."""
    package = contracts.load(raw_dir)
    tables = load_staged(staging, package)
    suites: dict[str, tuple[pl.DataFrame, list[ex.Rule], str]] = {}
    for table in package.tables():
        files = package.table(table)
        frame = where(with_foreign_key_flags(tables[table], files[0], package, tables))
        suites[table] = (frame, ex.contract_rules(files[0], len(files) > 1)
                         + ex.derived_rules(table), "where")
    suites["shares"] = (tables["shares"], ex.shares_rules(), "entity_id")
    suites["cluster_totals"] = (tables["cluster_totals"], ex.cluster_total_rules(), "entity_id")
    suites["estimates"] = (tables["estimates"], ex.estimate_rules(), "entity_id")
    suites["estimates_backtest"] = (tables["estimates_backtest"], ex.backtest_rules(),
                                    "entity_id")
    suites["place_names"] = (tables["place_names"], ex.place_name_rules(), "entity_id")
    suites["cross_table"] = (cross_checks(tables), ex.cross_rules(province_sum_tolerance),
                             "subject")
    if docs_dir is not None and docs_dir.exists():
        shutil.rmtree(docs_dir)
    outcomes = ex.run_suites(suites, docs_dir)
    return Audit(ex.outcomes_frame(outcomes), docs_dir,
                 {t: _files_label(raw_dir, package.table(t)) for t in package.tables()})


def _files_label(raw_dir: Path, files: list[contracts.Contract]) -> str:
    """One file's path, or the table's name for several (each example then names its file)."""
    if len(files) == 1:
        return f"{contracts.shown(raw_dir)}/{files[0].path}"
    return f"the {files[0].table} tables ({len(files)} files)"


def failure_message(result: Audit) -> str:
    """The short summary printed when critical rules fail."""
    failed = [ex.RuleResult(**r) for r in result.critical_failures.iter_rows(named=True)]
    files = {**result.files, "shares": "derived shares (staging/shares.parquet)",
             "cross_table": "rules across tables"}
    return ex.failure_message(failed, files, result.docs_dir)


def publish(staging: Path, processed: Path) -> list[str]:
    """Copy the staged tables into ``processed`` atomically; returns the published names.

    Files of later steps (models, fact-check) are carried over, so a partial run such as
    ``--only 02_validate`` does not strip them; the cache reruns those steps when their inputs
    changed. A carried-over file keeps its modification time and a published one takes the
    time of publishing, so the runner can tell a table this run published from last run's copy
    (:func:`citycluster.chain.plan.require_outputs`).
    """
    new = fresh_sibling(processed, "new")
    if processed.is_dir():
        for old in processed.iterdir():
            if old.is_file():
                shutil.copy2(old, new / old.name)
    names = []
    for staged in sorted(staging.glob("*.parquet")):
        shutil.copy(staged, new / staged.name)
        names.append(staged.name)
    swap_directory(new, processed)
    return names
