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

from citycluster import expectations as ex
from citycluster.publish import fresh_sibling, swap_directory

STAGED_TABLES = ("claims", "reference", "membership", "links", "shares")
RAW_FILES = {"claims": "data/raw/claims.csv", "reference": "data/raw/reference/*.csv",
             "membership": "data/raw/reference/cluster_membership.csv",
             "links": "data/raw/factcheck_links.csv",
             "shares": "derived shares (data/staging/shares.parquet)",
             "cross_table": "rules across tables"}


class ValidationFailed(RuntimeError):
    """Critical rules were broken; the message says where and what."""


@dataclass
class Audit:
    """Every rule's outcome, plus where Data Docs were written."""

    outcomes: pl.DataFrame
    docs_dir: Path | None

    @property
    def critical_failures(self) -> pl.DataFrame:
        return self.outcomes.filter(~pl.col("success") & (pl.col("severity") == ex.CRITICAL))

    @property
    def warnings(self) -> pl.DataFrame:
        return self.outcomes.filter(~pl.col("success") & (pl.col("severity") == ex.WARNING))


def load_staged(staging: Path) -> dict[str, pl.DataFrame]:
    """The tables ingest staged; a missing one means ingest did not run or failed."""
    missing = [t for t in STAGED_TABLES if not (staging / f"{t}.parquet").is_file()]
    if missing:
        raise ValidationFailed(f"staging area {staging} lacks {', '.join(missing)}; "
                               "run the ingest step (01_ingest) first")
    return {t: pl.read_parquet(staging / f"{t}.parquet") for t in STAGED_TABLES}


def cross_checks(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per cross-table comparison, for the cross-table suite to judge.

    province_sum: the 31 provinces' sum against the national total (GDP and population, per
    year); below_country: each entity's population against its country's for the same year.
    """
    ref = tables["reference"]
    nat = (ref.filter(pl.col("entity_type") == "country", pl.col("metric").is_in(
        ["population", "gdp"])).group_by("country", "metric", "year", "base_unit")
        .agg(pl.col("value_base").first().alias("national")))
    prov = (ref.filter(pl.col("entity_type") == "province").group_by(
        "country", "metric", "year", "base_unit").agg(
        pl.col("value_base").sum().alias("total"), pl.len().alias("members")))
    sums = prov.join(nat, on=["country", "metric", "year", "base_unit"]).select(
        pl.lit("province_sum").alias("check"),
        pl.format("{} {} {} (sum of {} provinces)", "country", "metric", "year", "members")
        .alias("subject"),
        ((pl.col("total") - pl.col("national")) / pl.col("national")).alias("relative_gap"),
        pl.lit(None, dtype=pl.Float64).alias("ratio"))
    ents = ref.filter(pl.col("entity_type") != "country", pl.col("metric") == "population")
    natpop = nat.filter(pl.col("metric") == "population").select("country", "year", "national")
    below = ents.join(natpop, on=["country", "year"]).select(
        pl.lit("below_country").alias("check"),
        (pl.col("ref_id") + " " + pl.col("entity_id")).alias("subject"),
        pl.lit(None, dtype=pl.Float64).alias("relative_gap"),
        (pl.col("value_base") / pl.col("national")).alias("ratio"))
    links = tables["links"]
    known_claims = set(tables["claims"]["claim_id"])
    known_refs = set(ref.select("entity_id", "metric").iter_rows())
    link_rows = pl.DataFrame([{
        "check": "link_target",
        "subject": (f"row {r['source_row']} {r['claim_id']} -> "
                    f"{r['ref_entity_id']}/{r['ref_metric']}"),
        "relative_gap": None,
        "ratio": 0.0 if (r["claim_id"] in known_claims
                         and (r["ref_entity_id"], r["ref_metric"]) in known_refs) else 1.0,
    } for r in links.iter_rows(named=True)], schema=sums.schema)
    return pl.concat([sums, below, link_rows])


def audit(staging: Path, paragraphs: list[str], province_sum_tolerance: float,
          docs_dir: Path | None) -> Audit:
    """Run every suite on the staged tables."""
    tables = load_staged(staging)
    suites = {
        "claims": (tables["claims"], ex.claims_rules(paragraphs), "claim_id"),
        "reference": (tables["reference"], ex.reference_rules(), "ref_id"),
        "membership": (tables["membership"], ex.membership_rules(), "source_row"),
        "links": (tables["links"], ex.links_rules(), "source_row"),
        "shares": (tables["shares"], ex.shares_rules(), "entity_id"),
        "cross_table": (cross_checks(tables), ex.cross_rules(province_sum_tolerance), "subject"),
    }
    if docs_dir is not None and docs_dir.exists():
        shutil.rmtree(docs_dir)
    outcomes = ex.run_suites(suites, docs_dir)
    return Audit(ex.outcomes_frame(outcomes), docs_dir)


def failure_message(result: Audit) -> str:
    """The short summary printed when critical rules fail."""
    failed = [ex.Outcome(**r) for r in result.critical_failures.iter_rows(named=True)]
    return ex.failure_message(failed, RAW_FILES, result.docs_dir)


def publish(staging: Path, processed: Path) -> list[str]:
    """Copy the staged tables into ``processed`` atomically; returns the published names.

    Files of later steps (models, fact-check) are carried over, so a partial run such as
    ``--only 02_validate`` does not strip them; the cache reruns those steps when their inputs
    changed.
    """
    new = fresh_sibling(processed, "new")
    if processed.is_dir():
        for old in processed.iterdir():
            if old.is_file():
                shutil.copy2(old, new / old.name)
    names = []
    for t in STAGED_TABLES:
        shutil.copy2(staging / f"{t}.parquet", new / f"{t}.parquet")
        names.append(f"{t}.parquet")
    swap_directory(new, processed)
    return names


def article_paragraphs(raw_dir: Path) -> list[str]:
    """Paragraph locators P001… that exist in the article (from the committed index)."""
    return pl.read_csv(raw_dir / "article_paragraphs.csv")["paragraph"].to_list()
